package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// A bid deposit moves from the provider into the module and comes back
// whole; deposits of several bids are held apart.
func TestBidDepositHoldAndRelease(t *testing.T) {
	f := newFixture(t)
	order := idOf(f.tenant, 1)
	p1, p2 := f.balance(f.provider, umesh), f.balance(f.provider2, umesh)

	require.NoError(t, f.k.HoldBidDeposit(f.ctx, f.tenant, 1, f.provider, coin(umesh, 5_000_000)))
	require.NoError(t, f.k.HoldBidDeposit(f.ctx, f.tenant, 1, f.provider2, coin(umesh, 6_000_000)))
	require.NoError(t, f.k.HoldBidDeposit(f.ctx, f.tenant, 2, f.provider, coin(umesh, 7_000_000)))
	requireInt(t, 18_000_000, f.balance(f.moduleAddr, umesh))
	require.Equal(t, p1.SubRaw(12_000_000).String(), f.balance(f.provider, umesh).String())
	held := eventsOf[*types.EventBidDepositHeld](t, f.ctx)
	require.Len(t, held, 3)
	require.Equal(t, types.EventBidDepositHeld{OrderId: order, Provider: f.provider.String(), Amount: coin(umesh, 5_000_000)}, *held[0])
	d, ok, err := f.k.GetBidDeposit(f.ctx, f.tenant, 1, f.provider2)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, types.BidDeposit{OrderId: order, Provider: f.provider2.String(), Amount: coin(umesh, 6_000_000)}, d)
	f.checkInvariants()

	f.newEvents()
	got, err := f.k.ReleaseBidDeposit(f.ctx, f.tenant, 1, f.provider)
	require.NoError(t, err)
	require.Equal(t, coin(umesh, 5_000_000), got)
	require.Equal(t, p1.SubRaw(7_000_000).String(), f.balance(f.provider, umesh).String())
	released := eventsOf[*types.EventBidDepositReleased](t, f.ctx)
	require.Len(t, released, 1)
	require.Equal(t, types.EventBidDepositReleased{OrderId: order, Provider: f.provider.String(), Amount: coin(umesh, 5_000_000)}, *released[0])
	_, ok, err = f.k.GetBidDeposit(f.ctx, f.tenant, 1, f.provider)
	require.NoError(t, err)
	require.False(t, ok)
	_, err = f.k.ReleaseBidDeposit(f.ctx, f.tenant, 1, f.provider)
	require.ErrorIs(t, err, types.ErrBidDepositNotFound, "released once only")

	// The others are untouched and come back too.
	_, err = f.k.ReleaseBidDeposit(f.ctx, f.tenant, 1, f.provider2)
	require.NoError(t, err)
	_, err = f.k.ReleaseBidDeposit(f.ctx, f.tenant, 2, f.provider)
	require.NoError(t, err)
	require.Equal(t, p1.String(), f.balance(f.provider, umesh).String())
	require.Equal(t, p2.String(), f.balance(f.provider2, umesh).String())
	requireInt(t, 0, f.balance(f.moduleAddr, umesh))

	// A deposit may be held again after its release.
	require.NoError(t, f.k.HoldBidDeposit(f.ctx, f.tenant, 1, f.provider, coin(uusdc, 1)))
}

// Bid deposits and account balances share the module account; the books
// keep them apart.
func TestBidDepositsAndAccountsTogether(t *testing.T) {
	f := newFixture(t)
	f.open(f.tenant, 1, coin(umesh, 1_000_000))
	require.NoError(t, f.k.HoldBidDeposit(f.ctx, f.tenant, 1, f.provider, coin(umesh, 5_000)))
	s := f.now()
	f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0)
	f.at(s + 100)
	f.withdraw(f.provider, idOf(f.tenant, 1))
	f.checkInvariants()
	requireInt(t, 1_000_000-100_000+5_000, f.balance(f.moduleAddr, umesh))
	f.close(f.tenant, 1)
	requireInt(t, 5_000, f.balance(f.moduleAddr, umesh), "the bid deposit outlives the account")
	_, err := f.k.ReleaseBidDeposit(f.ctx, f.tenant, 1, f.provider)
	require.NoError(t, err)
	requireInt(t, 0, f.balance(f.moduleAddr, umesh))
}
