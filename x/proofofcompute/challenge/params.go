package challenge

import (
	"fmt"
	"math/bits"
)

// Limits of the protocol.
const (
	// MinN and MaxN bound n, a power of two; n ≤ 65536 keeps every sum of
	// n products of int8 inside int32.
	MinN = 64
	MaxN = 65536
	// MaxM bounds the products per GPU and MaxK the opened entries.
	MaxM = 16
	MaxK = 64
	// MaxDepth is log2(MaxN²/16), the longest Merkle path.
	MaxDepth = 28
	// LeafEntries int32 entries of a row of C make one leaf of LeafBytes.
	LeafEntries = 16
	LeafBytes   = 64
	// HashSize is the size of every hash (SHA-256).
	HashSize = 32
)

// Params are the sizes of one GPU's challenge: n×n matrices, m products,
// k opened entries.
type Params struct{ N, M, K uint32 }

// These limits are the single source of truth for every module: x/provider
// validates a GPU class's challenge size with ValidateSize, x/proofofcompute
// its openings with MaxK, and MsgRevealProof's shape with MaxM and MaxDepth.

// ValidateSize checks a GPU class's challenge size n × m against the
// protocol's limits; fields are named as in the x/provider params.
func ValidateSize(n, m uint32) error {
	if n < MinN || n > MaxN || n&(n-1) != 0 {
		return fmt.Errorf("challenge_n must be a power of two in [%d, %d], got %d", MinN, MaxN, n)
	}
	if m < 1 || m > MaxM {
		return fmt.Errorf("challenge_m must be in [1, %d], got %d", MaxM, m)
	}
	return nil
}

// Validate checks the sizes against the protocol's limits.
func (p Params) Validate() error {
	if p.N < MinN || p.N > MaxN || p.N&(p.N-1) != 0 {
		return fmt.Errorf("n must be a power of two in [%d, %d], got %d", MinN, MaxN, p.N)
	}
	if p.M < 1 || p.M > MaxM {
		return fmt.Errorf("m must be in [1, %d], got %d", MaxM, p.M)
	}
	if p.K < 1 || p.K > MaxK {
		return fmt.Errorf("k must be in [1, %d], got %d", MaxK, p.K)
	}
	return nil
}

// Leaves is the number of leaves per product, n²/16.
func (p Params) Leaves() uint64 { return uint64(p.N) * uint64(p.N) / LeafEntries }

// Depth is log2(n²/16), the number of siblings on a Merkle path.
func (p Params) Depth() int {
	if p.N == 0 {
		return 0
	}
	return bits.TrailingZeros64(p.Leaves())
}

// Cost counts the work of verifying one reveal.
type Cost struct{ PhiloxCalls, MulAdds, Hashes uint64 }

// VerifyCost is the work of VerifyReveal for one GPU: per opening, 2·n/16
// Philox calls and n multiply-adds to recompute the entry and Depth()+1
// hashes for the path; plus one hash for the commitment.
func VerifyCost(p Params) Cost {
	k := uint64(p.K)
	return Cost{
		PhiloxCalls: k * 2 * uint64(p.N) / 16,
		MulAdds:     k * uint64(p.N),
		Hashes:      k*uint64(p.Depth()+1) + 1,
	}
}
