package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Each invariant detects the state it guards being broken.
func TestInvariantsDetectBrokenState(t *testing.T) {
	setup := func(t *testing.T) (*fixture, types.UnbondingEntry) {
		f := newFixture(t)
		f.register(f.provider, 0)
		f.bond(f.provider, 1000)
		f.unbond(f.provider, 400)
		f.checkInvariants()
		f.corrupted = true
		return f, f.entries(f.provider)[0]
	}

	for _, tc := range []struct {
		name    string
		corrupt func(f *fixture, e types.UnbondingEntry)
		want    string
	}{
		{"bonded raised without coins", func(f *fixture, _ types.UnbondingEntry) {
			c, _, err := f.k.GetCollateral(f.ctx, f.provider)
			require.NoError(t, err)
			c.Bonded = c.Bonded.AddRaw(1)
			require.NoError(t, f.k.Collaterals.Set(f.ctx, f.provider, c))
		}, "module account holds 1000umesh, but bonded 601 + unbonding 400 = 1001umesh"},
		{"entry balance lowered without paying", func(f *fixture, e types.UnbondingEntry) {
			e.Balance = e.Balance.SubRaw(1)
			require.NoError(t, f.k.UnbondingEntries.Set(f.ctx, collections.Join(f.provider, e.Id), e))
		}, "module account holds 1000umesh"},
		{"queue key missing", func(f *fixture, e types.UnbondingEntry) {
			require.NoError(t, f.k.UnbondingQueue.Remove(f.ctx, collections.Join3(e.CompletionTime, f.provider, e.Id)))
		}, "is not queued"},
		{"stray queue key", func(f *fixture, e types.UnbondingEntry) {
			require.NoError(t, f.k.UnbondingQueue.Set(f.ctx, collections.Join3(e.CompletionTime.Add(time.Second), f.provider, e.Id)))
		}, "does not match the entry's completion time"},
		{"queue key without entry", func(f *fixture, e types.UnbondingEntry) {
			require.NoError(t, f.k.UnbondingQueue.Set(f.ctx, collections.Join3(e.CompletionTime, f.provider, e.Id+5)))
		}, "has no entry"},
		{"entry without collateral", func(f *fixture, e types.UnbondingEntry) {
			require.NoError(t, f.k.UnbondingEntries.Set(f.ctx, collections.Join(f.provider2, e.Id), e))
			require.NoError(t, f.k.UnbondingQueue.Set(f.ctx, collections.Join3(e.CompletionTime, f.provider2, e.Id)))
		}, "has no collateral"},
		{"entry id not numbered", func(f *fixture, _ types.UnbondingEntry) {
			c, _, err := f.k.GetCollateral(f.ctx, f.provider)
			require.NoError(t, err)
			c.NextUnbondingId = 0
			require.NoError(t, f.k.Collaterals.Set(f.ctx, f.provider, c))
		}, "is not below next_unbonding_id 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, e := setup(t)
			tc.corrupt(f, e)
			err := f.k.CheckInvariants(f.ctx)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
