package keeper_test

import (
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Storms: more entries due at once than an EndBlock may process. Each
// queue's cap is set to stormCap in genesis and stormSize entries fall due
// together: every block processes at most the cap, earliest due first,
// the rest carry over, everything is processed within ceil(12/5) = 3
// blocks, and every deposit is paid or refunded exactly.
const (
	stormCap    = 5
	stormSize   = 12
	stormBlocks = (stormSize + stormCap - 1) / stormCap
)

// withMarketParams changes x/market's genesis params.
func withMarketParams(mut func(p *types.Params)) apptest.Option {
	return apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
		var gen types.GenesisState
		if err := cdc.UnmarshalJSON(state[types.ModuleName], &gen); err != nil {
			return err
		}
		mut(&gen.Params)
		bz, err := cdc.MarshalJSON(&gen)
		state[types.ModuleName] = bz
		return err
	})
}

// blockEvents returns the typed events of type T among a block's events.
// FinalizeBlock tags begin and end block events with a "mode" attribute,
// which is not part of the typed event.
func blockEvents[T proto.Message](t *testing.T, events []abci.Event) []T {
	t.Helper()
	var out []T
	for _, e := range events {
		attrs := make([]abci.EventAttribute, 0, len(e.Attributes))
		for _, a := range e.Attributes {
			if a.Key != "mode" {
				attrs = append(attrs, a)
			}
		}
		msg, err := sdk.ParseTypedEvent(abci.Event{Type: e.Type, Attributes: attrs})
		if err != nil {
			continue // an untyped event (bank's coin_spent, …)
		}
		if m, ok := msg.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

// 12 orders share one window end, the window-end cap is 5: the auctions
// run 5, 5 and then the rest, in (window end, tenant, seq) order, in the
// EndBlocks of real blocks. A carried-over order takes no more bids, its
// tenant may still close it, every expired order's deposit comes back in
// full and every leased order's deposit is in its escrow account.
func TestWindowEndStormThroughBlocks(t *testing.T) {
	a := apptest.New(t, withMarketParams(func(p *types.Params) { p.MaxWindowEndsPerBlock = stormCap }))
	alice, p1, p2 := a.Account("alice"), a.Account("provider1"), a.Account("provider2")
	deliver := func(signer apptest.Account, msgs ...sdk.Msg) {
		t.Helper()
		res := a.DeliverTx(signer, msgs...)
		require.Equal(t, uint32(0), res.Code, res.Log)
	}
	for _, p := range []apptest.Account{p1, p2} {
		deliver(p, fixtures.Register(p.Address, p.Name, "US"))
		deliver(p, &providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: fixtures.H100x8(p.Name)})
		bond, err := a.StakingSlashKeeper.RequiredBond(a.Ctx(), 8)
		require.NoError(t, err)
		deliver(p, &stakingslashtypes.MsgBond{Provider: p.Address.String(), Amount: sdk.NewCoin(testMESH, bond)})
	}
	t.Cleanup(func() { require.NoError(t, a.CheckInvariants(a.Ctx())) })

	deposit := sdk.NewInt64Coin(testUSDC, 1_000_000) // the minimum: 1 USDC
	tenantBefore := a.BankKeeper.GetBalance(a.Ctx(), alice.Address, testUSDC).Amount
	orders := make([]sdk.Msg, stormSize)
	ids := make([]types.OrderID, stormSize)
	for i := range orders {
		orders[i] = &types.MsgCreateOrder{
			Tenant: alice.Address.String(), Spec: types.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1},
			MaxPricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_500_000), Deposit: deposit, BidWindowSeconds: 30,
		}
		ids[i] = types.NewOrderID(alice.Address, uint64(i+1))
	}
	deliver(alice, orders...)
	// provider1 bids on the first four orders, one GPU each.
	bids := make([]sdk.Msg, 4)
	for i := range bids {
		bids[i] = &types.MsgCreateBid{Provider: p1.Address.String(), OrderId: ids[i],
			PricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_000_000), Gpus: []string{fixtures.GPUUUID(p1.Name, i)},
			Deposit: types.DefaultBidDeposit}
	}
	deliver(p1, bids...)
	windowEnd, err := a.MarketKeeper.GetOrder(a.Ctx(), ids[0])
	require.NoError(t, err)
	for _, id := range ids {
		o, err := a.MarketKeeper.GetOrder(a.Ctx(), id)
		require.NoError(t, err)
		require.Equal(t, windowEnd.WindowEnd, o.WindowEnd, "one window end for all")
	}
	for a.BlockTime.Add(apptest.BlockInterval).Before(windowEnd.WindowEnd) {
		a.NextBlock()
	}

	// Block 1 reaches the window end; its transaction, a bid on the last
	// order, comes too late even though that order is still OPEN.
	late := a.SignTx(p2, &types.MsgCreateBid{Provider: p2.Address.String(), OrderId: ids[stormSize-1],
		PricePerGpuHour: sdk.NewInt64Coin(testUSDC, 1_000_000), Gpus: []string{fixtures.GPUUUID(p2.Name, 0)},
		Deposit: types.DefaultBidDeposit})
	var perBlock []int
	var started []*types.EventLeaseStarted
	var closed []*types.EventOrderClosed
	record := func(res *abci.ResponseFinalizeBlock) {
		s := blockEvents[*types.EventLeaseStarted](t, res.Events)
		c := blockEvents[*types.EventOrderClosed](t, res.Events)
		perBlock = append(perBlock, len(s)+len(c))
		started, closed = append(started, s...), append(closed, c...)
	}
	res := a.NextBlock(late)
	require.False(t, a.BlockTime.Before(windowEnd.WindowEnd))
	require.Equal(t, types.ErrWindowClosed.ABCICode(), res.TxResults[0].Code, res.TxResults[0].Log)
	record(res)
	for i := range 2 * stormCap {
		state := types.ORDER_STATE_OPEN
		if i < stormCap {
			state = types.ORDER_STATE_MATCHED
			if i >= 4 {
				state = types.ORDER_STATE_EXPIRED
			}
		}
		o, err := a.MarketKeeper.GetOrder(a.Ctx(), ids[i])
		require.NoError(t, err)
		require.Equal(t, state, o.State, "order %d after block 1: the first %d in seq order", i+1, stormCap)
	}

	// Block 2: the tenant withdraws a carried-over order herself.
	res = a.NextBlock(a.SignTx(alice, &types.MsgCloseOrder{Tenant: alice.Address.String(), Seq: ids[stormSize-2].Seq}))
	require.Equal(t, uint32(0), res.TxResults[0].Code, res.TxResults[0].Log)
	record(res)
	for len(started)+len(closed) < stormSize-1 {
		require.Less(t, len(perBlock), stormBlocks, "everything is processed within ceil(12/5) blocks")
		record(a.NextBlock())
	}
	t.Logf("auctions per block: %v", perBlock)
	for i, n := range perBlock {
		require.LessOrEqual(t, n, stormCap, "block %d", i+1)
	}
	require.Equal(t, []int{5, 5, 1}, perBlock)

	require.Len(t, started, 4)
	for i, s := range started {
		require.Equal(t, ids[i], s.Id)
		lease, err := a.MarketKeeper.GetLease(a.Ctx(), ids[i])
		require.NoError(t, err)
		require.Equal(t, types.LEASE_STATE_ACTIVE, lease.State)
	}
	expired := 0
	for _, c := range closed {
		require.Equal(t, types.ORDER_STATE_EXPIRED, c.State, "order %s", c.Id)
		expired++
	}
	require.Equal(t, stormSize-4-1, expired, "all but the four leased and the one the tenant closed")
	for i, id := range ids {
		tenant, err := sdk.AccAddressFromBech32(id.Tenant)
		require.NoError(t, err)
		acc, err := a.EscrowKeeper.GetAccount(a.Ctx(), tenant, id.Seq)
		require.NoError(t, err)
		if i < 4 {
			require.Equal(t, escrowtypes.ACCOUNT_STATE_STREAMING, acc.State)
			require.Equal(t, deposit.Amount, acc.Deposited)
			continue
		}
		require.Equal(t, escrowtypes.ACCOUNT_STATE_CLOSED, acc.State)
		require.Equal(t, deposit.Amount, acc.Refunded, "order %d refunded in full", i+1)
	}
	require.Equal(t, tenantBefore.Sub(deposit.Amount.MulRaw(4)), a.BankKeeper.GetBalance(a.Ctx(), alice.Address, testUSDC).Amount,
		"the tenant paid only the four leased deposits into escrow")
	require.Zero(t, queuedWindows(t, a))
}

