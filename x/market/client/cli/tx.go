// Package cli holds the hand-written commands of x/market: every tx
// command (ids are written tenant/seq, orders come from a YAML file) and
// the queries that take an id. autocli adds the list queries.
package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// Flags of the tx commands.
const (
	FlagDeposit = "deposit"
	FlagGPUs    = "gpus"
	// DefaultBidDeposit is create-bid's --deposit when left out: the
	// default bid_deposit param. The chain refuses less than the current
	// param; no query is made to fill the flag.
	DefaultBidDeposit = "5000000umesh"
)

// NewTxCmd returns the tx command of x/market.
func NewTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "Market transactions: orders, bids and leases",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		NewCreateOrderCmd(),
		NewCloseOrderCmd(),
		NewCreateBidCmd(),
		NewCloseBidCmd(),
		NewAcceptBidCmd(),
		NewCloseLeaseCmd(),
		NewSetLeaseAccessCmd(),
	)
	return cmd
}

// NewCreateOrderCmd returns `create-order <order.yaml|-> --deposit <coin>`.
func NewCreateOrderCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create-order [order.yaml]",
		Short: "Order GPUs as described in a YAML file ('-' reads stdin), with a deposit into the order's escrow",
		Long: `Create an order from a YAML file:

  gpu_classes: [h100-sxm-80g]      # classes, or models as wildcards (h100)
  gpus_per_node: 2
  nodes: 1                         # default 1; more is a cluster order
  min_vram_mib: 0                  # minimums; 0 or left out = any
  cpu_cores_per_node: 0
  memory_mib_per_node: 0
  storage_gib_per_node: 0
  interconnect: ""                 # e.g. infiniband
  regions: [US, EU]                # provider regions; empty = anywhere
  min_reputation: 0                # 0-10000
  max_price_per_gpu_hour: 2500000uusdc
  duration: 2h                     # Go duration; 0 or left out = until closed
  bid_window: 30s                  # 0s = instant: the first valid bid wins
  ssh_pubkey_file: ~/.ssh/id_ed25519.pub   # or ssh_pubkey: "ssh-ed25519 …"

Unknown fields are errors. Quote values YAML reads as booleans ("NO").
--deposit must be in the price's denom and cover at least the
min_deposit_seconds param at the maximum price for all GPUs.
See x/market/README.md and docs/examples/order-2xh100.yaml.`,
		Example: "gpumeshd tx market create-order docs/examples/order-2xh100.yaml --deposit 5000000uusdc --from alice",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientTxContext(cmd)
			if err != nil {
				return err
			}
			clientCtx = clientCtx.WithOutput(cmd.OutOrStdout())
			bz, baseDir, err := readOrderFile(cmd, args[0])
			if err != nil {
				return err
			}
			msg, err := ParseOrderYAML(bz, baseDir)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			depositStr, err := cmd.Flags().GetString(FlagDeposit)
			if err != nil {
				return err
			}
			if depositStr == "" {
				return fmt.Errorf("--%s is required: a coin in the order's denom, e.g. 10000000uusdc", FlagDeposit)
			}
			if msg.Deposit, err = ParseCoin("--"+FlagDeposit, depositStr); err != nil {
				return err
			}
			msg.Tenant = clientCtx.GetFromAddress().String()
			if v, ok := any(&msg).(sdk.HasValidateBasic); ok {
				if err := v.ValidateBasic(); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), &msg)
		},
	}
	cmd.Flags().String(FlagDeposit, "", "deposit moved into the order's escrow account (e.g. 10000000uusdc); required")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewCloseOrderCmd returns `close-order <tenant>/<seq>`.
func NewCloseOrderCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "close-order [tenant/seq]",
		Short:   "Withdraw an open order: its bids close and its deposit comes back",
		Example: "gpumeshd tx market close-order mesh1…/7 --from alice",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, id, err := tenantTx(cmd, args[0])
			if err != nil {
				return err
			}
			msg := &types.MsgCloseOrder{Tenant: id.Tenant, Seq: id.Seq}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewCreateBidCmd returns `create-bid <tenant>/<seq> <price> --gpus … --deposit …`.
func NewCreateBidCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create-bid [tenant/seq] [price-per-gpu-hour]",
		Short: "Bid on an order with a price per GPU-hour and the GPUs offered",
		Long: `Bid on an open order. The price is a coin in the order's denom, at most
its max_price_per_gpu_hour. --gpus lists the UUIDs offered: free GPUs of the
signer, of one class, grouped as the order asks (gpus_per_node on each of
nodes nodes). The GPUs are not locked: they are checked again when the bid
is chosen. --deposit is held while the bid is open (and, if it wins, until
the lease closes); it must be at least the bid_deposit param
('gpumeshd q market params'). On an instant order (bid_window 0) the first
valid bid becomes the lease in the same transaction.`,
		Example: "gpumeshd tx market create-bid mesh1…/7 2000000uusdc --gpus GPU-aaa,GPU-bbb --from provider1",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, id, err := idTx(cmd, args[0])
			if err != nil {
				return err
			}
			price, err := ParseCoin("price-per-gpu-hour", args[1])
			if err != nil {
				return err
			}
			gpus, err := cmd.Flags().GetStringSlice(FlagGPUs)
			if err != nil {
				return err
			}
			if len(gpus) == 0 {
				return fmt.Errorf("--%s is required: the UUIDs of the GPUs offered, comma-separated", FlagGPUs)
			}
			depositStr, err := cmd.Flags().GetString(FlagDeposit)
			if err != nil {
				return err
			}
			deposit, err := ParseCoin("--"+FlagDeposit, depositStr)
			if err != nil {
				return err
			}
			msg := &types.MsgCreateBid{
				Provider: clientCtx.GetFromAddress().String(), OrderId: id,
				PricePerGpuHour: price, Gpus: gpus, Deposit: deposit,
			}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	cmd.Flags().StringSlice(FlagGPUs, nil, "UUIDs of the GPUs offered, comma-separated; required")
	cmd.Flags().String(FlagDeposit, DefaultBidDeposit, "bid deposit; at least the bid_deposit param")
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewCloseBidCmd returns `close-bid <tenant>/<seq>`.
func NewCloseBidCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "close-bid [tenant/seq]",
		Short:   "Withdraw the signer's open bid on an order; its deposit comes back",
		Example: "gpumeshd tx market close-bid mesh1…/7 --from provider1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, id, err := idTx(cmd, args[0])
			if err != nil {
				return err
			}
			msg := &types.MsgCloseBid{Provider: clientCtx.GetFromAddress().String(), OrderId: id}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewAcceptBidCmd returns `accept-bid <tenant>/<seq> <provider>`.
func NewAcceptBidCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "accept-bid [tenant/seq] [provider]",
		Short: "Accept a provider's bid on the signer's order before the window ends: it becomes the lease",
		Long: `Accept a bid during the order's bid window. The bid is checked again
(provider eligible, GPUs still free and matching); it becomes the lease and
the other bids close. The signer must be the order's tenant.`,
		Example: "gpumeshd tx market accept-bid mesh1…/7 mesh1…provider --from alice",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, id, err := tenantTx(cmd, args[0])
			if err != nil {
				return err
			}
			provider, err := sdk.AccAddressFromBech32(args[1])
			if err != nil {
				return fmt.Errorf("provider %q: %w", args[1], err)
			}
			msg := &types.MsgAcceptBid{Tenant: id.Tenant, Seq: id.Seq, Provider: provider.String()}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewCloseLeaseCmd returns `close-lease <tenant>/<seq>`.
func NewCloseLeaseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "close-lease [tenant/seq]",
		Short: "Close an active lease as its tenant or its provider (a provider's close is slashed)",
		Long: `Close an active lease: the escrow settles, the provider is paid for the
time used (minus fees), the rest goes back to the tenant and the GPUs are
freed. The signer must be the tenant or the provider. A provider closing a
lease abandons it: the early-close slash applies, with the tenant as
beneficiary, and its reputation drops.`,
		Example: "gpumeshd tx market close-lease mesh1…/7 --from alice",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, id, err := idTx(cmd, args[0])
			if err != nil {
				return err
			}
			msg := &types.MsgCloseLease{Sender: clientCtx.GetFromAddress().String(), LeaseId: id}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// NewSetLeaseAccessCmd returns `set-lease-access <tenant>/<seq> <endpoint>`.
func NewSetLeaseAccessCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "set-lease-access [tenant/seq] [endpoint]",
		Short:   "Publish how the tenant reaches an active lease (the provider's sidecar does this)",
		Example: "gpumeshd tx market set-lease-access mesh1…/7 ssh://ubuntu@203.0.113.7:2201 --from provider1",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, id, err := idTx(cmd, args[0])
			if err != nil {
				return err
			}
			msg := &types.MsgSetLeaseAccess{Provider: clientCtx.GetFromAddress().String(), LeaseId: id, Endpoint: args[1]}
			return tx.GenerateOrBroadcastTxCLI(clientCtx, cmd.Flags(), msg)
		},
	}
	flags.AddTxFlagsToCmd(cmd)
	return cmd
}

// tenantTx reads the tx context and an order id that must belong to the
// signer (close-order, accept-bid: the tenant signs).
func tenantTx(cmd *cobra.Command, arg string) (client.Context, types.OrderID, error) {
	clientCtx, id, err := idTx(cmd, arg)
	if err != nil {
		return clientCtx, id, err
	}
	tenant := sdk.MustAccAddressFromBech32(id.Tenant)
	if from := clientCtx.GetFromAddress(); !tenant.Equals(from) {
		return clientCtx, types.OrderID{}, fmt.Errorf("order %s belongs to %s: sign with --from the tenant, not %s", id, tenant, from)
	}
	id.Tenant = tenant.String()
	return clientCtx, id, nil
}

// readOrderFile reads the order file, or stdin for "-", and returns the
// directory relative ssh_pubkey_file paths start from.
func readOrderFile(cmd *cobra.Command, path string) ([]byte, string, error) {
	if path == "-" {
		bz, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, "", fmt.Errorf("read order from stdin: %w", err)
		}
		return bz, ".", nil
	}
	bz, err := os.ReadFile(path) //nolint:gosec // the user names the file to read
	if err != nil {
		return nil, "", fmt.Errorf("read order: %w", err)
	}
	return bz, filepath.Dir(path), nil
}

// idTx reads the tx context (printing to the command's output) and the
// order or lease id written tenant/seq.
func idTx(cmd *cobra.Command, arg string) (client.Context, types.OrderID, error) {
	clientCtx, err := client.GetClientTxContext(cmd)
	if err != nil {
		return clientCtx, types.OrderID{}, err
	}
	clientCtx = clientCtx.WithOutput(cmd.OutOrStdout())
	id, err := types.ParseOrderID(arg)
	return clientCtx, id, err
}
