package keeper

import (
	"context"
	"errors"
	"sort"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// finish takes a resolved challenge out of the queues and indexes that
// only hold unresolved ones and stores it.
func (k *Keeper) finish(ctx context.Context, c types.Challenge, state types.ChallengeState, failure string) (types.Challenge, error) {
	provider, err := k.addressCodec.StringToBytes(c.Provider)
	if err != nil {
		return c, err
	}
	if err := k.OpenQueue.Remove(ctx, collections.Join(c.OpenedHeight(), c.Id)); err != nil {
		return c, err
	}
	if err := k.RevealQueue.Remove(ctx, collections.Join(c.RevealDeadlineHeight, c.Id)); err != nil {
		return c, err
	}
	if c.Kind == types.CHALLENGE_KIND_CAPACITY {
		nodeKey := collections.Join(sdk.AccAddress(provider), c.NodeId)
		if id, err := k.NodeChallenge.Get(ctx, nodeKey); err == nil && id == c.Id {
			if err := k.NodeChallenge.Remove(ctx, nodeKey); err != nil {
				return c, err
			}
		}
	}
	c.State = state
	c.Failure = failure
	c.ResolvedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
		return c, err
	}
	return c, k.countEpoch(ctx, func(e *types.Epoch) {
		switch state {
		case types.CHALLENGE_STATE_PASSED:
			e.ChallengesPassed++
		case types.CHALLENGE_STATE_MISSED:
			e.ChallengesMissed++
		default:
			e.ChallengesFailed++
		}
	})
}

// resolvePass: every GPU opened correctly. The GPUs the provider still
// lists on the same node with the same class become verified (until
// verification_ttl_blocks from now), its
// reputation rises after a capacity check, its reward weight is brought up
// to date; a dispute's fee goes to the provider.
func (k *Keeper) resolvePass(ctx context.Context, c types.Challenge) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c, err := k.finish(ctx, c, types.CHALLENGE_STATE_PASSED, "")
	if err != nil {
		return err
	}
	provider := sdk.MustAccAddressFromBech32(c.Provider)
	uuids := make([]string, len(c.Gpus))
	for i, g := range c.Gpus {
		uuids[i] = g.Uuid
	}
	active, err := k.isActive(ctx, provider)
	if err != nil {
		return err
	}
	if active {
		listed, err := k.unchangedGPUs(ctx, provider, c)
		if err != nil {
			return err
		}
		if len(listed) > 0 {
			if err := k.provider.SetGPUsVerified(ctx, provider, listed, true); err != nil {
				return err
			}
			if err := k.queueExpiry(ctx, provider, c, listed); err != nil {
				return err
			}
		}
		// Only capacity checks, which the chain schedules, raise the
		// reputation: a provider could dispute its own lease from a second
		// account as often as it likes (the fee comes back on a pass).
		if c.Kind == types.CHALLENGE_KIND_CAPACITY {
			if _, err := k.provider.ApplyReputationEvent(ctx, provider, providertypes.REPUTATION_EVENT_PROOF_PASSED); err != nil {
				return err
			}
		}
	}
	if err := k.refreshWeight(ctx, provider); err != nil {
		return err
	}
	if c.Kind == types.CHALLENGE_KIND_DISPUTE {
		if err := k.closeDispute(ctx, c, types.DISPUTE_STATE_REJECTED, provider, math.ZeroInt(), math.ZeroInt()); err != nil {
			return err
		}
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengePassed{
		Id: c.Id, Kind: c.Kind, Provider: c.Provider, Gpus: uuids,
	})
}

