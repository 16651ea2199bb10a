package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// TODO(stakingslash): temporary stub replaced by the real hooks.
type ProviderHooks struct{ k *Keeper }

// ProviderHooks returns the hooks x/provider calls.
func (k *Keeper) ProviderHooks() ProviderHooks { return ProviderHooks{k: k} }

func (h ProviderHooks) AfterProviderRegistered(context.Context, sdk.AccAddress) error { return nil }
func (h ProviderHooks) AfterInventoryChanged(context.Context, sdk.AccAddress, uint32) error {
	return nil
}
func (h ProviderHooks) BeforeProviderDeregistered(context.Context, sdk.AccAddress) error { return nil }
func (h ProviderHooks) AfterProviderDeregistered(context.Context, sdk.AccAddress) error  { return nil }
