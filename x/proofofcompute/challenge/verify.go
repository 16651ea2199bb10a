package challenge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// The four ways a reveal can be rejected. ErrMalformed is a shape error
// (the chain refuses the message); the others mean the provider's proof is
// wrong (the chain fails the challenge).
var (
	ErrMalformed  = errors.New("malformed reveal")
	ErrWrongRoots = errors.New("roots do not hash to the commitment")
	ErrWrongPath  = errors.New("opened leaf's Merkle path does not lead to the root")
	ErrWrongEntry = errors.New("opened entry differs from the recomputed product")
)

// Opening is one opened leaf and its Merkle path.
type Opening struct {
	// Leaf is 64 bytes: 16 little-endian int32 entries.
	Leaf []byte
	// Siblings are Depth() hashes of 32 bytes, leaf level first.
	Siblings [][]byte
}

// Reveal is what a provider sends for one GPU.
type Reveal struct {
	// Roots are the m product roots.
	Roots [][]byte
	// Openings are the k openings in t order.
	Openings []Opening
}

// CheckShape checks counts and lengths only: m roots of 32 bytes, k
// openings, each a 64-byte leaf and Depth() siblings of 32 bytes.
func CheckShape(p Params, rev Reveal) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: params: %w", ErrMalformed, err)
	}
	if len(rev.Roots) != int(p.M) {
		return fmt.Errorf("%w: roots: want %d, got %d", ErrMalformed, p.M, len(rev.Roots))
	}
	for i, r := range rev.Roots {
		if len(r) != HashSize {
			return fmt.Errorf("%w: roots[%d]: want %d bytes, got %d", ErrMalformed, i, HashSize, len(r))
		}
	}
	if len(rev.Openings) != int(p.K) {
		return fmt.Errorf("%w: openings: want %d, got %d", ErrMalformed, p.K, len(rev.Openings))
	}
	depth := p.Depth()
	for t, o := range rev.Openings {
		if len(o.Leaf) != LeafBytes {
			return fmt.Errorf("%w: openings[%d].leaf: want %d bytes, got %d", ErrMalformed, t, LeafBytes, len(o.Leaf))
		}
		if len(o.Siblings) != depth {
			return fmt.Errorf("%w: openings[%d].siblings: want %d hashes, got %d", ErrMalformed, t, depth, len(o.Siblings))
		}
		for s, h := range o.Siblings {
			if len(h) != HashSize {
				return fmt.Errorf("%w: openings[%d].siblings[%d]: want %d bytes, got %d", ErrMalformed, t, s, HashSize, len(h))
			}
		}
	}
	return nil
}

// VerifyReveal checks one GPU's reveal: the shape; that the roots hash to
// the commitment; and for each opening t, that the leaf with its siblings
// reaches roots[b] at LeafIndex(n, i, j) and that the leaf's entry
// le32(leaf[4·(j mod 16):]) equals C[b][i][j] recomputed from key. idx are
// the k indices from Openings. Every error wraps one of the four
// sentinels and names the opening; no input makes it panic.
func VerifyReveal(key [2]uint32, p Params, commitment []byte, idx []Index, rev Reveal) error {
	if err := CheckShape(p, rev); err != nil {
		return err
	}
	if len(idx) != int(p.K) {
		return fmt.Errorf("%w: %d opening indices for k = %d", ErrMalformed, len(idx), p.K)
	}
	if len(commitment) != HashSize {
		return fmt.Errorf("%w: commitment is %d bytes, want %d", ErrMalformed, len(commitment), HashSize)
	}
	roots := make([][32]byte, len(rev.Roots))
	for i, r := range rev.Roots {
		copy(roots[i][:], r)
	}
	if c := Commitment(roots); !bytes.Equal(c[:], commitment) {
		return fmt.Errorf("%w: H(roots) = %x, committed %x", ErrWrongRoots, c, commitment)
	}
	a := make([]int8, p.N)
	b := make([]int8, p.N)
	for t, x := range idx {
		if x.B >= p.M || x.I >= p.N || x.J >= p.N {
			return fmt.Errorf("%w: openings[%d]: index (%d, %d, %d) out of range", ErrMalformed, t, x.B, x.I, x.J)
		}
		o := rev.Openings[t]
		got, err := RootFromPath(LeafIndex(p.N, x.I, x.J), HashLeaf(o.Leaf), o.Siblings)
		if err != nil {
			return fmt.Errorf("openings[%d]: %w", t, err)
		}
		if got != roots[x.B] {
			return fmt.Errorf("%w: openings[%d] (b=%d i=%d j=%d)", ErrWrongPath, t, x.B, x.I, x.J)
		}
		GenRow(key, x.B, TagA, x.I, a)
		GenRow(key, x.B, TagB, x.J, b)
		want := dot(a, b)
		off := 4 * (x.J % LeafEntries)
		if have := int32(binary.LittleEndian.Uint32(o.Leaf[off:])); have != want {
			return fmt.Errorf("%w: openings[%d]: C[%d][%d][%d] = %d, opened %d", ErrWrongEntry, t, x.B, x.I, x.J, want, have)
		}
	}
	return nil
}
