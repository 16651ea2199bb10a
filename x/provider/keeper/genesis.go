package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// InitGenesis imports a validated genesis state and rebuilds the derived
// state from it: the UUID index, the class keys and the supply counters.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, p := range gs.Providers {
		owner, err := k.addressCodec.StringToBytes(p.Owner)
		if err != nil {
			return err
		}
		if err := k.Providers.Set(ctx, owner, p); err != nil {
			return err
		}
	}
	for _, inv := range gs.Inventories {
		bz, err := k.addressCodec.StringToBytes(inv.Owner)
		if err != nil {
			return err
		}
		owner := sdk.AccAddress(bz)
		supply := newSupplyChange(owner)
		for _, class := range classesOf(inv.Nodes) {
			if err := k.ClassProviders.Set(ctx, collections.Join(class, owner)); err != nil {
				return err
			}
		}
		for _, n := range inv.Nodes {
			if err := k.Nodes.Set(ctx, collections.Join(owner, n.Id), n); err != nil {
				return err
			}
			for _, g := range n.Gpus {
				if err := k.GPUIndex.Set(ctx, g.Uuid, types.GPULocation{Owner: inv.Owner, NodeId: n.Id}); err != nil {
					return err
				}
				supply.add(g, 1)
			}
		}
		if err := supply.apply(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis exports the module state: params, provider records in
// address order and each active provider's nodes in node-id order.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{Params: params}
	err = k.Providers.Walk(ctx, nil, func(owner sdk.AccAddress, p types.Provider) (bool, error) {
		gs.Providers = append(gs.Providers, p)
		nodes, err := k.GetInventory(ctx, owner)
		if err != nil {
			return true, err
		}
		if len(nodes) > 0 {
			gs.Inventories = append(gs.Inventories, types.GenesisInventory{Owner: p.Owner, Nodes: nodes})
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}
