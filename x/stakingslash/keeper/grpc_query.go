package keeper

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sdk "github.com/cosmos/cosmos-sdk/types"

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

// Bond returns a provider's collateral, its unbonding entries (oldest
// first), its jail, the bond it needs and whether it may bid. A provider
// without a record answers with zero values, not an error.
func (q queryServer) Bond(ctx context.Context, req *types.QueryBondRequest) (*types.QueryBondResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	provider, err := q.addressCodec.StringToBytes(req.Provider)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid provider address %q: %s", req.Provider, err)
	}
	params, err := q.GetParams(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	c, _, err := q.collateral(ctx, provider)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	entries, err := q.UnbondingEntriesOf(ctx, provider)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if entries == nil {
		entries = []types.UnbondingEntry{}
	}
	cutoff := sdk.UnwrapSDKContext(ctx).BlockTime().Add(-params.MissedCommitWindow)
	missed := []time.Time{}
	for _, m := range c.MissedCommits {
		if !m.Before(cutoff) {
			missed = append(missed, m)
		}
	}
	return &types.QueryBondResponse{
		Provider:      c.Provider,
		Bonded:        c.Bonded,
		Unbonding:     entries,
		Jailed:        c.Jailed,
		JailedUntil:   c.JailedUntil,
		BillableGpus:  c.BillableGpus,
		Required:      params.RequiredBond(c.BillableGpus),
		Eligible:      eligible(c, params),
		Denom:         params.BondDenom,
		MissedCommits: missed,
	}, nil
}
