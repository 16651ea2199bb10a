package proofofcompute

import (
	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
)

// AutoCLIOptions describes the CLI generated from the Query and Msg services.
// Every query and claim-rewards come from autocli; the commands that compute
// proofs or take a lease id (written tenant/seq) are hand-written in
// client/cli. autocli takes an enum flag as the value's name without the
// enum prefix, in lowercase: CHALLENGE_STATE_OPENED is "--state opened".
func (AppModule) AutoCLIOptions() *autocliv1.ModuleOptions {
	return &autocliv1.ModuleOptions{
		Query: &autocliv1.ServiceCommandDescriptor{
			Service: "gpumesh.proofofcompute.v1.Query",
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{RpcMethod: "Params", Use: "params", Short: "Show the x/proofofcompute parameters"},
				{
					RpcMethod: "Challenges", Use: "challenges", Short: "List challenges, filtered by provider and state",
					Long: "List challenges by id (--reverse for newest first). --state takes issued, committed, opened, " +
						"passed, failed or missed; --provider takes an address or a key name.",
					Example: "gpumeshd q proofofcompute challenges --provider provider1 --state opened",
				},
				{
					RpcMethod: "Challenge", Use: "challenge [id]",
					Short:          "Show a challenge and, once opened, the entries each GPU must open",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "id"}},
				},
				{
					RpcMethod: "CurrentEpoch", Use: "current-epoch",
					Short: "Show the running epoch: GPU-seconds so far, challenge counts, the schedule's progress",
				},
				{
					RpcMethod: "Epoch", Use: "epoch [number]", Short: "Show an epoch: issuance, utilization, challenges",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "number"}},
				},
				{RpcMethod: "Epochs", Use: "epochs", Short: "List epochs with their issuance and utilization"},
				{
					RpcMethod: "Rewards", Use: "rewards [provider]",
					Short:          "Show a provider's capacity reward weight, accrued and claimable rewards",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "provider"}},
				},
				{RpcMethod: "RewardPool", Use: "reward-pool", Short: "Show the reward index and totals minted and claimed"},
				{
					RpcMethod: "Usage", Use: "usage [tenant] [seq]", Short: "Show the usage reports of a lease",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "tenant"}, {ProtoField: "seq"}},
				},
				{
					RpcMethod: "Disputes", Use: "disputes [tenant] [seq]", Short: "List the disputes of a lease",
					PositionalArgs: []*autocliv1.PositionalArgDescriptor{{ProtoField: "tenant"}, {ProtoField: "seq"}},
				},
			},
		},
		Tx: &autocliv1.ServiceCommandDescriptor{
			Service:              "gpumesh.proofofcompute.v1.Msg",
			EnhanceCustomCommand: true,
			RpcCommandOptions: []*autocliv1.RpcCommandOptions{
				{
					RpcMethod: "ClaimRewards", Use: "claim-rewards",
					Short:   "Pay the signing provider its accrued capacity rewards (whole units)",
					Example: "gpumeshd tx proofofcompute claim-rewards --from provider1",
				},
				// Hand-written in client/cli: they compute proofs or take a
				// lease id written tenant/seq.
				{RpcMethod: "CommitProof", Skip: true},
				{RpcMethod: "RevealProof", Skip: true},
				{RpcMethod: "OpenDispute", Skip: true},
				{RpcMethod: "ReportUsage", Skip: true},
				// Governance only: submitted inside a gov proposal.
				{RpcMethod: "UpdateParams", Skip: true},
			},
		},
	}
}
