package cli

import (
	"github.com/spf13/cobra"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// NewQueryCmd returns the query command of x/market with the queries that
// take an order or lease id; autocli adds params, orders, bids, leases,
// price-index and stats to it.
func NewQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "Market queries: orders, bids, leases, price index and stats",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(NewOrderCmd(), NewOrderBidsCmd(), NewLeaseCmd())
	return cmd
}

// NewOrderCmd returns `order <tenant>/<seq>`.
func NewOrderCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "order [tenant/seq]",
		Short:   "Show one order",
		Example: "gpumeshd q market order mesh1…/7",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			id, err := types.ParseOrderID(args[0])
			if err != nil {
				return err
			}
			res, err := types.NewQueryClient(clientCtx).Order(cmd.Context(),
				&types.QueryOrderRequest{Tenant: id.Tenant, Seq: id.Seq})
			if err != nil {
				return err
			}
			return clientCtx.PrintProto(res)
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}

// NewOrderBidsCmd returns `order-bids <tenant>/<seq>`.
func NewOrderBidsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "order-bids [tenant/seq]",
		Short:   "List the bids of one order (withdrawn bids are deleted and not listed)",
		Example: "gpumeshd q market order-bids mesh1…/7",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			id, err := types.ParseOrderID(args[0])
			if err != nil {
				return err
			}
			page, err := client.ReadPageRequest(cmd.Flags())
			if err != nil {
				return err
			}
			res, err := types.NewQueryClient(clientCtx).OrderBids(cmd.Context(),
				&types.QueryOrderBidsRequest{Tenant: id.Tenant, Seq: id.Seq, Pagination: page})
			if err != nil {
				return err
			}
			return clientCtx.PrintProto(res)
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	flags.AddPaginationFlagsToCmd(cmd, "order-bids")
	return cmd
}

// NewLeaseCmd returns `lease <tenant>/<seq>`.
func NewLeaseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "lease [tenant/seq]",
		Short:   "Show one lease with its escrow account (balance, paid, runs dry at) and access endpoint",
		Example: "gpumeshd q market lease mesh1…/7",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			id, err := types.ParseOrderID(args[0])
			if err != nil {
				return err
			}
			res, err := types.NewQueryClient(clientCtx).Lease(cmd.Context(),
				&types.QueryLeaseRequest{Tenant: id.Tenant, Seq: id.Seq})
			if err != nil {
				return err
			}
			return clientCtx.PrintProto(res)
		},
	}
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}
