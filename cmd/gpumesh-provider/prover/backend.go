package prover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/cuda"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// Backend is a selected multiplier and what it is.
type Backend struct {
	challenge.Multiplier
	Name  string
	close func() error
}

// Close releases the backend's device resources.
func (b Backend) Close() error {
	if b.close == nil {
		return nil
	}
	return b.close()
}

// CPU is the pure-Go backend with workers goroutines (0 = one per core).
func CPU(workers int) Backend {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	return Backend{Multiplier: challenge.CPUMultiplier(workers), Name: fmt.Sprintf("cpu (%d workers)", workers)}
}

// Select opens the configured backend: "cpu"; "auto" opens the CUDA device
// and falls back to the CPU, saying why, on any failure; "cuda" falls back
// (with a warning) only when CUDA is absent here (no driver library, no
// device) and fails when CUDA is present but does not work, so that an
// operator who asked for the GPU learns why it is not used.
func Select(name string, workers, device int, log *slog.Logger) (Backend, error) {
	switch name {
	case "cpu":
		return CPU(workers), nil
	case "cuda", "auto":
		dev, err := openCUDA(device)
		if err != nil {
			if name == "cuda" && !errors.Is(err, cuda.ErrUnavailable) {
				return Backend{}, fmt.Errorf("prover.backend cuda, device %d: %w", device, err)
			}
			b := CPU(workers)
			level := slog.LevelInfo
			if name == "cuda" {
				level = slog.LevelWarn
			}
			log.Log(context.Background(), level, "CUDA backend unavailable: proving on the CPU", "reason", err.Error(), "backend", b.Name)
			return b, nil
		}
		return Backend{Multiplier: dev, Name: dev.Name(), close: dev.Close}, nil
	default:
		return Backend{}, fmt.Errorf("prover.backend %q: want auto, cpu or cuda", name)
	}
}
