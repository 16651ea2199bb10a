package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Capacity rewards use a cumulative reward-per-weight index, like
// x/distribution's F1: each block's share of the epoch's issuance raises
// the pool's index by issuance / total weight (O(1) per block); a
// provider's share since its last update is weight × (index − its
// snapshot), computed only when its weight changes, when it claims or when
// it is queried. All shares are exact decimals (an integer weight times an
// 18-decimal index), so the shares always sum to what was minted minus the
// carry.

// pool returns the reward pool, zero-valued before the first epoch.
func (k *Keeper) pool(ctx context.Context) (types.RewardPool, error) {
	p, err := k.Pool.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.NewRewardPool(), nil
	}
	return p, err
}

// providerReward returns a provider's record, zero-valued when it has none.
func (k *Keeper) providerReward(ctx context.Context, provider sdk.AccAddress, pool types.RewardPool) (types.ProviderReward, error) {
	r, err := k.Rewards.Get(ctx, provider)
	if errors.Is(err, collections.ErrNotFound) {
		return types.NewProviderReward(provider.String(), pool.Index), nil
	}
	return r, err
}

// settle brings r's accrued reward up to the pool's index.
func settle(pool types.RewardPool, r *types.ProviderReward) {
	if r.Weight > 0 {
		r.Accrued = r.Accrued.Add(pool.Index.Sub(r.IndexSnapshot).MulInt(math.NewIntFromUint64(r.Weight)))
	}
	r.IndexSnapshot = pool.Index
}

// RewardOf returns a provider's reward record brought up to date, without
// writing it.
func (k *Keeper) RewardOf(ctx context.Context, provider sdk.AccAddress) (types.ProviderReward, error) {
	pool, err := k.pool(ctx)
	if err != nil {
		return types.ProviderReward{}, err
	}
	r, err := k.providerReward(ctx, provider, pool)
	if err != nil {
		return r, err
	}
	settle(pool, &r)
	return r, nil
}

// verifiedWeight is what a provider's capacity earns per unit of the
// reward index: the sum of the class reward weights of its GPUs that are
// verified (a check passed less than verification_ttl_blocks ago) and idle
// (a leased GPU is paid by its lease), and only while the provider is
// active and eligible in x/stakingslash (registered, not jailed, bonded at
// least min_bond_per_gpu for every billable GPU). It reads one row per
// class the provider lists, never its GPUs.
func (k *Keeper) verifiedWeight(ctx context.Context, provider sdk.AccAddress) (uint64, error) {
	active, err := k.isActive(ctx, provider)
	if err != nil || !active {
		return 0, err
	}
	eligible, err := k.stakingslash.IsEligible(ctx, provider)
	if err != nil || !eligible {
		return 0, err
	}
	counts, err := k.provider.EarningGPUsOf(ctx, provider)
	if err != nil || len(counts) == 0 {
		return 0, err
	}
	params, err := k.provider.GetParams(ctx)
	if err != nil {
		return 0, err
	}
	var w uint64
	for _, c := range counts {
		if class, ok := params.Class(c.Class); ok {
			w += uint64(class.RewardWeight) * c.Count
		}
	}
	return w, nil
}

// refreshWeight recomputes a provider's weight from its verified GPUs,
// settling what it earned at the old weight first. It costs O(GPUs of that
// provider) and runs only when something about them changed.
func (k *Keeper) refreshWeight(ctx context.Context, provider sdk.AccAddress) error {
	w, err := k.verifiedWeight(ctx, provider)
	if err != nil {
		return err
	}
	pool, err := k.pool(ctx)
	if err != nil {
		return err
	}
	r, err := k.providerReward(ctx, provider, pool)
	if err != nil {
		return err
	}
	if r.Weight == w {
		return nil
	}
	settle(pool, &r)
	pool.TotalWeight = pool.TotalWeight - r.Weight + w
	r.Weight = w
	if err := k.Pool.Set(ctx, pool); err != nil {
		return err
	}
	return k.Rewards.Set(ctx, provider, r)
}

// distribute mints issuance (one block's share of the epoch's budget) and
// raises the index by (issuance + carry) / total weight, rounded down to
// 18 decimals; what rounding leaves is carried to the next block. Nothing
// is minted while no weight is verified.
func (k *Keeper) distribute(ctx context.Context, issuance sdk.Coin) (sdk.Coin, uint64, error) {
	pool, err := k.pool(ctx)
	if err != nil {
		return issuance, 0, err
	}
	if pool.TotalWeight == 0 || !issuance.IsPositive() {
		return sdk.NewCoin(issuance.Denom, math.ZeroInt()), pool.TotalWeight, nil
	}
	if pool.Denom == "" {
		pool.Denom = issuance.Denom
	}
	if pool.Denom != issuance.Denom {
		return issuance, 0, errorsmod.Wrapf(types.ErrInvalidParams, "base_reward denom %s differs from the reward pool's %s",
			issuance.Denom, pool.Denom)
	}
	if err := k.bankKeeper.MintCoins(ctx, types.ModuleName, sdk.NewCoins(issuance)); err != nil {
		return issuance, 0, err
	}
	pool.Minted = pool.Minted.Add(issuance.Amount)
	total := pool.Carry.Add(math.LegacyNewDecFromInt(issuance.Amount))
	weight := math.NewIntFromUint64(pool.TotalWeight)
	delta := total.QuoTruncate(math.LegacyNewDecFromInt(weight))
	pool.Index = pool.Index.Add(delta)
	pool.Carry = total.Sub(delta.MulInt(weight))
	return issuance, pool.TotalWeight, k.Pool.Set(ctx, pool)
}

// Claim pays the provider the whole part of its accrued reward; the
// fraction stays accrued.
func (k *Keeper) Claim(ctx context.Context, provider sdk.AccAddress) (sdk.Coin, error) {
	pool, err := k.pool(ctx)
	if err != nil {
		return sdk.Coin{}, err
	}
	r, err := k.providerReward(ctx, provider, pool)
	if err != nil {
		return sdk.Coin{}, err
	}
	settle(pool, &r)
	amount := r.Accrued.TruncateInt()
	if !amount.IsPositive() || pool.Denom == "" {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrNothingToClaim, "provider %s has accrued %s", provider, r.Accrued)
	}
	r.Accrued = r.Accrued.Sub(math.LegacyNewDecFromInt(amount))
	r.Claimed = r.Claimed.Add(amount)
	pool.Claimed = pool.Claimed.Add(amount)
	if err := k.Rewards.Set(ctx, provider, r); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.Pool.Set(ctx, pool); err != nil {
		return sdk.Coin{}, err
	}
	coin := sdk.NewCoin(pool.Denom, amount)
	if err := k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.ModuleName, provider, sdk.NewCoins(coin)); err != nil {
		return sdk.Coin{}, err
	}
	return coin, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventRewardsClaimed{
		Provider: provider.String(), Amount: coin,
	})
}
