package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/server"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// gpumeshModules are the modules the invariants report checks, in order.
var gpumeshModules = []string{"provider", "stakingslash", "escrow", "market", "proofofcompute"}

// sendOutsideBooks sends amount umesh from alice into module's account
// through the bank keeper, outside the module's books (its module-account
// invariant no longer holds), in ctx.
func sendOutsideBooks(t *testing.T, a *apptest.App, ctx sdk.Context, module string, amount int64) {
	t.Helper()
	coins := sdk.NewCoins(sdk.NewCoin(app.BondDenom, math.NewInt(amount)))
	require.NoError(t, a.BankKeeper.SendCoinsFromAccountToModule(ctx, a.Account("alice").Address, module, coins))
}

// breakCommittedBooks does sendOutsideBooks into the app's store, so the
// next block commits it.
func breakCommittedBooks(t *testing.T, a *apptest.App, module string, amount int64) {
	t.Helper()
	ctx := a.KeeperCtx()
	sendOutsideBooks(t, a, ctx, module, amount)
	ctx.MultiStore().(storetypes.CacheMultiStore).Write()
}

// Every module is checked, also after one fails, and each broken invariant
// is one entry naming its module and invariant; the check leaves the
// caller's gas and events alone.
func TestInvariantsReportNamesEachBrokenInvariant(t *testing.T) {
	a := apptest.New(t)
	report := a.InvariantsReport(a.Ctx())
	require.True(t, report.OK, "%+v", report.Broken)
	require.Empty(t, report.Broken)
	require.Equal(t, gpumeshModules, report.Modules)
	require.Equal(t, a.LastBlockHeight(), report.Height)
	require.NoError(t, a.CheckInvariants(a.Ctx()))

	ctx := a.KeeperCtx()
	sendOutsideBooks(t, a, ctx, stakingslashtypes.ModuleName, 5)
	sendOutsideBooks(t, a, ctx, escrowtypes.ModuleName, 3)
	gas, events := ctx.GasMeter().GasConsumed(), len(ctx.EventManager().Events())

	report = a.InvariantsReport(ctx)
	require.False(t, report.OK)
	require.Equal(t, gpumeshModules, report.Modules)
	require.Len(t, report.Broken, 2, "%+v", report.Broken)
	require.Equal(t, "stakingslash", report.Broken[0].Module)
	require.Equal(t, "module-account", report.Broken[0].Invariant)
	require.Contains(t, report.Broken[0].Message, "module account holds 5umesh, but bonded 0 + unbonding 0")
	require.Equal(t, "escrow", report.Broken[1].Module)
	require.Equal(t, "module-account", report.Broken[1].Invariant)
	require.Contains(t, report.Broken[1].Message, `module account holds "3umesh", but account balances ""`)
	require.Equal(t, gas, ctx.GasMeter().GasConsumed(), "the check consumed the caller's gas")
	require.Len(t, ctx.EventManager().Events(), events, "the check emitted events into the caller's context")

	err := a.CheckInvariants(ctx)
	require.ErrorContains(t, err, "x/stakingslash module-account invariant: module account holds 5umesh")
	require.ErrorContains(t, err, `x/escrow module-account invariant: module account holds "3umesh"`)
}

// queryInvariants sends the invariants query through the ABCI wrapper that
// CometBFT calls.
func queryInvariants(t *testing.T, a *apptest.App, height int64) (*abci.ResponseQuery, app.InvariantsReport) {
	t.Helper()
	res, err := server.NewCometABCIWrapper(a.App).Query(context.Background(),
		&abci.RequestQuery{Path: app.InvariantsQueryPath, Height: height})
	require.NoError(t, err)
	var report app.InvariantsReport
	if res.IsOK() {
		require.NoError(t, json.Unmarshal(res.Value, &report), "%s", res.Value)
	}
	return res, report
}

