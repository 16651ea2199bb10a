package challenge

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// naiveRow re-derives a row from spec §4 word by word, independently of
// GenRow's unrolled byte extraction.
func naiveRow(key [2]uint32, b, tag, r, n uint32) []int8 {
	out := make([]int8, 0, n)
	for q := uint32(0); q < n/16; q++ {
		w := Philox4x32([4]uint32{q, r, b, tag}, key)
		var bytes [16]byte
		for i := 0; i < 4; i++ {
			binary.LittleEndian.PutUint32(bytes[4*i:], w[i])
		}
		for _, x := range bytes {
			out = append(out, int8(x))
		}
	}
	return out
}

// naiveProduct is C[b] by the triple loop.
func naiveProduct(key [2]uint32, n, b uint32) [][]int32 {
	a, bt := make([][]int8, n), make([][]int8, n)
	for r := uint32(0); r < n; r++ {
		a[r], bt[r] = naiveRow(key, b, TagA, r, n), naiveRow(key, b, TagB, r, n)
	}
	c := make([][]int32, n)
	for i := range c {
		c[i] = make([]int32, n)
		for j := range c[i] {
			var s int32
			for l := uint32(0); l < n; l++ {
				s += int32(a[i][l]) * int32(bt[j][l])
			}
			c[i][j] = s
		}
	}
	return c
}

// naiveTree hashes a product into its Merkle tree (every level).
func naiveTree(c [][]int32) *tree {
	n := uint32(len(c))
	t := newTree(uint64(n) * uint64(n) / LeafEntries)
	var leaf [LeafBytes]byte
	for i := uint32(0); i < n; i++ {
		for q := uint32(0); q < n/LeafEntries; q++ {
			encodeLeaf(leaf[:], c[i][q*LeafEntries:(q+1)*LeafEntries])
			t.levels[0][LeafIndex(n, i, q*LeafEntries)] = HashLeaf(leaf[:])
		}
	}
	t.build()
	return t
}

// GenRow, Entry and Prove agree with the spec computed the slow way: rows
// word by word, entries and roots from the triple-loop product.
func TestProverMatchesNaiveProduct(t *testing.T) {
	key := KeyFromSeed(sha256.Sum256([]byte("naive")))
	const n = 64
	p := Params{N: n, M: 2, K: 16}
	proof, err := Prove(context.Background(), key, p, CPUMultiplier(2), ProverOptions{})
	require.NoError(t, err)
	for b := uint32(0); b < p.M; b++ {
		row := make([]int8, n)
		GenRow(key, b, TagB, 9, row)
		require.Equal(t, naiveRow(key, b, TagB, 9, n), row)
		c := naiveProduct(key, n, b)
		for _, ij := range [][2]uint32{{0, 0}, {3, 63}, {63, 0}, {17, 42}} {
			require.Equal(t, c[ij[0]][ij[1]], Entry(key, n, b, ij[0], ij[1]))
		}
		require.Equal(t, naiveTree(c).root(), proof.Roots()[b], "product %d", b)
	}
}

// Openings follow spec §6 (protocol v2) byte for byte: segment seeds from
// one block hash each, opening t drawn from segment t mod L; LeafIndex and
// Commitment §5.
func TestOpeningsAndCommitmentBytes(t *testing.T) {
	var seeds [][32]byte
	for j := range uint32(3) {
		bh := sha256.Sum256([]byte{'o', byte(j)})
		seed := OpenSeed(77, j, bh[:])
		var pre []byte
		pre = append(pre, "gpumesh/poc/v2/open"...)
		pre = binary.BigEndian.AppendUint64(pre, 77)
		pre = binary.BigEndian.AppendUint32(pre, j)
		pre = append(pre, bh[:]...)
		require.Equal(t, sha256.Sum256(pre), seed, "segment %d", j)
		seeds = append(seeds, seed)
	}
	require.NotEqual(t, seeds[0], seeds[1])

	p := Params{N: 256, M: 3, K: 5}
	idx := Openings(seeds, 2, p)
	require.Len(t, idx, 5)
	for tt, x := range idx {
		seed := seeds[tt%3]
		buf := append(append([]byte{}, seed[:]...), 0, 0, 0, 2)
		buf = binary.BigEndian.AppendUint32(buf, uint32(tt))
		r := sha256.Sum256(buf)
		require.Equal(t, Index{
			B: uint32(binary.BigEndian.Uint64(r[0:8]) % 3),
			I: uint32(binary.BigEndian.Uint64(r[8:16]) % 256),
			J: uint32(binary.BigEndian.Uint64(r[16:24]) % 256),
		}, x)
	}
	require.Equal(t, uint64(5*16+2), LeafIndex(256, 5, 47))

	r0, r1 := sha256.Sum256([]byte("r0")), sha256.Sum256([]byte("r1"))
	want := sha256.Sum256(append(append([]byte{0x02, 0, 0, 0, 2}, r0[:]...), r1[:]...))
	require.Equal(t, want, Commitment([][32]byte{r0, r1}))
	require.Equal(t, sha256.Sum256(append([]byte{0x00}, make([]byte, 64)...)), HashLeaf(make([]byte, 64)))
	require.Equal(t, sha256.Sum256(append(append([]byte{0x01}, r0[:]...), r1[:]...)), HashNode(r0, r1))
}

