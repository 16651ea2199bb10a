package keeper

import (
	"context"
	"errors"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// GetLease returns a lease by id.
func (k *Keeper) GetLease(ctx context.Context, id types.OrderID) (types.Lease, error) {
	key, err := id.Key()
	if err != nil {
		return types.Lease{}, err
	}
	l, err := k.Leases.Get(ctx, key)
	if errors.Is(err, collections.ErrNotFound) {
		return l, errorsmod.Wrapf(types.ErrLeaseNotFound, "lease %s", id)
	}
	return l, err
}

// HasActiveLeases reports whether the provider has an ACTIVE lease.
func (k *Keeper) HasActiveLeases(ctx context.Context, provider sdk.AccAddress) (bool, error) {
	n, err := k.activeLeasesOf(ctx, provider)
	return n > 0, err
}

func (k *Keeper) activeLeasesOf(ctx context.Context, provider sdk.AccAddress) (uint64, error) {
	n, err := k.ProviderActiveLeases.Get(ctx, provider)
	if errors.Is(err, collections.ErrNotFound) {
		return 0, nil
	}
	return n, err
}

// startLease makes bid the lease of order: the GPUs are allocated in
// x/provider (all or nothing), the lease is stored (and queued at its end
// when it has a duration), the escrow stream starts, the bid is WON (its
// deposit stays held until the lease closes) and the order MATCHED. The
// caller closes the order's other bids and stores the order.
func (k *Keeper) startLease(ctx context.Context, key types.OrderKey, order *types.Order, bid types.Bid, class, how string) error {
	providerBz, err := k.addressCodec.StringToBytes(bid.Provider)
	if err != nil {
		return err
	}
	provider := sdk.AccAddress(providerBz)
	id := order.Id
	if err := k.provider.AllocateGPUs(ctx, provider, id.String(), bid.Gpus); err != nil {
		return err
	}
	now := blockTime(ctx)
	lease := types.Lease{
		Id:              id,
		Provider:        bid.Provider,
		Gpus:            bid.Gpus,
		GpuClass:        class,
		PricePerGpuHour: bid.PricePerGpuHour,
		StartTime:       now,
		State:           types.LEASE_STATE_ACTIVE,
	}
	if order.DurationSeconds > 0 {
		lease.EndTime = now.Add(time.Duration(order.DurationSeconds) * time.Second) //nolint:gosec // ≤ MaxSecondsLimit
		if err := k.LeaseEndQueue.Set(ctx, timeKey(lease.EndTime, key)); err != nil {
			return err
		}
	}
	if err := k.Leases.Set(ctx, key, lease); err != nil {
		return err
	}
	if _, err := k.escrow.StartStream(ctx, key.K1(), key.K2(), provider, bid.PricePerGpuHour.Amount,
		uint32(len(bid.Gpus)), order.DurationSeconds); err != nil { //nolint:gosec // at most MaxGPUsPerBid
		return err
	}

	bid.State = types.BID_STATE_WON
	bid.GpuClass = class
	if err := k.Bids.Set(ctx, bidKey(key, provider), bid); err != nil {
		return err
	}
	order.OpenBids--
	order.State = types.ORDER_STATE_MATCHED
	order.ClosedAt = now
	if err := k.WindowQueue.Remove(ctx, timeKey(order.WindowEnd, key)); err != nil {
		return err
	}

	active, err := k.activeLeasesOf(ctx, provider)
	if err != nil {
		return err
	}
	if err := k.ProviderActiveLeases.Set(ctx, provider, active+1); err != nil {
		return err
	}
	if err := k.updateCounters(ctx, func(c *types.Counters) {
		c.LeasesStarted++
		c.ActiveLeases++
	}); err != nil {
		return err
	}
	if err := k.updatePriceIndex(ctx, class, bid.PricePerGpuHour); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventLeaseStarted{
		Id: id, Provider: bid.Provider, Gpus: bid.Gpus, GpuClass: class,
		PricePerGpuHour: bid.PricePerGpuHour, How: how, EndTime: lease.EndTime,
	})
}

