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

// instantLease posts an instant order of the tenant changed by mut and
// lets p answer it at price with its first two GPUs; it returns the lease
// id and its start.
func (f *marketFixture) instantLease(p sdk.AccAddress, price int64, mut func(m *types.MsgCreateOrder)) (types.OrderID, time.Time) {
	f.t.Helper()
	id := f.order(f.tenant, func(m *types.MsgCreateOrder) {
		m.BidWindowSeconds = 0
		if mut != nil {
			mut(m)
		}
	})
	require.True(f.t, f.mustBid(p, id, price, f.gpusOf(p, 0, 2)).LeaseStarted)
	return id, f.now()
}

// A lease whose escrow runs dry is closed in the first EndBlock at or
// after runs_dry_at, not before; the provider receives exactly the
// deposit minus fees, and the GPUs are free again.
func TestLeaseRunsDry(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	tenantUSDC, p1USDC := f.balance(f.tenant, testUSDC), f.balance(f.p1, testUSDC)
	// 2 GPUs at 3 USDC per GPU-hour: 6 000 000 per hour. The deposit lasts
	// 3600 × 1 500 001 / 6 000 000 = 900.0006 s: it runs dry at second 901.
	id, start := f.instantLease(f.p1, 3_000_000, func(m *types.MsgCreateOrder) {
		m.MaxPricePerGpuHour, m.Deposit = sdk.NewInt64Coin(testUSDC, 3_000_000), sdk.NewInt64Coin(testUSDC, 1_500_001)
	})
	require.Equal(t, start.Add(901*time.Second), f.account(id).RunsDryAt)
	gpus := f.getLease(id).Gpus

	f.at(start.Add(900 * time.Second))
	f.endBlock()
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.getLease(id).State, "owedFor(900 s) = 1 500 000 < deposit")

	f.at(start.Add(901 * time.Second))
	f.endBlock()
	lease := f.getLease(id)
	require.Equal(t, types.LEASE_STATE_CLOSED, lease.State)
	require.Equal(t, types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS, lease.CloseReason)
	require.Equal(t, f.now(), lease.ClosedAt)
	require.Equal(t, []string{"", ""}, f.allocatedTo(gpus))
	deposit := math.NewInt(1_500_001)
	share, _, _ := f.split(testUSDC, deposit)
	require.Equal(t, p1USDC.Add(share), f.balance(f.p1, testUSDC), "the provider receives the whole deposit minus fees")
	require.Equal(t, tenantUSDC.Sub(deposit), f.balance(f.tenant, testUSDC))
	acc := f.account(id)
	require.Equal(t, escrowtypes.ACCOUNT_STATE_CLOSED, acc.State)
	require.True(t, acc.Refunded.IsZero())
	require.Equal(t, []*types.EventLeaseClosed{{
		Id: id, Provider: f.p1.String(), Reason: types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS,
		Paid: sdk.NewCoin(testUSDC, deposit), Refunded: sdk.NewInt64Coin(testUSDC, 0),
	}}, marketEvents[*types.EventLeaseClosed](t, f.ctx))
	require.Equal(t, types.Counters{OrdersCreated: 1, LeasesStarted: 1, LeasesClosed: 1, BidsCreated: 1}, f.counters())

	// Its GPUs may be leased again.
	id2, _ := f.instantLease(f.p1, 2_000_000, nil)
	require.Equal(t, repeatString(id2.String(), 2), f.allocatedTo(gpus))
}

