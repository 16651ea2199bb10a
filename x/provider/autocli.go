package provider

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI generated from the Query and Msg services.
// set-inventory is hand-written (it reads a file) and autocli adds the other
// tx commands to it.
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "gpumesh.provider.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/provider parameters (GPU classes, baseline, reputation)"},
				{
					RpcMethod: "Providers", Use: "providers", Short: "List providers, filtered by status, region and GPU class",
					Example: "gpumeshd q provider providers --gpu-class h100-sxm-80g --region US --status active",
				},
				{
					RpcMethod: "Provider", Use: "provider [owner]", Short: "Show one provider",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "owner"}},
				},
				{
					RpcMethod: "Inventory", Use: "inventory [owner]", Short: "Show a provider's nodes and GPUs",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "owner"}},
				},
				{
					RpcMethod: "GPU", Use: "gpu [uuid]", Short: "Show one GPU and where it is listed",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "uuid"}},
				},
				{RpcMethod: "Supply", Use: "supply", Short: "Show GPU supply per class: total, allocated, verified, available"},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              "gpumesh.provider.v1.Msg",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "RegisterProvider", Use: "register", Short: "Register the signer as a provider",
					Example: "gpumeshd tx provider register --moniker acme-gpu --host-uri https://gpu.acme.example:8443 " +
						"--region US-east1 --contact ops@acme.example --from provider1",
				},
				{
					RpcMethod: "UpdateProvider", Use: "update", Short: "Change provider details (flags left out keep their value)",
					Example: "gpumeshd tx provider update --host-uri https://gpu2.acme.example:8443 --from provider1",
				},
				{RpcMethod: "SetInventory", Skip: true}, // hand-written: reads a JSON file
				{
					RpcMethod: "DeregisterProvider", Use: "deregister",
					Short: "Deregister the signer: remove its inventory and start unbonding its collateral",
				},
				// Governance only: submitted inside a gov proposal.
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
