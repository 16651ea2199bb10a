package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// GetNode returns one node of owner; found is false when it is not listed.
func (k *Keeper) GetNode(ctx context.Context, owner sdk.AccAddress, nodeID string) (types.Node, bool, error) {
	n, err := k.Nodes.Get(ctx, collections.Join(owner, nodeID))
	if errors.Is(err, collections.ErrNotFound) {
		return n, false, nil
	}
	return n, err == nil, err
}

// NodesAfter returns up to limit nodes in (owner, node id) key order,
// starting after (owner, nodeID), or from the first node when owner is
// empty. done is true when the walk reached the last node. Callers walk the
// whole inventory a bounded number of nodes at a time.
func (k *Keeper) NodesAfter(ctx context.Context, owner sdk.AccAddress, nodeID string, limit int) ([]types.NodeRef, bool, error) {
	rng := new(collections.Range[collections.Pair[sdk.AccAddress, string]])
	if len(owner) > 0 {
		rng = rng.StartExclusive(collections.Join(owner, nodeID))
	}
	it, err := k.Nodes.Iterate(ctx, rng)
	if err != nil {
		return nil, false, err
	}
	defer func() { _ = it.Close() }()
	var out []types.NodeRef
	for ; it.Valid(); it.Next() {
		if len(out) == limit {
			return out, false, nil
		}
		kv, err := it.KeyValue()
		if err != nil {
			return nil, false, err
		}
		out = append(out, types.NodeRef{Owner: kv.Key.K1(), Node: kv.Value})
	}
	return out, true, nil
}

// SupplyTotals sums the allocated and verified counters of every class.
// The number of classes is a governance-bounded handful, so this costs the
// same however many GPUs are listed.
func (k *Keeper) SupplyTotals(ctx context.Context) (allocated, verified uint64, err error) {
	err = k.Supply.Walk(ctx, nil, func(_ string, s types.ClassSupply) (bool, error) {
		allocated += s.Allocated
		verified += s.Verified
		return false, nil
	})
	return allocated, verified, err
}
