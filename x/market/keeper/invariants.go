package keeper

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	"github.com/gpumesh/gpumesh/x/market/types"
)

// CheckInvariants checks the module's state and returns every violation
// found, or nil:
//
//   - counters.active_leases = the ACTIVE leases = Σ provider_active_leases,
//     and each provider's count is its number of ACTIVE leases;
//   - the GPUs of every ACTIVE lease are allocated to it in x/provider, its
//     escrow account streams, its winning bid is WON, its order MATCHED,
//     and a lease with an end time is queued at it;
//   - every OPEN order is queued once, at its window end, its escrow
//     account is OPEN, open_bids counts its bids and they are all OPEN;
//     a MATCHED order has a lease; a closed order has no open bid;
//   - no queue entry points at an order that is not OPEN or a lease that
//     is not ACTIVE, or at another time than the record's;
//   - every order's seq is at most its tenant's last sequence.
//
// It walks the whole store: for tests and app.CheckInvariants, never for
// block work.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	var problems []error
	report := func(format string, args ...any) {
		problems = append(problems, fmt.Errorf(format, args...))
	}
	for _, check := range []func(context.Context, func(string, ...any)) error{
		k.checkLeases, k.checkOrders, k.checkQueues,
	} {
		if err := check(ctx, report); err != nil {
			return err
		}
	}
	return errors.Join(problems...)
}

func (k *Keeper) checkLeases(ctx context.Context, report func(string, ...any)) error {
	perProvider := make(map[string]uint64)
	var active uint64
	err := k.Leases.Walk(ctx, nil, func(key types.OrderKey, l types.Lease) (bool, error) {
		id := types.OrderIDFromKey(key)
		if !l.Id.Equal(id) {
			report("lease under %s has id %s", id, l.Id)
		}
		if l.State != types.LEASE_STATE_ACTIVE {
			if l.State != types.LEASE_STATE_CLOSED || l.CloseReason == types.LEASE_CLOSE_REASON_UNSPECIFIED {
				report("lease %s is %s with close reason %s", id, l.State, l.CloseReason)
			}
			return false, nil
		}
		active++
		perProvider[l.Provider]++
		for _, uuid := range l.Gpus {
			loc, _, g, err := k.provider.GetGPU(ctx, uuid)
			switch {
			case err != nil:
				report("GPU %s of active lease %s: %s", uuid, id, err)
			case loc.Owner != l.Provider || g.AllocatedTo != id.String():
				report("GPU %s of active lease %s is listed by %s and allocated to %q", uuid, id, loc.Owner, g.AllocatedTo)
			}
		}
		if !l.EndTime.IsZero() {
			has, err := k.LeaseEndQueue.Has(ctx, timeKey(l.EndTime, key))
			if err != nil {
				return true, err
			}
			if !has {
				report("active lease %s ending at %s is not queued", id, l.EndTime)
			}
		}
		account, err := k.escrow.GetAccount(ctx, key.K1(), key.K2())
		if err != nil {
			report("escrow account of active lease %s: %s", id, err)
		} else if account.State != escrowtypes.ACCOUNT_STATE_STREAMING || account.Provider != l.Provider {
			report("escrow account of active lease %s is %s paying %q", id, account.State, account.Provider)
		}
		provider, err := k.addressCodec.StringToBytes(l.Provider)
		if err != nil {
			report("active lease %s: provider %q: %s", id, l.Provider, err)
			return false, nil
		}
		bid, err := k.Bids.Get(ctx, bidKey(key, provider))
		if err != nil || bid.State != types.BID_STATE_WON {
			report("active lease %s: the winning bid of %s is %s (%v)", id, l.Provider, bid.State, err)
		}
		order, err := k.Orders.Get(ctx, key)
		if err != nil || order.State != types.ORDER_STATE_MATCHED {
			report("active lease %s: its order is %s (%v)", id, order.State, err)
		}
		return false, nil
	})
	if err != nil {
		return err
	}

	counters, err := k.counters(ctx)
	if err != nil {
		return err
	}
	if counters.ActiveLeases != active {
		report("counters.active_leases is %d, %d leases are active", counters.ActiveLeases, active)
	}
	var sum uint64
	err = k.ProviderActiveLeases.Walk(ctx, nil, func(provider sdk.AccAddress, n uint64) (bool, error) {
		sum += n
		addr, err := k.addressCodec.BytesToString(provider)
		if err != nil {
			return true, err
		}
		if n == 0 || perProvider[addr] != n {
			report("provider %s has %d active leases but provider_active_leases says %d", addr, perProvider[addr], n)
		}
		delete(perProvider, addr)
		return false, nil
	})
	if err != nil {
		return err
	}
	for _, addr := range slices.Sorted(maps.Keys(perProvider)) {
		report("provider %s has %d active leases but no provider_active_leases entry", addr, perProvider[addr])
	}
	if sum != active {
		report("provider_active_leases sum to %d, %d leases are active", sum, active)
	}
	return nil
}

