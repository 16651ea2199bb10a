package types_test

import (
	"math/big"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

var (
	rate2pc  = math.LegacyNewDecWithPrec(2, 2)
	rate10pc = math.LegacyNewDecWithPrec(10, 2)
	reserve  = math.LegacyNewDecWithPrec(25, 4)
)

func testAddr(n byte) string {
	b := make([]byte, 20)
	b[19] = n
	return sdk.AccAddress(b).String()
}

func TestOwed(t *testing.T) {
	for _, tc := range []struct {
		price   int64
		gpus    uint32
		elapsed int64
		want    int64
	}{
		{3600, 1, 1, 1},
		{3600, 1, 3600, 3600},
		{1, 1, 3599, 0},                 // less than one base unit is not owed yet
		{1, 1, 3600, 1},                 // the first whole unit at the first whole hour
		{2_500_000, 2, 3600, 5_000_000}, // 2 × H100 at 2.50 USDC for an hour
		{2_500_000, 2, 1, 1388},         // floor(5e6 / 3600)
		{2_500_000, 2, 7, 9722},         // floor(35e6 / 3600), not 7 × 1388
		{1000, 8, 0, 0},
		{1000, 8, -5, 0},
	} {
		got := types.Owed(math.NewInt(tc.price), tc.gpus, tc.elapsed)
		require.Zero(t, big.NewInt(tc.want).Cmp(got), "price %d × %d GPUs for %d s", tc.price, tc.gpus, tc.elapsed)
	}
	// No overflow: a price near 2^255 for every GPU for a century.
	huge := math.NewIntFromBigInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1)))
	owed := types.Owed(huge, ^uint32(0), 100*365*24*3600)
	require.Greater(t, owed.BitLen(), 256)
	require.Equal(t, math.NewInt(42), types.OwedCapped(huge, ^uint32(0), 100*365*24*3600, math.NewInt(42)))
	require.Equal(t, math.NewInt(1388), types.OwedCapped(math.NewInt(2_500_000), 2, 1, math.NewInt(5000)))
}

// runs_dry_at is the first whole second at which owed reaches the funds:
// owed(runs_dry_at) ≥ D and owed(runs_dry_at − 1) < D.
func TestRunsDryAtIsTheFirstSecondOwedReachesFunds(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const start = int64(1_767_225_600) // 2026-01-01
	check := func(price int64, gpus uint32, funds int64) {
		p, d := math.NewInt(price), math.NewInt(funds)
		at := types.RunsDryAt(start, p, gpus, d)
		require.Greater(t, at, start, "price %d gpus %d funds %d", price, gpus, funds)
		require.GreaterOrEqual(t, types.Owed(p, gpus, at-start).Cmp(d.BigInt()), 0, "owed at runs_dry_at %d", at)
		require.Negative(t, types.Owed(p, gpus, at-1-start).Cmp(d.BigInt()), "owed a second before runs_dry_at %d", at)
	}
	check(3600000, 1, 25000)   // 1000/s: 25 s
	check(2500000, 2, 5000000) // exactly one hour
	check(1, 1, 1)             // an hour per base unit
	check(7, 3, 1)
	check(1_000_000_000_000, 1000, 1) // much more than one unit per second: dry after 1 s
	for i := 0; i < 5000; i++ {
		check(1+rng.Int63n(10_000_000), 1+uint32(rng.Intn(64)), 1+rng.Int63n(1_000_000_000))
	}
	require.Equal(t, start+25, types.RunsDryAt(start, math.NewInt(3600000), 1, math.NewInt(25000)))
	require.Equal(t, start+3600, types.RunsDryAt(start, math.NewInt(2500000), 2, math.NewInt(5000000)))
	require.Equal(t, start+3601, types.RunsDryAt(start, math.NewInt(2500000), 2, math.NewInt(5000001)))
}

// Funds that outlast year 9999 are capped at the far-future sentinel.
func TestRunsDryAtCappedAtMaxTime(t *testing.T) {
	require.Equal(t, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), types.MaxTime)
	huge := math.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 200))
	require.Equal(t, types.MaxUnix, types.RunsDryAt(0, math.NewInt(1), 1, huge))
	require.Equal(t, types.MaxUnix, types.RunsDryAt(types.MaxUnix-10, math.NewInt(3600), 1, math.NewInt(11)))
	require.Equal(t, types.MaxUnix, types.RunsDryAt(types.MaxUnix-10, math.NewInt(3600), 1, math.NewInt(10)))
	require.Equal(t, types.MaxUnix-1, types.RunsDryAt(types.MaxUnix-10, math.NewInt(3600), 1, math.NewInt(9)))
	require.Equal(t, types.MaxUnix, types.RunsDryAt(0, math.ZeroInt(), 1, math.NewInt(1)), "a zero rate never runs dry")
}

