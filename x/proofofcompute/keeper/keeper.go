// Package keeper holds the state and the state transitions of
// x/proofofcompute: the epoch schedule of capacity challenges, the
// commit → open → reveal life of every challenge and its outcome, tenant
// disputes, usage reports and the capacity reward index.
package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Keeper owns the x/proofofcompute store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	// authority may change the params: the governance module account.
	authority string

	accountKeeper types.AccountKeeper
	bankKeeper    types.BankKeeper
	provider      types.ProviderKeeper
	stakingslash  types.StakingSlashKeeper
	market        types.MarketKeeper

	Schema collections.Schema
	Params collections.Item[types.Params]
	// ChallengeSeq numbers challenges from 1.
	ChallengeSeq collections.Sequence
	// Challenges: id → challenge.
	Challenges collections.Map[uint64, types.Challenge]
	// ProviderChallenges lists a provider's challenges.
	ProviderChallenges collections.KeySet[collections.Pair[sdk.AccAddress, uint64]]
	// OpenQueue: (opened height, id) of ISSUED and COMMITTED challenges:
	// the height whose block completes the openings.
	OpenQueue collections.KeySet[collections.Pair[int64, uint64]]
	// RevealQueue: (reveal deadline height, id) of OPENED challenges.
	RevealQueue collections.KeySet[collections.Pair[int64, uint64]]
	// NodeChallenge: (provider, node) → its unresolved capacity challenge.
	NodeChallenge collections.Map[collections.Pair[sdk.AccAddress, string], uint64]
	// Schedule: (height, provider, node) of planned capacity challenges.
	Schedule collections.KeySet[collections.Triple[int64, sdk.AccAddress, string]]
	// Cursor is how far the running epoch's schedule is built.
	Cursor collections.Item[types.ScheduleCursor]
	// Epochs: number → epoch; CurrentEpoch is the running one's number.
	Epochs       collections.Map[uint64, types.Epoch]
	CurrentEpoch collections.Item[uint64]
	// Pool and Rewards are the two sides of the reward index.
	Pool    collections.Item[types.RewardPool]
	Rewards collections.Map[sdk.AccAddress, types.ProviderReward]
	// Disputes: (tenant, seq, challenge id) → dispute; OpenDisputes:
	// (tenant, seq) → the open dispute's challenge id.
	Disputes     collections.Map[collections.Triple[sdk.AccAddress, uint64, uint64], types.Dispute]
	OpenDisputes collections.Map[collections.Pair[sdk.AccAddress, uint64], uint64]
	// Usage: (tenant, seq) → the lease's usage reports.
	Usage collections.Map[collections.Pair[sdk.AccAddress, uint64], types.LeaseUsage]
	// PendingFreeProofs: (challenge id, gpu index or commitMarker) admitted
	// without a fee, written only in CheckTx state.
	PendingFreeProofs collections.KeySet[collections.Pair[uint64, uint32]]
	// BlockHashes: height → header hash, the last KeepBlockHashes blocks.
	BlockHashes collections.Map[int64, []byte]
	// VerificationExpiry: (expiry height, provider, node) of nodes with GPUs
	// verified by a check; EndBlock unverifies the GPUs whose check expired.
	VerificationExpiry collections.KeySet[collections.Triple[int64, sdk.AccAddress, string]]
}

// NewKeeper builds the keeper. authority must be a valid address (the
// governance module account in the app).
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec, authority string,
	ak types.AccountKeeper, bk types.BankKeeper, pk types.ProviderKeeper, sk types.StakingSlashKeeper, mk types.MarketKeeper,
) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/%s: invalid authority %q: %w", types.ModuleName, authority, err))
	}
	if ak.GetModuleAddress(types.ModuleName) == nil {
		panic(fmt.Errorf("x/%s: the %s module account is not set", types.ModuleName, types.ModuleName))
	}
	sb := collections.NewSchemaBuilder(storeService)
	acc := sdk.AccAddressKey
	k := &Keeper{
		cdc:           cdc,
		storeService:  storeService,
		addressCodec:  addressCodec,
		authority:     authority,
		accountKeeper: ak,
		bankKeeper:    bk,
		provider:      pk,
		stakingslash:  sk,
		market:        mk,
		Params:        collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		ChallengeSeq:  collections.NewSequence(sb, types.ChallengeSeqKey, "challenge_seq"),
		Challenges: collections.NewMap(sb, types.ChallengesKey, "challenges", collections.Uint64Key,
			codec.CollValue[types.Challenge](cdc)),
		ProviderChallenges: collections.NewKeySet(sb, types.ProviderChallengesKey, "provider_challenges",
			collections.PairKeyCodec(acc, collections.Uint64Key)),
		OpenQueue: collections.NewKeySet(sb, types.OpenQueueKey, "open_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		RevealQueue: collections.NewKeySet(sb, types.RevealQueueKey, "reveal_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		NodeChallenge: collections.NewMap(sb, types.NodeChallengeKey, "node_challenge",
			collections.PairKeyCodec(acc, collections.StringKey), collections.Uint64Value),
		Schedule: collections.NewKeySet(sb, types.ScheduleKey, "schedule",
			collections.TripleKeyCodec(collections.Int64Key, acc, collections.StringKey)),
		Cursor:       collections.NewItem(sb, types.CursorKey, "cursor", codec.CollValue[types.ScheduleCursor](cdc)),
		Epochs:       collections.NewMap(sb, types.EpochsKey, "epochs", collections.Uint64Key, codec.CollValue[types.Epoch](cdc)),
		CurrentEpoch: collections.NewItem(sb, types.CurrentEpochKey, "current_epoch", collections.Uint64Value),
		Pool:         collections.NewItem(sb, types.RewardPoolKey, "reward_pool", codec.CollValue[types.RewardPool](cdc)),
		Rewards:      collections.NewMap(sb, types.RewardsKey, "rewards", acc, codec.CollValue[types.ProviderReward](cdc)),
		Disputes: collections.NewMap(sb, types.DisputesKey, "disputes",
			collections.TripleKeyCodec(acc, collections.Uint64Key, collections.Uint64Key), codec.CollValue[types.Dispute](cdc)),
		OpenDisputes: collections.NewMap(sb, types.OpenDisputesKey, "open_disputes",
			collections.PairKeyCodec(acc, collections.Uint64Key), collections.Uint64Value),
		Usage: collections.NewMap(sb, types.UsageKey, "usage",
			collections.PairKeyCodec(acc, collections.Uint64Key), codec.CollValue[types.LeaseUsage](cdc)),
		PendingFreeProofs: collections.NewKeySet(sb, types.PendingFreeProofsKey, "pending_free_proofs",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint32Key)),
		BlockHashes: collections.NewMap(sb, types.BlockHashesKey, "block_hashes", collections.Int64Key,
			collections.BytesValue),
		VerificationExpiry: collections.NewKeySet(sb, types.VerificationExpiryKey, "verification_expiry",
			collections.TripleKeyCodec(collections.Int64Key, acc, collections.StringKey)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the address allowed to change the params.
func (k *Keeper) Authority() string { return k.authority }

// GetParams returns the current params.
func (k *Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

// moduleAddress is the module account: dispute fees and unclaimed rewards.
func (k *Keeper) moduleAddress() sdk.AccAddress {
	return k.accountKeeper.GetModuleAddress(types.ModuleName)
}
