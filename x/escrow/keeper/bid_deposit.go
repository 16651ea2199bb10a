package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// HoldBidDeposit moves a bid's deposit from the provider into the module,
// held under (tenant, seq, provider) until ReleaseBidDeposit. A bid holds
// at most one deposit.
func (k *Keeper) HoldBidDeposit(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress, deposit sdk.Coin) error {
	orderID := types.NewAccountID(tenant, seq)
	if err := types.ValidatePositiveCoin("deposit", deposit); err != nil {
		return err
	}
	key := collections.Join3(tenant, seq, provider)
	if has, err := k.BidDeposits.Has(ctx, key); err != nil {
		return err
	} else if has {
		return errorsmod.Wrapf(types.ErrBidDepositExists, "provider %s on order %s", provider, orderID)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, provider, types.ModuleName, sdk.NewCoins(deposit)); err != nil {
		return errorsmod.Wrapf(err, "bid deposit %s of %s on order %s", deposit, provider, orderID)
	}
	d := types.BidDeposit{OrderId: orderID, Provider: provider.String(), Amount: deposit}
	if err := k.BidDeposits.Set(ctx, key, d); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBidDepositHeld{
		OrderId: orderID, Provider: d.Provider, Amount: deposit,
	})
}

// ReleaseBidDeposit returns a held bid deposit to the provider and forgets
// it.
func (k *Keeper) ReleaseBidDeposit(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress) (sdk.Coin, error) {
	orderID := types.NewAccountID(tenant, seq)
	key := collections.Join3(tenant, seq, provider)
	d, err := k.BidDeposits.Get(ctx, key)
	if errors.Is(err, collections.ErrNotFound) {
		return sdk.Coin{}, errorsmod.Wrapf(types.ErrBidDepositNotFound, "provider %s on order %s", provider, orderID)
	}
	if err != nil {
		return sdk.Coin{}, err
	}
	if err := k.BidDeposits.Remove(ctx, key); err != nil {
		return sdk.Coin{}, err
	}
	if err := k.payOut(ctx, provider, sdk.NewCoins(d.Amount)); err != nil {
		return sdk.Coin{}, errorsmod.Wrapf(err, "release bid deposit %s of %s on order %s", d.Amount, provider, orderID)
	}
	return d.Amount, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBidDepositReleased{
		OrderId: orderID, Provider: d.Provider, Amount: d.Amount,
	})
}

// GetBidDeposit returns the deposit held for (tenant, seq, provider).
func (k *Keeper) GetBidDeposit(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress) (types.BidDeposit, bool, error) {
	d, err := k.BidDeposits.Get(ctx, collections.Join3(tenant, seq, provider))
	if errors.Is(err, collections.ErrNotFound) {
		return d, false, nil
	}
	return d, err == nil, err
}
