package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// ProviderHooks lets x/provider ask x/market before a provider
// deregisters: it is refused while the provider has active leases.
type ProviderHooks struct{ k *Keeper }

var _ providertypes.ProviderHooks = ProviderHooks{}

// ProviderHooks returns the x/provider hooks of x/market.
func (k *Keeper) ProviderHooks() ProviderHooks { return ProviderHooks{k: k} }

// AfterProviderRegistered implements providertypes.ProviderHooks.
func (h ProviderHooks) AfterProviderRegistered(context.Context, sdk.AccAddress) error { return nil }

// AfterInventoryChanged implements providertypes.ProviderHooks.
func (h ProviderHooks) AfterInventoryChanged(context.Context, sdk.AccAddress, uint32) error {
	return nil
}

// BeforeProviderDeregistered refuses the deregistration of a provider with
// active leases.
func (h ProviderHooks) BeforeProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error {
	n, err := h.k.activeLeasesOf(ctx, owner)
	if err != nil {
		return err
	}
	if n > 0 {
		return errorsmod.Wrapf(types.ErrProviderHasLeases, "provider %s has %d active leases; they must close first", owner, n)
	}
	return nil
}

// AfterProviderDeregistered implements providertypes.ProviderHooks.
func (h ProviderHooks) AfterProviderDeregistered(context.Context, sdk.AccAddress) error { return nil }

// AfterGPUAllocationChanged implements providertypes.ProviderHooks.
func (ProviderHooks) AfterGPUAllocationChanged(context.Context, sdk.AccAddress) error { return nil }
