package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/cosmos/cosmos-sdk/version"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/leases"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/service"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// shutdownGrace bounds how long the subsystems get to stop after a signal.
const shutdownGrace = 8 * time.Second

func runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the sidecar daemon until SIGINT or SIGTERM",
		Long: `Run the sidecar: follow the chain, keep this node's inventory and bond in step with NVML,
bid for orders, answer proof-of-compute challenges, provision leases through the hooks,
report usage, withdraw earnings, and serve metrics (/metrics, /healthz) and the read-only API.

At start it waits for the node (chain.grpc) while it does not answer, with /healthz
answering 503 and the reason meanwhile; it stops with an error when the node answers for
another chain than chain.chain_id. SIGINT or SIGTERM stops it cleanly (exit status 0).`,
		Example: `  # First start, after init, editing the config and register:
  gpumesh-provider run

  # Another home (config.yaml, keyring, data/):
  gpumesh-provider run --home /var/lib/gpumesh-provider

  # Unattended, with the file keyring and JSON logs (under systemd: set
  # Environment=GPUMESH_KEYRING_PASSPHRASE=... in the unit, or an
  # EnvironmentFile, and Restart=on-failure; docs/provider.md has the unit):
  GPUMESH_KEYRING_PASSPHRASE=... gpumesh-provider run --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(home(cmd))
			if err != nil {
				return err
			}
			log, err := logger(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if err := leases.CheckHooks(cfg.Leases, log); err != nil {
				return err
			}
			faults, err := faultsFromFlags(cmd, log)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			reg := prometheus.NewRegistry()
			reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
			m := metrics.New(reg)
			board := state.NewBoard()
			board.SetChain(state.Chain{ChainID: cfg.Chain.ChainID, LastError: waitingFor(cfg.Chain.GRPC, errors.New("starting"))})
			svc := &service.Service{Config: cfg, Home: home(cmd), Log: log, Version: version.Version, Commit: version.Commit, Registry: reg,
				Metrics: m, Board: board, Faults: faults, MetricsServed: cfg.Metrics.Address != ""}
			svc.Chain, err = dial(cfg,
				func(stage, codespace string) { m.TxFailures.WithLabelValues(stage, codespace).Inc() },
				func(reason string) { m.TxRetries.WithLabelValues(reason).Inc() })
			if err != nil {
				return err
			}
			defer func() { _ = svc.Chain.Close() }()

			// Metrics and /healthz serve from the start, so a supervisor
			// sees why the sidecar is not ready while it waits for the node.
			runCtx, cancelRun := context.WithCancel(ctx)
			defer cancelRun()
			g, gctx := errgroup.WithContext(runCtx)
			if cfg.Metrics.Address != "" {
				g.Go(func() error {
					if err := metrics.Serve(gctx, cfg.Metrics, metrics.Handler(reg, board)); err != nil {
						return fmt.Errorf("metrics: %w", err)
					}
					return nil
				})
			}
			g.Go(func() error {
				defer cancelRun()
				return daemon(gctx, svc, log)
			})
			return g.Wait()
		},
	}
	addFaultFlags(cmd)
	return cmd
}

// daemon waits for the node, opens NVML and the prover, and runs the
// service until ctx is done. A stop while waiting is a clean stop.
func daemon(ctx context.Context, svc *service.Service, log *slog.Logger) error {
	cfg := svc.Config
	classes, err := waitForNode(ctx, svc, log)
	if err != nil {
		if ctx.Err() != nil {
			log.Info("stopped while waiting for the node")
			return nil
		}
		return err
	}
	if svc.GPUs, err = openGPUs(cfg.NVML.Mode, cfg.Provider.Node.ID, classes); err != nil {
		return err
	}
	defer func() { _ = svc.GPUs.Close() }()
	if svc.Backend, err = prover.Select(cfg.Prover.Backend, cfg.Prover.Workers, cfg.Prover.CUDADevice, log); err != nil {
		return err
	}
	defer func() { _ = svc.Backend.Close() }()

	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		log.Info("stopped")
		return nil
	case <-time.After(shutdownGrace):
		return fmt.Errorf("subsystems did not stop within %s", shutdownGrace)
	}
}

func waitingFor(addr string, err error) string {
	return fmt.Sprintf("waiting for node at %s: %v", addr, err)
}

// waitForNode checks that the node is on the configured chain and reads
// its GPU class table, retrying with backoff while the node does not
// answer (the sidecar may start before its node) and publishing why on
// the board (/healthz). A node on another chain is an error at once.
func waitForNode(ctx context.Context, svc *service.Service, log *slog.Logger) (func(string) string, error) {
	var classOf func(string) string
	addr := svc.Config.Chain.GRPC
	err := backoff.Retry(ctx, backoff.Default(), 0, func(err error) bool { return errors.Is(err, chain.ErrWrongChain) },
		func(ctx context.Context) error {
			qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			err := checkChainID(qctx, svc.Chain)
			if err == nil {
				var params providertypes.Params
				if params, err = svc.Chain.ProviderParams(qctx); err == nil {
					classOf = params.ClassForPCIDeviceID
					return nil
				}
			}
			if ctx.Err() == nil {
				svc.Board.SetChain(state.Chain{ChainID: svc.Config.Chain.ChainID, LastError: waitingFor(addr, err)})
				if !errors.Is(err, chain.ErrWrongChain) {
					log.Warn("waiting for the node", "grpc", addr, "err", err)
				}
			}
			return err
		})
	return classOf, err
}
