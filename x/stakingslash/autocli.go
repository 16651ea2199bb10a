package stakingslash

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI generated from the Query and Msg
// services. The signer of every transaction (the provider) comes from
// --from.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "gpumesh.stakingslash.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Params",
					Use:       "params",
					Short:     "Show the x/stakingslash parameters",
					Example:   "gpumeshd query stakingslash params",
				},
				{
					RpcMethod: "Bond",
					Use:       "bond [provider]",
					Short:     "Show a provider's bond, unbonding entries, jail, required bond and eligibility",
					Example:   "gpumeshd query stakingslash bond mesh1...",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "provider"},
					},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: "gpumesh.stakingslash.v1.Msg",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "Bond",
					Use:       "bond [amount]",
					Short:     "Bond collateral (in the bond denom) for the registered provider signing with --from",
					Long: "Moves the amount from the provider's account into x/stakingslash. A provider needs " +
						"min_bond_per_gpu × its billable GPUs bonded (see 'query stakingslash bond') to bid.",
					Example: "gpumeshd tx stakingslash bond 800000000umesh --from provider1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "amount"},
					},
				},
				{
					RpcMethod: "Unbond",
					Use:       "unbond [amount]",
					Short:     "Start unbonding collateral; it is paid out after unbonding_time and stays slashable until then",
					Example:   "gpumeshd tx stakingslash unbond 100000000umesh --from provider1",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{
						{ProtoField: "amount"},
					},
				},
				{
					RpcMethod: "Unjail",
					Use:       "unjail",
					Short:     "Lift the jail of the provider signing with --from once its jail period is over",
					Example:   "gpumeshd tx stakingslash unjail --from provider1",
				},
				// Governance only: submitted inside a gov proposal.
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
