package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	"github.com/gpumesh/gpumesh/x/market/types"
)

func TestCreateOrder(t *testing.T) {
	f := newMarket(t)
	tenantUSDC := f.balance(f.tenant, testUSDC)
	m := f.orderMsg(f.tenant)
	m.Spec = types.ResourceSpec{
		GpuClasses: []string{"h100-sxm-80g", "h200"}, GpusPerNode: 2, Nodes: 1, MinVramMib: 80_000,
		Regions: []string{"US", "EU"}, MinReputation: 1000,
	}
	m.DurationSeconds, m.BidWindowSeconds = 7200, 30
	m.SshPubkey = fixtures.TenantSSHKey
	res, err := f.msgs.CreateOrder(f.ctx, m)
	require.NoError(t, err)
	id := res.Id
	require.Equal(t, types.OrderID{Tenant: f.tenant.String(), Seq: 1}, id)

	o := f.getOrder(id)
	require.Equal(t, types.Order{
		Id: id, Spec: m.Spec, MaxPricePerGpuHour: m.MaxPricePerGpuHour, Deposit: m.Deposit,
		DurationSeconds: 7200, BidWindowSeconds: 30, SshPubkey: m.SshPubkey, State: types.ORDER_STATE_OPEN,
		CreatedAt: f.now(), WindowEnd: f.now().Add(30e9), ClosedAt: o.ClosedAt,
	}, o)
	require.True(t, o.ClosedAt.IsZero())
	require.Equal(t, tenantUSDC.SubRaw(5_000_000), f.balance(f.tenant, testUSDC))
	require.Equal(t, math.NewInt(5_000_000), f.balance(f.escrowAddr, testUSDC))
	acc := f.account(id)
	require.Equal(t, escrowtypes.ACCOUNT_STATE_OPEN, acc.State)
	require.Equal(t, testUSDC, acc.Denom)
	seq, err := f.k.TenantSeqs.Get(f.ctx, f.tenant)
	require.NoError(t, err)
	require.Equal(t, uint64(1), seq)
	require.Equal(t, uint64(1), f.counters().OrdersCreated)
	ev := marketEvents[*types.EventOrderCreated](t, f.ctx)
	require.Equal(t, []*types.EventOrderCreated{{
		Id: id, Spec: m.Spec, MaxPricePerGpuHour: m.MaxPricePerGpuHour, Deposit: m.Deposit,
		BidWindowSeconds: 30, WindowEnd: o.WindowEnd,
	}}, ev)

	// Orders may be paid in umesh too.
	meshOrder := f.order(f.tenant, func(m *types.MsgCreateOrder) {
		m.MaxPricePerGpuHour, m.Deposit = sdk.NewInt64Coin(testMESH, 1_000_000), escrowtypes.DefaultMinDeposit
	})
	require.Equal(t, uint64(2), meshOrder.Seq)
}

// Every way an order can be refused by the keeper, with its error naming
// the field and value. Nothing moves on a refusal.
func TestCreateOrderErrors(t *testing.T) {
	f := newMarket(t)
	tenantUSDC := f.balance(f.tenant, testUSDC)
	tests := []struct {
		name string
		mut  func(m *types.MsgCreateOrder)
		err  error
		msg  string
	}{
		{"stateless check first", func(m *types.MsgCreateOrder) { m.Tenant = "nope" }, sdkerrors.ErrInvalidAddress, `tenant "nope"`},
		{"denom not allowed", func(m *types.MsgCreateOrder) {
			m.MaxPricePerGpuHour, m.Deposit = sdk.NewInt64Coin("uatom", 1), sdk.NewInt64Coin("uatom", 1_000)
		}, types.ErrDenomNotAllowed, `max_price_per_gpu_hour denom "uatom" is not an allowed payment denom`},
		{"unknown class", func(m *types.MsgCreateOrder) { m.Spec.GpuClasses = []string{"h100", "b200-sxm"} },
			types.ErrInvalidSpec, `gpu_classes[1] "b200-sxm" is neither a GPU class nor a model of one`},
		{"too many nodes", func(m *types.MsgCreateOrder) { m.Spec.Nodes = 33; m.Spec.GpusPerNode = 1 },
			types.ErrInvalidSpec, "nodes 33 is above max_nodes_per_order 32"},
		{"too many GPUs per node", func(m *types.MsgCreateOrder) { m.Spec.GpusPerNode = 17 },
			types.ErrInvalidSpec, "gpus_per_node 17 is above the providers' max_gpus_per_node 16"},
		{"window too long", func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 86_401 },
			types.ErrInvalidOrder, "bid_window_seconds 86401 is above max_bid_window_seconds 86400"},
		{"duration too long", func(m *types.MsgCreateOrder) { m.DurationSeconds = 31_536_001 },
			types.ErrInvalidOrder, "duration_seconds 31536001 is above max_duration_seconds 31536000"},
		// 2 GPUs × 2.5 USDC × 600 s / 3600 s = 833 333.33…, rounded up.
		{"deposit too small", func(m *types.MsgCreateOrder) { m.Deposit = sdk.NewInt64Coin(testUSDC, 833_333) },
			types.ErrDepositTooSmall, "deposit 833333uusdc is below 833334uusdc: 600 s (min_deposit_seconds) of 2 GPUs at 2500000uusdc per GPU-hour"},
		// x/market's minimum is met, x/escrow's min_deposits (1 USDC on a
		// local network) is not: an order needs both.
		{"deposit below min_deposits", func(m *types.MsgCreateOrder) { m.Deposit = sdk.NewInt64Coin(testUSDC, 999_999) },
			escrowtypes.ErrDepositTooSmall, "deposit 999999uusdc is below the min_deposits entry 1000000uusdc"},
		{"deposit beyond balance", func(m *types.MsgCreateOrder) { m.Deposit = sdk.NewInt64Coin(testUSDC, 2_000_000_000_000) },
			sdkerrors.ErrInsufficientFunds, "deposit 2000000000000uusdc into account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := f.orderMsg(f.tenant)
			tc.mut(m)
			_, err := f.msgs.CreateOrder(f.ctx, m)
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	require.Equal(t, tenantUSDC, f.balance(f.tenant, testUSDC))

	// The exact minimum, the larger of the two, is accepted: x/escrow's
	// 1 USDC here, and x/market's 600 s when the order is larger.
	id := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.Deposit = sdk.NewInt64Coin(testUSDC, 1_000_000) })
	require.Equal(t, uint64(1), id.Seq, "refused orders used no sequence")
	// 4 GPUs × 2.5 USDC × 600 s / 3600 s = 1 666 666.66…, rounded up.
	m := f.orderMsg(f.tenant)
	m.Spec.GpusPerNode, m.Deposit = 4, sdk.NewInt64Coin(testUSDC, 1_666_666)
	_, err := f.msgs.CreateOrder(f.ctx, m)
	require.ErrorIs(t, err, types.ErrDepositTooSmall)
	m.Deposit = sdk.NewInt64Coin(testUSDC, 1_666_667)
	res, err := f.msgs.CreateOrder(f.ctx, m)
	require.NoError(t, err)
	require.Equal(t, uint64(2), res.Id.Seq)
}