// resolveFailure applies the outcome table to a challenge that failed
// (state FAILED: a wrong reveal or no reveal in the window) or was missed
// (state MISSED: no commitment); unopened says the reveal window ran out:
//
//   - capacity, missed: counted by x/stakingslash toward the missed-commit
//     limit (slashed and jailed when it is reached); the challenged GPUs
//     lose their verified state;
//   - capacity, failed: slashed and jailed (wrong opening, or unopened
//     commitment); every GPU of the provider loses its verified state;
//     the leases on the challenged node are closed PROVIDER_SLASHED;
//   - dispute, failed or missed: slashed for a failed dispute with the
//     tenant as beneficiary and jailed; the lease is closed DISPUTE_LOST
//     (refunding the tenant's escrow); the fee goes back to the tenant.
//
// Reputation falls in every case.
func (k *Keeper) resolveFailure(ctx context.Context, c types.Challenge, state types.ChallengeState, reason string, unopened bool) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c, err := k.finish(ctx, c, state, reason)
	if err != nil {
		return err
	}
	provider := sdk.MustAccAddressFromBech32(c.Provider)

	var infraction stakingslashtypes.Infraction
	var beneficiaries []stakingslashtypes.Beneficiary
	var tenant sdk.AccAddress
	switch {
	case c.Kind == types.CHALLENGE_KIND_DISPUTE:
		infraction = stakingslashtypes.INFRACTION_DISPUTE_FAILED
		tenant = sdk.MustAccAddressFromBech32(c.LeaseId.Tenant)
		beneficiaries = []stakingslashtypes.Beneficiary{{Address: tenant, Role: stakingslashtypes.BENEFICIARY_ROLE_TENANT}}
	case state == types.CHALLENGE_STATE_MISSED:
		infraction = stakingslashtypes.INFRACTION_MISSED_COMMIT
	case unopened:
		infraction = stakingslashtypes.INFRACTION_UNOPENED_COMMIT
	default:
		infraction = stakingslashtypes.INFRACTION_WRONG_OPENING
	}
	res, err := k.stakingslash.Slash(ctx, provider, infraction, c.IssueHeight, beneficiaries...)
	if err != nil {
		return err
	}

	active, err := k.isActive(ctx, provider)
	if err != nil {
		return err
	}
	if active {
		var unverify []string
		if c.Kind == types.CHALLENGE_KIND_CAPACITY && state == types.CHALLENGE_STATE_MISSED {
			uuids := make([]string, len(c.Gpus))
			for i, g := range c.Gpus {
				uuids[i] = g.Uuid
			}
			unverify, err = k.listedGPUs(ctx, provider, uuids)
		} else {
			unverify, err = k.verifiedGPUs(ctx, provider)
		}
		if err != nil {
			return err
		}
		if len(unverify) > 0 {
			if err := k.provider.SetGPUsVerified(ctx, provider, unverify, false); err != nil {
				return err
			}
		}
		event := providertypes.REPUTATION_EVENT_PROOF_FAILED
		if c.Kind == types.CHALLENGE_KIND_DISPUTE {
			event = providertypes.REPUTATION_EVENT_DISPUTE_LOST
		}
		if _, err := k.provider.ApplyReputationEvent(ctx, provider, event); err != nil {
			return err
		}
	}
	if err := k.refreshWeight(ctx, provider); err != nil {
		return err
	}

	var closed []string
	switch {
	case c.Kind == types.CHALLENGE_KIND_DISPUTE:
		ok, err := k.closeIfActive(ctx, *c.LeaseId, markettypes.LEASE_CLOSE_REASON_DISPUTE_LOST)
		if err != nil {
			return err
		}
		if ok {
			closed = append(closed, c.LeaseId.String())
		}
		compensation := math.ZeroInt()
		for _, p := range res.Payouts {
			if p.Address == tenant.String() && p.Role == stakingslashtypes.BENEFICIARY_ROLE_TENANT {
				compensation = compensation.Add(p.Amount)
			}
		}
		if err := k.closeDispute(ctx, c, types.DISPUTE_STATE_UPHELD, tenant, res.Total, compensation); err != nil {
			return err
		}
	case state == types.CHALLENGE_STATE_FAILED && active:
		closed, err = k.closeNodeLeases(ctx, provider, c.NodeId)
		if err != nil {
			return err
		}
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengeFailed{
		Id: c.Id, Kind: c.Kind, Provider: c.Provider, State: state, Reason: reason, Slashed: res.Total,
		LeasesClosed: closed,
	})
}

