package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

var start = apptest.StartingBalance.AmountOf(denom)

func TestBondAndUnbond(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 8) // requires 800 MESH
	require.False(t, f.eligible(f.provider))

	f.newEvents()
	f.bond(f.provider, 800_000_000)
	require.Equal(t, start.SubRaw(800_000_000), f.balance(f.provider))
	require.Equal(t, ints(800_000_000), f.balance(f.moduleAddr))
	require.Equal(t, ints(800_000_000), f.bonded(f.provider))
	require.True(t, f.eligible(f.provider))
	bonded := eventsOf[*types.EventBonded](t, f.ctx)
	require.Len(t, bonded, 1)
	require.Equal(t, f.provider.String(), bonded[0].Provider)
	require.Equal(t, ints(800_000_000), bonded[0].Amount)
	require.Equal(t, ints(800_000_000), bonded[0].Bonded)
	changed := eventsOf[*types.EventEligibilityChanged](t, f.ctx)
	require.Len(t, changed, 1)
	require.True(t, changed[0].Eligible)
	require.Equal(t, ints(800_000_000), changed[0].Required)
	f.checkInvariants()

	// A top-up adds and does not flip eligibility again.
	f.newEvents()
	f.bond(f.provider, 1)
	require.Equal(t, ints(800_000_001), f.bonded(f.provider))
	require.Empty(t, eventsOf[*types.EventEligibilityChanged](t, f.ctx))

	// The bond the listed GPUs require cannot leave: only the excess can.
	// (The attack: unbond everything while leases run, then abandon them or
	// fail a dispute, and the slash finds nothing.)
	f.newEvents()
	_, err := f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: f.provider.String(), Amount: coin(300_000_000)})
	require.ErrorIs(t, err, types.ErrBondLocked)
	require.ErrorContains(t, err, "amount 300000000umesh would leave 500000001umesh bonded, below the 800000000umesh that 8 listed GPUs require")
	require.ErrorContains(t, err, "at most 1umesh can be unbonded now")
	require.Equal(t, ints(800_000_001), f.bonded(f.provider))
	require.Empty(t, f.entries(f.provider))
	res := f.unbond(f.provider, 1)
	require.Equal(t, uint64(0), res.EntryId)
	require.Equal(t, ints(800_000_000), f.bonded(f.provider))
	require.True(t, f.eligible(f.provider))

	// Listing fewer GPUs frees their bond.
	require.NoError(t, f.k.ProviderHooks().AfterInventoryChanged(f.ctx, f.provider, 5))
	f.advance(time.Minute)
	f.newEvents()
	res = f.unbond(f.provider, 300_000_000)
	require.Equal(t, uint64(1), res.EntryId)
	require.Equal(t, f.ctx.BlockTime().Add(21*24*time.Hour), res.CompletionTime)
	// Unbonding moves no coin yet: the stake stays in the module, slashable.
	require.Equal(t, start.SubRaw(800_000_001), f.balance(f.provider))
	require.Equal(t, ints(800_000_001), f.balance(f.moduleAddr))
	require.Equal(t, ints(500_000_000), f.bonded(f.provider))
	require.True(t, f.eligible(f.provider), "bonded exactly what 5 GPUs require")
	started := eventsOf[*types.EventUnbondingStarted](t, f.ctx)
	require.Len(t, started, 1)
	require.Equal(t, types.EventUnbondingStarted{
		Provider: f.provider.String(), EntryId: 1, Amount: ints(300_000_000), CompletionTime: res.CompletionTime,
	}, *started[0])
	require.Empty(t, eventsOf[*types.EventEligibilityChanged](t, f.ctx))

	entries := f.entries(f.provider)
	require.Len(t, entries, 2)
	require.Equal(t, types.UnbondingEntry{
		Provider: f.provider.String(), Id: 1, CreationHeight: f.ctx.BlockHeight(), CompletionTime: res.CompletionTime,
		InitialBalance: ints(300_000_000), Balance: ints(300_000_000),
	}, entries[1])

	// Without listed GPUs everything may leave; ids count up per provider.
	require.NoError(t, f.k.ProviderHooks().AfterInventoryChanged(f.ctx, f.provider, 0))
	f.advance(time.Minute)
	require.Equal(t, uint64(2), f.unbond(f.provider, 500_000_000).EntryId)
	require.True(t, f.bonded(f.provider).IsZero())
	f.checkInvariants()
}