// queuedWindows is the number of window queue entries of the committed
// state.
func queuedWindows(t *testing.T, a *apptest.App) int {
	t.Helper()
	n := 0
	require.NoError(t, a.MarketKeeper.WindowQueue.Walk(a.Ctx(), nil, func(types.TimeKey) (bool, error) {
		n++
		return false, nil
	}))
	return n
}

// stormLeases starts n instant one-GPU leases of the tenant changed by mut,
// answered by provider1 (then provider2 when provider1's 8 GPUs are taken)
// at price, all in the fixture's current block.
func (f *marketFixture) stormLeases(n int, price int64, mut func(m *types.MsgCreateOrder)) []types.OrderID {
	f.t.Helper()
	ids := make([]types.OrderID, n)
	for i := range ids {
		id := f.order(f.tenant, func(m *types.MsgCreateOrder) {
			m.Spec = types.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1}
			m.BidWindowSeconds = 0
			mut(m)
		})
		p, gpu := f.p1, i
		if i >= 8 {
			p, gpu = f.p2, i-8
		}
		require.True(f.t, f.mustBid(p, id, price, f.gpusOf(p, gpu, 1)).LeaseStarted)
		ids[i] = id
	}
	return ids
}

// closesPerBlock runs EndBlocks, one block (5 s) apart from the
// fixture's current block time, until want leases have closed or blocks
// blocks have run; it returns the EventLeaseClosed of each block.
func (f *marketFixture) closesPerBlock(want, blocks int) [][]*types.EventLeaseClosed {
	f.t.Helper()
	var out [][]*types.EventLeaseClosed
	total := 0
	for len(out) < blocks && total < want {
		if len(out) > 0 {
			f.advance(int64(apptest.BlockInterval / time.Second))
		}
		f.endBlock()
		closed := marketEvents[*types.EventLeaseClosed](f.t, f.ctx)
		out = append(out, closed)
		total += len(closed)
	}
	return out
}

