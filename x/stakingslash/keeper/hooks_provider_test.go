package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// x/provider's hooks drive registration, the required bond and
// deregistration; eligibility follows, with an event at every flip.
func TestEligibilityThroughProviderHooks(t *testing.T) {
	f := newFixture(t)
	hooks := f.k.ProviderHooks()
	p := f.provider

	flips := func() []bool {
		t.Helper()
		var out []bool
		for _, e := range eventsOf[*types.EventEligibilityChanged](t, f.ctx) {
			require.Equal(t, p.String(), e.Provider)
			out = append(out, e.Eligible)
		}
		f.newEvents()
		return out
	}

	require.False(t, f.eligible(p), "unknown provider")
	_, err := f.msgs.Bond(f.ctx, &types.MsgBond{Provider: p.String(), Amount: coin(1)})
	require.ErrorIs(t, err, types.ErrProviderNotRegistered)

	require.NoError(t, hooks.AfterProviderRegistered(f.ctx, p))
	require.True(t, f.eligible(p), "registered with no billable GPUs needs no bond")
	require.Equal(t, []bool{true}, flips())

	require.NoError(t, hooks.AfterInventoryChanged(f.ctx, p, 4))
	required, err := f.k.RequiredBond(f.ctx, 4)
	require.NoError(t, err)
	require.Equal(t, ints(400_000_000), required)
	require.False(t, f.eligible(p))
	ev := eventsOf[*types.EventEligibilityChanged](t, f.ctx)
	require.Len(t, ev, 1)
	require.Equal(t, types.EventEligibilityChanged{
		Provider: p.String(), Eligible: false, Bonded: ints(0), Required: ints(400_000_000), Jailed: false,
	}, *ev[0])
	f.newEvents()

	f.bond(p, 399_999_999)
	require.False(t, f.eligible(p))
	require.Empty(t, flips())
	f.bond(p, 1)
	require.True(t, f.eligible(p))
	require.Equal(t, []bool{true}, flips())

	require.NoError(t, hooks.AfterInventoryChanged(f.ctx, p, 5))
	require.False(t, f.eligible(p))
	require.NoError(t, hooks.AfterInventoryChanged(f.ctx, p, 4))
	require.True(t, f.eligible(p))
	require.Equal(t, []bool{false, true}, flips())

	require.NoError(t, hooks.BeforeProviderDeregistered(f.ctx, p))
	require.NoError(t, hooks.AfterProviderDeregistered(f.ctx, p))
	require.False(t, f.eligible(p))
	require.Equal(t, []bool{false}, flips())
	c, found, err := f.k.GetCollateral(f.ctx, p)
	require.NoError(t, err)
	require.True(t, found)
	require.False(t, c.Registered)
	require.Zero(t, c.BillableGpus)
	require.True(t, c.Bonded.IsZero())
	entries := f.entries(p)
	require.Len(t, entries, 1)
	require.Equal(t, ints(400_000_000), entries[0].Balance)
	require.Equal(t, f.ctx.BlockTime().Add(21*24*time.Hour), entries[0].CompletionTime)
	f.checkInvariants()

	// Deregistered stake stays slashable until paid out...
	res, err := f.k.Slash(f.ctx, p, types.INFRACTION_UNOPENED_COMMIT, f.ctx.BlockHeight())
	require.NoError(t, err)
	require.Equal(t, ints(40_000_000), res.FromUnbonding)

	// ...and after the payout and the jail the record is pruned.
	balance := f.balance(p)
	f.at(f.ctx.BlockHeight()+1, entries[0].CompletionTime)
	require.NoError(t, f.k.EndBlocker(f.ctx))
	require.Equal(t, balance.AddRaw(360_000_000), f.balance(p))
	_, found, err = f.k.GetCollateral(f.ctx, p)
	require.NoError(t, err)
	require.True(t, found, "still jailed: the record stays")
	_, err = f.msgs.Unjail(f.ctx, &types.MsgUnjail{Provider: p.String()})
	require.NoError(t, err)
	_, found, err = f.k.GetCollateral(f.ctx, p)
	require.NoError(t, err)
	require.False(t, found, "nothing left: the record is pruned")
	f.checkInvariants()

	// Re-registering starts over.
	require.NoError(t, hooks.AfterProviderRegistered(f.ctx, p))
	require.True(t, f.eligible(p))
}

// Deregistering a provider with nothing bonded creates no entry.
func TestDeregisterWithoutStake(t *testing.T) {
	f := newFixture(t)
	f.register(f.provider, 2)
	require.NoError(t, f.k.ProviderHooks().AfterProviderDeregistered(f.ctx, f.provider))
	require.Empty(t, f.entries(f.provider))
	_, found, err := f.k.GetCollateral(f.ctx, f.provider)
	require.NoError(t, err)
	require.False(t, found)
	require.Empty(t, eventsOf[*types.EventUnbondingStarted](t, f.ctx))
}
