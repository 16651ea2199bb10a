package cuda

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"
)

// cuDriver holds the CUDA driver API entry points (cuda.h), bound at run
// time. CUresult and CUdevice are C ints (int32), CUcontext, CUmodule,
// CUfunction and CUstream are pointers (uintptr), CUdeviceptr and size_t
// are 64-bit (uint64).
type cuDriver struct {
	cuInit                    func(flags uint32) int32
	cuDriverGetVersion        func(version *int32) int32
	cuDeviceGetCount          func(count *int32) int32
	cuDeviceGet               func(dev *int32, ordinal int32) int32
	cuDeviceGetName           func(name *byte, length int32, dev int32) int32
	cuDeviceGetAttribute      func(value *int32, attrib int32, dev int32) int32
	cuDeviceTotalMem          func(bytes *uint64, dev int32) int32 // cuDeviceTotalMem_v2
	cuDevicePrimaryCtxRetain  func(pctx *uintptr, dev int32) int32 //
	cuDevicePrimaryCtxRelease func(dev int32) int32                // cuDevicePrimaryCtxRelease_v2
	cuCtxSetCurrent           func(ctx uintptr) int32              //
	cuCtxSynchronize          func() int32                         //
	cuModuleLoadDataEx        func(mod *uintptr, image *byte, numOptions uint32, options *int32, values *uintptr) int32
	cuModuleUnload            func(mod uintptr) int32
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name *byte) int32
	cuMemAlloc                func(dptr *uint64, bytes uint64) int32                   // cuMemAlloc_v2
	cuMemFree                 func(dptr uint64) int32                                  // cuMemFree_v2
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uint64, bytes uint64) int32 // cuMemcpyDtoH_v2
	cuMemGetInfo              func(free, total *uint64) int32                          // cuMemGetInfo_v2
	cuLaunchKernel            func(f uintptr, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMem uint32, stream uintptr, params *unsafe.Pointer, extra *unsafe.Pointer) int32
	cuGetErrorName            func(res int32, str **byte) int32
	cuGetErrorString          func(res int32, str **byte) int32
}

