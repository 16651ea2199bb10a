package provider

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI generated from the Query and Msg services.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "gpumesh.provider.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/provider parameters"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service: "gpumesh.provider.v1.Msg",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				// Governance only: submitted inside a gov proposal.
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
