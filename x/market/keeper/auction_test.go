package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	"github.com/gpumesh/gpumesh/x/market/types"
	providerkeeper "github.com/gpumesh/gpumesh/x/provider/keeper"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// The whole life of an order: two bids at different prices, the window
// ends and the cheaper wins, the lease runs, the tenant closes it. Every
// coin is accounted for: the provider receives exactly
// floor(price × gpus × seconds / 3600) minus fees, the tenant gets the rest
// of the deposit back, both bid deposits come back and the GPUs are free.
func TestLifecycleCheapestBidWins(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "DE-fra1", fixtures.H100x8("p2"))
	tenantUSDC := f.balance(f.tenant, testUSDC)
	p1Mesh, p2Mesh, p2USDC := f.balance(f.p1, testMESH), f.balance(f.p2, testMESH), f.balance(f.p2, testUSDC)
	reserveUSDC := f.balance(f.reserveAddr, testUSDC)
	created := f.now()

	id := f.order(f.tenant, nil)
	require.Equal(t, types.OrderID{Tenant: f.tenant.String(), Seq: 1}, id)
	require.Equal(t, tenantUSDC.SubRaw(5_000_000), f.balance(f.tenant, testUSDC))
	acc := f.account(id)
	require.Equal(t, escrowtypes.ACCOUNT_STATE_OPEN, acc.State)
	require.Equal(t, math.NewInt(5_000_000), acc.Balance)
	o := f.getOrder(id)
	require.Equal(t, types.ORDER_STATE_OPEN, o.State)
	require.Equal(t, created.Add(60*time.Second), o.WindowEnd)

	f.advance(10)
	f.mustBid(f.p1, id, 2_200_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, id, 2_000_000, f.gpusOf(f.p2, 0, 2))
	require.Equal(t, p1Mesh.SubRaw(5_000_000), f.balance(f.p1, testMESH), "bid deposit held")
	require.Equal(t, p2Mesh.SubRaw(5_000_000), f.balance(f.p2, testMESH))
	o = f.getOrder(id)
	require.Equal(t, uint32(2), o.OpenBids)
	require.Equal(t, uint32(2), o.BidsReceived)
	require.Equal(t, uint32(1), f.getBid(id, f.p1).Number)
	require.Equal(t, uint32(2), f.getBid(id, f.p2).Number)
	require.Equal(t, "h100-sxm-80g", f.getBid(id, f.p2).GpuClass)

	// One second before the window ends nothing happens.
	f.at(created.Add(59 * time.Second))
	f.endBlock()
	require.Equal(t, types.ORDER_STATE_OPEN, f.getOrder(id).State)

	f.at(created.Add(60 * time.Second))
	start := f.now()
	f.endBlock()
	o = f.getOrder(id)
	require.Equal(t, types.ORDER_STATE_MATCHED, o.State)
	require.Equal(t, start, o.ClosedAt)
	require.Zero(t, o.OpenBids)
	lease := f.getLease(id)
	require.Equal(t, types.Lease{
		Id: id, Provider: f.p2.String(), Gpus: f.gpusOf(f.p2, 0, 2), GpuClass: "h100-sxm-80g",
		PricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_000_000), StartTime: start, EndTime: lease.EndTime,
		State: types.LEASE_STATE_ACTIVE, ClosedAt: lease.ClosedAt,
	}, lease)
	require.True(t, lease.EndTime.IsZero(), "open-ended")
	require.Equal(t, types.BID_STATE_WON, f.getBid(id, f.p2).State)
	lost := f.getBid(id, f.p1)
	require.Equal(t, types.BID_STATE_CLOSED, lost.State)
	require.Equal(t, types.BID_CLOSE_REASON_LOST, lost.CloseReason)
	require.Equal(t, p1Mesh, f.balance(f.p1, testMESH), "the loser's deposit is back")
	require.Equal(t, p2Mesh.SubRaw(5_000_000), f.balance(f.p2, testMESH), "the winner's deposit is held while the lease runs")
	require.Equal(t, repeatString(id.String(), 2), f.allocatedTo(lease.Gpus))
	acc = f.account(id)
	require.Equal(t, escrowtypes.ACCOUNT_STATE_STREAMING, acc.State)
	require.Equal(t, f.p2.String(), acc.Provider)
	require.Equal(t, types.Counters{OrdersCreated: 1, LeasesStarted: 1, ActiveLeases: 1, BidsCreated: 2}, f.counters())
	started := marketEvents[*types.EventLeaseStarted](t, f.ctx)
	require.Len(t, started, 1)
	require.Equal(t, types.LeaseStartedAuction, started[0].How)
	closed := marketEvents[*types.EventBidClosed](t, f.ctx)
	require.Equal(t, []*types.EventBidClosed{{OrderId: id, Provider: f.p1.String(), Reason: types.BID_CLOSE_REASON_LOST}}, closed)

	f.advance(30)
	_, err := f.msgs.SetLeaseAccess(f.ctx, &types.MsgSetLeaseAccess{Provider: f.p2.String(), LeaseId: id, Endpoint: "ssh://ubuntu@203.0.113.7:2222"})
	require.NoError(t, err)
	require.Equal(t, "ssh://ubuntu@203.0.113.7:2222", f.getLease(id).AccessEndpoint)

	f.at(start.Add(1000 * time.Second))
	repBefore := f.reputation(f.p2)
	_, err = f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.tenant.String(), LeaseId: id})
	require.NoError(t, err)

	gross := owedFor(2_000_000, 2, 1000)
	require.Equal(t, math.NewInt(1_111_111), gross)
	share, take, reserve := f.split(testUSDC, gross)
	require.Equal(t, math.NewInt(111_111), take, "10% take on uusdc")
	require.Equal(t, math.NewInt(2_777), reserve, "0.25% reserve")
	require.Equal(t, p2USDC.Add(share), f.balance(f.p2, testUSDC), "provider paid exactly")
	require.Equal(t, tenantUSDC.Sub(gross), f.balance(f.tenant, testUSDC), "tenant refunded the rest")
	require.Equal(t, reserveUSDC.Add(reserve), f.balance(f.reserveAddr, testUSDC))
	require.Equal(t, p2Mesh, f.balance(f.p2, testMESH), "winner's bid deposit back")
	require.True(t, f.balance(f.escrowAddr, testUSDC).IsZero(), "escrow holds nothing")
	require.True(t, f.balance(f.escrowAddr, testMESH).IsZero())

	lease = f.getLease(id)
	require.Equal(t, types.LEASE_STATE_CLOSED, lease.State)
	require.Equal(t, types.LEASE_CLOSE_REASON_TENANT, lease.CloseReason)
	require.Equal(t, f.now(), lease.ClosedAt)
	require.Equal(t, []string{"", ""}, f.allocatedTo(lease.Gpus), "GPUs free again")
	won := f.getBid(id, f.p2)
	require.Equal(t, types.BID_STATE_CLOSED, won.State)
	require.Equal(t, types.BID_CLOSE_REASON_LEASE_CLOSED, won.CloseReason)
	require.Equal(t, types.Counters{OrdersCreated: 1, LeasesStarted: 1, LeasesClosed: 1, BidsCreated: 2}, f.counters())
	// A completed lease moves the reputation by lease_completed_bps (100)
	// weighed by value (1.11 of 100 USDC) and duration (1000 of 3600 s):
	// 100 × 111/10000 × 2777/10000 rounds to no step at all.
	valueBps, durBps := gross.MulRaw(10_000).QuoRaw(100_000_000).Uint64(), uint64(1000*10_000/3600)
	require.Equal(t, providerkeeper.NextReputation(repBefore, providertypes.MaxReputation, uint32(100*(valueBps*durBps/10_000)/10_000)),
		f.reputation(f.p2), "a small completed lease barely moves the reputation")
	require.Equal(t, repBefore, f.reputation(f.p2))
	ev := marketEvents[*types.EventLeaseClosed](t, f.ctx)
	require.Equal(t, []*types.EventLeaseClosed{{
		Id: id, Provider: f.p2.String(), Reason: types.LEASE_CLOSE_REASON_TENANT,
		Paid: sdk.NewCoin(testUSDC, gross), Refunded: sdk.NewCoin(testUSDC, math.NewInt(5_000_000).Sub(gross)),
	}}, ev)

	// A second order of the same tenant takes the next sequence.
	require.Equal(t, uint64(2), f.order(f.tenant, nil).Seq)
	require.Equal(t, uint64(1), f.order(f.tenant2, nil).Seq, "sequences are per tenant")
}

