package cuda

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// simBackend starts a Backend on a simulated device; withGemm gives it the
// reference cuBLAS.
func simBackend(t *testing.T, withGemm bool) (*Backend, *simDevice) {
	t.Helper()
	sim, err := newSimDevice()
	require.NoError(t, err)
	b, err := start(func() (device, deviceInfo, error) {
		return sim, deviceInfo{name: "simulated GPU", sm: "sm_61", hasGemm: withGemm}, nil
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, b.Close())
		require.True(t, sim.closed)
		require.Empty(t, sim.bufs, "device buffers left after Close")
	})
	return b, sim
}

func (d *simDevice) upload(t *testing.T, data []byte) uint64 {
	t.Helper()
	p, err := d.alloc(uint64(len(data)))
	require.NoError(t, err)
	copy(d.bufs[p], data)
	return p
}

// The Philox kernel writes exactly challenge.GenRow's rows, for any row
// offset, row count (a partial last thread block) and n a multiple of 16.
func TestSimPhiloxKernel(t *testing.T) {
	sim, err := newSimDevice()
	require.NoError(t, err)
	w := &worker{dev: sim}
	for _, c := range []struct{ n, row0, rows, b, tag uint32 }{
		{64, 0, 64, 0, challenge.TagB},
		{48, 5, 7, 3, challenge.TagA},
		{256, 1000, 9, 15, challenge.TagB},
		{16, 0xfffffff0, 16, 1, challenge.TagA}, // rows near the top of the counter word
	} {
		key := [2]uint32{rand.Uint32(), rand.Uint32()}
		size := uint64(c.rows) * uint64(c.n)
		p, err := sim.alloc(size)
		require.NoError(t, err)
		require.NoError(t, w.philox(p, key, c.b, c.tag, c.row0, c.rows, c.n))
		require.NoError(t, sim.sync())
		want := make([]int8, c.n)
		for r := uint32(0); r < c.rows; r++ {
			challenge.GenRow(key, c.b, c.tag, c.row0+r, want)
			got := sim.bufs[p][uint64(r)*uint64(c.n) : uint64(r+1)*uint64(c.n)]
			require.Equal(t, want, *(*[]int8)(unsafe.Pointer(&got)), "%+v row %d", c, r)
		}
		require.NoError(t, sim.free(p))
	}
}

// The dp4a GEMM kernel computes C = A·Bᵀ for any int8 values (−128
// included), row counts that are not multiples of 16 and n whose word count
// is not a multiple of the 16-word tile.
func TestSimGemmKernel(t *testing.T) {
	for _, c := range []struct{ rows, n uint32 }{{20, 48}, {16, 64}, {1, 16}, {33, 80}} {
		sim, err := newSimDevice()
		require.NoError(t, err)
		a := make([]byte, c.rows*c.n)
		bm := make([]byte, c.n*c.n)
		for i := range a {
			a[i] = byte(rand.Uint32())
		}
		for i := range bm {
			bm[i] = byte(rand.Uint32())
		}
		a[0], bm[0] = 0x80, 0x80 // −128·−128
		w := &worker{dev: sim}
		w.aPtr = sim.upload(t, a)
		w.bPtr = sim.upload(t, bm)
		w.cPtr, err = sim.alloc(4 * uint64(c.rows) * uint64(c.n))
		require.NoError(t, err)
		require.NoError(t, w.gemm(c.n, c.rows))
		require.NoError(t, sim.sync())
		got := make([]int32, c.rows*c.n)
		require.NoError(t, sim.dtoh(unsafe.Pointer(&got[0]), w.cPtr, uint64(len(got))*4))
		for i := uint32(0); i < c.rows; i++ {
			for j := uint32(0); j < c.n; j++ {
				var s int32
				for l := uint32(0); l < c.n; l++ {
					s += int32(int8(a[i*c.n+l])) * int32(int8(bm[j*c.n+l]))
				}
				require.Equal(t, s, got[i*c.n+j], "rows=%d n=%d C[%d][%d]", c.rows, c.n, i, j)
			}
		}
	}
}

// The whole backend, on the PTX GEMM and on cuBLAS's column-major GEMM (as
// cuBLAS defines it), equals the CPU reference for several products, keys
// and row blocks, including row counts the cuBLAS path hands to the PTX
// kernel.
func TestSimBackendMatchesCPU(t *testing.T) {
	for _, withGemm := range []bool{false, true} {
		b, sim := simBackend(t, withGemm)
		key := [2]uint32{0xdeadbeef, 0x12345678}
		compareWithCPU(t, b, key, 64, 0, 0, 64)
		compareWithCPU(t, b, key, 64, 1, 16, 32)
		compareWithCPU(t, b, key, 128, 1, 5, 13)
		compareWithCPU(t, b, [2]uint32{1, 2}, 128, 1, 120, 8)
		compareWithCPU(t, b, key, 48, 2, 0, 48)
		if withGemm {
			require.Equal(t, 4, sim.gemms, "row counts that are multiples of 4 go to cuBLAS")
			require.Equal(t, "cuda: simulated GPU (sm_61, cuBLAS int8 GEMM)", b.Name())
		} else {
			require.Zero(t, sim.gemms)
			require.Equal(t, "cuda: simulated GPU (sm_61, PTX dp4a kernel)", b.Name())
		}
	}
}

