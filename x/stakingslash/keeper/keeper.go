// Package keeper holds the state and the state transitions of x/stakingslash.
package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Keeper owns the x/stakingslash store and the module account that holds
// every provider's bonded and unbonding collateral.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	// authority may change the params: the governance module account.
	authority string
	// reserveModule is the module account that receives the part of a
	// slash not paid to beneficiaries.
	reserveModule string

	accountKeeper types.AccountKeeper
	bankKeeper    types.BankKeeper
	hooks         types.StakingSlashHooks

	Schema collections.Schema
	Params collections.Item[types.Params]
}

// NewKeeper builds the keeper. authority must be a valid address (the
// governance module account in the app); reserveModule names the module
// account that receives slashed coins not paid to beneficiaries.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	addressCodec address.Codec,
	authority string,
	accountKeeper types.AccountKeeper,
	bankKeeper types.BankKeeper,
	reserveModule string,
) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/%s: invalid authority %q: %w", types.ModuleName, authority, err))
	}
	if accountKeeper.GetModuleAddress(types.ModuleName) == nil {
		panic(fmt.Errorf("x/%s: module account %q is not registered", types.ModuleName, types.ModuleName))
	}
	if reserveModule == "" || accountKeeper.GetModuleAddress(reserveModule) == nil {
		panic(fmt.Errorf("x/%s: reserve module account %q is not registered", types.ModuleName, reserveModule))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc:           cdc,
		storeService:  storeService,
		addressCodec:  addressCodec,
		authority:     authority,
		reserveModule: reserveModule,
		accountKeeper: accountKeeper,
		bankKeeper:    bankKeeper,
		Params:        collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetHooks sets the hooks called after slashes and jails. It may be called
// once, while the app is wired.
func (k *Keeper) SetHooks(h types.StakingSlashHooks) {
	if k.hooks != nil {
		panic("x/stakingslash: hooks already set")
	}
	k.hooks = h
}

// Authority returns the address allowed to change the params.
func (k *Keeper) Authority() string { return k.authority }

// GetParams returns the current params.
func (k *Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}