// At equal prices the higher reputation wins; at equal price and
// reputation, the earlier bid.
func TestTieBreaks(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	f.onboard(f.p3, "US", fixtures.H100x8("p3"))

	// Equal reputations: p2 bids first and wins.
	id := f.order(f.tenant, nil)
	f.mustBid(f.p2, id, 2_000_000, f.gpusOf(f.p2, 0, 2))
	f.mustBid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p3, id, 2_100_000, f.gpusOf(f.p3, 0, 2))
	f.advance(60)
	f.endBlock()
	require.Equal(t, f.p2.String(), f.getLease(id).Provider, "earlier bid wins the tie")
	require.Equal(t, types.BID_CLOSE_REASON_LOST, f.getBid(id, f.p1).CloseReason)
	require.Equal(t, types.BID_CLOSE_REASON_LOST, f.getBid(id, f.p3).CloseReason)

	// p1 gains reputation: now it beats p3 at the same price even though p3
	// bid first.
	_, err := f.app.ProviderKeeper.ApplyReputationEvent(f.ctx, f.p1, providertypes.REPUTATION_EVENT_PROOF_PASSED)
	require.NoError(t, err)
	require.Greater(t, f.reputation(f.p1), f.reputation(f.p3))
	id2 := f.order(f.tenant, nil)
	f.mustBid(f.p3, id2, 1_500_000, f.gpusOf(f.p3, 0, 2))
	f.mustBid(f.p1, id2, 1_500_000, f.gpusOf(f.p1, 0, 2))
	f.advance(60)
	f.endBlock()
	require.Equal(t, f.p1.String(), f.getLease(id2).Provider, "higher reputation wins the tie")

	// A lower price beats any reputation.
	id3 := f.order(f.tenant, nil)
	f.mustBid(f.p1, id3, 1_500_000, f.gpusOf(f.p1, 2, 2))
	f.mustBid(f.p3, id3, 1_499_999, f.gpusOf(f.p3, 2, 2))
	f.advance(60)
	f.endBlock()
	require.Equal(t, f.p3.String(), f.getLease(id3).Provider)
}

