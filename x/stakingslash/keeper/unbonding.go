package keeper

import (
	"context"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// startUnbonding moves amount from c's bonded stake into a new unbonding
// entry that completes unbonding_time from now, queues it and emits
// EventUnbondingStarted. The caller checks amount against the bonded stake
// and the entry limit, and stores c.
func (k *Keeper) startUnbonding(ctx context.Context, provider sdk.AccAddress, c *types.Collateral,
	amount math.Int, params types.Params,
) (types.UnbondingEntry, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	entry := types.UnbondingEntry{
		Provider:       c.Provider,
		Id:             c.NextUnbondingId,
		CreationHeight: sdkCtx.BlockHeight(),
		CompletionTime: sdkCtx.BlockTime().UTC().Add(params.UnbondingTime),
		InitialBalance: amount,
		Balance:        amount,
	}
	c.NextUnbondingId++
	c.Bonded = c.Bonded.Sub(amount)
	if err := k.setEntry(ctx, provider, entry); err != nil {
		return types.UnbondingEntry{}, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventUnbondingStarted{
		Provider:       entry.Provider,
		EntryId:        entry.Id,
		Amount:         amount,
		CompletionTime: entry.CompletionTime,
	}); err != nil {
		return types.UnbondingEntry{}, err
	}
	return entry, nil
}

// joinNewestEntry moves c's whole bonded stake into the provider's newest
// unbonding entry e: its balances grow by the stake, it completes
// unbonding_time from now, and it keeps its creation height (so it stays
// slashable for every infraction it was before, and the stake, bonded until
// now, for those too). Emits EventUnbondingStarted for the amount. The
// caller stores c.
func (k *Keeper) joinNewestEntry(ctx context.Context, provider sdk.AccAddress, c *types.Collateral,
	e types.UnbondingEntry, params types.Params,
) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	amount := c.Bonded
	if err := k.removeEntry(ctx, provider, e); err != nil {
		return err
	}
	e.InitialBalance = e.InitialBalance.Add(amount)
	e.Balance = e.Balance.Add(amount)
	if done := sdkCtx.BlockTime().UTC().Add(params.UnbondingTime); done.After(e.CompletionTime) {
		e.CompletionTime = done
	}
	c.Bonded = math.ZeroInt()
	if err := k.setEntry(ctx, provider, e); err != nil {
		return err
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventUnbondingStarted{
		Provider:       e.Provider,
		EntryId:        e.Id,
		Amount:         amount,
		CompletionTime: e.CompletionTime,
	})
}

// setEntry stores an entry and its queue key.
func (k *Keeper) setEntry(ctx context.Context, provider sdk.AccAddress, e types.UnbondingEntry) error {
	if err := k.UnbondingEntries.Set(ctx, collections.Join(provider, e.Id), e); err != nil {
		return err
	}
	return k.UnbondingQueue.Set(ctx, collections.Join3(e.CompletionTime, provider, e.Id))
}

// removeEntry deletes an entry and its queue key.
func (k *Keeper) removeEntry(ctx context.Context, provider sdk.AccAddress, e types.UnbondingEntry) error {
	if err := k.UnbondingEntries.Remove(ctx, collections.Join(provider, e.Id)); err != nil {
		return err
	}
	return k.UnbondingQueue.Remove(ctx, collections.Join3(e.CompletionTime, provider, e.Id))
}
