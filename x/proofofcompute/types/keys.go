package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key, its route and
	// its module account (which holds dispute fees and unclaimed rewards).
	ModuleName = "proofofcompute"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. Never reuse or renumber a prefix: it is the on-disk
// key of existing state.
var (
	ParamsKey = collections.NewPrefix(0)
	// ChallengeSeqKey is the id sequence of challenges.
	ChallengeSeqKey = collections.NewPrefix(1)
	// ChallengesKey: id → Challenge.
	ChallengesKey = collections.NewPrefix(2)
	// ProviderChallengesKey: (provider, id) for per-provider listings.
	ProviderChallengesKey = collections.NewPrefix(3)
	// OpenQueueKey: (opened height, id) of challenges not yet opened.
	OpenQueueKey = collections.NewPrefix(4)
	// RevealQueueKey: (reveal deadline height, id) of opened challenges.
	RevealQueueKey = collections.NewPrefix(5)
	// NodeChallengeKey: (provider, node id) → id of the node's unresolved
	// capacity challenge.
	NodeChallengeKey = collections.NewPrefix(6)
	// ScheduleKey: (height, provider, node id) of planned capacity
	// challenges.
	ScheduleKey = collections.NewPrefix(7)
	// CursorKey: how far the running epoch's schedule is built.
	CursorKey = collections.NewPrefix(8)
	// EpochsKey: number → Epoch.
	EpochsKey = collections.NewPrefix(9)
	// CurrentEpochKey: the running epoch's number.
	CurrentEpochKey = collections.NewPrefix(10)
	// RewardPoolKey: the global reward index.
	RewardPoolKey = collections.NewPrefix(11)
	// RewardsKey: provider → ProviderReward.
	RewardsKey = collections.NewPrefix(12)
	// DisputesKey: (tenant, seq, challenge id) → Dispute.
	DisputesKey = collections.NewPrefix(13)
	// OpenDisputesKey: (tenant, seq) → challenge id of the lease's open
	// dispute.
	OpenDisputesKey = collections.NewPrefix(14)
	// UsageKey: (tenant, seq) → LeaseUsage.
	UsageKey = collections.NewPrefix(15)
	// PendingFreeProofsKey marks, in the CheckTx state only, proofs already
	// admitted without a fee (see FreeProofTx); never written in a block.
	PendingFreeProofsKey = collections.NewPrefix(16)
	// BlockHashesKey: height → header hash of the last KeepBlockHashes
	// blocks, for the multi-block openings.
	BlockHashesKey = collections.NewPrefix(17)
	// VerificationExpiryKey: (expiry height, provider, node id) of nodes
	// whose GPUs passed a check, so EndBlock unverifies them when the check
	// expires.
	VerificationExpiryKey = collections.NewPrefix(18)
)
