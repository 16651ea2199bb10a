package keeper

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/gpumesh/gpumesh/x/market/types"
)

type queryServer struct {
	k *Keeper
}

var _ types.QueryServer = queryServer{}

// NewQueryServer returns the Query service of x/market.
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

// Orders lists orders. A tenant filter walks that tenant's orders (its key
// prefix), else a state filter walks the state index, else every order is
// walked; the other filter is applied to each record, so a page may hold
// fewer than limit entries.
func (q queryServer) Orders(ctx context.Context, req *types.QueryOrdersRequest) (*types.QueryOrdersResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if err := checkEnum("state", "an order state", types.OrderState_name, int32(req.State)); err != nil {
		return nil, err
	}
	tenant, err := q.optionalAddress("tenant", req.Tenant)
	if err != nil {
		return nil, err
	}
	stateOK := func(o types.Order) bool {
		return req.State == types.ORDER_STATE_UNSPECIFIED || o.State == req.State
	}
	identity := func(_ types.OrderKey, o types.Order) (types.Order, error) { return o, nil }

	var (
		out  []types.Order
		page *query.PageResponse
	)
	switch {
	case tenant != nil:
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Orders, req.Pagination,
			func(_ types.OrderKey, o types.Order) (bool, error) { return stateOK(o), nil },
			identity,
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, uint64](tenant))
	case req.State != types.ORDER_STATE_UNSPECIFIED:
		out, page, err = query.CollectionPaginate(ctx, q.k.Orders.Indexes.State, req.Pagination,
			func(key collections.Pair[int32, types.OrderKey], _ collections.NoValue) (types.Order, error) {
				return q.k.Orders.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[int32, types.OrderKey](int32(req.State)))
	default:
		out, page, err = query.CollectionPaginate(ctx, q.k.Orders, req.Pagination, identity)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryOrdersResponse{Orders: out, Pagination: page}, nil
}

// Order returns one order.
func (q queryServer) Order(ctx context.Context, req *types.QueryOrderRequest) (*types.QueryOrderResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	key, id, err := q.orderKey(req.Tenant, req.Seq)
	if err != nil {
		return nil, err
	}
	o, err := q.k.Orders.Get(ctx, key)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "order %s not found", id)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryOrderResponse{Order: o}, nil
}

// OrderBids lists the bids of one order, in provider address order. Bids
// a provider withdrew are not stored.
func (q queryServer) OrderBids(ctx context.Context, req *types.QueryOrderBidsRequest) (*types.QueryOrderBidsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	key, id, err := q.orderKey(req.Tenant, req.Seq)
	if err != nil {
		return nil, err
	}
	if has, err := q.k.Orders.Has(ctx, key); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	} else if !has {
		return nil, status.Errorf(codes.NotFound, "order %s not found", id)
	}
	out, page, err := query.CollectionPaginate(ctx, q.k.Bids, req.Pagination,
		func(_ types.BidKey, b types.Bid) (types.Bid, error) { return b, nil },
		withBidOrderPrefix(key))
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryOrderBidsResponse{Bids: out, Pagination: page}, nil
}

// withBidOrderPrefix restricts a pagination over the bids to one order.
func withBidOrderPrefix(key types.OrderKey) func(*query.CollectionsPaginateOptions[types.BidKey]) {
	return func(o *query.CollectionsPaginateOptions[types.BidKey]) {
		prefix := collections.TripleSuperPrefix[sdk.AccAddress, uint64, sdk.AccAddress](key.K1(), key.K2())
		o.Prefix = &prefix
	}
}

