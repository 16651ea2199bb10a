package keeper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

func tenantOf(a sdk.AccAddress) types.Beneficiary {
	return types.Beneficiary{Address: a, Role: types.BENEFICIARY_ROLE_TENANT}
}

// A slash takes the fraction from the bonded stake and from the unbonding
// entries that started at or after the infraction, never from older ones,
// and pays the tenant 50% and the reserve the rest, exactly.
func TestSlashBondedAndUnbonding(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 1_500_000)
	h0 := f.ctx.BlockHeight()

	older := f.unbond(f.provider, 200_000) // started before the infraction
	f.at(h0+10, f.ctx.BlockTime().Add(time.Minute))
	infractionHeight := f.ctx.BlockHeight()
	f.at(h0+11, f.ctx.BlockTime().Add(time.Minute))
	newer := f.unbond(f.provider, 300_000) // started after it: still slashable
	require.Equal(t, ints(1_000_000), f.bonded(f.provider))

	f.at(h0+20, f.ctx.BlockTime().Add(time.Hour))
	moduleBefore := f.balance(f.moduleAddr)
	tenantBefore, reserveBefore := f.balance(f.tenant), f.balance(f.reserveAddr)

	res, err := f.k.Slash(f.ctx, f.provider, types.INFRACTION_WRONG_OPENING, infractionHeight, tenantOf(f.tenant))
	require.NoError(t, err)
	require.Equal(t, ints(100_000), res.FromBonded)
	require.Equal(t, ints(30_000), res.FromUnbonding)
	require.Equal(t, ints(130_000), res.Total)
	require.False(t, res.Escalated)
	require.Equal(t, f.ctx.BlockTime().Add(7*24*time.Hour), res.JailedUntil)
	wantPayouts := []types.SlashPayout{
		{Address: f.tenant.String(), Role: types.BENEFICIARY_ROLE_TENANT, Amount: ints(65_000)},
		{Address: f.reserveAddr.String(), Role: types.BENEFICIARY_ROLE_UNSPECIFIED, Amount: ints(65_000)},
	}
	require.Equal(t, wantPayouts, res.Payouts)

	// Balances moved exactly.
	require.Equal(t, tenantBefore.AddRaw(65_000), f.balance(f.tenant))
	require.Equal(t, reserveBefore.AddRaw(65_000), f.balance(f.reserveAddr))
	require.Equal(t, moduleBefore.SubRaw(130_000), f.balance(f.moduleAddr))

	// State: bonded and the newer entry reduced, the older one untouched.
	require.Equal(t, ints(900_000), f.bonded(f.provider))
	entries := f.entries(f.provider)
	require.Len(t, entries, 2)
	require.Equal(t, older.EntryId, entries[0].Id)
	require.Equal(t, ints(200_000), entries[0].Balance)
	require.Equal(t, newer.EntryId, entries[1].Id)
	require.Equal(t, ints(270_000), entries[1].Balance)
	require.Equal(t, ints(300_000), entries[1].InitialBalance)
	jailed, err := f.k.IsJailed(f.ctx, f.provider)
	require.NoError(t, err)
	require.True(t, jailed)

	// Events.
	slashed := eventsOf[*types.EventProviderSlashed](t, f.ctx)
	require.Len(t, slashed, 1)
	require.Equal(t, types.EventProviderSlashed{
		Provider: f.provider.String(), Infraction: types.INFRACTION_WRONG_OPENING, InfractionHeight: infractionHeight,
		SlashFraction: math.LegacyNewDecWithPrec(10, 2), FromBonded: ints(100_000), FromUnbonding: ints(30_000),
		Payouts: wantPayouts, Denom: denom,
	}, *slashed[0])
	jailEvents := eventsOf[*types.EventProviderJailed](t, f.ctx)
	require.Len(t, jailEvents, 1)
	require.Equal(t, res.JailedUntil, jailEvents[0].JailedUntil)
	changed := eventsOf[*types.EventEligibilityChanged](t, f.ctx)
	require.Len(t, changed, 1)
	require.False(t, changed[0].Eligible)
	require.True(t, changed[0].Jailed)
	f.checkInvariants()

	// A later slash takes 10% of the initial balance again, capped by what
	// is left; the older entry stays untouched.
	f.newEvents()
	res, err = f.k.Slash(f.ctx, f.provider, types.INFRACTION_UNOPENED_COMMIT, infractionHeight)
	require.NoError(t, err)
	require.Equal(t, ints(90_000), res.FromBonded)
	require.Equal(t, ints(30_000), res.FromUnbonding)
	require.Equal(t, []types.SlashPayout{
		{Address: f.reserveAddr.String(), Role: types.BENEFICIARY_ROLE_UNSPECIFIED, Amount: ints(120_000)},
	}, res.Payouts, "no beneficiaries: everything to the reserve")
	entries = f.entries(f.provider)
	require.Equal(t, ints(200_000), entries[0].Balance)
	require.Equal(t, ints(240_000), entries[1].Balance)
	f.checkInvariants()
}