// A lease with a duration expires at exactly its end time, and a late
// closing block does not charge the seconds after it.
func TestLeaseDurationExpires(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	tenantUSDC, p1USDC, p2USDC := f.balance(f.tenant, testUSDC), f.balance(f.p1, testUSDC), f.balance(f.p2, testUSDC)
	withDuration := func(m *types.MsgCreateOrder) { m.DurationSeconds = 1000 }
	a, startA := f.instantLease(f.p1, 2_000_000, withDuration)
	require.Equal(t, startA.Add(1000*time.Second), f.getLease(a).EndTime)
	f.advance(7)
	b, startB := f.instantLease(f.p2, 2_000_000, withDuration)

	f.at(startA.Add(999 * time.Second))
	f.endBlock()
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.getLease(a).State)
	f.at(startA.Add(1000 * time.Second))
	f.endBlock()
	require.Equal(t, types.LEASE_STATE_CLOSED, f.getLease(a).State)
	require.Equal(t, types.LEASE_CLOSE_REASON_EXPIRED, f.getLease(a).CloseReason)
	require.Equal(t, types.LEASE_STATE_ACTIVE, f.getLease(b).State)

	// The next block comes late, 25 s after b's end.
	f.at(startB.Add(1025 * time.Second))
	f.endBlock()
	require.Equal(t, types.LEASE_CLOSE_REASON_EXPIRED, f.getLease(b).CloseReason)
	gross := owedFor(2_000_000, 2, 1000) // 1 111 111 for each lease
	share, _, _ := f.split(testUSDC, gross)
	require.Equal(t, p1USDC.Add(share), f.balance(f.p1, testUSDC))
	require.Equal(t, p2USDC.Add(share), f.balance(f.p2, testUSDC), "paid for the duration, not for the late block")
	require.Equal(t, tenantUSDC.Sub(gross.MulRaw(2)), f.balance(f.tenant, testUSDC))
	require.Equal(t, gross, f.account(b).Paid)
	require.Zero(t, f.counters().ActiveLeases)
}

// A provider that closes its lease is slashed for the early close (the
// tenant receives the tenant share), and its reputation drops. It is still
// paid for the time served.
func TestProviderEarlyClose(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	tenantMesh, p1USDC := f.balance(f.tenant, testMESH), f.balance(f.p1, testUSDC)
	bonded, err := f.app.StakingSlashKeeper.Bonded(f.ctx, f.p1)
	require.NoError(t, err)
	require.Equal(t, math.NewInt(800_000_000), bonded)
	rep := f.reputation(f.p1)
	id, start := f.instantLease(f.p1, 2_000_000, nil)

	f.at(start.Add(600 * time.Second))
	_, err = f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.p1.String(), LeaseId: id})
	require.NoError(t, err)
	lease := f.getLease(id)
	require.Equal(t, types.LEASE_CLOSE_REASON_PROVIDER, lease.CloseReason)

	slashed := math.NewInt(16_000_000) // 2% of the bond
	after, err := f.app.StakingSlashKeeper.Bonded(f.ctx, f.p1)
	require.NoError(t, err)
	require.Equal(t, bonded.Sub(slashed), after)
	require.Equal(t, tenantMesh.Add(math.NewInt(8_000_000)), f.balance(f.tenant, testMESH), "the tenant gets half the slash")
	require.Equal(t, providerkeeper.NextReputation(rep, 0, 500), f.reputation(f.p1))
	require.Less(t, f.reputation(f.p1), rep)
	share, _, _ := f.split(testUSDC, owedFor(2_000_000, 2, 600))
	require.Equal(t, p1USDC.Add(share), f.balance(f.p1, testUSDC))
	require.Equal(t, []string{"", ""}, f.allocatedTo(lease.Gpus))
	p, err := f.app.ProviderKeeper.GetProvider(f.ctx, f.p1)
	require.NoError(t, err)
	require.Equal(t, uint64(1), p.Stats.EarlyCloses)
}

// A provider with an active lease cannot deregister; once the lease has
// closed it can.
func TestDeregistrationRefusedWhileLeased(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	id, _ := f.instantLease(f.p1, 2_000_000, nil)
	has, err := f.k.HasActiveLeases(f.ctx, f.p1)
	require.NoError(t, err)
	require.True(t, has)

	err = f.k.ProviderHooks().BeforeProviderDeregistered(f.ctx, f.p1)
	require.ErrorIs(t, err, types.ErrProviderHasLeases)
	require.ErrorContains(t, err, "provider "+f.p1.String()+" has 1 active leases")
	_, err = f.providerMsgs.DeregisterProvider(f.ctx, &providertypes.MsgDeregisterProvider{Owner: f.p1.String()})
	require.ErrorIs(t, err, providertypes.ErrDeregistrationRefused)

	_, err = f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.tenant.String(), LeaseId: id})
	require.NoError(t, err)
	has, err = f.k.HasActiveLeases(f.ctx, f.p1)
	require.NoError(t, err)
	require.False(t, has)
	require.NoError(t, f.k.ProviderHooks().BeforeProviderDeregistered(f.ctx, f.p1))
	_, err = f.providerMsgs.DeregisterProvider(f.ctx, &providertypes.MsgDeregisterProvider{Owner: f.p1.String()})
	require.NoError(t, err)
}

