package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// The invariants use sdk.Invariant, deprecated together with x/crisis; the
// checks stay useful in tests and simulations (CheckInvariants). They walk
// the whole store: only tests and simulations call them.

// AllInvariants runs every invariant of the module and reports the first
// broken one.
func AllInvariants(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		for _, inv := range invariants(k) {
			if msg, broken := inv(ctx); broken {
				return msg, broken
			}
		}
		return "", false
	}
}

// CheckInvariants runs every invariant and returns the first violation.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	if msg, broken := AllInvariants(k)(sdk.UnwrapSDKContext(ctx)); broken {
		return errors.New(msg)
	}
	return nil
}

func invariants(k *Keeper) []sdk.Invariant { //nolint:staticcheck // see above
	return []sdk.Invariant{ //nolint:staticcheck // see above
		ModuleAccountInvariant(k), AccountsInvariant(k), DryQueueInvariant(k), TotalsInvariant(k),
	}
}

// ModuleAccountInvariant checks that the escrow module account holds, in
// every denom, exactly the balances of the accounts that are not closed
// plus the held bid deposits. Module accounts are blocked from receiving
// bank sends, so nothing else can arrive.
func ModuleAccountInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		balances, deposits := sdk.NewCoins(), sdk.NewCoins()
		if err := k.Accounts.Walk(ctx, nil, func(_ types.AccountKey, a types.Account) (bool, error) {
			if a.State != types.ACCOUNT_STATE_CLOSED && !a.Balance.IsNil() && a.Balance.IsPositive() {
				balances = balances.Add(sdk.NewCoin(a.Denom, a.Balance))
			}
			return false, nil
		}); err != nil {
			return broken("module-account", "walk accounts: %s", err)
		}
		if err := k.BidDeposits.Walk(ctx, nil, func(_ collections.Triple[sdk.AccAddress, uint64, sdk.AccAddress], d types.BidDeposit) (bool, error) {
			deposits = deposits.Add(d.Amount)
			return false, nil
		}); err != nil {
			return broken("module-account", "walk bid deposits: %s", err)
		}
		want := balances.Add(deposits...)
		have := k.bank.GetAllBalances(ctx, k.moduleAddress)
		if !have.Equal(want) {
			return broken("module-account", "module account holds %q, but account balances %q + bid deposits %q = %q",
				have, balances, deposits, want)
		}
		return "", false
	}
}

// AccountsInvariant checks every account on its own (types.Account.Validate:
// deposited = paid + refunded + balance, all ≥ 0, fees ≤ paid, a closed
// account holds nothing, and for a stream paid = min(owed(settled_at),
// deposited) exactly and the computed runs_dry_at) and that it is stored
// under its own id.
func AccountsInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		var problem string
		if err := k.Accounts.Walk(ctx, nil, func(key types.AccountKey, a types.Account) (bool, error) {
			id := types.AccountIDFromKey(key)
			if !a.Id.Equal(id) {
				problem = fmt.Sprintf("account under %s has id %s", id, a.Id)
				return true, nil
			}
			if err := a.Validate(); err != nil {
				problem = fmt.Sprintf("account %s%s", id, err)
				return true, nil
			}
			return false, nil
		}); err != nil {
			return broken("accounts", "walk accounts: %s", err)
		}
		if problem != "" {
			return broken("accounts", "%s", problem)
		}
		return "", false
	}
}

