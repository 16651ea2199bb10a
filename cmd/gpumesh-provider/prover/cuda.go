package prover

import (
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/cuda"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// cudaDevice is what a CUDA backend provides.
type cudaDevice interface {
	challenge.Multiplier
	Name() string
	Close() error
}

// openCUDA opens CUDA device number device through the driver library
// loaded at run time (no CUDA toolkit at build time); see package cuda.
func openCUDA(device int) (cudaDevice, error) {
	b, err := cuda.Open(device)
	if err != nil {
		return nil, err
	}
	return b, nil
}
