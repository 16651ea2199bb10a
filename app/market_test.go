package app_test

import (
	"encoding/json"
	"testing"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// A chain with live market state — an open order with a bid, an active
// lease with a duration and a settled escrow — exports and imports into a
// fresh app with every module identical, and the imported chain goes on:
// the lease still expires at its end time and pays exactly its duration.
func TestMarketGenesisRoundTripWithLiveLeases(t *testing.T) {
	a := apptest.New(t)
	alice, p1 := a.Account("alice"), a.Account("provider1")
	inv := fixtures.H100x8("genesis-p1")
	deliver := func(from apptest.Account, msg sdk.Msg) {
		t.Helper()
		res := a.DeliverTx(from, msg)
		require.Equal(t, uint32(0), res.Code, res.Log)
	}
	deliver(p1, fixtures.Register(p1.Address, "p1", "US-east1"))
	deliver(p1, &providertypes.MsgSetInventory{Owner: p1.Address.String(), Nodes: inv})
	params, err := a.StakingSlashKeeper.GetParams(a.Ctx())
	require.NoError(t, err)
	deliver(p1, &stakingslashtypes.MsgBond{Provider: p1.Address.String(),
		Amount: sdk.NewCoin(app.BondDenom, params.MinBondPerGpu.MulRaw(8))})

	usdc := func(n int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, math.NewInt(n)) }
	spec := markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 2, Nodes: 1}
	// alice/1: a one-hour instant order, leased by provider1's first bid.
	deliver(alice, &markettypes.MsgCreateOrder{Tenant: alice.Address.String(), Spec: spec,
		MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(5_000_000), DurationSeconds: 3600})
	id1 := markettypes.NewOrderID(alice.Address, 1)
	deliver(p1, &markettypes.MsgCreateBid{Provider: p1.Address.String(), OrderId: id1,
		PricePerGpuHour: usdc(2_000_000), Gpus: []string{inv[0].Gpus[0].Uuid, inv[0].Gpus[1].Uuid},
		Deposit: sdk.NewCoin(app.BondDenom, math.NewInt(5_000_000))})
	// alice/2: a windowed order with one open bid.
	deliver(alice, &markettypes.MsgCreateOrder{Tenant: alice.Address.String(), Spec: spec,
		MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(5_000_000), BidWindowSeconds: 600})
	deliver(p1, &markettypes.MsgCreateBid{Provider: p1.Address.String(), OrderId: markettypes.NewOrderID(alice.Address, 2),
		PricePerGpuHour: usdc(2_100_000), Gpus: []string{inv[0].Gpus[2].Uuid, inv[0].Gpus[3].Uuid},
		Deposit: sdk.NewCoin(app.BondDenom, math.NewInt(5_000_000))})
	a.NextBlock()
	lease, err := a.MarketKeeper.GetLease(a.Ctx(), id1)
	require.NoError(t, err)
	require.Equal(t, markettypes.LEASE_STATE_ACTIVE, lease.State)
	require.NoError(t, a.CheckInvariants(a.Ctx()))

	exported, err := a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	fresh := importGenesis(t, exported.AppState, a.BlockTime, exported.Height)
	ctx := fresh.NewContextLegacy(false, cmtproto.Header{ChainID: apptest.ChainID, Height: exported.Height, Time: a.BlockTime})
	after, err := fresh.ModuleManager.ExportGenesisForModules(ctx, fresh.AppCodec(), nil)
	require.NoError(t, err)
	var before map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &before))
	for _, m := range []string{markettypes.ModuleName, "escrow", providertypes.ModuleName, stakingslashtypes.ModuleName} {
		require.JSONEq(t, string(before[m]), string(after[m]), "module %s differs after re-import", m)
	}
	require.NoError(t, fresh.CheckInvariants(ctx), "the rebuilt time indexes and counters are consistent")

	// The imported chain closes the lease at its end time, paying exactly
	// one hour of two GPUs at 2.00 USDC.
	endCtx := ctx.WithBlockTime(lease.EndTime)
	require.NoError(t, fresh.MarketKeeper.EndBlocker(endCtx))
	closed, err := fresh.MarketKeeper.GetLease(endCtx, id1)
	require.NoError(t, err)
	require.Equal(t, markettypes.LEASE_CLOSE_REASON_EXPIRED, closed.CloseReason)
	acct, err := fresh.EscrowKeeper.GetAccount(endCtx, alice.Address, 1)
	require.NoError(t, err)
	require.Equal(t, math.NewInt(4_000_000), acct.Paid)
	require.Equal(t, math.NewInt(1_000_000), acct.Refunded)
	require.NoError(t, fresh.CheckInvariants(endCtx))
}