func (k *Keeper) checkOrders(ctx context.Context, report func(string, ...any)) error {
	return k.Orders.Walk(ctx, nil, func(key types.OrderKey, o types.Order) (bool, error) {
		id := types.OrderIDFromKey(key)
		if !o.Id.Equal(id) {
			report("order under %s has id %s", id, o.Id)
		}
		last, err := k.TenantSeqs.Get(ctx, key.K1())
		if err != nil && !errors.Is(err, collections.ErrNotFound) {
			return true, err
		}
		if key.K2() > last {
			report("order %s: seq is above the tenant's last sequence %d", id, last)
		}
		bids, err := k.orderBids(ctx, key)
		if err != nil {
			return true, err
		}
		var open uint32
		for _, b := range bids {
			if b.State == types.BID_STATE_OPEN {
				open++
			}
		}
		if open != o.OpenBids {
			report("order %s: open_bids is %d, %d bids are open", id, o.OpenBids, open)
		}
		switch o.State {
		case types.ORDER_STATE_OPEN:
			if int(open) != len(bids) {
				report("open order %s has %d bids, %d open", id, len(bids), open)
			}
			has, err := k.WindowQueue.Has(ctx, timeKey(o.WindowEnd, key))
			if err != nil {
				return true, err
			}
			if !has {
				report("open order %s is not queued at its window end %s", id, o.WindowEnd)
			}
			account, err := k.escrow.GetAccount(ctx, key.K1(), key.K2())
			if err != nil {
				report("escrow account of open order %s: %s", id, err)
			} else if account.State != escrowtypes.ACCOUNT_STATE_OPEN {
				report("escrow account of open order %s is %s", id, account.State)
			}
		case types.ORDER_STATE_MATCHED:
			if has, err := k.Leases.Has(ctx, key); err != nil {
				return true, err
			} else if !has {
				report("matched order %s has no lease", id)
			}
		case types.ORDER_STATE_CLOSED, types.ORDER_STATE_EXPIRED:
		default:
			report("order %s is %s", id, o.State)
		}
		return false, nil
	})
}

func (k *Keeper) checkQueues(ctx context.Context, report func(string, ...any)) error {
	err := k.WindowQueue.Walk(ctx, nil, func(tk types.TimeKey) (bool, error) {
		id := types.NewOrderID(tk.K2(), tk.K3())
		o, err := k.Orders.Get(ctx, collections.Join(tk.K2(), tk.K3()))
		switch {
		case err != nil:
			report("window queue entry at %d: order %s: %s", tk.K1(), id, err)
		case o.State != types.ORDER_STATE_OPEN || o.WindowEnd.Unix() != tk.K1():
			report("window queue entry at %d: order %s is %s with window end %s", tk.K1(), id, o.State, o.WindowEnd)
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	return k.LeaseEndQueue.Walk(ctx, nil, func(tk types.TimeKey) (bool, error) {
		id := types.NewOrderID(tk.K2(), tk.K3())
		l, err := k.Leases.Get(ctx, collections.Join(tk.K2(), tk.K3()))
		switch {
		case err != nil:
			report("lease end queue entry at %d: lease %s: %s", tk.K1(), id, err)
		case l.State != types.LEASE_STATE_ACTIVE || l.EndTime.Unix() != tk.K1():
			report("lease end queue entry at %d: lease %s is %s ending %s", tk.K1(), id, l.State, l.EndTime)
		}
		return false, nil
	})
}
