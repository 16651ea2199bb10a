package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// RequiredBond is the bond a provider listing gpus billable GPUs needs to
// bid: min_bond_per_gpu × gpus.
func (k *Keeper) RequiredBond(ctx context.Context, gpus uint32) (math.Int, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return math.Int{}, err
	}
	return params.RequiredBond(gpus), nil
}

// Bonded is the provider's bonded stake, zero when it has no record.
func (k *Keeper) Bonded(ctx context.Context, provider sdk.AccAddress) (math.Int, error) {
	c, _, err := k.collateral(ctx, provider)
	if err != nil {
		return math.Int{}, err
	}
	return c.Bonded, nil
}

// IsJailed reports whether the provider is jailed (until it sends
// MsgUnjail, even after jailed_until has passed).
func (k *Keeper) IsJailed(ctx context.Context, provider sdk.AccAddress) (bool, error) {
	c, _, err := k.collateral(ctx, provider)
	if err != nil {
		return false, err
	}
	return c.Jailed, nil
}

// IsEligible reports whether the provider may bid: registered, not jailed,
// and bonded at least RequiredBond(billable_gpus).
func (k *Keeper) IsEligible(ctx context.Context, provider sdk.AccAddress) (bool, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return false, err
	}
	c, _, err := k.collateral(ctx, provider)
	if err != nil {
		return false, err
	}
	return eligible(c, params), nil
}

// GetCollateral returns the provider's record and whether it exists; a
// missing record reads as the zero record (nothing bonded, not registered).
func (k *Keeper) GetCollateral(ctx context.Context, provider sdk.AccAddress) (types.Collateral, bool, error) {
	return k.collateral(ctx, provider)
}

// UnbondingEntriesOf returns the provider's open unbonding entries, oldest
// first.
func (k *Keeper) UnbondingEntriesOf(ctx context.Context, provider sdk.AccAddress) ([]types.UnbondingEntry, error) {
	iter, err := k.UnbondingEntries.Iterate(ctx, collections.NewPrefixedPairRange[sdk.AccAddress, uint64](provider))
	if err != nil {
		return nil, err
	}
	return iter.Values()
}

func eligible(c types.Collateral, params types.Params) bool {
	return c.Registered && !c.Jailed && c.Bonded.GTE(params.RequiredBond(c.BillableGpus))
}

// collateral loads a provider's record; a missing one is returned as a
// fresh zero record with found false.
func (k *Keeper) collateral(ctx context.Context, provider sdk.AccAddress) (types.Collateral, bool, error) {
	if len(provider) == 0 {
		return types.Collateral{}, false, fmt.Errorf("x/%s: empty provider address", types.ModuleName)
	}
	c, err := k.Collaterals.Get(ctx, provider)
	switch {
	case err == nil:
		return c, true, nil
	case errors.Is(err, collections.ErrNotFound):
		addr, err := k.addressCodec.BytesToString(provider)
		if err != nil {
			return types.Collateral{}, false, err
		}
		return types.Collateral{Provider: addr, Bonded: math.ZeroInt()}, false, nil
	default:
		return types.Collateral{}, false, err
	}
}

// hasEntries reports whether the provider has an open unbonding entry.
func (k *Keeper) hasEntries(ctx context.Context, provider sdk.AccAddress) (bool, error) {
	iter, err := k.UnbondingEntries.Iterate(ctx, collections.NewPrefixedPairRange[sdk.AccAddress, uint64](provider))
	if err != nil {
		return false, err
	}
	valid := iter.Valid()
	return valid, iter.Close()
}

// countEntries counts the provider's open unbonding entries.
func (k *Keeper) countEntries(ctx context.Context, provider sdk.AccAddress) (uint32, error) {
	iter, err := k.UnbondingEntries.Iterate(ctx, collections.NewPrefixedPairRange[sdk.AccAddress, uint64](provider))
	if err != nil {
		return 0, err
	}
	var n uint32
	for ; iter.Valid(); iter.Next() {
		n++
	}
	return n, iter.Close()
}

// saveCollateral stores a record, or deletes it when it carries nothing
// worth keeping: not registered, nothing bonded, not jailed, no recent
// missed commits and no open unbonding entries. A pruned provider that
// comes back starts a fresh record, with entry ids from 0 again.
func (k *Keeper) saveCollateral(ctx context.Context, provider sdk.AccAddress, c types.Collateral) error {
	if prunable(c) {
		has, err := k.hasEntries(ctx, provider)
		if err != nil {
			return err
		}
		if !has {
			return k.Collaterals.Remove(ctx, provider)
		}
	}
	return k.Collaterals.Set(ctx, provider, c)
}

// prunable reports whether a record holds nothing but (maybe) open
// unbonding entries, so that it can go once they have completed.
func prunable(c types.Collateral) bool {
	return !c.Registered && c.Bonded.IsZero() && !c.Jailed && len(c.MissedCommits) == 0
}

// update loads the provider's record, applies fn to it, stores (or prunes)
// it and emits EventEligibilityChanged when the provider gained or lost
// the right to bid. fn runs with the current params.
func (k *Keeper) update(ctx context.Context, provider sdk.AccAddress,
	fn func(c *types.Collateral, params types.Params) error,
) (types.Collateral, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Collateral{}, err
	}
	c, _, err := k.collateral(ctx, provider)
	if err != nil {
		return types.Collateral{}, err
	}
	before := eligible(c, params)
	if err := fn(&c, params); err != nil {
		return types.Collateral{}, err
	}
	if err := k.saveCollateral(ctx, provider, c); err != nil {
		return types.Collateral{}, err
	}
	if after := eligible(c, params); after != before {
		if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventEligibilityChanged{
			Provider: c.Provider,
			Eligible: after,
			Bonded:   c.Bonded,
			Required: params.RequiredBond(c.BillableGpus),
			Jailed:   c.Jailed,
		}); err != nil {
			return types.Collateral{}, err
		}
		if k.hooks != nil {
			if err := k.hooks.AfterEligibilityChanged(ctx, provider, after); err != nil {
				return types.Collateral{}, err
			}
		}
	}
	return c, nil
}
