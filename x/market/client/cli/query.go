package cli

import (
	"github.com/cosmos/gogoproto/proto"
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

// idQuery builds a query command whose one argument is an order or lease
// id written tenant/seq; run sends the query and returns the response.
func idQuery(use, short, example string,
	run func(cmd *cobra.Command, q types.QueryClient, id types.OrderID) (proto.Message, error),
) *cobra.Command {
	return &cobra.Command{
		Use:     use + " [tenant/seq]",
		Short:   short,
		Example: example,
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
			res, err := run(cmd, types.NewQueryClient(clientCtx), id)
			if err != nil {
				return err
			}
			return clientCtx.PrintProto(res)
		},
	}
}

// NewOrderCmd returns `order <tenant>/<seq>`.
func NewOrderCmd() *cobra.Command {
	cmd := idQuery("order", "Show one order", "gpumeshd q market order mesh1…/7",
		func(cmd *cobra.Command, q types.QueryClient, id types.OrderID) (proto.Message, error) {
			return q.Order(cmd.Context(), &types.QueryOrderRequest{Tenant: id.Tenant, Seq: id.Seq})
		})
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}

// NewOrderBidsCmd returns `order-bids <tenant>/<seq>`.
func NewOrderBidsCmd() *cobra.Command {
	cmd := idQuery("order-bids", "List the bids of one order (withdrawn bids are deleted and not listed)",
		"gpumeshd q market order-bids mesh1…/7",
		func(cmd *cobra.Command, q types.QueryClient, id types.OrderID) (proto.Message, error) {
			page, err := client.ReadPageRequest(cmd.Flags())
			if err != nil {
				return nil, err
			}
			return q.OrderBids(cmd.Context(), &types.QueryOrderBidsRequest{Tenant: id.Tenant, Seq: id.Seq, Pagination: page})
		})
	flags.AddQueryFlagsToCmd(cmd)
	flags.AddPaginationFlagsToCmd(cmd, "order-bids")
	return cmd
}

// NewLeaseCmd returns `lease <tenant>/<seq>`.
func NewLeaseCmd() *cobra.Command {
	cmd := idQuery("lease", "Show one lease with its escrow account (balance, paid, runs dry at) and access endpoint",
		"gpumeshd q market lease mesh1…/7",
		func(cmd *cobra.Command, q types.QueryClient, id types.OrderID) (proto.Message, error) {
			return q.Lease(cmd.Context(), &types.QueryLeaseRequest{Tenant: id.Tenant, Seq: id.Seq})
		})
	flags.AddQueryFlagsToCmd(cmd)
	return cmd
}