// Bids lists bids. A provider filter walks the provider index; otherwise
// every bid is walked. The state filter is applied to each record, so a
// page may hold fewer than limit entries.
func (q queryServer) Bids(ctx context.Context, req *types.QueryBidsRequest) (*types.QueryBidsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if err := checkEnum("state", "a bid state", types.BidState_name, int32(req.State)); err != nil {
		return nil, err
	}
	provider, err := q.optionalAddress("provider", req.Provider)
	if err != nil {
		return nil, err
	}
	stateOK := func(b types.Bid) bool {
		return req.State == types.BID_STATE_UNSPECIFIED || b.State == req.State
	}

	var (
		out  []types.Bid
		page *query.PageResponse
	)
	if provider != nil {
		load := func(key collections.Pair[sdk.AccAddress, types.BidKey]) (types.Bid, error) {
			return q.k.Bids.Get(ctx, key.K2())
		}
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Bids.Indexes.Provider, req.Pagination,
			func(key collections.Pair[sdk.AccAddress, types.BidKey], _ collections.NoValue) (bool, error) {
				b, err := load(key)
				return err == nil && stateOK(b), err
			},
			func(key collections.Pair[sdk.AccAddress, types.BidKey], _ collections.NoValue) (types.Bid, error) {
				return load(key)
			},
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, types.BidKey](provider))
	} else {
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Bids, req.Pagination,
			func(_ types.BidKey, b types.Bid) (bool, error) { return stateOK(b), nil },
			func(_ types.BidKey, b types.Bid) (types.Bid, error) { return b, nil })
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryBidsResponse{Bids: out, Pagination: page}, nil
}

// Leases lists leases. The most selective filter picks what is walked: a
// provider's index entries, else a tenant's key prefix, else the state
// index, else every lease; the remaining filters are applied to each
// record, so a page may hold fewer than limit entries.
func (q queryServer) Leases(ctx context.Context, req *types.QueryLeasesRequest) (*types.QueryLeasesResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if err := checkEnum("state", "a lease state", types.LeaseState_name, int32(req.State)); err != nil {
		return nil, err
	}
	tenant, err := q.optionalAddress("tenant", req.Tenant)
	if err != nil {
		return nil, err
	}
	provider, err := q.optionalAddress("provider", req.Provider)
	if err != nil {
		return nil, err
	}
	match := func(key types.OrderKey, l types.Lease) bool {
		if req.State != types.LEASE_STATE_UNSPECIFIED && l.State != req.State {
			return false
		}
		return tenant == nil || key.K1().Equals(tenant)
	}
	identity := func(_ types.OrderKey, l types.Lease) (types.Lease, error) { return l, nil }

	var (
		out  []types.Lease
		page *query.PageResponse
	)
	switch {
	case provider != nil:
		type ref = collections.Pair[sdk.AccAddress, types.OrderKey]
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Leases.Indexes.Provider, req.Pagination,
			func(key ref, _ collections.NoValue) (bool, error) {
				if tenant != nil && !key.K2().K1().Equals(tenant) {
					return false, nil // decided by the key: no read
				}
				l, err := q.k.Leases.Get(ctx, key.K2())
				return err == nil && match(key.K2(), l), err
			},
			func(key ref, _ collections.NoValue) (types.Lease, error) { return q.k.Leases.Get(ctx, key.K2()) },
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, types.OrderKey](provider))
	case tenant != nil:
		out, page, err = query.CollectionFilteredPaginate(ctx, q.k.Leases, req.Pagination,
			func(key types.OrderKey, l types.Lease) (bool, error) { return match(key, l), nil },
			identity,
			query.WithCollectionPaginationPairPrefix[sdk.AccAddress, uint64](tenant))
	case req.State != types.LEASE_STATE_UNSPECIFIED:
		out, page, err = query.CollectionPaginate(ctx, q.k.Leases.Indexes.State, req.Pagination,
			func(key collections.Pair[int32, types.OrderKey], _ collections.NoValue) (types.Lease, error) {
				return q.k.Leases.Get(ctx, key.K2())
			},
			query.WithCollectionPaginationPairPrefix[int32, types.OrderKey](int32(req.State)))
	default:
		out, page, err = query.CollectionPaginate(ctx, q.k.Leases, req.Pagination, identity)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryLeasesResponse{Leases: out, Pagination: page}, nil
}

