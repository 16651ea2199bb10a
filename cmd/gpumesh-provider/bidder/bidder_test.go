package bidder_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/bidder"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

const h100 = "h100-sxm-80g"

var (
	t0     = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	me     = sdk.AccAddress([]byte("bidder-provider-0001"))
	other  = sdk.AccAddress([]byte("bidder-provider-0002"))
	tenant = sdk.AccAddress([]byte("bidder-tenant-000001"))
)

// fakeChain is an in-memory market: open orders, every bid (any provider,
// any state), the provider's record and inventory, params and the price
// index. Send records every message; a successful MsgCreateBid records an
// OPEN bid and a MsgCloseBid deletes it, as the chain does.
type fakeChain struct {
	st     chain.ProviderState
	pp     providertypes.Params
	mp     markettypes.Params
	index  []markettypes.PriceIndexEntry
	orders []markettypes.Order
	bids   []markettypes.Bid
	// now is the time of the block being stepped: bids at or past an
	// order's window end are refused, as the chain refuses them.
	now  time.Time
	sent []sdk.Msg
	// refuse, when set, can fail a message before it is applied.
	refuse func(sdk.Msg) error
	// lagging orders' bids are left out of Bids, as a node behind the
	// one OrderBids asked would.
	lagging map[markettypes.OrderID]bool
}

func newFakeChain() *fakeChain {
	return &fakeChain{
		st: chain.ProviderState{
			Registered: true,
			Provider: providertypes.Provider{Owner: me.String(), Region: "US-east1", Reputation: 6000,
				Status: providertypes.PROVIDER_STATUS_ACTIVE},
			Nodes: []providertypes.Node{
				invNode("n1", "infiniband", h100, 81559, "g1", "g2", "g3", "g4"),
				invNode("n2", "ethernet", "rtx4090-24g", 24564, "r1", "r2"),
			},
			Bond: stakingslashtypes.QueryBondResponse{Provider: me.String(), Bonded: sdkmath.NewInt(100),
				Required: sdkmath.NewInt(100), Eligible: true},
		},
		pp: providertypes.Params{GpuClasses: providertypes.DefaultGPUClasses()},
		mp: markettypes.Params{MaxBidsPerOrder: 10, BidDeposit: sdk.NewInt64Coin("umesh", 1_000_000)},
		index: []markettypes.PriceIndexEntry{
			{GpuClass: h100, Denom: "uusdc", Price: sdkmath.LegacyNewDec(2_500_000)},
		},
	}
}

func invNode(id, ic, class string, vram uint32, uuids ...string) providertypes.Node {
	n := providertypes.Node{Id: id, CpuCores: 64, MemoryMib: 512 << 10, StorageGib: 4000, Interconnect: ic}
	for _, u := range uuids {
		n.Gpus = append(n.Gpus, providertypes.GPU{Uuid: u, Class: class, VramMib: vram})
	}
	return n
}

func (f *fakeChain) Address() sdk.AccAddress { return me }

func (f *fakeChain) ProviderState(context.Context) (chain.ProviderState, error) { return f.st, nil }

func (f *fakeChain) ProviderParams(context.Context) (providertypes.Params, error) { return f.pp, nil }

func (f *fakeChain) MarketParams(context.Context) (markettypes.Params, error) { return f.mp, nil }

func (f *fakeChain) PriceIndex(context.Context) ([]markettypes.PriceIndexEntry, error) {
	return append([]markettypes.PriceIndexEntry(nil), f.index...), nil
}

func (f *fakeChain) OpenOrders(context.Context) ([]markettypes.Order, error) {
	return append([]markettypes.Order(nil), f.orders...), nil // the bidder sorts what it gets
}

