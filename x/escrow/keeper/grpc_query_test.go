package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/types/query"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

func TestQueryParams(t *testing.T) {
	f := newFixture(t)
	res, err := f.query.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	// The test app allows uusdc too, as local networks do.
	require.Equal(t, []string{umesh, uusdc}, res.Params.AllowedDenoms)
	require.Equal(t, types.DefaultParams().TakeRates, res.Params.TakeRates)
	_, err = f.query.Params(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

// Account shows what a settlement now would pay, without settling.
func TestQueryAccount(t *testing.T) {
	f := newFixture(t)
	f.open(f.tenant, 1, coin(uusdc, 5_000_000))
	q := func() *types.QueryAccountResponse {
		t.Helper()
		res, err := f.query.Account(f.ctx, &types.QueryAccountRequest{Tenant: f.tenant.String(), Seq: 1})
		require.NoError(t, err)
		return res
	}
	res := q()
	requireInt(t, 0, res.Unsettled, "an open order owes nothing")
	requireInt(t, 5_000_000, res.Available)

	s := f.now()
	f.start(f.tenant, 1, f.provider, 2_500_000, 2, 0)
	f.at(s + 100)
	res = q()
	requireInt(t, 138_888, res.Unsettled)
	requireInt(t, 5_000_000-138_888, res.Available)
	requireInt(t, 0, res.Account.Paid, "the query does not settle")
	require.Equal(t, types.UnixTime(s), res.Account.SettledAt)

	f.withdraw(f.provider, idOf(f.tenant, 1))
	res = q()
	requireInt(t, 0, res.Unsettled)
	requireInt(t, 138_888, res.Account.Paid)

	f.at(s + 5000) // past runs_dry_at: capped by the funds
	res = q()
	requireInt(t, 5_000_000-138_888, res.Unsettled)
	requireInt(t, 0, res.Available)

	f.close(f.tenant, 1)
	res = q()
	requireInt(t, 0, res.Unsettled)
	requireInt(t, 0, res.Available)
	require.Equal(t, types.ACCOUNT_STATE_CLOSED, res.Account.State)

	for _, tc := range []struct {
		req  *types.QueryAccountRequest
		code codes.Code
		want string
	}{
		{nil, codes.InvalidArgument, "empty request"},
		{&types.QueryAccountRequest{Seq: 1}, codes.InvalidArgument, "tenant must be set"},
		{&types.QueryAccountRequest{Tenant: "mesh1x", Seq: 1}, codes.InvalidArgument, `tenant "mesh1x"`},
		{&types.QueryAccountRequest{Tenant: f.tenant.String()}, codes.InvalidArgument, "seq must be at least 1"},
		{&types.QueryAccountRequest{Tenant: f.tenant.String(), Seq: 2}, codes.NotFound, f.tenant.String() + "/2 not found"},
	} {
		_, err := f.query.Account(f.ctx, tc.req)
		require.Equal(t, tc.code, status.Code(err), "%v", tc.req)
		require.Contains(t, err.Error(), tc.want)
	}
}

// Accounts lists one tenant's accounts in seq order, by page.
func TestQueryAccounts(t *testing.T) {
	f := newFixture(t)
	for seq := uint64(1); seq <= 5; seq++ {
		f.open(f.tenant, seq, coin(umesh, int64(seq)))
	}
	f.open(f.tenant2, 1, coin(umesh, 100))
	f.close(f.tenant, 2)

	res, err := f.query.Accounts(f.ctx, &types.QueryAccountsRequest{Tenant: f.tenant.String(), Pagination: &query.PageRequest{Limit: 3, CountTotal: true}})
	require.NoError(t, err)
	require.Len(t, res.Accounts, 3)
	for i, a := range res.Accounts {
		require.Equal(t, idOf(f.tenant, uint64(i+1)), a.Id)
	}
	require.Equal(t, uint64(5), res.Pagination.Total)
	require.NotEmpty(t, res.Pagination.NextKey)
	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{Tenant: f.tenant.String(), Pagination: &query.PageRequest{Key: res.Pagination.NextKey}})
	require.NoError(t, err)
	require.Len(t, res.Accounts, 2)
	require.Equal(t, idOf(f.tenant, 4), res.Accounts[0].Id)
	require.Equal(t, idOf(f.tenant, 5), res.Accounts[1].Id)
	require.Empty(t, res.Pagination.NextKey)

	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{Tenant: f.tenant2.String()})
	require.NoError(t, err)
	require.Len(t, res.Accounts, 1)
	res, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{Tenant: f.provider.String()})
	require.NoError(t, err)
	require.Empty(t, res.Accounts)

	_, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{Tenant: "nope"})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, err.Error(), `tenant "nope"`)
	_, err = f.query.Accounts(f.ctx, &types.QueryAccountsRequest{})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
}

func TestQueryTotals(t *testing.T) {
	f := newFixture(t)
	res, err := f.query.Totals(f.ctx, &types.QueryTotalsRequest{})
	require.NoError(t, err)
	require.Empty(t, res.Totals)

	f.open(f.tenant, 1, coin(uusdc, 1_000_000))
	f.open(f.tenant, 2, coin(umesh, 1_000_000))
	s := f.now()
	f.start(f.tenant, 1, f.provider, 3_600_000, 1, 0)
	f.start(f.tenant, 2, f.provider, 3_600_000, 1, 0)
	f.at(s + 10)
	f.withdraw(f.provider, idOf(f.tenant, 1), idOf(f.tenant, 2))
	res, err = f.query.Totals(f.ctx, &types.QueryTotalsRequest{})
	require.NoError(t, err)
	require.Len(t, res.Totals, 2)
	require.Equal(t, umesh, res.Totals[0].Denom, "sorted by denom")
	require.Equal(t, uusdc, res.Totals[1].Denom)
	requireInt(t, 10_000, res.Totals[0].Settled)
	requireInt(t, 200, res.Totals[0].TakeFees)
	requireInt(t, 1_000, res.Totals[1].TakeFees)
	requireInt(t, 25, res.Totals[1].ReserveFees)
	require.Equal(t, uint64(10), res.Totals[1].GpuSeconds)
}
