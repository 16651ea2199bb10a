// Package cmd holds gpumesh-provider's commands.
package cmd

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/version"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

const (
	flagHome      = "home"
	flagLogLevel  = "log-level"
	flagLogFormat = "log-format"
	flagNVML      = "nvml"
)

// NewRoot builds the command tree.
func NewRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "gpumesh-provider",
		Short: "The gpumesh provider sidecar: list your GPUs, bid for orders, prove compute, serve leases",
		Long: `gpumesh-provider runs next to your GPUs. It reads them through NVML, registers them on the
gpumesh chain, bids for tenants' orders at your prices, answers the chain's proof-of-compute
challenges, provisions leases through your hooks, withdraws earnings and exports metrics.

Start with:  gpumesh-provider init  →  edit the config  →  gpumesh-provider inventory
             →  gpumesh-provider register  →  gpumesh-provider run`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String(flagHome, config.DefaultHome(), "sidecar home (config.yaml, keyring, data/)")
	root.PersistentFlags().String(flagLogLevel, "info", "log level: debug, info, warn, error")
	root.PersistentFlags().String(flagLogFormat, "text", "log format: text or json")
	root.AddCommand(initCmd(), inventoryCmd(), registerCmd(), runCmd(), benchCmd(), versionCmd())
	return root
}

func home(cmd *cobra.Command) string {
	h, _ := cmd.Flags().GetString(flagHome)
	return h
}

// logger builds the structured logger the flags ask for.
func logger(cmd *cobra.Command, w io.Writer) (*slog.Logger, error) {
	lvlStr, _ := cmd.Flags().GetString(flagLogLevel)
	format, _ := cmd.Flags().GetString(flagLogFormat)
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(lvlStr)); err != nil {
		return nil, fmt.Errorf("--%s %q: want debug, info, warn or error", flagLogLevel, lvlStr)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--%s %q: want text or json", flagLogFormat, format)
	}
}

// openGPUs opens NVML in the given mode, mapping classes with the given
// table (nil = the chain's default classes).
func openGPUs(mode, seed string, classOf func(string) string) (*gpus.Source, error) {
	m, err := gpus.ParseMode(mode)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flagNVML, err)
	}
	if classOf == nil {
		params := providertypes.DefaultParams()
		classOf = params.ClassForPCIDeviceID
	}
	return gpus.Open(m, gpus.Options{Seed: seed, ClassOf: classOf})
}

// openKeyring opens the configured keyring. The file backend's passphrase
// comes from GPUMESH_KEYRING_PASSPHRASE when set (unattended runs),
// otherwise from the terminal.
func openKeyring(cfg config.Config) (keyring.Keyring, error) {
	var in io.Reader = os.Stdin
	if pass, ok := os.LookupEnv("GPUMESH_KEYRING_PASSPHRASE"); ok {
		in = chain.PassphraseReader(pass)
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), cfg.Key.KeyringBackend, cfg.Key.KeyringDir, in,
		chain.Encoding().Codec)
	if err != nil {
		return nil, fmt.Errorf("keyring (key.keyring_backend %q, key.keyring_dir %q): %w",
			cfg.Key.KeyringBackend, cfg.Key.KeyringDir, err)
	}
	return kr, nil
}

// dial connects to the configured node with the provider's key.
func dial(cfg config.Config, onTxFailure func(stage, codespace string), onTxRetry func(reason string)) (*chain.Client, error) {
	kr, err := openKeyring(cfg)
	if err != nil {
		return nil, err
	}
	return chain.Dial(chain.Options{GRPC: cfg.Chain.GRPC, ChainID: cfg.Chain.ChainID, GasPrices: cfg.Chain.GasPrices,
		GasAdjustment: cfg.Chain.GasAdjustment, TxTimeout: cfg.Chain.TxTimeout.D(), PollInterval: cfg.Chain.PollInterval.D(),
		Keyring: kr, KeyName: cfg.Key.Name, OnTxFailure: onTxFailure, OnTxRetry: onTxRetry,
		MaxGas: cfg.Chain.MaxGas, MaxFee: cfg.Chain.MaxFee})
}

// outf and outln write command output; a failed write to the terminal
// has nowhere better to be reported.
func outf(w io.Writer, format string, a ...any) { _, _ = fmt.Fprintf(w, format, a...) }

func outln(w io.Writer, a ...any) { _, _ = fmt.Fprintln(w, a...) }

func versionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := jsonOutput(cmd)
			if err != nil {
				return err
			}
			v := versionResult{Version: version.Version, Commit: version.Commit, Go: runtime.Version(), OS: runtime.GOOS,
				Arch: runtime.GOARCH, MockProfiles: gpus.Profiles()}
			if v.Version == "" {
				v.Version = "v0.1.0-dev"
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, v)
			}
			outf(out, "gpumesh-provider %s\n", v.Version)
			if v.Commit != "" {
				outf(out, "commit: %s\n", v.Commit)
			}
			outf(out, "go: %s %s/%s\n", v.Go, v.OS, v.Arch)
			outf(out, "nvml mock profiles: %s\n", strings.Join(v.MockProfiles, ", "))
			return nil
		},
	}
	addOutputFlag(cmd)
	return cmd
}

// versionResult is what version reports (-o json: this shape).
type versionResult struct {
	Version      string   `json:"version"`
	Commit       string   `json:"commit"`
	Go           string   `json:"go"`
	OS           string   `json:"os"`
	Arch         string   `json:"arch"`
	MockProfiles []string `json:"nvml_mock_profiles"`
}
