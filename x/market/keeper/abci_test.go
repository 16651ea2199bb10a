package keeper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// The market driven by signed transactions in real blocks: the auction
// closes in the EndBlock of the block that reaches the window end, an
// instant order is leased in the block of its first valid bid, and a lease
// whose escrow runs dry is closed within one block of the computed time.
func TestMarketThroughFinalizeBlock(t *testing.T) {
	a := apptest.New(t)
	alice, bob := a.Account("alice"), a.Account("bob")
	p1, p2 := a.Account("provider1"), a.Account("provider2")
	deliver := func(signer apptest.Account, msgs ...sdk.Msg) {
		t.Helper()
		res := a.DeliverTx(signer, msgs...)
		require.Equal(t, uint32(0), res.Code, res.Log)
	}
	for _, p := range []apptest.Account{p1, p2} {
		deliver(p, fixtures.Register(p.Address, p.Name, "US"))
		deliver(p, &providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: fixtures.H100x8(p.Name)})
		required, err := a.StakingSlashKeeper.RequiredBond(a.Ctx(), 8)
		require.NoError(t, err)
		deliver(p, &stakingslashtypes.MsgBond{Provider: p.Address.String(), Amount: sdk.NewCoin(testMESH, required)})
	}
	uuids := func(p apptest.Account, first int) []string {
		return []string{fixtures.GPUUUID(p.Name, first), fixtures.GPUUUID(p.Name, first+1)}
	}
	t.Cleanup(func() { require.NoError(t, a.CheckInvariants(a.Ctx())) })

	// An auction with a 30 s window.
	order := &types.MsgCreateOrder{
		Tenant: alice.Address.String(), Spec: types.ResourceSpec{GpuClasses: []string{"h100-sxm-80g"}, GpusPerNode: 2, Nodes: 1},
		MaxPricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_500_000), Deposit: sdk.NewInt64Coin(testUSDC, 5_000_000), BidWindowSeconds: 30,
	}
	deliver(alice, order)
	id := types.OrderID{Tenant: alice.Address.String(), Seq: 1}
	o, err := a.MarketKeeper.GetOrder(a.Ctx(), id)
	require.NoError(t, err)
	deliver(p1, &types.MsgCreateBid{Provider: p1.Address.String(), OrderId: id, PricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_200_000),
		Gpus: uuids(p1, 0), Deposit: types.DefaultBidDeposit})
	deliver(p2, &types.MsgCreateBid{Provider: p2.Address.String(), OrderId: id, PricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_000_000),
		Gpus: uuids(p2, 0), Deposit: types.DefaultBidDeposit})
	for a.BlockTime.Before(o.WindowEnd) {
		_, err := a.MarketKeeper.GetLease(a.Ctx(), id)
		require.ErrorIs(t, err, types.ErrLeaseNotFound)
		a.NextBlock()
	}
	lease, err := a.MarketKeeper.GetLease(a.Ctx(), id)
	require.NoError(t, err)
	require.Equal(t, p2.Address.String(), lease.Provider)
	require.Equal(t, a.BlockTime, lease.StartTime, "leased in the EndBlock of the block that reached the window end")

	// An instant order, answered in the next block, whose deposit is the
	// least both minimums allow: x/market's 600 s of 2 GPUs × 2.5 USDC is
	// 833 334 (rounded up), x/escrow's min_deposits 1 USDC. At the full
	// price it runs dry after 3600 × 1 000 000 / 5 000 000 = 720 s.
	instant := *order
	instant.Tenant, instant.BidWindowSeconds, instant.Deposit = bob.Address.String(), 0, app.StableMinDeposit
	deliver(bob, &instant)
	iid := types.OrderID{Tenant: bob.Address.String(), Seq: 1}
	deliver(p1, &types.MsgCreateBid{Provider: p1.Address.String(), OrderId: iid, PricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_500_000),
		Gpus: uuids(p1, 2), Deposit: types.DefaultBidDeposit})
	ilease, err := a.MarketKeeper.GetLease(a.Ctx(), iid)
	require.NoError(t, err)
	require.Equal(t, a.BlockTime, ilease.StartTime, "leased in the block of the bid")
	tenant := bob.Address
	acc, err := a.EscrowKeeper.GetAccount(a.Ctx(), tenant, 1)
	require.NoError(t, err)
	require.Equal(t, ilease.StartTime.Add(720*time.Second), acc.RunsDryAt)

	// Jump to the block just before it runs dry, then one more block.
	a.BlockTime = acc.RunsDryAt.Add(-apptest.BlockInterval - time.Second)
	a.NextBlock()
	ilease, err = a.MarketKeeper.GetLease(a.Ctx(), iid)
	require.NoError(t, err)
	require.Equal(t, types.LEASE_STATE_ACTIVE, ilease.State)
	res := a.NextBlock()
	ilease, err = a.MarketKeeper.GetLease(a.Ctx(), iid)
	require.NoError(t, err)
	require.Equal(t, types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS, ilease.CloseReason)
	require.False(t, ilease.ClosedAt.Before(acc.RunsDryAt))
	require.Less(t, ilease.ClosedAt.Sub(acc.RunsDryAt), apptest.BlockInterval, "within one block of the computed time")
	found := false
	for _, e := range res.Events {
		found = found || e.Type == "gpumesh.market.v1.EventLeaseClosed"
	}
	require.True(t, found, "the EndBlock close emits EventLeaseClosed in the block result")
	_, _, g, err := a.ProviderKeeper.GetGPU(a.Ctx(), ilease.Gpus[0])
	require.NoError(t, err)
	require.Empty(t, g.AllocatedTo, "GPUs free again")
}