// CloseLease ends an ACTIVE lease for reason: the escrow account is
// settled at the block time (capped by the lease's end and its funds), the
// provider paid minus fees and the tenant refunded the rest; the GPUs are
// released; the winning bid's deposit is returned. A lease closed by its
// tenant, by its duration or for insufficient funds counts as completed in
// the provider's reputation, a lease closed by its provider as an early
// close; x/proofofcompute, which closes leases with PROVIDER_SLASHED and
// DISPUTE_LOST, applies its own reputation events.
func (k *Keeper) CloseLease(ctx context.Context, id types.OrderID, reason types.LeaseCloseReason) error {
	if _, ok := types.LeaseCloseReason_name[int32(reason)]; !ok || reason == types.LEASE_CLOSE_REASON_UNSPECIFIED {
		return errorsmod.Wrapf(types.ErrInvalidCloseReason, "reason %s", reason)
	}
	key, err := id.Key()
	if err != nil {
		return err
	}
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return err
	}
	if lease.State != types.LEASE_STATE_ACTIVE {
		return errorsmod.Wrapf(types.ErrLeaseNotActive, "lease %s is %s (%s)", id, lease.State, lease.CloseReason)
	}
	providerBz, err := k.addressCodec.StringToBytes(lease.Provider)
	if err != nil {
		return err
	}
	provider := sdk.AccAddress(providerBz)

	account, err := k.escrow.CloseAccount(ctx, key.K1(), key.K2())
	if err != nil {
		return err
	}
	if err := k.provider.ReleaseGPUs(ctx, provider, id.String(), lease.Gpus); err != nil {
		return err
	}
	if !lease.EndTime.IsZero() {
		if err := k.LeaseEndQueue.Remove(ctx, timeKey(lease.EndTime, key)); err != nil {
			return err
		}
	}
	lease.State = types.LEASE_STATE_CLOSED
	lease.CloseReason = reason
	lease.ClosedAt = blockTime(ctx)
	if err := k.Leases.Set(ctx, key, lease); err != nil {
		return err
	}

	bk := bidKey(key, provider)
	bid, err := k.Bids.Get(ctx, bk)
	if err != nil {
		return errorsmod.Wrapf(err, "winning bid of lease %s", id)
	}
	if _, err := k.escrow.ReleaseBidDeposit(ctx, key.K1(), key.K2(), provider); err != nil {
		return err
	}
	bid.State = types.BID_STATE_CLOSED
	bid.CloseReason = types.BID_CLOSE_REASON_LEASE_CLOSED
	if err := k.Bids.Set(ctx, bk, bid); err != nil {
		return err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBidClosed{
		OrderId: id, Provider: lease.Provider, Reason: types.BID_CLOSE_REASON_LEASE_CLOSED,
	}); err != nil {
		return err
	}

	active, err := k.activeLeasesOf(ctx, provider)
	if err != nil {
		return err
	}
	if active <= 1 {
		err = k.ProviderActiveLeases.Remove(ctx, provider)
	} else {
		err = k.ProviderActiveLeases.Set(ctx, provider, active-1)
	}
	if err != nil {
		return err
	}
	if err := k.updateCounters(ctx, func(c *types.Counters) {
		c.ActiveLeases--
		c.LeasesClosed++
	}); err != nil {
		return err
	}

	switch reason {
	case types.LEASE_CLOSE_REASON_TENANT, types.LEASE_CLOSE_REASON_EXPIRED, types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS:
		var scale uint32
		if scale, err = k.completedLeaseWeight(ctx, lease, account.Denom, account.Paid); err != nil {
			return err
		}
		_, err = k.provider.ApplyReputationEventScaled(ctx, provider, providertypes.REPUTATION_EVENT_LEASE_COMPLETED, scale)
	case types.LEASE_CLOSE_REASON_PROVIDER:
		_, err = k.provider.ApplyReputationEvent(ctx, provider, providertypes.REPUTATION_EVENT_EARLY_CLOSE)
	}
	if err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventLeaseClosed{
		Id: id, Provider: lease.Provider, Reason: reason,
		Paid:     sdk.Coin{Denom: account.Denom, Amount: account.Paid},
		Refunded: sdk.Coin{Denom: account.Denom, Amount: account.Refunded},
	})
}

// completedLeaseWeight is how much a completed lease moves its provider's
// reputation, in basis points of the lease_completed step:
// min(1, paid / reputation_lease_value[denom]) × min(1, duration /
// reputation_lease_seconds). A lease to one's own second account pays take
// and reserve fees on what it pays, so a full step costs the self-dealer
// those fees on reputation_lease_value, and a cheap or short lease moves
// the score by almost nothing. A denom without a value earns no step.
func (k *Keeper) completedLeaseWeight(ctx context.Context, lease types.Lease, denom string, paid math.Int) (uint32, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	value := params.ReputationLeaseValue.AmountOf(denom)
	if !value.IsPositive() || !paid.IsPositive() || params.ReputationLeaseSeconds == 0 {
		return 0, nil
	}
	valueBps := uint64(types.BasisPoints)
	if paid.LT(value) {
		valueBps = paid.MulRaw(types.BasisPoints).Quo(value).Uint64() // < BasisPoints
	}
	end := lease.ClosedAt
	if !lease.EndTime.IsZero() && lease.EndTime.Before(end) {
		end = lease.EndTime // closed late by the per-block cap: the lease ran to its end
	}
	durBps := uint64(types.BasisPoints)
	if d := end.Unix() - lease.StartTime.Unix(); d < int64(params.ReputationLeaseSeconds) { //nolint:gosec // ≤ MaxSecondsLimit
		durBps = uint64(max(d, 0)) * types.BasisPoints / params.ReputationLeaseSeconds
	}
	return uint32(valueBps * durBps / types.BasisPoints), nil //nolint:gosec // ≤ BasisPoints
}