// Closing an open order refunds its deposit and every bid deposit; bids
// close ORDER_CLOSED and the order leaves the window queue.
func TestCloseOrder(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	tenantUSDC, p1Mesh, p2Mesh := f.balance(f.tenant, testUSDC), f.balance(f.p1, testMESH), f.balance(f.p2, testMESH)
	id := f.order(f.tenant, nil)
	f.mustBid(f.p1, id, 2_000_000, f.gpusOf(f.p1, 0, 2))
	f.mustBid(f.p2, id, 2_100_000, f.gpusOf(f.p2, 0, 2))
	f.advance(10)
	_, err := f.msgs.CloseOrder(f.ctx, &types.MsgCloseOrder{Tenant: f.tenant.String(), Seq: id.Seq})
	require.NoError(t, err)

	o := f.getOrder(id)
	require.Equal(t, types.ORDER_STATE_CLOSED, o.State)
	require.Equal(t, f.now(), o.ClosedAt)
	require.Zero(t, o.OpenBids)
	for _, p := range []sdk.AccAddress{f.p1, f.p2} {
		b := f.getBid(id, p)
		require.Equal(t, types.BID_STATE_CLOSED, b.State)
		require.Equal(t, types.BID_CLOSE_REASON_ORDER_CLOSED, b.CloseReason)
	}
	require.Equal(t, tenantUSDC, f.balance(f.tenant, testUSDC))
	require.Equal(t, p1Mesh, f.balance(f.p1, testMESH))
	require.Equal(t, p2Mesh, f.balance(f.p2, testMESH))
	require.Equal(t, escrowtypes.ACCOUNT_STATE_CLOSED, f.account(id).State)
	require.Zero(t, f.queued(), "the order left the window queue")
	require.Len(t, marketEvents[*types.EventBidClosed](t, f.ctx), 2)
	require.Equal(t, []*types.EventOrderClosed{{Id: id, State: types.ORDER_STATE_CLOSED}}, marketEvents[*types.EventOrderClosed](t, f.ctx))

	// The window end passes without effect.
	f.advance(60)
	f.endBlock()
	require.Equal(t, types.ORDER_STATE_CLOSED, f.getOrder(id).State)
	require.Zero(t, f.counters().OrdersExpired)

	tests := []struct {
		name   string
		tenant sdk.AccAddress
		seq    uint64
		err    error
		msg    string
	}{
		{"closed already", f.tenant, id.Seq, types.ErrOrderNotOpen, "order " + id.String() + " is ORDER_STATE_CLOSED"},
		{"not found", f.tenant, 5, types.ErrOrderNotFound, "order " + f.tenant.String() + "/5"},
		{"another tenant's seq", f.tenant2, id.Seq, types.ErrOrderNotFound, "order " + f.tenant2.String() + "/1"},
		{"seq zero", f.tenant, 0, types.ErrInvalidID, "seq must be at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.msgs.CloseOrder(f.ctx, &types.MsgCloseOrder{Tenant: tc.tenant.String(), Seq: tc.seq})
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	// A matched order cannot be closed (its lease can).
	instant := f.order(f.tenant, func(m *types.MsgCreateOrder) { m.BidWindowSeconds = 0 })
	f.mustBid(f.p1, instant, 2_000_000, f.gpusOf(f.p1, 0, 2))
	_, err = f.msgs.CloseOrder(f.ctx, &types.MsgCloseOrder{Tenant: f.tenant.String(), Seq: instant.Seq})
	require.ErrorIs(t, err, types.ErrOrderNotOpen)
	require.ErrorContains(t, err, "ORDER_STATE_MATCHED")
}

func TestUpdateParams(t *testing.T) {
	f := newMarket(t)
	p := types.DefaultParams()
	p.MaxBidsPerOrder = 5
	_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.tenant.String(), Params: p})
	require.ErrorIs(t, err, sdkerrors.ErrUnauthorized)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: types.Params{}})
	require.ErrorIs(t, err, types.ErrInvalidParams)
	_, err = f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: p})
	require.NoError(t, err)
	got, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	require.Equal(t, p, got)
}