// The tenant may accept any bid during the window, not only the cheapest;
// the others close LOST at once.
func TestAcceptBidDuringWindow(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	p2Mesh := f.balance(f.p2, testMESH)
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 2_400_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, id, 2_000_000, f.gpusOf(f.p2, 0, 2))
	f.advance(30)
	_, err := f.msgs.AcceptBid(f.ctx, &types.MsgAcceptBid{Tenant: f.tenant.String(), Seq: id.Seq, Provider: f.p1.String()})
	require.NoError(t, err)
	lease := f.getLease(id)
	require.Equal(t, f.p1.String(), lease.Provider)
	require.Equal(t, f.now(), lease.StartTime)
	require.Equal(t, types.ORDER_STATE_MATCHED, f.getOrder(id).State)
	require.Equal(t, types.BID_CLOSE_REASON_LOST, f.getBid(id, f.p2).CloseReason)
	require.Equal(t, p2Mesh, f.balance(f.p2, testMESH))
	started := marketEvents[*types.EventLeaseStarted](t, f.ctx)
	require.Len(t, started, 1)
	require.Equal(t, types.LeaseStartedAccepted, started[0].How)

	// The window end finds nothing to do: the order left the queue.
	f.advance(30)
	f.endBlock()
	require.Equal(t, f.p1.String(), f.getLease(id).Provider)
	require.Equal(t, uint64(1), f.counters().LeasesStarted)
}

