package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

func TestQueryBond(t *testing.T) {
	f := newFixture(t)

	for _, bad := range []string{"", "mesh1bad", "cosmos1qypqxpq9qcrsszg2pvxq6rs0zqg3yyc5lzv7xu"} {
		_, err := f.query.Bond(f.ctx, &types.QueryBondRequest{Provider: bad})
		require.Equal(t, codes.InvalidArgument, status.Code(err), bad)
		require.Contains(t, err.Error(), `invalid provider address "`+bad+`"`)
	}
	_, err := f.query.Bond(f.ctx, nil)
	require.Equal(t, codes.InvalidArgument, status.Code(err))

	// An unknown provider answers with zero values.
	res, err := f.query.Bond(f.ctx, &types.QueryBondRequest{Provider: f.provider2.String()})
	require.NoError(t, err)
	require.Equal(t, types.QueryBondResponse{
		Provider: f.provider2.String(), Bonded: ints(0), Unbonding: []types.UnbondingEntry{},
		Required: ints(0), Denom: denom, MissedCommits: []time.Time{},
	}, *res)

	f.register(f.provider, 3)
	f.bond(f.provider, 500_000_000)
	e0 := f.unbond(f.provider, 100_000_000)
	f.advance(time.Hour)
	e1 := f.unbond(f.provider, 50_000_000)
	res, err = f.query.Bond(f.ctx, &types.QueryBondRequest{Provider: f.provider.String()})
	require.NoError(t, err)
	require.Equal(t, f.provider.String(), res.Provider)
	require.Equal(t, ints(350_000_000), res.Bonded)
	require.Equal(t, ints(300_000_000), res.Required)
	require.Equal(t, uint32(3), res.BillableGpus)
	require.True(t, res.Eligible)
	require.False(t, res.Jailed)
	require.Equal(t, denom, res.Denom)
	require.Len(t, res.Unbonding, 2)
	require.Equal(t, e0.EntryId, res.Unbonding[0].Id, "oldest first")
	require.Equal(t, e0.CompletionTime, res.Unbonding[0].CompletionTime)
	require.Equal(t, e1.EntryId, res.Unbonding[1].Id)

	until := f.ctx.BlockTime().Add(time.Hour)
	require.NoError(t, f.k.Jail(f.ctx, f.provider, until, types.INFRACTION_WRONG_OPENING))
	res, err = f.query.Bond(f.ctx, &types.QueryBondRequest{Provider: f.provider.String()})
	require.NoError(t, err)
	require.True(t, res.Jailed)
	require.Equal(t, until, res.JailedUntil)
	require.False(t, res.Eligible)

	params, err := f.query.Params(f.ctx, &types.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, types.DefaultParams(), params.Params)

	// Missed commits are listed while they count toward the limit: within
	// missed_commit_window of the block time.
	missedAt := f.ctx.BlockTime()
	_, err = f.k.Slash(f.ctx, f.provider2, types.INFRACTION_MISSED_COMMIT, f.ctx.BlockHeight())
	require.NoError(t, err)
	res, err = f.query.Bond(f.ctx, &types.QueryBondRequest{Provider: f.provider2.String()})
	require.NoError(t, err)
	require.Equal(t, []time.Time{missedAt}, res.MissedCommits)
	f.advance(params.Params.MissedCommitWindow + time.Second)
	res, err = f.query.Bond(f.ctx, &types.QueryBondRequest{Provider: f.provider2.String()})
	require.NoError(t, err)
	require.Empty(t, res.MissedCommits, "a miss older than the window no longer counts")
}
