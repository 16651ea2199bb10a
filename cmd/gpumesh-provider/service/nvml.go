package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

// GPUWatcher is the nvml subsystem: it reads the GPUs and their telemetry
// every interval, publishes them, and watches for Xid errors.
type GPUWatcher struct {
	src      *gpus.Source
	interval time.Duration
	board    *state.Board
	metrics  *metrics.Metrics
	log      *slog.Logger
}

// Run reads telemetry until ctx is done; Xid events are watched in a child
// goroutine that is drained before Run returns.
func (w *GPUWatcher) Run(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- w.src.WatchXid(ctx) }()
	defer func() {
		if err := <-done; err != nil {
			w.log.Warn("Xid event watch stopped", "err", err)
		}
	}()
	bo := backoff.New(backoff.Default())
	unhealthy := map[string]string{}
	for {
		if err := w.read(unhealthy); err != nil {
			w.board.SetGPUs(nil, false, w.src.Describe()+": "+err.Error())
			w.log.Warn("reading GPUs failed", "err", err)
			if bo.Wait(ctx) != nil {
				return nil
			}
			continue
		}
		bo.Reset()
		if backoff.Sleep(ctx, w.interval) != nil {
			return nil
		}
	}
}

func (w *GPUWatcher) read(unhealthy map[string]string) error {
	list, err := w.src.GPUs()
	if err != nil {
		return err
	}
	tel, err := w.src.Telemetry()
	if err != nil {
		return err
	}
	byUUID := make(map[string]gpus.Telemetry, len(tel))
	for _, t := range tel {
		byUUID[t.UUID] = t
	}
	onChain := w.board.Provider().Listed
	out := make([]state.GPU, 0, len(list))
	for _, g := range list {
		s := state.GPU{GPU: g, Telemetry: byUUID[g.UUID]}
		if c, ok := onChain[g.UUID]; ok {
			s.Listed, s.AllocatedTo, s.Verified = true, c.AllocatedTo, c.Verified
		}
		out = append(out, s)
		if !g.Healthy && unhealthy[g.UUID] != g.Health {
			w.log.Error("GPU unhealthy: withdrawn from bidding", "uuid", g.UUID, "index", g.Index, "health", g.Health)
		}
		if g.Healthy && unhealthy[g.UUID] != "" {
			w.log.Info("GPU healthy again", "uuid", g.UUID)
		}
		if g.Healthy {
			delete(unhealthy, g.UUID)
		} else {
			unhealthy[g.UUID] = g.Health
		}
	}
	w.board.SetGPUs(out, true, w.src.Describe())
	w.metrics.ObserveGPUs(out)
	return nil
}

// Healthy returns the healthy GPUs from the board, nil before NVML first
// answered and while the lease manager reports that leases cannot be
// provisioned (a broken hook: no bids until it is fixed).
func Healthy(b *state.Board) func() map[string]bool {
	return func() map[string]bool {
		list, ok, _ := b.GPUs()
		if !ok || b.ProvisioningProblem() != "" {
			return nil // no bids while a won lease could not be provisioned
		}
		out := make(map[string]bool, len(list))
		for _, g := range list {
			out[g.UUID] = g.Healthy
		}
		return out
	}
}

// Telemetry returns the latest telemetry by UUID from the board.
func Telemetry(b *state.Board) func() map[string]gpus.Telemetry {
	return func() map[string]gpus.Telemetry {
		list, _, _ := b.GPUs()
		out := make(map[string]gpus.Telemetry, len(list))
		for _, g := range list {
			out[g.UUID] = g.Telemetry
		}
		return out
	}
}
