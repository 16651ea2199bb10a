package prover

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"

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

// Select opens the configured backend: "cpu"; "cuda" or "auto" open the
// CUDA device and fall back to the CPU, saying why, when the driver or the
// device is absent.
func Select(name string, workers, device int, log *slog.Logger) (Backend, error) {
	switch name {
	case "cpu":
		return CPU(workers), nil
	case "cuda", "auto":
		dev, err := openCUDA(device)
		if err != nil {
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
