package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/provider/types"
)

func owners(ps []types.Provider) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Moniker
	}
	return out
}

func TestQueryProvidersFilters(t *testing.T) {
	s := setup(t)
	p1 := s.register("provider1", "US-east1")
	p2 := s.register("provider2", "US-west2")
	p3 := s.register("provider3", "DE")
	require.NoError(t, s.setInventory(p1, fixtures.H100x8("p1")))
	require.NoError(t, s.setInventory(p2, fixtures.RTX4090x4("p2")))
	require.NoError(t, s.setInventory(p3, fixtures.H100x8("p3")))
	_, err := s.msg.DeregisterProvider(s.ctx, &types.MsgDeregisterProvider{Owner: p3.String()})
	require.NoError(t, err)

	list := func(req *types.QueryProvidersRequest) []string {
		t.Helper()
		res, err := s.q.Providers(s.ctx, req)
		require.NoError(t, err)
		return owners(res.Providers)
	}
	require.ElementsMatch(t, []string{"provider1", "provider2", "provider3"}, list(&types.QueryProvidersRequest{}))
	require.ElementsMatch(t, []string{"provider1"}, list(&types.QueryProvidersRequest{GpuClass: "h100-sxm-80g"}),
		"a deregistered provider lists no GPUs")
	require.ElementsMatch(t, []string{"provider2"}, list(&types.QueryProvidersRequest{GpuClass: "rtx4090-24g"}))
	require.Empty(t, list(&types.QueryProvidersRequest{GpuClass: "a100-sxm-80g"}))
	require.ElementsMatch(t, []string{"provider1", "provider2"}, list(&types.QueryProvidersRequest{Region: "US"}),
		"a country matches all its zones")
	require.ElementsMatch(t, []string{"provider2"}, list(&types.QueryProvidersRequest{Region: "US-west2"}))
	require.ElementsMatch(t, []string{"provider3"}, list(&types.QueryProvidersRequest{Status: "deregistered"}))
	require.ElementsMatch(t, []string{"provider1", "provider2"}, list(&types.QueryProvidersRequest{Status: "PROVIDER_STATUS_ACTIVE"}))
	require.ElementsMatch(t, []string{"provider1"},
		list(&types.QueryProvidersRequest{Region: "US", GpuClass: "h100-sxm-80g", Status: "active"}))
	require.Empty(t, list(&types.QueryProvidersRequest{Region: "DE", Status: "active"}))

	// Pagination walks every provider exactly once.
	var seen []string
	var key []byte
	for {
		res, err := s.q.Providers(s.ctx, &types.QueryProvidersRequest{Pagination: &query.PageRequest{Key: key, Limit: 2}})
		require.NoError(t, err)
		require.LessOrEqual(t, len(res.Providers), 2)
		seen = append(seen, owners(res.Providers)...)
		if key = res.Pagination.NextKey; key == nil {
			break
		}
	}
	require.ElementsMatch(t, []string{"provider1", "provider2", "provider3"}, seen)

	for _, req := range []*types.QueryProvidersRequest{
		{Status: "sleeping"}, {Region: "usa"}, {GpuClass: "b300"},
	} {
		_, err := s.q.Providers(s.ctx, req)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%+v", req)
	}
}

func TestQueryProviderInventoryGPUSupply(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	inv := fixtures.H100x8("p1")
	require.NoError(t, s.setInventory(owner, inv))

	pr, err := s.q.Provider(s.ctx, &types.QueryProviderRequest{Owner: owner.String()})
	require.NoError(t, err)
	require.Equal(t, uint32(8), pr.Provider.Stats.Gpus)
	_, err = s.q.Provider(s.ctx, &types.QueryProviderRequest{Owner: s.addr("bob").String()})
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = s.q.Provider(s.ctx, &types.QueryProviderRequest{Owner: "bob"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, err.Error(), `owner "bob"`)

	ir, err := s.q.Inventory(s.ctx, &types.QueryInventoryRequest{Owner: owner.String()})
	require.NoError(t, err)
	require.Equal(t, inv, ir.Nodes)

	gr, err := s.q.GPU(s.ctx, &types.QueryGPURequest{Uuid: inv[0].Gpus[5].Uuid})
	require.NoError(t, err)
	require.Equal(t, owner.String(), gr.Owner)
	require.Equal(t, "dgx-0", gr.NodeId)
	require.Equal(t, inv[0].Gpus[5], gr.Gpu)
	_, err = s.q.GPU(s.ctx, &types.QueryGPURequest{Uuid: "GPU-nope"})
	require.Equal(t, codes.NotFound, status.Code(err))

	require.NoError(t, s.k.AllocateGPUs(s.ctx, owner, "mesh1t/1", []string{inv[0].Gpus[0].Uuid}))
	sr, err := s.q.Supply(s.ctx, &types.QuerySupplyRequest{})
	require.NoError(t, err)
	require.Len(t, sr.Classes, len(types.DefaultGPUClasses())+1, "every class in the params, then unknown")
	require.Equal(t, types.ClassSupply{Class: "h100-sxm-80g", Total: 8, Allocated: 1, Available: 7}, sr.Classes[0])
	require.Equal(t, types.UnknownClass, sr.Classes[len(sr.Classes)-1].Class)
	require.Equal(t, types.ClassSupply{Class: "rtx4090-24g"}, sr.Classes[7])
}
