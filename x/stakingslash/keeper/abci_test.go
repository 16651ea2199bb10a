package keeper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Unbonding completes in EndBlock at its completion time, not a
// nanosecond earlier, and pays exactly the entry's balance.
func TestUnbondingCompletesAtCompletionTime(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 0)
	f.bond(f.provider, 1_000_000)
	first := f.unbond(f.provider, 300_000)
	f.advance(time.Hour)
	second := f.unbond(f.provider, 200_000)
	require.Equal(t, first.CompletionTime.Add(time.Hour), second.CompletionTime)
	f.checkInvariants()
	providerBefore, moduleBefore := f.balance(f.provider), f.balance(f.moduleAddr)

	// Just before: nothing happens.
	f.at(f.ctx.BlockHeight()+1, first.CompletionTime.Add(-time.Nanosecond))
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Len(t, f.entries(f.provider), 2)
	require.Equal(t, providerBefore, f.balance(f.provider))
	require.Empty(t, eventsOf[*types.EventUnbondingCompleted](t, f.ctx))

	// At the completion time of the first: only the first is paid.
	f.at(f.ctx.BlockHeight()+1, first.CompletionTime)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, providerBefore.AddRaw(300_000), f.balance(f.provider))
	require.Equal(t, moduleBefore.SubRaw(300_000), f.balance(f.moduleAddr))
	entries := f.entries(f.provider)
	require.Len(t, entries, 1)
	require.Equal(t, second.EntryId, entries[0].Id)
	done := eventsOf[*types.EventUnbondingCompleted](t, f.ctx)
	require.Len(t, done, 1)
	require.Equal(t, types.EventUnbondingCompleted{Provider: f.provider.String(), EntryId: first.EntryId, Amount: ints(300_000)}, *done[0])
	has, err := f.k.UnbondingQueue.Has(f.ctx, collections.Join3(first.CompletionTime, f.provider, first.EntryId))
	require.NoError(t, err)
	require.False(t, has, "the queue key is gone with the entry")
	f.checkInvariants()

	// A block long after pays the second once, and only once.
	f.at(f.ctx.BlockHeight()+1, second.CompletionTime.Add(48*time.Hour))
	require.NoError(t, f.k.EndBlocker(f.ctx))
	f.advance(time.Second)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, providerBefore.AddRaw(500_000), f.balance(f.provider))
	require.Equal(t, ints(500_000), f.balance(f.moduleAddr))
	require.Empty(t, f.entries(f.provider))
	require.Equal(t, ints(500_000), f.bonded(f.provider))
	_, found, err := f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	require.True(t, found, "a registered provider keeps its record")
	f.checkInvariants()
}

// EndBlock serves several providers in one block, in completion order.
func TestEndBlockSeveralProviders(t *testing.T) {
	f := newFixture(t)
	for _, p := range [...]struct {
		addr   sdk.AccAddress
		amount int64
	}{{f.provider, 10}, {f.provider2, 20}} {
		f.register(p.addr, 0)
		f.bond(p.addr, p.amount)
		f.unbond(p.addr, p.amount)
	}
	b1, b2 := f.balance(f.provider), f.balance(f.provider2)
	f.at(f.ctx.BlockHeight()+1, f.ctx.BlockTime().Add(21*24*time.Hour))
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, b1.AddRaw(10), f.balance(f.provider))
	require.Equal(t, b2.AddRaw(20), f.balance(f.provider2))
	require.Len(t, eventsOf[*types.EventUnbondingCompleted](t, f.ctx), 2)
	require.True(t, f.balance(f.moduleAddr).IsZero())
	f.checkInvariants()
}

// 12 unbonding entries complete at the same time, max_unbondings_per_block
// is 5 (set in genesis): EndBlock pays 5, 5 and 2 in three blocks, in
// completion order, each entry exactly once and exactly its balance. An
// entry carried over stays listed, and queued, until it is paid.
func TestUnbondingStorm(t *testing.T) {
	const limit, size = 5, 12
	a := apptest.New(t, apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
		var gen types.GenesisState
		if err := cdc.UnmarshalJSON(state[types.ModuleName], &gen); err != nil {
			return err
		}
		gen.Params.MaxUnbondingsPerBlock = limit
		bz, err := cdc.MarshalJSON(&gen)
		state[types.ModuleName] = bz
		return err
	}))
	f := newFixtureWith(t, a, a.StakingSlashKeeper)
	providers := []sdk.AccAddress{f.provider, f.provider2}
	want := make(map[string]math.Int, size) // provider/entry → amount
	sums := []math.Int{math.ZeroInt(), math.ZeroInt()}
	var completion time.Time
	for j, p := range providers {
		f.register(p, 0)
		f.bond(p, 1_000_000)
		for i := range size / len(providers) {
			amount := int64(1_000 * (i + 1))
			res := f.unbond(p, amount)
			completion = res.CompletionTime
			want[fmt.Sprintf("%s/%d", p, res.EntryId)] = ints(amount)
			sums[j] = sums[j].AddRaw(amount)
		}
	}
	before := []math.Int{f.balance(f.provider), f.balance(f.provider2)}
	moduleBefore := f.balance(f.moduleAddr)

	f.at(f.ctx.BlockHeight()+1, completion)
	var perBlock []int
	paid := make(map[string]math.Int, size)
	for len(paid) < size {
		require.Less(t, len(perBlock), (size+limit-1)/limit, "everything is paid within ceil(12/5) blocks")
		if len(perBlock) > 0 {
			f.advance(5 * time.Second)
		}
		require.NoError(t, f.k.EndBlocker(f.ctx))
		done := eventsOf[*types.EventUnbondingCompleted](t, f.ctx)
		perBlock = append(perBlock, len(done))
		for _, e := range done {
			key := fmt.Sprintf("%s/%d", e.Provider, e.EntryId)
			_, twice := paid[key]
			require.False(t, twice, "entry %s paid twice", key)
			paid[key] = e.Amount
		}
		left := len(f.entries(f.provider)) + len(f.entries(f.provider2))
		require.Equal(t, size-len(paid), left, "carried-over entries are still there")
		f.checkInvariants()
	}
	require.Equal(t, []int{limit, limit, size - 2*limit}, perBlock)
	require.Equal(t, want, paid, "every entry paid exactly its balance")
	for j, p := range providers {
		require.Equal(t, before[j].Add(sums[j]), f.balance(p))
	}
	require.Equal(t, moduleBefore.Sub(sums[0]).Sub(sums[1]), f.balance(f.moduleAddr))
}
