package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

func initCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented config file into the home directory and explain the next steps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h := home(cmd)
			cfg := config.Default()
			f := cmd.Flags()
			set := func(name string, dst *string) {
				if f.Changed(name) {
					*dst, _ = f.GetString(name)
				}
			}
			set("chain-id", &cfg.Chain.ChainID)
			set("grpc", &cfg.Chain.GRPC)
			set("gas-prices", &cfg.Chain.GasPrices)
			set("key", &cfg.Key.Name)
			set("keyring-backend", &cfg.Key.KeyringBackend)
			set("keyring-dir", &cfg.Key.KeyringDir)
			set(flagNVML, &cfg.NVML.Mode)
			set("moniker", &cfg.Provider.Moniker)
			set("region", &cfg.Provider.Region)
			set("host-uri", &cfg.Provider.HostURI)
			set("node-id", &cfg.Provider.Node.ID)
			set("prover", &cfg.Prover.Backend)
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("the flags give an invalid config:\n%w", err)
			}
			asJSON, err := jsonOutput(cmd)
			if err != nil {
				return err
			}
			overwrite, _ := f.GetBool("overwrite")
			path, err := config.Write(h, cfg, overwrite)
			if errors.Is(err, os.ErrExist) {
				if path == "" {
					path = filepath.Join(h, config.FileName)
				}
				return fmt.Errorf("%s exists: pass --overwrite to replace it (its settings are lost), "+
					"or --home to write another", path)
			}
			if err != nil {
				return err
			}
			keyringDir := cfg.Key.KeyringDir
			if keyringDir == "" {
				keyringDir = h
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), initResult{Config: path, Home: h, ChainID: cfg.Chain.ChainID,
					KeyName: cfg.Key.Name, KeyringBackend: cfg.Key.KeyringBackend, KeyringDir: keyringDir})
			}
			outf(cmd.OutOrStdout(), `Wrote %s

Next steps:
  1. Edit it: chain endpoint and id, provider details, this node's resources, prices per GPU class.
  2. Create or import the provider key (fund it with gas and collateral):
       gpumeshd keys add %s --keyring-backend %s --keyring-dir %s
  3. Check the GPUs and their classes:
       gpumesh-provider inventory --home %s
  4. Register, list the GPUs and bond the collateral:
       gpumesh-provider register --home %s
  5. Run the daemon (systemd unit: docs/provider.md):
       gpumesh-provider run --home %s
`, path, cfg.Key.Name, cfg.Key.KeyringBackend, keyringDir, h, h, h)
			return nil
		},
	}
	f := cmd.Flags()
	f.String("chain-id", "", "chain id")
	f.String("grpc", "", "node gRPC address (host:port)")
	f.String("gas-prices", "", "gas prices, e.g. 0.025umesh")
	f.String("key", "", "key name")
	f.String("keyring-backend", "", "keyring backend: os, file, test")
	f.String("keyring-dir", "", "keyring directory (default: the home)")
	f.String(flagNVML, "", "auto, real or mock:<profile>")
	f.String("moniker", "", "provider name")
	f.String("region", "", "region, e.g. US or DE-fra1")
	f.String("host-uri", "", "where tenants reach this sidecar's API")
	f.String("node-id", "", "this node's id")
	f.String("prover", "", "prover backend: auto, cpu, cuda")
	f.Bool("overwrite", false, "replace an existing config")
	addOutputFlag(cmd)
	return cmd
}

// initResult is what init reports (-o json: this shape).
type initResult struct {
	Config         string `json:"config"`
	Home           string `json:"home"`
	ChainID        string `json:"chain_id"`
	KeyName        string `json:"key_name"`
	KeyringBackend string `json:"keyring_backend"`
	KeyringDir     string `json:"keyring_dir"`
}
