package app_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	proofofcomputetypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// The five market modules, by name.
var marketModules = []string{
	providertypes.ModuleName, stakingslashtypes.ModuleName, markettypes.ModuleName,
	escrowtypes.ModuleName, proofofcomputetypes.ModuleName,
}

func TestAddressPrefixesAndDenom(t *testing.T) {
	cfg := sdk.GetConfig()
	require.Equal(t, "mesh", cfg.GetBech32AccountAddrPrefix())
	require.Equal(t, "meshvaloper", cfg.GetBech32ValidatorAddrPrefix())
	require.Equal(t, "meshvalcons", cfg.GetBech32ConsensusAddrPrefix())
	require.Equal(t, "umesh", sdk.DefaultBondDenom)

	addr := sdk.AccAddress([]byte("gpumesh-address-20by"))
	require.Regexp(t, `^mesh1[0-9a-z]{38}$`, addr.String())
}

// The SDK's configuration scope is fixed at start-up, so that address
// conversions look the configuration up by an environment read instead of
// two system calls; the configuration behind that scope is gpumesh's,
// sealed.
func TestSDKConfigScopeIsFixed(t *testing.T) {
	require.Equal(t, app.ConfigScope, os.Getenv(sdk.EnvConfigScope))
	cfg := sdk.GetConfig()
	require.Equal(t, "mesh", cfg.GetBech32AccountAddrPrefix())
	require.Panics(t, func() { cfg.SetCoinType(1) }, "the configuration is sealed")
}

func TestDefaultGenesisUsesGpumeshDenoms(t *testing.T) {
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	cdc := a.AppCodec()
	gen := a.DefaultGenesis()

	var staking stakingtypes.GenesisState
	cdc.MustUnmarshalJSON(gen[stakingtypes.ModuleName], &staking)
	require.Equal(t, app.BondDenom, staking.Params.BondDenom)

	var mint minttypes.GenesisState
	cdc.MustUnmarshalJSON(gen[minttypes.ModuleName], &mint)
	require.Equal(t, app.BondDenom, mint.Params.MintDenom)

	var bank banktypes.GenesisState
	cdc.MustUnmarshalJSON(gen[banktypes.ModuleName], &bank)
	require.Len(t, bank.DenomMetadata, 1)
	require.Equal(t, app.BondDenom, bank.DenomMetadata[0].Base)
	require.Equal(t, "MESH", bank.DenomMetadata[0].Display)
	require.NoError(t, bank.DenomMetadata[0].Validate())

	for _, m := range marketModules {
		require.Contains(t, gen, m, "default genesis lacks %s", m)
	}
	require.NoError(t, a.BasicModuleManager.ValidateGenesis(cdc, a.TxConfig(), gen))
}

func TestBlockedAddresses(t *testing.T) {
	blocked := app.BlockedAddresses()
	for name := range app.ModuleAccountPermissions() {
		addr := authtypes.NewModuleAddress(name).String()
		if name == govtypes.ModuleName {
			require.False(t, blocked[addr], "gov must accept deposits")
			continue
		}
		require.True(t, blocked[addr], "module account %s must not receive sends", name)
	}
}

// A bank send signed like a wallet signs it, through the ante handler and
// FinalizeBlock: exact balances, fees none, and a bad signature rejected.
func TestBankSendThroughFinalizeBlock(t *testing.T) {
	a := apptest.New(t)
	alice, bob := a.Account("alice"), a.Account("bob")
	amount := sdk.NewCoins(sdk.NewCoin(app.StableDenom, math.NewInt(1000)))

	res := a.DeliverTx(alice, banktypes.NewMsgSend(alice.Address, bob.Address, amount))
	require.Equal(t, uint32(0), res.Code, res.Log)

	ctx := a.Ctx()
	require.Equal(t, apptest.StartingBalance.AmountOf(app.StableDenom).SubRaw(1000),
		a.BankKeeper.GetBalance(ctx, alice.Address, app.StableDenom).Amount)
	require.Equal(t, apptest.StartingBalance.AmountOf(app.StableDenom).AddRaw(1000),
		a.BankKeeper.GetBalance(ctx, bob.Address, app.StableDenom).Amount)

	// bob signs a send from alice's account: the signer check must reject it
	// and nothing moves.
	forged := a.SignTx(bob, banktypes.NewMsgSend(alice.Address, bob.Address, amount))
	block := a.NextBlock(forged)
	require.NotEqual(t, uint32(0), block.TxResults[0].Code)
	require.Equal(t, apptest.StartingBalance.AmountOf(app.StableDenom).AddRaw(1000),
		a.BankKeeper.GetBalance(a.Ctx(), bob.Address, app.StableDenom).Amount)
}