// driverSymbols pairs each entry point with its exported symbol.
func (d *cuDriver) symbols() []symbol {
	return []symbol{
		{"cuInit", &d.cuInit},
		{"cuDriverGetVersion", &d.cuDriverGetVersion},
		{"cuDeviceGetCount", &d.cuDeviceGetCount},
		{"cuDeviceGet", &d.cuDeviceGet},
		{"cuDeviceGetName", &d.cuDeviceGetName},
		{"cuDeviceGetAttribute", &d.cuDeviceGetAttribute},
		{"cuDeviceTotalMem_v2", &d.cuDeviceTotalMem},
		{"cuDevicePrimaryCtxRetain", &d.cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease_v2", &d.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &d.cuCtxSetCurrent},
		{"cuCtxSynchronize", &d.cuCtxSynchronize},
		{"cuModuleLoadDataEx", &d.cuModuleLoadDataEx},
		{"cuModuleUnload", &d.cuModuleUnload},
		{"cuModuleGetFunction", &d.cuModuleGetFunction},
		{"cuMemAlloc_v2", &d.cuMemAlloc},
		{"cuMemFree_v2", &d.cuMemFree},
		{"cuMemcpyDtoH_v2", &d.cuMemcpyDtoH},
		{"cuMemGetInfo_v2", &d.cuMemGetInfo},
		{"cuLaunchKernel", &d.cuLaunchKernel},
		{"cuGetErrorName", &d.cuGetErrorName},
		{"cuGetErrorString", &d.cuGetErrorString},
	}
}

// symbol is a C function to bind into a Go func variable.
type symbol struct {
	name string
	fptr any // pointer to a func variable
}

// CUdevice_attribute values used here.
const (
	attrComputeCapabilityMajor = 75
	attrComputeCapabilityMinor = 76
)

// CUjit_option values used here.
const (
	jitErrorLogBuffer          = 5
	jitErrorLogBufferSizeBytes = 6
)

// cudaError is a failed driver call.
type cudaError struct {
	call string
	code int32
	name string // e.g. CUDA_ERROR_OUT_OF_MEMORY
	desc string // e.g. "out of memory"
}

func (e *cudaError) Error() string {
	switch {
	case e.name != "" && e.desc != "":
		return fmt.Sprintf("%s: %s (%s, %d)", e.call, e.desc, e.name, e.code)
	case e.name != "":
		return fmt.Sprintf("%s: %s (%d)", e.call, e.name, e.code)
	default:
		return fmt.Sprintf("%s: CUresult %d", e.call, e.code)
	}
}

// check turns a CUresult into an error naming the call.
func (d *cuDriver) check(call string, res int32) error {
	if res == 0 {
		return nil
	}
	e := &cudaError{call: call, code: res}
	var s *byte
	if d.cuGetErrorName != nil && d.cuGetErrorName(res, &s) == 0 {
		e.name = cString(s, 128)
	}
	s = nil
	if d.cuGetErrorString != nil && d.cuGetErrorString(res, &s) == 0 {
		e.desc = cString(s, 512)
	}
	return e
}

// cString copies a NUL-terminated C string of at most max bytes.
func cString(p *byte, max int) string {
	if p == nil {
		return ""
	}
	var b []byte
	for i := 0; i < max; i++ {
		c := *(*byte)(unsafe.Add(unsafe.Pointer(p), i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// cBytes returns s as a NUL-terminated byte slice.
func cBytes(s string) []byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return b
}

// unavailable wraps ErrUnavailable with the reason.
func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnavailable, fmt.Sprintf(format, args...))
}

// driverDevice is a device on the CUDA driver.
type driverDevice struct {
	drv     *cuDriver
	ordinal int32
	ctx     uintptr // the retained primary context
	module  uintptr
	fns     [len(kernelNames)]uintptr

	// Kernel arguments: cuLaunchKernel reads each argument through
	// params[i] → vals[i] (a u32 argument is the low, first, 4 bytes of
	// its little-endian slot). Kept in the heap-allocated device so the
	// pointers stay valid for the call.
	vals   [16]uint64
	params [16]unsafe.Pointer

	// The JIT error log buffer, on the heap for the same reason.
	jitLog [8192]byte

	blas *cublas // nil without cuBLAS
}

func (d *driverDevice) alloc(bytes uint64) (uint64, error) {
	var p uint64
	if err := d.drv.check("cuMemAlloc_v2", d.drv.cuMemAlloc(&p, bytes)); err != nil {
		var free, total uint64
		if d.drv.cuMemGetInfo(&free, &total) == 0 {
			return 0, fmt.Errorf("%w (device has %s free of %s)", err, sizeString(free), sizeString(total))
		}
		return 0, err
	}
	return p, nil
}

func (d *driverDevice) free(ptr uint64) error {
	return d.drv.check("cuMemFree_v2", d.drv.cuMemFree(ptr))
}

func (d *driverDevice) launch(k int, grid, block [3]uint32, args []karg) error {
	if len(args) > len(d.vals) {
		return fmt.Errorf("kernel %s: %d arguments, at most %d", kernelNames[k], len(args), len(d.vals))
	}
	for i, a := range args {
		d.vals[i] = a.v
		d.params[i] = unsafe.Pointer(&d.vals[i])
	}
	res := d.drv.cuLaunchKernel(d.fns[k], grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, 0, &d.params[0], nil)
	return d.drv.check("cuLaunchKernel("+kernelNames[k]+")", res)
}

func (d *driverDevice) sync() error {
	return d.drv.check("cuCtxSynchronize", d.drv.cuCtxSynchronize())
}

func (d *driverDevice) dtoh(dst unsafe.Pointer, src uint64, bytes uint64) error {
	return d.drv.check("cuMemcpyDtoH_v2", d.drv.cuMemcpyDtoH(dst, src, bytes))
}

func (d *driverDevice) gemmS8(transa, transb, m, n, k int32, a uint64, lda int32, b uint64, ldb int32, c uint64, ldc int32) error {
	if d.blas == nil {
		return errors.New("cuBLAS not loaded")
	}
	return d.blas.gemmS8(transa, transb, m, n, k, a, lda, b, ldb, c, ldc)
}

func (d *driverDevice) close() error {
	var errs []error
	if d.blas != nil {
		if err := d.blas.destroy(); err != nil {
			errs = append(errs, err)
		}
		d.blas = nil
	}
	if d.module != 0 {
		if err := d.drv.check("cuModuleUnload", d.drv.cuModuleUnload(d.module)); err != nil {
			errs = append(errs, err)
		}
		d.module = 0
	}
	if d.ctx != 0 {
		// The thread goes back to Go's pool: leave no context current on it.
		if err := d.drv.check("cuCtxSetCurrent(NULL)", d.drv.cuCtxSetCurrent(0)); err != nil {
			errs = append(errs, err)
		}
		if err := d.drv.check("cuDevicePrimaryCtxRelease_v2", d.drv.cuDevicePrimaryCtxRelease(d.ordinal)); err != nil {
			errs = append(errs, err)
		}
		d.ctx = 0
	}
	return errors.Join(errs...)
}

// initDriver loads libcuda.so.1 and runs cuInit, returning the driver and
// the device count; its errors wrap ErrUnavailable.
func initDriver() (*cuDriver, int32, error) {
	drv, err := loadDriver()
	if err != nil {
		return nil, 0, err
	}
	if res := drv.cuInit(0); res != 0 {
		return nil, 0, unavailable("cuInit failed (no usable NVIDIA driver or device): %v", drv.check("cuInit", res))
	}
	var count int32
	if err := drv.check("cuDeviceGetCount", drv.cuDeviceGetCount(&count)); err != nil {
		return nil, 0, unavailable("%v", err)
	}
	if count == 0 {
		return nil, 0, unavailable("the CUDA driver reports no device")
	}
	return drv, count, nil
}

// describe returns a device's name, its sm_XY and its compute capability
// as major·10+minor.
func (d *cuDriver) describe(dev int32) (name, sm string, cc int32, err error) {
	buf := make([]byte, 256)
	if err := d.check("cuDeviceGetName", d.cuDeviceGetName(&buf[0], int32(len(buf)), dev)); err != nil {
		return "", "", 0, err
	}
	name = cString(&buf[0], len(buf))
	var major, minor int32
	if err := d.check("cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)", d.cuDeviceGetAttribute(&major, attrComputeCapabilityMajor, dev)); err != nil {
		return "", "", 0, err
	}
	if err := d.check("cuDeviceGetAttribute(COMPUTE_CAPABILITY_MINOR)", d.cuDeviceGetAttribute(&minor, attrComputeCapabilityMinor, dev)); err != nil {
		return "", "", 0, err
	}
	return name, fmt.Sprintf("sm_%d%d", major, minor), major*10 + minor, nil
}

// openDriverDevice opens device ordinal on the calling (locked) thread.
func openDriverDevice(ordinal int) (device, deviceInfo, error) {
	drv, count, err := initDriver()
	if err != nil {
		return nil, deviceInfo{}, err
	}
	if ordinal < 0 || ordinal >= int(count) {
		return nil, deviceInfo{}, unavailable("CUDA device %d out of range: the driver reports %d device(s)", ordinal, count)
	}
	var dev int32
	if err := drv.check("cuDeviceGet", drv.cuDeviceGet(&dev, int32(ordinal))); err != nil {
		return nil, deviceInfo{}, unavailable("%v", err)
	}
	name, sm, cc, err := drv.describe(dev)
	if err != nil {
		return nil, deviceInfo{}, err
	}
	if cc < 61 {
		return nil, deviceInfo{}, unavailable("%s is %s; the kernels need sm_61 or newer (dp4a)", name, sm)
	}
	d := &driverDevice{drv: drv, ordinal: dev}
	if err := drv.check("cuDevicePrimaryCtxRetain", drv.cuDevicePrimaryCtxRetain(&d.ctx, dev)); err != nil {
		return nil, deviceInfo{}, err
	}
	fail := func(err error) (device, deviceInfo, error) {
		_ = d.close()
		return nil, deviceInfo{}, err
	}
	if err := drv.check("cuCtxSetCurrent", drv.cuCtxSetCurrent(d.ctx)); err != nil {
		return fail(err)
	}
	if err := d.loadModule(); err != nil {
		return fail(err)
	}
	info := deviceInfo{name: name, sm: sm}
	if cublasWanted() {
		if b, err := openCublas(); err == nil {
			d.blas, info.hasGemm = b, true
		} else if _, loadErr := loadCublas(); loadErr == nil {
			// The library is there but the handle could not be made.
			info.gemmFailure = err.Error()
		}
	}
	return d, info, nil
}

// loadModule JIT-compiles ptxModule and looks up the kernels.
func (d *driverDevice) loadModule() error {
	image := cBytes(ptxModule)
	errLog := d.jitLog[:]
	opts := []int32{jitErrorLogBuffer, jitErrorLogBufferSizeBytes}
	// The option values are void*: the buffer's address and its size.
	vals := []uintptr{uintptr(unsafe.Pointer(&errLog[0])), uintptr(len(errLog))}
	res := d.drv.cuModuleLoadDataEx(&d.module, &image[0], uint32(len(opts)), &opts[0], &vals[0])
	runtime.KeepAlive(d)
	if err := d.drv.check("cuModuleLoadDataEx", res); err != nil {
		if log := strings.TrimSpace(cString(&errLog[0], len(errLog))); log != "" {
			return fmt.Errorf("loading the PTX kernels: %w: %s", err, log)
		}
		return fmt.Errorf("loading the PTX kernels: %w", err)
	}
	for k, name := range kernelNames {
		cname := cBytes(name)
		if err := d.drv.check("cuModuleGetFunction("+name+")", d.drv.cuModuleGetFunction(&d.fns[k], d.module, &cname[0])); err != nil {
			return err
		}
	}
	return nil
}

// cublasWanted reports whether CUBLASEnv allows cuBLAS.
func cublasWanted() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(CUBLASEnv))) {
	case "0", "off", "false", "no":
		return false
	}
	return true
}

