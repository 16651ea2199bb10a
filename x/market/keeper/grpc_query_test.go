package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	"github.com/gpumesh/gpumesh/x/market/keeper"
	"github.com/gpumesh/gpumesh/x/market/types"
)

// richMarket builds a market with one order in every state:
//
//	a: alice, 60 s window, bids from p1 and p2 (OPEN)
//	b: bob, instant, leased by p1 (MATCHED, lease ACTIVE)
//	c: alice, instant, leased by p2 and closed by alice after 600 s (lease CLOSED)
//	d: alice, closed by alice (CLOSED)
type richMarket struct {
	*marketFixture
	a, b, c, d types.OrderID
}

func newRichMarket(t *testing.T) richMarket {
	t.Helper()
	f := newMarket(t)
	f.onboard(f.p1, "US-east1", fixtures.H100x8("rich-p1"))
	f.onboard(f.p2, "DE-fra1", fixtures.H100x8("rich-p2"))
	r := richMarket{marketFixture: f}
	r.a = f.order(f.tenant, nil)
	f.mustBid(f.p1, r.a, 2_000_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, r.a, 1_500_000, f.gpusOf(f.p2, 0, 2))
	instant := func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0 }
	r.b = f.order(f.tenant2, instant)
	require.True(t, f.mustBid(f.p1, r.b, 2_200_000, f.gpusOf(f.p1, 2, 2)).LeaseStarted)
	r.c = f.order(f.tenant, instant)
	require.True(t, f.mustBid(f.p2, r.c, 2_400_000, f.gpusOf(f.p2, 2, 2)).LeaseStarted)
	f.advance(600)
	_, err := f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.tenant.String(), LeaseId: r.c})
	require.NoError(t, err)
	r.d = f.order(f.tenant, nil)
	_, err = f.msgs.CloseOrder(f.ctx, &types.MsgCloseOrder{Tenant: f.tenant.String(), Seq: r.d.Seq})
	require.NoError(t, err)
	return r
}

func orderIDs(orders []types.Order) []types.OrderID {
	ids := make([]types.OrderID, len(orders))
	for i, o := range orders {
		ids[i] = o.Id
	}
	return ids
}

func leaseIDs(leases []types.Lease) []types.OrderID {
	ids := make([]types.OrderID, len(leases))
	for i, l := range leases {
		ids[i] = l.Id
	}
	return ids
}

func TestQueryOrdersFilters(t *testing.T) {
	r := newRichMarket(t)
	q := keeper.NewQueryServer(r.k)
	cases := map[string]struct {
		req  types.QueryOrdersRequest
		want []types.OrderID
	}{
		"all":                {types.QueryOrdersRequest{}, []types.OrderID{r.a, r.b, r.c, r.d}},
		"open":               {types.QueryOrdersRequest{State: types.ORDER_STATE_OPEN}, []types.OrderID{r.a}},
		"matched":            {types.QueryOrdersRequest{State: types.ORDER_STATE_MATCHED}, []types.OrderID{r.b, r.c}},
		"alice":              {types.QueryOrdersRequest{Tenant: r.tenant.String()}, []types.OrderID{r.a, r.c, r.d}},
		"alice closed":       {types.QueryOrdersRequest{Tenant: r.tenant.String(), State: types.ORDER_STATE_CLOSED}, []types.OrderID{r.d}},
		"bob open":           {types.QueryOrdersRequest{Tenant: r.tenant2.String(), State: types.ORDER_STATE_OPEN}, nil},
		"nobody has expired": {types.QueryOrdersRequest{State: types.ORDER_STATE_EXPIRED}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := q.Orders(r.ctx, &tc.req)
			require.NoError(t, err)
			require.ElementsMatch(t, tc.want, orderIDs(res.Orders))
		})
	}

	// Pages of one walk every order exactly once.
	var seen []types.OrderID
	var key []byte
	for {
		res, err := q.Orders(r.ctx, &types.QueryOrdersRequest{Pagination: &query.PageRequest{Key: key, Limit: 1}})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Orders), 1)
		seen = append(seen, orderIDs(res.Orders)...)
		if key = res.Pagination.NextKey; key == nil {
			break
		}
	}
	require.ElementsMatch(t, []types.OrderID{r.a, r.b, r.c, r.d}, seen)
}

