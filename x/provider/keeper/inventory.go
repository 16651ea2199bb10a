package keeper

import (
	"context"
	"errors"
	"maps"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// GetInventory returns the provider's nodes ordered by node id.
func (k *Keeper) GetInventory(ctx context.Context, owner sdk.AccAddress) ([]types.Node, error) {
	var nodes []types.Node
	err := k.Nodes.Walk(ctx, collections.NewPrefixedPairRange[sdk.AccAddress, string](owner),
		func(_ collections.Pair[sdk.AccAddress, string], n types.Node) (bool, error) {
			nodes = append(nodes, n)
			return false, nil
		})
	return nodes, err
}

// SetInventory replaces the provider's node list after checking it against
// the params (GPU classes and the baseline) and the chain (GPU UUIDs listed
// by other providers, GPUs allocated to leases), and returns the provider's
// new stats.
func (k *Keeper) SetInventory(ctx context.Context, owner sdk.AccAddress, nodes []types.Node) (types.ProviderStats, error) {
	p, err := k.GetActiveProvider(ctx, owner)
	if err != nil {
		return types.ProviderStats{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.ProviderStats{}, err
	}
	if err := types.ValidateNodes(nodes); err != nil {
		return types.ProviderStats{}, err
	}
	if err := checkAgainstParams(params, nodes); err != nil {
		return types.ProviderStats{}, err
	}
	for i, n := range nodes {
		for j, g := range n.Gpus {
			loc, err := k.GPUIndex.Get(ctx, g.Uuid)
			switch {
			case errors.Is(err, collections.ErrNotFound):
			case err != nil:
				return types.ProviderStats{}, err
			case loc.Owner != p.Owner:
				return types.ProviderStats{}, errorsmod.Wrapf(types.ErrGPUOwnedByOther,
					"nodes[%d].gpus[%d].uuid: GPU %s is registered to provider %s", i, j, g.Uuid, loc.Owner)
			}
		}
	}
	if _, _, err := k.replaceInventory(ctx, owner, &p, nodes); err != nil {
		return types.ProviderStats{}, err
	}
	if err := k.Providers.Set(ctx, owner, p); err != nil {
		return types.ProviderStats{}, err
	}
	if k.hooks != nil {
		if err := k.hooks.AfterInventoryChanged(ctx, owner, p.Stats.BillableGpus); err != nil {
			return types.ProviderStats{}, err
		}
	}
	return p.Stats, nil
}

// checkAgainstParams checks an inventory against the limits, the baseline
// requirements and the GPU class table.
func checkAgainstParams(params types.Params, nodes []types.Node) error {
	if uint32(len(nodes)) > params.MaxNodesPerProvider { //nolint:gosec // bounded by ValidateNodes
		return errorsmod.Wrapf(types.ErrInvalidInventory, "nodes: %d nodes, at most %d (max_nodes_per_provider)",
			len(nodes), params.MaxNodesPerProvider)
	}
	for i, n := range nodes {
		if uint32(len(n.Gpus)) > params.MaxGpusPerNode { //nolint:gosec // bounded by ValidateNodes
			return errorsmod.Wrapf(types.ErrInvalidInventory, "nodes[%d].gpus: %d GPUs, at most %d (max_gpus_per_node)",
				i, len(n.Gpus), params.MaxGpusPerNode)
		}
		if n.MemoryMib < params.MinNodeMemoryMib {
			return errorsmod.Wrapf(types.ErrBelowBaseline, "nodes[%d].memory_mib %d is below min_node_memory_mib %d",
				i, n.MemoryMib, params.MinNodeMemoryMib)
		}
		if n.StorageGib < params.MinNodeStorageGib {
			return errorsmod.Wrapf(types.ErrBelowBaseline, "nodes[%d].storage_gib %d is below min_node_storage_gib %d",
				i, n.StorageGib, params.MinNodeStorageGib)
		}
		for j, g := range n.Gpus {
			if g.VramMib < params.MinGpuVramMib {
				return errorsmod.Wrapf(types.ErrBelowBaseline, "nodes[%d].gpus[%d].vram_mib %d is below min_gpu_vram_mib %d",
					i, j, g.VramMib, params.MinGpuVramMib)
			}
			mapped := params.ClassForPCIDeviceID(g.PciDeviceId)
			if g.Class != types.UnknownClass {
				class, ok := params.Class(g.Class)
				if !ok {
					return errorsmod.Wrapf(types.ErrUnknownGPUClass,
						"nodes[%d].gpus[%d].class %q is not a GPU class in the params (use %q)", i, j, g.Class, types.UnknownClass)
				}
				if uint64(g.VramMib) < class.MinVRAMMiB() {
					return errorsmod.Wrapf(types.ErrInvalidInventory,
						"nodes[%d].gpus[%d].vram_mib %d is too small for class %s (at least %d)", i, j, g.VramMib, g.Class, class.MinVRAMMiB())
				}
			}
			if mapped != g.Class {
				return errorsmod.Wrapf(types.ErrInvalidInventory,
					"nodes[%d].gpus[%d].class %q does not match pci_device_id %s, which maps to %q", i, j, g.Class, g.PciDeviceId, mapped)
			}
		}
	}
	return nil
}

// sameHardware reports whether two listings describe the same GPU.
func sameHardware(a, b types.GPU) bool {
	return a.Uuid == b.Uuid && a.Class == b.Class && a.VramMib == b.VramMib && a.PciDeviceId == b.PciDeviceId &&
		a.ComputeCapability == b.ComputeCapability && a.DriverVersion == b.DriverVersion
}

type listedGPU struct {
	node string
	gpu  types.GPU
}

// replaceInventory swaps the provider's node list for nodes, keeping the
// indexes, class keys, supply counters and p.Stats in step. Allocated GPUs
// must stay on the same node unchanged; unchanged GPUs keep their
// allocation and verified state. It returns the UUIDs added and removed and
// emits EventInventorySet.
func (k *Keeper) replaceInventory(ctx context.Context, owner sdk.AccAddress, p *types.Provider, nodes []types.Node) (added, removed []string, err error) {
	oldNodes, err := k.GetInventory(ctx, owner)
	if err != nil {
		return nil, nil, err
	}
	old := make(map[string]listedGPU)
	for _, n := range oldNodes {
		for _, g := range n.Gpus {
			old[g.Uuid] = listedGPU{node: n.Id, gpu: g}
		}
	}
	newNodes := make([]types.Node, len(nodes))
	kept := make(map[string]bool)
	for i, n := range nodes {
		n.Gpus = append([]types.GPU(nil), n.Gpus...)
		for j, g := range n.Gpus {
			prev, ok := old[g.Uuid]
			if !ok {
				added = append(added, g.Uuid)
				continue
			}
			kept[g.Uuid] = true
			if prev.node == n.Id && sameHardware(prev.gpu, g) {
				n.Gpus[j].AllocatedTo, n.Gpus[j].Verified = prev.gpu.AllocatedTo, prev.gpu.Verified
				n.Gpus[j].VerifiedHeight = prev.gpu.VerifiedHeight
			}
		}
		newNodes[i] = n
	}
	// Old GPUs in UUID order, so that the first refused one, and everything
	// after, is the same on every validator.
	for _, uuid := range slices.Sorted(maps.Keys(old)) {
		prev := old[uuid]
		if !kept[uuid] {
			removed = append(removed, uuid)
		}
		if prev.gpu.AllocatedTo == "" {
			continue
		}
		if !kept[uuid] || !stillListed(newNodes, prev) {
			return nil, nil, errorsmod.Wrapf(types.ErrGPUAllocated,
				"GPU %s on node %q is allocated to lease %s and may not be removed or changed", uuid, prev.node, prev.gpu.AllocatedTo)
		}
	}

	// Remove the old listing, then write the new one.
	supply := newSupplyChange(owner)
	for _, n := range oldNodes {
		if err := k.Nodes.Remove(ctx, collections.Join(owner, n.Id)); err != nil {
			return nil, nil, err
		}
		for _, g := range n.Gpus {
			supply.add(g, -1)
		}
	}
	for _, uuid := range removed {
		if err := k.GPUIndex.Remove(ctx, uuid); err != nil {
			return nil, nil, err
		}
	}
	// Class keys in name order: a write's gas depends on its key, so a
	// transaction running out of gas here must meet the same writes in the
	// same order on every validator (a Go map's order differs per run).
	oldClasses, newClasses := classesOf(oldNodes), classesOf(newNodes)
	for _, class := range oldClasses {
		if !slices.Contains(newClasses, class) {
			if err := k.ClassProviders.Remove(ctx, collections.Join(class, owner)); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, class := range newClasses {
		if err := k.ClassProviders.Set(ctx, collections.Join(class, owner)); err != nil {
			return nil, nil, err
		}
	}
	for _, n := range newNodes {
		if err := k.Nodes.Set(ctx, collections.Join(owner, n.Id), n); err != nil {
			return nil, nil, err
		}
		for _, g := range n.Gpus {
			if err := k.GPUIndex.Set(ctx, g.Uuid, types.GPULocation{Owner: p.Owner, NodeId: n.Id}); err != nil {
				return nil, nil, err
			}
			supply.add(g, 1)
		}
	}
	if err := supply.apply(ctx, k); err != nil {
		return nil, nil, err
	}
	inv := types.InventoryStats(newNodes)
	p.Stats.Nodes, p.Stats.Gpus, p.Stats.BillableGpus = inv.Nodes, inv.Gpus, inv.BillableGpus
	p.Stats.AllocatedGpus, p.Stats.VerifiedGpus = inv.AllocatedGpus, inv.VerifiedGpus

	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventInventorySet{
		Owner: p.Owner, Nodes: inv.Nodes, Gpus: inv.Gpus, BillableGpus: inv.BillableGpus,
		Added: added, Removed: removed,
	}); err != nil {
		return nil, nil, err
	}
	return added, removed, nil
}

// stillListed reports whether an allocated GPU is in nodes on the same node
// with the same hardware.
func stillListed(nodes []types.Node, prev listedGPU) bool {
	for _, n := range nodes {
		if n.Id != prev.node {
			continue
		}
		for _, g := range n.Gpus {
			if g.Uuid == prev.gpu.Uuid {
				return sameHardware(g, prev.gpu)
			}
		}
	}
	return false
}

// classesOf lists the classes of the GPUs on nodes, each once, sorted.
func classesOf(nodes []types.Node) []string {
	var out []string
	for _, n := range nodes {
		for _, g := range n.Gpus {
			out = append(out, g.Class)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// supplyChange collects changes to the per-class counters (and to one
// owner's earning-GPU counts) so that each row is read and written once,
// however many GPUs move.
type supplyChange struct {
	owner   sdk.AccAddress
	classes []string
	deltas  map[string]*[4]int // total, allocated, verified, earning
}

func newSupplyChange(owner sdk.AccAddress) *supplyChange {
	return &supplyChange{owner: owner, deltas: make(map[string]*[4]int)}
}

// earning reports whether a GPU counts for capacity rewards: verified and
// not allocated to a lease.
func earning(g types.GPU) bool { return g.Verified && g.AllocatedTo == "" }

// add counts one GPU in (sign 1) or out (sign -1) of its class.
func (s *supplyChange) add(g types.GPU, sign int) {
	d, ok := s.deltas[g.Class]
	if !ok {
		d = new([4]int)
		s.deltas[g.Class] = d
		s.classes = append(s.classes, g.Class)
	}
	d[0] += sign
	d[1] += sign * flag(g.AllocatedTo != "")
	d[2] += sign * flag(g.Verified)
	d[3] += sign * flag(earning(g))
}

// earningMoved reports whether the changes move the owner's earning-GPU
// count of any class.
func (s *supplyChange) earningMoved() bool {
	for _, class := range s.classes {
		if s.deltas[class][3] != 0 {
			return true
		}
	}
	return false
}

// apply writes the collected changes, in the order classes were met.
func (s *supplyChange) apply(ctx context.Context, k *Keeper) error {
	for _, class := range s.classes {
		d := s.deltas[class]
		if *d == ([4]int{}) {
			continue
		}
		if err := k.addSupply(ctx, class, d[0], d[1], d[2]); err != nil {
			return err
		}
		if d[3] != 0 {
			if err := k.addEarning(ctx, s.owner, class, d[3]); err != nil {
				return err
			}
		}
	}
	return nil
}

// addEarning moves an owner's earning-GPU count of a class; a count that
// reaches zero is deleted.
func (k *Keeper) addEarning(ctx context.Context, owner sdk.AccAddress, class string, delta int) error {
	key := collections.Join(owner, class)
	n, err := k.EarningGPUs.Get(ctx, key)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	if delta < 0 && n < uint64(-delta) {
		return errorsmod.Wrapf(types.ErrInvalidInventory, "earning GPUs of %s in %s would fall below zero", owner, class)
	}
	n = uint64(int64(n) + int64(delta)) //nolint:gosec // checked above
	if n == 0 {
		return k.EarningGPUs.Remove(ctx, key)
	}
	return k.EarningGPUs.Set(ctx, key, n)
}

// EarningGPUs returns, per class in name order, how many of owner's GPUs
// are verified and idle: what capacity rewards weigh. It reads one row per
// class the owner lists, however many GPUs it has.
func (k *Keeper) EarningGPUsOf(ctx context.Context, owner sdk.AccAddress) ([]types.ClassCount, error) {
	var out []types.ClassCount
	err := k.EarningGPUs.Walk(ctx, collections.NewPrefixedPairRange[sdk.AccAddress, string](owner),
		func(key collections.Pair[sdk.AccAddress, string], n uint64) (bool, error) {
			out = append(out, types.ClassCount{Class: key.K2(), Count: n})
			return false, nil
		})
	return out, err
}

// addSupply moves the counters of a class; a row whose counters all reach
// zero is deleted.
func (k *Keeper) addSupply(ctx context.Context, class string, total, allocated, verified int) error {
	s, err := k.Supply.Get(ctx, class)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	s.Class = class
	for _, c := range []struct {
		v     *uint64
		delta int
		name  string
	}{{&s.Total, total, "total"}, {&s.Allocated, allocated, "allocated"}, {&s.Verified, verified, "verified"}} {
		if c.delta < 0 && *c.v < uint64(-c.delta) {
			return errorsmod.Wrapf(types.ErrInvalidInventory, "supply of %s: %s counter would fall below zero", class, c.name)
		}
		*c.v = uint64(int64(*c.v) + int64(c.delta)) //nolint:gosec // checked above
	}
	if s.Total == 0 && s.Allocated == 0 && s.Verified == 0 {
		return k.Supply.Remove(ctx, class)
	}
	return k.Supply.Set(ctx, class, s)
}
