package keeper

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

type queryServer struct {
	*types.UnimplementedQueryServer
	k *Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServer returns the Query service of x/escrow.
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

// tenantArg reads the tenant of a request, naming the field on error.
func (q queryServer) tenantArg(tenant string) (sdk.AccAddress, error) {
	if tenant == "" {
		return nil, status.Error(codes.InvalidArgument, "tenant must be set")
	}
	addr, err := q.k.addressCodec.StringToBytes(tenant)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "tenant %q: %s", tenant, err)
	}
	return addr, nil
}

// Account returns one account with what a settlement at the current block
// time would pay (unsettled) and the balance left after it (available),
// computed without writing.
func (q queryServer) Account(ctx context.Context, req *types.QueryAccountRequest) (*types.QueryAccountResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	tenant, err := q.tenantArg(req.Tenant)
	if err != nil {
		return nil, err
	}
	if req.Seq == 0 {
		return nil, status.Error(codes.InvalidArgument, "seq must be at least 1, got 0")
	}
	acc, err := q.k.Accounts.Get(ctx, collections.Join(tenant, req.Seq))
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "escrow account %s not found", types.NewAccountID(tenant, req.Seq))
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	unsettled := acc.Unsettled(blockUnix(ctx))
	return &types.QueryAccountResponse{Account: acc, Unsettled: unsettled, Available: acc.Balance.Sub(unsettled)}, nil
}

// Accounts lists a tenant's accounts in seq order, paginated.
func (q queryServer) Accounts(ctx context.Context, req *types.QueryAccountsRequest) (*types.QueryAccountsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	tenant, err := q.tenantArg(req.Tenant)
	if err != nil {
		return nil, err
	}
	accounts, page, err := query.CollectionPaginate(ctx, q.k.Accounts, req.Pagination,
		func(_ types.AccountKey, a types.Account) (types.Account, error) { return a, nil },
		query.WithCollectionPaginationPairPrefix[sdk.AccAddress, uint64](tenant))
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryAccountsResponse{Accounts: accounts, Pagination: page}, nil
}

// Totals returns the running totals per denom.
func (q queryServer) Totals(ctx context.Context, req *types.QueryTotalsRequest) (*types.QueryTotalsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	totals, err := q.k.Totals(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryTotalsResponse{Totals: totals}, nil
}