func TestQueryBidsAndLeasesFilters(t *testing.T) {
	r := newRichMarket(t)
	q := keeper.NewQueryServer(r.k)

	bids, err := q.OrderBids(r.ctx, &types.QueryOrderBidsRequest{Tenant: r.a.Tenant, Seq: r.a.Seq})
	require.NoError(t, err)
	require.Len(t, bids.Bids, 2)
	for _, b := range bids.Bids {
		require.Equal(t, r.a, b.OrderId)
		require.Equal(t, types.BID_STATE_OPEN, b.State)
	}

	p1Bids, err := q.Bids(r.ctx, &types.QueryBidsRequest{Provider: r.p1.String()})
	require.NoError(t, err)
	require.Len(t, p1Bids.Bids, 2, "p1 bid on a (open) and b (won)")
	p1Open, err := q.Bids(r.ctx, &types.QueryBidsRequest{Provider: r.p1.String(), State: types.BID_STATE_OPEN})
	require.NoError(t, err)
	require.Len(t, p1Open.Bids, 1)
	require.Equal(t, r.a, p1Open.Bids[0].OrderId)
	won, err := q.Bids(r.ctx, &types.QueryBidsRequest{State: types.BID_STATE_WON})
	require.NoError(t, err)
	require.Len(t, won.Bids, 1)
	require.Equal(t, r.b, won.Bids[0].OrderId)

	leaseCases := map[string]struct {
		req  types.QueryLeasesRequest
		want []types.OrderID
	}{
		"all":           {types.QueryLeasesRequest{}, []types.OrderID{r.b, r.c}},
		"active":        {types.QueryLeasesRequest{State: types.LEASE_STATE_ACTIVE}, []types.OrderID{r.b}},
		"alice":         {types.QueryLeasesRequest{Tenant: r.tenant.String()}, []types.OrderID{r.c}},
		"p2":            {types.QueryLeasesRequest{Provider: r.p2.String()}, []types.OrderID{r.c}},
		"p1 closed":     {types.QueryLeasesRequest{Provider: r.p1.String(), State: types.LEASE_STATE_CLOSED}, nil},
		"bob with p1":   {types.QueryLeasesRequest{Tenant: r.tenant2.String(), Provider: r.p1.String()}, []types.OrderID{r.b}},
		"alice with p1": {types.QueryLeasesRequest{Tenant: r.tenant.String(), Provider: r.p1.String()}, nil},
	}
	for name, tc := range leaseCases {
		t.Run(name, func(t *testing.T) {
			res, err := q.Leases(r.ctx, &tc.req)
			require.NoError(t, err)
			require.ElementsMatch(t, tc.want, leaseIDs(res.Leases))
		})
	}

	lease, err := q.Lease(r.ctx, &types.QueryLeaseRequest{Tenant: r.b.Tenant, Seq: r.b.Seq})
	require.NoError(t, err)
	require.Equal(t, r.p1.String(), lease.Lease.Provider)
	require.Equal(t, escrowtypes.ACCOUNT_STATE_STREAMING, lease.Escrow.State, "the lease comes with its escrow account")
	require.Equal(t, r.p1.String(), lease.Escrow.Provider)
	order, err := q.Order(r.ctx, &types.QueryOrderRequest{Tenant: r.d.Tenant, Seq: r.d.Seq})
	require.NoError(t, err)
	require.Equal(t, types.ORDER_STATE_CLOSED, order.Order.State)
}

func TestQueryPriceIndexAndStats(t *testing.T) {
	r := newRichMarket(t)
	q := keeper.NewQueryServer(r.k)

	idx, err := q.PriceIndex(r.ctx, &types.QueryPriceIndexRequest{})
	require.NoError(t, err)
	require.Len(t, idx.Entries, 1)
	e := idx.Entries[0]
	require.Equal(t, "h100-sxm-80g", e.GpuClass)
	require.Equal(t, testUSDC, e.Denom)
	require.Equal(t, uint64(2), e.Leases)
	// 2 200 000 then 2 400 000 at weight 20%: 2 200 000 + 200 000 × 0.2.
	require.Equal(t, "2240000.000000000000000000", e.Price.String())
	none, err := q.PriceIndex(r.ctx, &types.QueryPriceIndexRequest{Denom: testMESH})
	require.NoError(t, err)
	require.Empty(t, none.Entries)
	byClass, err := q.PriceIndex(r.ctx, &types.QueryPriceIndexRequest{GpuClass: "h100-sxm-80g", Denom: testUSDC})
	require.NoError(t, err)
	require.Len(t, byClass.Entries, 1)

	stats, err := q.Stats(r.ctx, &types.QueryStatsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.Counters{OrdersCreated: 4, LeasesStarted: 2, ActiveLeases: 1, LeasesClosed: 1, BidsCreated: 4},
		stats.Counters)
	require.Len(t, stats.Denoms, 1)
	d := stats.Denoms[0]
	require.Equal(t, testUSDC, d.Denom)
	// Lease c: 600 s of 2 GPUs at 2.4 USDC/h, settled when alice closed it.
	require.Equal(t, owedFor(2_400_000, 2, 600), d.Settled)
	require.Equal(t, uint64(1200), d.GpuSeconds)
	_, take, reserve := r.split(testUSDC, d.Settled)
	require.Equal(t, take, d.TakeFees)
	require.Equal(t, reserve, d.ReserveFees)
}

func TestQueryErrors(t *testing.T) {
	f := newMarket(t)
	q := keeper.NewQueryServer(f.k)
	code := status.Code

	_, err := q.Orders(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = q.Orders(f.ctx, &types.QueryOrdersRequest{Tenant: "mesh1nope"})
	require.Equal(t, codes.InvalidArgument, code(err))
	require.ErrorContains(t, err, "tenant")
	_, err = q.Bids(f.ctx, &types.QueryBidsRequest{Provider: "cosmos1xyz"})
	require.Equal(t, codes.InvalidArgument, code(err))
	require.ErrorContains(t, err, "provider")
	_, err = q.Order(f.ctx, &types.QueryOrderRequest{Tenant: f.tenant.String(), Seq: 9})
	require.Equal(t, codes.NotFound, code(err))
	require.ErrorContains(t, err, f.tenant.String()+"/9")
	_, err = q.Lease(f.ctx, &types.QueryLeaseRequest{Tenant: f.tenant.String(), Seq: 9})
	require.Equal(t, codes.NotFound, code(err))
	_, err = q.Lease(f.ctx, &types.QueryLeaseRequest{Tenant: f.tenant.String(), Seq: 0})
	require.Equal(t, codes.InvalidArgument, code(err))
	_, err = q.Leases(f.ctx, &types.QueryLeasesRequest{State: types.LeaseState(42)})
	require.Equal(t, codes.InvalidArgument, code(err))
	require.ErrorContains(t, err, "42")
}