func TestMsgErrors(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 1)
	f.bond(f.provider, 1000)
	p := f.provider.String()
	unregistered := f.provider2.String()

	for _, tc := range []struct {
		name    string
		run     func() error
		wantErr error
		want    []string
	}{
		{"bond from an unregistered provider", func() error {
			_, err := f.msgs.Bond(f.ctx, &types.MsgBond{Provider: unregistered, Amount: coin(5)})
			return err
		}, types.ErrProviderNotRegistered, []string{unregistered}},
		{"bond in the wrong denom", func() error {
			_, err := f.msgs.Bond(f.ctx, &types.MsgBond{Provider: p, Amount: sdk.NewCoin("uusdc", math.NewInt(5))})
			return err
		}, types.ErrWrongDenom, []string{`amount denom "uusdc"`, `"umesh"`}},
		{"bond from a bad address", func() error {
			_, err := f.msgs.Bond(f.ctx, &types.MsgBond{Provider: "mesh1bad", Amount: coin(5)})
			return err
		}, sdkerrors.ErrInvalidAddress, []string{`provider "mesh1bad"`}},
		{"bond zero", func() error {
			_, err := f.msgs.Bond(f.ctx, &types.MsgBond{Provider: p, Amount: coin(0)})
			return err
		}, types.ErrInvalidAmount, []string{"amount", "0umesh"}},
		{"bond more than the account holds", func() error {
			_, err := f.msgs.Bond(f.ctx, &types.MsgBond{Provider: p, Amount: sdk.NewCoin(denom, start.AddRaw(1))})
			return err
		}, sdkerrors.ErrInsufficientFunds, nil},
		{"unbond more than bonded", func() error {
			_, err := f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: p, Amount: coin(1001)})
			return err
		}, types.ErrInsufficientBond, []string{"amount 1001umesh", "bonded 1000umesh"}},
		{"unbond without a record", func() error {
			_, err := f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: unregistered, Amount: coin(1)})
			return err
		}, types.ErrInsufficientBond, []string{"amount 1umesh", "bonded 0umesh"}},
		{"unbond in the wrong denom", func() error {
			_, err := f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: p, Amount: sdk.NewCoin("uusdc", math.NewInt(1))})
			return err
		}, types.ErrWrongDenom, []string{`"uusdc"`}},
		{"unbond negative", func() error {
			_, err := f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: p, Amount: sdk.Coin{Denom: denom, Amount: math.NewInt(-1)}})
			return err
		}, types.ErrInvalidAmount, []string{"amount", "-1umesh"}},
		{"unjail when not jailed", func() error {
			_, err := f.msgs.Unjail(f.ctx, &types.MsgUnjail{Provider: p})
			return err
		}, types.ErrNotJailed, []string{p}},
		{"unjail from a bad address", func() error {
			_, err := f.msgs.Unjail(f.ctx, &types.MsgUnjail{Provider: ""})
			return err
		}, sdkerrors.ErrInvalidAddress, []string{`provider ""`}},
		{"update params from a non-authority", func() error {
			_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: p, Params: types.DefaultParams()})
			return err
		}, sdkerrors.ErrUnauthorized, nil},
		{"update params with invalid params", func() error {
			params := types.DefaultParams()
			params.MissedCommitLimit = 0
			_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{
				Authority: authtypes.NewModuleAddress(govtypes.ModuleName).String(), Params: params,
			})
			return err
		}, types.ErrInvalidParams, []string{"missed_commit_limit must be >= 1, got 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			require.ErrorIs(t, err, tc.wantErr)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
	// Nothing moved.
	require.Equal(t, ints(1000), f.bonded(f.provider))
	require.Equal(t, start.SubRaw(1000), f.balance(f.provider))
	require.Equal(t, start, f.balance(f.provider2))
	require.Empty(t, f.entries(f.provider))
	f.checkInvariants()
}

func TestUpdateParamsByAuthority(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 2)
	f.bond(f.provider, 150_000_000)
	require.False(t, f.eligible(f.provider))

	params := types.DefaultParams()
	params.MinBondPerGpu = math.NewInt(75_000_000)
	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{
		Authority: authtypes.NewModuleAddress(govtypes.ModuleName).String(), Params: params,
	})
	require.NoError(t, err)
	got, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, params, got)
	required, err := f.k.RequiredBond(f.ctx, 2)
	require.NoError(t, err)
	require.Equal(t, ints(150_000_000), required)
	require.True(t, f.eligible(f.provider), "eligibility follows the params")
}

