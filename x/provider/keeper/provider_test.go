package keeper_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/provider/keeper"
	"github.com/gpumesh/gpumesh/x/provider/types"
)

func TestRegisterProvider(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US-east1")

	p := s.provider(owner)
	require.Equal(t, types.PROVIDER_STATUS_ACTIVE, p.Status)
	require.Equal(t, uint32(5000), p.Reputation, "a new provider starts at the initial reputation")
	require.Equal(t, "https://provider1.example.com:8443", p.HostUri)
	require.Equal(t, s.ctx.BlockTime(), p.RegisteredAt)

	evs := typedEvents[types.EventProviderRegistered](t, s.ctx)
	require.Len(t, evs, 1)
	require.Equal(t, owner.String(), evs[0].Owner)
	require.Equal(t, "US-east1", evs[0].Region)

	_, err := s.msg.RegisterProvider(s.ctx, fixtures.Register(owner, "again", "US"))
	require.ErrorIs(t, err, types.ErrProviderExists)
	require.Contains(t, err.Error(), owner.String())
	require.Equal(t, "provider1", s.provider(owner).Moniker, "a refused registration changes nothing")
}

func TestUpdateProviderKeepsEmptyFields(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	_, err := s.msg.UpdateProvider(s.ctx, &types.MsgUpdateProvider{Owner: owner.String(), Region: "DE-fra1"})
	require.NoError(t, err)
	p := s.provider(owner)
	require.Equal(t, "DE-fra1", p.Region)
	require.Equal(t, "provider1", p.Moniker)
	require.Equal(t, "https://provider1.example.com:8443", p.HostUri)

	_, err = s.msg.UpdateProvider(s.ctx, &types.MsgUpdateProvider{Owner: s.addr("bob").String(), Moniker: "x"})
	require.ErrorIs(t, err, types.ErrProviderNotFound)
}

func TestSetInventoryCountsSupply(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	require.NoError(t, s.setInventory(owner, fixtures.H100x8("p1")))

	require.Equal(t, types.ClassSupply{Class: "h100-sxm-80g", Total: 8, Available: 8}, s.supply("h100-sxm-80g"))
	st := s.provider(owner).Stats
	require.Equal(t, uint32(1), st.Nodes)
	require.Equal(t, uint32(8), st.Gpus)
	require.Equal(t, uint32(8), st.BillableGpus)

	// Replacing the list moves the counters: no double counting.
	require.NoError(t, s.setInventory(owner, fixtures.Mixed("p1-mixed")))
	require.Equal(t, uint64(0), s.supply("h100-sxm-80g").Total)
	require.Equal(t, uint64(2), s.supply("h200-sxm-141g").Total)
	require.Equal(t, uint64(2), s.supply("a100-sxm-40g").Total)
	require.Equal(t, uint64(1), s.supply(types.UnknownClass).Total)
	st = s.provider(owner).Stats
	require.Equal(t, uint32(5), st.Gpus)
	require.Equal(t, uint32(4), st.BillableGpus, "unknown GPUs are listed but not billable")

	evs := typedEvents[types.EventInventorySet](t, s.ctx)
	require.Len(t, evs, 2)
	require.Len(t, evs[1].Added, 5)
	require.Len(t, evs[1].Removed, 8)
}

func TestGPUUUIDBelongsToOneProvider(t *testing.T) {
	s := setup(t)
	p1 := s.register("provider1", "US")
	p2 := s.register("provider2", "US")
	require.NoError(t, s.setInventory(p1, fixtures.H100x8("p1")))

	stolen := fixtures.H100x8("p1")[0].Gpus[3]
	nodes := fixtures.RTX4090x4("p2")
	nodes[0].Gpus = append(nodes[0].Gpus, stolen)
	err := s.setInventory(p2, nodes)
	require.ErrorIs(t, err, types.ErrGPUOwnedByOther)
	require.Contains(t, err.Error(), stolen.Uuid)
	require.Contains(t, err.Error(), p1.String())
	require.Equal(t, uint32(0), s.provider(p2).Stats.Gpus, "the refused inventory is not stored")
	require.Equal(t, uint64(8), s.supply("h100-sxm-80g").Total)

	// Once provider1 drops the GPU, provider2 may list it.
	inv := fixtures.H100x8("p1")
	inv[0].Gpus = append(inv[0].Gpus[:3], inv[0].Gpus[4:]...)
	require.NoError(t, s.setInventory(p1, inv))
	require.NoError(t, s.setInventory(p2, nodes))
	loc, _, _, err := s.k.GetGPU(s.ctx, stolen.Uuid)
	require.NoError(t, err)
	require.Equal(t, p2.String(), loc.Owner)
}

