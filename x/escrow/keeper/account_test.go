package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// The whole life of a lease's escrow in uusdc (10% take, 0.25% reserve),
// with exact balances at every step: open, start, withdraw, a top-up by a
// third party (which settles first), close by the tenant.
func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	id := idOf(f.tenant, 1)

	// alice orders 2 GPUs at up to 2.50 USDC per GPU-hour and deposits one
	// hour at that price.
	b0 := f.books(f.tenant, f.provider, uusdc)
	acc := f.open(f.tenant, 1, coin(uusdc, 5_000_000))
	f.requireMoved(b0, f.books(f.tenant, f.provider, uusdc), -5_000_000, 0, 5_000_000, 0, 0, 0)
	require.Equal(t, types.ACCOUNT_STATE_OPEN, acc.State)
	requireInt(t, 5_000_000, acc.Deposited)
	requireInt(t, 5_000_000, acc.Balance)
	require.Equal(t, f.ctx.BlockTime(), acc.CreatedAt)
	require.True(t, acc.RunsDryAt.IsZero())
	opened := eventsOf[*types.EventAccountOpened](t, f.ctx)
	require.Len(t, opened, 1)
	require.Equal(t, id, opened[0].Id)
	require.Equal(t, coin(uusdc, 5_000_000), opened[0].Deposit)
	f.checkInvariants()

	// The lease starts 5 s later: runs_dry_at is exactly one hour on.
	f.advance(5)
	s := f.now()
	acc = f.start(f.tenant, 1, f.provider, 2_500_000, 2, 0)
	require.Equal(t, types.ACCOUNT_STATE_STREAMING, acc.State)
	require.Equal(t, types.UnixTime(s), acc.StreamStart)
	require.Equal(t, types.UnixTime(s), acc.SettledAt)
	require.Equal(t, types.UnixTime(s+3600), acc.RunsDryAt)
	require.True(t, acc.StreamEnd.IsZero())
	has, err := f.k.DryQueue.Has(f.ctx, collections.Join3(s+3600, f.tenant, uint64(1)))
	require.NoError(t, err)
	require.True(t, has)
	started := eventsOf[*types.EventStreamStarted](t, f.ctx)
	require.Len(t, started, 1)
	require.Equal(t, f.provider.String(), started[0].Provider)
	require.Equal(t, coin(uusdc, 2_500_000), started[0].PricePerGpuHour)
	require.Equal(t, uint32(2), started[0].Gpus)
	require.Equal(t, types.UnixTime(s+3600), started[0].RunsDryAt)

	// 100 s later the provider withdraws floor(5e6 × 100 / 3600) = 138888:
	// 13888 take, 347 reserve, 124653 to the provider.
	f.at(s + 100)
	b1 := f.books(f.tenant, f.provider, uusdc)
	paid, fees := f.withdraw(f.provider, id)
	f.requireMoved(b1, f.books(f.tenant, f.provider, uusdc), 0, 124_653, -138_888, 347, 13_888, 0)
	require.Equal(t, "124653uusdc", paid.String())
	require.Equal(t, "14235uusdc", fees.String())
	acc = f.account(f.tenant, 1)
	requireInt(t, 138_888, acc.Paid)
	requireInt(t, 14_235, acc.Fees)
	requireInt(t, 5_000_000-138_888, acc.Balance)
	require.Equal(t, types.UnixTime(s+100), acc.SettledAt)
	settled := eventsOf[*types.EventSettled](t, f.ctx)
	require.Len(t, settled, 1)
	require.Equal(t, types.EventSettled{
		Id: id, Provider: f.provider.String(),
		Amount: coin(uusdc, 138_888), ProviderAmount: coin(uusdc, 124_653),
		TakeFee: coin(uusdc, 13_888), ReserveFee: coin(uusdc, 347),
		SettledAt: types.UnixTime(s + 100), Balance: coin(uusdc, 5_000_000-138_888),
	}, *settled[0])
	f.checkInvariants()

	// At 150 s a third party tops up 1 USDC. The account settles first
	// (208333 owed: 69445 more, cumulative fees 20833 and 520), then
	// runs_dry_at moves to start + ceil(3600 × 6e6 / 5e6) = start + 4320.
	f.at(s + 150)
	b2 := f.books(f.tenant, f.provider, uusdc)
	res, err := f.msgs.Deposit(f.ctx, &types.MsgDeposit{Sender: f.payer.String(), Id: id, Amount: coin(uusdc, 1_000_000)})
	require.NoError(t, err)
	f.requireMoved(b2, f.books(f.tenant, f.provider, uusdc), 0, 62_327, 1_000_000-69_445, 173, 6_945, -1_000_000)
	require.Equal(t, coin(uusdc, 6_000_000-208_333), res.Balance)
	require.Equal(t, types.UnixTime(s+4320), res.RunsDryAt)
	deposited := eventsOf[*types.EventDeposited](t, f.ctx)
	require.Len(t, deposited, 1)
	require.Equal(t, types.EventDeposited{
		Id: id, Sender: f.payer.String(), Amount: coin(uusdc, 1_000_000),
		Balance: coin(uusdc, 6_000_000-208_333), RunsDryAt: types.UnixTime(s + 4320),
	}, *deposited[0])
	require.Len(t, eventsOf[*types.EventSettled](t, f.ctx), 1)
	for at, want := range map[int64]bool{s + 3600: false, s + 4320: true} {
		has, err := f.k.DryQueue.Has(f.ctx, collections.Join3(at, f.tenant, uint64(1)))
		require.NoError(t, err)
		require.Equal(t, want, has, "dry queue entry at %d", at-s)
	}
	f.checkInvariants()

	// At 200 s alice closes: 277777 owed (69444 more, fees 6944 + 174),
	// 6e6 − 277777 refunded to alice (not to the payer).
	f.at(s + 200)
	b3 := f.books(f.tenant, f.provider, uusdc)
	acc = f.close(f.tenant, 1)
	f.requireMoved(b3, f.books(f.tenant, f.provider, uusdc), 5_722_223, 62_326, -69_444-5_722_223, 174, 6_944, 0)
	require.Equal(t, types.ACCOUNT_STATE_CLOSED, acc.State)
	requireInt(t, 6_000_000, acc.Deposited)
	requireInt(t, 277_777, acc.Paid)
	requireInt(t, 5_722_223, acc.Refunded)
	requireInt(t, 0, acc.Balance)
	requireInt(t, 27_777+694, acc.Fees, "the same fees as one settlement of 277777")
	require.Equal(t, types.UnixTime(s+200), acc.ClosedAt)
	require.Equal(t, types.UnixTime(s+200), acc.SettledAt)
	require.True(t, acc.RunsDryAt.IsZero())
	require.Equal(t, acc, f.account(f.tenant, 1), "stored as returned")
	closed := eventsOf[*types.EventAccountClosed](t, f.ctx)
	require.Len(t, closed, 1)
	require.Equal(t, types.EventAccountClosed{Id: id, Refunded: coin(uusdc, 5_722_223), Paid: coin(uusdc, 277_777)}, *closed[0])
	due, err := f.k.DueDry(f.ctx.WithBlockTime(types.MaxTime), 10)
	require.NoError(t, err)
	require.Empty(t, due, "a closed account leaves the dry queue")

	// Over the whole life: alice paid 277777 for 200 s of 2 GPUs.
	totals, err := f.k.Totals(f.ctx)
	require.NoError(t, err)
	require.Len(t, totals, 1)
	require.Equal(t, uusdc, totals[0].Denom)
	requireInt(t, 277_777, totals[0].Settled)
	requireInt(t, 27_777, totals[0].TakeFees)
	requireInt(t, 694, totals[0].ReserveFees)
	requireInt(t, 5_722_223, totals[0].Refunded)
	require.Equal(t, uint64(400), totals[0].GpuSeconds)
	requireInt(t, 0, f.balance(f.moduleAddr, uusdc))

	// A closed account refuses everything.
	_, err = f.k.CloseAccount(f.ctx, f.tenant, 1)
	require.ErrorIs(t, err, types.ErrAccountClosed)
	_, err = f.k.Deposit(f.ctx, f.payer, f.tenant, 1, coin(uusdc, 1))
	require.ErrorIs(t, err, types.ErrAccountClosed)
	_, _, err = f.k.Withdraw(f.ctx, f.provider, []types.AccountID{id})
	require.ErrorIs(t, err, types.ErrAccountClosed)
}

