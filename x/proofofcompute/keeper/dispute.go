package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// OpenDispute lets the tenant of an ACTIVE lease challenge the lease's
// GPUs. The fee (exactly the dispute_fee param) is held by the module
// until the challenge ends. One dispute per lease may be open at a time.
func (k *Keeper) OpenDispute(ctx context.Context, msg *types.MsgOpenDispute) (uint64, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return 0, err
	}
	if !msg.Fee.Equal(params.DisputeFee) {
		return 0, errorsmod.Wrapf(types.ErrInvalidFee, "fee must be the dispute_fee %s, got %s", params.DisputeFee, msg.Fee)
	}
	lease, err := k.market.GetLease(ctx, msg.LeaseId)
	if err != nil {
		return 0, err
	}
	if lease.Id.Tenant != msg.Tenant {
		return 0, errorsmod.Wrapf(types.ErrLeaseNotDisputable, "lease %s belongs to %s, not %s", msg.LeaseId, lease.Id.Tenant, msg.Tenant)
	}
	if lease.State != markettypes.LEASE_STATE_ACTIVE {
		return 0, errorsmod.Wrapf(types.ErrLeaseNotDisputable, "lease %s is %s", msg.LeaseId, lease.State)
	}
	key, err := msg.LeaseId.Key()
	if err != nil {
		return 0, err
	}
	if id, err := k.OpenDisputes.Get(ctx, key); err == nil {
		return 0, errorsmod.Wrapf(types.ErrDisputeOpen, "lease %s: dispute of challenge %d is still open", msg.LeaseId, id)
	} else if !errors.Is(err, collections.ErrNotFound) {
		return 0, err
	}
	provider, err := k.addressCodec.StringToBytes(lease.Provider)
	if err != nil {
		return 0, err
	}
	providerParams, err := k.provider.GetParams(ctx)
	if err != nil {
		return 0, err
	}
	var gpus []types.ChallengedGPU
	for _, uuid := range lease.Gpus {
		_, node, gpu, err := k.provider.GetGPU(ctx, uuid)
		if err != nil {
			return 0, err
		}
		gpus = append(gpus, challengedGPUs(providerParams, node.Id, []providertypes.GPU{gpu})...)
	}
	tenant := key.K1()
	if err := k.bankKeeper.SendCoinsFromAccountToModule(ctx, tenant, types.ModuleName, sdk.NewCoins(msg.Fee)); err != nil {
		return 0, errorsmod.Wrapf(err, "dispute fee %s", msg.Fee)
	}
	leaseID := lease.Id
	c, err := k.issue(ctx, params, types.CHALLENGE_KIND_DISPUTE, provider, "", gpus, &leaseID)
	if err != nil {
		return 0, err
	}
	d := types.Dispute{
		LeaseId: lease.Id, Tenant: msg.Tenant, Provider: lease.Provider, ChallengeId: c.Id, Fee: msg.Fee,
		State: types.DISPUTE_STATE_OPEN, OpenedHeight: sdkCtx.BlockHeight(),
		Slashed: math.ZeroInt(), TenantCompensation: math.ZeroInt(),
	}
	if err := k.Disputes.Set(ctx, collections.Join3(tenant, key.K2(), c.Id), d); err != nil {
		return 0, err
	}
	if err := k.OpenDisputes.Set(ctx, key, c.Id); err != nil {
		return 0, err
	}
	return c.Id, sdkCtx.EventManager().EmitTypedEvent(&types.EventDisputeOpened{
		LeaseId: lease.Id, Tenant: msg.Tenant, Provider: lease.Provider, ChallengeId: c.Id, Fee: msg.Fee,
	})
}

// closeDispute ends the dispute of challenge c: the fee goes to feeTo (the
// tenant when upheld, the provider when rejected).
func (k *Keeper) closeDispute(ctx context.Context, c types.Challenge, state types.DisputeState, feeTo sdk.AccAddress,
	slashed, compensation math.Int,
) error {
	key, err := c.LeaseId.Key()
	if err != nil {
		return err
	}
	dkey := collections.Join3(key.K1(), key.K2(), c.Id)
	d, err := k.Disputes.Get(ctx, dkey)
	if err != nil {
		return err
	}
	d.State = state
	d.ResolvedHeight = sdk.UnwrapSDKContext(ctx).BlockHeight()
	d.Slashed, d.TenantCompensation = slashed, compensation
	if err := k.Disputes.Set(ctx, dkey, d); err != nil {
		return err
	}
	if err := k.OpenDisputes.Remove(ctx, key); err != nil {
		return err
	}
	if err := k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.ModuleName, feeTo, sdk.NewCoins(d.Fee)); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventDisputeResolved{
		LeaseId: d.LeaseId, ChallengeId: c.Id, State: state, FeeTo: feeTo.String(),
	})
}
