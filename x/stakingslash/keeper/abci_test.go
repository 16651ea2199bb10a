package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

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