func TestAcceptBidErrors(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 2))
	// p1's GPUs go to an instant order of bob meanwhile.
	instant := f.order(f.tenant2, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0 })
	f.mustBid(f.p1, instant, 2_000_000, f.gpusOf(f.p1, 0, 2))
	closed := f.order(f.tenant, nil)
	_, err := f.msgs.CloseOrder(f.ctx, &types.MsgCloseOrder{Tenant: f.tenant.String(), Seq: closed.Seq})
	require.NoError(t, err)

	accept := func(seq uint64, p sdk.AccAddress) error {
		_, err := f.msgs.AcceptBid(f.ctx, &types.MsgAcceptBid{Tenant: f.tenant.String(), Seq: seq, Provider: p.String()})
		return err
	}
	tests := []struct {
		name string
		seq  uint64
		p    sdk.AccAddress
		err  error
		msg  string
	}{
		{"no such order", 9, f.p1, types.ErrOrderNotFound, "order " + f.tenant.String() + "/9"},
		{"order closed", closed.Seq, f.p1, types.ErrOrderNotOpen, "is ORDER_STATE_CLOSED"},
		{"no bid", id.Seq, f.p2, types.ErrBidNotFound, "provider " + f.p2.String() + " has no bid on order " + id.String()},
		{"GPUs leased elsewhere", id.Seq, f.p1, types.ErrGPUUnavailable, "is allocated to lease " + instant.String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := accept(tc.seq, tc.p)
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	f.advance(60)
	err = accept(id.Seq, f.p1)
	require.ErrorIs(t, err, types.ErrWindowClosed)
	require.ErrorContains(t, err, "took bids until")
}

// Bids do not lock GPUs: when the best bid's GPUs were leased elsewhere in
// the meantime, the next-best valid bid wins and the first closes
// UNAVAILABLE with its deposit refunded.
func TestWinnerGPUsLeasedElsewhere(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	f.onboard(f.p3, "US", fixtures.H100x8("p3"))
	p1Mesh := f.balance(f.p1, testMESH)
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 1_000_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, id, 2_000_000, f.gpusOf(f.p2, 0, 2))
	f.mustBid(f.p3, id, 2_400_000, f.gpusOf(f.p3, 0, 2))

	// The same two GPUs of p1 answer bob's instant order.
	other := f.order(f.tenant2, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0 })
	res := f.mustBid(f.p1, other, 2_500_000, f.gpusOf(f.p1, 0, 2))
	require.True(t, res.LeaseStarted)

	f.advance(60)
	f.endBlock()
	require.Equal(t, f.p2.String(), f.getLease(id).Provider, "next best wins")
	unavailable := f.getBid(id, f.p1)
	require.Equal(t, types.BID_STATE_CLOSED, unavailable.State)
	require.Equal(t, types.BID_CLOSE_REASON_UNAVAILABLE, unavailable.CloseReason)
	require.Equal(t, types.BID_CLOSE_REASON_LOST, f.getBid(id, f.p3).CloseReason)
	// p1's deposit on this order is back; the one of its running lease is held.
	require.Equal(t, p1Mesh.SubRaw(5_000_000), f.balance(f.p1, testMESH))
	require.Equal(t, f.p1.String(), f.getLease(other).Provider)
}

// A bid whose provider was jailed or deregistered before the window ended
// is skipped the same way.
func TestWinnerNoLongerEligible(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 1_000_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, id, 2_000_000, f.gpusOf(f.p2, 0, 2))
	_, err := f.providerMsgs.DeregisterProvider(f.ctx, &providertypes.MsgDeregisterProvider{Owner: f.p1.String()})
	require.NoError(t, err)
	f.advance(60)
	f.endBlock()
	require.Equal(t, f.p2.String(), f.getLease(id).Provider)
	require.Equal(t, types.BID_CLOSE_REASON_UNAVAILABLE, f.getBid(id, f.p1).CloseReason)
}

// A provider may change its inventory after bidding (bids lock nothing):
// when the window ends, a bid naming GPUs that are no longer listed is
// closed UNAVAILABLE and the next best wins. The block must not fail on
// it: a provider could otherwise halt the chain with one bid.
func TestWinnerGPUsNoLongerListed(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 1_000_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, id, 2_000_000, f.gpusOf(f.p2, 0, 2))
	_, err := f.providerMsgs.SetInventory(f.ctx, &providertypes.MsgSetInventory{
		Owner: f.p1.String(), Nodes: fixtures.H100x8("p1-replaced"),
	})
	require.NoError(t, err)
	f.advance(60)
	f.endBlock()
	require.Equal(t, f.p2.String(), f.getLease(id).Provider)
	require.Equal(t, types.BID_CLOSE_REASON_UNAVAILABLE, f.getBid(id, f.p1).CloseReason)
}

