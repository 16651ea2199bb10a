package escrow

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI generated from the Query and Msg services.
// deposit and withdraw are hand-written (they take ids written tenant/seq)
// and autocli adds nothing else to the tx command.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "gpumesh.escrow.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Params", Use: "params",
					Short:   "Show the x/escrow parameters (allowed denoms, take rates, reserve rate)",
					Example: "gpumeshd q escrow params",
				},
				{
					RpcMethod: "Account", Use: "account [tenant] [seq]",
					Short: "Show the escrow account of an order or lease, with what is owed right now",
					Long: "Show the escrow account tenant/seq: deposited, paid, refunded, balance, fees, the stream " +
						"(provider, price, GPUs, start, end), settled_at and runs_dry_at; unsettled is what a settlement " +
						"at the current block time would pay and available the balance left after it.",
					Example:        "gpumeshd q escrow account mesh1… 7",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "tenant"}, {ProtoField: "seq"}},
				},
				{
					RpcMethod: "Accounts", Use: "accounts [tenant]",
					Short:          "List a tenant's escrow accounts, closed ones included",
					Example:        "gpumeshd q escrow accounts mesh1… --limit 20",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "tenant"}},
				},
				{
					RpcMethod: "Totals", Use: "totals",
					Short:   "Show the running totals per denom: settled, take and reserve fees, refunded, GPU-seconds",
					Example: "gpumeshd q escrow totals",
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              "gpumesh.escrow.v1.Msg",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Hand-written in client/cli: ids are written tenant/seq.
				{RpcMethod: "Deposit", Skip: true},
				{RpcMethod: "Withdraw", Skip: true},
				// Governance only: submitted inside a gov proposal (see
				// the README for a MsgSpendReserve proposal).
				{RpcMethod: "UpdateParams", Skip: true},
				{RpcMethod: "SpendReserve", Skip: true},
			},
		},
	}
}
