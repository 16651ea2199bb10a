// Package keeper holds the state and the state transitions of x/market.
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

	"github.com/gpumesh/gpumesh/x/market/types"
)

// OrderIndexes are the secondary indexes of the orders.
type OrderIndexes struct {
	// State lists orders by state (OPEN orders are what sidecars bid on).
	State *indexes.Multi[int32, types.OrderKey, types.Order]
}

// IndexesList implements collections.Indexes.
func (i OrderIndexes) IndexesList() []collections.Index[types.OrderKey, types.Order] {
	return []collections.Index[types.OrderKey, types.Order]{i.State}
}

// BidIndexes are the secondary indexes of the bids.
type BidIndexes struct {
	// Provider lists a provider's bids.
	Provider *indexes.Multi[sdk.AccAddress, types.BidKey, types.Bid]
}

// IndexesList implements collections.Indexes.
func (i BidIndexes) IndexesList() []collections.Index[types.BidKey, types.Bid] {
	return []collections.Index[types.BidKey, types.Bid]{i.Provider}
}

// LeaseIndexes are the secondary indexes of the leases.
type LeaseIndexes struct {
	// State lists leases by state.
	State *indexes.Multi[int32, types.OrderKey, types.Lease]
	// Provider lists a provider's leases.
	Provider *indexes.Multi[sdk.AccAddress, types.OrderKey, types.Lease]
}

// IndexesList implements collections.Indexes.
func (i LeaseIndexes) IndexesList() []collections.Index[types.OrderKey, types.Lease] {
	return []collections.Index[types.OrderKey, types.Lease]{i.State, i.Provider}
}

// Keeper owns the x/market store.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	// authority may change the params: the governance module account.
	authority string

	provider     types.ProviderKeeper
	stakingslash types.StakingSlashKeeper
	escrow       types.EscrowKeeper

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Orders are all orders by (tenant, seq), closed ones included.
	Orders *collections.IndexedMap[types.OrderKey, types.Order, OrderIndexes]
	// TenantSeqs holds the last order sequence of each tenant (no global
	// counter: independent tenants never touch the same key).
	TenantSeqs collections.Map[sdk.AccAddress, uint64]
	// Bids are keyed (tenant, seq, provider): one bid per provider and
	// order. A bid the provider withdraws is deleted.
	Bids *collections.IndexedMap[types.BidKey, types.Bid, BidIndexes]
	// Leases have their order's key.
	Leases *collections.IndexedMap[types.OrderKey, types.Lease, LeaseIndexes]
	// WindowQueue holds (window end, tenant, seq) for every OPEN order:
	// EndBlock visits only the orders whose window has ended.
	WindowQueue collections.KeySet[types.TimeKey]
	// LeaseEndQueue holds (end time, tenant, seq) for every ACTIVE lease
	// with a duration.
	LeaseEndQueue collections.KeySet[types.TimeKey]
	// PriceIndex is keyed (GPU class, denom).
	PriceIndex collections.Map[collections.Pair[string, string], types.PriceIndexEntry]
	// Counters are the running totals.
	Counters collections.Item[types.Counters]
	// ProviderActiveLeases counts the ACTIVE leases of each provider.
	ProviderActiveLeases collections.Map[sdk.AccAddress, uint64]
}

// NewKeeper builds the keeper. authority must be a valid address (the
// governance module account in the app).
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec, authority string,
	provider types.ProviderKeeper, stakingslash types.StakingSlashKeeper, escrow types.EscrowKeeper,
) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/%s: invalid authority %q: %w", types.ModuleName, authority, err))
	}
	orderKey := collections.PairKeyCodec(sdk.AccAddressKey, collections.Uint64Key)
	bidKey := collections.TripleKeyCodec(sdk.AccAddressKey, collections.Uint64Key, sdk.AccAddressKey)
	timeKey := collections.TripleKeyCodec(collections.Int64Key, sdk.AccAddressKey, collections.Uint64Key)

	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc:          cdc,
		storeService: storeService,
		addressCodec: addressCodec,
		authority:    authority,
		provider:     provider,
		stakingslash: stakingslash,
		escrow:       escrow,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Orders: collections.NewIndexedMap(sb, types.OrdersKey, "orders", orderKey,
			codec.CollValue[types.Order](cdc), OrderIndexes{
				State: indexes.NewMulti(sb, types.OrdersByStateKey, "orders_by_state", collections.Int32Key, orderKey,
					func(_ types.OrderKey, o types.Order) (int32, error) { return int32(o.State), nil }),
			}),
		TenantSeqs: collections.NewMap(sb, types.TenantSeqsKey, "tenant_seqs", sdk.AccAddressKey, collections.Uint64Value),
		Bids: collections.NewIndexedMap(sb, types.BidsKey, "bids", bidKey,
			codec.CollValue[types.Bid](cdc), BidIndexes{
				Provider: indexes.NewMulti(sb, types.BidsByProviderKey, "bids_by_provider", sdk.AccAddressKey, bidKey,
					func(k types.BidKey, _ types.Bid) (sdk.AccAddress, error) { return k.K3(), nil }),
			}),
		Leases: collections.NewIndexedMap(sb, types.LeasesKey, "leases", orderKey,
			codec.CollValue[types.Lease](cdc), LeaseIndexes{
				State: indexes.NewMulti(sb, types.LeasesByStateKey, "leases_by_state", collections.Int32Key, orderKey,
					func(_ types.OrderKey, l types.Lease) (int32, error) { return int32(l.State), nil }),
				Provider: indexes.NewMulti(sb, types.LeasesByProviderKey, "leases_by_provider", sdk.AccAddressKey, orderKey,
					func(_ types.OrderKey, l types.Lease) (sdk.AccAddress, error) {
						return sdk.AccAddressFromBech32(l.Provider)
					}),
			}),
		WindowQueue:   collections.NewKeySet(sb, types.WindowQueueKey, "window_queue", timeKey),
		LeaseEndQueue: collections.NewKeySet(sb, types.LeaseEndQueueKey, "lease_end_queue", timeKey),
		PriceIndex: collections.NewMap(sb, types.PriceIndexKey, "price_index",
			collections.PairKeyCodec(collections.StringKey, collections.StringKey), codec.CollValue[types.PriceIndexEntry](cdc)),
		Counters: collections.NewItem(sb, types.CountersKey, "counters", codec.CollValue[types.Counters](cdc)),
		ProviderActiveLeases: collections.NewMap(sb, types.ProviderActiveLeasesKey, "provider_active_leases",
			sdk.AccAddressKey, collections.Uint64Value),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// Authority returns the address allowed to change the params.
func (k *Keeper) Authority() string { return k.authority }

// GetParams returns the current params.
func (k *Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}
