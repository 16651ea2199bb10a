package keeper

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// The invariants use sdk.Invariant, deprecated together with x/crisis; the
// checks stay useful in tests and simulations (CheckInvariants).

// AllInvariants runs every invariant of the module and reports the first
// broken one.
func AllInvariants(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		for _, inv := range []sdk.Invariant{ //nolint:staticcheck // see above
			ModuleAccountInvariant(k), QueueInvariant(k), RecordsInvariant(k),
		} {
			if msg, broken := inv(ctx); broken {
				return msg, broken
			}
		}
		return "", false
	}
}

// CheckInvariants runs every invariant and returns an error describing
// those that are broken.
func (k *Keeper) CheckInvariants(ctx sdk.Context) error {
	var errs []error
	for _, inv := range []sdk.Invariant{ //nolint:staticcheck // see above
		ModuleAccountInvariant(k), QueueInvariant(k), RecordsInvariant(k),
	} {
		if msg, broken := inv(ctx); broken {
			errs = append(errs, errors.New(msg))
		}
	}
	return errors.Join(errs...)
}

// ModuleAccountInvariant checks that the module account holds exactly the
// bonded stake plus the balances of the unbonding entries, in bond_denom.
func ModuleAccountInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return broken("module-account", "read params: %s", err)
		}
		bonded, unbonding := math.ZeroInt(), math.ZeroInt()
		if err := k.Collaterals.Walk(ctx, nil, func(_ sdk.AccAddress, c types.Collateral) (bool, error) {
			bonded = bonded.Add(c.Bonded)
			return false, nil
		}); err != nil {
			return broken("module-account", "walk collaterals: %s", err)
		}
		if err := k.UnbondingEntries.Walk(ctx, nil, func(_ collections.Pair[sdk.AccAddress, uint64], e types.UnbondingEntry) (bool, error) {
			unbonding = unbonding.Add(e.Balance)
			return false, nil
		}); err != nil {
			return broken("module-account", "walk unbonding entries: %s", err)
		}
		want := bonded.Add(unbonding)
		have := k.bankKeeper.GetBalance(ctx, k.accountKeeper.GetModuleAddress(types.ModuleName), params.BondDenom)
		if !have.Amount.Equal(want) {
			return broken("module-account", "module account holds %s, but bonded %s + unbonding %s = %s%s",
				have, bonded, unbonding, want, params.BondDenom)
		}
		return sdk.FormatInvariant(types.ModuleName, "module-account", //nolint:staticcheck // see above
			fmt.Sprintf("module account holds %s = bonded + unbonding", have)), false
	}
}

// QueueInvariant checks that every unbonding entry has exactly one queue
// key, at its completion time, and that every queue key has its entry.
func QueueInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		var problems []string
		entries := 0
		if err := k.UnbondingEntries.Walk(ctx, nil, func(key collections.Pair[sdk.AccAddress, uint64], e types.UnbondingEntry) (bool, error) {
			entries++
			has, err := k.UnbondingQueue.Has(ctx, collections.Join3(e.CompletionTime, key.K1(), key.K2()))
			if err != nil {
				return true, err
			}
			if !has {
				problems = append(problems, fmt.Sprintf("entry %d of %s (completion %s) is not queued", key.K2(), e.Provider, e.CompletionTime))
			}
			return false, nil
		}); err != nil {
			return broken("unbonding-queue", "walk unbonding entries: %s", err)
		}
		keys := 0
		if err := k.UnbondingQueue.Walk(ctx, nil, func(key collections.Triple[time.Time, sdk.AccAddress, uint64]) (bool, error) {
			keys++
			e, err := k.UnbondingEntries.Get(ctx, collections.Join(key.K2(), key.K3()))
			switch {
			case errors.Is(err, collections.ErrNotFound):
				problems = append(problems, fmt.Sprintf("queue key (%s, %s, %d) has no entry", key.K1(), key.K2(), key.K3()))
			case err != nil:
				return true, err
			case !e.CompletionTime.Equal(key.K1()):
				problems = append(problems, fmt.Sprintf("queue key (%s, %s, %d) does not match the entry's completion time %s",
					key.K1(), key.K2(), key.K3(), e.CompletionTime))
			}
			return false, nil
		}); err != nil {
			return broken("unbonding-queue", "walk queue: %s", err)
		}
		if keys != entries {
			problems = append(problems, fmt.Sprintf("%d queue keys for %d entries", keys, entries))
		}
		if len(problems) > 0 {
			return broken("unbonding-queue", "%s", strings.Join(problems, "; "))
		}
		return "", false
	}
}

// RecordsInvariant checks each record against its key: collaterals with a
// non-negative bonded stake, entries that belong to an existing collateral,
// were numbered by it (id < next_unbonding_id) and hold between 0 and
// their initial balance.
func RecordsInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		var problems []string
		if err := k.Collaterals.Walk(ctx, nil, func(addr sdk.AccAddress, c types.Collateral) (bool, error) {
			if s, _ := k.addressCodec.BytesToString(addr); s != c.Provider {
				problems = append(problems, fmt.Sprintf("collateral under %s names provider %q", s, c.Provider))
			}
			if c.Bonded.IsNil() || c.Bonded.IsNegative() {
				problems = append(problems, fmt.Sprintf("collateral of %s has bonded %v", c.Provider, c.Bonded))
			}
			return false, nil
		}); err != nil {
			return broken("records", "walk collaterals: %s", err)
		}
		if err := k.UnbondingEntries.Walk(ctx, nil, func(key collections.Pair[sdk.AccAddress, uint64], e types.UnbondingEntry) (bool, error) {
			c, err := k.Collaterals.Get(ctx, key.K1())
			switch {
			case errors.Is(err, collections.ErrNotFound):
				problems = append(problems, fmt.Sprintf("entry %d of %s has no collateral", key.K2(), e.Provider))
			case err != nil:
				return true, err
			case key.K2() >= c.NextUnbondingId:
				problems = append(problems, fmt.Sprintf("entry %d of %s is not below next_unbonding_id %d",
					key.K2(), e.Provider, c.NextUnbondingId))
			}
			if s, _ := k.addressCodec.BytesToString(key.K1()); e.Id != key.K2() || e.Provider != s {
				problems = append(problems, fmt.Sprintf("entry under (%s, %d) is (%s, %d)", key.K1(), key.K2(), e.Provider, e.Id))
			}
			if e.Balance.IsNegative() || e.Balance.GT(e.InitialBalance) {
				problems = append(problems, fmt.Sprintf("entry %d of %s has balance %s outside [0, %s]",
					key.K2(), e.Provider, e.Balance, e.InitialBalance))
			}
			return false, nil
		}); err != nil {
			return broken("records", "walk unbonding entries: %s", err)
		}
		if len(problems) > 0 {
			return broken("records", "%s", strings.Join(problems, "; "))
		}
		return "", false
	}
}

func broken(name, format string, args ...any) (string, bool) {
	return sdk.FormatInvariant(types.ModuleName, name, fmt.Sprintf(format, args...)), true //nolint:staticcheck // see above
}
