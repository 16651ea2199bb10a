package app_test

import (
	"testing"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
)

// AllowStablePayments allows uusdc with its minimum order deposit (1 USDC)
// and its reputation value (100 USDC), keeps the genesis valid, changes
// nothing when run twice and keeps an entry already set.
func TestAllowStablePayments(t *testing.T) {
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	cdc := a.AppCodec()
	gen := a.DefaultGenesis()
	require.NoError(t, app.AllowStablePayments(cdc, gen))
	require.NoError(t, a.BasicModuleManager.ValidateGenesis(cdc, a.TxConfig(), gen))

	var escrow escrowtypes.GenesisState
	cdc.MustUnmarshalJSON(gen[escrowtypes.ModuleName], &escrow)
	require.Equal(t, []string{app.BondDenom, app.StableDenom}, escrow.Params.AllowedDenoms)
	require.Equal(t, sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 10_000_000), sdk.NewInt64Coin(app.StableDenom, 1_000_000)),
		escrow.Params.MinDeposits)
	var market markettypes.GenesisState
	cdc.MustUnmarshalJSON(gen[markettypes.ModuleName], &market)
	require.Equal(t, sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 100_000_000), sdk.NewInt64Coin(app.StableDenom, 100_000_000)),
		market.Params.ReputationLeaseValue)

	once := map[string][]byte{escrowtypes.ModuleName: gen[escrowtypes.ModuleName], markettypes.ModuleName: gen[markettypes.ModuleName]}
	require.NoError(t, app.AllowStablePayments(cdc, gen))
	require.JSONEq(t, string(once[escrowtypes.ModuleName]), string(gen[escrowtypes.ModuleName]), "idempotent")
	require.JSONEq(t, string(once[markettypes.ModuleName]), string(gen[markettypes.ModuleName]), "idempotent")

	// A network that set its own uusdc minimum keeps it.
	escrow.Params.MinDeposits = sdk.NewCoins(sdk.NewInt64Coin(app.BondDenom, 10_000_000), sdk.NewInt64Coin(app.StableDenom, 5))
	gen[escrowtypes.ModuleName] = cdc.MustMarshalJSON(&escrow)
	require.NoError(t, app.AllowStablePayments(cdc, gen))
	cdc.MustUnmarshalJSON(gen[escrowtypes.ModuleName], &escrow)
	require.Equal(t, "5", escrow.Params.MinDeposit(app.StableDenom).String())
}
