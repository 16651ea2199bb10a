package keeper

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

type queryServer struct {
	*Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServer returns the Query service of x/stakingslash.
func NewQueryServer(k *Keeper) types.QueryServer {
	return queryServer{Keeper: k}
}

// Params returns the current params.
func (q queryServer) Params(ctx context.Context, req *types.QueryParamsRequest) (*types.QueryParamsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.GetParams(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryParamsResponse{Params: params}, nil
}

// TODO(stakingslash): temporary stub replaced by the real query.
func (q queryServer) Bond(context.Context, *types.QueryBondRequest) (*types.QueryBondResponse, error) {
	return nil, fmt.Errorf("not implemented")
}
