package keeper

import (
	"context"

	"cosmossdk.io/collections"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// DueDryPerBlock bounds the escrow accounts that have run dry closed in
// one block. Accounts left over are closed in the next block and lose
// nothing: a settlement is capped by the account's funds and stream end,
// so a late close never overcharges the tenant or underpays the provider.
// A close costs about half a millisecond or more on a 2-core machine
// (docs/benchmarks.md, "Settlement storms"), so the cap keeps a storm's
// block to a second or two.
const DueDryPerBlock = 2_000

// EndBlocker closes what is due at the block time, in three steps, each
// visiting only the queue entries that are due (never every open order or
// active lease):
//
//  1. leases whose duration has elapsed close with reason EXPIRED;
//  2. leases whose escrow account has run dry (x/escrow's index) close
//     with reason INSUFFICIENT_FUNDS;
//  3. orders whose bid window has ended run their auction; instant orders
//     whose time to live has passed expire.
//
// Due keys are collected before anything changes. An error is returned,
// and stops the chain, rather than leaving state half updated: it means an
// invariant is broken.
func (k *Keeper) EndBlocker(ctx context.Context) error {
	now := blockTime(ctx).Unix()

	ends, err := dueKeys(ctx, k.LeaseEndQueue, now)
	if err != nil {
		return err
	}
	for _, key := range ends {
		if err := k.closeDueLease(ctx, types.NewOrderID(key.K2(), key.K3()), types.LEASE_CLOSE_REASON_EXPIRED); err != nil {
			return err
		}
	}

	dry, err := k.escrow.DueDry(ctx, DueDryPerBlock)
	if err != nil {
		return err
	}
	for _, id := range dry {
		if err := k.closeDueLease(ctx, types.OrderID{Tenant: id.Tenant, Seq: id.Seq}, types.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS); err != nil {
			return err
		}
	}

	windows, err := dueKeys(ctx, k.WindowQueue, now)
	if err != nil {
		return err
	}
	for _, tk := range windows {
		key := collections.Join(tk.K2(), tk.K3())
		order, err := k.getOrder(ctx, key)
		if err != nil {
			return err
		}
		if order.State != types.ORDER_STATE_OPEN {
			// Not reachable while the invariants hold; drop the stale key.
			if err := k.WindowQueue.Remove(ctx, tk); err != nil {
				return err
			}
			continue
		}
		if err := k.selectWinner(ctx, key, &order); err != nil {
			return err
		}
	}
	return nil
}

// closeDueLease closes a lease that EndBlock found due, unless it is no
// longer ACTIVE (closed earlier in the block).
func (k *Keeper) closeDueLease(ctx context.Context, id types.OrderID, reason types.LeaseCloseReason) error {
	lease, err := k.GetLease(ctx, id)
	if err != nil {
		return err
	}
	if lease.State != types.LEASE_STATE_ACTIVE {
		return nil
	}
	return k.CloseLease(ctx, id, reason)
}

// dueKeys returns the keys of a time queue due at or before now, in time
// order. It stops at the first key that is not due.
func dueKeys(ctx context.Context, queue collections.KeySet[types.TimeKey], now int64) ([]types.TimeKey, error) {
	iter, err := queue.Iterate(ctx, nil)
	if err != nil {
		return nil, err
	}
	var due []types.TimeKey
	for ; iter.Valid(); iter.Next() {
		key, err := iter.Key()
		if err != nil {
			_ = iter.Close()
			return nil, err
		}
		if key.K1() > now {
			break
		}
		due = append(due, key)
	}
	return due, iter.Close()
}
