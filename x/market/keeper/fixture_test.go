package keeper_test

import (
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	"github.com/gpumesh/gpumesh/x/market/keeper"
	"github.com/gpumesh/gpumesh/x/market/types"
	providerkeeper "github.com/gpumesh/gpumesh/x/provider/keeper"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashkeeper "github.com/gpumesh/gpumesh/x/stakingslash/keeper"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Denoms of the tests: orders are paid in uusdc (allowed in the test app,
// as on a localnet); bonds and bid deposits are in umesh.
const (
	testUSDC = app.StableDenom
	testMESH = app.BondDenom
)

// marketFixture is a whole app in memory with a writable keeper context
// over its committed state: real bank, account, provider, stakingslash
// and escrow keepers behind the market keeper. Every scenario ends with
// the invariants of every gpumesh module checked.
type marketFixture struct {
	t    *testing.T
	app  *apptest.App
	k    *keeper.Keeper
	ctx  sdk.Context
	msgs types.MsgServer

	tenant, tenant2   sdk.AccAddress // alice, bob
	p1, p2, p3        sdk.AccAddress // provider1..3
	escrowAddr        sdk.AccAddress
	reserveAddr       sdk.AccAddress
	gpus              map[string][]string // GPU UUIDs listed by each provider, node by node
	providerMsgs      providertypes.MsgServer
	stakingslashMsgs  stakingslashtypes.MsgServer
	corrupted         bool
	defaultBidDeposit sdk.Coin
}

// newMarket builds the fixture over a test app started with opts.
func newMarket(t *testing.T, opts ...apptest.Option) *marketFixture {
	t.Helper()
	a := apptest.New(t, opts...)
	f := &marketFixture{
		t: t, app: a, k: a.MarketKeeper, ctx: a.KeeperCtx(),
		msgs:              keeper.NewMsgServerImpl(a.MarketKeeper),
		tenant:            a.Account("alice").Address,
		tenant2:           a.Account("bob").Address,
		p1:                a.Account("provider1").Address,
		p2:                a.Account("provider2").Address,
		p3:                a.Account("provider3").Address,
		escrowAddr:        authtypes.NewModuleAddress(escrowtypes.ModuleName),
		reserveAddr:       authtypes.NewModuleAddress(app.MarketReserveAccount),
		gpus:              make(map[string][]string),
		providerMsgs:      providerkeeper.NewMsgServerImpl(a.ProviderKeeper),
		stakingslashMsgs:  stakingslashkeeper.NewMsgServerImpl(a.StakingSlashKeeper),
		defaultBidDeposit: types.DefaultBidDeposit,
	}
	t.Cleanup(func() {
		if !f.corrupted {
			require.NoError(t, a.CheckInvariants(f.ctx), "invariants at the end of the scenario")
		}
	})
	return f
}

// onboard registers p in region with nodes, and bonds the collateral its
// GPUs require, as a provider does before it may bid.
func (f *marketFixture) onboard(p sdk.AccAddress, region string, nodes []providertypes.Node) {
	f.t.Helper()
	f.onboardBonded(p, region, nodes, -1)
}

// onboardBonded is onboard with a chosen bond (-1: the required bond).
func (f *marketFixture) onboardBonded(p sdk.AccAddress, region string, nodes []providertypes.Node, bond int64) {
	f.t.Helper()
	moniker := "p-" + p.String()[len(p.String())-6:]
	_, err := f.providerMsgs.RegisterProvider(f.ctx, fixtures.Register(p, moniker, region))
	require.NoError(f.t, err)
	_, err = f.providerMsgs.SetInventory(f.ctx, &providertypes.MsgSetInventory{Owner: p.String(), Nodes: nodes})
	require.NoError(f.t, err)
	var billable uint32
	f.gpus[p.String()] = nil
	for _, n := range nodes {
		for _, g := range n.Gpus {
			f.gpus[p.String()] = append(f.gpus[p.String()], g.Uuid)
			if g.Class != providertypes.UnknownClass {
				billable++
			}
		}
	}
	amount := math.NewInt(bond)
	if bond < 0 {
		amount, err = f.app.StakingSlashKeeper.RequiredBond(f.ctx, billable)
		require.NoError(f.t, err)
	}
	if amount.IsPositive() {
		_, err = f.stakingslashMsgs.Bond(f.ctx, &stakingslashtypes.MsgBond{Provider: p.String(), Amount: sdk.NewCoin(testMESH, amount)})
		require.NoError(f.t, err)
	}
}

// gpusOf returns n GPU UUIDs of p starting at the first-th it lists.
func (f *marketFixture) gpusOf(p sdk.AccAddress, first, n int) []string {
	f.t.Helper()
	all := f.gpus[p.String()]
	require.LessOrEqual(f.t, first+n, len(all), "provider %s lists %d GPUs", p, len(all))
	return append([]string(nil), all[first:first+n]...)
}

// orderMsg is the default order of the tests: 2 H100 (any class) on one
// node, at most 2.5 USDC per GPU-hour, a deposit covering an hour of both,
// a 60 s bid window, open-ended.
func (f *marketFixture) orderMsg(tenant sdk.AccAddress) *types.MsgCreateOrder {
	return &types.MsgCreateOrder{
		Tenant:             tenant.String(),
		Spec:               types.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 2, Nodes: 1},
		MaxPricePerGpuHour: sdk.NewInt64Coin(testUSDC, 2_500_000),
		Deposit:            sdk.NewInt64Coin(testUSDC, 5_000_000),
		BidWindowSeconds:   60,
	}
}

// order posts orderMsg(tenant) changed by mut and returns its id.
func (f *marketFixture) order(tenant sdk.AccAddress, mut func(m *types.MsgCreateOrder)) types.OrderID {
	f.t.Helper()
	m := f.orderMsg(tenant)
	if mut != nil {
		mut(m)
	}
	res, err := f.msgs.CreateOrder(f.ctx, m)
	require.NoError(f.t, err)
	return res.Id
}

func (f *marketFixture) bidMsg(p sdk.AccAddress, id types.OrderID, price int64, gpus []string) *types.MsgCreateBid {
	return &types.MsgCreateBid{
		Provider: p.String(), OrderId: id, PricePerGpuHour: sdk.NewInt64Coin(testUSDC, price), Gpus: gpus,
		Deposit: f.defaultBidDeposit,
	}
}

// bid makes p's bid on id at price (uusdc per GPU-hour) with gpus.
func (f *marketFixture) bid(p sdk.AccAddress, id types.OrderID, price int64, gpus []string) (*types.MsgCreateBidResponse, error) {
	return f.msgs.CreateBid(f.ctx, f.bidMsg(p, id, price, gpus))
}

func (f *marketFixture) mustBid(p sdk.AccAddress, id types.OrderID, price int64, gpus []string) *types.MsgCreateBidResponse {
	f.t.Helper()
	res, err := f.bid(p, id, price, gpus)
	require.NoError(f.t, err)
	return res
}

// now is the block time of the context.
func (f *marketFixture) now() time.Time { return f.ctx.BlockTime() }

// at moves the context to block time t, one block higher, with a fresh
// event manager.
func (f *marketFixture) at(t time.Time) {
	f.ctx = f.ctx.WithBlockHeight(f.ctx.BlockHeight() + 1).WithBlockTime(t).WithEventManager(sdk.NewEventManager())
}

// advance moves the context secs seconds later.
func (f *marketFixture) advance(secs int64) { f.at(f.now().Add(time.Duration(secs) * time.Second)) }

// endBlock runs the market EndBlocker at the context's block time.
func (f *marketFixture) endBlock() {
	f.t.Helper()
	require.NoError(f.t, f.k.EndBlocker(f.ctx))
}

func (f *marketFixture) balance(addr sdk.AccAddress, denom string) math.Int {
	return f.app.BankKeeper.GetBalance(f.ctx, addr, denom).Amount
}

func (f *marketFixture) getOrder(id types.OrderID) types.Order {
	f.t.Helper()
	o, err := f.k.GetOrder(f.ctx, id)
	require.NoError(f.t, err)
	return o
}

func (f *marketFixture) getLease(id types.OrderID) types.Lease {
	f.t.Helper()
	l, err := f.k.GetLease(f.ctx, id)
	require.NoError(f.t, err)
	return l
}

func (f *marketFixture) getBid(id types.OrderID, p sdk.AccAddress) types.Bid {
	f.t.Helper()
	b, err := f.k.GetBid(f.ctx, id, p)
	require.NoError(f.t, err)
	return b
}

func (f *marketFixture) account(id types.OrderID) escrowtypes.Account {
	f.t.Helper()
	tenant, err := sdk.AccAddressFromBech32(id.Tenant)
	require.NoError(f.t, err)
	acc, err := f.app.EscrowKeeper.GetAccount(f.ctx, tenant, id.Seq)
	require.NoError(f.t, err)
	return acc
}

func (f *marketFixture) counters() types.Counters {
	f.t.Helper()
	c, err := f.k.Counters.Get(f.ctx)
	require.NoError(f.t, err)
	return c
}

func (f *marketFixture) reputation(p sdk.AccAddress) uint32 {
	f.t.Helper()
	pr, err := f.app.ProviderKeeper.GetProvider(f.ctx, p)
	require.NoError(f.t, err)
	return pr.Reputation
}

// allocatedTo returns the lease each GPU is allocated to ("" when free).
func (f *marketFixture) allocatedTo(uuids []string) []string {
	f.t.Helper()
	out := make([]string, len(uuids))
	for i, u := range uuids {
		_, _, g, err := f.app.ProviderKeeper.GetGPU(f.ctx, u)
		require.NoError(f.t, err)
		out[i] = g.AllocatedTo
	}
	return out
}

// queued is the number of window queue entries.
func (f *marketFixture) queued() int {
	f.t.Helper()
	keys := 0
	require.NoError(f.t, f.k.WindowQueue.Walk(f.ctx, nil, func(types.TimeKey) (bool, error) {
		keys++
		return false, nil
	}))
	return keys
}

// repeatString returns n copies of s.
func repeatString(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// split is what a settlement of gross pays: the provider's part, the take
// fee (community pool) and the reserve fee, with the escrow params.
func (f *marketFixture) split(denom string, gross math.Int) (provider, take, reserve math.Int) {
	f.t.Helper()
	params, err := f.app.EscrowKeeper.GetParams(f.ctx)
	require.NoError(f.t, err)
	take = escrowtypes.MulRateFloor(gross, params.TakeRate(denom))
	reserve = escrowtypes.MulRateFloor(gross, params.ReserveRate)
	return gross.Sub(take).Sub(reserve), take, reserve
}

// owedFor is floor(price × gpus × secs / 3600), computed here independently.
func owedFor(price int64, gpus, secs int64) math.Int {
	return math.NewInt(price).MulRaw(gpus).MulRaw(secs).QuoRaw(3600)
}

// marketEvents returns the typed events of type T emitted on ctx, in order.
func marketEvents[T proto.Message](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	for _, e := range ctx.EventManager().ABCIEvents() {
		msg, err := sdk.ParseTypedEvent(e)
		if err != nil {
			continue // an untyped event (bank's coin_spent, …)
		}
		if m, ok := msg.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

// clusterNodes is two DGX nodes of 8 H100 on the given interconnects.
func clusterNodes(seed, ic0, ic1 string) []providertypes.Node {
	a := fixtures.Node("dgx-0", fixtures.GPUs(seed, fixtures.H100SXM, 0, 8)...)
	b := fixtures.Node("dgx-1", fixtures.GPUs(seed, fixtures.H100SXM, 8, 8)...)
	a.Interconnect, b.Interconnect = ic0, ic1
	return []providertypes.Node{a, b}
}
