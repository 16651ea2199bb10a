package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// NextReputation moves a score a fraction bps/10000 of the way towards
// target (10000 for good events, 0 for bad ones), rounding towards the old
// score: an exponentially weighted average of event outcomes.
func NextReputation(old, target, bps uint32) uint32 {
	if target >= old {
		return old + uint32(uint64(target-old)*uint64(bps)/types.BasisPoints) //nolint:gosec // at most target-old
	}
	return old - uint32(uint64(old-target)*uint64(bps)/types.BasisPoints) //nolint:gosec // at most old-target
}

// ApplyReputationEvent moves a provider's reputation by one event and
// counts it in the provider's stats. Other modules call it: x/proofofcompute
// for proofs and disputes, x/market for lease ends and early closes. It
// works on deregistered providers too, so a score follows its owner.
func (k *Keeper) ApplyReputationEvent(ctx context.Context, owner sdk.AccAddress, event types.ReputationEvent) (uint32, error) {
	return k.ApplyReputationEventScaled(ctx, owner, event, types.BasisPoints)
}

// ApplyReputationEventScaled is ApplyReputationEvent with the event's step
// scaled by scaleBps/10000 (at most 10000): x/market weighs a completed
// lease by what it paid and how long it ran, so a cheap lease to one's own
// second account barely moves the score. The event is counted in the stats
// whatever its weight.
func (k *Keeper) ApplyReputationEventScaled(ctx context.Context, owner sdk.AccAddress, event types.ReputationEvent,
	scaleBps uint32,
) (uint32, error) {
	if scaleBps > types.BasisPoints {
		return 0, errorsmod.Wrapf(types.ErrInvalidReputation, "scale %d bps is above %d", scaleBps, types.BasisPoints)
	}
	p, err := k.GetProvider(ctx, owner)
	if err != nil {
		return 0, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	r := params.Reputation
	var target, bps uint32
	switch event {
	case types.REPUTATION_EVENT_PROOF_PASSED:
		target, bps = types.MaxReputation, r.ProofPassedBps
		p.Stats.ProofsPassed++
	case types.REPUTATION_EVENT_PROOF_FAILED:
		target, bps = 0, r.ProofFailedBps
		p.Stats.ProofsFailed++
	case types.REPUTATION_EVENT_LEASE_COMPLETED:
		target, bps = types.MaxReputation, r.LeaseCompletedBps
		p.Stats.LeasesCompleted++
	case types.REPUTATION_EVENT_EARLY_CLOSE:
		target, bps = 0, r.EarlyCloseBps
		p.Stats.EarlyCloses++
	case types.REPUTATION_EVENT_DISPUTE_LOST:
		target, bps = 0, r.DisputeLostBps
		p.Stats.DisputesLost++
	default:
		return 0, errorsmod.Wrapf(types.ErrInvalidReputation, "event %s", event)
	}
	bps = uint32(uint64(bps) * uint64(scaleBps) / types.BasisPoints) //nolint:gosec // at most bps
	old := p.Reputation
	p.Reputation = NextReputation(old, target, bps)
	if err := k.Providers.Set(ctx, owner, p); err != nil {
		return 0, err
	}
	return p.Reputation, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventReputationChanged{
		Owner: p.Owner, Event: event, OldReputation: old, NewReputation: p.Reputation,
	})
}
