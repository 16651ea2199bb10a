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

	"github.com/cosmos/cosmos-sdk/version"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/service"
)

// shutdownGrace bounds how long the subsystems get to stop after a signal.
const shutdownGrace = 8 * time.Second

func runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the sidecar daemon until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(home(cmd))
			if err != nil {
				return err
			}
			log, err := logger(cmd, cmd.ErrOrStderr())
			if err != nil {
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
			svc := &service.Service{Config: cfg, Home: home(cmd), Log: log, Version: version.Version, Commit: version.Commit, Registry: reg,
				Metrics: m, Faults: faults}
			svc.Chain, err = dial(cfg,
				func(stage, codespace string) { m.TxFailures.WithLabelValues(stage, codespace).Inc() },
				func(reason string) { m.TxRetries.WithLabelValues(reason).Inc() })
			if err != nil {
				return err
			}
			defer func() { _ = svc.Chain.Close() }()
			classes, err := waitForClasses(ctx, svc, log)
			if err != nil {
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
		},
	}
	addFaultFlags(cmd)
	return cmd
}

// waitForClasses reads the chain's GPU class table, retrying with backoff
// while the node is unreachable (the sidecar may start before its node).
func waitForClasses(ctx context.Context, svc *service.Service, log *slog.Logger) (func(string) string, error) {
	var classOf func(string) string
	err := backoff.Retry(ctx, backoff.Default(), 0, nil, func(ctx context.Context) error {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		params, err := svc.Chain.ProviderParams(qctx)
		if err != nil {
			log.Warn("waiting for the node", "grpc", svc.Config.Chain.GRPC, "err", err)
			return err
		}
		classOf = params.ClassForPCIDeviceID
		return nil
	})
	return classOf, err
}
