package keeper

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

type queryServer struct {
	k *Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServer returns the Query service of x/proofofcompute.
func NewQueryServer(k *Keeper) types.QueryServer {
	return queryServer{k: k}
}

// Params returns the current params.
func (q queryServer) Params(ctx context.Context, req *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.k.GetParams(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: params}, nil
}

// Challenges lists challenges by id (pagination.reverse for newest first).
// A provider filter walks that provider's index; the state filter is
// applied to each record, so a page may hold fewer than limit entries.
func (q queryServer) Challenges(ctx context.Context, req *types.QueryChallengesRequest) (*types.QueryChallengesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if _, ok := types.ChallengeState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "state %d is not a challenge state", req.State)
	}
	stateOK := func(c types.Challenge) bool {
		return req.State == types.CHALLENGE_STATE_UNSPECIFIED || c.State == req.State
	}
	var (
		out  []types.Challenge
		page *query.PageResponse
		err  error
	)
	if req.Provider != "" {
		provider, perr := q.k.addressCodec.StringToBytes(req.Provider)
		if perr != nil {
			return nil, status.Errorf(codes.InvalidArgument, "provider %q: %s", req.Provider, perr)
		}
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.ProviderChallenges, req.Pagination,
			func(key collections.Pair[sdk.AccAddress, uint64], _ collections.NoValue) (bool, error) {
				c, err := q.k.Challenges.Get(ctx, key.K2())
				return err == nil && stateOK(c), err
			},
			func(key collections.Pair[sdk.AccAddress, uint64], _ collections.NoValue) (types.Challenge, error) {
				return q.k.Challenges.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, uint64](provider))
	} else {
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Challenges, req.Pagination,
			func(_ uint64, c types.Challenge) (bool, error) { return stateOK(c), nil },
			func(_ uint64, c types.Challenge) (types.Challenge, error) { return c, nil })
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryChallengesResponse{Challenges: out, Pagination: page}, nil
}

// Challenge returns one challenge and, once opened, its openings.
func (q queryServer) Challenge(ctx context.Context, req *types.QueryChallengeRequest) (*types.QueryChallengeResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	c, err := q.k.Challenges.Get(ctx, req.Id)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "challenge %d not found", req.Id)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryChallengeResponse{Challenge: c, Openings: Openings(c)}, nil
}

// CurrentEpoch returns the running epoch.
func (q queryServer) CurrentEpoch(ctx context.Context, req *types.QueryCurrentEpochRequest) (*types.QueryCurrentEpochResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	e, found, err := q.k.currentEpoch(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !found {
		return nil, status.Error(codes.NotFound, "no epoch has started yet")
	}
	params, err := q.k.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	cur, err := q.k.Cursor.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryCurrentEpochResponse{
		Epoch: e, NextEpochHeight: e.StartHeight + int64(params.EpochBlocks), Schedule: cur,
	}, nil
}

// Epoch returns one epoch.
func (q queryServer) Epoch(ctx context.Context, req *types.QueryEpochRequest) (*types.QueryEpochResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	e, err := q.k.Epochs.Get(ctx, req.Number)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "epoch %d not found", req.Number)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryEpochResponse{Epoch: e}, nil
}

// Epochs lists epochs by number (pagination.reverse for newest first).
func (q queryServer) Epochs(ctx context.Context, req *types.QueryEpochsRequest) (*types.QueryEpochsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	out, page, err := query.CollectionPaginate(ctx, q.k.Epochs, req.Pagination,
		func(_ uint64, e types.Epoch) (types.Epoch, error) { return e, nil })
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryEpochsResponse{Epochs: out, Pagination: page}, nil
}

// Rewards returns a provider's reward record brought up to date and what
// it can claim.
func (q queryServer) Rewards(ctx context.Context, req *types.QueryRewardsRequest) (*types.QueryRewardsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	provider, err := q.k.addressCodec.StringToBytes(req.Provider)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "provider %q: %s", req.Provider, err)
	}
	r, err := q.k.RewardOf(ctx, provider)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	pool, err := q.k.pool(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	denom := pool.Denom
	if denom == "" {
		params, err := q.k.Params.Get(ctx)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		denom = params.BaseReward.Denom
	}
	return &types.QueryRewardsResponse{Reward: r, Claimable: sdk.NewCoin(denom, r.Accrued.TruncateInt())}, nil
}

// RewardPool returns the global reward index.
func (q queryServer) RewardPool(ctx context.Context, req *types.QueryRewardPoolRequest) (*types.QueryRewardPoolResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	pool, err := q.k.pool(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryRewardPoolResponse{Pool: pool}, nil
}

// Usage returns a lease's usage reports.
func (q queryServer) Usage(ctx context.Context, req *types.QueryUsageRequest) (*types.QueryUsageResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	tenant, err := q.k.addressCodec.StringToBytes(req.Tenant)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "tenant %q: %s", req.Tenant, err)
	}
	u, err := q.k.Usage.Get(ctx, collections.Join(sdk.AccAddress(tenant), req.Seq))
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "no usage reported for lease %s/%d", req.Tenant, req.Seq)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryUsageResponse{Usage: u}, nil
}

// Disputes lists a lease's disputes, oldest first.
func (q queryServer) Disputes(ctx context.Context, req *types.QueryDisputesRequest) (*types.QueryDisputesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	tenant, err := q.k.addressCodec.StringToBytes(req.Tenant)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "tenant %q: %s", req.Tenant, err)
	}
	var out []types.Dispute
	err = q.k.Disputes.Walk(ctx,
		collections.NewSuperPrefixedTripleRange[sdk.AccAddress, uint64, uint64](tenant, req.Seq),
		func(_ collections.Triple[sdk.AccAddress, uint64, uint64], d types.Dispute) (bool, error) {
			out = append(out, d)
			return false, nil
		})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryDisputesResponse{Disputes: out}, nil
}
