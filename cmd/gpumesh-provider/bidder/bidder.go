// Package bidder matches open orders to the provider's free, healthy GPUs
// and bids at the configured per-class price; it withdraws bids that went
// stale and counts the ones that won or lost.
package bidder

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Chain is what the bidder needs from the chain client.
type Chain interface {
	Address() sdk.AccAddress
	ProviderState(ctx context.Context) (chain.ProviderState, error)
	ProviderParams(ctx context.Context) (providertypes.Params, error)
	MarketParams(ctx context.Context) (markettypes.Params, error)
	PriceIndex(ctx context.Context) ([]markettypes.PriceIndexEntry, error)
	OpenOrders(ctx context.Context) ([]markettypes.Order, error)
	Bids(ctx context.Context, provider string, state markettypes.BidState) ([]markettypes.Bid, error)
	OrderBids(ctx context.Context, id markettypes.OrderID) ([]markettypes.Bid, error)
	Send(ctx context.Context, opts chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error)
}

// Bidder is the bidding subsystem. Its state is owned by the goroutine
// running Run.
type Bidder struct {
	chain   Chain
	cfg     config.Bidding
	pricing config.Pricing
	board   *state.Board
	metrics *metrics.Metrics
	log     *slog.Logger
	blocks  <-chan chain.Block
	// healthy returns the healthy GPUs by UUID; nil when NVML has not
	// answered yet (then nothing is offered).
	healthy func() map[string]bool

	known    map[string]markettypes.OrderID // our open bids, by order id
	failures map[string]retry               // orders whose bid failed
	active   bool
	// unbiddable is the fingerprint of the last published list of GPUs
	// that can never get a bid ("" before the first).
	unbiddable string
	// biddable is how many present GPUs can get a bid (-1 before NVML).
	biddable int
}

type retry struct {
	count int
	after int64 // height
}

// New returns a bidder that acts on each block from blocks.
func New(c Chain, cfg config.Bidding, pricing config.Pricing, board *state.Board, m *metrics.Metrics,
	log *slog.Logger, blocks <-chan chain.Block, healthy func() map[string]bool,
) *Bidder {
	return &Bidder{chain: c, cfg: cfg, pricing: pricing, board: board, metrics: m, log: log, blocks: blocks,
		healthy: healthy, known: map[string]markettypes.OrderID{}, failures: map[string]retry{}, biddable: -1}
}

// Run checks the pricing policy against the chain's GPU classes, then
// bids on every new block until ctx is done. A pricing class the chain
// does not have is fatal. A failed step is retried on a later block,
// after a jittered backoff.
func (b *Bidder) Run(ctx context.Context) error {
	var pp providertypes.Params
	err := backoff.Retry(ctx, backoff.Default(), 0, nil, func(ctx context.Context) error {
		var err error
		if pp, err = b.chain.ProviderParams(ctx); err != nil {
			b.log.Warn("reading the chain's GPU classes to check the pricing failed", "err", err)
		}
		return err
	})
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	if err := CheckPricing(b.pricing, pp.GpuClasses); err != nil {
		return err
	}
	return chain.EachBlock(ctx, b.blocks, b.log, "bidding step", b.Step)
}

// Step runs one round at block blk: account for bids that resolved,
// withdraw stale bids, bid on open orders that fit.
func (b *Bidder) Step(ctx context.Context, blk chain.Block) error {
	me := b.chain.Address().String()
	st, err := b.chain.ProviderState(ctx)
	if err != nil {
		return err
	}
	// Read every block anyway: the API and the GPU watcher get the
	// allocations and verifications as fresh as the bids.
	b.board.SetProvider(st.Snapshot(me))
	pp, err := b.chain.ProviderParams(ctx)
	if err != nil {
		return err
	}
	b.checkBiddable(pp.GpuClasses)
	if active := st.Active(); active != b.active {
		b.active = active
		switch {
		case active && b.cfg.Enabled && b.biddable == 0:
			b.log.Warn("provider is active, but none of its GPUs can get a bid: see the GPUs reported unbiddable")
		case active && b.cfg.Enabled:
			b.log.Info("provider is active: bidding")
		case active:
			b.log.Info("provider is active; bidding is off (bidding.enabled: false)")
		default:
			b.log.Warn("provider cannot bid (not registered, deregistered, jailed or under-bonded)",
				"registered", st.Registered, "status", st.Provider.Status.String(), "jailed", st.Bond.Jailed,
				"bonded", st.Bond.Bonded.String(), "required", st.Bond.Required.String())
		}
	}
	open, err := b.chain.Bids(ctx, me, markettypes.BID_STATE_OPEN)
	if err != nil {
		return err
	}
	if err := b.settleResolved(ctx, open); err != nil {
		return err
	}
	orders, err := b.chain.OpenOrders(ctx)
	if err != nil {
		return err
	}
	healthy := b.healthy()
	perGPU := map[string]int{}
	for _, bid := range open {
		for _, g := range bid.Gpus {
			perGPU[g]++
		}
	}
	open, err = b.withdrawStale(ctx, blk, open, orders, healthy, perGPU)
	if err != nil {
		return err
	}
	if b.cfg.Enabled && st.Active() && healthy != nil {
		placed, err := b.bidOnOrders(ctx, blk, st, pp, orders, open, healthy, perGPU)
		open = append(open, placed...)
		if err != nil {
			b.publish(open)
			return err
		}
	}
	b.publish(open)
	return nil
}