// An order closed before any lease refunds its whole deposit.
func TestCloseOpenAccountRefundsAll(t *testing.T) {
	f := newFixture(t)
	b0 := f.books(f.tenant, f.provider, umesh)
	f.open(f.tenant, 3, coin(umesh, 700))
	f.advance(60)
	_, err := f.k.Deposit(f.ctx, f.tenant, f.tenant, 3, coin(umesh, 300))
	require.NoError(t, err)
	f.newEvents()
	acc := f.close(f.tenant, 3)
	f.requireMoved(b0, f.books(f.tenant, f.provider, umesh), 0, 0, 0, 0, 0, 0)
	requireInt(t, 1000, acc.Refunded)
	requireInt(t, 0, acc.Paid)
	require.Empty(t, eventsOf[*types.EventSettled](t, f.ctx))
	require.Len(t, eventsOf[*types.EventAccountClosed](t, f.ctx), 1)
	totals, err := f.k.Totals(f.ctx)
	require.NoError(t, err)
	require.Len(t, totals, 1)
	requireInt(t, 1000, totals[0].Refunded)
	requireInt(t, 0, totals[0].Settled)
}

// The take fee depends on the denom: umesh 2%, uusdc 10% (the default for
// a denom without its own rate); the reserve fee is 0.25% of both.
func TestFeesPerDenom(t *testing.T) {
	for _, tc := range []struct {
		denom                   string
		provider, take, reserve int64
	}{
		{umesh, 977_500, 20_000, 2_500},
		{uusdc, 897_500, 100_000, 2_500},
	} {
		t.Run(tc.denom, func(t *testing.T) {
			f := newFixture(t)
			f.open(f.tenant, 1, coin(tc.denom, 10_000_000))
			s := f.now()
			f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0) // 1000 per second
			f.at(s + 1000)
			b := f.books(f.tenant, f.provider, tc.denom)
			paid, fees := f.withdraw(f.provider, idOf(f.tenant, 1))
			f.requireMoved(b, f.books(f.tenant, f.provider, tc.denom), 0, tc.provider, -1_000_000, tc.reserve, tc.take, 0)
			require.Equal(t, coin(tc.denom, tc.provider).String(), paid.String())
			require.Equal(t, coin(tc.denom, tc.take+tc.reserve).String(), fees.String())
			totals, err := f.k.Totals(f.ctx)
			require.NoError(t, err)
			require.Len(t, totals, 1)
			requireInt(t, tc.take, totals[0].TakeFees)
			requireInt(t, tc.reserve, totals[0].ReserveFees)
			require.Equal(t, uint64(1000), totals[0].GpuSeconds)
		})
	}
}

