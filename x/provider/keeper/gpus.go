package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// GetGPU returns a GPU by UUID with the node that lists it and its owner.
func (k *Keeper) GetGPU(ctx context.Context, uuid string) (types.GPULocation, types.Node, types.GPU, error) {
	loc, err := k.GPUIndex.Get(ctx, uuid)
	if errors.Is(err, collections.ErrNotFound) {
		return loc, types.Node{}, types.GPU{}, errorsmod.Wrapf(types.ErrGPUNotFound, "GPU %s", uuid)
	}
	if err != nil {
		return loc, types.Node{}, types.GPU{}, err
	}
	owner, err := k.addressCodec.StringToBytes(loc.Owner)
	if err != nil {
		return loc, types.Node{}, types.GPU{}, err
	}
	node, err := k.Nodes.Get(ctx, collections.Join(sdk.AccAddress(owner), loc.NodeId))
	if err != nil {
		return loc, node, types.GPU{}, fmt.Errorf("GPU %s: node %q of %s: %w", uuid, loc.NodeId, loc.Owner, err)
	}
	for _, g := range node.Gpus {
		if g.Uuid == uuid {
			return loc, node, g, nil
		}
	}
	return loc, node, types.GPU{}, fmt.Errorf("GPU %s: indexed on node %q of %s but not listed there", uuid, loc.NodeId, loc.Owner)
}

// GPULocation returns where a GPU is listed (one index read), without
// reading its node: callers that look up many GPUs of few nodes read each
// node once.
func (k *Keeper) GPULocation(ctx context.Context, uuid string) (types.GPULocation, error) {
	loc, err := k.GPUIndex.Get(ctx, uuid)
	if errors.Is(err, collections.ErrNotFound) {
		return loc, errorsmod.Wrapf(types.ErrGPUNotFound, "GPU %s", uuid)
	}
	return loc, err
}

// gpuUpdate changes one GPU; it returns an error to refuse the change.
type gpuUpdate func(uuid string, g *types.GPU) error

// updateGPUs applies fn to each listed GPU of owner, all or nothing, and
// keeps the supply counters and the provider stats in step. It reports
// whether owner's earning-GPU counts (verified and idle GPUs, what its
// capacity reward weighs) moved.
func (k *Keeper) updateGPUs(ctx context.Context, owner sdk.AccAddress, uuids []string, fn gpuUpdate) (bool, error) {
	p, err := k.GetActiveProvider(ctx, owner)
	if err != nil {
		return false, err
	}
	if len(uuids) == 0 {
		return false, errorsmod.Wrap(types.ErrGPUNotFound, "no GPU named")
	}
	nodes := make(map[string]*types.Node)
	var order []string
	var changes [][2]types.GPU
	seen := make(map[string]bool, len(uuids))
	for _, uuid := range uuids {
		if seen[uuid] {
			return false, errorsmod.Wrapf(types.ErrGPUNotAllocatable, "GPU %s is named twice", uuid)
		}
		seen[uuid] = true
		loc, err := k.GPUIndex.Get(ctx, uuid)
		if errors.Is(err, collections.ErrNotFound) {
			return false, errorsmod.Wrapf(types.ErrGPUNotFound, "GPU %s", uuid)
		}
		if err != nil {
			return false, err
		}
		if loc.Owner != p.Owner {
			return false, errorsmod.Wrapf(types.ErrGPUOwnedByOther, "GPU %s is registered to provider %s, not %s", uuid, loc.Owner, p.Owner)
		}
		n, ok := nodes[loc.NodeId]
		if !ok {
			node, err := k.Nodes.Get(ctx, collections.Join(owner, loc.NodeId))
			if err != nil {
				return false, err
			}
			n = &node
			nodes[loc.NodeId] = n
			order = append(order, loc.NodeId)
		}
		found := false
		for i := range n.Gpus {
			if n.Gpus[i].Uuid != uuid {
				continue
			}
			found = true
			before := n.Gpus[i]
			if err := fn(uuid, &n.Gpus[i]); err != nil {
				return false, err
			}
			changes = append(changes, [2]types.GPU{before, n.Gpus[i]})
		}
		if !found {
			return false, fmt.Errorf("GPU %s: indexed on node %q of %s but not listed there", uuid, loc.NodeId, loc.Owner)
		}
	}
	// Nothing is written before every GPU has been checked.
	supply := newSupplyChange(owner)
	var allocated, verified int
	for _, c := range changes {
		supply.add(c[0], -1)
		supply.add(c[1], 1)
		allocated += flag(c[1].AllocatedTo != "") - flag(c[0].AllocatedTo != "")
		verified += flag(c[1].Verified) - flag(c[0].Verified)
	}
	if err := supply.apply(ctx, k); err != nil {
		return false, err
	}
	for _, id := range order {
		if err := k.Nodes.Set(ctx, collections.Join(owner, id), *nodes[id]); err != nil {
			return false, err
		}
	}
	p.Stats.AllocatedGpus = uint32(int(p.Stats.AllocatedGpus) + allocated) //nolint:gosec // between 0 and the GPUs listed
	p.Stats.VerifiedGpus = uint32(int(p.Stats.VerifiedGpus) + verified)    //nolint:gosec // between 0 and the GPUs listed
	return supply.earningMoved(), k.Providers.Set(ctx, owner, p)
}