// lyingReveal commits to a product with one entry changed, consistently
// (the tree is built from the lie), and opens the given indices with the
// lying leaves: only the verifier's recomputation can catch it.
func lyingReveal(t *testing.T, key [2]uint32, p Params, li, lj uint32, idx []Index) ([]byte, Reveal) {
	t.Helper()
	var trees []*tree
	var roots [][32]byte
	products := make([][][]int32, p.M)
	for b := uint32(0); b < p.M; b++ {
		c := naiveProduct(key, p.N, b)
		if b == 0 {
			c[li][lj]++
		}
		products[b] = c
		tr := naiveTree(c)
		trees = append(trees, tr)
		roots = append(roots, tr.root())
	}
	rev := Reveal{}
	for _, r := range roots {
		rev.Roots = append(rev.Roots, append([]byte(nil), r[:]...))
	}
	for _, x := range idx {
		leaf := make([]byte, LeafBytes)
		j0 := x.J / LeafEntries * LeafEntries
		encodeLeaf(leaf, products[x.B][x.I][j0:j0+LeafEntries])
		rev.Openings = append(rev.Openings, Opening{Leaf: leaf, Siblings: trees[x.B].path(LeafIndex(p.N, x.I, x.J))})
	}
	cm := Commitment(roots)
	return cm[:], rev
}

// A prover that lies about a single entry of C, with a commitment
// consistent with the lie, is caught exactly when that entry is opened:
// the path checks out, the recomputed dot product does not. An opening of
// another entry of the same leaf passes (the lie is not in that column).
func TestSingleWrongEntryIsCaughtWhenOpened(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for trial := 0; trial < 4; trial++ {
		n := uint32(64 << (trial % 2))
		p := Params{N: n, M: 1, K: 2}
		var s [32]byte
		rng.Read(s[:])
		key := KeyFromSeed(s)
		li, lj := uint32(rng.Intn(int(n))), uint32(rng.Intn(int(n)))
		other := lj ^ 1 // same leaf, another column
		idx := []Index{{0, li, other}, {0, li, lj}}
		cm, rev := lyingReveal(t, key, p, li, lj, idx)
		err := VerifyReveal(key, p, cm, idx, rev)
		require.ErrorIs(t, err, ErrWrongEntry, "trial %d", trial)
		require.ErrorContains(t, err, "openings[1]", "the first opening (another column) passes")

		honest := []Index{{0, (li + 1) % n, lj}, {0, li, other}}
		cm, rev = lyingReveal(t, key, p, li, lj, honest)
		require.NoError(t, VerifyReveal(key, p, cm, honest, rev), "entries other than the lie verify")
	}
}

// honestReveal proves n=64, m=2 and opens 16 entries.
func honestReveal(t testing.TB) ([2]uint32, Params, []byte, []Index, Reveal) {
	key := KeyFromSeed(sha256.Sum256([]byte("honest")))
	p := Params{N: 64, M: 2, K: 16}
	proof, err := Prove(context.Background(), key, p, CPUMultiplier(1), ProverOptions{})
	require.NoError(t, err)
	idx := Openings([][32]byte{OpenSeed(1, 0, []byte("bh"))}, 0, p)
	rev, err := proof.Open(idx)
	require.NoError(t, err)
	cm := proof.Commitment()
	return key, p, cm[:], idx, rev
}

func cloneReveal(r Reveal) Reveal {
	out := Reveal{}
	for _, x := range r.Roots {
		out.Roots = append(out.Roots, append([]byte(nil), x...))
	}
	for _, o := range r.Openings {
		c := Opening{Leaf: append([]byte(nil), o.Leaf...)}
		for _, s := range o.Siblings {
			c.Siblings = append(c.Siblings, append([]byte(nil), s...))
		}
		out.Openings = append(out.Openings, c)
	}
	return out
}

