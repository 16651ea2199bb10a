// Package keeper holds the state and the state transitions of x/provider.
package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// Keeper owns the x/provider store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	// authority may change the params: the governance module account.
	authority string
	hooks     types.ProviderHooks

	Schema collections.Schema
	Params collections.Item[types.Params]
}

// NewKeeper builds the keeper. authority must be a valid address (the
// governance module account in the app).
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec, authority string) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/%s: invalid authority %q: %w", types.ModuleName, authority, err))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc:          cdc,
		storeService: storeService,
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetHooks sets the hooks called on registry changes. It may be called
// once, while the app is wired.
func (k *Keeper) SetHooks(h types.ProviderHooks) {
	if k.hooks != nil {
		panic("x/provider: hooks already set")
	}
	k.hooks = h
}

// Authority returns the address allowed to change the params.
func (k *Keeper) Authority() string { return k.authority }

// GetParams returns the current params.
func (k *Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}
