package keeper

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

type queryServer struct {
	*Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServer returns the Query service of x/provider.
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

// ParseStatus reads a provider status filter: "active", "deregistered" or
// the enum name; empty means any.
func ParseStatus(s string) (types.ProviderStatus, error) {
	if s == "" {
		return types.PROVIDER_STATUS_UNSPECIFIED, nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "PROVIDER_STATUS_") {
		name = "PROVIDER_STATUS_" + name
	}
	v, ok := types.ProviderStatus_value[name]
	if !ok || v == int32(types.PROVIDER_STATUS_UNSPECIFIED) {
		return 0, status.Errorf(codes.InvalidArgument, "status %q must be active or deregistered", s)
	}
	return types.ProviderStatus(v), nil
}

// Providers lists providers. The most selective filter picks the index
// walked (GPU class, then country, then status); the others are applied to
// each record, so a page may hold fewer than limit entries.
func (q queryServer) Providers(ctx context.Context, req *types.QueryProvidersRequest) (*types.QueryProvidersResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	st, err := ParseStatus(req.Status)
	if err != nil {
		return nil, err
	}
	if req.Region != "" {
		if err := types.ValidateRegion(req.Region); err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
	}
	if req.GpuClass != "" && req.GpuClass != types.UnknownClass {
		params, err := q.Keeper.Params.Get(ctx)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		if _, ok := params.Class(req.GpuClass); !ok {
			return nil, status.Errorf(codes.InvalidArgument, "gpu_class %q is not a GPU class in the params", req.GpuClass)
		}
	}
	match := func(p types.Provider) bool {
		if st != types.PROVIDER_STATUS_UNSPECIFIED && p.Status != st {
			return false
		}
		if req.Region != "" && p.Region != req.Region {
			// A bare country code matches every zone of the country.
			if strings.Contains(req.Region, "-") || types.Country(p.Region) != req.Region {
				return false
			}
		}
		return true
	}
	load := func(owner sdk.AccAddress) (types.Provider, bool, error) {
		p, err := q.Keeper.Providers.Get(ctx, owner)
		if err != nil {
			return p, false, err
		}
		return p, match(p), nil
	}

	var (
		out  []types.Provider
		page *query.PageResponse
	)
	switch {
	case req.GpuClass != "":
		out, page, err = filteredByPair(ctx, q.ClassProviders, req.Pagination, req.GpuClass, load)
	case req.Region != "":
		out, page, err = filteredByPair(ctx, q.Keeper.Providers.Indexes.Country, req.Pagination, types.Country(req.Region), load)
	case st != types.PROVIDER_STATUS_UNSPECIFIED:
		out, page, err = query.CollectionPaginate(ctx, q.Keeper.Providers.Indexes.Status, req.Pagination,
			func(key collections.Pair[int32, sdk.AccAddress], _ collections.NoValue) (types.Provider, error) {
				return q.Keeper.Providers.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[int32, sdk.AccAddress](int32(st)))
	default:
		out, page, err = query.CollectionPaginate(ctx, q.Keeper.Providers, req.Pagination,
			func(_ sdk.AccAddress, p types.Provider) (types.Provider, error) { return p, nil })
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryProvidersResponse{Providers: out, Pagination: page}, nil
}

// filteredByPair pages through the (prefix, owner) keys of an index and
// returns the providers that load accepts.
func filteredByPair[C query.Collection[collections.Pair[string, sdk.AccAddress], collections.NoValue]](
	ctx context.Context, coll C, page *query.PageRequest, prefix string,
	load func(sdk.AccAddress) (types.Provider, bool, error),
) ([]types.Provider, *query.PageResponse, error) {
	return query.CollectionFilteredPaginate(ctx, coll, page,
		func(key collections.Pair[string, sdk.AccAddress], _ collections.NoValue) (bool, error) {
			_, ok, err := load(key.K2())
			return ok, err
		},
		func(key collections.Pair[string, sdk.AccAddress], _ collections.NoValue) (types.Provider, error) {
			p, _, err := load(key.K2())
			return p, err
		},
		query.WithCollectionPaginationPairPrefix[string, sdk.AccAddress](prefix))
}

func (q queryServer) owner(s string) (sdk.AccAddress, error) {
	bz, err := q.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "owner %q: %s", s, err)
	}
	return bz, nil
}

// Provider returns one provider.
func (q queryServer) Provider(ctx context.Context, req *types.QueryProviderRequest) (*types.QueryProviderResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	owner, err := q.owner(req.Owner)
	if err != nil {
		return nil, err
	}
	p, err := q.Keeper.Providers.Get(ctx, owner)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "provider %s is not registered", req.Owner)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryProviderResponse{Provider: p}, nil
}

// Inventory returns a provider's nodes.
func (q queryServer) Inventory(ctx context.Context, req *types.QueryInventoryRequest) (*types.QueryInventoryResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	owner, err := q.owner(req.Owner)
	if err != nil {
		return nil, err
	}
	if has, err := q.Keeper.Providers.Has(ctx, owner); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	} else if !has {
		return nil, status.Errorf(codes.NotFound, "provider %s is not registered", req.Owner)
	}
	nodes, err := q.GetInventory(ctx, owner)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryInventoryResponse{Nodes: nodes}, nil
}

// GPU returns one GPU by UUID.
func (q queryServer) GPU(ctx context.Context, req *types.QueryGPURequest) (*types.QueryGPUResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	loc, _, gpu, err := q.GetGPU(ctx, req.Uuid)
	if errors.Is(err, types.ErrGPUNotFound) {
		return nil, status.Errorf(codes.NotFound, "GPU %q is not listed", req.Uuid)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryGPUResponse{Owner: loc.Owner, NodeId: loc.NodeId, Gpu: gpu}, nil
}

// Supply returns the counters of every class in the params, then of the
// unknown class. Rows are read from running counters: the cost grows with
// the number of classes, never with the number of GPUs.
func (q queryServer) Supply(ctx context.Context, req *types.QuerySupplyRequest) (*types.QuerySupplyResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	params, err := q.Keeper.Params.Get(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	names := make([]string, 0, len(params.GpuClasses)+1)
	for _, c := range params.GpuClasses {
		names = append(names, c.Name)
	}
	names = append(names, types.UnknownClass)
	out := make([]types.ClassSupply, 0, len(names))
	for _, name := range names {
		s, err := q.ClassSupply(ctx, name)
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		out = append(out, s)
	}
	return &types.QuerySupplyResponse{Classes: out}, nil
}
