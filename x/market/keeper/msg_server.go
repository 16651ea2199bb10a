package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

type msgServer struct {
	*types.UnimplementedMsgServer
	k *Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the Msg service of x/market.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{k: k}
}

// address decodes a bech32 address checked by ValidateBasic.
func (s msgServer) address(addr string) (sdk.AccAddress, error) {
	bz, err := s.k.addressCodec.StringToBytes(addr)
	return sdk.AccAddress(bz), err
}

// CreateOrder posts an order and moves its deposit into escrow.
func (s msgServer) CreateOrder(ctx context.Context, msg *types.MsgCreateOrder) (*types.MsgCreateOrderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	id, err := s.k.CreateOrder(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateOrderResponse{Id: id}, nil
}

// CloseOrder withdraws the tenant's open order.
func (s msgServer) CloseOrder(ctx context.Context, msg *types.MsgCloseOrder) (*types.MsgCloseOrderResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	tenant, err := s.address(msg.Tenant)
	if err != nil {
		return nil, err
	}
	if err := s.k.CloseOrder(ctx, tenant, msg.Seq); err != nil {
		return nil, err
	}
	return &types.MsgCloseOrderResponse{}, nil
}

// CreateBid offers GPUs for an order.
func (s msgServer) CreateBid(ctx context.Context, msg *types.MsgCreateBid) (*types.MsgCreateBidResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	started, err := s.k.CreateBid(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgCreateBidResponse{LeaseStarted: started}, nil
}

// CloseBid withdraws the provider's open bid.
func (s msgServer) CloseBid(ctx context.Context, msg *types.MsgCloseBid) (*types.MsgCloseBidResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider, err := s.address(msg.Provider)
	if err != nil {
		return nil, err
	}
	if err := s.k.CloseBid(ctx, provider, msg.OrderId); err != nil {
		return nil, err
	}
	return &types.MsgCloseBidResponse{}, nil
}

// AcceptBid picks a bid on the tenant's open order.
func (s msgServer) AcceptBid(ctx context.Context, msg *types.MsgAcceptBid) (*types.MsgAcceptBidResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	tenant, err := s.address(msg.Tenant)
	if err != nil {
		return nil, err
	}
	provider, err := s.address(msg.Provider)
	if err != nil {
		return nil, err
	}
	if err := s.k.AcceptBid(ctx, tenant, msg.Seq, provider); err != nil {
		return nil, err
	}
	return &types.MsgAcceptBidResponse{}, nil
}

// CloseLease ends a lease by its tenant or provider.
func (s msgServer) CloseLease(ctx context.Context, msg *types.MsgCloseLease) (*types.MsgCloseLeaseResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	sender, err := s.address(msg.Sender)
	if err != nil {
		return nil, err
	}
	if err := s.k.CloseLeaseBy(ctx, sender, msg.LeaseId); err != nil {
		return nil, err
	}
	return &types.MsgCloseLeaseResponse{}, nil
}

// SetLeaseAccess publishes the access endpoint of a lease.
func (s msgServer) SetLeaseAccess(ctx context.Context, msg *types.MsgSetLeaseAccess) (*types.MsgSetLeaseAccessResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider, err := s.address(msg.Provider)
	if err != nil {
		return nil, err
	}
	if err := s.k.SetLeaseAccess(ctx, provider, msg.LeaseId, msg.Endpoint); err != nil {
		return nil, err
	}
	return &types.MsgSetLeaseAccessResponse{}, nil
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
