package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// CheckInvariants checks the module's invariant and returns the first
// violation, or nil: every listed GPU is indexed to its owner and node and
// the index holds nothing else; only active providers list nodes; each
// provider's stats match its nodes; the class key set and the supply
// counters equal what the nodes add up to. It walks the whole store: for
// tests and app.CheckInvariants, never for block work.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	supply := make(map[string]types.ClassSupply)
	classKeys := make(map[string]bool)
	indexed := 0
	err := k.Providers.Walk(ctx, nil, func(owner sdk.AccAddress, p types.Provider) (bool, error) {
		nodes, err := k.GetInventory(ctx, owner)
		if err != nil {
			return true, err
		}
		if p.Status != types.PROVIDER_STATUS_ACTIVE && len(nodes) > 0 {
			return true, fmt.Errorf("provider %s is %s but lists %d nodes", p.Owner, p.Status, len(nodes))
		}
		want := types.InventoryStats(nodes)
		got := p.Stats
		if !got.InventoryCountsEqual(want) {
			return true, fmt.Errorf("provider %s: stats %+v do not match its nodes %+v", p.Owner, got, want)
		}
		if err := k.checkEarning(ctx, owner, p.Owner, nodes); err != nil {
			return true, err
		}
		for _, n := range nodes {
			for _, g := range n.Gpus {
				loc, err := k.GPUIndex.Get(ctx, g.Uuid)
				if err != nil {
					return true, fmt.Errorf("GPU %s of %s is not indexed: %w", g.Uuid, p.Owner, err)
				}
				if loc.Owner != p.Owner || loc.NodeId != n.Id {
					return true, fmt.Errorf("GPU %s is listed on %s/%s but indexed to %s/%s", g.Uuid, p.Owner, n.Id, loc.Owner, loc.NodeId)
				}
				indexed++
				s := supply[g.Class]
				s.Class = g.Class
				s.Total++
				if g.AllocatedTo != "" {
					s.Allocated++
				}
				if g.Verified {
					s.Verified++
				}
				supply[g.Class] = s
				classKeys[g.Class+"/"+p.Owner] = true
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	n := 0
	if err := k.GPUIndex.Walk(ctx, nil, func(string, types.GPULocation) (bool, error) { n++; return false, nil }); err != nil {
		return err
	}
	if n != indexed {
		return fmt.Errorf("GPU index holds %d UUIDs, nodes list %d GPUs", n, indexed)
	}
	keys := 0
	err = k.ClassProviders.Walk(ctx, nil, func(key collections.Pair[string, sdk.AccAddress]) (bool, error) {
		keys++
		if !classKeys[key.K1()+"/"+key.K2().String()] {
			return true, fmt.Errorf("class key %s/%s has no GPU behind it", key.K1(), key.K2())
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if keys != len(classKeys) {
		return fmt.Errorf("class keys: %d stored, %d expected", keys, len(classKeys))
	}
	rows := 0
	err = k.Supply.Walk(ctx, nil, func(class string, s types.ClassSupply) (bool, error) {
		rows++
		want := supply[class]
		if s.Total != want.Total || s.Allocated != want.Allocated || s.Verified != want.Verified {
			return true, fmt.Errorf("supply of %s: counters (total %d, allocated %d, verified %d) but nodes add up to (%d, %d, %d)",
				class, s.Total, s.Allocated, s.Verified, want.Total, want.Allocated, want.Verified)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	if rows != len(supply) {
		return fmt.Errorf("supply: %d rows stored, %d classes listed", rows, len(supply))
	}
	return nil
}

// checkEarning checks an owner's earning-GPU counts against its nodes: one
// row per class with verified, idle GPUs, holding their number; and every
// GPU's verified_height set exactly when it is verified.
func (k *Keeper) checkEarning(ctx context.Context, owner sdk.AccAddress, name string, nodes []types.Node) error {
	want := make(map[string]uint64)
	for _, n := range nodes {
		for _, g := range n.Gpus {
			if g.Verified != (g.VerifiedHeight > 0) {
				return fmt.Errorf("GPU %s of %s: verified %t with verified_height %d", g.Uuid, name, g.Verified, g.VerifiedHeight)
			}
			if earning(g) {
				want[g.Class]++
			}
		}
	}
	counts, err := k.EarningGPUsOf(ctx, owner)
	if err != nil {
		return err
	}
	for _, c := range counts {
		if want[c.Class] != c.Count {
			return fmt.Errorf("provider %s: %d earning GPUs of %s stored, nodes have %d", name, c.Count, c.Class, want[c.Class])
		}
	}
	if len(counts) != len(want) {
		return fmt.Errorf("provider %s: earning GPUs stored for %d classes, nodes have %d", name, len(counts), len(want))
	}
	return nil
}
