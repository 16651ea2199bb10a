package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// InitGenesis imports a validated genesis state and rebuilds the indexes:
// per-provider challenge lists, the open and reveal queues, the node →
// open challenge map, the open disputes and the verification queue. The
// recent block hashes are not exported: a challenge imported between its
// opening blocks draws the segments of blocks before the import from the
// hash of the block that opens it.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	if err := k.ChallengeSeq.Set(ctx, gs.NextChallengeId-1); err != nil {
		return err
	}
	for _, c := range gs.Challenges {
		provider, err := k.addressCodec.StringToBytes(c.Provider)
		if err != nil {
			return err
		}
		if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
			return err
		}
		if err := k.ProviderChallenges.Set(ctx, collections.Join(sdk.AccAddress(provider), c.Id)); err != nil {
			return err
		}
		switch c.State {
		case types.CHALLENGE_STATE_ISSUED, types.CHALLENGE_STATE_COMMITTED:
			err = k.OpenQueue.Set(ctx, collections.Join(c.OpenedHeight(), c.Id))
		case types.CHALLENGE_STATE_OPENED:
			err = k.RevealQueue.Set(ctx, collections.Join(c.RevealDeadlineHeight, c.Id))
		}
		if err != nil {
			return err
		}
		if !c.Resolved() && c.Kind == types.CHALLENGE_KIND_CAPACITY {
			if err := k.NodeChallenge.Set(ctx, collections.Join(sdk.AccAddress(provider), c.NodeId), c.Id); err != nil {
				return err
			}
		}
	}
	for _, s := range gs.Schedule {
		provider, err := k.addressCodec.StringToBytes(s.Provider)
		if err != nil {
			return err
		}
		if err := k.Schedule.Set(ctx, collections.Join3(s.Height, sdk.AccAddress(provider), s.NodeId)); err != nil {
			return err
		}
	}
	for _, e := range gs.Epochs {
		if err := k.Epochs.Set(ctx, e.Number, e); err != nil {
			return err
		}
	}
	if n := len(gs.Epochs); n > 0 {
		if err := k.CurrentEpoch.Set(ctx, uint64(n)); err != nil {
			return err
		}
		if err := k.Cursor.Set(ctx, gs.Cursor); err != nil {
			return err
		}
	}
	if err := k.Pool.Set(ctx, gs.RewardPool); err != nil {
		return err
	}
	for _, r := range gs.Rewards {
		provider, err := k.addressCodec.StringToBytes(r.Provider)
		if err != nil {
			return err
		}
		if err := k.Rewards.Set(ctx, provider, r); err != nil {
			return err
		}
	}
	for _, d := range gs.Disputes {
		key, err := d.LeaseId.Key()
		if err != nil {
			return err
		}
		if err := k.Disputes.Set(ctx, collections.Join3(key.K1(), key.K2(), d.ChallengeId), d); err != nil {
			return err
		}
		if d.State == types.DISPUTE_STATE_OPEN {
			if err := k.OpenDisputes.Set(ctx, key, d.ChallengeId); err != nil {
				return err
			}
		}
	}
	for _, u := range gs.Usage {
		key, err := u.LeaseId.Key()
		if err != nil {
			return err
		}
		if err := k.Usage.Set(ctx, key, u); err != nil {
			return err
		}
	}
	// The verification queue is derived from x/provider's verified GPUs,
	// imported before this module.
	return k.rebuildExpiry(ctx, gs.Params)
}

// ExportGenesis exports the module state; the indexes are left out and
// rebuilt on import.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := k.ChallengeSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params, NextChallengeId: seq + 1}
	if err := k.Challenges.Walk(ctx, nil, func(_ uint64, c types.Challenge) (bool, error) {
		gs.Challenges = append(gs.Challenges, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Schedule.Walk(ctx, nil, func(key collections.Triple[int64, sdk.AccAddress, string]) (bool, error) {
		gs.Schedule = append(gs.Schedule, types.ScheduleEntry{Height: key.K1(), Provider: key.K2().String(), NodeId: key.K3()})
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.Cursor, err = k.Cursor.Get(ctx); err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	if err := k.Epochs.Walk(ctx, nil, func(_ uint64, e types.Epoch) (bool, error) {
		gs.Epochs = append(gs.Epochs, e)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if gs.RewardPool, err = k.pool(ctx); err != nil {
		return nil, err
	}
	if err := k.Rewards.Walk(ctx, nil, func(_ sdk.AccAddress, r types.ProviderReward) (bool, error) {
		gs.Rewards = append(gs.Rewards, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Disputes.Walk(ctx, nil, func(_ collections.Triple[sdk.AccAddress, uint64, uint64], d types.Dispute) (bool, error) {
		gs.Disputes = append(gs.Disputes, d)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Usage.Walk(ctx, nil, func(_ collections.Pair[sdk.AccAddress, uint64], u types.LeaseUsage) (bool, error) {
		gs.Usage = append(gs.Usage, u)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
