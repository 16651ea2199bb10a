package keeper

import (
	"context"
	"fmt"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

type msgServer struct {
	*Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the Msg service of x/stakingslash.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{Keeper: k}
}

// UpdateParams replaces the params; only the authority may send it.
func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, s.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := s.Params.Set(ctx, msg.Params); err != nil {
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

// TODO(stakingslash): temporary stubs replaced by the real handlers.
func (s msgServer) Bond(context.Context, *types.MsgBond) (*types.MsgBondResponse, error) {
	return nil, fmt.Errorf("not implemented")
}

func (s msgServer) Unbond(context.Context, *types.MsgUnbond) (*types.MsgUnbondResponse, error) {
	return nil, fmt.Errorf("not implemented")
}

func (s msgServer) Unjail(context.Context, *types.MsgUnjail) (*types.MsgUnjailResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