// isActive reports whether the provider is registered and active; a
// provider that deregistered has no GPUs to mark and no reputation to move.
func (k *Keeper) isActive(ctx context.Context, provider sdk.AccAddress) (bool, error) {
	p, err := k.provider.GetProvider(ctx, provider)
	if err != nil {
		if errors.Is(err, providertypes.ErrProviderNotFound) {
			return false, nil
		}
		return false, err
	}
	return p.Status == providertypes.PROVIDER_STATUS_ACTIVE, nil
}

// listedGPUs keeps the UUIDs still listed by provider.
func (k *Keeper) listedGPUs(ctx context.Context, provider sdk.AccAddress, uuids []string) ([]string, error) {
	owner := provider.String()
	out := make([]string, 0, len(uuids))
	for _, u := range uuids {
		loc, _, _, err := k.provider.GetGPU(ctx, u)
		if err != nil {
			if errors.Is(err, providertypes.ErrGPUNotFound) {
				continue
			}
			return nil, err
		}
		if loc.Owner == owner {
			out = append(out, u)
		}
	}
	return out, nil
}

// unchangedGPUs keeps the challenged GPUs that provider still lists on
// the node and with the class the challenge was issued for: a pass proves
// the work of the class's n and m on that node, nothing more. A GPU
// relisted as a dearer class, or moved to another node, between the issue
// and the pass is not verified by it (it waits for a check of its own).
func (k *Keeper) unchangedGPUs(ctx context.Context, provider sdk.AccAddress, c types.Challenge) ([]string, error) {
	owner := provider.String()
	out := make([]string, 0, len(c.Gpus))
	for _, g := range c.Gpus {
		loc, _, listed, err := k.provider.GetGPU(ctx, g.Uuid)
		if err != nil {
			if errors.Is(err, providertypes.ErrGPUNotFound) {
				continue
			}
			return nil, err
		}
		if loc.Owner == owner && loc.NodeId == g.NodeId && listed.Class == g.Class {
			out = append(out, g.Uuid)
		}
	}
	return out, nil
}

// verifiedGPUs lists the provider's GPUs that are verified now.
func (k *Keeper) verifiedGPUs(ctx context.Context, provider sdk.AccAddress) ([]string, error) {
	nodes, err := k.provider.GetInventory(ctx, provider)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nodes {
		for _, g := range n.Gpus {
			if g.Verified {
				out = append(out, g.Uuid)
			}
		}
	}
	return out, nil
}

// closeIfActive closes a lease that is still ACTIVE.
func (k *Keeper) closeIfActive(ctx context.Context, id markettypes.OrderID, reason markettypes.LeaseCloseReason) (bool, error) {
	l, err := k.market.GetLease(ctx, id)
	if err != nil {
		if errors.Is(err, markettypes.ErrLeaseNotFound) {
			return false, nil
		}
		return false, err
	}
	if l.State != markettypes.LEASE_STATE_ACTIVE {
		return false, nil
	}
	return true, k.market.CloseLease(ctx, id, reason)
}

// closeNodeLeases closes every lease holding a GPU of the node; the node's
// capacity claim was just shown false.
func (k *Keeper) closeNodeLeases(ctx context.Context, provider sdk.AccAddress, nodeID string) ([]string, error) {
	node, found, err := k.provider.GetNode(ctx, provider, nodeID)
	if err != nil || !found {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, g := range node.Gpus {
		if g.AllocatedTo != "" && !seen[g.AllocatedTo] {
			seen[g.AllocatedTo] = true
			ids = append(ids, g.AllocatedTo)
		}
	}
	sort.Strings(ids)
	var closed []string
	for _, s := range ids {
		id, err := markettypes.ParseOrderID(s)
		if err != nil {
			return nil, err
		}
		ok, err := k.closeIfActive(ctx, id, markettypes.LEASE_CLOSE_REASON_PROVIDER_SLASHED)
		if err != nil {
			return nil, err
		}
		if ok {
			closed = append(closed, s)
		}
	}
	return closed, nil
}
