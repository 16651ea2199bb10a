package challenge

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Domain-separation prefixes: a leaf can never be taken for an inner node
// or a commitment.
const (
	prefixLeaf       = 0x00
	prefixNode       = 0x01
	prefixCommitment = 0x02
)

// HashLeaf is H(0x00 ‖ leaf).
func HashLeaf(leaf []byte) [32]byte {
	var buf [1 + LeafBytes]byte
	buf[0] = prefixLeaf
	if len(leaf) == LeafBytes {
		copy(buf[1:], leaf)
		return sha256.Sum256(buf[:])
	}
	h := sha256.New()
	h.Write([]byte{prefixLeaf})
	h.Write(leaf)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// HashNode is H(0x01 ‖ left ‖ right).
func HashNode(left, right [32]byte) [32]byte {
	var buf [1 + 2*HashSize]byte
	buf[0] = prefixNode
	copy(buf[1:33], left[:])
	copy(buf[33:], right[:])
	return sha256.Sum256(buf[:])
}

// Commitment is H(0x02 ‖ u32be(m) ‖ root_0 ‖ … ‖ root_{m−1}), one per GPU.
func Commitment(roots [][32]byte) [32]byte {
	h := sha256.New()
	var head [5]byte
	head[0] = prefixCommitment
	binary.BigEndian.PutUint32(head[1:], uint32(len(roots)))
	h.Write(head[:])
	for _, r := range roots {
		h.Write(r[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// RootFromPath climbs from a leaf hash to the root with the siblings, leaf
// level first; bit d of leafIndex says whether the node at level d is a
// right child. It fails, never panics, on a sibling that is not 32 bytes
// or an index beyond the path.
func RootFromPath(leafIndex uint64, leafHash [32]byte, siblings [][]byte) ([32]byte, error) {
	if len(siblings) < 64 && leafIndex>>uint(len(siblings)) != 0 {
		return [32]byte{}, fmt.Errorf("%w: leaf index %d needs more than %d levels", ErrMalformed, leafIndex, len(siblings))
	}
	node := leafHash
	for d, s := range siblings {
		if len(s) != HashSize {
			return [32]byte{}, fmt.Errorf("%w: siblings[%d] is %d bytes, want %d", ErrMalformed, d, len(s), HashSize)
		}
		var sib [32]byte
		copy(sib[:], s)
		if leafIndex>>uint(d)&1 == 0 {
			node = HashNode(node, sib)
		} else {
			node = HashNode(sib, node)
		}
	}
	return node, nil
}

// tree keeps every level of a perfect binary Merkle tree; level 0 holds
// the leaf hashes. It needs 2·leaves·32 bytes.
type tree struct {
	levels [][][32]byte
}

// newTree allocates a tree for a power-of-two number of leaves.
func newTree(leaves uint64) *tree {
	t := &tree{}
	for n := leaves; ; n /= 2 {
		t.levels = append(t.levels, make([][32]byte, n))
		if n == 1 {
			break
		}
	}
	return t
}

// build hashes the levels above the leaves.
func (t *tree) build() {
	for d := 1; d < len(t.levels); d++ {
		below, level := t.levels[d-1], t.levels[d]
		for i := range level {
			level[i] = HashNode(below[2*i], below[2*i+1])
		}
	}
}

// root is the top of the tree.
func (t *tree) root() [32]byte { return t.levels[len(t.levels)-1][0] }

// path returns the siblings of leaf index, leaf level first.
func (t *tree) path(index uint64) [][]byte {
	out := make([][]byte, len(t.levels)-1)
	for d := 0; d < len(t.levels)-1; d++ {
		s := t.levels[d][index^1]
		out[d] = append([]byte(nil), s[:]...)
		index >>= 1
	}
	return out
}
