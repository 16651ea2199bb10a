package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// GetPriceIndex returns the price index entry of a GPU class in a denom.
func (k *Keeper) GetPriceIndex(ctx context.Context, class, denom string) (types.PriceIndexEntry, bool, error) {
	e, err := k.PriceIndex.Get(ctx, collections.Join(class, denom))
	if errors.Is(err, collections.ErrNotFound) {
		return e, false, nil
	}
	return e, err == nil, err
}

// updatePriceIndex feeds a lease price into the index of (class, denom):
// the first lease sets the price; after that
// new = old + (price − old) × price_index_weight_bps / 10000,
// an exponentially weighted average in LegacyDec (18 decimals).
func (k *Keeper) updatePriceIndex(ctx context.Context, class string, price sdk.Coin) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	e, found, err := k.GetPriceIndex(ctx, class, price.Denom)
	if err != nil {
		return err
	}
	p := math.LegacyNewDecFromInt(price.Amount)
	if !found {
		e = types.PriceIndexEntry{GpuClass: class, Denom: price.Denom, Price: p}
	} else {
		e.Price = e.Price.Add(p.Sub(e.Price).MulInt64(int64(params.PriceIndexWeightBps)).QuoInt64(types.BasisPoints))
	}
	e.LastPrice = price.Amount
	e.Leases++
	e.UpdatedAt = blockTime(ctx)
	if err := k.PriceIndex.Set(ctx, collections.Join(class, price.Denom), e); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventPriceIndexUpdated{
		GpuClass: class, Denom: price.Denom, Price: e.Price,
	})
}
