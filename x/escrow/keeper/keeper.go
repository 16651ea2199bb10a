// Package keeper holds the state and the state transitions of x/escrow.
package keeper

import (
	"context"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// Keeper owns the x/escrow store and the escrow module account.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	addressCodec address.Codec
	// authority may change the params: the governance module account.
	authority string

	bank  types.BankKeeper
	distr types.DistributionKeeper
	// moduleAddress holds every balance and bid deposit.
	moduleAddress sdk.AccAddress
	// reserveModule receives the reserve fee (market_reserve); governance
	// spends it with MsgSpendReserve.
	reserveModule  string
	reserveAddress sdk.AccAddress

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Accounts are all escrow accounts by (tenant, seq), closed included.
	Accounts collections.Map[types.AccountKey, types.Account]
	// DryQueue holds (runs_dry_at unix seconds, tenant, seq) for every
	// STREAMING account: x/market's EndBlock closes exactly the ones due.
	DryQueue collections.KeySet[collections.Triple[int64, sdk.AccAddress, uint64]]
	// BidDeposits are keyed (tenant, seq, provider), like the bids.
	BidDeposits collections.Map[collections.Triple[sdk.AccAddress, uint64, sdk.AccAddress], types.BidDeposit]
	// Totals are the running totals per denom.
	DenomTotals collections.Map[string, types.DenomTotals]
}

// NewKeeper builds the keeper. authority must be a valid address (the
// governance module account in the app); reserveModule is the module
// account that receives the reserve fee.
func NewKeeper(cdc codec.BinaryCodec, storeService store.KVStoreService, addressCodec address.Codec, authority string,
	ak types.AccountKeeper, bank types.BankKeeper, distr types.DistributionKeeper, reserveModule string,
) *Keeper {
	if _, err := addressCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/%s: invalid authority %q: %w", types.ModuleName, authority, err))
	}
	moduleAddress := ak.GetModuleAddress(types.ModuleName)
	if moduleAddress == nil {
		panic(fmt.Errorf("x/%s: the %s module account is not configured", types.ModuleName, types.ModuleName))
	}
	reserveAddress := ak.GetModuleAddress(reserveModule)
	if reserveModule == "" || reserveAddress == nil {
		panic(fmt.Errorf("x/%s: reserve module account %q is not configured", types.ModuleName, reserveModule))
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := &Keeper{
		cdc:            cdc,
		storeService:   storeService,
		addressCodec:   addressCodec,
		authority:      authority,
		bank:           bank,
		distr:          distr,
		moduleAddress:  moduleAddress,
		reserveModule:  reserveModule,
		reserveAddress: reserveAddress,
		Params:         collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Accounts: collections.NewMap(sb, types.AccountsKey, "accounts",
			collections.PairKeyCodec(sdk.AccAddressKey, collections.Uint64Key), codec.CollValue[types.Account](cdc)),
		DryQueue: collections.NewKeySet(sb, types.DryQueueKey, "dry_queue",
			collections.TripleKeyCodec(collections.Int64Key, sdk.AccAddressKey, collections.Uint64Key)),
		BidDeposits: collections.NewMap(sb, types.BidDepositsKey, "bid_deposits",
			collections.TripleKeyCodec(sdk.AccAddressKey, collections.Uint64Key, sdk.AccAddressKey),
			codec.CollValue[types.BidDeposit](cdc)),
		DenomTotals: collections.NewMap(sb, types.TotalsKey, "totals", collections.StringKey,
			codec.CollValue[types.DenomTotals](cdc)),
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

// ModuleAddress is the escrow module account's address.
func (k *Keeper) ModuleAddress() sdk.AccAddress { return k.moduleAddress }

// GetParams returns the current params.
func (k *Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}
