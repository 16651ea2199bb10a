// Package keeper holds the state and the state transitions of x/provider.
package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// ProviderIndexes are the secondary indexes of the provider records.
type ProviderIndexes struct {
	// Status lists providers by status.
	Status *indexes.Multi[int32, sdk.AccAddress, types.Provider]
	// Country lists providers by the country code of their region.
	Country *indexes.Multi[string, sdk.AccAddress, types.Provider]
}

// IndexesList implements collections.Indexes.
func (i ProviderIndexes) IndexesList() []collections.Index[sdk.AccAddress, types.Provider] {
	return []collections.Index[sdk.AccAddress, types.Provider]{i.Status, i.Country}
}

// Keeper owns the x/provider store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	// authority may change the params: the governance module account.
	authority string
	hooks     types.ProviderHooks

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Providers are all provider records, deregistered ones included.
	Providers *collections.IndexedMap[sdk.AccAddress, types.Provider, ProviderIndexes]
	// Nodes are the inventories: (owner, node id) → node with its GPUs.
	Nodes collections.Map[collections.Pair[sdk.AccAddress, string], types.Node]
	// GPUIndex maps a GPU UUID to where it is listed; it makes a UUID
	// unique on chain.
	GPUIndex collections.Map[string, types.GPULocation]
	// ClassProviders holds (class, owner) for every class an owner lists.
	ClassProviders collections.KeySet[collections.Pair[string, sdk.AccAddress]]
	// Supply holds the running GPU counters per class.
	Supply collections.Map[string, types.ClassSupply]
	// EarningGPUs counts, per (owner, class), the owner's GPUs that are
	// verified and idle (not allocated to a lease): the GPUs that capacity
	// rewards weigh. Derived from the nodes, rebuilt on genesis import.
	EarningGPUs collections.Map[collections.Pair[sdk.AccAddress, string], uint64]
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
		addressCodec: addressCodec,
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Providers: collections.NewIndexedMap(sb, types.ProvidersKey, "providers", sdk.AccAddressKey,
			codec.CollValue[types.Provider](cdc), ProviderIndexes{
				Status: indexes.NewMulti(sb, types.ProvidersByStatusKey, "providers_by_status",
					collections.Int32Key, sdk.AccAddressKey,
					func(_ sdk.AccAddress, p types.Provider) (int32, error) { return int32(p.Status), nil }),
				Country: indexes.NewMulti(sb, types.ProvidersByCountryKey, "providers_by_country",
					collections.StringKey, sdk.AccAddressKey,
					func(_ sdk.AccAddress, p types.Provider) (string, error) { return types.Country(p.Region), nil }),
			}),
		Nodes: collections.NewMap(sb, types.NodesKey, "nodes",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.StringKey), codec.CollValue[types.Node](cdc)),
		GPUIndex: collections.NewMap(sb, types.GPUIndexKey, "gpu_index", collections.StringKey,
			codec.CollValue[types.GPULocation](cdc)),
		ClassProviders: collections.NewKeySet(sb, types.ClassProvidersKey, "class_providers",
			collections.PairKeyCodec(collections.StringKey, sdk.AccAddressKey)),
		Supply: collections.NewMap(sb, types.SupplyKey, "supply", collections.StringKey,
			codec.CollValue[types.ClassSupply](cdc)),
		EarningGPUs: collections.NewMap(sb, types.EarningGPUsKey, "earning_gpus",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.StringKey), collections.Uint64Value),
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