// settleResolved counts our bids that are no longer open as won or lost.
func (b *Bidder) settleResolved(ctx context.Context, open []markettypes.Bid) error {
	still := map[string]bool{}
	for _, bid := range open {
		still[bid.OrderId.String()] = true
		b.known[bid.OrderId.String()] = bid.OrderId
	}
	me := b.chain.Address().String()
	for key, id := range b.known {
		if still[key] {
			continue
		}
		bids, err := b.chain.OrderBids(ctx, id)
		if err != nil && !chain.IsNotFound(err) {
			return err
		}
		for _, bid := range bids {
			if bid.Provider != me {
				continue
			}
			switch {
			// A won bid whose lease already ended is CLOSED with reason
			// LEASE_CLOSED: it won all the same.
			case bid.State == markettypes.BID_STATE_WON || bid.CloseReason == markettypes.BID_CLOSE_REASON_LEASE_CLOSED:
				b.metrics.BidsWon.Inc()
				b.log.Info("bid won: lease started", "order", key)
			case bid.State == markettypes.BID_STATE_CLOSED && bid.CloseReason != markettypes.BID_CLOSE_REASON_WITHDRAWN:
				b.metrics.BidsLost.Inc()
				b.log.Info("bid closed by the chain", "order", key, "reason", bid.CloseReason.String())
			}
		}
		delete(b.known, key)
	}
	return nil
}

// withdrawStale closes our open bids on orders still open stale_after past
// their window, and bids naming a GPU that is no longer healthy.
func (b *Bidder) withdrawStale(ctx context.Context, blk chain.Block, open []markettypes.Bid, orders []markettypes.Order,
	healthy map[string]bool, perGPU map[string]int,
) ([]markettypes.Bid, error) {
	byID := make(map[string]markettypes.Order, len(orders))
	for _, o := range orders {
		byID[o.Id.String()] = o
	}
	me := b.chain.Address().String()
	kept := open[:0:0]
	for _, bid := range open {
		reason := ""
		if o, ok := byID[bid.OrderId.String()]; ok && blk.Time.After(o.WindowEnd.Add(b.cfg.StaleAfter.D())) {
			reason = "stale"
		}
		if healthy != nil {
			for _, g := range bid.Gpus {
				if !healthy[g] {
					reason = "unhealthy_gpu"
				}
			}
		}
		if reason == "" {
			kept = append(kept, bid)
			continue
		}
		_, err := b.chain.Send(ctx, chain.SendOptions{}, &markettypes.MsgCloseBid{Provider: me, OrderId: bid.OrderId})
		if err != nil {
			if ctx.Err() != nil {
				return open, ctx.Err()
			}
			b.log.Warn("withdrawing bid failed", "order", bid.OrderId.String(), "reason", reason, "err", err)
			kept = append(kept, bid)
			continue
		}
		b.metrics.BidsClosed.WithLabelValues(reason).Inc()
		b.log.Info("bid withdrawn", "order", bid.OrderId.String(), "reason", reason)
		delete(b.known, bid.OrderId.String())
		for _, g := range bid.Gpus {
			perGPU[g]--
		}
	}
	return kept, nil
}

