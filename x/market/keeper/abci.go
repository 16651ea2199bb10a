package keeper

import (
	"context"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// EndBlocker closes what is due at the block time, in three steps, each
// visiting only the queue entries that are due (never every open order or
// active lease) and at most its per-block cap of them, earliest due first:
//
//  1. leases whose duration has elapsed close with reason EXPIRED
//     (max_lease_ends_per_block);
//  2. leases whose escrow account has run dry (x/escrow's index) close
//     with reason INSUFFICIENT_FUNDS, or EXPIRED when their end time has
//     passed too (max_dry_closes_per_block);
//  3. orders whose bid window has ended run their auction; instant orders
//     whose time to live has passed expire (max_window_ends_per_block, and
//     at most max_auction_checks_per_block GPU re-checks of open bids).
//
// What is due beyond a cap stays in its queue and is processed in the next
// blocks, still in due-time order. The caps bound the block's work: a
// storm of orders sharing one window end, or of leases ending or running
// dry in the same second, spreads over several blocks instead of stalling
// one. Carrying over loses nothing and charges nobody more:
//
//   - a settlement at a later block time is capped by the stream end and by
//     the account's funds (x/escrow/types settle.go: EffectiveUnix, PaidAt),
//     so a lease closed late pays exactly what it would have paid on time,
//     and the tenant's refund is the same;
//   - an order past its window end takes no more bids and no acceptance
//     (CreateBid and AcceptBid compare the block time with window_end), so
//     the auction run later ranks the same bids (a bid whose provider or
//     GPUs changed meanwhile fails its re-check, as it would have if the
//     tenant had accepted it later in the window);
//   - a run-dry account refuses deposits (x/escrow Deposit), so a
//     carried-over dry lease cannot be revived;
//   - the tenant may still close a carried-over order or lease itself, which
//     removes its queue entries.
//
// The lease-end queue and the dry queue may name the same lease. Step 2
// reads the dry queue after step 1 has closed its leases, and a close
// removes the lease from both queues, so a lease is never closed twice;
// a lease that step 1 carried over but step 2 reaches closes EXPIRED, as
// step 1 would have closed it.
//
// Due keys are collected before anything changes. An error is returned,
// and stops the chain, rather than leaving state half updated: it means an
// invariant is broken.
func (k *Keeper) EndBlocker(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	now := blockTime(ctx)

	ends, err := dueKeys(ctx, k.LeaseEndQueue, now.Unix(), params.MaxLeaseEndsPerBlock)
	if err != nil {
		return err
	}
	for _, tk := range ends {
		if err := k.closeDueLease(ctx, tk); err != nil {
			return err
		}
	}

	dry, err := k.escrow.DueDry(ctx, int(params.MaxDryClosesPerBlock))
	if err != nil {
		return err
	}
	for _, id := range dry {
		if err := k.closeDryLease(ctx, types.OrderID{Tenant: id.Tenant, Seq: id.Seq}, now); err != nil {
			return err
		}
	}

	windows, err := dueKeys(ctx, k.WindowQueue, now.Unix(), params.MaxWindowEndsPerBlock)
	if err != nil {
		return err
	}
	var checks uint64
	for i, tk := range windows {
		key := collections.Join(tk.K2(), tk.K3())
		order, err := k.getOrder(ctx, key)
		if err != nil {
			return err
		}
		if order.State != types.ORDER_STATE_OPEN {
			// Not reachable while the invariants hold; drop the stale key,
			// so that it cannot hold a place in the queue forever.
			if err := k.WindowQueue.Remove(ctx, tk); err != nil {
				return err
			}
			continue
		}
		// The auction re-checks every open bid GPU by GPU: the work budget
		// counts that, so that bids paid for across a whole window cannot
		// all be re-checked in one block. The first order always runs, so
		// the queue advances whatever one order costs (at most
		// max_bids_per_order × max_gpus_per_order checks).
		cost := uint64(order.OpenBids) * order.Spec.TotalGPUs()
		if i > 0 && checks+cost > params.MaxAuctionChecksPerBlock {
			break
		}
		checks += cost
		if err := k.selectWinner(ctx, key, &order); err != nil {
			return err
		}
	}
	return nil
}

// closeDueLease closes the lease of a due lease-end queue key with reason
// EXPIRED. A key whose lease is no longer ACTIVE is not reachable while the
// invariants hold (a close removes the key); it is dropped, so that it
// cannot hold a place in the queue forever.
func (k *Keeper) closeDueLease(ctx context.Context, tk types.TimeKey) error {
	id := types.NewOrderID(tk.K2(), tk.K3())
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return err
	}
	if lease.State != types.LEASE_STATE_ACTIVE {
		return k.LeaseEndQueue.Remove(ctx, tk)
	}
	return k.CloseLease(ctx, id, types.LEASE_CLOSE_REASON_EXPIRED)
}

// closeDryLease closes the lease of an escrow account that has run dry:
// EXPIRED when its end time has passed too (step 1 carried it over),
// INSUFFICIENT_FUNDS otherwise. A streaming account whose lease is not
// ACTIVE breaks x/market's and x/escrow's invariants together; it is an
// error, as skipping it would leave it at the head of the dry queue.
func (k *Keeper) closeDryLease(ctx context.Context, id types.OrderID, now time.Time) error {
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return err
	}
	if lease.State != types.LEASE_STATE_ACTIVE {
		return errorsmod.Wrapf(types.ErrLeaseNotActive, "escrow account %s is in the dry queue but its lease is %s (%s)",
			id, lease.State, lease.CloseReason)
	}
	reason := types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS
	if !lease.EndTime.IsZero() && !lease.EndTime.After(now) {
		reason = types.LEASE_CLOSE_REASON_EXPIRED
	}
	return k.CloseLease(ctx, id, reason)
}

// dueKeys returns up to limit keys of a time queue due at or before now,
// in time order. It stops at the first key that is not due.
func dueKeys(ctx context.Context, queue collections.KeySet[types.TimeKey], now int64, limit uint32) ([]types.TimeKey, error) {
	var due []types.TimeKey
	if limit == 0 {
		return due, nil
	}
	rng := collections.NewPrefixUntilTripleRange[int64, sdk.AccAddress, uint64](now)
	err := queue.Walk(ctx, rng, func(key types.TimeKey) (bool, error) {
		due = append(due, key)
		return len(due) >= int(limit), nil
	})
	return due, err
}
