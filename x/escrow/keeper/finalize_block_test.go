package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Through real transactions and blocks: an instant order becomes a lease,
// a third party tops up its escrow with MsgDeposit, the provider withdraws
// exactly what the seconds are worth with MsgWithdraw, and x/market's
// EndBlock closes the lease in the first block at or after runs_dry_at.
func TestEscrowThroughBlocks(t *testing.T) {
	a := apptest.New(t)
	alice, bob, p1, p2 := a.Account("alice"), a.Account("bob"), a.Account("provider1"), a.Account("provider2")
	ok := func(res interface {
		GetCode() uint32
		GetLog() string
	},
	) {
		t.Helper()
		require.Equal(t, uint32(0), res.GetCode(), res.GetLog())
	}

	ok(a.DeliverTx(p1, fixtures.Register(p1.Address, "p1", "US")))
	ok(a.DeliverTx(p1, &providertypes.MsgSetInventory{Owner: p1.Address.String(), Nodes: fixtures.H100x8("p1")}))
	bond, err := a.StakingSlashKeeper.RequiredBond(a.Ctx(), 8)
	require.NoError(t, err)
	ok(a.DeliverTx(p1, &stakingslashtypes.MsgBond{Provider: p1.Address.String(), Amount: sdk.NewCoin(umesh, bond)}))

	// 2 H100 at 3.6 USDC per GPU-hour (2000 uusdc per second), 600 s of
	// deposit: the market's minimum.
	ok(a.DeliverTx(alice, &markettypes.MsgCreateOrder{
		Tenant:             alice.Address.String(),
		Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 2, Nodes: 1},
		MaxPricePerGpuHour: coin(uusdc, 3_600_000),
		Deposit:            coin(uusdc, 1_200_000),
	}))
	acc, err := a.EscrowKeeper.GetAccount(a.Ctx(), alice.Address, 1)
	require.NoError(t, err)
	require.Equal(t, types.ACCOUNT_STATE_OPEN, acc.State)

	ok(a.DeliverTx(p1, &markettypes.MsgCreateBid{
		Provider: p1.Address.String(), OrderId: markettypes.NewOrderID(alice.Address, 1),
		PricePerGpuHour: coin(uusdc, 3_600_000),
		Gpus:            []string{fixtures.GPUUUID("p1", 0), fixtures.GPUUUID("p1", 1)},
		Deposit:         markettypes.DefaultBidDeposit,
	}))
	acc, err = a.EscrowKeeper.GetAccount(a.Ctx(), alice.Address, 1)
	require.NoError(t, err)
	require.Equal(t, types.ACCOUNT_STATE_STREAMING, acc.State, "the instant order is leased in the block of its bid")
	start := acc.StreamStart.Unix()
	require.Equal(t, a.BlockTime.Unix(), start)
	require.Equal(t, start+600, acc.RunsDryAt.Unix())

	before := a.BankKeeper.GetBalance(a.Ctx(), p1.Address, uusdc).Amount

	// bob adds 5 minutes, one block later: the account settles first.
	id := types.NewAccountID(alice.Address, 1)
	ok(a.DeliverTx(bob, &types.MsgDeposit{Sender: bob.Address.String(), Id: id, Amount: coin(uusdc, 600_000)}))
	acc, err = a.EscrowKeeper.GetAccount(a.Ctx(), alice.Address, 1)
	require.NoError(t, err)
	require.Equal(t, start+900, acc.RunsDryAt.Unix())

	// Wrong denom, wrong payee: refused with escrow's codes.
	res := a.DeliverTx(bob, &types.MsgDeposit{Sender: bob.Address.String(), Id: id, Amount: coin(umesh, 1)})
	require.Equal(t, types.ErrWrongDenom.ABCICode(), res.Code, res.Log)
	require.Equal(t, types.ModuleName, res.Codespace)
	res = a.DeliverTx(p2, &types.MsgWithdraw{Provider: p2.Address.String(), LeaseIds: []types.AccountID{id}})
	require.Equal(t, types.ErrNotPayee.ABCICode(), res.Code, res.Log)
	res = a.DeliverTx(p1, &types.MsgWithdraw{Provider: p1.Address.String(), LeaseIds: []types.AccountID{id, id}})
	require.Equal(t, types.ErrInvalidWithdraw.ABCICode(), res.Code, res.Log)

	// The provider withdraws in the block at start + N: in all, since the
	// start, exactly 2000 × N gross, minus 10% and 0.25%.
	for i := 0; i < 6; i++ {
		a.NextBlock()
	}
	ok(a.DeliverTx(p1, &types.MsgWithdraw{Provider: p1.Address.String(), LeaseIds: []types.AccountID{id}}))
	n := a.BlockTime.Unix() - start
	gross := 2000 * n
	got := a.BankKeeper.GetBalance(a.Ctx(), p1.Address, uusdc).Amount.Sub(before)
	require.Equal(t, math.NewInt(gross-gross/10-gross*25/10_000).String(), got.String(), "after %d s", n)

	// Run blocks until the chain closes the lease for insufficient funds.
	for a.BlockTime.Unix() < start+900 {
		a.NextBlock()
	}
	acc, err = a.EscrowKeeper.GetAccount(a.Ctx(), alice.Address, 1)
	require.NoError(t, err)
	require.Equal(t, types.ACCOUNT_STATE_CLOSED, acc.State)
	require.Less(t, acc.ClosedAt.Unix()-(start+900), int64(apptest.BlockInterval.Seconds()), "closed in the first block at or after runs_dry_at")
	requireInt(t, 1_800_000, acc.Paid)
	requireInt(t, 0, acc.Refunded)
	requireInt(t, 180_000+4_500, acc.Fees, "the fees of one settlement of 1.8 USDC")
	lease, err := a.MarketKeeper.Leases.Get(a.Ctx(), collections.Join(alice.Address, uint64(1)))
	require.NoError(t, err)
	require.Equal(t, markettypes.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS, lease.CloseReason)
	require.True(t, a.BankKeeper.GetBalance(a.Ctx(), authtypes.NewModuleAddress(types.ModuleName), uusdc).IsZero())
	require.True(t, a.BankKeeper.GetBalance(a.Ctx(), authtypes.NewModuleAddress(app.MarketReserveAccount), uusdc).Amount.Equal(math.NewInt(4_500)))
	require.NoError(t, a.CheckInvariants(a.Ctx()))
}
