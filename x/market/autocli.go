package market

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI generated from the Query and Msg services.
// Commands that take an order or lease id (written tenant/seq) and every tx
// command are hand-written in client/cli; autocli adds the list queries to
// the hand-written query command. autocli takes an enum flag as the value's
// name without the enum prefix, in lowercase with dashes: ORDER_STATE_OPEN
// is "--state open".
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service:              "gpumesh.market.v1.Query",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/market parameters"},
				{
					RpcMethod: "Orders", Use: "orders", Short: "List orders, filtered by state and tenant",
					Long: "List orders in (tenant, seq) order. --state takes open, matched, closed or expired " +
						"(ORDER_STATE_OPEN … without the prefix); --tenant takes an address or a key name. " +
						"A filtered page may hold fewer than --limit orders: follow next_key.",
					Example: "gpumeshd q market orders --state open\ngpumeshd q market orders --tenant alice",
				},
				{RpcMethod: "Order", Skip: true},     // hand-written: order <tenant>/<seq>
				{RpcMethod: "OrderBids", Skip: true}, // hand-written: order-bids <tenant>/<seq>
				{
					RpcMethod: "Bids", Use: "bids", Short: "List bids, filtered by provider and state",
					Long: "List bids. --state takes open, won or closed (BID_STATE_OPEN … without the prefix); " +
						"--provider takes an address or a key name. A bid its provider withdrew is deleted and not listed.",
					Example: "gpumeshd q market bids --provider provider1 --state open",
				},
				{
					RpcMethod: "Leases", Use: "leases", Short: "List leases, filtered by state, tenant and provider",
					Long: "List leases. --state takes active or closed (LEASE_STATE_ACTIVE … without the prefix); " +
						"--tenant and --provider take an address or a key name. A filtered page may hold fewer " +
						"than --limit leases: follow next_key.",
					Example: "gpumeshd q market leases --provider provider1 --state active",
				},
				{RpcMethod: "Lease", Skip: true}, // hand-written: lease <tenant>/<seq>
				{
					RpcMethod: "PriceIndex", Use: "price-index",
					Short:   "Show the average lease price per GPU-hour of each GPU class and denom",
					Long:    "Show the price index: per GPU class and payment denom, the exponentially weighted average of lease prices (base units per GPU-hour), the last price and the number of leases behind it.",
					Example: "gpumeshd q market price-index --gpu-class h100-sxm-80g --denom uusdc",
				},
				{
					RpcMethod: "Stats", Use: "stats",
					Short: "Show the market's running totals: orders, bids, leases; volume, GPU-seconds and fees per denom",
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              "gpumesh.market.v1.Msg",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Hand-written in client/cli: ids are written tenant/seq and
				// orders come from a YAML file.
				{RpcMethod: "CreateOrder", Skip: true},
				{RpcMethod: "CloseOrder", Skip: true},
				{RpcMethod: "CreateBid", Skip: true},
				{RpcMethod: "CloseBid", Skip: true},
				{RpcMethod: "AcceptBid", Skip: true},
				{RpcMethod: "CloseLease", Skip: true},
				{RpcMethod: "SetLeaseAccess", Skip: true},
				// Governance only: submitted inside a gov proposal.
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
