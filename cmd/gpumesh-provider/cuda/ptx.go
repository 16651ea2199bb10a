package cuda

// ptxModule holds the two kernels, in PTX that the driver compiles (JIT)
// for whatever GPU it finds; sm_61 is the oldest with dp4a.
//
// gpumesh_philox_rows(out, k0, k1, b, tag, row0, nrows, qpr) writes rows
// [row0, row0+nrows) of the tag's matrix of product b, row-major with n =
// 16·qpr bytes a row, to out: thread t handles local row r = t / qpr and
// block q = t % qpr, the Philox4x32-10 output for counter (q, row0+r, b,
// tag) under key (k0, k1), stored as four little-endian 32-bit words, i.e.
// exactly challenge.GenRow's 16 int8 values. A round is, as in philox.go:
//
//	hi0:lo0 = M0·c0, hi1:lo1 = M1·c2
//	c0, c1, c2, c3 = hi1^c1^k0, lo1, hi0^c3^k1, lo0
//	k0 += W0, k1 += W1
//
// gpumesh_gemm_s8_dp4a(c, a, b, rows, n) computes C[i][j] = Σ_l A[i][l]·B[j][l]
// (A rows×n, B n×n int8, C rows×n int32, all row-major) with a 16×16
// thread block per 16×16 tile of C: each round the block stages 16 rows of
// A and 16 rows of B, 16 words (64 bytes) each, in shared memory, and each
// thread adds 16 dp4a (4 int8 products each) to its entry. Words past n/4
// and rows past rows or n read as 0. Launch with block (16, 16, 1) and grid
// (⌈n/16⌉, ⌈rows/16⌉, 1).
//
// Every 32-bit integer instruction is exact modular arithmetic and the
// int32 sums cannot overflow for n ≤ 65536 (|sum| ≤ n·128²), so the result
// is the CPU reference's bit for bit.
const ptxModule = `//
// gpumesh proof-of-compute kernels (hand-written PTX; see ptx.go).
//
.version 7.0
.target sm_61
.address_size 64

.shared .align 16 .b32 gpumesh_sA[256];
.shared .align 16 .b32 gpumesh_sB[272];

.visible .entry gpumesh_philox_rows(
	.param .u64 p_out,
	.param .u32 p_k0,
	.param .u32 p_k1,
	.param .u32 p_b,
	.param .u32 p_tag,
	.param .u32 p_row0,
	.param .u32 p_nrows,
	.param .u32 p_qpr
)
{
	.reg .pred %p<4>;
	.reg .b32 %r<32>;
	.reg .b64 %rd<8>;

	ld.param.u64 %rd1, [p_out];
	ld.param.u32 %r1, [p_k0];
	ld.param.u32 %r2, [p_k1];
	ld.param.u32 %r3, [p_b];
	ld.param.u32 %r4, [p_tag];
	ld.param.u32 %r5, [p_row0];
	ld.param.u32 %r6, [p_nrows];
	ld.param.u32 %r7, [p_qpr];
	cvta.to.global.u64 %rd1, %rd1;

	// t = ctaid.x * ntid.x + tid.x; stop past nrows * qpr
	mov.u32 %r8, %ctaid.x;
	mov.u32 %r9, %ntid.x;
	mov.u32 %r10, %tid.x;
	mad.lo.u32 %r11, %r8, %r9, %r10;
	mul.lo.u32 %r12, %r6, %r7;
	setp.ge.u32 %p1, %r11, %r12;
	@%p1 bra PHILOX_END;

	div.u32 %r13, %r11, %r7;        // r: row within the region
	rem.u32 %r14, %r11, %r7;        // q: 16-byte block within the row

	mov.u32 %r15, %r14;             // c0 = q
	add.u32 %r16, %r5, %r13;        // c1 = row0 + r
	mov.u32 %r17, %r3;              // c2 = b
	mov.u32 %r18, %r4;              // c3 = tag
	mov.u32 %r19, %r1;              // k0
	mov.u32 %r20, %r2;              // k1
	mov.u32 %r21, 0;                // round

PHILOX_ROUND:
	mul.hi.u32 %r22, %r15, 0xD2511F53;   // hi0 = hi(M0 * c0)
	mul.lo.u32 %r23, %r15, 0xD2511F53;   // lo0 = lo(M0 * c0)
	mul.hi.u32 %r24, %r17, 0xCD9E8D57;   // hi1 = hi(M1 * c2)
	mul.lo.u32 %r25, %r17, 0xCD9E8D57;   // lo1 = lo(M1 * c2)
	xor.b32 %r26, %r24, %r16;
	xor.b32 %r15, %r26, %r19;            // c0 = hi1 ^ c1 ^ k0
	xor.b32 %r27, %r22, %r18;
	xor.b32 %r17, %r27, %r20;            // c2 = hi0 ^ c3 ^ k1
	mov.u32 %r16, %r25;                  // c1 = lo1
	mov.u32 %r18, %r23;                  // c3 = lo0
	add.u32 %r19, %r19, 0x9E3779B9;      // k0 += W0
	add.u32 %r20, %r20, 0xBB67AE85;      // k1 += W1
	add.u32 %r21, %r21, 1;
	setp.lt.u32 %p2, %r21, 10;
	@%p2 bra PHILOX_ROUND;

	// out + r * (16 * qpr) + 16 * q
	shl.b32 %r28, %r7, 4;                // n = 16 * qpr
	mul.wide.u32 %rd2, %r13, %r28;
	mul.wide.u32 %rd3, %r14, 16;
	add.s64 %rd4, %rd2, %rd3;
	add.s64 %rd5, %rd1, %rd4;
	st.global.v4.u32 [%rd5], {%r15, %r16, %r17, %r18};

PHILOX_END:
	ret;
}

.visible .entry gpumesh_gemm_s8_dp4a(
	.param .u64 p_c,
	.param .u64 p_a,
	.param .u64 p_b,
	.param .u32 p_rows,
	.param .u32 p_n
)
{
	.reg .pred %p<8>;
	.reg .b32 %r<40>;
	.reg .b64 %rd<16>;

	ld.param.u64 %rd1, [p_c];
	ld.param.u64 %rd2, [p_a];
	ld.param.u64 %rd3, [p_b];
	ld.param.u32 %r1, [p_rows];
	ld.param.u32 %r2, [p_n];
	cvta.to.global.u64 %rd1, %rd1;
	cvta.to.global.u64 %rd2, %rd2;
	cvta.to.global.u64 %rd3, %rd3;

	mov.u32 %r3, %tid.x;                 // tx
	mov.u32 %r4, %tid.y;                 // ty
	mov.u32 %r5, %ctaid.x;
	mov.u32 %r6, %ctaid.y;
	shl.b32 %r7, %r6, 4;                 // i0 = 16 * ctaid.y
	add.u32 %r8, %r7, %r4;               // i = i0 + ty: row of C, and the A row this thread stages
	shl.b32 %r9, %r5, 4;                 // j0 = 16 * ctaid.x
	add.u32 %r10, %r9, %r3;              // j = j0 + tx: column of C
	add.u32 %r11, %r9, %r4;              // jb = j0 + ty: the B row this thread stages
	shr.u32 %r12, %r2, 2;                // nw = n / 4 words a row
	setp.lt.u32 %p1, %r8, %r1;           // A row i exists
	setp.lt.u32 %p2, %r11, %r2;          // B row jb exists

	mul.wide.u32 %rd4, %r8, %r2;
	add.s64 %rd5, %rd2, %rd4;            // &A[i][0]
	mul.wide.u32 %rd6, %r11, %r2;
	add.s64 %rd7, %rd3, %rd6;            // &B[jb][0]

	mov.u32 %r13, gpumesh_sA;
	mov.u32 %r14, gpumesh_sB;
	shl.b32 %r15, %r4, 4;
	add.u32 %r15, %r15, %r3;
	shl.b32 %r15, %r15, 2;
	add.u32 %r16, %r13, %r15;            // &sA[ty][tx]   (16 words a row)
	mul.lo.u32 %r17, %r4, 17;
	add.u32 %r17, %r17, %r3;
	shl.b32 %r17, %r17, 2;
	add.u32 %r18, %r14, %r17;            // &sB[ty][tx]   (17 words a row)
	shl.b32 %r19, %r4, 6;
	add.u32 %r19, %r13, %r19;            // &sA[ty][0]
	mul.lo.u32 %r20, %r3, 68;
	add.u32 %r20, %r14, %r20;            // &sB[tx][0]

	mov.u32 %r21, 0;                     // acc
	mov.u32 %r22, 0;                     // kw: first word of the round

GEMM_TILE:
	setp.ge.u32 %p3, %r22, %r12;
	@%p3 bra GEMM_STORE;
	add.u32 %r23, %r22, %r3;             // w = kw + tx
	setp.lt.u32 %p4, %r23, %r12;
	and.pred %p5, %p4, %p1;
	and.pred %p6, %p4, %p2;
	mov.u32 %r24, 0;
	mov.u32 %r25, 0;
	mul.wide.u32 %rd8, %r23, 4;
	add.s64 %rd9, %rd5, %rd8;
	add.s64 %rd10, %rd7, %rd8;
	@%p5 ld.global.u32 %r24, [%rd9];     // A[i][4w .. 4w+3]
	@%p6 ld.global.u32 %r25, [%rd10];    // B[jb][4w .. 4w+3]
	st.shared.u32 [%r16], %r24;
	st.shared.u32 [%r18], %r25;
	bar.sync 0;
	ld.shared.u32 %r26, [%r19];
	ld.shared.u32 %r27, [%r20];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+4];
	ld.shared.u32 %r27, [%r20+4];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+8];
	ld.shared.u32 %r27, [%r20+8];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+12];
	ld.shared.u32 %r27, [%r20+12];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+16];
	ld.shared.u32 %r27, [%r20+16];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+20];
	ld.shared.u32 %r27, [%r20+20];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+24];
	ld.shared.u32 %r27, [%r20+24];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+28];
	ld.shared.u32 %r27, [%r20+28];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+32];
	ld.shared.u32 %r27, [%r20+32];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+36];
	ld.shared.u32 %r27, [%r20+36];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+40];
	ld.shared.u32 %r27, [%r20+40];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+44];
	ld.shared.u32 %r27, [%r20+44];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+48];
	ld.shared.u32 %r27, [%r20+48];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+52];
	ld.shared.u32 %r27, [%r20+52];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+56];
	ld.shared.u32 %r27, [%r20+56];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	ld.shared.u32 %r26, [%r19+60];
	ld.shared.u32 %r27, [%r20+60];
	dp4a.s32.s32 %r21, %r26, %r27, %r21;
	bar.sync 0;
	add.u32 %r22, %r22, 16;
	bra GEMM_TILE;

GEMM_STORE:
	setp.lt.u32 %p7, %r10, %r2;          // j < n
	and.pred %p7, %p7, %p1;              // and i < rows
	@!%p7 bra GEMM_END;
	mul.wide.u32 %rd11, %r8, %r2;
	cvt.u64.u32 %rd12, %r10;
	add.s64 %rd11, %rd11, %rd12;
	shl.b64 %rd11, %rd11, 2;
	add.s64 %rd13, %rd1, %rd11;          // &C[i][j]
	st.global.u32 [%rd13], %r21;

GEMM_END:
	ret;
}
`