func TestSetInventoryRefusesBadInput(t *testing.T) {
	h100 := func(mut func(n *types.Node, g *types.GPU)) []types.Node {
		nodes := fixtures.H100x8("bad")
		mut(&nodes[0], &nodes[0].Gpus[0])
		return nodes
	}
	tests := []struct {
		name  string
		nodes []types.Node
		err   error
		msg   string
	}{
		{"memory below baseline", h100(func(n *types.Node, _ *types.GPU) { n.MemoryMib = 1024 }),
			types.ErrBelowBaseline, "nodes[0].memory_mib 1024 is below min_node_memory_mib 16384"},
		{"storage below baseline", h100(func(n *types.Node, _ *types.GPU) { n.StorageGib = 10 }),
			types.ErrBelowBaseline, "nodes[0].storage_gib 10 is below min_node_storage_gib 100"},
		{"vram below baseline", h100(func(_ *types.Node, g *types.GPU) { g.VramMib = 4096 }),
			types.ErrBelowBaseline, "nodes[0].gpus[0].vram_mib 4096 is below min_gpu_vram_mib 8192"},
		{"vram too small for the class", h100(func(_ *types.Node, g *types.GPU) { g.VramMib = 40960 }),
			types.ErrInvalidInventory, "vram_mib 40960 is too small for class h100-sxm-80g"},
		{"class not in params", h100(func(_ *types.Node, g *types.GPU) { g.Class = "b200-sxm-192g" }),
			types.ErrUnknownGPUClass, `nodes[0].gpus[0].class "b200-sxm-192g"`},
		{"class does not match the PCI id", h100(func(_ *types.Node, g *types.GPU) { g.Class = "rtx4090-24g"; g.VramMib = 81559 }),
			types.ErrInvalidInventory, `class "rtx4090-24g" does not match pci_device_id 0x2330, which maps to "h100-sxm-80g"`},
		{"known GPU claimed unknown", h100(func(_ *types.Node, g *types.GPU) { g.Class = types.UnknownClass }),
			types.ErrInvalidInventory, `which maps to "h100-sxm-80g"`},
		{"too many GPUs on a node (params)", func() []types.Node {
			n := fixtures.Node("big", fixtures.GPUs("big", fixtures.H100SXM, 0, 17)...)
			return []types.Node{n}
		}(), types.ErrInvalidInventory, "nodes[0].gpus: 17 GPUs, at most 16 (max_gpus_per_node)"},
		{"bad uuid", h100(func(_ *types.Node, g *types.GPU) { g.Uuid = "GPU-XYZ" }),
			types.ErrInvalidInventory, `nodes[0].gpus[0].uuid "GPU-XYZ"`},
		{"allocated_to set by the sender", h100(func(_ *types.Node, g *types.GPU) { g.AllocatedTo = "mesh1x/1" }),
			types.ErrInvalidInventory, `nodes[0].gpus[0].allocated_to "mesh1x/1"`},
		{"duplicate uuid", h100(func(n *types.Node, g *types.GPU) { n.Gpus[1].Uuid = g.Uuid }),
			types.ErrInvalidInventory, "is already listed on node"},
		{"duplicate node id", append(fixtures.H100x8("a"), fixtures.Node("dgx-0")),
			types.ErrInvalidInventory, `nodes[1].id "dgx-0" is listed twice`},
		{"no cpu", h100(func(n *types.Node, _ *types.GPU) { n.CpuCores = 0 }),
			types.ErrInvalidInventory, "nodes[0].cpu_cores must be positive"},
		{"bad interconnect", h100(func(n *types.Node, _ *types.GPU) { n.Interconnect = "Infini Band" }),
			types.ErrInvalidInventory, `nodes[0].interconnect "Infini Band"`},
		{"bad pci id", h100(func(_ *types.Node, g *types.GPU) { g.PciDeviceId = "2330" }),
			types.ErrInvalidInventory, `pci_device_id "2330"`},
		{"bad compute capability", h100(func(_ *types.Node, g *types.GPU) { g.ComputeCapability = "sm90" }),
			types.ErrInvalidInventory, `compute_capability "sm90"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t)
			owner := s.register("provider1", "US")
			err := s.setInventory(owner, tc.nodes)
			require.ErrorIs(t, err, tc.err)
			require.Contains(t, err.Error(), tc.msg)
			require.Equal(t, uint32(0), s.provider(owner).Stats.Gpus)
		})
	}

	t.Run("not registered", func(t *testing.T) {
		s := setup(t)
		err := s.setInventory(s.addr("bob"), fixtures.H100x8("bob"))
		require.ErrorIs(t, err, types.ErrProviderNotFound)
		require.Contains(t, err.Error(), s.addr("bob").String())
	})
	t.Run("bad owner", func(t *testing.T) {
		s := setup(t)
		_, err := s.msg.SetInventory(s.ctx, &types.MsgSetInventory{Owner: "mesh1nope", Nodes: fixtures.H100x8("x")})
		require.ErrorIs(t, err, sdkerrors.ErrInvalidAddress)
		require.Contains(t, err.Error(), `owner "mesh1nope"`)
	})
}

func TestAllocatedGPUsArePinned(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	inv := fixtures.H100x8("p1")
	require.NoError(t, s.setInventory(owner, inv))
	leased := []string{inv[0].Gpus[0].Uuid, inv[0].Gpus[1].Uuid}
	require.NoError(t, s.k.AllocateGPUs(s.ctx, owner, "mesh1tenant/1", leased))
	require.Equal(t, types.ClassSupply{Class: "h100-sxm-80g", Total: 8, Allocated: 2, Available: 6}, s.supply("h100-sxm-80g"))
	require.Equal(t, uint32(2), s.provider(owner).Stats.AllocatedGpus)

	// A leased GPU cannot be offered again, and nothing changes on refusal.
	err := s.k.AllocateGPUs(s.ctx, owner, "mesh1tenant/2", []string{inv[0].Gpus[2].Uuid, leased[1]})
	require.ErrorIs(t, err, types.ErrGPUAllocated)
	require.Contains(t, err.Error(), "mesh1tenant/1")
	require.Equal(t, uint64(2), s.supply("h100-sxm-80g").Allocated, "all or nothing")

	// Dropping or changing an allocated GPU is refused.
	dropped := fixtures.H100x8("p1")
	dropped[0].Gpus = dropped[0].Gpus[1:]
	err = s.setInventory(owner, dropped)
	require.ErrorIs(t, err, types.ErrGPUAllocated)
	require.Contains(t, err.Error(), leased[0])
	changed := fixtures.H100x8("p1")
	changed[0].Gpus[1].DriverVersion = "560.1"
	require.ErrorIs(t, s.setInventory(owner, changed), types.ErrGPUAllocated)
	moved := fixtures.H100x8("p1")
	moved[0].Id = "dgx-renamed"
	require.ErrorIs(t, s.setInventory(owner, moved), types.ErrGPUAllocated)

	// Changing only free GPUs keeps the allocation.
	grown := fixtures.H100x8("p1")
	grown[0].Gpus = grown[0].Gpus[:6]
	require.NoError(t, s.setInventory(owner, grown))
	_, _, g, err := s.k.GetGPU(s.ctx, leased[0])
	require.NoError(t, err)
	require.Equal(t, "mesh1tenant/1", g.AllocatedTo)
	require.Equal(t, types.ClassSupply{Class: "h100-sxm-80g", Total: 6, Allocated: 2, Available: 4}, s.supply("h100-sxm-80g"))

	// Deregistration waits for the lease.
	_, err = s.msg.DeregisterProvider(s.ctx, &types.MsgDeregisterProvider{Owner: owner.String()})
	require.ErrorIs(t, err, types.ErrDeregistrationRefused)
	require.Contains(t, err.Error(), "2 GPUs allocated")

	// Release needs the right lease.
	require.ErrorIs(t, s.k.ReleaseGPUs(s.ctx, owner, "mesh1tenant/9", leased), types.ErrGPUNotAllocatable)
	require.NoError(t, s.k.ReleaseGPUs(s.ctx, owner, "mesh1tenant/1", leased))
	require.Equal(t, uint64(0), s.supply("h100-sxm-80g").Allocated)
	require.Len(t, typedEvents[types.EventGPUsReleased](t, s.ctx), 1)
}

func TestAllocateRefusesForeignAndUnknownGPUs(t *testing.T) {
	s := setup(t)
	p1 := s.register("provider1", "US")
	p2 := s.register("provider2", "US")
	require.NoError(t, s.setInventory(p1, fixtures.Mixed("p1")))
	require.NoError(t, s.setInventory(p2, fixtures.RTX4090x4("p2")))
	mixed := fixtures.Mixed("p1")

	err := s.k.AllocateGPUs(s.ctx, p2, "mesh1t/1", []string{mixed[0].Gpus[0].Uuid})
	require.ErrorIs(t, err, types.ErrGPUOwnedByOther)
	err = s.k.AllocateGPUs(s.ctx, p1, "mesh1t/1", []string{mixed[1].Gpus[0].Uuid})
	require.ErrorIs(t, err, types.ErrGPUNotAllocatable)
	require.Contains(t, err.Error(), "unknown")
	err = s.k.AllocateGPUs(s.ctx, p1, "mesh1t/1", []string{fixtures.GPUUUID("nowhere", 0)})
	require.ErrorIs(t, err, types.ErrGPUNotFound)
	err = s.k.AllocateGPUs(s.ctx, p1, "mesh1t/1", []string{mixed[0].Gpus[0].Uuid, mixed[0].Gpus[0].Uuid})
	require.ErrorIs(t, err, types.ErrGPUNotAllocatable)
	require.Equal(t, uint32(0), s.provider(p1).Stats.AllocatedGpus)
}

func TestVerifiedStateFollowsHardware(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	inv := fixtures.H100x8("p1")
	require.NoError(t, s.setInventory(owner, inv))
	s.verify(owner, inv[0].Gpus[0].Uuid, inv[0].Gpus[1].Uuid)
	require.Equal(t, uint64(2), s.supply("h100-sxm-80g").Verified)
	require.Equal(t, uint32(2), s.provider(owner).Stats.VerifiedGpus)

	// Re-sending the same inventory keeps the verified state; a changed GPU
	// loses it.
	require.NoError(t, s.setInventory(owner, fixtures.H100x8("p1")))
	require.Equal(t, uint64(2), s.supply("h100-sxm-80g").Verified)
	changed := fixtures.H100x8("p1")
	changed[0].Gpus[0].DriverVersion = "560.1"
	require.NoError(t, s.setInventory(owner, changed))
	require.Equal(t, uint64(1), s.supply("h100-sxm-80g").Verified)
}

func TestDeregisterAndReturn(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	inv := fixtures.H100x8("p1")
	require.NoError(t, s.setInventory(owner, inv))
	_, err := s.k.ApplyReputationEvent(s.ctx, owner, types.REPUTATION_EVENT_DISPUTE_LOST)
	require.NoError(t, err)
	bad := s.provider(owner).Reputation
	require.Less(t, bad, uint32(5000))

	_, err = s.msg.DeregisterProvider(s.ctx, &types.MsgDeregisterProvider{Owner: owner.String()})
	require.NoError(t, err)
	p := s.provider(owner)
	require.Equal(t, types.PROVIDER_STATUS_DEREGISTERED, p.Status)
	require.Equal(t, uint32(0), p.Stats.Gpus)
	require.Equal(t, uint64(0), s.supply("h100-sxm-80g").Total)
	_, _, _, err = s.k.GetGPU(s.ctx, inv[0].Gpus[0].Uuid)
	require.ErrorIs(t, err, types.ErrGPUNotFound, "the UUIDs are released")
	evs := typedEvents[types.EventProviderDeregistered](t, s.ctx)
	require.Len(t, evs, 1)
	require.Len(t, evs[0].Released, 8)

	// Deregistered: no inventory, no second deregistration.
	require.ErrorIs(t, s.setInventory(owner, inv), types.ErrProviderNotActive)
	_, err = s.msg.DeregisterProvider(s.ctx, &types.MsgDeregisterProvider{Owner: owner.String()})
	require.ErrorIs(t, err, types.ErrProviderNotActive)

	// Coming back keeps the reputation: deregistering does not launder it.
	_, err = s.msg.RegisterProvider(s.ctx, fixtures.Register(owner, "provider1b", "FR"))
	require.NoError(t, err)
	p = s.provider(owner)
	require.Equal(t, types.PROVIDER_STATUS_ACTIVE, p.Status)
	require.Equal(t, bad, p.Reputation)
	require.Equal(t, uint64(1), p.Stats.DisputesLost)
}

func TestUpdateParamsGuardsListedClasses(t *testing.T) {
	s := setup(t)
	owner := s.register("provider1", "US")
	require.NoError(t, s.setInventory(owner, fixtures.RTX4090x4("p1")))
	authority := s.k.Authority()

	params := types.DefaultParams()
	var kept []types.GPUClass
	for _, c := range params.GpuClasses {
		if c.Name != "rtx4090-24g" {
			kept = append(kept, c)
		}
	}
	params.GpuClasses = kept
	_, err := s.msg.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: authority, Params: params})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	require.Contains(t, err.Error(), `class "rtx4090-24g" may not be removed while 4 GPUs of it are listed`)

	params = types.DefaultParams()
	params.MinGpuVramMib = 16 * 1024
	_, err = s.msg.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: s.addr("alice").String(), Params: params})
	require.Error(t, err, "only the authority may change params")
	_, err = s.msg.UpdateParams(s.ctx, &types.MsgUpdateParams{Authority: authority, Params: params})
	require.NoError(t, err)
	got, err := s.k.GetParams(s.ctx)
	require.NoError(t, err)
	require.Equal(t, uint32(16*1024), got.MinGpuVramMib)
}

func TestReputation(t *testing.T) {
	tests := []struct {
		old, target, bps, want uint32
	}{
		{5000, 10000, 200, 5100},
		{5000, 0, 2500, 3750},
		{9999, 10000, 200, 9999}, // rounds towards the old score
		{1, 0, 2500, 1},
		{0, 0, 10000, 0},
		{0, 10000, 10000, 10000},
		{10000, 10000, 10000, 10000},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, keeper.NextReputation(tc.old, tc.target, tc.bps), "%+v", tc)
	}

	s := setup(t)
	owner := s.register("provider1", "US")
	r, err := s.k.ApplyReputationEvent(s.ctx, owner, types.REPUTATION_EVENT_PROOF_PASSED)
	require.NoError(t, err)
	require.Equal(t, uint32(5100), r)
	r, err = s.k.ApplyReputationEvent(s.ctx, owner, types.REPUTATION_EVENT_PROOF_FAILED)
	require.NoError(t, err)
	require.Equal(t, uint32(5100-5100*2500/10000), r)
	_, err = s.k.ApplyReputationEvent(s.ctx, owner, types.REPUTATION_EVENT_LEASE_COMPLETED)
	require.NoError(t, err)
	_, err = s.k.ApplyReputationEvent(s.ctx, owner, types.REPUTATION_EVENT_EARLY_CLOSE)
	require.NoError(t, err)
	st := s.provider(owner).Stats
	require.Equal(t, [4]uint64{1, 1, 1, 1}, [4]uint64{st.ProofsPassed, st.ProofsFailed, st.LeasesCompleted, st.EarlyCloses})
	evs := typedEvents[types.EventReputationChanged](t, s.ctx)
	require.Len(t, evs, 4)
	require.Equal(t, uint32(5000), evs[0].OldReputation)

	_, err = s.k.ApplyReputationEvent(s.ctx, owner, types.REPUTATION_EVENT_UNSPECIFIED)
	require.ErrorIs(t, err, types.ErrInvalidReputation)
	_, err = s.k.ApplyReputationEvent(s.ctx, s.addr("bob"), types.REPUTATION_EVENT_PROOF_PASSED)
	require.True(t, errors.Is(err, types.ErrProviderNotFound))
}
