package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/service"
)

func registerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "register",
		Short: "Register or update the provider, list this node's healthy GPUs and bond the required collateral",
		Long: `Register the provider from the config (or update its moniker, host URI, region and contact),
set this node's inventory from NVML (other nodes of the provider are kept) and, when
provider.auto_bond is on (or --bond is given), bond up to the collateral the listed GPUs require.
Running it again changes only what differs.`,
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
			client, err := dial(cfg, nil, nil)
			if err != nil {
				return err
			}
			defer func() { _ = client.Close() }()
			src, err := openGPUs(cfg.NVML.Mode, cfg.Provider.Node.ID, nil)
			if err != nil {
				return err
			}
			defer func() { _ = src.Close() }()
			ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Minute)
			defer cancel()
			params, err := client.ProviderParams(ctx)
			if err != nil {
				return fmt.Errorf("reading the chain's GPU classes from %s: %w", cfg.Chain.GRPC, err)
			}
			// Map classes with the chain's table, which may differ from the defaults.
			_ = src.Close()
			if src, err = openGPUs(cfg.NVML.Mode, cfg.Provider.Node.ID, params.ClassForPCIDeviceID); err != nil {
				return err
			}
			list, err := src.GPUs()
			if err != nil {
				return err
			}
			autoBond := cfg.Provider.AutoBond
			if cmd.Flags().Changed("bond") {
				autoBond, _ = cmd.Flags().GetBool("bond")
			}
			res, err := service.Sync(ctx, client, cfg.Provider, list, autoBond, true, log)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			outf(out, "provider %s (%s)\n", client.Address(), cfg.Provider.Moniker)
			switch {
			case res.Registered:
				outln(out, "  registered")
			case res.Updated:
				outln(out, "  details updated")
			default:
				outln(out, "  already registered, details unchanged")
			}
			if res.InventorySet {
				outf(out, "  node %q listed with %d GPUs\n", cfg.Provider.Node.ID, res.GPUs)
			} else {
				outf(out, "  node %q unchanged (%d GPUs)\n", cfg.Provider.Node.ID, res.GPUs)
			}
			if res.Bonded.IsValid() && res.Bonded.IsPositive() {
				outf(out, "  bonded %s\n", res.Bonded)
			}
			st, err := client.ProviderState(ctx)
			if err != nil {
				return err
			}
			outf(out, "  bond %s%s of %s%s required; eligible to bid: %v\n", st.Bond.Bonded, st.Bond.Denom,
				st.Bond.Required, st.Bond.Denom, st.Bond.Eligible)
			return nil
		},
	}
	cmd.Flags().Bool("bond", false, "bond up to the required collateral (default: provider.auto_bond)")
	return cmd
}
