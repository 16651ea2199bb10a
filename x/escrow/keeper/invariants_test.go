package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// Each invariant detects the state it guards being broken.
func TestInvariantsDetectBrokenState(t *testing.T) {
	// alice/1 streams (settled once), alice/2 is an open order with a bid
	// deposit, alice/3 is closed.
	setup := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.open(f.tenant, 1, coin(uusdc, 1_000_000))
		f.open(f.tenant, 2, coin(umesh, 1_000))
		f.open(f.tenant, 3, coin(umesh, 500))
		s := f.now()
		f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0)
		require.NoError(t, f.k.HoldBidDeposit(f.ctx, f.tenant, 2, f.provider, coin(umesh, 5)))
		f.close(f.tenant, 3)
		f.at(s + 100)
		f.withdraw(f.provider, idOf(f.tenant, 1))
		f.checkInvariants()
		f.corrupted = true
		return f
	}
	set := func(f *fixture, seq uint64, mutate func(*types.Account)) {
		acc := f.account(f.tenant, seq)
		mutate(&acc)
		require.NoError(t, f.k.Accounts.Set(f.ctx, collections.Join(f.tenant, seq), acc))
	}
	for _, tc := range []struct {
		name    string
		corrupt func(f *fixture)
		want    string
	}{
		{"balance raised without coins", func(f *fixture) {
			set(f, 2, func(a *types.Account) { a.Balance, a.Deposited = a.Balance.AddRaw(1), a.Deposited.AddRaw(1) })
		}, `module-account invariant`},
		{"bid deposit lowered without paying", func(f *fixture) {
			key := collections.Join3(f.tenant, uint64(2), f.provider)
			d, err := f.k.BidDeposits.Get(f.ctx, key)
			require.NoError(t, err)
			d.Amount.Amount = math.NewInt(4)
			require.NoError(t, f.k.BidDeposits.Set(f.ctx, key, d))
		}, `module account holds "1005umesh,900000uusdc", but account balances "1000umesh,900000uusdc" + bid deposits "4umesh"`},
		{"coins arrive from outside the books", func(f *fixture) {
			require.NoError(t, f.app.BankKeeper.SendCoinsFromAccountToModule(f.ctx, f.payer, types.ModuleName, coins(umesh, 3)))
		}, `module account holds "1008umesh,900000uusdc"`},
		{"deposited does not add up", func(f *fixture) {
			set(f, 1, func(a *types.Account) { a.Deposited = a.Deposited.AddRaw(1) })
		}, "deposited 1000001 != paid 100000 + refunded 0 + balance 900000"},
		{"paid one unit more than owed", func(f *fixture) {
			set(f, 1, func(a *types.Account) { a.Paid, a.Deposited = a.Paid.AddRaw(1), a.Deposited.AddRaw(1) })
		}, ".paid 100001: must be min(owed at settled_at, deposited) = 100000"},
		{"fees above paid", func(f *fixture) {
			set(f, 1, func(a *types.Account) { a.Fees = a.Paid.AddRaw(1) })
		}, ".fees 100001: more than paid 100000"},
		{"negative refund", func(f *fixture) {
			set(f, 3, func(a *types.Account) { a.Refunded = math.NewInt(-1) })
		}, ".refunded must be >= 0, got -1"},
		{"closed account still holds", func(f *fixture) {
			set(f, 3, func(a *types.Account) { a.Balance, a.Refunded = math.NewInt(1), a.Refunded.SubRaw(1) })
		}, ".balance 1: a closed account holds nothing"},
		{"stored under another id", func(f *fixture) {
			acc := f.account(f.tenant, 2)
			require.NoError(t, f.k.Accounts.Remove(f.ctx, collections.Join(f.tenant, uint64(2))))
			require.NoError(t, f.k.Accounts.Set(f.ctx, collections.Join(f.tenant2, uint64(2)), acc))
		}, "account under " + bob().String() + "/2 has id " + alice().String() + "/2"},
		{"runs_dry_at not the computed one", func(f *fixture) {
			set(f, 1, func(a *types.Account) { a.RunsDryAt = a.RunsDryAt.Add(1e9) })
		}, ".runs_dry_at"},
		{"dry queue entry missing", func(f *fixture) {
			acc := f.account(f.tenant, 1)
			require.NoError(t, f.k.DryQueue.Remove(f.ctx, collections.Join3(acc.RunsDryAt.Unix(), f.tenant, uint64(1))))
		}, "streaming account " + alice().String() + "/1 (runs dry at 2026-01-01 00:16:50 +0000 UTC) is not in the dry queue"},
		{"stray dry queue entry", func(f *fixture) {
			acc := f.account(f.tenant, 1)
			require.NoError(t, f.k.DryQueue.Set(f.ctx, collections.Join3(acc.RunsDryAt.Unix()+1, f.tenant, uint64(1))))
		}, "does not match the account's runs_dry_at"},
		{"dry queue entry of an open order", func(f *fixture) {
			require.NoError(t, f.k.DryQueue.Set(f.ctx, collections.Join3(int64(5), f.tenant, uint64(2))))
		}, "is for a ACCOUNT_STATE_OPEN account"},
		{"dry queue entry without account", func(f *fixture) {
			require.NoError(t, f.k.DryQueue.Set(f.ctx, collections.Join3(int64(5), f.tenant, uint64(9))))
		}, "/9) has no account"},
		{"totals off", func(f *fixture) {
			tot, err := f.k.DenomTotals.Get(f.ctx, uusdc)
			require.NoError(t, err)
			tot.TakeFees = tot.TakeFees.AddRaw(1)
			require.NoError(t, f.k.DenomTotals.Set(f.ctx, uusdc, tot))
		}, "totals of uusdc (denom \"uusdc\"): settled 100000, take 10001 + reserve 250, refunded 0; the accounts paid 100000, fees 10250"},
		{"totals missing", func(f *fixture) {
			require.NoError(t, f.k.DenomTotals.Remove(f.ctx, umesh))
		}, "no totals for umesh, whose accounts paid 0 and refunded 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			tc.corrupt(f)
			err := f.k.CheckInvariants(f.ctx)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Error(t, f.app.CheckInvariants(f.ctx), "the app's check reports it too")
		})
	}
}
