//go:build linux && amd64

package cuda

import (
	"unsafe"

	_ "github.com/ebitengine/purego" // sets up the cgo runtime (or purego's fake one) that runtime.cgocall needs
)

// call19Supported reports whether call19 exists on this platform.
const call19Supported = true

// runtime_cgocall switches to the system stack and calls fn(arg) with the
// C calling convention, as purego does for its own calls.
//
//go:linkname runtime_cgocall runtime.cgocall
func runtime_cgocall(fn uintptr, arg unsafe.Pointer) int32

// call19ABI0 is the address of gpumesh_cuda_call19 (call19_linux_amd64.s).
var call19ABI0 uintptr

// call19 calls f.fn with the 19 integer-class arguments in f.args by the
// System V AMD64 convention (6 in registers, 13 on the stack) and returns
// its integer result. purego's calls stop at 15 arguments; cublasGemmEx has
// 19. f must be heap memory that stays alive for the call.
func call19(f *call19Frame) uintptr {
	runtime_cgocall(call19ABI0, unsafe.Pointer(f))
	return f.r1
}