// An order without bids expires at the end of its window and the deposit
// comes back exactly; so does an order whose only bid became invalid.
func TestExpiryWithoutBids(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	tenantUSDC := f.balance(f.tenant, testUSDC)
	p1Mesh := f.balance(f.p1, testMESH)
	id := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 300 })
	withBid := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 300 })
	f.mustBid(f.p1, withBid, 2_000_000, f.gpusOf(f.p1, 0, 2))
	_, err := f.providerMsgs.DeregisterProvider(f.ctx, &providertypes.MsgDeregisterProvider{Owner: f.p1.String()})
	require.NoError(t, err)

	f.advance(299)
	f.endBlock()
	require.Equal(t, types.ORDER_STATE_OPEN, f.getOrder(id).State)
	f.advance(1)
	f.endBlock()
	for _, o := range []types.OrderID{id, withBid} {
		order := f.getOrder(o)
		require.Equal(t, types.ORDER_STATE_EXPIRED, order.State)
		require.Equal(t, f.now(), order.ClosedAt)
		acc := f.account(o)
		require.Equal(t, escrowtypes.ACCOUNT_STATE_CLOSED, acc.State)
		require.Equal(t, math.NewInt(5_000_000), acc.Refunded)
	}
	require.Equal(t, tenantUSDC, f.balance(f.tenant, testUSDC), "both deposits refunded exactly")
	require.Equal(t, types.BID_CLOSE_REASON_UNAVAILABLE, f.getBid(withBid, f.p1).CloseReason)
	require.Equal(t, p1Mesh, f.balance(f.p1, testMESH))
	c := f.counters()
	require.Equal(t, uint64(2), c.OrdersExpired)
	require.Zero(t, c.LeasesStarted)
	ev := marketEvents[*types.EventOrderClosed](t, f.ctx)
	require.Equal(t, []*types.EventOrderClosed{
		{Id: id, State: types.ORDER_STATE_EXPIRED}, {Id: withBid, State: types.ORDER_STATE_EXPIRED},
	}, ev)
}

// An instant order is leased by its first valid bid in the same
// transaction; an invalid bid is refused and leaves the order open.
func TestInstantOrder(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	id := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0; m.DurationSeconds = 7200 })
	o := f.getOrder(id)
	require.Equal(t, f.now().Add(time.Hour), o.WindowEnd, "an instant order waits instant_order_ttl_seconds")

	_, err := f.bid(f.p1, id, 2_600_000, f.gpusOf(f.p1, 0, 2))
	require.ErrorIs(t, err, types.ErrPriceTooHigh)
	_, err = f.bid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 3))
	require.ErrorIs(t, err, types.ErrSpecMismatch)
	require.Equal(t, types.ORDER_STATE_OPEN, f.getOrder(id).State)
	require.Zero(t, f.getOrder(id).OpenBids)

	res := f.mustBid(f.p2, id, 2_300_000, f.gpusOf(f.p2, 4, 2))
	require.True(t, res.LeaseStarted)
	lease := f.getLease(id)
	require.Equal(t, f.p2.String(), lease.Provider)
	require.Equal(t, f.now(), lease.StartTime)
	require.Equal(t, f.now().Add(2*time.Hour), lease.EndTime)
	require.Equal(t, types.ORDER_STATE_MATCHED, f.getOrder(id).State)
	require.Zero(t, f.getOrder(id).OpenBids)
	require.Equal(t, types.BID_STATE_WON, f.getBid(id, f.p2).State)
	started := marketEvents[*types.EventLeaseStarted](t, f.ctx)
	require.Len(t, started, 1)
	require.Equal(t, types.LeaseStartedInstant, started[0].How)
	require.Equal(t, lease.EndTime, started[0].EndTime)

	_, err = f.bid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 2))
	require.ErrorIs(t, err, types.ErrOrderNotOpen, "the first valid bid took it")
}

// An instant order nobody answers expires after instant_order_ttl_seconds
// and is refunded exactly.
func TestInstantOrderTTL(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	tenantUSDC := f.balance(f.tenant, testUSDC)
	id := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0 })
	f.advance(3599)
	f.endBlock()
	require.Equal(t, types.ORDER_STATE_OPEN, f.getOrder(id).State)
	f.advance(1)
	_, err := f.bid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 2))
	require.ErrorIs(t, err, types.ErrWindowClosed, "no bid once the time to live has passed")
	f.endBlock()
	require.Equal(t, types.ORDER_STATE_EXPIRED, f.getOrder(id).State)
	require.Equal(t, tenantUSDC, f.balance(f.tenant, testUSDC))
	require.Equal(t, uint64(1), f.counters().OrdersExpired)
}

