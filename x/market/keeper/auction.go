package keeper

import (
	"context"
	"errors"
	"sort"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// candidate is an open bid with the provider's current reputation, for
// ranking.
type candidate struct {
	bid        types.Bid
	reputation uint32
}

// rankBids orders bids best first: lowest price, then higher reputation,
// then earlier arrival (bid number). The order is total: numbers are
// unique within an order.
func rankBids(cs []candidate) {
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if !a.bid.PricePerGpuHour.Amount.Equal(b.bid.PricePerGpuHour.Amount) {
			return a.bid.PricePerGpuHour.Amount.LT(b.bid.PricePerGpuHour.Amount)
		}
		if a.reputation != b.reputation {
			return a.reputation > b.reputation
		}
		return a.bid.Number < b.bid.Number
	})
}

// checkBid checks that a bid is still valid now and returns the class of
// its GPUs: the provider is active and may bid, the price is within the
// order's maximum and the GPUs are still the provider's, free and
// matching. Bids do not lock GPUs, so this runs again when a bid is chosen.
func (k *Keeper) checkBid(ctx context.Context, order types.Order, bid types.Bid) (string, error) {
	provider, err := k.addressCodec.StringToBytes(bid.Provider)
	if err != nil {
		return "", err
	}
	p, err := k.checkEligible(ctx, provider)
	if err != nil {
		return "", err
	}
	if err := checkPrice(order, bid.PricePerGpuHour); err != nil {
		return "", err
	}
	return k.checkOffer(ctx, order, p, bid.Gpus)
}

// selectWinner runs the auction of an OPEN order whose window has ended:
// the open bids are ranked, and the first one that is still valid becomes
// the lease. Bids ranked above it that failed the check are closed
// UNAVAILABLE, bids ranked below it LOST. Without a valid bid the order
// expires and its deposit is refunded (every bid then closes UNAVAILABLE).
// The work is bounded by max_bids_per_order.
func (k *Keeper) selectWinner(ctx context.Context, key types.OrderKey, order *types.Order) error {
	bids, err := k.orderBids(ctx, key)
	if err != nil {
		return err
	}
	cands := make([]candidate, 0, len(bids))
	for _, b := range bids {
		if b.State != types.BID_STATE_OPEN {
			continue
		}
		c := candidate{bid: b}
		provider, err := k.addressCodec.StringToBytes(b.Provider)
		if err != nil {
			return err
		}
		// An inactive provider's bid fails the check below anyway; its
		// reputation only orders it among the failures.
		if p, err := k.provider.GetActiveProvider(ctx, provider); err == nil {
			c.reputation = p.Reputation
		}
		cands = append(cands, c)
	}
	rankBids(cands)

	winner := -1
	for i, c := range cands {
		class, err := k.checkBid(ctx, *order, c.bid)
		if err != nil {
			if !isBidInvalid(err) {
				return err
			}
			continue
		}
		if err := k.startLease(ctx, key, order, c.bid, class, types.LeaseStartedAuction); err != nil {
			return err
		}
		winner = i
		break
	}
	for i, c := range cands {
		switch {
		case i == winner:
		case winner < 0 || i < winner:
			err = k.closeBid(ctx, order, c.bid, types.BID_CLOSE_REASON_UNAVAILABLE)
		default:
			err = k.closeBid(ctx, order, c.bid, types.BID_CLOSE_REASON_LOST)
		}
		if err != nil {
			return err
		}
	}
	if winner < 0 {
		return k.endOrder(ctx, key, order, types.ORDER_STATE_EXPIRED)
	}
	return k.Orders.Set(ctx, key, *order)
}

// isBidInvalid reports whether err says a bid is no longer valid (as
// opposed to a store failure, which must stop the block).
func isBidInvalid(err error) bool {
	for _, e := range []*errorsmod.Error{
		types.ErrProviderIneligible, types.ErrInvalidBid, types.ErrPriceTooHigh,
		types.ErrSpecMismatch, types.ErrGPUUnavailable,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// AcceptBid lets the tenant pick the provider's OPEN bid before the window
// ends. The bid must be valid now (its error is returned otherwise); it
// becomes the lease and every other open bid closes LOST.
func (k *Keeper) AcceptBid(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress) error {
	key := collections.Join(tenant, seq)
	order, err := k.getOpenOrder(ctx, key)
	if err != nil {
		return err
	}
	if now := blockTime(ctx); !now.Before(order.WindowEnd) {
		return errorsmod.Wrapf(types.ErrWindowClosed, "order %s took bids until %s; block time is %s: the auction picks the winner",
			order.Id, order.WindowEnd.Format(timeFormat), now.Format(timeFormat))
	}
	bid, err := k.GetBid(ctx, order.Id, provider)
	if err != nil {
		return err
	}
	if bid.State != types.BID_STATE_OPEN {
		return errorsmod.Wrapf(types.ErrBidNotOpen, "bid of %s on order %s is %s", provider, order.Id, bid.State)
	}
	class, err := k.checkBid(ctx, order, bid)
	if err != nil {
		return err
	}
	// The other open bids lose. When the chosen bid is the only open one
	// (order.OpenBids counts them exactly: an invariant), skip the
	// iteration: an iterator is the costliest store access there is.
	var bids []types.Bid
	if order.OpenBids > 1 {
		if bids, err = k.orderBids(ctx, key); err != nil {
			return err
		}
	}
	if err := k.startLease(ctx, key, &order, bid, class, types.LeaseStartedAccepted); err != nil {
		return err
	}
	for _, b := range bids {
		if b.State != types.BID_STATE_OPEN || b.Provider == bid.Provider {
			continue
		}
		if err := k.closeBid(ctx, &order, b, types.BID_CLOSE_REASON_LOST); err != nil {
			return err
		}
	}
	return k.Orders.Set(ctx, key, order)
}
