package keeper

import (
	"context"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

type msgServer struct {
	k *Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the Msg service of x/proofofcompute.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{k: k}
}

// CommitProof records a challenge's commitments.
func (s msgServer) CommitProof(ctx context.Context, msg *types.MsgCommitProof) (*types.MsgCommitProofResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	if err := s.k.Commit(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgCommitProofResponse{}, nil
}

// RevealProof verifies one GPU's openings.
func (s msgServer) RevealProof(ctx context.Context, msg *types.MsgRevealProof) (*types.MsgRevealProofResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	return s.k.Reveal(ctx, msg)
}

// OpenDispute starts a check of a lease's GPUs.
func (s msgServer) OpenDispute(ctx context.Context, msg *types.MsgOpenDispute) (*types.MsgOpenDisputeResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	id, err := s.k.OpenDispute(ctx, msg)
	if err != nil {
		return nil, err
	}
	return &types.MsgOpenDisputeResponse{ChallengeId: id}, nil
}

// ReportUsage records a usage report.
func (s msgServer) ReportUsage(ctx context.Context, msg *types.MsgReportUsage) (*types.MsgReportUsageResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	if err := s.k.ReportUsage(ctx, msg); err != nil {
		return nil, err
	}
	return &types.MsgReportUsageResponse{}, nil
}

// ClaimRewards pays out accrued capacity rewards.
func (s msgServer) ClaimRewards(ctx context.Context, msg *types.MsgClaimRewards) (*types.MsgClaimRewardsResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider, err := s.k.addressCodec.StringToBytes(msg.Provider)
	if err != nil {
		return nil, err
	}
	coin, err := s.k.Claim(ctx, provider)
	if err != nil {
		return nil, err
	}
	return &types.MsgClaimRewardsResponse{Amount: coin}, nil
}

// UpdateParams replaces the params; only the authority may send it. The
// reward denom cannot change once rewards were minted in another.
func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, s.k.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	pool, err := s.k.pool(ctx)
	if err != nil {
		return nil, err
	}
	if pool.Denom != "" && msg.Params.BaseReward.Denom != pool.Denom {
		return nil, errorsmod.Wrapf(types.ErrInvalidParams, "base_reward denom must stay %s (rewards were minted in it), got %s",
			pool.Denom, msg.Params.BaseReward.Denom)
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
