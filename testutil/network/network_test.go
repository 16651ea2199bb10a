package network_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/network"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Two validators reach consensus on the gpumesh app, and the first serves
// gRPC queries for the SDK and the market modules.
func TestTwoValidatorNetwork(t *testing.T) {
	net := network.New(t, network.DefaultConfig("gpumesh-net-1", 2))

	height, err := net.WaitForHeight(3)
	require.NoError(t, err)
	require.GreaterOrEqual(t, height, int64(3))

	val := net.Validators[0]
	bank := banktypes.NewQueryClient(val.ClientCtx)
	res, err := bank.Balance(t.Context(), &banktypes.QueryBalanceRequest{Address: val.Address.String(), Denom: app.BondDenom})
	require.NoError(t, err)
	require.True(t, res.Balance.Amount.IsPositive(), "validator 0 has no %s", app.BondDenom)

	params, err := providertypes.NewQueryClient(val.ClientCtx).Params(t.Context(), &providertypes.QueryParamsRequest{})
	require.NoError(t, err)
	require.Equal(t, providertypes.DefaultParams(), params.Params)
}
