package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

type msgServer struct {
	*Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the Msg service of x/provider.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{Keeper: k}
}

// RegisterProvider registers the signer as a provider.
func (s msgServer) RegisterProvider(ctx context.Context, msg *types.MsgRegisterProvider) (*types.MsgRegisterProviderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	if _, err := s.Keeper.RegisterProvider(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgRegisterProviderResponse{}, nil
}

// UpdateProvider changes the signer's provider details.
func (s msgServer) UpdateProvider(ctx context.Context, msg *types.MsgUpdateProvider) (*types.MsgUpdateProviderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	if _, err := s.Keeper.UpdateProvider(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgUpdateProviderResponse{}, nil
}

// SetInventory replaces the signer's node list.
func (s msgServer) SetInventory(ctx context.Context, msg *types.MsgSetInventory) (*types.MsgSetInventoryResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	owner, err := s.addressCodec.StringToBytes(msg.Owner)
	if err != nil {
		return nil, err
	}
	if _, err := s.Keeper.SetInventory(ctx, owner, msg.Nodes); err != nil {
		return nil, err
	}
	return &types.MsgSetInventoryResponse{}, nil
}

// DeregisterProvider deregisters the signer.
func (s msgServer) DeregisterProvider(ctx context.Context, msg *types.MsgDeregisterProvider) (*types.MsgDeregisterProviderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	owner, err := s.addressCodec.StringToBytes(msg.Owner)
	if err != nil {
		return nil, err
	}
	if err := s.Keeper.DeregisterProvider(ctx, owner); err != nil {
		return nil, err
	}
	return &types.MsgDeregisterProviderResponse{}, nil
}

// UpdateParams replaces the params; only the authority may send it. A
// class that still has GPUs listed may not be removed.
func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, s.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	old, err := s.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range old.GpuClasses {
		if _, kept := msg.Params.Class(c.Name); kept {
			continue
		}
		supply, err := s.Supply.Get(ctx, c.Name)
		if err == nil && supply.Total > 0 {
			return nil, errorsmod.Wrapf(types.ErrInvalidParams,
				"gpu_classes: class %q may not be removed while %d GPUs of it are listed", c.Name, supply.Total)
		}
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