func TestMulRateFloor(t *testing.T) {
	require.Equal(t, math.NewInt(20000), types.MulRateFloor(math.NewInt(1_000_000), rate2pc))
	require.Equal(t, math.NewInt(2500), types.MulRateFloor(math.NewInt(1_000_000), reserve))
	require.True(t, types.MulRateFloor(math.NewInt(399), reserve).IsZero())
	require.Equal(t, math.NewInt(1), types.MulRateFloor(math.NewInt(400), reserve))
	require.Equal(t, math.NewInt(7), types.MulRateFloor(math.NewInt(399), rate2pc))
	require.True(t, types.MulRateFloor(math.NewInt(5), math.LegacyZeroDec()).IsZero())
	// Exact at the 18th decimal: (10^18 − 1) × 0.999999999999999999 =
	// 10^18 − 2 + 10^−18.
	n := math.NewInt(999_999_999_999_999_999)
	require.Equal(t, math.NewInt(999_999_999_999_999_998), types.MulRateFloor(n, math.LegacyMustNewDecFromStr("0.999999999999999999")))
}

func TestSplitSettlement(t *testing.T) {
	s := types.SplitSettlement(math.ZeroInt(), math.NewInt(1_000_000), rate2pc, reserve)
	require.Equal(t, []math.Int{math.NewInt(1_000_000), math.NewInt(977_500), math.NewInt(20_000), math.NewInt(2_500)},
		[]math.Int{s.Amount, s.Provider, s.Take, s.Reserve})
	require.True(t, s.ReserveCut.IsZero())

	s = types.SplitSettlement(math.ZeroInt(), math.NewInt(5000), rate10pc, reserve)
	require.Equal(t, []math.Int{math.NewInt(4488), math.NewInt(500), math.NewInt(12)}, []math.Int{s.Provider, s.Take, s.Reserve})

	// Cumulative: 399 → 400 crosses a multiple of 50 and of 400.
	s = types.SplitSettlement(math.NewInt(399), math.NewInt(400), rate2pc, reserve)
	require.Equal(t, "1", s.Take.String())
	require.Equal(t, "0", s.Reserve.String(), "the reserve fee is cut: the provider's part cannot be negative")
	require.Equal(t, "0", s.Provider.String())
	require.Equal(t, "1", s.ReserveCut.String())

	// Nothing owed, nothing split.
	s = types.SplitSettlement(math.NewInt(7), math.NewInt(7), rate2pc, reserve)
	require.True(t, s.Amount.IsZero() && s.Fees().IsZero() && s.Provider.IsZero())
}

// settleInSteps settles a stream at each of the times in order and returns
// the sums of the splits.
func settleInSteps(price math.Int, gpus uint32, funds math.Int, times []int64, take, res math.LegacyDec) (gross, prov, tk, rs, cut math.Int) {
	gross, prov, tk, rs, cut = math.ZeroInt(), math.ZeroInt(), math.ZeroInt(), math.ZeroInt(), math.ZeroInt()
	paid := math.ZeroInt()
	for _, at := range times {
		next := types.OwedCapped(price, gpus, at, funds)
		s := types.SplitSettlement(paid, next, take, res)
		if s.Provider.IsNegative() || s.Take.IsNegative() || s.Reserve.IsNegative() {
			panic("negative part")
		}
		if !s.Provider.Add(s.Take).Add(s.Reserve).Equal(s.Amount) {
			panic("parts do not add up")
		}
		gross, prov, tk, rs, cut = gross.Add(s.Amount), prov.Add(s.Provider), tk.Add(s.Take), rs.Add(s.Reserve), cut.Add(s.ReserveCut)
		paid = next
	}
	return gross, prov, tk, rs, cut
}

