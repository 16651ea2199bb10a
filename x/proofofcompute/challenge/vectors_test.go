package challenge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json")

const vectorsFile = "testdata/vectors.json"

// Vector is one golden vector: fixed inputs and everything an
// implementation derives from them. The JSON layout is the interchange
// format other implementations (a CUDA backend, another language) check
// themselves against.
type Vector struct {
	ChainID       string          `json:"chain_id"`
	ChallengeID   uint64          `json:"challenge_id"`
	BlockHash     string          `json:"block_hash"`
	Provider      string          `json:"provider"`
	GPUUUID       string          `json:"gpu_uuid"`
	GPUIndex      uint32          `json:"gpu_index"`
	N             uint32          `json:"n"`
	M             uint32          `json:"m"`
	Seed          string          `json:"seed"`
	PhiloxKey     [2]uint32       `json:"philox_key"`
	ARow0         []int8          `json:"a_row0"`
	BRow0         []int8          `json:"b_row0"`
	CSamples      []CSample       `json:"c_samples"`
	Roots         []string        `json:"roots"`
	Commitment    string          `json:"commitment"`
	OpenBlockHash string          `json:"open_block_hash"`
	Openings      []VectorOpening `json:"openings"`
}

// CSample is one entry C[b][i][j].
type CSample struct {
	B     uint32 `json:"b"`
	I     uint32 `json:"i"`
	J     uint32 `json:"j"`
	Value int32  `json:"value"`
}

// VectorOpening is one opened entry with its leaf and Merkle path.
type VectorOpening struct {
	B        uint32   `json:"b"`
	I        uint32   `json:"i"`
	J        uint32   `json:"j"`
	Leaf     string   `json:"leaf"`
	Siblings []string `json:"siblings"`
}

type vectorFile struct {
	Vectors []Vector `json:"vectors"`
}

// vectorInput are the fixed inputs of one golden vector.
type vectorInput struct {
	n, gpuIndex uint32
	uuid, name  string
}

func fixedHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// buildVectors derives the golden vectors from fixed inputs with the
// library: n = 64 and n = 256, m = 2, k = 16.
func buildVectors(t *testing.T) vectorFile {
	t.Helper()
	provider := make([]byte, 20)
	for i := range provider {
		provider[i] = byte(0xa0 + i)
	}
	var out vectorFile
	for v, in := range []vectorInput{
		{n: 64, gpuIndex: 0, uuid: "GPU-00000000-0000-4000-8000-000000000001", name: "n64"},
		{n: 256, gpuIndex: 3, uuid: "GPU-00000000-0000-4000-8000-000000000004", name: "n256"},
	} {
		p := Params{N: in.n, M: 2, K: 16}
		bh := fixedHash("gpumesh vector block " + in.name)
		obh := fixedHash("gpumesh vector open block " + in.name)
		id := uint64(1000 + v)
		seed := Seed(SeedInput{ChainID: "gpumesh-vectors-1", ChallengeID: id, BlockHash: bh, Provider: provider, GPUUUID: in.uuid})
		key := KeyFromSeed(seed)
		a, b := make([]int8, in.n), make([]int8, in.n)
		GenRow(key, 0, TagA, 0, a)
		GenRow(key, 0, TagB, 0, b)
		proof, err := Prove(context.Background(), key, p, CPUMultiplier(0), ProverOptions{})
		require.NoError(t, err)
		vec := Vector{
			ChainID: "gpumesh-vectors-1", ChallengeID: id, BlockHash: hex.EncodeToString(bh),
			Provider: hex.EncodeToString(provider), GPUUUID: in.uuid, GPUIndex: in.gpuIndex, N: in.n, M: p.M,
			Seed: hex.EncodeToString(seed[:]), PhiloxKey: key, ARow0: a, BRow0: b,
			OpenBlockHash: hex.EncodeToString(obh),
		}
		for _, s := range [][3]uint32{{0, 0, 0}, {0, 1, 2}, {1, in.n - 1, in.n - 1}, {1, in.n / 2, 17}, {0, 5, in.n - 16}} {
			vec.CSamples = append(vec.CSamples, CSample{B: s[0], I: s[1], J: s[2], Value: Entry(key, in.n, s[0], s[1], s[2])})
		}
		for _, r := range proof.Roots() {
			vec.Roots = append(vec.Roots, hex.EncodeToString(r[:]))
		}
		cm := proof.Commitment()
		vec.Commitment = hex.EncodeToString(cm[:])
		idx := Openings([][32]byte{OpenSeed(id, 0, obh)}, in.gpuIndex, p)
		rev, err := proof.Open(idx)
		require.NoError(t, err)
		for t2, x := range idx {
			o := VectorOpening{B: x.B, I: x.I, J: x.J, Leaf: hex.EncodeToString(rev.Openings[t2].Leaf)}
			for _, s := range rev.Openings[t2].Siblings {
				o.Siblings = append(o.Siblings, hex.EncodeToString(s))
			}
			vec.Openings = append(vec.Openings, o)
		}
		out.Vectors = append(out.Vectors, vec)
	}
	return out
}