// Every way a reveal can be wrong maps to its error: content errors to
// ErrWrongRoots / ErrWrongPath / ErrWrongEntry, shape errors to
// ErrMalformed, each naming what is wrong.
func TestVerifyRevealErrors(t *testing.T) {
	key, p, cm, idx, rev := honestReveal(t)
	require.NoError(t, VerifyReveal(key, p, cm, idx, rev))

	for _, tc := range []struct {
		name   string
		mutate func(r *Reveal, idx []Index) []Index
		want   error
		text   string
	}{
		{"wrong root", func(r *Reveal, i []Index) []Index { r.Roots[1][0] ^= 1; return i }, ErrWrongRoots, ""},
		{"wrong sibling", func(r *Reveal, i []Index) []Index { r.Openings[3].Siblings[2][5] ^= 1; return i }, ErrWrongPath, "openings[3]"},
		{"wrong leaf", func(r *Reveal, i []Index) []Index { r.Openings[0].Leaf[63] ^= 1; return i }, ErrWrongPath, "openings[0]"},
		{"extra root", func(r *Reveal, i []Index) []Index { r.Roots = append(r.Roots, r.Roots[0]); return i }, ErrMalformed, "roots: want 2"},
		{"short root", func(r *Reveal, i []Index) []Index { r.Roots[0] = r.Roots[0][:31]; return i }, ErrMalformed, "roots[0]"},
		{"missing opening", func(r *Reveal, i []Index) []Index { r.Openings = r.Openings[:15]; return i }, ErrMalformed, "openings: want 16"},
		{"short leaf", func(r *Reveal, i []Index) []Index { r.Openings[2].Leaf = r.Openings[2].Leaf[:63]; return i }, ErrMalformed, "openings[2].leaf"},
		{"short path", func(r *Reveal, i []Index) []Index {
			r.Openings[4].Siblings = r.Openings[4].Siblings[1:]
			return i
		}, ErrMalformed, "openings[4].siblings: want 8"},
		{"long path", func(r *Reveal, i []Index) []Index {
			r.Openings[4].Siblings = append(r.Openings[4].Siblings, r.Openings[4].Siblings[0])
			return i
		}, ErrMalformed, "openings[4].siblings"},
		{"short sibling", func(r *Reveal, i []Index) []Index { r.Openings[5].Siblings[0] = []byte{1}; return i }, ErrMalformed, "siblings[0]"},
		{"index out of range", func(r *Reveal, i []Index) []Index {
			i = append([]Index(nil), i...)
			i[6].I = 64
			return i
		}, ErrMalformed, "out of range"},
		{"too few indices", func(r *Reveal, i []Index) []Index { return i[:3] }, ErrMalformed, "opening indices"},
	} {
		r := cloneReveal(rev)
		got := VerifyReveal(key, p, cm, tc.mutate(&r, idx), r)
		require.True(t, errors.Is(got, tc.want), "%s: got %v", tc.name, got)
		require.ErrorContains(t, got, tc.text, tc.name)
	}
	require.ErrorIs(t, VerifyReveal(key, p, cm[:31], idx, rev), ErrMalformed)
	require.ErrorIs(t, VerifyReveal(key, Params{N: 100, M: 2, K: 16}, cm, idx, rev), ErrMalformed)
}

// Prove stops on a cancelled context and reports its progress up to m·n
// rows.
func TestProveProgressAndCancel(t *testing.T) {
	p := Params{N: 128, M: 2, K: 1}
	var last, total uint64
	_, err := Prove(context.Background(), [2]uint32{1, 2}, p, CPUMultiplier(1), ProverOptions{
		Progress: func(done, all uint64) { last, total = done, all },
	})
	require.NoError(t, err)
	require.Equal(t, uint64(256), total)
	require.Equal(t, total, last)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Prove(ctx, [2]uint32{1, 2}, p, CPUMultiplier(1), ProverOptions{})
	require.ErrorIs(t, err, context.Canceled)
}

// Params validation names the field and value.
func TestParamsValidate(t *testing.T) {
	require.NoError(t, Params{N: 64, M: 1, K: 1}.Validate())
	require.NoError(t, Params{N: 65536, M: 16, K: 64}.Validate())
	require.ErrorContains(t, Params{N: 100, M: 1, K: 1}.Validate(), "n must be a power of two in [64, 65536], got 100")
	require.ErrorContains(t, Params{N: 32, M: 1, K: 1}.Validate(), "got 32")
	require.ErrorContains(t, Params{N: 131072, M: 1, K: 1}.Validate(), "got 131072")
	require.ErrorContains(t, Params{N: 64, M: 0, K: 1}.Validate(), "m must be in [1, 16], got 0")
	require.ErrorContains(t, Params{N: 64, M: 1, K: 65}.Validate(), "k must be in [1, 64], got 65")
	require.Equal(t, 12, Params{N: 256}.Depth())
	require.Equal(t, 28, Params{N: 65536}.Depth())
	require.Equal(t, Cost{PhiloxCalls: 16 * 32, MulAdds: 16 * 256, Hashes: 16*13 + 1}, VerifyCost(Params{N: 256, M: 1, K: 16}))
}