// 12 leases end in the same second, the lease-end cap is 5: 5, 5 and 2
// expire in three blocks, in seq order. A lease closed a block or two
// after its end pays exactly its duration, as settlement stops at the
// stream end, and the tenant may close a carried-over lease herself, at
// the same price.
func TestLeaseEndStorm(t *testing.T) {
	f := newMarket(t, withMarketParams(func(p *types.Params) { p.MaxLeaseEndsPerBlock = stormCap }))
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	tenantBefore := f.balance(f.tenant, testUSDC)
	const price, hour = 2_000_000, 3600
	deposit := sdk.NewInt64Coin(testUSDC, 5_000_000) // lasts 2.5 hours: never runs dry here
	ids := f.stormLeases(stormSize, price, func(m *types.MsgCreateOrder) {
		m.Deposit, m.DurationSeconds = deposit, hour
	})
	end := f.getLease(ids[0]).EndTime
	for _, id := range ids {
		require.Equal(t, end, f.getLease(id).EndTime)
	}

	f.at(end)
	blocks := f.closesPerBlock(stormCap, 1)
	require.Len(t, blocks[0], stormCap)
	// The provider closes the last lease, carried over past its end: it is
	// due, so it expires, and nobody is slashed for closing it.
	f.advance(5)
	last := ids[stormSize-1]
	provider, err := sdk.AccAddressFromBech32(f.getLease(last).Provider)
	require.NoError(t, err)
	bonded := f.bondedOf(provider)
	require.Equal(t, f.slashParams().RequiredBond(8), bonded)
	_, err = f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: provider.String(), LeaseId: last})
	require.NoError(t, err)
	require.Equal(t, types.LEASE_CLOSE_REASON_EXPIRED, f.getLease(last).CloseReason)
	require.Equal(t, bonded, f.bondedOf(provider), "no early-close slash")
	f.ctx = f.ctx.WithEventManager(sdk.NewEventManager())
	blocks = append(blocks, f.closesPerBlock(stormSize-stormCap-1, stormBlocks-1)...)

	var got []types.OrderID
	for i, b := range blocks {
		require.LessOrEqual(t, len(b), stormCap, "block %d", i+1)
		for _, c := range b {
			require.Equal(t, types.LEASE_CLOSE_REASON_EXPIRED, c.Reason)
			got = append(got, c.Id)
		}
	}
	require.Equal(t, ids[:stormSize-1], got, "in due order, each once, within ceil(12/5) blocks")
	owed := owedFor(price, 1, hour)
	for _, id := range ids {
		acc := f.account(id)
		require.Equal(t, escrowtypes.ACCOUNT_STATE_CLOSED, acc.State)
		require.Equal(t, owed, acc.Paid, "lease %s pays exactly its hour", id)
		require.Equal(t, deposit.Amount.Sub(owed), acc.Refunded)
	}
	require.Equal(t, tenantBefore.Sub(owed.MulRaw(stormSize)), f.balance(f.tenant, testUSDC))
	require.Equal(t, []string{""}, f.allocatedTo(f.gpusOf(f.p2, 3, 1)), "GPUs released")
}

