// Package service composes the sidecar's subsystems into the daemon that
// `gpumesh-provider run` starts: block follower, NVML watcher, inventory
// sync, bidder, prover, lease manager, metrics and API servers, each
// Run(ctx) in an errgroup.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/api"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/bidder"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/leases"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

// Service is the daemon.
type Service struct {
	Config   config.Config
	Home     string
	Log      *slog.Logger
	GPUs     *gpus.Source
	Chain    *chain.Client
	Backend  prover.Backend
	Registry *prometheus.Registry
	Metrics  *metrics.Metrics
	Board    *state.Board
	Version  string
	Commit   string
	// MetricsServed: the caller already serves metrics.address (run starts
	// it before waiting for the node, so /healthz answers meanwhile).
	MetricsServed bool
	// Faults are the prover's fault injections: empty unless built with
	// the gpumesh_faults tag (see prover.Faults).
	Faults prover.Faults

	deregistered bool // the last sync found the provider deregistered (owned by syncLoop)

	// bondNote is the last auto-bond hold or failure logged (owned by
	// syncLoop).
	bondNote string
}

// Run runs every subsystem until ctx is done or one fails; it returns
// after all of them have stopped.
func (s *Service) Run(ctx context.Context) error {
	if s.Board == nil {
		s.Board = state.NewBoard()
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	if s.Metrics == nil {
		s.Metrics = metrics.New(s.Registry)
	}
	m := s.Metrics
	cfg := s.Config
	started := time.Now()

	follower := chain.NewFollower(s.Chain, cfg.Chain.PollInterval.D(), s.Log.With("subsystem", "chain"))
	follower.OnStatus = func(b chain.Block, err error) {
		st := state.Chain{ChainID: cfg.Chain.ChainID, Connected: err == nil, Height: b.Height, BlockTime: b.Time}
		if err != nil {
			st.LastError = err.Error()
		}
		s.Board.SetChain(st)
		m.ChainHeight.Set(float64(b.Height))
	}
	bidBlocks, proofBlocks, leaseBlocks := follower.Subscribe(), follower.Subscribe(), follower.Subscribe()

	watcher := &GPUWatcher{src: s.GPUs, interval: cfg.NVML.TelemetryInterval.D(), board: s.Board, metrics: m,
		log: s.Log.With("subsystem", "nvml")}
	b := bidder.New(s.Chain, cfg.Bidding, cfg.Pricing, s.Board, m, s.Log.With("subsystem", "bidder"), bidBlocks,
		Healthy(s.Board))
	p := prover.New(s.Chain, prover.Options{NodeID: cfg.Provider.Node.ID, Multiplier: s.Backend, Workers: cfg.Prover.Workers,
		FreeProofs: cfg.Chain.FreeProofs, Faults: s.Faults,
		MaxMemoryBytes: prover.MemoryLimit(cfg.Prover.MaxMemoryMiB)}, s.Board, m, s.Log.With("subsystem", "prover"),
		proofBlocks)
	lm := leases.New(s.Chain, cfg.Leases, leases.NewStore(filepath.Join(s.Home, "data", "leases.json")), s.Board, m,
		s.Log.With("subsystem", "leases"), leaseBlocks, Telemetry(s.Board))
	apiSrv := api.New(s.Board, api.Info{Version: s.Version, Commit: s.Commit, ChainID: cfg.Chain.ChainID,
		Provider: s.Chain.Address().String(), NodeID: cfg.Provider.Node.ID, NVML: s.GPUs.Describe(),
		Backend: s.Backend.Name, StartedAt: started}).WithConfig(cfg.API)

	g, ctx := errgroup.WithContext(ctx)
	run := func(name string, fn func(context.Context) error) {
		g.Go(func() error {
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		})
	}
	run("chain", follower.Run)
	run("nvml", watcher.Run)
	run("sync", func(ctx context.Context) error { return s.syncLoop(ctx) })
	run("bidder", b.Run)
	run("prover", p.Run)
	run("leases", lm.Run)
	if cfg.Metrics.Address != "" && !s.MetricsServed {
		run("metrics", func(ctx context.Context) error {
			return metrics.Serve(ctx, cfg.Metrics, metrics.Handler(s.Registry, s.Board))
		})
	}
	if cfg.API.GRPCAddress != "" || cfg.API.RESTAddress != "" {
		run("api", func(ctx context.Context) error { return apiSrv.Serve(ctx, cfg.API.GRPCAddress, cfg.API.RESTAddress) })
	}
	s.Log.Info("sidecar running", "provider", s.Chain.Address().String(), "chain_id", cfg.Chain.ChainID,
		"grpc", cfg.Chain.GRPC, "nvml", s.GPUs.Describe(), "prover", s.Backend.Name,
		"metrics", cfg.Metrics.Address, "api_grpc", cfg.API.GRPCAddress, "api_rest", cfg.API.RESTAddress)
	return g.Wait()
}

// syncLoop keeps the provider's record, inventory and bond in step with
// the config and NVML: once NVML has answered, then every sync_interval,
// and at once when the set of healthy GPUs changes (a lost GPU leaves the
// inventory within a telemetry interval). It publishes the standing.
func (s *Service) syncLoop(ctx context.Context) error {
	log := s.Log.With("subsystem", "sync")
	bo := backoff.New(backoff.Default())
	tick := min(s.Config.NVML.TelemetryInterval.D(), s.Config.Provider.SyncInterval.D())
	var last time.Time
	lastHealthy := ""
	for {
		healthy := healthyFingerprint(s.Board)
		if time.Since(last) >= s.Config.Provider.SyncInterval.D() || healthy != lastHealthy {
			err := s.syncOnce(ctx, log)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				log.Warn("inventory sync failed", "err", err)
				if bo.Wait(ctx) != nil {
					return nil
				}
				continue
			}
			bo.Reset()
			last, lastHealthy = time.Now(), healthy
		}
		if backoff.Sleep(ctx, tick) != nil {
			return nil
		}
	}
}