func TestCloseLeaseErrors(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	id, _ := f.instantLease(f.p1, 2_000_000, nil)
	closeBy := func(sender sdk.AccAddress, id types.OrderID) error {
		_, err := f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: sender.String(), LeaseId: id})
		return err
	}
	err := closeBy(f.tenant2, id)
	require.ErrorIs(t, err, types.ErrUnauthorized)
	require.ErrorContains(t, err, "sender "+f.tenant2.String()+" is neither the tenant nor the provider of lease "+id.String())
	err = closeBy(f.tenant, types.OrderID{Tenant: f.tenant.String(), Seq: 9})
	require.ErrorIs(t, err, types.ErrLeaseNotFound)
	require.ErrorContains(t, err, "lease "+f.tenant.String()+"/9")
	open := f.order(f.tenant, nil)
	require.ErrorIs(t, closeBy(f.tenant, open), types.ErrLeaseNotFound, "an open order has no lease")

	for _, reason := range []types.LeaseCloseReason{types.LEASE_CLOSE_REASON_UNSPECIFIED, 99} {
		err = f.k.CloseLease(f.ctx, id, reason)
		require.ErrorIs(t, err, types.ErrInvalidCloseReason)
	}

	// x/proofofcompute closes with its own reasons; no reputation event here.
	rep := f.reputation(f.p1)
	require.NoError(t, f.k.CloseLease(f.ctx, id, types.LEASE_CLOSE_REASON_PROVIDER_SLASHED))
	require.Equal(t, types.LEASE_CLOSE_REASON_PROVIDER_SLASHED, f.getLease(id).CloseReason)
	require.Equal(t, rep, f.reputation(f.p1))

	err = closeBy(f.tenant, id)
	require.ErrorIs(t, err, types.ErrLeaseNotActive)
	require.ErrorContains(t, err, "lease "+id.String()+" is LEASE_STATE_CLOSED (LEASE_CLOSE_REASON_PROVIDER_SLASHED)")
	require.ErrorIs(t, f.k.CloseLease(f.ctx, id, types.LEASE_CLOSE_REASON_DISPUTE_LOST), types.ErrLeaseNotActive)
}

func TestSetLeaseAccess(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	id, _ := f.instantLease(f.p1, 2_000_000, nil)
	set := func(p sdk.AccAddress, id types.OrderID, endpoint string) error {
		_, err := f.msgs.SetLeaseAccess(f.ctx, &types.MsgSetLeaseAccess{Provider: p.String(), LeaseId: id, Endpoint: endpoint})
		return err
	}
	require.NoError(t, set(f.p1, id, "ssh://ubuntu@203.0.113.7:2222"))
	require.NoError(t, set(f.p1, id, "ssh://ubuntu@203.0.113.8:2222"), "may be updated")
	require.Equal(t, "ssh://ubuntu@203.0.113.8:2222", f.getLease(id).AccessEndpoint)
	require.Equal(t, []*types.EventLeaseAccessSet{
		{Id: id, Provider: f.p1.String(), Endpoint: "ssh://ubuntu@203.0.113.7:2222"},
		{Id: id, Provider: f.p1.String(), Endpoint: "ssh://ubuntu@203.0.113.8:2222"},
	}, marketEvents[*types.EventLeaseAccessSet](t, f.ctx))

	err := set(f.tenant, id, "ssh://x")
	require.ErrorIs(t, err, types.ErrUnauthorized)
	require.ErrorContains(t, err, "provider "+f.tenant.String()+" is not the provider of lease "+id.String())
	require.ErrorIs(t, set(f.p1, id, "ssh://a b"), types.ErrInvalidEndpoint)
	require.ErrorIs(t, set(f.p1, types.OrderID{Tenant: f.tenant.String(), Seq: 3}, "ssh://x"), types.ErrLeaseNotFound)
	_, err = f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.tenant.String(), LeaseId: id})
	require.NoError(t, err)
	err = set(f.p1, id, "ssh://x")
	require.ErrorIs(t, err, types.ErrLeaseNotActive)
	require.ErrorContains(t, err, "LEASE_STATE_CLOSED (LEASE_CLOSE_REASON_TENANT)")
}