// dueReason is EXPIRED when an ACTIVE lease's end time has passed and
// INSUFFICIENT_FUNDS when its escrow has run dry (in that order, as
// EndBlock closes them), UNSPECIFIED while it is not due.
func (k *Keeper) dueReason(ctx context.Context, lease types.Lease) (types.LeaseCloseReason, error) {
	now := blockTime(ctx)
	if !lease.EndTime.IsZero() && !now.Before(lease.EndTime) {
		return types.LEASE_CLOSE_REASON_EXPIRED, nil
	}
	key, err := lease.Id.Key()
	if err != nil {
		return types.LEASE_CLOSE_REASON_UNSPECIFIED, err
	}
	account, err := k.escrow.GetAccount(ctx, key.K1(), key.K2())
	if err != nil {
		return types.LEASE_CLOSE_REASON_UNSPECIFIED, err
	}
	if !account.RunsDryAt.IsZero() && !now.Before(account.RunsDryAt) {
		return types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS, nil
	}
	return types.LEASE_CLOSE_REASON_UNSPECIFIED, nil
}

// CloseLeaseBy closes an ACTIVE lease at the request of one of its parties.
// The tenant closes with reason TENANT. The provider closes with reason
// PROVIDER and is slashed for INFRACTION_EARLY_CLOSE, with the tenant as
// beneficiary: a lease that is not yet due is abandoned. A lease already
// due (past its end time or its escrow's runs_dry_at, waiting for EndBlock's
// per-block cap) closes EXPIRED or INSUFFICIENT_FUNDS for either party,
// without a slash. Providers should not take open-ended orders they cannot
// serve.
func (k *Keeper) CloseLeaseBy(ctx context.Context, sender sdk.AccAddress, id types.OrderID) error {
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return err
	}
	tenant, err := k.addressCodec.StringToBytes(id.Tenant)
	if err != nil {
		return err
	}
	provider, err := k.addressCodec.StringToBytes(lease.Provider)
	if err != nil {
		return err
	}
	var reason types.LeaseCloseReason
	switch {
	case sender.Equals(sdk.AccAddress(tenant)):
		reason = types.LEASE_CLOSE_REASON_TENANT
	case sender.Equals(sdk.AccAddress(provider)):
		reason = types.LEASE_CLOSE_REASON_PROVIDER
	default:
		return errorsmod.Wrapf(types.ErrUnauthorized, "sender %s is neither the tenant nor the provider of lease %s", sender, id)
	}
	// A lease already due (its end time or its escrow's runs_dry_at has
	// passed, and EndBlock's per-block cap has not reached it yet) closes
	// for that reason, whoever asks: closing it is no abandonment.
	if due, err := k.dueReason(ctx, lease); err != nil {
		return err
	} else if due != types.LEASE_CLOSE_REASON_UNSPECIFIED {
		reason = due
	}
	if err := k.CloseLease(ctx, id, reason); err != nil {
		return err
	}
	if reason != types.LEASE_CLOSE_REASON_PROVIDER {
		return nil
	}
	_, err = k.stakingslash.Slash(ctx, sender, stakingslashtypes.INFRACTION_EARLY_CLOSE, sdk.UnwrapSDKContext(ctx).BlockHeight(),
		stakingslashtypes.Beneficiary{Address: tenant, Role: stakingslashtypes.BENEFICIARY_ROLE_TENANT})
	return err
}

// SetLeaseAccess publishes how the tenant reaches the GPUs of an ACTIVE
// lease; only its provider may, and may change it while the lease runs.
func (k *Keeper) SetLeaseAccess(ctx context.Context, provider sdk.AccAddress, id types.OrderID, endpoint string) error {
	key, err := id.Key()
	if err != nil {
		return err
	}
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return err
	}
	leaseProvider, err := k.addressCodec.StringToBytes(lease.Provider)
	if err != nil {
		return err
	}
	if !provider.Equals(sdk.AccAddress(leaseProvider)) {
		return errorsmod.Wrapf(types.ErrUnauthorized, "provider %s is not the provider of lease %s (%s is)", provider, id, lease.Provider)
	}
	if lease.State != types.LEASE_STATE_ACTIVE {
		return errorsmod.Wrapf(types.ErrLeaseNotActive, "lease %s is %s (%s)", id, lease.State, lease.CloseReason)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if err := params.CheckEndpointScheme(endpoint); err != nil {
		return err
	}
	lease.AccessEndpoint = endpoint
	if err := k.Leases.Set(ctx, key, lease); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventLeaseAccessSet{
		Id: id, Provider: lease.Provider, Endpoint: endpoint,
	})
}
