package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// InitGenesis imports a validated genesis state and rebuilds the unbonding
// queue from the entries. It creates the module account when auth's genesis
// did not. It does not check the module account balance: bank's genesis
// is imported by bank, and the invariants compare the two.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	k.accountKeeper.GetModuleAccount(ctx, types.ModuleName)
	for _, c := range gs.Collaterals {
		addr, err := k.addressCodec.StringToBytes(c.Provider)
		if err != nil {
			return err
		}
		if c.Provider, err = k.addressCodec.BytesToString(addr); err != nil { // canonical form
			return err
		}
		if err := k.Collaterals.Set(ctx, addr, c); err != nil {
			return err
		}
	}
	for _, e := range gs.UnbondingEntries {
		addr, err := k.addressCodec.StringToBytes(e.Provider)
		if err != nil {
			return err
		}
		if e.Provider, err = k.addressCodec.BytesToString(addr); err != nil {
			return err
		}
		if err := k.setEntry(ctx, addr, e); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis exports the module state: the params, the collaterals by
// provider address and the unbonding entries by (provider, id). The queue
// is derived from the entries and not exported.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{
		Params:           params,
		Collaterals:      []types.Collateral{},
		UnbondingEntries: []types.UnbondingEntry{},
	}
	if err := k.Collaterals.Walk(ctx, nil, func(_ sdk.AccAddress, c types.Collateral) (bool, error) {
		gs.Collaterals = append(gs.Collaterals, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.UnbondingEntries.Walk(ctx, nil, func(_ collections.Pair[sdk.AccAddress, uint64], e types.UnbondingEntry) (bool, error) {
		gs.UnbondingEntries = append(gs.UnbondingEntries, e)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
