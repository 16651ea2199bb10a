package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// InitGenesis imports a validated genesis state: the params, the accounts
// (ids in canonical form), the bid deposits and the totals. The dry queue
// is derived from the streaming accounts and rebuilt here. The module
// account's coins are bank's genesis; the invariants compare the two.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, a := range gs.Accounts {
		key, err := a.Id.Key()
		if err != nil {
			return err
		}
		a.Id = types.AccountIDFromKey(key)
		if err := k.Accounts.Set(ctx, key, a); err != nil {
			return err
		}
		if a.State == types.ACCOUNT_STATE_STREAMING {
			if err := k.DryQueue.Set(ctx, collections.Join3(a.RunsDryAt.Unix(), key.K1(), key.K2())); err != nil {
				return err
			}
		}
	}
	for _, d := range gs.BidDeposits {
		key, err := d.OrderId.Key()
		if err != nil {
			return err
		}
		provider, err := k.addressCodec.StringToBytes(d.Provider)
		if err != nil {
			return err
		}
		d.OrderId = types.AccountIDFromKey(key)
		d.Provider = sdk.AccAddress(provider).String()
		if err := k.BidDeposits.Set(ctx, collections.Join3(key.K1(), key.K2(), sdk.AccAddress(provider)), d); err != nil {
			return err
		}
	}
	for _, t := range gs.Totals {
		if err := k.DenomTotals.Set(ctx, t.Denom, t); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis exports the module state: params, accounts by (tenant,
// seq), bid deposits by (tenant, seq, provider) and totals by denom. The
// dry queue is not exported.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	gs := &types.GenesisState{
		Params:      params,
		Accounts:    []types.Account{},
		BidDeposits: []types.BidDeposit{},
		Totals:      []types.DenomTotals{},
	}
	if err := k.Accounts.Walk(ctx, nil, func(_ types.AccountKey, a types.Account) (bool, error) {
		gs.Accounts = append(gs.Accounts, a)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.BidDeposits.Walk(ctx, nil, func(_ collections.Triple[sdk.AccAddress, uint64, sdk.AccAddress], d types.BidDeposit) (bool, error) {
		gs.BidDeposits = append(gs.BidDeposits, d)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.DenomTotals.Walk(ctx, nil, func(_ string, t types.DenomTotals) (bool, error) {
		gs.Totals = append(gs.Totals, t)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, nil
}