// Every market module is routed: its params query answers, and
// MsgUpdateParams is refused from anyone but the governance account and
// accepted (with its typed event) from it.
func TestMarketModulesRouteParams(t *testing.T) {
	a := apptest.New(t)
	govAuthority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	alice := a.Account("alice")

	for _, m := range marketModules {
		t.Run(m, func(t *testing.T) {
			queryPath := "/gpumesh." + m + ".v1.Query/Params"
			res, err := a.Query(t.Context(), &abci.RequestQuery{Path: queryPath})
			require.NoError(t, err)
			require.Equal(t, uint32(0), res.Code, res.Log)

			msg := updateParamsMsg(t, m, alice.Address.String())
			handler := a.MsgServiceRouter().Handler(msg)
			require.NotNil(t, handler, "no handler for %s", sdk.MsgTypeURL(msg))

			ctx := a.Ctx()
			_, err = handler(ctx, msg)
			require.ErrorIs(t, err, sdkerrors.ErrUnauthorized)

			msg = updateParamsMsg(t, m, govAuthority)
			ctx = a.Ctx()
			result, err := handler(ctx, msg)
			require.NoError(t, err)
			require.Len(t, result.Events, 1)
			ev := result.Events[0]
			require.Equal(t, "gpumesh."+m+".v1.EventParamsUpdated", ev.Type)
			require.Equal(t, "authority", ev.Attributes[0].Key)
			require.Equal(t, `"`+govAuthority+`"`, ev.Attributes[0].Value)
		})
	}
}

func updateParamsMsg(t *testing.T, module, authority string) sdk.Msg {
	t.Helper()
	switch module {
	case providertypes.ModuleName:
		return &providertypes.MsgUpdateParams{Authority: authority, Params: providertypes.DefaultParams()}
	case stakingslashtypes.ModuleName:
		return &stakingslashtypes.MsgUpdateParams{Authority: authority, Params: stakingslashtypes.DefaultParams()}
	case markettypes.ModuleName:
		return &markettypes.MsgUpdateParams{Authority: authority, Params: markettypes.DefaultParams()}
	case escrowtypes.ModuleName:
		return &escrowtypes.MsgUpdateParams{Authority: authority, Params: escrowtypes.DefaultParams()}
	case proofofcomputetypes.ModuleName:
		return &proofofcomputetypes.MsgUpdateParams{Authority: authority, Params: proofofcomputetypes.DefaultParams()}
	}
	t.Fatalf("unknown module %s", module)
	return nil
}

// Exporting a running chain and importing the export into a fresh app gives
// back the same state, module by module.
func TestExportImportRoundTrip(t *testing.T) {
	a := apptest.New(t)
	alice, bob := a.Account("alice"), a.Account("bob")
	res := a.DeliverTx(alice, banktypes.NewMsgSend(alice.Address, bob.Address,
		sdk.NewCoins(sdk.NewCoin(app.StableDenom, math.NewInt(4242)))))
	require.Equal(t, uint32(0), res.Code, res.Log)
	a.NextBlock()

	exported, err := a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	require.NotEmpty(t, exported.Validators)

	fresh := importGenesis(t, exported.AppState, a.BlockTime, exported.Height)

	// The imported state, read back before any block runs (a block would
	// mint inflation), must equal the export, module by module.
	ctx := fresh.NewContextLegacy(false, cmtproto.Header{ChainID: apptest.ChainID, Height: exported.Height})
	after, err := fresh.ModuleManager.ExportGenesisForModules(ctx, fresh.AppCodec(), nil)
	require.NoError(t, err)
	var before map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &before))
	require.Equal(t, len(before), len(after))
	for m := range before {
		require.JSONEq(t, string(before[m]), string(after[m]), "module %s differs after re-import", m)
	}
	bobBalance := fresh.BankKeeper.GetBalance(ctx, bob.Address, app.StableDenom)
	require.Equal(t, apptest.StartingBalance.AmountOf(app.StableDenom).AddRaw(4242), bobBalance.Amount)
}

// A zero-height export (what a chain restart from genesis uses) pays out
// every reward, keeps every balance and supply exact, and imports into a
// fresh chain.
func TestZeroHeightExport(t *testing.T) {
	a := apptest.New(t)
	for range 5 {
		a.NextBlock() // mint inflation, so there are rewards to pay out
	}
	ctx := a.Ctx()
	supplyBefore := a.BankKeeper.GetSupply(ctx, app.BondDenom)

	exported, err := a.ExportAppStateAndValidators(true, nil, nil)
	require.NoError(t, err)
	require.Zero(t, exported.Height)

	var state map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &state))
	var bank banktypes.GenesisState
	a.AppCodec().MustUnmarshalJSON(state[banktypes.ModuleName], &bank)
	require.Equal(t, supplyBefore.Amount, bank.Supply.AmountOf(app.BondDenom), "export must not create or destroy umesh")

	sum := sdk.NewCoins()
	for _, b := range bank.Balances {
		sum = sum.Add(b.Coins...)
	}
	require.Equal(t, bank.Supply.String(), sum.String(), "balances must add up to the supply")

	importGenesis(t, exported.AppState, a.BlockTime, 1)
}

// importGenesis starts a fresh app from an exported app state.
func importGenesis(t *testing.T, appState json.RawMessage, genesisTime time.Time, initialHeight int64) *app.App {
	t.Helper()
	fresh := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.EmptyAppOptions{},
		baseapp.SetChainID(apptest.ChainID))
	_, err := fresh.InitChain(&abci.RequestInitChain{
		ChainId:         apptest.ChainID,
		Time:            genesisTime,
		ConsensusParams: simtestutil.DefaultConsensusParams,
		AppStateBytes:   appState,
		InitialHeight:   initialHeight,
	})
	require.NoError(t, err)
	return fresh
}