func TestSlashCapsAtEntryBalance(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 1000)
	f.unbond(f.provider, 1000)
	h := f.ctx.BlockHeight()

	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	params.DisputeFailed.SlashFraction = math.LegacyNewDecWithPrec(60, 2)
	require.NoError(t, f.k.Params.Set(f.ctx, params))

	res, err := f.k.Slash(f.ctx, f.provider, types.INFRACTION_DISPUTE_FAILED, h)
	require.NoError(t, err)
	require.Equal(t, ints(600), res.FromUnbonding)
	res, err = f.k.Slash(f.ctx, f.provider, types.INFRACTION_DISPUTE_FAILED, h)
	require.NoError(t, err)
	require.Equal(t, ints(400), res.FromUnbonding, "60% of the initial 1000, capped at the 400 left")
	require.True(t, f.entries(f.provider)[0].Balance.IsZero())
	res, err = f.k.Slash(f.ctx, f.provider, types.INFRACTION_DISPUTE_FAILED, h)
	require.NoError(t, err)
	require.True(t, res.Total.IsZero())
	require.Empty(t, res.Payouts)
	f.checkInvariants()

	// The emptied entry still completes (paying nothing) and is removed.
	f.at(h+1, f.entries(f.provider)[0].CompletionTime)
	f.newEvents()
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Empty(t, f.entries(f.provider))
	done := eventsOf[*types.EventUnbondingCompleted](t, f.ctx)
	require.Len(t, done, 1)
	require.True(t, done[0].Amount.IsZero())
	f.checkInvariants()
}

// Shares are split equally, rounded down, and every remainder goes to the
// reserve: the payouts add up to the total exactly.
func TestSlashPayoutRounding(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 999)
	reserveBefore := f.balance(f.reserveAddr)
	t1, t2 := f.balance(f.tenant), f.balance(f.tenant2)

	res, err := f.k.Slash(f.ctx, f.provider, types.INFRACTION_DISPUTE_FAILED, f.ctx.BlockHeight(),
		tenantOf(f.tenant), tenantOf(f.tenant2))
	require.NoError(t, err)
	// 20% of 999 = floor(199.8) = 199; tenants floor(99.5) = 99 → 49 each;
	// reserve 199 − 98 = 101.
	require.Equal(t, ints(199), res.Total)
	require.Equal(t, []types.SlashPayout{
		{Address: f.tenant.String(), Role: types.BENEFICIARY_ROLE_TENANT, Amount: ints(49)},
		{Address: f.tenant2.String(), Role: types.BENEFICIARY_ROLE_TENANT, Amount: ints(49)},
		{Address: f.reserveAddr.String(), Role: types.BENEFICIARY_ROLE_UNSPECIFIED, Amount: ints(101)},
	}, res.Payouts)
	sum := math.ZeroInt()
	for _, p := range res.Payouts {
		sum = sum.Add(p.Amount)
	}
	require.Equal(t, res.Total, sum)
	require.Equal(t, t1.AddRaw(49), f.balance(f.tenant))
	require.Equal(t, t2.AddRaw(49), f.balance(f.tenant2))
	require.Equal(t, reserveBefore.AddRaw(101), f.balance(f.reserveAddr))
	f.checkInvariants()
}

// A blocked beneficiary (a module account) gets nothing: its part goes to
// the reserve.
func TestSlashBlockedBeneficiary(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 1_000_000)
	blocked := authtypes.NewModuleAddress(distrtypes.ModuleName)
	require.True(t, f.app.BankKeeper.BlockedAddr(blocked))
	blockedBefore, reserveBefore, tenantBefore := f.balance(blocked), f.balance(f.reserveAddr), f.balance(f.tenant)

	res, err := f.k.Slash(f.ctx, f.provider, types.INFRACTION_UNOPENED_COMMIT, f.ctx.BlockHeight(),
		tenantOf(blocked), tenantOf(f.tenant))
	require.NoError(t, err)
	require.Equal(t, ints(100_000), res.Total)
	require.Equal(t, []types.SlashPayout{
		{Address: f.tenant.String(), Role: types.BENEFICIARY_ROLE_TENANT, Amount: ints(25_000)},
		{Address: f.reserveAddr.String(), Role: types.BENEFICIARY_ROLE_UNSPECIFIED, Amount: ints(75_000)},
	}, res.Payouts)
	require.Equal(t, blockedBefore, f.balance(blocked))
	require.Equal(t, tenantBefore.AddRaw(25_000), f.balance(f.tenant))
	require.Equal(t, reserveBefore.AddRaw(75_000), f.balance(f.reserveAddr))
	f.checkInvariants()
}