// A withdrawal of several leases in two denoms pays each in its denom.
func TestWithdrawSeveralLeases(t *testing.T) {
	f := newFixture(t)
	f.open(f.tenant, 1, coin(umesh, 10_000_000))
	f.open(f.tenant, 2, coin(uusdc, 10_000_000))
	f.open(f.tenant2, 1, coin(uusdc, 10_000_000))
	s := f.now()
	f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0)
	f.start(f.tenant, 2, f.provider, 3_600_000, 2, 0)
	f.start(f.tenant2, 1, f.provider, 7_200_000, 1, 0)
	f.at(s + 10)
	f.newEvents()
	res, err := f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{
		Provider: f.provider.String(),
		LeaseIds: []types.AccountID{idOf(f.tenant, 1), idOf(f.tenant, 2), idOf(f.tenant2, 1)},
	})
	require.NoError(t, err)
	// umesh: 10000 gross, 200 + 25 fees; uusdc: 2 × 20000 gross, 2000 + 50 fees each.
	require.Equal(t, "9775umesh,35900uusdc", res.Paid.String())
	require.Equal(t, "225umesh,4100uusdc", res.Fees.String())
	require.Len(t, eventsOf[*types.EventSettled](t, f.ctx), 3)
}

// Many settlements over a span pay exactly what one settlement over it
// pays: the same gross, the same fees, the same provider income. Two
// identical leases, one withdrawn at many random seconds (and past the
// point it runs dry), the other once.
func TestManySettlementsEqualOneSettlement(t *testing.T) {
	f := newFixture(t)
	f.open(f.tenant, 1, coin(uusdc, 5_000_000))
	f.open(f.tenant2, 1, coin(uusdc, 5_000_000))
	s := f.now()
	f.start(f.tenant, 1, f.provider, 2_500_000, 2, 0)
	f.start(f.tenant2, 1, f.provider2, 2_500_000, 2, 0)
	p1, p2 := f.balance(f.provider, uusdc), f.balance(f.provider2, uusdc)

	// Deterministic pseudo-random seconds, some past runs_dry_at (3600).
	at, step := s, int64(1)
	for at < s+4000 {
		at += step
		step = (step*7919 + 13) % 97
		f.at(at)
		f.withdraw(f.provider, idOf(f.tenant, 1))
	}
	f.withdraw(f.provider2, idOf(f.tenant2, 1))

	many, once := f.account(f.tenant, 1), f.account(f.tenant2, 1)
	requireInt(t, 5_000_000, once.Paid, "it ran dry: everything is paid")
	require.Equal(t, once.Paid.String(), many.Paid.String())
	require.Equal(t, once.Fees.String(), many.Fees.String())
	require.Equal(t, f.balance(f.provider2, uusdc).Sub(p2).String(), f.balance(f.provider, uusdc).Sub(p1).String())
	requireInt(t, 5_000_000-500_000-12_500, f.balance(f.provider, uusdc).Sub(p1))
}