// DryQueueInvariant checks that every streaming account has exactly one
// dry queue entry, at its runs_dry_at, and that every entry belongs to a
// streaming account.
func DryQueueInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		var problem string
		streaming := 0
		if err := k.Accounts.Walk(ctx, nil, func(key types.AccountKey, a types.Account) (bool, error) {
			if a.State != types.ACCOUNT_STATE_STREAMING {
				return false, nil
			}
			streaming++
			has, err := k.DryQueue.Has(ctx, collections.Join3(a.RunsDryAt.Unix(), key.K1(), key.K2()))
			if err != nil {
				return true, err
			}
			if !has {
				problem = fmt.Sprintf("streaming account %s (runs dry at %s) is not in the dry queue", a.Id, a.RunsDryAt)
				return true, nil
			}
			return false, nil
		}); err != nil {
			return broken("dry-queue", "walk accounts: %s", err)
		}
		if problem != "" {
			return broken("dry-queue", "%s", problem)
		}
		entries := 0
		if err := k.DryQueue.Walk(ctx, nil, func(key collections.Triple[int64, sdk.AccAddress, uint64]) (bool, error) {
			entries++
			id := types.NewAccountID(key.K2(), key.K3())
			a, err := k.Accounts.Get(ctx, collections.Join(key.K2(), key.K3()))
			switch {
			case errors.Is(err, collections.ErrNotFound):
				problem = fmt.Sprintf("dry queue entry (%s, %s) has no account", types.UnixTime(key.K1()), id)
			case err != nil:
				return true, err
			case a.State != types.ACCOUNT_STATE_STREAMING:
				problem = fmt.Sprintf("dry queue entry (%s, %s) is for a %s account", types.UnixTime(key.K1()), id, a.State)
			case a.RunsDryAt.Unix() != key.K1():
				problem = fmt.Sprintf("dry queue entry (%s, %s) does not match the account's runs_dry_at %s",
					types.UnixTime(key.K1()), id, a.RunsDryAt)
			}
			return problem != "", nil
		}); err != nil {
			return broken("dry-queue", "walk dry queue: %s", err)
		}
		if problem != "" {
			return broken("dry-queue", "%s", problem)
		}
		if entries != streaming {
			return broken("dry-queue", "%d dry queue entries for %d streaming accounts", entries, streaming)
		}
		return "", false
	}
}

// TotalsInvariant checks the running totals against the accounts (closed
// ones are kept): per denom, settled = Σ paid, take_fees + reserve_fees =
// Σ fees and refunded = Σ refunded.
func TotalsInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		type sums struct{ paid, fees, refunded math.Int }
		want := map[string]*sums{}
		var denoms []string
		if err := k.Accounts.Walk(ctx, nil, func(_ types.AccountKey, a types.Account) (bool, error) {
			s, ok := want[a.Denom]
			if !ok {
				s = &sums{math.ZeroInt(), math.ZeroInt(), math.ZeroInt()}
				want[a.Denom] = s
				denoms = append(denoms, a.Denom)
			}
			s.paid, s.fees, s.refunded = s.paid.Add(a.Paid), s.fees.Add(a.Fees), s.refunded.Add(a.Refunded)
			return false, nil
		}); err != nil {
			return broken("totals", "walk accounts: %s", err)
		}
		seen := map[string]bool{}
		var problem string
		if err := k.DenomTotals.Walk(ctx, nil, func(denom string, t types.DenomTotals) (bool, error) {
			seen[denom] = true
			s, ok := want[denom]
			if !ok {
				s = &sums{math.ZeroInt(), math.ZeroInt(), math.ZeroInt()}
			}
			if t.Denom != denom || !t.Settled.Equal(s.paid) || !t.TakeFees.Add(t.ReserveFees).Equal(s.fees) || !t.Refunded.Equal(s.refunded) {
				problem = fmt.Sprintf("totals of %s (denom %q): settled %s, take %s + reserve %s, refunded %s; "+
					"the accounts paid %s, fees %s, refunded %s", denom, t.Denom, t.Settled, t.TakeFees, t.ReserveFees,
					t.Refunded, s.paid, s.fees, s.refunded)
				return true, nil
			}
			return false, nil
		}); err != nil {
			return broken("totals", "walk totals: %s", err)
		}
		if problem != "" {
			return broken("totals", "%s", problem)
		}
		for _, d := range denoms {
			if s := want[d]; !seen[d] && (s.paid.IsPositive() || s.refunded.IsPositive()) {
				return broken("totals", "no totals for %s, whose accounts paid %s and refunded %s", d, s.paid, s.refunded)
			}
		}
		return "", false
	}
}

func broken(name, format string, args ...any) (string, bool) {
	return sdk.FormatInvariant(types.ModuleName, name, fmt.Sprintf(format, args...)), true //nolint:staticcheck // see above
}
