package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
)

// The invariants hold through a busy scenario and catch each kind of
// corruption.
func TestInvariantsCatchCorruption(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(f *marketFixture, open, leased types.OrderID)
		msg     string
	}{
		{"active lease counter", func(f *marketFixture, _, _ types.OrderID) {
			c := f.counters()
			c.ActiveLeases++
			require.NoError(t, f.k.Counters.Set(f.ctx, c))
		}, "counters.active_leases is 2, 1 leases are active"},
		{"provider lease count", func(f *marketFixture, _, _ types.OrderID) {
			require.NoError(t, f.k.ProviderActiveLeases.Set(f.ctx, f.p1, 3))
		}, "provider_active_leases sum to 3, 1 leases are active"},
		{"open bids", func(f *marketFixture, open, _ types.OrderID) {
			key, _ := open.Key()
			o := f.getOrder(open)
			o.OpenBids = 5
			require.NoError(t, f.k.Orders.Set(f.ctx, key, o))
		}, "open_bids is 5, 1 bids are open"},
		{"window queue", func(f *marketFixture, open, _ types.OrderID) {
			key, _ := open.Key()
			o := f.getOrder(open)
			require.NoError(t, f.k.WindowQueue.Remove(f.ctx, collections.Join3(o.WindowEnd.Unix(), key.K1(), key.K2())))
		}, "is not queued at its window end"},
		{"stale window entry", func(f *marketFixture, _, leased types.OrderID) {
			key, _ := leased.Key()
			require.NoError(t, f.k.WindowQueue.Set(f.ctx, collections.Join3(int64(1), key.K1(), key.K2())))
		}, "is ORDER_STATE_MATCHED"},
		{"lease end queue", func(f *marketFixture, _, leased types.OrderID) {
			key, _ := leased.Key()
			l := f.getLease(leased)
			require.NoError(t, f.k.LeaseEndQueue.Remove(f.ctx, collections.Join3(l.EndTime.Unix(), key.K1(), key.K2())))
		}, "is not queued"},
		{"GPU released behind the lease's back", func(f *marketFixture, _, leased types.OrderID) {
			l := f.getLease(leased)
			require.NoError(t, f.app.ProviderKeeper.ReleaseGPUs(f.ctx, f.p1, leased.String(), l.Gpus[:1]))
		}, `and allocated to ""`},
		{"tenant sequence", func(f *marketFixture, _, _ types.OrderID) {
			require.NoError(t, f.k.TenantSeqs.Set(f.ctx, f.tenant, 1))
		}, "seq is above the tenant's last sequence 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newMarket(t)
			f.onboard(f.p1, "US", fixtures.H100x8("p1"))
			f.onboard(f.p2, "US", fixtures.H100x8("p2"))
			open := f.order(f.tenant, nil)
			f.mustBid(f.p2, open, 2_000_000, f.gpusOf(f.p2, 0, 2))
			leased := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds, m.DurationSeconds = 0, 3600 })
			f.mustBid(f.p1, leased, 2_000_000, f.gpusOf(f.p1, 0, 2))
			require.NoError(t, f.k.CheckInvariants(f.ctx))

			tc.corrupt(f, open, leased)
			f.corrupted = true
			err := f.k.CheckInvariants(f.ctx)
			require.Error(t, err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}