// Lease returns one lease with its escrow account.
func (q queryServer) Lease(ctx context.Context, req *types.QueryLeaseRequest) (*types.QueryLeaseResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	key, id, err := q.orderKey(req.Tenant, req.Seq)
	if err != nil {
		return nil, err
	}
	l, err := q.k.Leases.Get(ctx, key)
	if errors.Is(err, collections.ErrNotFound) {
		return nil, status.Errorf(codes.NotFound, "lease %s not found", id)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	acc, err := q.k.escrow.GetAccount(ctx, key.K1(), key.K2())
	if err != nil {
		// Every lease has an escrow account, closed ones included.
		return nil, status.Errorf(codes.Internal, "escrow account of lease %s: %s", id, err)
	}
	return &types.QueryLeaseResponse{Lease: l, Escrow: acc}, nil
}

// PriceIndex returns the price index entries in (class, denom) order: all
// of them, or one class's, optionally only those in one denom. The index
// has one entry per class and denom leased, so it is small and not paged.
func (q queryServer) PriceIndex(ctx context.Context, req *types.QueryPriceIndexRequest) (*types.QueryPriceIndexResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	if req.Denom != "" {
		if err := sdk.ValidateDenom(req.Denom); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "denom %q: %s", req.Denom, err)
		}
	}
	var ranger collections.Ranger[collections.Pair[string, string]]
	if req.GpuClass != "" {
		ranger = collections.NewPrefixedPairRange[string, string](req.GpuClass)
	}
	out := []types.PriceIndexEntry{}
	err := q.k.PriceIndex.Walk(ctx, ranger, func(key collections.Pair[string, string], e types.PriceIndexEntry) (bool, error) {
		if req.Denom == "" || key.K2() == req.Denom {
			out = append(out, e)
		}
		return false, nil
	})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryPriceIndexResponse{Entries: out}, nil
}

// Stats returns the market's running totals: x/market's counters and
// x/escrow's totals per denom. Both are read from running counters, never
// recomputed.
func (q queryServer) Stats(ctx context.Context, req *types.QueryStatsRequest) (*types.QueryStatsResponse, error) {
	if req == nil {
		return nil, status.Error(codes.InvalidArgument, "empty request")
	}
	counters, err := q.k.Counters.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, status.Error(codes.Internal, err.Error())
	}
	totals, err := q.k.escrow.Totals(ctx)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &types.QueryStatsResponse{Counters: counters, Denoms: totals}, nil
}

// optionalAddress decodes an optional address filter; empty gives nil.
func (q queryServer) optionalAddress(field, s string) (sdk.AccAddress, error) {
	if s == "" {
		return nil, nil
	}
	bz, err := q.k.addressCodec.StringToBytes(s)
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "%s %q: %s", field, s, err)
	}
	return bz, nil
}

// orderKey decodes the (tenant, seq) of an order or lease request.
func (q queryServer) orderKey(tenant string, seq uint64) (types.OrderKey, types.OrderID, error) {
	bz, err := q.k.addressCodec.StringToBytes(tenant)
	if err != nil {
		return types.OrderKey{}, types.OrderID{}, status.Errorf(codes.InvalidArgument, "tenant %q: %s", tenant, err)
	}
	if seq == 0 {
		return types.OrderKey{}, types.OrderID{}, status.Error(codes.InvalidArgument, "seq must be at least 1, got 0")
	}
	addr := sdk.AccAddress(bz)
	return collections.Join(addr, seq), types.NewOrderID(addr, seq), nil
}

// checkEnum refuses a filter value that names no enum value.
func checkEnum(field, what string, names map[int32]string, v int32) error {
	if _, ok := names[v]; !ok {
		return status.Errorf(codes.InvalidArgument, "%s %d is not %s", field, v, what)
	}
	return nil
}
