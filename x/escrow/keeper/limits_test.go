package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// An account opens only with at least its denom's min_deposits entry: 10
// MESH and, on a local network, 1 USDC. A refused open moves nothing and
// stores nothing; a governance change of the minimum applies to the next
// open.
func TestOpenAccountMinDeposit(t *testing.T) {
	f := newLocalnetFixture(t)
	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, sdk.NewCoins(coin(umesh, 10_000_000), app.StableMinDeposit), params.MinDeposits)

	for _, tc := range []struct {
		deposit sdk.Coin
		want    string
	}{
		{coin(uusdc, 999_999), "deposit 999999uusdc is below the min_deposits entry 1000000uusdc"},
		{coin(uusdc, 1), "deposit 1uusdc is below the min_deposits entry 1000000uusdc"},
		{coin(umesh, 9_999_999), "deposit 9999999umesh is below the min_deposits entry 10000000umesh"},
	} {
		before := f.balance(f.tenant, tc.deposit.Denom)
		_, err := f.k.OpenAccount(f.ctx, f.tenant, 1, tc.deposit)
		require.ErrorIs(t, err, types.ErrDepositTooSmall, tc.deposit)
		require.Contains(t, err.Error(), tc.want)
		require.Equal(t, before, f.balance(f.tenant, tc.deposit.Denom), "nothing moved")
		_, err = f.k.GetAccount(f.ctx, f.tenant, 1)
		require.ErrorIs(t, err, types.ErrAccountNotFound, "nothing stored")
	}

	f.open(f.tenant, 1, coin(uusdc, 1_000_000))
	f.open(f.tenant, 2, coin(umesh, 10_000_000))

	params.MinDeposits = sdk.NewCoins(coin(umesh, 10_000_000), coin(uusdc, 5_000_000))
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: params})
	require.NoError(t, err)
	_, err = f.k.OpenAccount(f.ctx, f.tenant, 3, coin(uusdc, 4_999_999))
	require.ErrorIs(t, err, types.ErrDepositTooSmall)
	require.Contains(t, err.Error(), "min_deposits entry 5000000uusdc")
	f.open(f.tenant, 3, coin(uusdc, 5_000_000))
	requireInt(t, 1_000_000, f.account(f.tenant, 1).Balance, "an open account keeps its deposit")
}

// A withdrawal settles at most max_withdraw_leases leases: more is refused
// before anything settles, naming the param; the hard limit of the message
// (MaxWithdrawLeasesLimit) bounds the param.
func TestWithdrawMaxLeasesParam(t *testing.T) {
	f := newFixture(t)
	ids := make([]types.AccountID, 3)
	for i := range ids {
		seq := uint64(i + 1)
		f.open(f.tenant, seq, coin(uusdc, 36_000))
		f.start(f.tenant, seq, f.provider, 3_600, 1, 0) // 1 uusdc per second
		ids[i] = idOf(f.tenant, seq)
	}
	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	params.MaxWithdrawLeases = 2
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: params})
	require.NoError(t, err)
	f.advance(100)

	before := f.balance(f.provider, uusdc)
	_, err = f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{Provider: f.provider.String(), LeaseIds: ids})
	require.ErrorIs(t, err, types.ErrInvalidWithdraw)
	require.Contains(t, err.Error(), "lease_ids holds 3 leases, above max_withdraw_leases 2")
	require.Equal(t, before, f.balance(f.provider, uusdc), "nothing settled")
	for _, id := range ids {
		key, err := id.Key()
		require.NoError(t, err)
		require.True(t, f.account(key.K1(), key.K2()).Paid.IsZero())
	}

	paid, _ := f.withdraw(f.provider, ids[:2]...)
	require.False(t, paid.IsZero())
	require.Equal(t, before.Add(paid.AmountOf(uusdc)), f.balance(f.provider, uusdc))
	requireInt(t, 100, f.account(f.tenant, 1).Paid)
	requireInt(t, 100, f.account(f.tenant, 2).Paid)
	require.True(t, f.account(f.tenant, 3).Paid.IsZero())

	params.MaxWithdrawLeases = types.MaxWithdrawLeasesLimit + 1
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: params})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	require.Contains(t, err.Error(), "max_withdraw_leases must be in [1, 1000], got 1001")
	require.Equal(t, math.NewInt(0).String(), f.account(f.tenant, 3).Paid.String())
}