// farFuture is a time no seeded entry becomes due before.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// seedActiveLeases writes n ACTIVE leases straight into the collections,
// each queued at farFuture in the lease end queue and in x/escrow's dry
// queue, as they would be if n tenants each had a running lease. The
// records are not consistent with x/provider or the escrow accounts: only
// the EndBlock's cost is measured on them.
func seedActiveLeases(tb testing.TB, a *apptest.App, ctx sdk.Context, n int) {
	tb.Helper()
	k := a.MarketKeeper
	provider := a.Account("provider1").Address
	for i := range n {
		tenant := sdk.AccAddress(fmt.Sprintf("seeded-tenant-%06d", i))
		key := collections.Join(tenant, uint64(1))
		require.NoError(tb, k.Leases.Set(ctx, key, types.Lease{
			Id: types.NewOrderID(tenant, 1), Provider: provider.String(), Gpus: []string{fixtures.GPUUUID("seed", i)},
			GpuClass: "h100-sxm-80g", PricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_000_000),
			StartTime: ctx.BlockTime(), EndTime: farFuture, State: types.LEASE_STATE_ACTIVE,
		}))
		require.NoError(tb, k.LeaseEndQueue.Set(ctx, collections.Join3(farFuture.Unix(), tenant, uint64(1))))
		require.NoError(tb, a.EscrowKeeper.DryQueue.Set(ctx, collections.Join3(farFuture.Unix(), tenant, uint64(1))))
	}
}

// committedWithLeases is an app whose committed state holds n seeded
// active leases, with a context over it.
func committedWithLeases(tb testing.TB, n int) (*apptest.App, sdk.Context) {
	tb.Helper()
	a := apptest.New(tb)
	ctx := a.KeeperCtx()
	seedActiveLeases(tb, a, ctx, n)
	ctx.MultiStore().(storetypes.CacheMultiStore).Write()
	a.NextBlock()
	return a, a.KeeperCtx()
}

// EndBlock reads the same with 10 or 1000 active leases when nothing is
// due: its gas (every store read is metered) does not depend on them.
func TestEndBlockCostIndependentOfActiveLeases(t *testing.T) {
	gas := func(n int) storetypes.Gas {
		a, ctx := committedWithLeases(t, n)
		ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
		require.NoError(t, a.MarketKeeper.EndBlocker(ctx))
		return ctx.GasMeter().GasConsumed()
	}
	small, large := gas(10), gas(1000)
	require.Positive(t, small)
	require.Equal(t, small, large)
}

// BenchmarkEndBlockActiveLeases measures EndBlock with 10 and 100 000
// active leases of which none is due: the cost is the same order (a seek
// into each time queue), not proportional to the leases.
//
//	go test ./x/market/keeper -run '^$' -bench EndBlockActiveLeases -benchtime 2000x
func BenchmarkEndBlockActiveLeases(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("leases=%d", n), func(b *testing.B) {
			a, ctx := committedWithLeases(b, n)
			b.ResetTimer()
			for range b.N {
				if err := a.MarketKeeper.EndBlocker(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
