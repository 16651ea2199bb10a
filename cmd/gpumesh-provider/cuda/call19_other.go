//go:build !(linux && amd64)

package cuda

// call19Supported reports whether call19 exists on this platform: only
// linux/amd64 has the trampoline, elsewhere cuBLAS is not used and the PTX
// GEMM runs.
const call19Supported = false

func call19(f *call19Frame) uintptr {
	panic("cuda: call19 is not implemented on this platform")
}
