package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/market/keeper"
	"github.com/gpumesh/gpumesh/x/market/types"
)

// timeKeys lists a time queue.
func timeKeys(t *testing.T, ctx sdk.Context, q collections.KeySet[types.TimeKey]) []types.TimeKey {
	t.Helper()
	it, err := q.Iterate(ctx, nil)
	require.NoError(t, err)
	keys, err := it.Keys()
	require.NoError(t, err)
	return keys
}

func activeLeaseCounts(t *testing.T, ctx sdk.Context, k *keeper.Keeper) map[string]uint64 {
	t.Helper()
	it, err := k.ProviderActiveLeases.Iterate(ctx, nil)
	require.NoError(t, err)
	kvs, err := it.KeyValues()
	require.NoError(t, err)
	out := map[string]uint64{}
	for _, kv := range kvs {
		out[kv.Key.String()] = kv.Value
	}
	return out
}

// Exporting a market with an order in every state and importing it into a
// fresh keeper gives back the same genesis, and the indexes that genesis
// does not carry (auction windows, lease ends, active leases per provider)
// are rebuilt exactly.
func TestGenesisRoundTripRebuildsIndexes(t *testing.T) {
	r := newRichMarket(t)
	// A lease with a duration, so the lease-end queue is not empty.
	e := r.order(r.tenant2, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0; m.DurationSeconds = 7200 })
	r.mustBid(r.p1, e, 2_000_000, r.gpusOf(r.p1, 4, 2))

	exported, err := r.k.ExportGenesis(r.ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Len(t, exported.Orders, 5)
	require.Len(t, exported.Leases, 3)

	fresh := apptest.New(t)
	ctx := fresh.KeeperCtx()
	require.NoError(t, fresh.MarketKeeper.InitGenesis(ctx, *exported))
	again, err := fresh.MarketKeeper.ExportGenesis(ctx)
	require.NoError(t, err)
	require.Equal(t, exported, again)

	windows := timeKeys(t, r.ctx, r.k.WindowQueue)
	require.Len(t, windows, 1, "only order a is open")
	require.Equal(t, windows, timeKeys(t, ctx, fresh.MarketKeeper.WindowQueue))
	ends := timeKeys(t, r.ctx, r.k.LeaseEndQueue)
	require.Len(t, ends, 1, "only lease e has a duration")
	require.Equal(t, ends, timeKeys(t, ctx, fresh.MarketKeeper.LeaseEndQueue))
	counts := activeLeaseCounts(t, r.ctx, r.k)
	require.Equal(t, map[string]uint64{r.p1.String(): 2}, counts)
	require.Equal(t, counts, activeLeaseCounts(t, ctx, fresh.MarketKeeper))
}

// Every rule of GenesisState.Validate refuses a broken state and names the
// offending entry.
func TestGenesisValidateRefusesInconsistentState(t *testing.T) {
	r := newRichMarket(t)
	valid, err := r.k.ExportGenesis(r.ctx)
	require.NoError(t, err)
	require.NoError(t, valid.Validate())
	orderIndex := func(gs *types.GenesisState, id types.OrderID) int {
		for i, o := range gs.Orders {
			if o.Id == id {
				return i
			}
		}
		t.Fatalf("order %s not exported", id)
		return -1
	}
	leaseIndex := func(gs *types.GenesisState, id types.OrderID) int {
		for i, l := range gs.Leases {
			if l.Id == id {
				return i
			}
		}
		t.Fatalf("lease %s not exported", id)
		return -1
	}

	cases := map[string]struct {
		mutate func(gs *types.GenesisState)
		want   string
	}{
		"bad params": {func(gs *types.GenesisState) { gs.Params.MaxBidsPerOrder = 0 }, "max_bids_per_order"},
		"duplicate order": {func(gs *types.GenesisState) { gs.Orders = append(gs.Orders, gs.Orders[0]) },
			"is listed twice"},
		"bid without order": {func(gs *types.GenesisState) {
			i := orderIndex(gs, r.a)
			gs.Orders = append(gs.Orders[:i], gs.Orders[i+1:]...)
		}, "is not in the genesis"},
		"lease of an open order": {func(gs *types.GenesisState) {
			gs.Orders[orderIndex(gs, r.b)].State = types.ORDER_STATE_OPEN
		}, "ORDER_STATE_MATCHED"},
		"matched order without lease": {func(gs *types.GenesisState) {
			i := leaseIndex(gs, r.c)
			gs.Leases = append(gs.Leases[:i], gs.Leases[i+1:]...)
		}, "has no lease"},
		"active counter": {func(gs *types.GenesisState) { gs.Counters.ActiveLeases = 5 }, "counters.active_leases 5"},
		"tenant sequence too low": {func(gs *types.GenesisState) {
			for i := range gs.TenantSeqs {
				gs.TenantSeqs[i].Seq = 1
			}
		}, "is below tenant"},
		"open bid count": {func(gs *types.GenesisState) { gs.Orders[orderIndex(gs, r.a)].OpenBids = 1 }, "open_bids 1"},
		"GPU leased twice": {func(gs *types.GenesisState) {
			gs.Leases[leaseIndex(gs, r.b)].Gpus = append([]string(nil), gs.Leases[leaseIndex(gs, r.c)].Gpus...)
			gs.Leases[leaseIndex(gs, r.c)].State = types.LEASE_STATE_ACTIVE
			gs.Leases[leaseIndex(gs, r.c)].CloseReason = types.LEASE_CLOSE_REASON_UNSPECIFIED
		}, "leases["},
		"duplicate price index": {func(gs *types.GenesisState) {
			gs.PriceIndex = append(gs.PriceIndex, gs.PriceIndex[0])
		}, "is listed twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			gs, err := r.k.ExportGenesis(r.ctx)
			require.NoError(t, err)
			tc.mutate(gs)
			err = gs.Validate()
			require.Error(t, err)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
