package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// driverLibrary is the soname of the CUDA driver API.
const driverLibrary = "libcuda.so.1"

var (
	driverOnce sync.Once
	driverLib  *cuDriver
	driverErr  error
)

// loadDriver loads and binds libcuda.so.1 once per process (it is never
// unloaded); its errors wrap ErrUnavailable.
func loadDriver() (*cuDriver, error) {
	driverOnce.Do(func() {
		h, err := dlopen(driverLibrary)
		if err != nil {
			driverErr = unavailable("cannot load %s (the NVIDIA driver's CUDA library): %v", driverLibrary, err)
			return
		}
		d := &cuDriver{}
		if err := bindSymbols(h, driverLibrary, d.symbols()); err != nil {
			driverErr = unavailable("%v", err)
			return
		}
		driverLib = d
	})
	return driverLib, driverErr
}

// cublasLibraries are tried in order.
var cublasLibraries = []string{"libcublas.so.12", "libcublas.so.11", "libcublas.so"}

// cublasAPI is the loaded cuBLAS library.
type cublasAPI struct {
	lib     string
	create  func(handle *uintptr) int32 // cublasCreate_v2
	destroy func(handle uintptr) int32  // cublasDestroy_v2
	gemmEx  uintptr                     // cublasGemmEx, 19 arguments: called through call19
}

var (
	cublasOnce sync.Once
	cublasLib  *cublasAPI
	cublasErr  error
)

func loadCublas() (*cublasAPI, error) {
	cublasOnce.Do(func() {
		if !call19Supported {
			cublasErr = fmt.Errorf("cublasGemmEx (19 arguments) cannot be called on %s/%s", runtime.GOOS, runtime.GOARCH)
			return
		}
		var errs []error
		for _, name := range cublasLibraries {
			h, err := dlopen(name)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			api := &cublasAPI{lib: name}
			if err := bindSymbols(h, name, []symbol{{"cublasCreate_v2", &api.create}, {"cublasDestroy_v2", &api.destroy}}); err != nil {
				errs = append(errs, err)
				continue
			}
			if api.gemmEx, err = dlsym(h, "cublasGemmEx"); err == nil && api.gemmEx == 0 {
				err = errors.New("address 0")
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("%s has no cublasGemmEx: %w", name, err))
				continue
			}
			cublasLib = api
			return
		}
		cublasErr = fmt.Errorf("cannot load cuBLAS: %w", errors.Join(errs...))
	})
	return cublasLib, cublasErr
}

// cublas is a cuBLAS handle on the current context.
type cublas struct {
	api    *cublasAPI
	handle uintptr
	// Host scalars and the call frame, on the heap: cublasGemmEx gets
	// their addresses as integers.
	alpha, beta int32
	frame       call19Frame
}

// openCublas loads cuBLAS and creates a handle; call it on the thread
// whose current context the handle is to use.
func openCublas() (*cublas, error) {
	api, err := loadCublas()
	if err != nil {
		return nil, err
	}
	b := &cublas{api: api, alpha: 1, beta: 0}
	if st := api.create(&b.handle); st != 0 {
		return nil, fmt.Errorf("cublasCreate_v2: %s", cublasStatus(st))
	}
	return b, nil
}

func (b *cublas) destroy() error {
	if b.handle == 0 {
		return nil
	}
	st := b.api.destroy(b.handle)
	b.handle = 0
	if st != 0 {
		return fmt.Errorf("cublasDestroy_v2: %s", cublasStatus(st))
	}
	return nil
}

// gemmS8 calls
//
//	cublasStatus_t cublasGemmEx(cublasHandle_t handle,
//	    cublasOperation_t transa, cublasOperation_t transb,
//	    int m, int n, int k, const void *alpha,
//	    const void *A, cudaDataType Atype, int lda,
//	    const void *B, cudaDataType Btype, int ldb,
//	    const void *beta, void *C, cudaDataType Ctype, int ldc,
//	    cublasComputeType_t computeType, cublasGemmAlgo_t algo)
//
// with Atype = Btype = CUDA_R_8I, Ctype = CUDA_R_32I, computeType =
// CUBLAS_COMPUTE_32I (so alpha and beta are int32, host pointers: the
// handle's default pointer mode), algo = CUBLAS_GEMM_DEFAULT. Enum and int
// arguments are 32-bit; each goes in a 64-bit slot, of which the callee
// reads the low half.
func (b *cublas) gemmS8(transa, transb, m, n, k int32, a uint64, lda int32, bb uint64, ldb int32, c uint64, ldc int32) error {
	u := func(v int32) uintptr { return uintptr(uint32(v)) }
	f := &b.frame
	f.fn = b.api.gemmEx
	f.args = [19]uintptr{
		b.handle, u(transa), u(transb),
		u(m), u(n), u(k),
		uintptr(unsafe.Pointer(&b.alpha)),
		uintptr(a), u(cudaR8I), u(lda),
		uintptr(bb), u(cudaR8I), u(ldb),
		uintptr(unsafe.Pointer(&b.beta)),
		uintptr(c), u(cudaR32I), u(ldc),
		u(cublasCompute32I), u(cublasGemmDefault),
	}
	st := int32(uint32(call19(f)))
	runtime.KeepAlive(b)
	if st != 0 {
		return fmt.Errorf("cublasGemmEx(int8, m=%d n=%d k=%d): %s", m, n, k, cublasStatus(st))
	}
	return nil
}

// call19Frame is the argument block of call19: the C function, its 19
// integer-class arguments, and its return value.
type call19Frame struct {
	fn   uintptr
	args [19]uintptr
	r1   uintptr
}

func cublasStatus(st int32) string {
	names := map[int32]string{
		0: "CUBLAS_STATUS_SUCCESS", 1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
		7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
		13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED",
		16: "CUBLAS_STATUS_LICENSE_ERROR",
	}
	if s, ok := names[st]; ok {
		return fmt.Sprintf("%s (%d)", s, st)
	}
	return fmt.Sprintf("cublasStatus %d", st)
}