// A provider with no record or no stake is still jailed and the slash
// still reported, with zero amounts; an infraction without jail leaves no
// record behind.
func TestSlashWithoutStake(t *testing.T) {
	f := newFixture(t)
	stranger := f.provider2

	res, err := f.k.Slash(f.ctx, stranger, types.INFRACTION_EARLY_CLOSE, f.ctx.BlockHeight(), tenantOf(f.tenant))
	require.NoError(t, err)
	require.True(t, res.Total.IsZero())
	require.Empty(t, res.Payouts)
	require.True(t, res.JailedUntil.IsZero(), "early close does not jail")
	_, found, err := f.k.GetCollateral(f.ctx, stranger)
	require.NoError(t, err)
	require.False(t, found)
	require.Len(t, eventsOf[*types.EventProviderSlashed](t, f.ctx), 1)

	f.newEvents()
	res, err = f.k.Slash(f.ctx, stranger, types.INFRACTION_WRONG_OPENING, f.ctx.BlockHeight())
	require.NoError(t, err)
	require.True(t, res.FromBonded.IsZero())
	require.True(t, res.FromUnbonding.IsZero())
	require.Equal(t, f.ctx.BlockTime().Add(7*24*time.Hour), res.JailedUntil)
	slashed := eventsOf[*types.EventProviderSlashed](t, f.ctx)
	require.Len(t, slashed, 1)
	require.True(t, slashed[0].FromBonded.IsZero())
	require.Empty(t, slashed[0].Payouts)
	require.Len(t, eventsOf[*types.EventProviderJailed](t, f.ctx), 1)
	jailed, err := f.k.IsJailed(f.ctx, stranger)
	require.NoError(t, err)
	require.True(t, jailed)
	f.checkInvariants()

	// A jail taken before registering still applies after it.
	f.register(stranger, 0)
	require.False(t, f.eligible(stranger))
}

func TestSlashRejectsBadInput(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 1000)
	h := f.ctx.BlockHeight()

	for _, tc := range []struct {
		name       string
		infraction types.Infraction
		height     int64
		bens       []types.Beneficiary
		wantErr    error
		want       string
	}{
		{"unspecified infraction", types.INFRACTION_UNSPECIFIED, h, nil, types.ErrInvalidInfraction, "INFRACTION_UNSPECIFIED"},
		{"unknown infraction", types.Infraction(42), h, nil, types.ErrInvalidInfraction, "42"},
		{"future height", types.INFRACTION_WRONG_OPENING, h + 1, nil, types.ErrInvalidInfraction,
			fmt.Sprintf("infraction_height must be in [0, %d] (the current height), got %d", h, h+1)},
		{"negative height", types.INFRACTION_WRONG_OPENING, -1, nil, types.ErrInvalidInfraction, "got -1"},
		{"beneficiary without role", types.INFRACTION_WRONG_OPENING, h,
			[]types.Beneficiary{{Address: f.tenant}}, types.ErrInvalidBeneficiary, "beneficiaries[0].role"},
		{"beneficiary without address", types.INFRACTION_WRONG_OPENING, h,
			[]types.Beneficiary{tenantOf(f.tenant), {Role: types.BENEFICIARY_ROLE_TENANT}}, types.ErrInvalidBeneficiary,
			"beneficiaries[1].address is empty"},
		// The reporter role (2) was removed with reporter_share.
		{"removed reporter role", types.INFRACTION_WRONG_OPENING, h,
			[]types.Beneficiary{{Address: f.tenant, Role: types.BeneficiaryRole(2)}}, types.ErrInvalidBeneficiary,
			"beneficiaries[0].role must be TENANT, got 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.k.Slash(f.ctx, f.provider, tc.infraction, tc.height, tc.bens...)
			require.ErrorIs(t, err, tc.wantErr)
			require.Contains(t, err.Error(), tc.want)
		})
	}
	require.Equal(t, ints(1000), f.bonded(f.provider))
	jailed, err := f.k.IsJailed(f.ctx, f.provider)
	require.NoError(t, err)
	require.False(t, jailed)
}

