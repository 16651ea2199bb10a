package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/provider/types"
)

func TestGenesisRoundTrip(t *testing.T) {
	s := setup(t)
	p1 := s.register("provider1", "US")
	p2 := s.register("provider2", "DE-fra1")
	p3 := s.register("provider3", "FR")
	require.NoError(t, s.setInventory(p1, fixtures.H100x8("p1")))
	require.NoError(t, s.setInventory(p2, fixtures.Mixed("p2")))
	inv := fixtures.H100x8("p1")
	require.NoError(t, s.k.AllocateGPUs(s.ctx, p1, "mesh1t/3", []string{inv[0].Gpus[2].Uuid}))
	s.verify(p1, inv[0].Gpus[4].Uuid)
	_, err := s.k.ApplyReputationEvent(s.ctx, p2, types.REPUTATION_EVENT_PROOF_PASSED)
	require.NoError(t, err)
	_, err = s.msg.DeregisterProvider(s.ctx, &types.MsgDeregisterProvider{Owner: p3.String()})
	require.NoError(t, err)

	exported, err := s.k.ExportGenesis(s.ctx)
	require.NoError(t, err)
	require.NoError(t, exported.Validate())
	require.Len(t, exported.Providers, 3)
	require.Len(t, exported.Inventories, 2)

	fresh := apptest.New(t)
	ctx := fresh.KeeperCtx()
	require.NoError(t, fresh.ProviderKeeper.InitGenesis(ctx, *exported))
	require.NoError(t, fresh.ProviderKeeper.CheckInvariants(ctx), "derived state rebuilt on import")
	again, err := fresh.ProviderKeeper.ExportGenesis(ctx)
	require.NoError(t, err)
	require.Equal(t, exported, again)

	sup, err := fresh.ProviderKeeper.ClassSupply(ctx, "h100-sxm-80g")
	require.NoError(t, err)
	require.Equal(t, types.ClassSupply{Class: "h100-sxm-80g", Total: 8, Allocated: 1, Verified: 1, Available: 7}, sup)
	loc, _, _, err := fresh.ProviderKeeper.GetGPU(ctx, inv[0].Gpus[0].Uuid)
	require.NoError(t, err)
	require.Equal(t, p1.String(), loc.Owner)
}

func TestInvariantDetectsDrift(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	require.NoError(t, s.setInventory(owner, fixtures.H100x8("p1")))
	require.NoError(t, s.k.CheckInvariants(s.ctx))

	sup, err := s.k.Supply.Get(s.ctx, "h100-sxm-80g")
	require.NoError(t, err)
	sup.Allocated++
	require.NoError(t, s.k.Supply.Set(s.ctx, "h100-sxm-80g", sup))
	err = s.k.CheckInvariants(s.ctx)
	require.ErrorContains(t, err, "supply of h100-sxm-80g")
	sup.Allocated--
	require.NoError(t, s.k.Supply.Set(s.ctx, "h100-sxm-80g", sup))

	require.NoError(t, s.k.GPUIndex.Remove(s.ctx, fixtures.GPUUUID("p1", 3)))
	require.ErrorContains(t, s.k.CheckInvariants(s.ctx), "is not indexed")
	require.NoError(t, s.k.GPUIndex.Set(s.ctx, fixtures.GPUUUID("p1", 3), types.GPULocation{Owner: owner.String(), NodeId: "dgx-0"}))

	p := s.provider(owner)
	p.Stats.BillableGpus = 7
	require.NoError(t, s.k.Providers.Set(s.ctx, owner, p))
	require.ErrorContains(t, s.k.CheckInvariants(s.ctx), "do not match its nodes")
	p.Stats.BillableGpus = 8
	require.NoError(t, s.k.Providers.Set(s.ctx, owner, p))
}
