//go:build linux

package cuda

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ebitengine/purego"
	"github.com/stretchr/testify/require"
)

// The driver-facing half of the backend against a fake CUDA driver and a
// fake cuBLAS (testdata/fakecuda, C built here with gcc): the purego
// bindings, their argument order and types, the kernel parameter blocks,
// the 19-argument cublasGemmEx call, the thread the context is current on,
// and the error paths. The fakes compute with C versions of the kernels, so
// the golden vectors prove end to end. They run in a child process whose
// LD_LIBRARY_PATH finds the fakes before any real library.
func TestFakeDriver(t *testing.T) {
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	gcc, err := exec.LookPath(cc)
	require.NoError(t, err, "a C compiler is needed to build the fake libcuda.so.1 of this test")
	dir := t.TempDir()
	build := func(out, src string, extra ...string) {
		args := append([]string{"-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", filepath.Join(dir, out), filepath.Join("testdata", "fakecuda", src)}, extra...)
		outb, err := exec.Command(gcc, args...).CombinedOutput()
		require.NoError(t, err, "%s", outb)
	}
	build("libcuda.so.1", "fake_cuda.c")
	build("libcublas.so.12", "fake_cublas.c", "-L"+dir, "-l:libcuda.so.1")

	for _, sc := range []string{"cublas", "ptx", "cublas-fails", "no-device", "bad-ptx"} {
		t.Run(sc, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestFakeDriverChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+dir, "GPUMESH_CUDA_FAKE_SCENARIO="+sc)
			switch sc {
			case "ptx":
				cmd.Env = append(cmd.Env, CUBLASEnv+"=0")
			case "cublas-fails":
				cmd.Env = append(cmd.Env, "FAKECUBLAS_FAIL=1")
			case "no-device":
				cmd.Env = append(cmd.Env, "FAKECUDA_NO_DEVICE=1")
			case "bad-ptx":
				cmd.Env = append(cmd.Env, "FAKECUDA_BAD_PTX=1")
			}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "child process:\n%s", out)
			require.Contains(t, string(out), "fake driver scenario "+sc+" checked", "child process:\n%s", out)
		})
	}
}

// fakeCounter binds an int-returning function of an already loaded fake.
func fakeCounter(t *testing.T, lib, name string) func() int32 {
	t.Helper()
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	require.NoError(t, err)
	var fn func() int32
	purego.RegisterLibFunc(&fn, h, name)
	return fn
}

// TestFakeDriverChild is the child process of TestFakeDriver; run on its
// own it has nothing to check and returns.
func TestFakeDriverChild(t *testing.T) {
	sc := os.Getenv("GPUMESH_CUDA_FAKE_SCENARIO")
	if sc == "" {
		return
	}
	switch sc {
	case "no-device":
		_, err := Open(0)
		require.ErrorIs(t, err, ErrUnavailable)
		require.ErrorContains(t, err, "cuInit failed")
		require.ErrorContains(t, err, "no CUDA-capable device is detected (CUDA_ERROR_NO_DEVICE, 100)")
		_, err = Probe()
		require.ErrorIs(t, err, ErrUnavailable)
	case "bad-ptx":
		_, err := Open(0)
		require.Error(t, err)
		require.NotErrorIs(t, err, ErrUnavailable)
		require.ErrorContains(t, err, "loading the PTX kernels: cuModuleLoadDataEx: a PTX JIT compilation failed (CUDA_ERROR_INVALID_PTX, 218): ptxas fatal   : fake JIT failure")
		require.Zero(t, fakeCounter(t, "libcuda.so.1", "fakecuda_retained")(), "context released after the failure")
	default:
		line, err := Probe()
		require.NoError(t, err)
		require.Equal(t, "Fake GPU 0 (device 0 of 1, sm_86, 1.00 GiB, CUDA driver 12.4)", line)
		_, err = Open(1)
		require.ErrorIs(t, err, ErrUnavailable)
		require.ErrorContains(t, err, "CUDA device 1 out of range: the driver reports 1 device(s)")

		b, err := Open(0)
		require.NoError(t, err)
		withCublas := runtime.GOARCH == "amd64"
		switch {
		case sc == "ptx" || !withCublas:
			require.Equal(t, "cuda: Fake GPU 0 (sm_86, PTX dp4a kernel)", b.Name())
		default:
			require.Equal(t, "cuda: Fake GPU 0 (sm_86, cuBLAS int8 GEMM)", b.Name())
		}
		checkGoldenVectors(t, b)
		key := [2]uint32{0x01234567, 0x89abcdef}
		compareWithCPU(t, b, key, 256, 0, 0, 64)
		compareWithCPU(t, b, key, 1024, 1, 960, 64)
		compareWithCPU(t, b, key, 1024, 1, 100, 13)
		if sc == "cublas-fails" && withCublas {
			require.Equal(t, "cuda: Fake GPU 0 (sm_86, PTX dp4a kernel; cuBLAS failed: cublasGemmEx(int8, m=64 n=64 k=64): CUBLAS_STATUS_NOT_SUPPORTED (15))", b.Name())
		}
		if sc == "cublas" && withCublas {
			require.Positive(t, fakeCounter(t, "libcublas.so.12", "fakecublas_gemm_count")(), "cuBLAS did the GEMMs")
		}
		// Cancelled: no work, an error.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.ErrorIs(t, b.MultiplyRows(ctx, key, 256, 0, 0, 64, make([]int32, 64*256)), context.Canceled)

		require.NoError(t, b.Close())
		require.Zero(t, fakeCounter(t, "libcuda.so.1", "fakecuda_retained")(), "primary context released")
		require.Zero(t, fakeCounter(t, "libcuda.so.1", "fakecuda_allocated")(), "device memory freed")
		if withCublas && sc != "ptx" {
			require.Zero(t, fakeCounter(t, "libcublas.so.12", "fakecublas_handles")(), "cuBLAS handle destroyed")
		}
	}
	t.Logf("%s", strings.Join([]string{"fake driver scenario", sc, "checked"}, " "))
}