// Missed commits are counted within a sliding window; the miss that
// reaches the limit slashes 1% and jails for a day, and clears the count.
func TestMissedCommitEscalation(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 1_000_000)
	t0 := f.ctx.BlockTime()
	miss := func(at time.Duration) types.SlashResult {
		t.Helper()
		f.at(f.ctx.BlockHeight()+1, t0.Add(at))
		res, err := f.k.Slash(f.ctx, f.provider, types.INFRACTION_MISSED_COMMIT, f.ctx.BlockHeight(), tenantOf(f.reporter))
		require.NoError(t, err)
		return res
	}
	counted := func(n uint32) {
		t.Helper()
		ev := eventsOf[*types.EventCommitMissed](t, f.ctx)
		require.Len(t, ev, 1)
		require.Equal(t, types.EventCommitMissed{Provider: f.provider.String(), MissesInWindow: n, Limit: 3}, *ev[0])
		require.Empty(t, eventsOf[*types.EventProviderSlashed](t, f.ctx))
	}

	res := miss(0)
	require.False(t, res.Escalated)
	require.True(t, res.Total.IsZero())
	require.True(t, res.JailedUntil.IsZero())
	counted(1)
	miss(23 * time.Hour)
	counted(2)
	// 25h: the miss at 0 left the 24h window, so this is the second, not the third.
	res = miss(25 * time.Hour)
	require.False(t, res.Escalated)
	counted(2)
	c, _, err := f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	require.Equal(t, []time.Time{t0.Add(23 * time.Hour), t0.Add(25 * time.Hour)}, c.MissedCommits)
	require.Equal(t, ints(1_000_000), f.bonded(f.provider))
	jailed, err := f.k.IsJailed(f.ctx, f.provider)
	require.NoError(t, err)
	require.False(t, jailed)

	reporterBefore := f.balance(f.reporter)
	res = miss(26 * time.Hour)
	require.True(t, res.Escalated)
	require.Equal(t, ints(10_000), res.FromBonded)
	require.Equal(t, ints(10_000), res.Total)
	require.Equal(t, t0.Add(26*time.Hour+24*time.Hour), res.JailedUntil)
	require.Equal(t, reporterBefore.AddRaw(5_000), f.balance(f.reporter), "the tenant share of the escalated slash")
	require.Empty(t, eventsOf[*types.EventCommitMissed](t, f.ctx))
	require.Len(t, eventsOf[*types.EventProviderSlashed](t, f.ctx), 1)
	c, _, err = f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	require.Empty(t, c.MissedCommits, "the count starts over")
	require.True(t, c.Jailed)

	res = miss(27 * time.Hour)
	require.False(t, res.Escalated)
	counted(1)
	f.checkInvariants()
}

// The hooks run after a slash (eligibility lost, jailed, then slashed, with
// the total) and after Jail; a failing hook undoes the whole slash.
func TestSlashHooks(t *testing.T) {
	f := newHookedFixture(t)
	f.register(f.provider, 0)
	p := f.provider.String()
	require.Equal(t, []string{"eligible " + p + " true"}, f.hooks.calls, "registered with no GPU: eligible")
	f.bond(f.provider, 1000)
	f.hooks.calls = nil

	res, err := f.k.Slash(f.ctx, f.provider, types.INFRACTION_WRONG_OPENING, f.ctx.BlockHeight())
	require.NoError(t, err)
	// The jail makes the provider ineligible: that hook runs first, inside
	// the record's update.
	require.Equal(t, []string{"eligible " + p + " false", "jailed " + p, "slashed " + p + " INFRACTION_WRONG_OPENING"},
		f.hooks.calls)
	require.Equal(t, []time.Time{res.JailedUntil}, f.hooks.jails)
	require.Equal(t, []math.Int{ints(100)}, f.hooks.total)

	f.hooks.calls = nil
	_, err = f.k.Slash(f.ctx, f.provider, types.INFRACTION_EARLY_CLOSE, f.ctx.BlockHeight())
	require.NoError(t, err)
	require.Equal(t, []string{"slashed " + p + " INFRACTION_EARLY_CLOSE"}, f.hooks.calls, "no jail, no jail hook")

	f.hooks.calls = nil
	until := f.ctx.BlockTime().Add(30 * 24 * time.Hour)
	require.NoError(t, f.k.Jail(f.ctx, f.provider2, until, types.INFRACTION_DISPUTE_FAILED))
	require.Equal(t, []string{"jailed " + f.provider2.String()}, f.hooks.calls)
	require.Equal(t, until, f.hooks.jails[len(f.hooks.jails)-1])

	// A counted missed commit is no slash: no hook.
	f.hooks.calls = nil
	_, err = f.k.Slash(f.ctx, f.provider, types.INFRACTION_MISSED_COMMIT, f.ctx.BlockHeight())
	require.NoError(t, err)
	require.Empty(t, f.hooks.calls)

	// A failing hook: the slash returns its error and nothing is written.
	bonded, reserve := f.bonded(f.provider), f.balance(f.reserveAddr)
	before, _, err := f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	f.hooks.err = errHook
	f.newEvents()
	_, err = f.k.Slash(f.ctx, f.provider, types.INFRACTION_DISPUTE_FAILED, f.ctx.BlockHeight())
	require.ErrorIs(t, err, errHook)
	after, _, err := f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Equal(t, bonded, f.bonded(f.provider))
	require.Equal(t, reserve, f.balance(f.reserveAddr))
	require.Empty(t, f.ctx.EventManager().Events())
	f.checkInvariants()
}
