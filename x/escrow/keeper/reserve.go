package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// ReserveAddress is the address of the market reserve module account.
func (k *Keeper) ReserveAddress() sdk.AccAddress { return k.reserveAddress }

// SpendReserve pays amount out of the market reserve to recipient, as
// governance decided (MsgSpendReserve): for example to compensate the
// tenants of a slashed provider. The recipient must be allowed to receive
// coins (not a module account) and the reserve must hold every coin of
// amount; otherwise nothing moves.
func (k *Keeper) SpendReserve(ctx context.Context, authority string, recipient sdk.AccAddress, amount sdk.Coins, reason string) error {
	if k.bank.BlockedAddr(recipient) {
		return errorsmod.Wrapf(types.ErrInvalidSpend, "recipient %s may not receive coins (a module account or another blocked address)",
			recipient)
	}
	for _, c := range amount {
		if balance := k.bank.GetBalance(ctx, k.reserveAddress, c.Denom); balance.Amount.LT(c.Amount) {
			return errorsmod.Wrapf(types.ErrReserveTooLow, "amount %s: the market reserve holds %s", c, balance)
		}
	}
	if err := k.bank.SendCoinsFromModuleToAccount(ctx, k.reserveModule, recipient, amount); err != nil {
		return errorsmod.Wrapf(err, "pay %s from the market reserve to %s", amount, recipient)
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventReserveSpent{
		Authority: authority,
		Recipient: recipient.String(),
		Amount:    amount,
		Reason:    reason,
	})
}
