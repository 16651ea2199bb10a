package keeper

import (
	"context"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// EndBlocker pays out the unbonding entries whose completion time is at or
// before the block time, earliest first, at most max_unbondings_per_block
// of them. It reads the queue only up to the block time and the cap, so
// its cost is bounded by the cap, never by all entries.
//
// Entries due beyond the cap stay queued and are paid in the next blocks,
// in completion order, so nothing is lost: every entry is paid exactly its
// balance when its turn comes, a block or a few late. Until then it is
// still an unbonding entry like any other: a slash for an infraction at or
// after its creation height reaches it, as it reaches every unpaid entry
// (that stake backed the provider when it misbehaved), and the payout is
// what is left. No entry is paid twice: the payout deletes it and its
// queue key.
//
// Each entry's remaining balance goes to the provider (to the reserve if
// the provider's address is blocked from receiving funds, which only a
// hand-made genesis can produce: blocked addresses cannot sign MsgBond).
// The entry and its queue key are deleted, EventUnbondingCompleted is
// emitted, and a record left with nothing to keep is pruned.
func (k *Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	limit := int(params.MaxUnbondingsPerBlock)
	var due []collections.Triple[time.Time, sdk.AccAddress, uint64]
	// Walk closes its iterator before the store is written below.
	err = k.UnbondingQueue.Walk(ctx,
		collections.NewPrefixUntilTripleRange[time.Time, sdk.AccAddress, uint64](sdkCtx.BlockTime()),
		func(key collections.Triple[time.Time, sdk.AccAddress, uint64]) (bool, error) {
			due = append(due, key)
			return len(due) >= limit, nil
		})
	if err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	touched := make([]sdk.AccAddress, 0, len(due))
	seen := make(map[string]bool, len(due))
	for _, key := range due {
		provider, id := key.K2(), key.K3()
		entry, err := k.UnbondingEntries.Get(ctx, collections.Join(provider, id))
		if err != nil {
			return err
		}
		if entry.Balance.IsPositive() {
			coins := sdk.NewCoins(sdk.NewCoin(params.BondDenom, entry.Balance))
			if k.bankKeeper.BlockedAddr(provider) {
				err = k.bankKeeper.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.reserveModule, coins)
			} else {
				err = k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.ModuleName, provider, coins)
			}
			if err != nil {
				return err
			}
		}
		if err := k.removeEntry(ctx, provider, entry); err != nil {
			return err
		}
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventUnbondingCompleted{
			Provider: entry.Provider, EntryId: entry.Id, Amount: entry.Balance,
		}); err != nil {
			return err
		}
		if !seen[string(provider)] {
			seen[string(provider)] = true
			touched = append(touched, provider)
		}
	}
	for _, provider := range touched {
		c, found, err := k.collateral(ctx, provider)
		if err != nil {
			return err
		}
		if found && prunable(c) {
			if err := k.saveCollateral(ctx, provider, c); err != nil {
				return err
			}
		}
	}
	return nil
}
