// Package keeper holds the state and the state transitions of x/stakingslash.
package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

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
	// Collaterals is the bond record of each provider, by address. A record
	// exists while the provider is registered, has bonded or unbonding
	// stake, is jailed or has recent missed commits.
	Collaterals collections.Map[sdk.AccAddress, types.Collateral]
	// UnbondingEntries are the open unbonding entries, by (provider, id);
	// ids ascend with creation, so a provider's entries iterate oldest first.
	UnbondingEntries collections.Map[collections.Pair[sdk.AccAddress, uint64], types.UnbondingEntry]
	// UnbondingQueue indexes UnbondingEntries by (completion_time, provider,
	// id) so that EndBlock reads only the entries that are due.
	UnbondingQueue collections.KeySet[collections.Triple[time.Time, sdk.AccAddress, uint64]]
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
		Collaterals: collections.NewMap(sb, types.CollateralsKey, "collaterals",
			sdk.AccAddressKey, codec.CollValue[types.Collateral](cdc)),
		UnbondingEntries: collections.NewMap(sb, types.UnbondingEntriesKey, "unbonding_entries",
			collections.NamedPairKeyCodec("provider", sdk.AccAddressKey, "id", collections.Uint64Key),
			codec.CollValue[types.UnbondingEntry](cdc)),
		UnbondingQueue: collections.NewKeySet(sb, types.UnbondingQueueKey, "unbonding_queue",
			// collections v1.4.0 has no time KeyCodec; sdk.TimeKey (sortable
			// RFC3339-like bytes) is what x/gov and x/feegrant queues use.
			collections.NamedTripleKeyCodec("completion_time", sdk.TimeKey, //nolint:staticcheck // see above
				"provider", sdk.AccAddressKey, "id", collections.Uint64Key)),
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
