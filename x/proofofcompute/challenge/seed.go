package challenge

import (
	"crypto/sha256"
	"encoding/binary"
)

// SeedInput binds a GPU's challenge to the chain, the challenge, a block
// hash nobody knew before the challenge was issued, the provider and the
// GPU: no work can be done early or reused for another GPU or provider.
type SeedInput struct {
	ChainID     string
	ChallengeID uint64
	// BlockHash is BH(h), the header hash of the issue height.
	BlockHash []byte
	// Provider is the provider's raw 20 address bytes.
	Provider []byte
	GPUUUID  string
}

// Seed is H("gpumesh/poc/v1/seed" ‖ u16be(len CID) ‖ CID ‖ u64be(id) ‖
// BH(h) ‖ u16be(len P) ‖ P ‖ u16be(len U) ‖ U) (spec §2).
func Seed(in SeedInput) [32]byte {
	h := sha256.New()
	h.Write([]byte("gpumesh/poc/v1/seed"))
	writeLen16(h, len(in.ChainID))
	h.Write([]byte(in.ChainID))
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], in.ChallengeID)
	h.Write(id[:])
	h.Write(in.BlockHash)
	writeLen16(h, len(in.Provider))
	h.Write(in.Provider)
	writeLen16(h, len(in.GPUUUID))
	h.Write([]byte(in.GPUUUID))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func writeLen16(h interface{ Write([]byte) (int, error) }, n int) {
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(n))
	_, _ = h.Write(l[:])
}

// KeyFromSeed is the Philox key of a seed: (le32(seed[0:4]),
// le32(seed[4:8])).
func KeyFromSeed(seed [32]byte) [2]uint32 {
	return [2]uint32{binary.LittleEndian.Uint32(seed[0:4]), binary.LittleEndian.Uint32(seed[4:8])}
}

// Index names one entry C[b][i][j].
type Index struct{ B, I, J uint32 }

// OpenSeed is the seed of one segment of a challenge's openings (spec
// §6, protocol v2): H("gpumesh/poc/v2/open" ‖ u64be(id) ‖ u32be(segment)
// ‖ BH(open_height + segment)). The openings come from several blocks so
// that no single proposer, by choosing its block's contents, picks more
// than one segment of them.
func OpenSeed(challengeID uint64, segment uint32, blockHash []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte("gpumesh/poc/v2/open"))
	var buf [12]byte
	binary.BigEndian.PutUint64(buf[:8], challengeID)
	binary.BigEndian.PutUint32(buf[8:], segment)
	h.Write(buf[:])
	h.Write(blockHash)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Openings returns the k entries GPU gpuIndex must open, in t order.
// Opening t is drawn from the segment seed s = seeds[t mod len(seeds)]:
// r = H(s ‖ u32be(g) ‖ u32be(t)); b = u64be(r[0:8]) mod m,
// i = u64be(r[8:16]) mod n, j = u64be(r[16:24]) mod n. It returns nil
// without seeds or for parameters with m or n zero.
func Openings(seeds [][32]byte, gpuIndex uint32, p Params) []Index {
	if p.M == 0 || p.N == 0 || len(seeds) == 0 {
		return nil
	}
	out := make([]Index, p.K)
	var buf [32 + 8]byte
	binary.BigEndian.PutUint32(buf[32:36], gpuIndex)
	for t := uint32(0); t < p.K; t++ {
		copy(buf[:32], seeds[int(t)%len(seeds)][:])
		binary.BigEndian.PutUint32(buf[36:40], t)
		r := sha256.Sum256(buf[:])
		out[t] = Index{
			B: uint32(binary.BigEndian.Uint64(r[0:8]) % uint64(p.M)),
			I: uint32(binary.BigEndian.Uint64(r[8:16]) % uint64(p.N)),
			J: uint32(binary.BigEndian.Uint64(r[16:24]) % uint64(p.N)),
		}
	}
	return out
}

// LeafIndex is the leaf holding C[b][i][j]: i·(n/16) + j/16.
func LeafIndex(n, i, j uint32) uint64 {
	return uint64(i)*uint64(n/LeafEntries) + uint64(j/LeafEntries)
}