// The golden vectors in testdata/vectors.json are exactly what the library
// derives from their fixed inputs. Any change to Philox, the seeds, the
// matrices, the leaf layout, the tree or the opening derivation shows up
// here; regenerate only for a deliberate protocol version change:
// go test ./x/proofofcompute/challenge -run TestGoldenVectors -update
func TestGoldenVectors(t *testing.T) {
	bz, err := json.MarshalIndent(buildVectors(t), "", "  ")
	require.NoError(t, err)
	bz = append(bz, '\n')
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(vectorsFile), 0o755))
		require.NoError(t, os.WriteFile(vectorsFile, bz, 0o644))
	}
	want, err := os.ReadFile(vectorsFile)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, bz),
		"%s differs from what the library derives; if the protocol changed on purpose, rerun with -update", vectorsFile)
}

// Each vector in the file checks out on its own, without the prover: the
// seed and key from the inputs, the first rows, the sampled entries, the
// commitment from the roots, and the openings through VerifyReveal at the
// indices derived from the opening block hash. This is the check another
// implementation runs against the file.
func TestVectorsVerify(t *testing.T) {
	bz, err := os.ReadFile(vectorsFile)
	require.NoError(t, err)
	var file vectorFile
	require.NoError(t, json.Unmarshal(bz, &file))
	require.Len(t, file.Vectors, 2)
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		require.NoError(t, err)
		return b
	}
	for _, v := range file.Vectors {
		p := Params{N: v.N, M: v.M, K: uint32(len(v.Openings))}
		require.NoError(t, p.Validate())
		seed := Seed(SeedInput{ChainID: v.ChainID, ChallengeID: v.ChallengeID, BlockHash: unhex(v.BlockHash),
			Provider: unhex(v.Provider), GPUUUID: v.GPUUUID})
		require.Equal(t, v.Seed, hex.EncodeToString(seed[:]))
		key := KeyFromSeed(seed)
		require.Equal(t, v.PhiloxKey, key)
		row := make([]int8, v.N)
		GenRow(key, 0, TagA, 0, row)
		require.Equal(t, v.ARow0, row)
		GenRow(key, 0, TagB, 0, row)
		require.Equal(t, v.BRow0, row)
		require.GreaterOrEqual(t, len(v.CSamples), 4)
		for _, s := range v.CSamples {
			require.Equal(t, s.Value, Entry(key, v.N, s.B, s.I, s.J), "C[%d][%d][%d]", s.B, s.I, s.J)
		}
		roots := make([][32]byte, len(v.Roots))
		rev := Reveal{}
		for i, r := range v.Roots {
			copy(roots[i][:], unhex(r))
			rev.Roots = append(rev.Roots, unhex(r))
		}
		cm := Commitment(roots)
		require.Equal(t, v.Commitment, hex.EncodeToString(cm[:]))
		idx := Openings([][32]byte{OpenSeed(v.ChallengeID, 0, unhex(v.OpenBlockHash))}, v.GPUIndex, p)
		for t2, o := range v.Openings {
			require.Equal(t, Index{B: o.B, I: o.I, J: o.J}, idx[t2], "opening %d", t2)
			op := Opening{Leaf: unhex(o.Leaf)}
			for _, s := range o.Siblings {
				op.Siblings = append(op.Siblings, unhex(s))
			}
			rev.Openings = append(rev.Openings, op)
		}
		require.NoError(t, VerifyReveal(key, p, cm[:], idx, rev), "vector n=%d", v.N)
	}
}
