package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// ProviderHooks keeps a provider's reward weight in step with its
// inventory: a GPU removed, moved or changed loses its verified state in
// x/provider, and a provider that deregisters has no weight.
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
