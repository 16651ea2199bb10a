package keeper

import (
	"context"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// InitGenesis imports a validated genesis state.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	return k.Params.Set(ctx, gs.Params)
}

// ExportGenesis exports the module state.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	return &types.GenesisState{Params: params}, nil
}