// bidOnOrders bids on each open order we have not bid on and can serve,
// instant orders first, then oldest first. Each bid is its own
// transaction, so one refused bid does not hold back the others.
func (b *Bidder) bidOnOrders(ctx context.Context, blk chain.Block, st chain.ProviderState, pp providertypes.Params,
	orders []markettypes.Order, open []markettypes.Bid, healthy map[string]bool, perGPU map[string]int,
) ([]markettypes.Bid, error) {
	mp, err := b.chain.MarketParams(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := b.chain.PriceIndex(ctx)
	if err != nil {
		return nil, err
	}
	index := make(map[string]sdkmath.LegacyDec, len(entries))
	for _, e := range entries {
		index[e.GpuClass+"/"+e.Denom] = e.Price
	}
	bidOn := map[string]bool{}
	for _, bid := range open {
		bidOn[bid.OrderId.String()] = true
	}
	sort.SliceStable(orders, func(i, j int) bool {
		ii, ij := orders[i].BidWindowSeconds == 0, orders[j].BidWindowSeconds == 0
		if ii != ij {
			return ii
		}
		return orders[i].CreatedAt.Before(orders[j].CreatedAt)
	})
	me := b.chain.Address().String()
	usable := func(uuid string) bool { return healthy[uuid] && perGPU[uuid] < b.cfg.Overcommit }
	var placed []markettypes.Bid
	for _, o := range orders {
		key := o.Id.String()
		if bidOn[key] || o.Id.Tenant == me || (mp.MaxBidsPerOrder > 0 && o.OpenBids >= mp.MaxBidsPerOrder) {
			continue
		}
		if len(open)+len(placed) >= b.cfg.MaxOpenBids {
			break
		}
		if r, ok := b.failures[key]; ok && blk.Height < r.after {
			continue
		}
		offer, ok := Cheapest(SelectGPUs(o.Spec, st.Provider, st.Nodes, pp.GpuClasses, usable), b.pricing,
			o.MaxPricePerGpuHour, index)
		if !ok {
			continue
		}
		msg := &markettypes.MsgCreateBid{Provider: me, OrderId: o.Id, PricePerGpuHour: offer.Price, Gpus: offer.GPUs,
			Deposit: mp.BidDeposit}
		if _, err := b.chain.Send(ctx, chain.SendOptions{}, msg); err != nil {
			if ctx.Err() != nil {
				return placed, ctx.Err()
			}
			r := b.failures[key]
			r.count++
			r.after = blk.Height + backoffBlocks(r.count)
			b.failures[key] = r
			var te *chain.TxError
			level := slog.LevelWarn
			if errors.As(err, &te) && te.Stage == "simulate" {
				level = slog.LevelInfo // the order moved on (won, closed) before our bid
			}
			b.log.Log(ctx, level, "bid refused", "order", key, "price", offer.Price.String(), "err", err,
				"retry_at_height", r.after)
			continue
		}
		delete(b.failures, key)
		b.metrics.BidsPlaced.WithLabelValues(offer.Class).Inc()
		b.known[key] = o.Id
		for _, g := range offer.GPUs {
			perGPU[g]++
		}
		placed = append(placed, markettypes.Bid{OrderId: o.Id, Provider: me, PricePerGpuHour: offer.Price,
			Gpus: offer.GPUs, GpuClass: offer.Class, State: markettypes.BID_STATE_OPEN, CreatedAt: blk.Time})
		b.log.Info("bid placed", "order", key, "class", offer.Class, "gpus", len(offer.GPUs),
			"price_per_gpu_hour", offer.Price.String(), "instant", o.BidWindowSeconds == 0)
	}
	// Forget failures of orders that are gone.
	live := make(map[string]bool, len(orders))
	for _, o := range orders {
		live[o.Id.String()] = true
	}
	for key := range b.failures {
		if !live[key] {
			delete(b.failures, key)
		}
	}
	return placed, nil
}

// backoffBlocks is how many blocks to wait before bidding again on an
// order whose bid failed count times: 2, 4, 8 … at most 256.
func backoffBlocks(count int) int64 {
	if count > 8 {
		count = 8
	}
	return int64(1) << count
}

// checkBiddable publishes the GPUs that can never get a bid (board and
// gpumesh_provider_gpus_unbiddable) and warns once each time that list
// changes: unhealthy, of a class the chain does not know, or unpriced.
func (b *Bidder) checkBiddable(classes []providertypes.GPUClass) {
	list, ok, _ := b.board.GPUs()
	if !ok {
		return
	}
	bad := Unbiddable(b.pricing, classes, list)
	b.biddable = len(list) - len(bad)
	var fp strings.Builder
	for _, u := range bad {
		fp.WriteString(u.UUID + "/" + u.Reason + "/" + u.Class + ",")
	}
	fingerprint := "ok:" + fp.String()
	if fingerprint == b.unbiddable {
		return
	}
	b.unbiddable = fingerprint
	b.board.SetUnbiddable(bad)
	b.metrics.GPUsUnbiddable.Reset()
	for _, u := range bad {
		b.metrics.GPUsUnbiddable.WithLabelValues(u.Class, u.Reason).Inc()
	}
	if len(bad) == 0 {
		b.log.Info("every GPU can get a bid", "gpus", len(list))
		return
	}
	for _, u := range bad {
		b.log.Warn("GPU can never get a bid", "gpu", u.UUID, "class", u.Class, "reason", u.Reason, "detail", u.Detail)
	}
	b.log.Warn("GPUs that can never get a bid", "unbiddable", len(bad), "biddable", b.biddable)
}

func (b *Bidder) publish(open []markettypes.Bid) {
	list := make([]state.Bid, 0, len(open))
	for _, bid := range open {
		list = append(list, state.Bid{OrderID: bid.OrderId.String(), Price: bid.PricePerGpuHour.String(),
			GPUs: bid.Gpus, State: bid.State.String(), CreatedAt: bid.CreatedAt})
	}
	b.board.SetBids(list)
}