// healthyFingerprint names the healthy GPUs ("" before NVML answered).
func healthyFingerprint(b *state.Board) string {
	list, ok, _ := b.GPUs()
	if !ok {
		return ""
	}
	var out []byte
	for _, g := range list {
		if g.Healthy {
			out = append(out, g.UUID...)
			out = append(out, ',')
		}
	}
	return "ok:" + string(out)
}

// noteAutoBond publishes what auto-bonding did (board, metrics) and logs a
// hold or a failed bond once per change, not at every sync.
func (s *Service) noteAutoBond(res SyncResult, log *slog.Logger) {
	ab := state.AutoBond{Held: res.BondHeld.Reason != "", Reason: res.BondHeld.Detail}
	if res.BondErr != nil {
		ab.LastError = res.BondErr.Error()
		s.Metrics.AutoBondFailures.Inc()
	}
	s.Board.SetAutoBond(ab)
	s.Metrics.AutoBondHeld.Reset()
	if ab.Held {
		s.Metrics.AutoBondHeld.WithLabelValues(res.BondHeld.Reason).Set(1)
	}
	note := ""
	if ab.Held || ab.LastError != "" {
		note = res.BondHeld.Detail + "|" + ab.LastError
	}
	if note == s.bondNote {
		return
	}
	s.bondNote = note
	switch {
	case ab.Held:
		log.Warn("auto-bonding held", "reason", res.BondHeld.Reason, "detail", res.BondHeld.Detail)
	case res.BondErr != nil:
		log.Warn("auto-bonding failed; retried every sync, logged again only when the error changes "+
			"(gpumesh_provider_auto_bond_failures_total counts the tries)", "err", res.BondErr)
	default:
		log.Info("auto-bonding resumed")
	}
}

func (s *Service) syncOnce(ctx context.Context, log *slog.Logger) error {
	list, ok, _ := s.Board.GPUs()
	if ok {
		raw := make([]gpus.GPU, len(list))
		for i, g := range list {
			raw[i] = g.GPU
		}
		res, err := Sync(ctx, s.Chain, s.Config.Provider, raw, s.Config.Provider.AutoBond, false, log)
		if err != nil {
			return err
		}
		s.noteAutoBond(res, log)
		if res.Deregistered != s.deregistered {
			s.deregistered = res.Deregistered
			if res.Deregistered {
				log.Warn("the provider is deregistered on chain: not registering it again, not listing GPUs, " +
					"not bonding; run `gpumesh-provider register` to come back")
			}
		}
	}
	st, err := s.Chain.ProviderState(ctx)
	if err != nil {
		return err
	}
	s.Board.SetProvider(st.Snapshot(s.Chain.Address().String()))
	return nil
}
