package keeper

import (
	"context"
	"time"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// A provider's reward weight follows everything it depends on, in the
// block where it changes, through hooks (one way, no direct calls from the
// other modules): x/provider's hooks for its inventory, registration and
// GPU allocations (a GPU removed, moved or changed loses its verified
// state; a leased GPU earns nothing; a deregistered provider has no
// weight), and x/stakingslash's hooks for its collateral (a jail, a slash,
// a bond or unbond that changes whether the provider is eligible). The
// weight is recomputed from state each time (refreshWeight), so a hook
// that fires twice changes nothing.

// ProviderHooks keeps a provider's reward weight in step with its
// inventory and its GPUs' allocations.
type ProviderHooks struct{ k *Keeper }

var _ providertypes.ProviderHooks = ProviderHooks{}

// ProviderHooks returns the x/provider hooks of x/proofofcompute.
func (k *Keeper) ProviderHooks() ProviderHooks { return ProviderHooks{k: k} }

// AfterProviderRegistered implements providertypes.ProviderHooks.
func (h ProviderHooks) AfterProviderRegistered(ctx context.Context, owner sdk.AccAddress) error {
	return h.k.refreshWeight(ctx, owner)
}

// AfterInventoryChanged recomputes the provider's reward weight.
func (h ProviderHooks) AfterInventoryChanged(ctx context.Context, owner sdk.AccAddress, _ uint32) error {
	return h.k.refreshWeight(ctx, owner)
}

// BeforeProviderDeregistered implements providertypes.ProviderHooks.
func (h ProviderHooks) BeforeProviderDeregistered(context.Context, sdk.AccAddress) error { return nil }

// AfterProviderDeregistered drops the provider's weight to zero (what it
// earned so far stays claimable).
func (h ProviderHooks) AfterProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error {
	return h.k.refreshWeight(ctx, owner)
}

// AfterGPUAllocationChanged recomputes the weight: GPUs leased or released.
func (h ProviderHooks) AfterGPUAllocationChanged(ctx context.Context, owner sdk.AccAddress) error {
	return h.k.refreshWeight(ctx, owner)
}

// StakingSlashHooks keeps a provider's reward weight in step with its
// collateral: only an eligible provider (registered, not jailed, bonded at
// least min_bond_per_gpu for every billable GPU) earns.
type StakingSlashHooks struct{ k *Keeper }

var _ stakingslashtypes.StakingSlashHooks = StakingSlashHooks{}

// StakingSlashHooks returns the x/stakingslash hooks of x/proofofcompute.
func (k *Keeper) StakingSlashHooks() StakingSlashHooks { return StakingSlashHooks{k: k} }

// AfterProviderSlashed recomputes the weight (a slash may leave the bond
// short of what the GPUs require).
func (h StakingSlashHooks) AfterProviderSlashed(ctx context.Context, provider sdk.AccAddress,
	_ stakingslashtypes.Infraction, _ math.Int,
) error {
	return h.k.refreshWeight(ctx, provider)
}

// AfterProviderJailed drops the weight to zero.
func (h StakingSlashHooks) AfterProviderJailed(ctx context.Context, provider sdk.AccAddress, _ time.Time) error {
	return h.k.refreshWeight(ctx, provider)
}

// AfterEligibilityChanged recomputes the weight: bonded, unbonded,
// unjailed, slashed or its required bond changed.
func (h StakingSlashHooks) AfterEligibilityChanged(ctx context.Context, provider sdk.AccAddress, _ bool) error {
	return h.k.refreshWeight(ctx, provider)
}
