package types

import (
	"fmt"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Default parameters.
const (
	DefaultMaxBidsPerOrder        = 20
	DefaultMinDepositSeconds      = 600
	DefaultBidDepositDenom        = "umesh"
	DefaultMaxBidWindowSeconds    = 86_400
	DefaultInstantOrderTTLSeconds = 3_600
	DefaultMaxNodesPerOrder       = 32
	DefaultPriceIndexWeightBps    = 2_000
	DefaultMaxDurationSeconds     = 365 * 86_400

	// MaxBidsPerOrderLimit bounds max_bids_per_order: picking a winner
	// re-checks bids in rank order, so the bound is the worst case of one
	// order's auction in EndBlock.
	MaxBidsPerOrderLimit = 100
	// MaxNodesPerOrderLimit bounds max_nodes_per_order.
	MaxNodesPerOrderLimit = 1_024
	// MaxSecondsLimit bounds every duration parameter (10 years), so that
	// block time + any of them stays far inside int64 seconds.
	MaxSecondsLimit = 10 * 365 * 86_400
)

// DefaultBidDeposit is 5 MESH (5 000 000 umesh).
var DefaultBidDeposit = sdk.NewCoin(DefaultBidDepositDenom, math.NewInt(5_000_000))

// DefaultParams returns the default parameters of x/market.
func DefaultParams() Params {
	return Params{
		MaxBidsPerOrder:        DefaultMaxBidsPerOrder,
		MinDepositSeconds:      DefaultMinDepositSeconds,
		BidDeposit:             DefaultBidDeposit,
		MaxBidWindowSeconds:    DefaultMaxBidWindowSeconds,
		InstantOrderTtlSeconds: DefaultInstantOrderTTLSeconds,
		MaxNodesPerOrder:       DefaultMaxNodesPerOrder,
		PriceIndexWeightBps:    DefaultPriceIndexWeightBps,
		MaxDurationSeconds:     DefaultMaxDurationSeconds,
	}
}

// Validate checks every parameter and names the first invalid one with its
// value.
func (p Params) Validate() error {
	if p.MaxBidsPerOrder == 0 || p.MaxBidsPerOrder > MaxBidsPerOrderLimit {
		return fmt.Errorf("max_bids_per_order must be in [1, %d], got %d", MaxBidsPerOrderLimit, p.MaxBidsPerOrder)
	}
	if err := p.BidDeposit.Validate(); err != nil {
		return fmt.Errorf("bid_deposit %s: %w", p.BidDeposit, err)
	}
	if !p.BidDeposit.IsPositive() {
		return fmt.Errorf("bid_deposit must be positive, got %s", p.BidDeposit)
	}
	if p.MaxNodesPerOrder == 0 || p.MaxNodesPerOrder > MaxNodesPerOrderLimit {
		return fmt.Errorf("max_nodes_per_order must be in [1, %d], got %d", MaxNodesPerOrderLimit, p.MaxNodesPerOrder)
	}
	if p.PriceIndexWeightBps == 0 || p.PriceIndexWeightBps > BasisPoints {
		return fmt.Errorf("price_index_weight_bps must be in [1, %d], got %d", BasisPoints, p.PriceIndexWeightBps)
	}
	for _, f := range []struct {
		field string
		value uint64
	}{
		{"min_deposit_seconds", p.MinDepositSeconds},
		{"max_bid_window_seconds", p.MaxBidWindowSeconds},
		{"instant_order_ttl_seconds", p.InstantOrderTtlSeconds},
		{"max_duration_seconds", p.MaxDurationSeconds},
	} {
		if f.value == 0 || f.value > MaxSecondsLimit {
			return fmt.Errorf("%s must be in [1, %d], got %d", f.field, MaxSecondsLimit, f.value)
		}
	}
	return nil
}
