package challenge

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"
)

// Multiplier computes rows [i0, i0+rows) of C[b] = A[b]·B[b]ᵀ into dst
// (row-major, rows×n int32). The CPU implementation is the reference; a
// GPU backend implements the same interface and must produce the same
// integers.
type Multiplier interface {
	MultiplyRows(ctx context.Context, key [2]uint32, n, b, i0, rows uint32, dst []int32) error
}

// CPUMultiplier multiplies on the CPU with workers goroutines (0 = one per
// CPU). It keeps B[b] (n² bytes) of the product it last worked on, so
// calls for consecutive row blocks of one product generate B once.
func CPUMultiplier(workers int) Multiplier {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	return &cpuMultiplier{workers: workers}
}

type cpuMultiplier struct {
	workers int

	mu     sync.Mutex
	key    [2]uint32
	n, b   uint32
	bRows  [][]int8
	cached bool
}

// matrixB returns B[b] as rows, generating it in parallel when it is not
// the cached one.
func (c *cpuMultiplier) matrixB(key [2]uint32, n, b uint32) [][]int8 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cached && c.key == key && c.n == n && c.b == b {
		return c.bRows
	}
	flat := make([]int8, int(n)*int(n))
	rows := make([][]int8, n)
	for j := range rows {
		rows[j] = flat[j*int(n) : (j+1)*int(n) : (j+1)*int(n)]
	}
	parallel(c.workers, int(n), func(j int) { GenRow(key, b, TagB, uint32(j), rows[j]) })
	c.key, c.n, c.b, c.bRows, c.cached = key, n, b, rows, true
	return rows
}

// MultiplyRows implements Multiplier.
func (c *cpuMultiplier) MultiplyRows(ctx context.Context, key [2]uint32, n, b, i0, rows uint32, dst []int32) error {
	if len(dst) < int(rows)*int(n) {
		return fmt.Errorf("dst holds %d entries, need %d", len(dst), int(rows)*int(n))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	bRows := c.matrixB(key, n, b)
	parallel(c.workers, int(rows), func(r int) {
		a := make([]int8, n)
		GenRow(key, b, TagA, i0+uint32(r), a)
		out := dst[r*int(n) : (r+1)*int(n)]
		for j, bj := range bRows {
			out[j] = dot(a, bj)
		}
	})
	return nil
}

// parallel runs fn(0..count-1) over workers goroutines.
func parallel(workers, count int, fn func(int)) {
	if workers > count {
		workers = count
	}
	if workers <= 1 {
		for i := 0; i < count; i++ {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < count; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ProverOptions tune Prove.
type ProverOptions struct {
	// Workers is the number of goroutines for hashing (0 = one per CPU).
	Workers int
	// Progress, when set, is called with the rows of C done over all m
	// products and the total.
	Progress func(done, total uint64)
}

// GPUProof is what a provider keeps between committing and opening one
// GPU's challenge: the roots and every product's Merkle tree (4·n² bytes
// per product). C itself is not kept: an opened leaf is recomputed from
// the seed (16 dot products).
type GPUProof struct {
	params Params
	key    [2]uint32
	roots  [][32]byte
	trees  []*tree
}

// Prove computes the m products of one GPU's challenge with mul, in row
// blocks, hashing each finished block's leaves straight into the tree, so
// memory stays at the trees plus one row block (plus B in the CPU
// multiplier). It stops between blocks when ctx is cancelled.
func Prove(ctx context.Context, key [2]uint32, p Params, mul Multiplier, opts ProverOptions) (*GPUProof, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	n := p.N
	block := uint32(64)
	if block > n {
		block = n
	}
	buf := make([]int32, int(block)*int(n))
	leavesPerRow := n / LeafEntries
	total := uint64(p.M) * uint64(n)
	var done uint64
	g := &GPUProof{params: p, key: key}
	for b := uint32(0); b < p.M; b++ {
		t := newTree(p.Leaves())
		for i0 := uint32(0); i0 < n; i0 += block {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := mul.MultiplyRows(ctx, key, n, b, i0, block, buf); err != nil {
				return nil, fmt.Errorf("product %d, rows %d–%d: %w", b, i0, i0+block-1, err)
			}
			leaves := t.levels[0][uint64(i0)*uint64(leavesPerRow):]
			parallel(workers, int(block), func(r int) {
				var leaf [LeafBytes]byte
				row := buf[r*int(n) : (r+1)*int(n)]
				for q := uint32(0); q < leavesPerRow; q++ {
					encodeLeaf(leaf[:], row[q*LeafEntries:(q+1)*LeafEntries])
					leaves[uint32(r)*leavesPerRow+q] = HashLeaf(leaf[:])
				}
			})
			done += uint64(block)
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
		t.build()
		g.trees = append(g.trees, t)
		g.roots = append(g.roots, t.root())
	}
	return g, nil
}

// encodeLeaf writes 16 int32 entries little-endian.
func encodeLeaf(dst []byte, entries []int32) {
	for e, v := range entries {
		binary.LittleEndian.PutUint32(dst[4*e:], uint32(v))
	}
}

// Roots returns the m product roots.
func (g *GPUProof) Roots() [][32]byte { return append([][32]byte(nil), g.roots...) }

// Commitment returns the GPU's commitment.
func (g *GPUProof) Commitment() [32]byte { return Commitment(g.roots) }

// Open builds the reveal for the given opening indices: the roots, and for
// each index the leaf (recomputed from the seed) and its Merkle path.
func (g *GPUProof) Open(idx []Index) (Reveal, error) {
	p := g.params
	rev := Reveal{Roots: make([][]byte, len(g.roots)), Openings: make([]Opening, len(idx))}
	for i, r := range g.roots {
		rev.Roots[i] = append([]byte(nil), r[:]...)
	}
	a := make([]int8, p.N)
	bRow := make([]int8, p.N)
	for t, x := range idx {
		if x.B >= p.M || x.I >= p.N || x.J >= p.N {
			return Reveal{}, fmt.Errorf("opening %d: index (%d, %d, %d) out of range for n=%d m=%d", t, x.B, x.I, x.J, p.N, p.M)
		}
		GenRow(g.key, x.B, TagA, x.I, a)
		var entries [LeafEntries]int32
		j0 := x.J / LeafEntries * LeafEntries
		for e := uint32(0); e < LeafEntries; e++ {
			GenRow(g.key, x.B, TagB, j0+e, bRow)
			entries[e] = dot(a, bRow)
		}
		leaf := make([]byte, LeafBytes)
		encodeLeaf(leaf, entries[:])
		rev.Openings[t] = Opening{Leaf: leaf, Siblings: g.trees[x.B].path(LeafIndex(p.N, x.I, x.J))}
	}
	return rev, nil
}