// Property: N settlements at random points of a span pay exactly the same
// gross, take fee and reserve fee as one settlement over it. The only
// exception is a reserve fee cut in a one-unit settlement (SplitSettlement),
// which is counted and accounted for exactly.
func TestManySettlementsEqualOne(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	cuts := 0
	for i := 0; i < 2000; i++ {
		price := math.NewInt(1 + rng.Int63n(5_000_000))
		if i%4 == 0 {
			price = math.NewInt(1 + rng.Int63n(20)) // slow streams: one-unit settlements
		}
		gpus := 1 + uint32(rng.Intn(16))
		span := 1 + rng.Int63n(10*24*3600)
		funds := math.NewInt(1 + rng.Int63n(1_000_000_000_000))
		take := rate2pc
		if i%2 == 1 {
			take = rate10pc
		}
		n := 1 + rng.Intn(50)
		times := make([]int64, 0, n+1)
		for j := 0; j < n; j++ {
			times = append(times, rng.Int63n(span+1))
		}
		times = append(times, span)
		sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })

		g1, p1, t1, r1, c1 := settleInSteps(price, gpus, funds, []int64{span}, take, reserve)
		gN, pN, tN, rN, cN := settleInSteps(price, gpus, funds, times, take, reserve)
		require.True(t, c1.IsZero(), "one settlement from zero is never cut")
		requireIntEqual(t, g1, gN, "gross, case %d", i)
		requireIntEqual(t, t1, tN, "take fee, case %d", i)
		requireIntEqual(t, r1, rN.Add(cN), "reserve fee plus cuts, case %d", i)
		requireIntEqual(t, p1, pN.Sub(cN), "provider part minus cuts, case %d", i)
		require.True(t, g1.Equal(types.OwedCapped(price, gpus, span, funds)))
		cuts += int(cN.Int64())
	}
	t.Logf("%d reserve cuts of one unit over 2000 cases", cuts)
}

// With every settlement above one base unit there is no cut, at the default
// rates: splitting is exact.
func TestNoCutAboveOneUnit(t *testing.T) {
	for _, take := range []math.LegacyDec{rate2pc, rate10pc} {
		for before := int64(0); before < 5000; before++ {
			for _, amount := range []int64{2, 3, 7, 50, 399, 400, 401} {
				s := types.SplitSettlement(math.NewInt(before), math.NewInt(before+amount), take, reserve)
				require.True(t, s.ReserveCut.IsZero(), "%d → %d at %s", before, before+amount, take)
			}
		}
	}
}

// FuzzSettlement checks the settlement arithmetic on arbitrary inputs:
// owed is monotone in time and matches the formula, runs_dry_at is the
// first second owed reaches the funds, and a settlement split in two at any
// point pays the same gross and fees as one (up to a counted reserve cut),
// with every part non-negative and the parts adding up.
func FuzzSettlement(f *testing.F) {
	f.Add(int64(2_500_000), uint32(2), int64(5_000_000), int64(100), int64(3600), uint16(200), uint16(25))
	f.Add(int64(1), uint32(1), int64(1), int64(1), int64(7200), uint16(200), uint16(25))
	f.Add(int64(3_600_000), uint32(1), int64(25_000), int64(10), int64(30), uint16(1000), uint16(25))
	f.Add(int64(20), uint32(20), int64(400), int64(3599), int64(3600), uint16(200), uint16(25))
	f.Fuzz(func(t *testing.T, price int64, gpus uint32, funds, split, end int64, takeBP, reserveBP uint16) {
		if price <= 0 || gpus == 0 || funds <= 0 || end <= 0 || split < 0 || split > end || end > 1<<40 {
			t.Skip()
		}
		takeBP, reserveBP = takeBP%10000, reserveBP%10000
		if int(takeBP)+int(reserveBP) >= 10000 {
			t.Skip()
		}
		take := math.LegacyNewDecWithPrec(int64(takeBP), 4)
		res := math.LegacyNewDecWithPrec(int64(reserveBP), 4)
		p, d := math.NewInt(price), math.NewInt(funds)

		// owed(t) = floor(p × g × t / 3600), monotone.
		want := new(big.Int).Mul(big.NewInt(price), big.NewInt(int64(gpus)))
		want.Mul(want, big.NewInt(end))
		want.Quo(want, big.NewInt(3600))
		require.Zero(t, want.Cmp(types.Owed(p, gpus, end)))
		require.LessOrEqual(t, types.Owed(p, gpus, split).Cmp(types.Owed(p, gpus, end)), 0)

		at := types.RunsDryAt(0, p, gpus, d)
		require.GreaterOrEqual(t, types.Owed(p, gpus, at).Cmp(d.BigInt()), 0)
		require.Negative(t, types.Owed(p, gpus, at-1).Cmp(d.BigInt()))

		g1, p1, t1, r1, _ := settleInSteps(p, gpus, d, []int64{end}, take, res)
		g2, p2, t2, r2, c2 := settleInSteps(p, gpus, d, []int64{split, end}, take, res)
		requireIntEqual(t, g1, g2)
		requireIntEqual(t, t1, t2)
		requireIntEqual(t, r1, r2.Add(c2))
		requireIntEqual(t, p1, p2.Sub(c2))
		require.True(t, c2.LTE(math.OneInt()))
		require.True(t, g1.LTE(d))
	})
}

// requireIntEqual compares Ints by value (a zero Int has several
// representations).
func requireIntEqual(t *testing.T, want, got math.Int, msgAndArgs ...any) {
	t.Helper()
	if !want.Equal(got) {
		require.Equal(t, want.String(), got.String(), msgAndArgs...)
	}
}
