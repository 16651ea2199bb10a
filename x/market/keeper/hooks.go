package keeper

// TEMPORARY: replaced by the market implementation.
import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

type ProviderHooks struct{ k *Keeper }

func (k *Keeper) ProviderHooks() ProviderHooks { return ProviderHooks{k: k} }
func (h ProviderHooks) AfterProviderRegistered(ctx context.Context, owner sdk.AccAddress) error {
	return nil
}
func (h ProviderHooks) AfterInventoryChanged(ctx context.Context, owner sdk.AccAddress, billableGPUs uint32) error {
	return nil
}
func (h ProviderHooks) BeforeProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error {
	return nil
}
func (h ProviderHooks) AfterProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error {
	return nil
}
func (k *Keeper) CheckInvariants(ctx context.Context) error { return nil }