func TestMaxUnbondingEntries(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 100)
	for i := range 7 {
		require.Equal(t, uint64(i), f.unbond(f.provider, 1).EntryId)
	}
	_, err := f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: f.provider.String(), Amount: coin(1)})
	require.ErrorIs(t, err, types.ErrTooManyUnbondingEntries)
	require.Contains(t, err.Error(), "max_unbonding_entries is 7")
	require.Contains(t, err.Error(), "has 7 open unbonding entries")
	require.Equal(t, ints(93), f.bonded(f.provider))

	// Deregistration still unbonds the rest: at the limit, into the newest
	// entry, which now completes unbonding_time from now and keeps its
	// creation height (slashable as before).
	f.advance(time.Hour)
	newest := f.entries(f.provider)[6]
	require.NoError(t, f.k.ProviderHooks().AfterProviderDeregistered(f.ctx, f.provider))
	entries := f.entries(f.provider)
	require.Len(t, entries, 7)
	require.Equal(t, uint64(6), entries[6].Id)
	require.Equal(t, ints(94), entries[6].Balance)
	require.Equal(t, ints(94), entries[6].InitialBalance)
	require.Equal(t, newest.CreationHeight, entries[6].CreationHeight)
	require.Equal(t, f.ctx.BlockTime().Add(21*24*time.Hour), entries[6].CompletionTime)
	require.True(t, f.bonded(f.provider).IsZero())
	f.checkInvariants()

	// Once the entries complete, MsgUnbond is accepted again (nothing is
	// bonded here, so it fails on the amount, not on the limit).
	f.at(f.ctx.BlockHeight()+1, entries[6].CompletionTime)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Empty(t, f.entries(f.provider))
	require.Equal(t, start, f.balance(f.provider), "every entry paid back")
	_, found, err := f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	require.False(t, found, "an empty record of a deregistered provider is pruned")
	_, err = f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: f.provider.String(), Amount: coin(1)})
	require.ErrorIs(t, err, types.ErrInsufficientBond)
	f.checkInvariants()
}

func TestUnjailTiming(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	t0 := f.ctx.BlockTime()
	until := t0.Add(7 * 24 * time.Hour)

	f.newEvents()
	require.NoError(t, f.k.Jail(f.ctx, f.provider, until, types.INFRACTION_WRONG_OPENING))
	jailed := eventsOf[*types.EventProviderJailed](t, f.ctx)
	require.Len(t, jailed, 1)
	require.Equal(t, until, jailed[0].JailedUntil)
	require.Equal(t, types.INFRACTION_WRONG_OPENING, jailed[0].Infraction)
	require.Len(t, eventsOf[*types.EventEligibilityChanged](t, f.ctx), 1, "registered with 0 GPUs was eligible; jail flips it")
	isJailed, err := f.k.IsJailed(f.ctx, f.provider)
	require.NoError(t, err)
	require.True(t, isJailed)
	require.False(t, f.eligible(f.provider))

	// A shorter jail does not shorten the running one.
	require.NoError(t, f.k.Jail(f.ctx, f.provider, t0.Add(time.Hour), types.INFRACTION_EARLY_CLOSE))
	c, _, err := f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	require.Equal(t, until, c.JailedUntil)

	f.at(f.ctx.BlockHeight()+1, until.Add(-time.Nanosecond))
	_, err = f.msgs.Unjail(f.ctx, &types.MsgUnjail{Provider: f.provider.String()})
	require.ErrorIs(t, err, types.ErrJailPeriodNotOver)
	require.Contains(t, err.Error(), "jailed until "+until.Format(time.RFC3339Nano))

	f.at(f.ctx.BlockHeight()+1, until)
	_, err = f.msgs.Unjail(f.ctx, &types.MsgUnjail{Provider: f.provider.String()})
	require.NoError(t, err)
	require.Len(t, eventsOf[*types.EventProviderUnjailed](t, f.ctx), 1)
	changed := eventsOf[*types.EventEligibilityChanged](t, f.ctx)
	require.Len(t, changed, 1)
	require.True(t, changed[0].Eligible)
	require.True(t, f.eligible(f.provider))

	_, err = f.msgs.Unjail(f.ctx, &types.MsgUnjail{Provider: f.provider.String()})
	require.ErrorIs(t, err, types.ErrNotJailed)
	f.checkInvariants()
}

func TestJailRejectsUnknownInfraction(t *testing.T) {
	f := newFixture(t)
	err := f.k.Jail(f.ctx, f.provider, f.ctx.BlockTime().Add(time.Hour), types.INFRACTION_UNSPECIFIED)
	require.ErrorIs(t, err, types.ErrInvalidInfraction)
	jailed, err := f.k.IsJailed(f.ctx, f.provider)
	require.NoError(t, err)
	require.False(t, jailed)
}
