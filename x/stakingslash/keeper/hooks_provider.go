package keeper

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// ProviderHooks are the x/provider hooks through which x/stakingslash
// mirrors each provider's registration and billable GPU count. They satisfy
// x/provider's types.ProviderHooks structurally; x/stakingslash does not
// import x/provider.
type ProviderHooks struct{ k *Keeper }

// ProviderHooks returns the hooks x/provider calls.
func (k *Keeper) ProviderHooks() ProviderHooks { return ProviderHooks{k: k} }

// AfterProviderRegistered marks the provider registered, creating its
// record (nothing bonded) when it has none.
func (h ProviderHooks) AfterProviderRegistered(ctx context.Context, owner sdk.AccAddress) error {
	_, err := h.k.update(ctx, owner, func(c *types.Collateral, _ types.Params) error {
		c.Registered = true
		return nil
	})
	return err
}

// AfterInventoryChanged records the number of billable GPUs, which sets
// the required bond.
func (h ProviderHooks) AfterInventoryChanged(ctx context.Context, owner sdk.AccAddress, billableGPUs uint32) error {
	_, err := h.k.update(ctx, owner, func(c *types.Collateral, _ types.Params) error {
		c.BillableGpus = billableGPUs
		return nil
	})
	return err
}

// BeforeProviderDeregistered never refuses a deregistration.
func (ProviderHooks) BeforeProviderDeregistered(context.Context, sdk.AccAddress) error { return nil }

// AfterProviderDeregistered marks the provider unregistered with no
// billable GPUs and starts unbonding its whole bonded stake. Deregistration
// must not fail, so when the provider already has max_unbonding_entries
// open entries the stake joins its newest entry instead of opening another
// (whose completion moves to unbonding_time from now): registering and
// deregistering in a loop cannot grow the entries a slash walks. The stake
// stays slashable for unbonding_time either way.
func (h ProviderHooks) AfterProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error {
	_, err := h.k.update(ctx, owner, func(c *types.Collateral, params types.Params) error {
		c.Registered = false
		c.BillableGpus = 0
		if !c.Bonded.IsPositive() {
			return nil
		}
		entries, err := h.k.UnbondingEntriesOf(ctx, owner)
		if err != nil {
			return err
		}
		if uint32(len(entries)) < params.MaxUnbondingEntries { //nolint:gosec // at most the limit here
			_, err := h.k.startUnbonding(ctx, owner, c, c.Bonded, params)
			return err
		}
		return h.k.joinNewestEntry(ctx, owner, c, entries[len(entries)-1], params)
	})
	return err
}

// AfterGPUAllocationChanged implements providertypes.ProviderHooks.
func (ProviderHooks) AfterGPUAllocationChanged(context.Context, sdk.AccAddress) error { return nil }
