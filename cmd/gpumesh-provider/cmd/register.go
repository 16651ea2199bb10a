package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
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
			asJSON, err := jsonOutput(cmd)
			if err != nil {
				return err
			}
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
			ctx, cancel := context.WithTimeout(cmd.Context(), 3*time.Minute)
			defer cancel()
			if err := checkNode(ctx, client, cfg.Chain.GRPC); err != nil {
				return err
			}
			src, err := openGPUs(cfg.NVML.Mode, cfg.Provider.Node.ID, nil)
			if err != nil {
				return err
			}
			defer func() { _ = src.Close() }()
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
			st, err := client.ProviderState(ctx)
			if err != nil {
				return err
			}
			r := newRegisterResult(client.Address().String(), cfg.Provider, res, st)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			r.print(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().Bool("bond", false, "bond up to the required collateral (default: provider.auto_bond)")
	addOutputFlag(cmd)
	return cmd
}

// registerResult is what register reports (-o json: this shape).
type registerResult struct {
	Provider string `json:"provider"`
	Moniker  string `json:"moniker"`
	// Action is registered, updated or unchanged.
	Action string `json:"action"`
	NodeID string `json:"node_id"`
	// InventorySet: this node's inventory was written (it differed).
	InventorySet bool `json:"inventory_set"`
	GPUs         int  `json:"gpus"`
	// BondedNow is what this run bonded ("" when nothing).
	BondedNow string     `json:"bonded_now"`
	Bond      bondStatus `json:"bond"`
}

// bondStatus is the provider's bond after the run, amounts in base units.
type bondStatus struct {
	Denom    string `json:"denom"`
	Bonded   string `json:"bonded"`
	Required string `json:"required"`
	Eligible bool   `json:"eligible"`
}

func newRegisterResult(addr string, p config.Provider, res service.SyncResult, st chain.ProviderState) registerResult {
	r := registerResult{Provider: addr, Moniker: p.Moniker, Action: "unchanged", NodeID: p.Node.ID,
		InventorySet: res.InventorySet, GPUs: res.GPUs,
		Bond: bondStatus{Denom: st.Bond.Denom, Bonded: st.Bond.Bonded.String(), Required: st.Bond.Required.String(),
			Eligible: st.Bond.Eligible}}
	switch {
	case res.Registered:
		r.Action = "registered"
	case res.Updated:
		r.Action = "updated"
	}
	if res.Bonded.IsValid() && res.Bonded.IsPositive() {
		r.BondedNow = res.Bonded.String()
	}
	return r
}

func (r registerResult) print(out io.Writer) {
	outf(out, "provider %s (%s)\n", r.Provider, r.Moniker)
	switch r.Action {
	case "registered":
		outln(out, "  registered")
	case "updated":
		outln(out, "  details updated")
	default:
		outln(out, "  already registered, details unchanged")
	}
	if r.InventorySet {
		outf(out, "  node %q listed with %d GPUs\n", r.NodeID, r.GPUs)
	} else {
		outf(out, "  node %q unchanged (%d GPUs)\n", r.NodeID, r.GPUs)
	}
	if r.BondedNow != "" {
		outf(out, "  bonded %s\n", r.BondedNow)
	}
	outf(out, "  bond %s%s of %s%s required; eligible to bid: %v\n", r.Bond.Bonded, r.Bond.Denom,
		r.Bond.Required, r.Bond.Denom, r.Bond.Eligible)
}
