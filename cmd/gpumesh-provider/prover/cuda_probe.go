package prover

import (
	"errors"
	"fmt"

	"github.com/ebitengine/purego"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// cudaDevice is what a CUDA backend provides.
type cudaDevice interface {
	challenge.Multiplier
	Name() string
	Close() error
}

// errNoCUDABackend says the CUDA multiplier is not part of this build yet.
var errNoCUDABackend = errors.New("the CUDA multiplier is not implemented in this build yet")

// openCUDA loads the CUDA driver library at run time (no CUDA toolkit at
// build time). The GPU multiplier itself is still to come, so even with
// the driver present it reports why it cannot be used and the caller
// falls back to the CPU.
func openCUDA(device int) (cudaDevice, error) {
	lib, err := purego.Dlopen("libcuda.so.1", purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("libcuda.so.1 not found (no NVIDIA driver): %w", err)
	}
	_ = purego.Dlclose(lib)
	return nil, fmt.Errorf("device %d: %w", device, errNoCUDABackend)
}