// 12 escrow accounts run dry in the same second, the dry-close cap is 5:
// 5, 5 and 2 close INSUFFICIENT_FUNDS in three blocks; each pays exactly
// its deposit, not a unit more for the blocks it waited, and a carried-over
// dry account takes no deposit.
func TestDryStorm(t *testing.T) {
	f := newMarket(t, withMarketParams(func(p *types.Params) { p.MaxDryClosesPerBlock = stormCap }))
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	tenantBefore, p1Before := f.balance(f.tenant, testUSDC), f.balance(f.p1, testUSDC)
	deposit := sdk.NewInt64Coin(testUSDC, 1_000_000) // 1440 s at 2.5 USDC per GPU-hour
	ids := f.stormLeases(stormSize, 2_500_000, func(m *types.MsgCreateOrder) { m.Deposit = deposit })
	dry := f.account(ids[0]).RunsDryAt
	require.Equal(t, f.now().Add(1440*time.Second), dry)

	f.at(dry)
	blocks := f.closesPerBlock(stormCap, 1)
	_, err := f.app.EscrowKeeper.Deposit(f.ctx, f.tenant2, f.tenant, ids[stormSize-1].Seq, deposit)
	require.ErrorIs(t, err, escrowtypes.ErrAccountDepleted, "a carried-over dry account stays dry")
	f.advance(5)
	blocks = append(blocks, f.closesPerBlock(stormSize-stormCap, stormBlocks-1)...)

	var got []types.OrderID
	for i, b := range blocks {
		require.LessOrEqual(t, len(b), stormCap, "block %d", i+1)
		for _, c := range b {
			require.Equal(t, types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS, c.Reason)
			require.Equal(t, deposit, c.Paid)
			got = append(got, c.Id)
		}
	}
	require.Equal(t, ids, got, "in due order, each once, within ceil(12/5) blocks")
	require.Equal(t, tenantBefore.Sub(deposit.Amount.MulRaw(stormSize)), f.balance(f.tenant, testUSDC))
	share, _, _ := f.split(testUSDC, deposit.Amount)
	require.Equal(t, p1Before.Add(share.MulRaw(8)), f.balance(f.p1, testUSDC), "provider1 served 8 of them")
}

// A lease whose deposit runs out exactly at its end is due in both the
// lease-end queue and the dry queue. With both caps at 5 and 12 such
// leases, block 1 expires 5 through the lease-end queue and 5 more
// through the dry queue, block 2 the last 2: each lease closes once,
// EXPIRED (as it would without caps), and pays exactly its deposit.
func TestLeaseDueInBothQueues(t *testing.T) {
	f := newMarket(t, withMarketParams(func(p *types.Params) {
		p.MaxLeaseEndsPerBlock, p.MaxDryClosesPerBlock = stormCap, stormCap
	}))
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	f.onboard(f.p2, "US", fixtures.H100x8("p2"))
	tenantBefore := f.balance(f.tenant, testUSDC)
	deposit := sdk.NewInt64Coin(testUSDC, 1_000_000)
	ids := f.stormLeases(stormSize, 2_500_000, func(m *types.MsgCreateOrder) { m.Deposit, m.DurationSeconds = deposit, 1440 })
	lease := f.getLease(ids[0])
	require.Equal(t, lease.EndTime, f.account(ids[0]).RunsDryAt, "due in both queues at once")

	f.at(lease.EndTime)
	blocks := f.closesPerBlock(stormSize, stormBlocks)
	require.Len(t, blocks, 2)
	require.Len(t, blocks[0], 2*stormCap, "one cap's worth from each queue")
	var got []types.OrderID
	for _, b := range blocks {
		for _, c := range b {
			require.Equal(t, types.LEASE_CLOSE_REASON_EXPIRED, c.Reason, "lease %s", c.Id)
			require.Equal(t, deposit, c.Paid)
			got = append(got, c.Id)
		}
	}
	require.Equal(t, ids, got, "each lease closed once, in due order")
	require.Equal(t, tenantBefore.Sub(deposit.Amount.MulRaw(stormSize)), f.balance(f.tenant, testUSDC))
}

