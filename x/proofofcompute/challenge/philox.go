// Package challenge is the proof-of-compute protocol of gpumesh (see
// docs/spec/proof-of-compute.md; "spec §N" in this package means its
// section N): the Philox generator that defines the matrices,
// the seeds, the Merkle commitment, the opening indices, a verifier and a
// CPU prover. It is pure Go with no SDK dependency so that the chain, the
// sidecar and any other implementation share one reference.
package challenge

// Philox4x32-10 constants (Salmon et al., SC'11), the generator cuRAND
// implements, so GPU backends can produce the same matrices natively.
const (
	philoxM0 = 0xD2511F53
	philoxM1 = 0xCD9E8D57
	philoxW0 = 0x9E3779B9
	philoxW1 = 0xBB67AE85
)

// Philox4x32 is Philox4x32-10: ten rounds over a 128-bit counter with a
// 64-bit key. Counter-based, so any row of any matrix is computed without
// the rows before it.
func Philox4x32(ctr [4]uint32, key [2]uint32) [4]uint32 {
	c0, c1, c2, c3 := ctr[0], ctr[1], ctr[2], ctr[3]
	k0, k1 := key[0], key[1]
	for r := 0; r < 10; r++ {
		p0 := uint64(philoxM0) * uint64(c0)
		p1 := uint64(philoxM1) * uint64(c2)
		hi0, lo0 := uint32(p0>>32), uint32(p0)
		hi1, lo1 := uint32(p1>>32), uint32(p1)
		c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
		k0 += philoxW0
		k1 += philoxW1
	}
	return [4]uint32{c0, c1, c2, c3}
}
