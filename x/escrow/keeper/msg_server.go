package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

type msgServer struct {
	*types.UnimplementedMsgServer
	k *Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the Msg service of x/escrow.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{k: k}
}

// Deposit tops up an escrow account; anyone may pay.
func (s msgServer) Deposit(ctx context.Context, msg *types.MsgDeposit) (*types.MsgDepositResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	sender, err := s.k.addressCodec.StringToBytes(msg.Sender)
	if err != nil {
		return nil, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "sender %q: %s", msg.Sender, err)
	}
	key, err := msg.Id.Key()
	if err != nil {
		return nil, err
	}
	acc, err := s.k.Deposit(ctx, sender, key.K1(), key.K2(), msg.Amount)
	if err != nil {
		return nil, err
	}
	return &types.MsgDepositResponse{Balance: sdk.NewCoin(acc.Denom, acc.Balance), RunsDryAt: acc.RunsDryAt}, nil
}

// Withdraw settles the provider's leases and pays the provider.
func (s msgServer) Withdraw(ctx context.Context, msg *types.MsgWithdraw) (*types.MsgWithdrawResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider, err := s.k.addressCodec.StringToBytes(msg.Provider)
	if err != nil {
		return nil, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "provider %q: %s", msg.Provider, err)
	}
	paid, fees, err := s.k.Withdraw(ctx, provider, msg.LeaseIds)
	if err != nil {
		return nil, err
	}
	return &types.MsgWithdrawResponse{Paid: paid, Fees: fees}, nil
}

// UpdateParams replaces the params; only the authority may send it.
func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, s.k.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := s.k.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventParamsUpdated{
		Authority: msg.Authority,
		Params:    msg.Params,
	}); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}

// SpendReserve pays out of the market reserve; only the authority may send
// it, inside a governance proposal.
func (s msgServer) SpendReserve(ctx context.Context, msg *types.MsgSpendReserve) (*types.MsgSpendReserveResponse, error) {
	if err := sdk.ValidateAuthority(sdk.UnwrapSDKContext(ctx), s.k.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	recipient, err := s.k.addressCodec.StringToBytes(msg.Recipient)
	if err != nil {
		return nil, errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "recipient %q: %s", msg.Recipient, err)
	}
	if err := s.k.SpendReserve(ctx, msg.Authority, recipient, msg.Amount, msg.Reason); err != nil {
		return nil, err
	}
	return &types.MsgSpendReserveResponse{}, nil
}
