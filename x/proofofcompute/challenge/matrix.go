package challenge

// Matrix tags in the Philox counter.
const (
	TagA uint32 = 0
	TagB uint32 = 1
)

// GenRow fills dst (length n, a multiple of 16) with row r of A[b] (tag
// TagA) or B[b] (tag TagB): block q is the Philox output for counter
// (q, r, b, tag), its 16 little-endian bytes read as int8 (spec §4).
func GenRow(key [2]uint32, b, tag, r uint32, dst []int8) {
	for q := 0; q < len(dst)/16; q++ {
		w := Philox4x32([4]uint32{uint32(q), r, b, tag}, key)
		o := dst[q*16 : q*16+16 : q*16+16]
		for t, word := range w {
			o[4*t] = int8(word)
			o[4*t+1] = int8(word >> 8)
			o[4*t+2] = int8(word >> 16)
			o[4*t+3] = int8(word >> 24)
		}
	}
}

// Entry recomputes C[b][i][j] = Σ_l A[b][i][l]·B[b][j][l] from the seed's
// key: 2·n/16 Philox calls and n multiply-adds, exact in int32 (|sum| ≤
// n·128² ≤ 2^30 for n ≤ 65536).
func Entry(key [2]uint32, n, b, i, j uint32) int32 {
	a := make([]int8, n)
	bb := make([]int8, n)
	GenRow(key, b, TagA, i, a)
	GenRow(key, b, TagB, j, bb)
	return dot(a, bb)
}

// dot is the int32 dot product of two int8 rows of equal length.
func dot(a, b []int8) int32 {
	var s0, s1, s2, s3 int32
	n := len(a)
	b = b[:n]
	l := 0
	for ; l+8 <= n; l += 8 {
		s0 += int32(a[l])*int32(b[l]) + int32(a[l+4])*int32(b[l+4])
		s1 += int32(a[l+1])*int32(b[l+1]) + int32(a[l+5])*int32(b[l+5])
		s2 += int32(a[l+2])*int32(b[l+2]) + int32(a[l+6])*int32(b[l+6])
		s3 += int32(a[l+3])*int32(b[l+3]) + int32(a[l+7])*int32(b[l+7])
	}
	for ; l < n; l++ {
		s0 += int32(a[l]) * int32(b[l])
	}
	return s0 + s1 + s2 + s3
}