// The account runs dry exactly at the computed second: DueDry returns it at
// that second and not one second before, a deposit is refused from then
// on, and the close pays exactly the funds, not the seconds after.
func TestRunsDryExactly(t *testing.T) {
	f := newFixture(t)
	id := idOf(f.tenant, 1)
	f.open(f.tenant, 1, coin(uusdc, 25_000))
	s := f.now()
	acc := f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0) // 1000 per second: 25 s
	require.Equal(t, types.UnixTime(s+25), acc.RunsDryAt)

	f.at(s + 24)
	due, err := f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due, "not due one second before")
	q, err := f.query.Account(f.ctx, &types.QueryAccountRequest{Tenant: f.tenant.String(), Seq: 1})
	require.NoError(t, err)
	requireInt(t, 24_000, q.Unsettled)
	requireInt(t, 1_000, q.Available)

	f.at(s + 25)
	due, err = f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []types.AccountID{id}, due)
	_, err = f.k.Deposit(f.ctx, f.payer, f.tenant, 1, coin(uusdc, 1_000_000))
	require.ErrorIs(t, err, types.ErrAccountDepleted)
	require.Contains(t, err.Error(), "ran dry at 2026-01-01 00:00:35 +0000 UTC; x/market's EndBlock closes its lease")

	// Closed five seconds late (a slow block): 25000 paid, nothing more.
	f.at(s + 30)
	b := f.books(f.tenant, f.provider, uusdc)
	acc = f.close(f.tenant, 1)
	f.requireMoved(b, f.books(f.tenant, f.provider, uusdc), 0, 22_438, -25_000, 62, 2_500, 0)
	requireInt(t, 25_000, acc.Paid)
	requireInt(t, 0, acc.Refunded)
	require.Equal(t, types.UnixTime(s+30), acc.SettledAt)
	totals, err := f.k.Totals(f.ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(25), totals[0].GpuSeconds, "GPU time is counted up to runs_dry_at")
}

// A deposit moves runs_dry_at and its dry queue entry later.
func TestDepositExtendsRunsDry(t *testing.T) {
	f := newFixture(t)
	f.open(f.tenant, 1, coin(uusdc, 25_000))
	s := f.now()
	f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0)
	f.at(s + 10)
	acc, err := f.k.Deposit(f.ctx, f.payer, f.tenant, 1, coin(uusdc, 10_000))
	require.NoError(t, err)
	require.Equal(t, types.UnixTime(s+35), acc.RunsDryAt)
	requireInt(t, 10_000, acc.Paid, "settled before the deposit")

	f.at(s + 25)
	due, err := f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due, "the old entry is gone")
	f.at(s + 34)
	due, err = f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due)
	f.at(s + 35)
	due, err = f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []types.AccountID{idOf(f.tenant, 1)}, due)
}