// flag is 1 for true and 0 for false.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AllocateGPUs marks GPUs of owner as used by a lease. Every GPU must be
// listed by owner, of a known class and free; otherwise nothing changes.
func (k *Keeper) AllocateGPUs(ctx context.Context, owner sdk.AccAddress, leaseID string, uuids []string) error {
	if leaseID == "" {
		return errorsmod.Wrap(types.ErrGPUNotAllocatable, "lease id is empty")
	}
	moved, err := k.updateGPUs(ctx, owner, uuids, func(uuid string, g *types.GPU) error {
		if g.Class == types.UnknownClass {
			return errorsmod.Wrapf(types.ErrGPUNotAllocatable, "GPU %s is of class %s", uuid, types.UnknownClass)
		}
		if g.AllocatedTo != "" {
			return errorsmod.Wrapf(types.ErrGPUAllocated, "GPU %s is allocated to lease %s", uuid, g.AllocatedTo)
		}
		g.AllocatedTo = leaseID
		return nil
	})
	if err != nil {
		return err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventGPUsAllocated{
		Owner: owner.String(), LeaseId: leaseID, Uuids: uuids,
	}); err != nil {
		return err
	}
	return k.afterAllocationChanged(ctx, owner, moved)
}

// ReleaseGPUs frees GPUs allocated to leaseID; every GPU must be allocated
// to that lease.
func (k *Keeper) ReleaseGPUs(ctx context.Context, owner sdk.AccAddress, leaseID string, uuids []string) error {
	moved, err := k.updateGPUs(ctx, owner, uuids, func(uuid string, g *types.GPU) error {
		if g.AllocatedTo != leaseID {
			return errorsmod.Wrapf(types.ErrGPUNotAllocatable, "GPU %s is not allocated to lease %q (allocated to %q)",
				uuid, leaseID, g.AllocatedTo)
		}
		g.AllocatedTo = ""
		return nil
	})
	if err != nil {
		return err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventGPUsReleased{
		Owner: owner.String(), LeaseId: leaseID, Uuids: uuids,
	}); err != nil {
		return err
	}
	return k.afterAllocationChanged(ctx, owner, moved)
}

// afterAllocationChanged tells the hooks that GPUs of owner were allocated
// or released when that moved its earning-GPU counts (a leased GPU earns
// no capacity reward; allocating or releasing unverified GPUs changes
// nothing the reward weighs, so no hook runs).
func (k *Keeper) afterAllocationChanged(ctx context.Context, owner sdk.AccAddress, earningMoved bool) error {
	if k.hooks == nil || !earningMoved {
		return nil
	}
	return k.hooks.AfterGPUAllocationChanged(ctx, owner)
}

// SetGPUsVerified records the outcome of a check on GPUs of owner: a
// verified GPU gets this block's height as its verified_height (the check
// expires from it), an unverified one 0.
func (k *Keeper) SetGPUsVerified(ctx context.Context, owner sdk.AccAddress, uuids []string, verified bool) error {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	_, err := k.updateGPUs(ctx, owner, uuids, func(_ string, g *types.GPU) error {
		g.Verified = verified
		g.VerifiedHeight = 0
		if verified {
			g.VerifiedHeight = h
		}
		return nil
	})
	if err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventGPUsVerified{
		Owner: owner.String(), Uuids: uuids, Verified: verified,
	})
}

// ClassSupply returns the counters of one class, with available filled in.
func (k *Keeper) ClassSupply(ctx context.Context, class string) (types.ClassSupply, error) {
	s, err := k.Supply.Get(ctx, class)
	if errors.Is(err, collections.ErrNotFound) {
		s, err = types.ClassSupply{Class: class}, nil
	}
	s.Available = s.Total - s.Allocated
	return s, err
}
