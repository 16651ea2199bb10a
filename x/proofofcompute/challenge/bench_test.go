package challenge

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkGEMM is the CPU prover's int8 throughput on one product:
// multiply-adds per second in total and per core.
func BenchmarkGEMM(b *testing.B) {
	for _, n := range []uint32{256, 512, 1024} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			mul := CPUMultiplier(0)
			dst := make([]int32, int(n)*int(n))
			key := [2]uint32{1, 2}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := mul.MultiplyRows(context.Background(), key, n, uint32(i), 0, n, dst); err != nil {
					b.Fatal(err)
				}
			}
			macs := float64(n) * float64(n) * float64(n) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(macs, "MAC/s")
			b.ReportMetric(macs/float64(runtime.NumCPU()), "MAC/s/core")
		})
	}
}

// BenchmarkMerkle hashes 2^16 leaves and builds the tree.
func BenchmarkMerkle(b *testing.B) {
	const leaves = 1 << 16
	data := make([]byte, leaves*LeafBytes)
	_, _ = rand.Read(data)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		t := newTree(leaves)
		for l := 0; l < leaves; l++ {
			t.levels[0][l] = HashLeaf(data[l*LeafBytes : (l+1)*LeafBytes])
		}
		t.build()
	}
}

// singleOpening builds a valid one-opening reveal at size n without
// proving the whole product: the true leaf from Entry, random siblings,
// and the root and commitment they imply.
func singleOpening(b *testing.B, n uint32) ([2]uint32, Params, []byte, []Index, Reveal) {
	key := [2]uint32{3, 4}
	p := Params{N: n, M: 1, K: 1}
	x := Index{B: 0, I: n / 3, J: n / 5}
	var entries [LeafEntries]int32
	j0 := x.J / LeafEntries * LeafEntries
	for e := uint32(0); e < LeafEntries; e++ {
		entries[e] = Entry(key, n, 0, x.I, j0+e)
	}
	leaf := make([]byte, LeafBytes)
	encodeLeaf(leaf, entries[:])
	sibs := make([][]byte, p.Depth())
	for i := range sibs {
		sibs[i] = make([]byte, HashSize)
		_, _ = rand.Read(sibs[i])
	}
	root, err := RootFromPath(LeafIndex(n, x.I, x.J), HashLeaf(leaf), sibs)
	if err != nil {
		b.Fatal(err)
	}
	cm := Commitment([][32]byte{root})
	return key, p, cm[:], []Index{x}, Reveal{Roots: [][]byte{root[:]}, Openings: []Opening{{Leaf: leaf, Siblings: sibs}}}
}

// BenchmarkVerifyOpening is the chain's cost of checking one opened entry
// (a dot product of length n, its 2·n/16 Philox calls, the Merkle path).
func BenchmarkVerifyOpening(b *testing.B) {
	for _, n := range []uint32{4096, 16384, 65536} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			key, p, cm, idx, rev := singleOpening(b, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := VerifyReveal(key, p, cm, idx, rev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/opening")
		})
	}
}

// BenchmarkEntry recomputes one entry at the largest n.
func BenchmarkEntry(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Entry([2]uint32{1, 2}, 65536, 0, uint32(i), 7)
	}
}

// BenchmarkPhilox is one Philox4x32-10 call.
func BenchmarkPhilox(b *testing.B) {
	var s uint32
	for i := 0; i < b.N; i++ {
		s += Philox4x32([4]uint32{uint32(i), 1, 2, 3}, [2]uint32{5, 6})[0]
	}
	_ = s
}

// BenchmarkProve is a whole GPU's challenge at the test profile.
func BenchmarkProve(b *testing.B) {
	p := Params{N: 256, M: 1, K: 16}
	for i := 0; i < b.N; i++ {
		if _, err := Prove(context.Background(), [2]uint32{uint32(i), 1}, p, CPUMultiplier(0), ProverOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