// A lease with a duration accrues nothing after stream_end, however late
// it is settled or closed.
func TestStreamEndCapsAccrual(t *testing.T) {
	f := newFixture(t)
	f.open(f.tenant, 1, coin(umesh, 1_000_000))
	s := f.now()
	acc := f.start(f.tenant, 1, f.provider, 3_600_000, 1, 60)
	require.Equal(t, types.UnixTime(s+60), acc.StreamEnd)
	require.Equal(t, types.UnixTime(s+1000), acc.RunsDryAt, "runs_dry_at ignores the end: the lease ends first")

	f.at(s + 100)
	f.withdraw(f.provider, idOf(f.tenant, 1))
	acc = f.account(f.tenant, 1)
	requireInt(t, 60_000, acc.Paid)
	require.Equal(t, types.UnixTime(s+60), acc.SettledAt)

	f.at(s + 200)
	f.newEvents()
	paid, fees := f.withdraw(f.provider, idOf(f.tenant, 1))
	require.True(t, paid.IsZero())
	require.True(t, fees.IsZero())
	require.Empty(t, eventsOf[*types.EventSettled](t, f.ctx), "nothing settled, no event")

	f.at(s + 300)
	b := f.books(f.tenant, f.provider, umesh)
	acc = f.close(f.tenant, 1)
	f.requireMoved(b, f.books(f.tenant, f.provider, umesh), 940_000, 0, -940_000, 0, 0, 0)
	requireInt(t, 60_000, acc.Paid)
	require.Equal(t, types.UnixTime(s+60), acc.SettledAt)
	totals, err := f.k.Totals(f.ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(60), totals[0].GpuSeconds)
}

// DueDry returns what is due in time order, at most limit, and nothing
// later than the block time.
func TestDueDryOrderAndLimit(t *testing.T) {
	f := newFixture(t)
	s := f.now()
	// Dry after 30 s, 10 s, 20 s and 1 h.
	for i, funds := range []int64{30_000, 10_000, 20_000, 3_600_000} {
		seq := uint64(i + 1)
		f.open(f.tenant, seq, coin(umesh, funds))
		f.start(f.tenant, seq, f.provider, 3_600_000, 1, 0)
	}
	f.at(s + 30)
	due, err := f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []types.AccountID{idOf(f.tenant, 2), idOf(f.tenant, 3), idOf(f.tenant, 1)}, due)
	due, err = f.k.DueDry(f.ctx, 2)
	require.NoError(t, err)
	require.Equal(t, []types.AccountID{idOf(f.tenant, 2), idOf(f.tenant, 3)}, due)
	due, err = f.k.DueDry(f.ctx, 0)
	require.NoError(t, err)
	require.Empty(t, due)
	// DueDry changes nothing: closing is x/market's EndBlock.
	due2, err := f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Len(t, due2, 3)
	for _, id := range due2 {
		key, err := id.Key()
		require.NoError(t, err)
		f.close(key.K1(), key.K2())
	}
	due, err = f.k.DueDry(f.ctx, 10)
	require.NoError(t, err)
	require.Empty(t, due)
	due, err = f.k.DueDry(f.ctx.WithBlockTime(time.Unix(s+3600, 0)), 10)
	require.NoError(t, err)
	require.Equal(t, []types.AccountID{idOf(f.tenant, 4)}, due)
}

// A params change applies from the next settlement: the fees of each
// settlement use the rates of its block.
func TestRateChangeAppliesFromNextSettlement(t *testing.T) {
	f := newFixture(t)
	f.open(f.tenant, 1, coin(umesh, 10_000_000))
	s := f.now()
	f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0)
	f.at(s + 1000)
	_, fees := f.withdraw(f.provider, idOf(f.tenant, 1))
	require.Equal(t, "22500umesh", fees.String()) // 2% + 0.25% of 1e6

	params := types.DefaultParams()
	params.TakeRates[0].Rate = types.DefaultTakeRate // 10%
	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: params})
	require.NoError(t, err)
	f.at(s + 2000)
	_, fees = f.withdraw(f.provider, idOf(f.tenant, 1))
	// floor(2e6 × 0.1) − floor(1e6 × 0.1) = 100000, plus 2500 reserve.
	require.Equal(t, "102500umesh", fees.String())
	requireInt(t, 22_500+102_500, f.account(f.tenant, 1).Fees)
}

// A refund to an address that may not receive coins (possible only through
// a hand-made genesis) goes to the market reserve instead of failing.
func TestRefundToBlockedAddressGoesToReserve(t *testing.T) {
	f := newFixture(t)
	// Give the distribution module account coins of its own to open with.
	require.NoError(t, f.app.DistrKeeper.FundCommunityPool(f.ctx, coins(umesh, 1000), f.tenant))
	f.open(f.distrAddr, 1, coin(umesh, 1000))
	reserve, distr := f.balance(f.reserveAddr, umesh), f.balance(f.distrAddr, umesh)
	acc := f.close(f.distrAddr, 1)
	requireInt(t, 1000, acc.Refunded)
	require.Equal(t, reserve.AddRaw(1000).String(), f.balance(f.reserveAddr, umesh).String())
	require.Equal(t, distr.String(), f.balance(f.distrAddr, umesh).String())
}
