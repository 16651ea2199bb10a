package types

import (
	"fmt"
	"slices"
	"strings"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/internal/text"
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
	DefaultMaxGPUsPerOrder        = MaxGPUsPerBid
	DefaultMaxRegionsPerOrder     = 32
	DefaultMaxClassesPerOrder     = 16
	// The EndBlock caps: a lease end or a dry close is one settlement
	// (a few bank sends) and a GPU release; a window end ranks and
	// re-checks up to max_bids_per_order bids, so it costs more.
	DefaultMaxLeaseEndsPerBlock  = 1_000
	DefaultMaxDryClosesPerBlock  = 1_000
	DefaultMaxWindowEndsPerBlock = 500
	// DefaultMaxAuctionChecksPerBlock bounds the GPUs that the auctions of
	// one EndBlock re-check (open bids × GPUs per order): 25 000 checks, at
	// most about 85 M gas of store reads (about 3 400 per check: an index
	// read per GPU, a node read per node of a bid, the bid's own records),
	// under a block's 100 M.
	DefaultMaxAuctionChecksPerBlock = 25_000
	// MaxAuctionChecksLimit bounds max_auction_checks_per_block.
	MaxAuctionChecksLimit = 10_000_000
	// DefaultReputationLeaseSeconds is the duration of a lease that earns a
	// full reputation step: an hour.
	DefaultReputationLeaseSeconds = 3_600

	// MaxBidsPerOrderLimit bounds max_bids_per_order: picking a winner
	// re-checks bids in rank order, so the bound is the worst case of one
	// order's auction in EndBlock.
	MaxBidsPerOrderLimit = 100
	// MaxNodesPerOrderLimit bounds max_nodes_per_order.
	MaxNodesPerOrderLimit = 1_024
	// MaxSecondsLimit bounds every duration parameter (10 years), so that
	// block time + any of them stays far inside int64 seconds.
	MaxSecondsLimit = 10 * 365 * 86_400
	// MaxPerBlockLimit bounds the three EndBlock caps. It is a sanity bound
	// on the param, not a safe value: a cap is chosen so that a block
	// processing it stays well under the block time (docs/benchmarks.md).
	MaxPerBlockLimit = 100_000
)

var (
	// DefaultBidDeposit is 5 MESH (5 000 000 umesh).
	DefaultBidDeposit = sdk.NewCoin(DefaultBidDepositDenom, math.NewInt(5_000_000))
	// DefaultReputationLeaseValue is the payment of a lease, per denom,
	// that earns a full reputation step: 100 MESH.
	DefaultReputationLeaseValue = sdk.NewCoins(sdk.NewCoin("umesh", math.NewInt(100_000_000)))
)

// DefaultAccessEndpointSchemes are the schemes a lease's access endpoint
// may use on a new chain: ssh (what the hooks in docs/hooks print,
// ssh://user@host:port) and https (a notebook or web terminal). Not http:
// such a URL often carries a session token, and a tenant's console should
// not be pointed at a plain-text one by default. Governance may add it.
func DefaultAccessEndpointSchemes() []string { return []string{"ssh", "https"} }

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
		MaxGpusPerOrder:        DefaultMaxGPUsPerOrder,
		MaxRegionsPerOrder:     DefaultMaxRegionsPerOrder,
		MaxClassesPerOrder:     DefaultMaxClassesPerOrder,
		MaxLeaseEndsPerBlock:   DefaultMaxLeaseEndsPerBlock,
		MaxDryClosesPerBlock:   DefaultMaxDryClosesPerBlock,
		MaxWindowEndsPerBlock:  DefaultMaxWindowEndsPerBlock,
		ReputationLeaseValue:   DefaultReputationLeaseValue,
		ReputationLeaseSeconds: DefaultReputationLeaseSeconds,

		MaxAuctionChecksPerBlock: DefaultMaxAuctionChecksPerBlock,
		AccessEndpointSchemes:    DefaultAccessEndpointSchemes(),
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
		field      string
		value, max uint64
	}{
		{"min_deposit_seconds", p.MinDepositSeconds, MaxSecondsLimit},
		{"max_bid_window_seconds", p.MaxBidWindowSeconds, MaxSecondsLimit},
		{"instant_order_ttl_seconds", p.InstantOrderTtlSeconds, MaxSecondsLimit},
		{"max_duration_seconds", p.MaxDurationSeconds, MaxSecondsLimit},
		{"reputation_lease_seconds", p.ReputationLeaseSeconds, MaxSecondsLimit},
		{"max_gpus_per_order", uint64(p.MaxGpusPerOrder), MaxGPUsPerBid},
		{"max_regions_per_order", uint64(p.MaxRegionsPerOrder), MaxRegionsPerSpec},
		{"max_classes_per_order", uint64(p.MaxClassesPerOrder), MaxGPUClassesPerSpec},
		{"max_lease_ends_per_block", uint64(p.MaxLeaseEndsPerBlock), MaxPerBlockLimit},
		{"max_dry_closes_per_block", uint64(p.MaxDryClosesPerBlock), MaxPerBlockLimit},
		{"max_window_ends_per_block", uint64(p.MaxWindowEndsPerBlock), MaxPerBlockLimit},
		{"max_auction_checks_per_block", p.MaxAuctionChecksPerBlock, MaxAuctionChecksLimit},
	} {
		if f.value == 0 || f.value > f.max {
			return fmt.Errorf("%s must be in [1, %d], got %d", f.field, f.max, f.value)
		}
	}
	// Coins.Validate refuses unsorted or duplicate denoms and non-positive
	// amounts; an empty list is valid (no lease earns a reputation step).
	for i, c := range p.ReputationLeaseValue {
		if c.Amount.IsNil() {
			return fmt.Errorf("reputation_lease_value[%d] (denom %q) has no amount", i, c.Denom)
		}
	}
	if err := p.ReputationLeaseValue.Validate(); err != nil {
		return fmt.Errorf("reputation_lease_value %s: %w", p.ReputationLeaseValue, err)
	}
	return text.CheckSchemes("access_endpoint_schemes", p.AccessEndpointSchemes)
}

// CheckEndpointScheme refuses an access endpoint whose scheme
// access_endpoint_schemes does not list. The endpoint is valid
// (ValidateEndpoint), so its scheme is the lowercase text before the first
// ':'.
func (p Params) CheckEndpointScheme(endpoint string) error {
	scheme, _, _ := strings.Cut(endpoint, ":")
	if !slices.Contains(p.AccessEndpointSchemes, scheme) {
		return errorsmod.Wrapf(ErrInvalidEndpoint, "endpoint %s: scheme %q is not one of access_endpoint_schemes %v",
			text.Quote(endpoint), scheme, p.AccessEndpointSchemes)
	}
	return nil
}