// The backend proves the golden vectors exactly, on both GEMMs.
func TestSimGoldenVectors(t *testing.T) {
	for _, withGemm := range []bool{true, false} {
		b, _ := simBackend(t, withGemm)
		checkGoldenVectors(t, b)
	}
}

// B[b] is generated once for consecutive row blocks of a product, and again
// when the key, n or product changes.
func TestSimBCache(t *testing.T) {
	b, sim := simBackend(t, true)
	ctx := context.Background()
	key := [2]uint32{7, 9}
	dst := make([]int32, 16*64)
	bGens := func() (count int) {
		for _, l := range sim.launches {
			if l.kernel == kernelPhilox && l.args[4].v == uint64(challenge.TagB) {
				count++
			}
		}
		return count
	}
	for i0 := uint32(0); i0 < 64; i0 += 16 {
		require.NoError(t, b.MultiplyRows(ctx, key, 64, 0, i0, 16, dst))
	}
	require.Equal(t, 1, bGens())
	require.NoError(t, b.MultiplyRows(ctx, key, 64, 1, 0, 16, dst))
	require.Equal(t, 2, bGens())
	require.NoError(t, b.MultiplyRows(ctx, [2]uint32{7, 10}, 64, 1, 0, 16, dst))
	require.Equal(t, 3, bGens())
	require.NoError(t, b.MultiplyRows(ctx, [2]uint32{7, 10}, 128, 1, 0, 16, make([]int32, 16*128)))
	require.Equal(t, 4, bGens())
	require.NoError(t, b.MultiplyRows(ctx, [2]uint32{7, 10}, 128, 1, 16, 16, make([]int32, 16*128)))
	require.Equal(t, 4, bGens())
}

// When a cuBLAS call fails the backend says so in its name and uses the PTX
// GEMM from then on, with the same results.
func TestSimCuBLASFailureFallsBack(t *testing.T) {
	b, sim := simBackend(t, true)
	sim.gemmErr = errors.New("cublasGemmEx(int8, m=64 n=16 k=64): CUBLAS_STATUS_NOT_SUPPORTED (15)")
	key := [2]uint32{3, 4}
	compareWithCPU(t, b, key, 64, 0, 0, 16)
	require.Contains(t, b.Name(), "PTX dp4a kernel; cuBLAS failed: cublasGemmEx")
	sim.gemmErr = nil // not tried again
	compareWithCPU(t, b, key, 64, 0, 16, 16)
	require.Zero(t, sim.gemms)
}

// Calls for more rows than one C buffer holds are done in chunks.
func TestSimChunks(t *testing.T) {
	defer func(v uint64) { maxChunkBytes = v }(maxChunkBytes)
	maxChunkBytes = 4 * 64 * 16 // 16 rows of n=64
	for _, withGemm := range []bool{false, true} {
		b, sim := simBackend(t, withGemm)
		compareWithCPU(t, b, [2]uint32{5, 6}, 64, 1, 3, 50)
		gemmLaunches := 0
		for _, l := range sim.launches {
			if l.kernel == kernelGemm {
				gemmLaunches++
			}
		}
		require.Equal(t, 4, gemmLaunches+sim.gemms, "50 rows in chunks of 16")
	}
}

// Bad arguments, a cancelled context and a closed backend are errors, and
// a kernel fault surfaces as an error, not as wrong numbers.
func TestSimErrors(t *testing.T) {
	b, sim := simBackend(t, false)
	ctx := context.Background()
	key := [2]uint32{1, 1}
	require.ErrorContains(t, b.MultiplyRows(ctx, key, 40, 0, 0, 1, make([]int32, 40)), "multiple of 16")
	require.ErrorContains(t, b.MultiplyRows(ctx, key, 0, 0, 0, 1, nil), "multiple of 16")
	require.ErrorContains(t, b.MultiplyRows(ctx, key, 64, 0, 60, 5, make([]int32, 5*64)), "out of range")
	require.ErrorContains(t, b.MultiplyRows(ctx, key, 64, 0, 0, 2, make([]int32, 64)), "dst holds 64 entries, need 128")
	require.NoError(t, b.MultiplyRows(ctx, key, 64, 0, 0, 0, nil))
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, b.MultiplyRows(cancelled, key, 64, 0, 0, 16, make([]int32, 16*64)), context.Canceled)

	sim.sticky = errors.New("sim: CUDA_ERROR_ILLEGAL_ADDRESS")
	require.ErrorContains(t, b.MultiplyRows(ctx, key, 64, 0, 0, 16, make([]int32, 16*64)), "ILLEGAL_ADDRESS")
	sim.sticky = nil
	compareWithCPU(t, b, key, 64, 0, 0, 16)

	b2, _ := simBackend(t, false)
	require.NoError(t, b2.Close())
	require.NoError(t, b2.Close())
	require.ErrorIs(t, b2.MultiplyRows(ctx, key, 64, 0, 0, 16, make([]int32, 16*64)), errClosed)
}

// Allocation failures name what and how much.
func TestAllocationErrorNamesSize(t *testing.T) {
	sim, err := newSimDevice()
	require.NoError(t, err)
	w := &worker{dev: sim}
	err = w.ensureB(context.Background(), [2]uint32{1, 2}, 65536, 3)
	require.ErrorContains(t, err, "allocating B[3] (65536×65536 int8) (4294967296 bytes, 4.00 GiB) on the device")
}