// An order storm at 1 unit per GPU-hour with 1-unit deposits passes
// x/market's min_deposit_seconds check (ceil(1 × 600 / 3600) = 1) but not
// x/escrow's min_deposits: the transaction is refused naming the minimum,
// and nothing is queued or paid.
func TestOrderStormBelowMinDeposit(t *testing.T) {
	a := apptest.New(t)
	alice := a.Account("alice")
	before := a.BankKeeper.GetAllBalances(a.Ctx(), alice.Address)
	for _, c := range []struct {
		deposit sdk.Coin
		want    string
	}{
		{sdk.NewInt64Coin(testUSDC, 1), "deposit 1uusdc is below the min_deposits entry 1000000uusdc"},
		{sdk.NewInt64Coin(testUSDC, 999_999), "deposit 999999uusdc is below the min_deposits entry 1000000uusdc"},
		{sdk.NewInt64Coin(testMESH, 9_999_999), "deposit 9999999umesh is below the min_deposits entry 10000000umesh"},
	} {
		storm := make([]sdk.Msg, 50)
		for i := range storm {
			storm[i] = &types.MsgCreateOrder{
				Tenant: alice.Address.String(), Spec: types.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1},
				MaxPricePerGpuHour: sdk.NewCoin(c.deposit.Denom, math.OneInt()), Deposit: c.deposit,
				BidWindowSeconds: 86_400,
			}
		}
		res := a.DeliverTx(alice, storm...)
		require.Equal(t, escrowtypes.ErrDepositTooSmall.ABCICode(), res.Code, res.Log)
		require.Equal(t, escrowtypes.ModuleName, res.Codespace)
		require.Contains(t, res.Log, c.want)
	}
	require.Equal(t, before, a.BankKeeper.GetAllBalances(a.Ctx(), alice.Address), "nothing paid (zero-fee test transactions)")
	require.Zero(t, queuedWindows(t, a))
	_, err := a.MarketKeeper.GetOrder(a.Ctx(), types.NewOrderID(alice.Address, 1))
	require.ErrorIs(t, err, types.ErrOrderNotFound)
	require.NoError(t, a.CheckInvariants(a.Ctx()))
}

// The order-size params bound what the keeper accepts below the protocol's
// hard limits: nodes × gpus_per_node, regions and GPU classes, each error
// naming the param and the value; an order at the params passes.
func TestOrderSizeParams(t *testing.T) {
	f := newMarket(t, withMarketParams(func(p *types.Params) {
		p.MaxGpusPerOrder, p.MaxRegionsPerOrder, p.MaxClassesPerOrder = 4, 2, 2
	}))
	for _, tc := range []struct {
		name string
		mut  func(m *types.MsgCreateOrder)
		want string
	}{
		{"gpus", func(m *types.MsgCreateOrder) { m.Spec.Nodes, m.Spec.GpusPerNode = 1, 5 },
			"nodes 1 × gpus_per_node 5 = 5 GPUs is above max_gpus_per_order 4"},
		{"regions", func(m *types.MsgCreateOrder) { m.Spec.Regions = []string{"US", "DE", "FR"} },
			"regions: 3 is above max_regions_per_order 2"},
		{"classes", func(m *types.MsgCreateOrder) { m.Spec.GpuClasses = []string{"h100", "h200", "a100"} },
			"gpu_classes: 3 is above max_classes_per_order 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := f.orderMsg(f.tenant)
			tc.mut(m)
			require.NoError(t, m.ValidateBasic(), "within the hard limits")
			_, err := f.msgs.CreateOrder(f.ctx, m)
			require.ErrorIs(t, err, types.ErrInvalidSpec)
			require.ErrorContains(t, err, tc.want)
		})
	}
	f.order(f.tenant, func(m *types.MsgCreateOrder) {
		m.Spec.Nodes, m.Spec.GpusPerNode = 2, 2
		m.Spec.Regions, m.Spec.GpuClasses = []string{"US", "DE"}, []string{"h100", "h200"}
		m.Deposit = sdk.NewInt64Coin(testUSDC, 10_000_000)
	})
	require.Equal(t, 1, f.queued())
}

// bondedOf is a provider's bonded collateral.
func (f *marketFixture) bondedOf(p sdk.AccAddress) math.Int {
	f.t.Helper()
	b, err := f.app.StakingSlashKeeper.Bonded(f.ctx, p)
	require.NoError(f.t, err)
	return b
}

// slashParams are x/stakingslash's params.
func (f *marketFixture) slashParams() stakingslashtypes.Params {
	f.t.Helper()
	p, err := f.app.StakingSlashKeeper.GetParams(f.ctx)
	require.NoError(f.t, err)
	return p
}