func (f *fakeChain) Bids(_ context.Context, provider string, s markettypes.BidState) ([]markettypes.Bid, error) {
	var out []markettypes.Bid
	for _, b := range f.bids {
		if b.Provider == provider && b.State == s && !f.lagging[b.OrderId] {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakeChain) OrderBids(_ context.Context, id markettypes.OrderID) ([]markettypes.Bid, error) {
	var out []markettypes.Bid
	for _, b := range f.bids {
		if b.OrderId == id {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakeChain) Send(_ context.Context, _ chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error) {
	f.sent = append(f.sent, msgs...)
	for _, msg := range msgs {
		if f.refuse != nil {
			if err := f.refuse(msg); err != nil {
				return nil, err
			}
		}
		switch m := msg.(type) {
		case *markettypes.MsgCreateBid:
			o := f.order(m.OrderId)
			if o == nil || !f.now.Before(o.WindowEnd) {
				return nil, &chain.TxError{Stage: "simulate", Codespace: "market", Log: "order not open or window closed"}
			}
			if f.bid(m.OrderId, m.Provider) != nil {
				return nil, &chain.TxError{Stage: "simulate", Codespace: "market", Log: "bid exists"}
			}
			o.OpenBids++
			f.bids = append(f.bids, markettypes.Bid{OrderId: m.OrderId, Provider: m.Provider,
				PricePerGpuHour: m.PricePerGpuHour, Gpus: m.Gpus, Deposit: m.Deposit, State: markettypes.BID_STATE_OPEN,
				CreatedAt: f.now})
		case *markettypes.MsgCloseBid:
			b := f.bid(m.OrderId, m.Provider)
			if b == nil || b.State != markettypes.BID_STATE_OPEN {
				return nil, &chain.TxError{Stage: "simulate", Codespace: "market", Log: "no open bid"}
			}
			f.removeBid(m.OrderId, m.Provider)
			if o := f.order(m.OrderId); o != nil {
				o.OpenBids--
			}
		default:
			return nil, errors.New("unexpected message")
		}
	}
	return &chain.TxResult{Height: 1}, nil
}

func (f *fakeChain) order(id markettypes.OrderID) *markettypes.Order {
	for i := range f.orders {
		if f.orders[i].Id == id {
			return &f.orders[i]
		}
	}
	return nil
}

func (f *fakeChain) bid(id markettypes.OrderID, provider string) *markettypes.Bid {
	for i := range f.bids {
		if f.bids[i].OrderId == id && f.bids[i].Provider == provider {
			return &f.bids[i]
		}
	}
	return nil
}

func (f *fakeChain) removeBid(id markettypes.OrderID, provider string) {
	kept := f.bids[:0]
	for _, b := range f.bids {
		if b.OrderId != id || b.Provider != provider {
			kept = append(kept, b)
		}
	}
	f.bids = kept
}

func (f *fakeChain) removeOrder(id markettypes.OrderID) {
	kept := f.orders[:0]
	for _, o := range f.orders {
		if o.Id != id {
			kept = append(kept, o)
		}
	}
	f.orders = kept
}

// openBid seeds an OPEN bid of provider on order id.
func (f *fakeChain) openBid(id markettypes.OrderID, provider sdk.AccAddress, gpus ...string) {
	f.bids = append(f.bids, markettypes.Bid{OrderId: id, Provider: provider.String(), Gpus: gpus, GpuClass: h100,
		PricePerGpuHour: sdk.NewInt64Coin("uusdc", 3_000_000), State: markettypes.BID_STATE_OPEN, CreatedAt: t0})
	if o := f.order(id); o != nil {
		o.OpenBids++
	}
}

// resolve takes order id off the open list and sets our bid's final state,
// as the auction or the lease's end does.
func (f *fakeChain) resolve(id markettypes.OrderID, s markettypes.BidState, reason markettypes.BidCloseReason) {
	f.removeOrder(id)
	b := f.bid(id, me.String())
	b.State, b.CloseReason = s, reason
}

func (f *fakeChain) creates() []*markettypes.MsgCreateBid {
	var out []*markettypes.MsgCreateBid
	for _, m := range f.sent {
		if c, ok := m.(*markettypes.MsgCreateBid); ok {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeChain) createsFor(id markettypes.OrderID) []*markettypes.MsgCreateBid {
	var out []*markettypes.MsgCreateBid
	for _, c := range f.creates() {
		if c.OrderId == id {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeChain) closes() []*markettypes.MsgCloseBid {
	var out []*markettypes.MsgCloseBid
	for _, m := range f.sent {
		if c, ok := m.(*markettypes.MsgCloseBid); ok {
			out = append(out, c)
		}
	}
	return out
}

func oid(seq uint64) markettypes.OrderID { return markettypes.NewOrderID(tenant, seq) }

// order is an open order for gpus H100s on one node in the US at a
// maximum of maxUSDC uusdc per GPU-hour, created seq seconds after t0,
// taking bids for an hour (instant orders: the TTL).
func order(seq, window uint64, gpus uint32, maxUSDC int64) markettypes.Order {
	created := t0.Add(time.Duration(seq) * time.Second)
	return markettypes.Order{
		Id: oid(seq),
		Spec: markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: gpus, Nodes: 1, MinVramMib: 80000,
			Regions: []string{"US"}},
		MaxPricePerGpuHour: sdk.NewInt64Coin("uusdc", maxUSDC),
		DurationSeconds:    3600,
		BidWindowSeconds:   window,
		State:              markettypes.ORDER_STATE_OPEN,
		CreatedAt:          created,
		WindowEnd:          created.Add(time.Hour),
	}
}

type env struct {
	f      *fakeChain
	b      *bidder.Bidder
	m      *metrics.Metrics
	board  *state.Board
	health map[string]bool // what the healthy func returns; nil = NVML has not answered
}

func defaultBidding() config.Bidding {
	return config.Bidding{Enabled: true, Overcommit: 1, MaxOpenBids: 50, StaleAfter: config.Duration(time.Minute)}
}

func defaultPricing() config.Pricing {
	return config.Pricing{Classes: map[string]config.ClassPrice{
		h100:          {Floor: []string{"2000000uusdc"}, IndexMultiplier: 1.2},
		"rtx4090-24g": {Floor: []string{"400000uusdc"}},
	}}
}

func newEnv(cfg config.Bidding) *env {
	e := &env{f: newFakeChain(), m: metrics.New(prometheus.NewRegistry()), board: state.NewBoard(),
		health: map[string]bool{"g1": true, "g2": true, "g3": true, "g4": true, "r1": true, "r2": true}}
	e.b = bidder.New(e.f, cfg, defaultPricing(), e.board, e.m, slog.New(slog.NewTextHandler(io.Discard, nil)), nil,
		func() map[string]bool { return e.health })
	return e
}

// step runs the bidder at height h, block time t0 + h×6 s.
func (e *env) step(t *testing.T, h int64) {
	t.Helper()
	e.stepAt(t, h, t0.Add(time.Duration(h)*6*time.Second))
}

func (e *env) stepAt(t *testing.T, h int64, at time.Time) {
	t.Helper()
	e.f.now = at
	require.NoError(t, e.b.Step(context.Background(), chain.Block{Height: h, Time: at}))
}

func (e *env) won() float64  { return testutil.ToFloat64(e.m.BidsWon) }
func (e *env) lost() float64 { return testutil.ToFloat64(e.m.BidsLost) }

func boardOrders(b *state.Board) []string {
	var out []string
	for _, bid := range b.Bids() {
		out = append(out, bid.OrderID)
	}
	return out
}

// An instant order that fits gets one bid at the policy's price with GPUs
// that satisfy the spec; once the bid is open, no second bid follows.
func TestInstantOrderGetsOneBid(t *testing.T) {
	e := newEnv(defaultBidding())
	e.f.orders = []markettypes.Order{order(1, 0, 2, 5_000_000)}

	e.step(t, 10)
	creates := e.f.creates()
	require.Len(t, creates, 1)
	c := creates[0]
	require.Equal(t, me.String(), c.Provider)
	require.Equal(t, oid(1), c.OrderId)
	// index 2.5M × 1.2 = 3M: above the 2M floor, below the order's 5M max.
	require.Equal(t, sdk.NewInt64Coin("uusdc", 3_000_000), c.PricePerGpuHour)
	require.Equal(t, e.f.mp.BidDeposit, c.Deposit)
	require.Len(t, c.Gpus, 2)
	inv := map[string]providertypes.GPU{}
	for _, g := range e.f.st.Nodes[0].Gpus {
		inv[g.Uuid] = g
	}
	for _, u := range c.Gpus {
		g, ok := inv[u]
		require.True(t, ok, "GPU %s is not on the H100 node", u)
		require.Equal(t, h100, g.Class)
		require.GreaterOrEqual(t, g.VramMib, uint32(80000))
		require.True(t, e.health[u])
	}
	require.NotEqual(t, c.Gpus[0], c.Gpus[1])
	require.InDelta(t, 1, testutil.ToFloat64(e.m.BidsPlaced.WithLabelValues(h100)), 0)
	require.Equal(t, []string{oid(1).String()}, boardOrders(e.board))

	// The bid is now open on the chain: no second bid on the same order.
	require.Len(t, e.f.bid(oid(1), me.String()).Gpus, 2)
	e.step(t, 11)
	e.step(t, 12)
	require.Len(t, e.f.creates(), 1)
	require.Empty(t, e.f.closes())
	require.Equal(t, []string{oid(1).String()}, boardOrders(e.board))
}

// The price is max(floor, index × multiplier) capped at the order's max.
func TestBidPrice(t *testing.T) {
	cases := []struct {
		name  string
		index int64 // 0 = no index entry
		max   int64
		want  int64
	}{
		{"index × multiplier above the floor", 2_500_000, 5_000_000, 3_000_000},
		{"capped at the order's max", 2_500_000, 2_800_000, 2_800_000},
		{"index × multiplier below the floor", 1_000_000, 5_000_000, 2_000_000},
		{"no index: the floor", 0, 5_000_000, 2_000_000},
		{"max equal to the floor", 2_500_000, 2_000_000, 2_000_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(defaultBidding())
			e.f.index = nil
			if tc.index > 0 {
				e.f.index = []markettypes.PriceIndexEntry{{GpuClass: h100, Denom: "uusdc", Price: sdkmath.LegacyNewDec(tc.index)}}
			}
			e.f.orders = []markettypes.Order{order(1, 0, 2, tc.max)}
			e.step(t, 10)
			require.Len(t, e.f.creates(), 1)
			require.Equal(t, sdk.NewInt64Coin("uusdc", tc.want), e.f.creates()[0].PricePerGpuHour)
		})
	}
}

// Orders the provider cannot or may not serve get no bid; a fitting order
// in the same block does. Overcommit is high so that running out of GPUs
// never hides a wrong decision.
func TestOrdersThatDoNotFitGetNoBid(t *testing.T) {
	cfg := defaultBidding()
	cfg.Overcommit = 100
	e := newEnv(cfg)
	fits := order(1, 0, 2, 5_000_000)
	region := order(2, 0, 2, 5_000_000)
	region.Spec.Regions = []string{"DE"}
	class := order(3, 0, 2, 5_000_000)
	class.Spec.GpuClasses = []string{"a100"}
	tooMany := order(4, 0, 5, 5_000_000) // the node has 4 H100s
	belowFloor := order(5, 0, 2, 1_999_999)
	noFloorDenom := order(6, 0, 2, 5_000_000)
	noFloorDenom.MaxPricePerGpuHour = sdk.NewInt64Coin("uatom", 5_000_000)
	own := order(7, 0, 2, 5_000_000)
	own.Id = markettypes.NewOrderID(me, 7)
	full := order(8, 60, 2, 5_000_000)
	full.OpenBids = e.f.mp.MaxBidsPerOrder
	vram := order(9, 0, 2, 5_000_000)
	vram.Spec.MinVramMib = 90000
	e.f.orders = []markettypes.Order{region, class, tooMany, belowFloor, noFloorDenom, own, full, vram, fits}

	e.step(t, 10)
	creates := e.f.creates()
	require.Len(t, creates, 1, "only the fitting order gets a bid")
	require.Equal(t, fits.Id, creates[0].OrderId)
}

// Bidding waits for an active provider, enabled bidding, NVML's health
// and room under max_open_bids; once the condition lifts, the bid is made.
func TestBiddingPreconditions(t *testing.T) {
	cases := []struct {
		name       string
		block, fix func(*env)
	}{
		{"provider not eligible",
			func(e *env) { e.f.st.Bond.Eligible = false },
			func(e *env) { e.f.st.Bond.Eligible = true }},
		{"provider not registered",
			func(e *env) { e.f.st.Registered = false },
			func(e *env) { e.f.st.Registered = true }},
		{"NVML has not answered",
			func(e *env) { e.health = nil },
			func(e *env) { e.health = map[string]bool{"g1": true, "g2": true, "g3": true, "g4": true} }},
		{"no healthy GPU",
			func(e *env) { e.health = map[string]bool{} },
			func(e *env) { e.health = map[string]bool{"g3": true, "g4": true} }},
		{"max_open_bids reached",
			func(e *env) { e.f.openBid(oid(9), me, "g1") },
			func(e *env) { e.f.removeBid(oid(9), me.String()) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaultBidding()
			cfg.MaxOpenBids = 1
			cfg.Overcommit = 10
			e := newEnv(cfg)
			e.f.orders = []markettypes.Order{order(1, 60, 2, 5_000_000)}
			tc.block(e)
			e.step(t, 10)
			require.Empty(t, e.f.creates())
			tc.fix(e)
			e.step(t, 11)
			require.Len(t, e.f.creates(), 1)
			require.Equal(t, oid(1), e.f.creates()[0].OrderId)
		})
	}

	t.Run("bidding disabled", func(t *testing.T) {
		cfg := defaultBidding()
		cfg.Enabled = false
		e := newEnv(cfg)
		e.f.orders = []markettypes.Order{order(1, 60, 2, 5_000_000)}
		e.step(t, 10)
		e.step(t, 11)
		require.Empty(t, e.f.creates())
	})
}

// With overcommit 1 a GPU named by a live bid (placed this block or open
// on the chain) is not offered again; with overcommit 2 two bids may name
// it.
func TestOvercommit(t *testing.T) {
	orders := func() []markettypes.Order {
		return []markettypes.Order{order(1, 60, 2, 5_000_000), order(2, 60, 2, 5_000_000), order(3, 60, 2, 5_000_000)}
	}

	t.Run("overcommit 1", func(t *testing.T) {
		e := newEnv(defaultBidding())
		e.f.orders = orders()
		e.step(t, 10)
		require.Equal(t, []string{"g1", "g2"}, single(t, e.f.createsFor(oid(1))).Gpus)
		require.Equal(t, []string{"g3", "g4"}, single(t, e.f.createsFor(oid(2))).Gpus)
		require.Empty(t, e.f.createsFor(oid(3)), "every H100 is named by a live bid")

		// Next block the bids are open on the chain: still nothing for 3.
		e.step(t, 11)
		require.Empty(t, e.f.createsFor(oid(3)))

		// Order 1's auction went to another provider: g1, g2 are free.
		e.f.resolve(oid(1), markettypes.BID_STATE_CLOSED, markettypes.BID_CLOSE_REASON_LOST)
		e.step(t, 12)
		require.Equal(t, []string{"g1", "g2"}, single(t, e.f.createsFor(oid(3))).Gpus)
		require.Len(t, e.f.creates(), 3)
	})

	t.Run("overcommit 1, bid open before the bidder started", func(t *testing.T) {
		e := newEnv(defaultBidding())
		e.f.orders = orders()[1:]
		e.f.openBid(oid(9), me, "g1", "g3")
		e.step(t, 10)
		require.Equal(t, []string{"g2", "g4"}, single(t, e.f.createsFor(oid(2))).Gpus)
		require.Empty(t, e.f.createsFor(oid(3)))
	})

	t.Run("overcommit 2", func(t *testing.T) {
		cfg := defaultBidding()
		cfg.Overcommit = 2
		e := newEnv(cfg)
		e.f.orders = orders()
		e.step(t, 10)
		require.Equal(t, []string{"g1", "g2"}, single(t, e.f.createsFor(oid(1))).Gpus)
		require.Equal(t, []string{"g1", "g2"}, single(t, e.f.createsFor(oid(2))).Gpus)
		require.Equal(t, []string{"g3", "g4"}, single(t, e.f.createsFor(oid(3))).Gpus)
	})

	t.Run("instant orders first, then oldest", func(t *testing.T) {
		e := newEnv(defaultBidding())
		older := order(1, 60, 4, 5_000_000)
		instant := order(2, 0, 4, 5_000_000)
		e.f.orders = []markettypes.Order{older, instant}
		e.step(t, 10)
		require.Equal(t, []string{"g1", "g2", "g3", "g4"}, single(t, e.f.createsFor(instant.Id)).Gpus)
		require.Empty(t, e.f.createsFor(older.Id))

		e2 := newEnv(defaultBidding())
		newer := order(5, 60, 4, 5_000_000)
		e2.f.orders = []markettypes.Order{newer, older}
		e2.step(t, 10)
		require.Len(t, e2.f.createsFor(older.Id), 1)
		require.Empty(t, e2.f.createsFor(newer.Id))
	})
}

func single(t *testing.T, c []*markettypes.MsgCreateBid) *markettypes.MsgCreateBid {
	t.Helper()
	require.Len(t, c, 1)
	return c[0]
}

// A bid naming a GPU that went unhealthy is withdrawn; the order is then
// offered the healthy GPUs. While NVML has not answered nothing is
// withdrawn.
func TestUnhealthyBidWithdrawn(t *testing.T) {
	e := newEnv(defaultBidding())
	e.f.orders = []markettypes.Order{order(1, 60, 2, 5_000_000)}
	e.f.openBid(oid(1), me, "g1", "g2")

	e.health = nil
	e.step(t, 10)
	require.Empty(t, e.f.sent)

	e.health = map[string]bool{"g1": true, "g2": true, "g3": true, "g4": true}
	e.step(t, 11)
	require.Empty(t, e.f.sent, "healthy bid kept")

	e.health["g2"] = false
	e.step(t, 12)
	closes := e.f.closes()
	require.Len(t, closes, 1)
	require.Equal(t, &markettypes.MsgCloseBid{Provider: me.String(), OrderId: oid(1)}, closes[0])
	require.InDelta(t, 1, testutil.ToFloat64(e.m.BidsClosed.WithLabelValues("unhealthy_gpu")), 0)
	require.InDelta(t, 0, testutil.ToFloat64(e.m.BidsClosed.WithLabelValues("stale")), 0)
	rebid := single(t, e.f.createsFor(oid(1)))
	require.NotContains(t, rebid.Gpus, "g2")
	require.Equal(t, []string{"g1", "g3"}, rebid.Gpus)

	// A withdrawn bid counts as neither won nor lost.
	e.step(t, 13)
	require.Len(t, e.f.closes(), 1)
	require.InDelta(t, 0, e.won(), 0)
	require.InDelta(t, 0, e.lost(), 0)
}

// A bid on an order still open stale_after past its window is withdrawn.
func TestStaleBidWithdrawn(t *testing.T) {
	e := newEnv(defaultBidding())
	o := order(1, 60, 2, 5_000_000)
	e.f.orders = []markettypes.Order{o}
	e.f.openBid(o.Id, me, "g1", "g2")

	e.stepAt(t, 10, o.WindowEnd.Add(59*time.Second))
	require.Empty(t, e.f.closes(), "not stale yet")
	e.stepAt(t, 11, o.WindowEnd.Add(time.Minute))
	require.Empty(t, e.f.closes(), "stale only after stale_after has passed")

	e.stepAt(t, 12, o.WindowEnd.Add(61*time.Second))
	require.Equal(t, []*markettypes.MsgCloseBid{{Provider: me.String(), OrderId: o.Id}}, e.f.closes())
	require.InDelta(t, 1, testutil.ToFloat64(e.m.BidsClosed.WithLabelValues("stale")), 0)
	require.Nil(t, e.f.bid(o.Id, me.String()))
	require.NotContains(t, boardOrders(e.board), o.Id.String())
}

// A failed withdrawal keeps the bid (listed, its GPUs still taken) and is
// tried again on the next block.
func TestFailedWithdrawalRetried(t *testing.T) {
	e := newEnv(defaultBidding())
	e.f.orders = []markettypes.Order{order(1, 60, 2, 5_000_000), order(2, 60, 2, 5_000_000)}
	e.f.openBid(oid(1), me, "g1", "g2")
	e.f.refuse = func(m sdk.Msg) error {
		if _, ok := m.(*markettypes.MsgCloseBid); ok {
			return &chain.TxError{Stage: "check_tx", Log: "out of gas"}
		}
		return nil
	}
	e.health = map[string]bool{"g1": true, "g2": false, "g3": true, "g4": true}
	e.step(t, 10)
	require.Len(t, e.f.closes(), 1)
	require.InDelta(t, 0, testutil.ToFloat64(e.m.BidsClosed.WithLabelValues("unhealthy_gpu")), 0)
	require.Contains(t, boardOrders(e.board), oid(1).String())
	// g1 is still named by the kept bid: order 2 gets neither g1 nor g2.
	require.Equal(t, []string{"g3", "g4"}, single(t, e.f.createsFor(oid(2))).Gpus)

	e.f.refuse = nil
	e.step(t, 11)
	require.Len(t, e.f.closes(), 2)
	require.InDelta(t, 1, testutil.ToFloat64(e.m.BidsClosed.WithLabelValues("unhealthy_gpu")), 0)
}

// A bid whose order is no longer open is neither withdrawn nor forgotten:
// it stays listed and its GPUs stay taken, however late it is; only an
// unhealthy GPU makes the bidder withdraw it.
func TestBidOnClosedOrderIsKept(t *testing.T) {
	e := newEnv(defaultBidding())
	e.f.openBid(oid(1), me, "g1", "g2") // order 1 is not in the open list
	e.f.orders = []markettypes.Order{order(2, 60, 2, 5_000_000)}
	e.f.orders[0].WindowEnd = t0.Add(48 * time.Hour)

	e.stepAt(t, 10, t0.Add(24*time.Hour))
	require.Empty(t, e.f.closes())
	require.Contains(t, boardOrders(e.board), oid(1).String())
	require.Equal(t, []string{"g3", "g4"}, single(t, e.f.createsFor(oid(2))).Gpus)
	require.InDelta(t, 0, e.won()+e.lost(), 0)

	e.health["g1"] = false
	e.stepAt(t, 11, t0.Add(24*time.Hour+6*time.Second))
	require.Equal(t, []*markettypes.MsgCloseBid{{Provider: me.String(), OrderId: oid(1)}}, e.f.closes())
}

// Our bids that left the open list are counted once: won when the bid
// became our lease (even one that has already ended), lost when the chain
// closed it otherwise.
func TestWonLostCounting(t *testing.T) {
	cases := []struct {
		name      string
		resolve   func(f *fakeChain)
		won, lost float64
	}{
		{"won", func(f *fakeChain) {
			f.resolve(oid(1), markettypes.BID_STATE_WON, markettypes.BID_CLOSE_REASON_UNSPECIFIED)
		}, 1, 0},
		{"won, lease already ended", func(f *fakeChain) {
			f.resolve(oid(1), markettypes.BID_STATE_CLOSED, markettypes.BID_CLOSE_REASON_LEASE_CLOSED)
		}, 1, 0},
		{"another provider won", func(f *fakeChain) {
			f.openBid(oid(1), other, "x1", "x2")
			f.bid(oid(1), other.String()).State = markettypes.BID_STATE_WON
			f.resolve(oid(1), markettypes.BID_STATE_CLOSED, markettypes.BID_CLOSE_REASON_LOST)
		}, 0, 1},
		{"tenant closed the order", func(f *fakeChain) {
			f.resolve(oid(1), markettypes.BID_STATE_CLOSED, markettypes.BID_CLOSE_REASON_ORDER_CLOSED)
		}, 0, 1},
		{"GPUs unavailable at the auction", func(f *fakeChain) {
			f.resolve(oid(1), markettypes.BID_STATE_CLOSED, markettypes.BID_CLOSE_REASON_UNAVAILABLE)
		}, 0, 1},
		{"bid gone from the chain", func(f *fakeChain) {
			f.removeOrder(oid(1))
			f.removeBid(oid(1), me.String())
		}, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(defaultBidding())
			e.f.orders = []markettypes.Order{order(1, 60, 2, 5_000_000)}
			e.f.openBid(oid(1), me, "g1", "g2")
			e.step(t, 10)
			require.Empty(t, e.f.sent)
			require.InDelta(t, 0, e.won()+e.lost(), 0, "an open bid is not counted")

			tc.resolve(e.f)
			e.step(t, 11)
			require.InDelta(t, tc.won, e.won(), 0, "won")
			require.InDelta(t, tc.lost, e.lost(), 0, "lost")
			require.Empty(t, e.board.Bids())

			e.step(t, 12)
			require.InDelta(t, tc.won, e.won(), 0, "counted once")
			require.InDelta(t, tc.lost, e.lost(), 0, "counted once")
		})
	}
}

// A bid that OrderBids still shows OPEN while the provider's open list
// lags is not counted; it is counted once when it resolves.
func TestStillOpenBidNotCounted(t *testing.T) {
	e := newEnv(defaultBidding())
	e.f.orders = []markettypes.Order{order(1, 60, 2, 5_000_000)}
	e.f.openBid(oid(1), me, "g1", "g2")
	e.step(t, 10)
	e.f.lagging = map[markettypes.OrderID]bool{oid(1): true}
	e.step(t, 11)
	require.InDelta(t, 0, e.won(), 0)
	require.InDelta(t, 0, e.lost(), 0)
	e.f.lagging = nil
	e.step(t, 12)
	e.f.resolve(oid(1), markettypes.BID_STATE_WON, markettypes.BID_CLOSE_REASON_UNSPECIFIED)
	e.step(t, 13)
	require.InDelta(t, 1, e.won(), 0)
	require.InDelta(t, 0, e.lost(), 0)
}

// A bid the bidder placed on an instant order, which the chain turned into
// a lease at once (never seen open), counts as won.
func TestInstantBidWonCounted(t *testing.T) {
	e := newEnv(defaultBidding())
	e.f.orders = []markettypes.Order{order(1, 0, 2, 5_000_000)}
	e.step(t, 10)
	require.Len(t, e.f.creates(), 1)
	e.f.resolve(oid(1), markettypes.BID_STATE_WON, markettypes.BID_CLOSE_REASON_UNSPECIFIED)
	e.step(t, 11)
	require.InDelta(t, 1, e.won(), 0)
	require.InDelta(t, 0, e.lost(), 0)
	e.step(t, 12)
	require.InDelta(t, 1, e.won(), 0)
	require.Len(t, e.f.creates(), 1)
}

// A refused bid does not hold back other orders; its order is retried
// after 2 blocks, then 4, and not in between.
func TestFailedBidBacksOff(t *testing.T) {
	cfg := defaultBidding()
	cfg.Overcommit = 10
	e := newEnv(cfg)
	e.f.orders = []markettypes.Order{order(1, 600, 2, 5_000_000), order(2, 600, 2, 5_000_000)}
	failing := true
	e.f.refuse = func(m sdk.Msg) error {
		if c, ok := m.(*markettypes.MsgCreateBid); ok && c.OrderId == oid(1) && failing {
			return &chain.TxError{Stage: "check_tx", Codespace: "sdk", Code: 13, Log: "insufficient fee"}
		}
		return nil
	}
	attempts := func() int { return len(e.f.createsFor(oid(1))) }

	e.step(t, 10)
	require.Equal(t, 1, attempts())
	require.Len(t, e.f.createsFor(oid(2)), 1, "the other order is bid on")
	require.Nil(t, e.f.bid(oid(1), me.String()))
	require.Equal(t, []string{oid(2).String()}, boardOrders(e.board))

	e.step(t, 11)
	require.Equal(t, 1, attempts(), "not retried on the next block")
	e.step(t, 12)
	require.Equal(t, 2, attempts(), "retried after 2 blocks")
	for h := int64(13); h < 16; h++ {
		e.step(t, h)
		require.Equal(t, 2, attempts(), "height %d: the second failure waits 4 blocks", h)
	}
	failing = false
	e.step(t, 16)
	require.Equal(t, 3, attempts())
	require.NotNil(t, e.f.bid(oid(1), me.String()))
	require.InDelta(t, 2, testutil.ToFloat64(e.m.BidsPlaced.WithLabelValues(h100)), 0)
	e.step(t, 17)
	require.Equal(t, 3, attempts())
	require.Len(t, e.f.createsFor(oid(2)), 1)
}

// A pricing class the chain does not have (a typo) stops the bidder at
// start, naming the class and the chain's classes; before, its GPUs were
// silently never priced.
func TestRunRefusesUnknownPricingClass(t *testing.T) {
	e := newEnv(defaultBidding())
	pricing := defaultPricing()
	pricing.Classes["h100-sxm80g"] = config.ClassPrice{Floor: []string{"1uusdc"}}
	b := bidder.New(e.f, defaultBidding(), pricing, e.board, e.m, slog.New(slog.NewTextHandler(io.Discard, nil)),
		make(chan chain.Block), func() map[string]bool { return e.health })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := b.Run(ctx)
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "Run returned at start, not at the timeout")
	require.Contains(t, err.Error(), `"h100-sxm80g" is not a GPU class on chain`)
	require.Contains(t, err.Error(), h100+", ")
	require.NoError(t, bidder.CheckPricing(defaultPricing(), e.f.pp.GpuClasses))
}

// countingHandler counts the log records at each level by message.
type countingHandler struct {
	counts map[string]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.counts[r.Level.String()+" "+r.Message]++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// GPUs that can never get a bid are published on the board and in
// gpumesh_provider_gpus_unbiddable, with a warning once per change, not
// every block: an unpriced class, a class the chain does not know, an
// unhealthy GPU.
func TestUnbiddableGPUsReported(t *testing.T) {
	e := newEnv(defaultBidding())
	logs := &countingHandler{counts: map[string]int{}}
	pricing := config.Pricing{Classes: map[string]config.ClassPrice{h100: {Floor: []string{"2000000uusdc"}}}}
	e.b = bidder.New(e.f, defaultBidding(), pricing, e.board, e.m, slog.New(logs), nil,
		func() map[string]bool { return e.health })
	gpu := func(uuid, class, pci string, healthy bool) state.GPU {
		return state.GPU{GPU: gpus.GPU{UUID: uuid, Class: class, PCIDeviceID: pci, Healthy: healthy, Health: "xid 79"}}
	}
	e.board.SetGPUs([]state.GPU{
		gpu("g1", h100, "0x2330", true),
		gpu("g2", h100, "0x2330", false),
		gpu("r1", "rtx4090-24g", "0x2684", true),
		gpu("x1", providertypes.UnknownClass, "0x1eb8", true),
	}, true, "mock")
	e.step(t, 1)
	e.step(t, 2)
	require.Equal(t, []state.UnbiddableGPU{
		{UUID: "g2", Class: h100, Reason: bidder.ReasonUnhealthy, Detail: "NVML marks it unhealthy: xid 79"},
		{UUID: "r1", Class: "rtx4090-24g", Reason: bidder.ReasonNoPrice, Detail: "no price for class rtx4090-24g in pricing.classes"},
		{UUID: "x1", Class: providertypes.UnknownClass, Reason: bidder.ReasonUnknownClass,
			Detail: "PCI device id 0x1eb8 is not in any GPU class on chain"},
	}, e.board.Unbiddable())
	require.Equal(t, 1.0, testutil.ToFloat64(e.m.GPUsUnbiddable.WithLabelValues("rtx4090-24g", bidder.ReasonNoPrice)))
	require.Equal(t, 1.0, testutil.ToFloat64(e.m.GPUsUnbiddable.WithLabelValues(providertypes.UnknownClass, bidder.ReasonUnknownClass)))
	require.Equal(t, 1.0, testutil.ToFloat64(e.m.GPUsUnbiddable.WithLabelValues(h100, bidder.ReasonUnhealthy)))
	require.Equal(t, 3, logs.counts["WARN GPU can never get a bid"], "one warning per GPU over two blocks")

	// g2 recovers: the list changes, the gauge drops it, and only the
	// remaining two are warned about again.
	list, _, _ := e.board.GPUs()
	list[1].Healthy = true
	e.board.SetGPUs(list, true, "mock")
	e.step(t, 3)
	e.step(t, 4)
	require.Len(t, e.board.Unbiddable(), 2)
	require.Zero(t, testutil.ToFloat64(e.m.GPUsUnbiddable.WithLabelValues(h100, bidder.ReasonUnhealthy)))
	require.Equal(t, 5, logs.counts["WARN GPU can never get a bid"])
}

// A provider none of whose GPUs can be priced says so when it becomes
// active instead of "bidding".
func TestActiveWithNothingBiddableWarns(t *testing.T) {
	e := newEnv(defaultBidding())
	logs := &countingHandler{counts: map[string]int{}}
	e.b = bidder.New(e.f, defaultBidding(), config.Pricing{}, e.board, e.m, slog.New(logs), nil,
		func() map[string]bool { return e.health })
	e.board.SetGPUs([]state.GPU{{GPU: gpus.GPU{UUID: "g1", Class: h100, Healthy: true}}}, true, "mock")
	e.step(t, 1)
	require.Zero(t, logs.counts["INFO provider is active: bidding"])
	require.Equal(t, 1, logs.counts["WARN provider is active, but none of its GPUs can get a bid: see the GPUs reported unbiddable"])
}
