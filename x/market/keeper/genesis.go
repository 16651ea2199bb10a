package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// InitGenesis imports a validated genesis state and rebuilds the derived
// state from it: the auction window queue (every OPEN order at its
// window_end), the lease end queue (every ACTIVE lease with an end time)
// and the ACTIVE lease count of each provider.
func (k *Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, o := range gs.Orders {
		key, err := o.Id.Key()
		if err != nil {
			return err
		}
		if err := k.Orders.Set(ctx, key, o); err != nil {
			return err
		}
		if o.State == types.ORDER_STATE_OPEN {
			if err := k.WindowQueue.Set(ctx, collections.Join3(o.WindowEnd.Unix(), key.K1(), key.K2())); err != nil {
				return err
			}
		}
	}
	for _, b := range gs.Bids {
		key, err := b.OrderId.Key()
		if err != nil {
			return err
		}
		provider, err := k.addressCodec.StringToBytes(b.Provider)
		if err != nil {
			return err
		}
		if err := k.Bids.Set(ctx, collections.Join3(key.K1(), key.K2(), sdk.AccAddress(provider)), b); err != nil {
			return err
		}
	}
	active := make(map[string]uint64)
	var providers []sdk.AccAddress // in first-seen order, for a deterministic write order
	for _, l := range gs.Leases {
		key, err := l.Id.Key()
		if err != nil {
			return err
		}
		if err := k.Leases.Set(ctx, key, l); err != nil {
			return err
		}
		if l.State != types.LEASE_STATE_ACTIVE {
			continue
		}
		if !l.EndTime.IsZero() {
			if err := k.LeaseEndQueue.Set(ctx, collections.Join3(l.EndTime.Unix(), key.K1(), key.K2())); err != nil {
				return err
			}
		}
		bz, err := k.addressCodec.StringToBytes(l.Provider)
		if err != nil {
			return err
		}
		provider := sdk.AccAddress(bz)
		if active[string(provider)] == 0 {
			providers = append(providers, provider)
		}
		active[string(provider)]++
	}
	for _, p := range providers {
		if err := k.ProviderActiveLeases.Set(ctx, p, active[string(p)]); err != nil {
			return err
		}
	}
	for _, e := range gs.PriceIndex {
		if err := k.PriceIndex.Set(ctx, collections.Join(e.GpuClass, e.Denom), e); err != nil {
			return err
		}
	}
	if err := k.Counters.Set(ctx, gs.Counters); err != nil {
		return err
	}
	for _, ts := range gs.TenantSeqs {
		tenant, err := k.addressCodec.StringToBytes(ts.Tenant)
		if err != nil {
			return err
		}
		if err := k.TenantSeqs.Set(ctx, tenant, ts.Seq); err != nil {
			return err
		}
	}
	return nil
}

// ExportGenesis exports the module state, each collection in key order:
// orders and leases by (tenant, seq), bids by (tenant, seq, provider),
// the price index by (class, denom) and the tenant sequences by tenant.
// The queues and per-provider counts are left out: InitGenesis rebuilds
// them.
func (k *Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	counters, err := k.Counters.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	gs := &types.GenesisState{Params: params, Counters: counters}
	err = k.Orders.Walk(ctx, nil, func(_ types.OrderKey, o types.Order) (bool, error) {
		gs.Orders = append(gs.Orders, o)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Bids.Walk(ctx, nil, func(_ types.BidKey, b types.Bid) (bool, error) {
		gs.Bids = append(gs.Bids, b)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.Leases.Walk(ctx, nil, func(_ types.OrderKey, l types.Lease) (bool, error) {
		gs.Leases = append(gs.Leases, l)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.PriceIndex.Walk(ctx, nil, func(_ collections.Pair[string, string], e types.PriceIndexEntry) (bool, error) {
		gs.PriceIndex = append(gs.PriceIndex, e)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	err = k.TenantSeqs.Walk(ctx, nil, func(tenant sdk.AccAddress, seq uint64) (bool, error) {
		s, err := k.addressCodec.BytesToString(tenant)
		if err != nil {
			return true, err
		}
		gs.TenantSeqs = append(gs.TenantSeqs, types.TenantSeq{Tenant: s, Seq: seq})
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return gs, nil
}