// The node answers the invariants query over ABCI, at the latest height or
// an older one it keeps, and still routes every other query to BaseApp.
func TestInvariantsQuery(t *testing.T) {
	a := apptest.New(t, apptest.WithAppOption(app.FlagInvariantsQuery, true))
	a.NextBlock()
	healthy := a.LastBlockHeight()
	res, report := queryInvariants(t, a, 0)
	require.True(t, res.IsOK(), res.Log)
	require.Equal(t, healthy, res.Height)
	require.Equal(t, app.InvariantsReport{Height: healthy, OK: true, Modules: gpumeshModules, Broken: []app.BrokenInvariant{}}, report)

	breakCommittedBooks(t, a, escrowtypes.ModuleName, 3)
	a.NextBlock()
	res, report = queryInvariants(t, a, 0)
	require.True(t, res.IsOK(), res.Log)
	require.Equal(t, healthy+1, report.Height)
	require.False(t, report.OK)
	require.Len(t, report.Broken, 1)
	require.Equal(t, "escrow", report.Broken[0].Module)
	require.Equal(t, "module-account", report.Broken[0].Invariant)
	require.Contains(t, report.Broken[0].Message, `module account holds "3umesh"`)

	// The height before the coins arrived still checks out.
	res, report = queryInvariants(t, a, healthy)
	require.True(t, res.IsOK(), res.Log)
	require.Equal(t, healthy, report.Height)
	require.True(t, report.OK, "%+v", report.Broken)

	res, _ = queryInvariants(t, a, healthy+5)
	require.Equal(t, sdkerrors.ErrInvalidHeight.ABCICode(), res.Code, res.Log)
	require.Contains(t, res.Log, "height in the future")

	// gRPC queries over ABCI still reach BaseApp.
	req := &banktypes.QueryBalanceRequest{Address: a.Account("alice").Address.String(), Denom: app.BondDenom}
	bz, err := req.Marshal()
	require.NoError(t, err)
	grpcRes, err := server.NewCometABCIWrapper(a.App).Query(context.Background(),
		&abci.RequestQuery{Path: "/cosmos.bank.v1beta1.Query/Balance", Data: bz})
	require.NoError(t, err)
	require.True(t, grpcRes.IsOK(), grpcRes.Log)
	var balance banktypes.QueryBalanceResponse
	require.NoError(t, balance.Unmarshal(grpcRes.Value))
	want := apptest.StartingBalance.AmountOf(app.BondDenom).SubRaw(3)
	require.Equal(t, want.String(), balance.Balance.Amount.String())
}

// A node answers the invariants query only when app.toml enables it.
func TestInvariantsQueryIsOffByDefault(t *testing.T) {
	a := apptest.New(t)
	res, _ := queryInvariants(t, a, 0)
	require.Equal(t, sdkerrors.ErrUnauthorized.ABCICode(), res.Code)
	require.Equal(t, sdkerrors.ErrUnauthorized.Codespace(), res.Codespace)
	require.Contains(t, res.Log, "set [gpumesh] invariants-query = true in app.toml")
	require.Empty(t, res.Value)
}

// finalizeBlock finalizes the next block without committing it and
// returns FinalizeBlock's error.
func finalizeBlock(t *testing.T, a *apptest.App) error {
	t.Helper()
	vals, err := a.StakingKeeper.GetAllValidators(a.Ctx())
	require.NoError(t, err)
	require.Len(t, vals, 1)
	cons, err := vals[0].GetConsAddr()
	require.NoError(t, err)
	height := a.LastBlockHeight() + 1
	_, err = a.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height:          height,
		Hash:            apptest.BlockHash(height),
		Time:            a.BlockTime.Add(apptest.BlockInterval),
		ProposerAddress: cons,
	})
	return err
}

// With invariants-every = N, a broken invariant fails FinalizeBlock at the
// next height divisible by N, naming the invariant; the heights between
// are not checked.
func TestBrokenInvariantStopsFinalizeBlock(t *testing.T) {
	// As the start flag gives it: a string.
	a := apptest.New(t, apptest.WithAppOption(app.FlagInvariantsEvery, "3"))
	for a.LastBlockHeight() < 3 {
		a.NextBlock() // height 3 is checked and passes
	}
	breakCommittedBooks(t, a, escrowtypes.ModuleName, 3)
	a.NextBlock() // 4: not checked
	a.NextBlock() // 5: not checked
	require.Equal(t, int64(5), a.LastBlockHeight())

	err := finalizeBlock(t, a)
	require.ErrorContains(t, err, "invariant broken at height 6 (checked every 3 blocks, app.toml gpumesh.invariants-every)")
	require.ErrorContains(t, err, `x/escrow module-account invariant: module account holds "3umesh"`)
}

// The same broken state passes every block when the check is off.
func TestInvariantsOffByDefaultInBlocks(t *testing.T) {
	a := apptest.New(t)
	breakCommittedBooks(t, a, escrowtypes.ModuleName, 3)
	a.NextBlock()
	require.NoError(t, finalizeBlock(t, a))
	require.Error(t, a.CheckInvariants(a.Ctx()), "the state is broken")
}

// A bad option value stops app.New, naming the option and value.
func TestInvariantOptionsRejectBadValues(t *testing.T) {
	for _, tc := range []struct {
		key   string
		value any
		want  string
	}{
		{app.FlagInvariantsEvery, "-1", "gpumesh.invariants-every = -1: want a block count >= 0"},
		{app.FlagInvariantsEvery, "often", "gpumesh.invariants-every = often"},
		{app.FlagInvariantsQuery, "perhaps", "gpumesh.invariants-query = perhaps: want true or false"},
	} {
		t.Run(fmt.Sprintf("%s=%v", tc.key, tc.value), func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "app.New accepted it")
				err, ok := r.(error)
				require.True(t, ok, "%v", r)
				require.ErrorContains(t, err, tc.want)
			}()
			apptest.New(t, apptest.WithAppOption(tc.key, tc.value))
		})
	}
}