// A cluster order wants nodes × gpus_per_node GPUs of one provider, grouped
// by node, on nodes that share the interconnect.
func TestClusterOrder(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", clusterNodes("p1", "infiniband", "infiniband"))
	f.onboard(f.p2, "US", clusterNodes("p2", "infiniband", "roce"))
	clusterOrder := func(interconnect string) types.OrderID {
		return f.order(f.tenant, func(m *types.MsgCreateOrder) {
			m.Spec = types.ResourceSpec{GpuClasses: []string{"h100-sxm-80g"}, GpusPerNode: 4, Nodes: 2, Interconnect: interconnect}
			m.Deposit = sdk.NewInt64Coin(testUSDC, 20_000_000)
		})
	}
	id := clusterOrder("")
	p1, p2 := f.gpus[f.p1.String()], f.gpus[f.p2.String()]
	tests := []struct {
		name string
		p    sdk.AccAddress
		gpus []string
		msg  string
	}{
		{"one node", f.p1, p1[0:8], "the GPUs are on 1 nodes; the order wants 2 nodes × 4 GPUs"},
		{"uneven grouping", f.p1, append(append([]string{}, p1[0:5]...), p1[8:11]...), `node "dgx-0" offers 5 GPUs; the order wants 4 per node`},
		{"mixed interconnects", f.p2, append(append([]string{}, p2[0:4]...), p2[8:12]...),
			`node "dgx-1" has interconnect "roce" but node "dgx-0" has "infiniband": a cluster's nodes share one interconnect`},
		{"too few", f.p1, p1[0:7], "the bid offers 7 GPUs; the order wants 2 nodes × 4 GPUs = 8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.bid(tc.p, id, 2_000_000, tc.gpus)
			require.ErrorIs(t, err, types.ErrSpecMismatch)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	good := append(append([]string{}, p1[0:4]...), p1[8:12]...)
	f.mustBid(f.p1, id, 2_000_000, good)
	f.advance(60)
	f.endBlock()
	lease := f.getLease(id)
	require.Equal(t, good, lease.Gpus)
	require.Equal(t, repeatString(id.String(), 8), f.allocatedTo(good))
	require.Equal(t, uint32(8), f.account(id).Gpus)

	// A required interconnect must be every node's.
	roce := clusterOrder("roce")
	_, err := f.bid(f.p2, roce, 2_000_000, append(append([]string{}, p2[0:4]...), p2[8:12]...))
	require.ErrorIs(t, err, types.ErrSpecMismatch)
	require.ErrorContains(t, err, `node "dgx-0" has interconnect "infiniband"; the order wants "roce"`)
}

// The price index is an exponentially weighted average per class and
// denom, fed at every lease start.
func TestPriceIndex(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	instant := func(price int64, first int) {
		id := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0 })
		require.True(t, f.mustBid(f.p1, id, price, f.gpusOf(f.p1, first, 2)).LeaseStarted)
	}
	instant(2_000_000, 0)
	e, found, err := f.k.GetPriceIndex(f.ctx, "h100-sxm-80g", testUSDC)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, math.LegacyNewDec(2_000_000), e.Price, "the first lease sets the price")
	require.Equal(t, math.NewInt(2_000_000), e.LastPrice)
	require.Equal(t, uint64(1), e.Leases)

	f.advance(5)
	instant(1_000_001, 2)
	e, _, err = f.k.GetPriceIndex(f.ctx, "h100-sxm-80g", testUSDC)
	require.NoError(t, err)
	// 2 000 000 + (1 000 001 − 2 000 000) × 2000 / 10000 = 1 800 000.2
	require.Equal(t, math.LegacyMustNewDecFromStr("1800000.2"), e.Price)
	require.Equal(t, math.NewInt(1_000_001), e.LastPrice)
	require.Equal(t, uint64(2), e.Leases)
	require.Equal(t, f.now(), e.UpdatedAt)
	ev := marketEvents[*types.EventPriceIndexUpdated](t, f.ctx)
	require.Equal(t, []*types.EventPriceIndexUpdated{{GpuClass: "h100-sxm-80g", Denom: testUSDC, Price: e.Price}}, ev)

	_, found, err = f.k.GetPriceIndex(f.ctx, "h100-sxm-80g", testMESH)
	require.NoError(t, err)
	require.False(t, found, "per denom")
}