// Probe describes CUDA device 0 in one line without creating a context,
// e.g. "NVIDIA H100 80GB HBM3 (device 0 of 1, sm_90, 79.19 GiB, CUDA
// driver 12.4)", or returns why CUDA is unavailable (wrapping
// ErrUnavailable) or a driver error.
func Probe() (string, error) {
	drv, count, err := initDriver()
	if err != nil {
		return "", err
	}
	var dev int32
	if err := drv.check("cuDeviceGet", drv.cuDeviceGet(&dev, 0)); err != nil {
		return "", unavailable("%v", err)
	}
	name, sm, cc, err := drv.describe(dev)
	if err != nil {
		return "", err
	}
	if cc < 61 {
		return "", unavailable("%s is %s; the kernels need sm_61 or newer (dp4a)", name, sm)
	}
	line := fmt.Sprintf("%s (device 0 of %d, %s", name, count, sm)
	var mem uint64
	if drv.cuDeviceTotalMem(&mem, dev) == 0 {
		line += fmt.Sprintf(", %.2f GiB", float64(mem)/(1<<30))
	}
	var ver int32
	if drv.cuDriverGetVersion(&ver) == 0 {
		line += fmt.Sprintf(", CUDA driver %d.%d", ver/1000, ver%1000/10)
	}
	return line + ")", nil
}
