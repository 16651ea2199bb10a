package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

func TestDefaultParamsValid(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	require.Equal(t, uint32(20), p.MaxBidsPerOrder)
	require.Equal(t, uint64(600), p.MinDepositSeconds)
	require.Equal(t, sdk.NewInt64Coin("umesh", 5_000_000), p.BidDeposit)
	require.Equal(t, uint64(86_400), p.MaxBidWindowSeconds)
	require.Equal(t, uint64(3_600), p.InstantOrderTtlSeconds)
	require.Equal(t, uint32(32), p.MaxNodesPerOrder)
	require.Equal(t, uint32(2_000), p.PriceIndexWeightBps)
	require.Equal(t, uint64(31_536_000), p.MaxDurationSeconds)
	require.Equal(t, uint32(1024), p.MaxGpusPerOrder)
	require.Equal(t, uint32(32), p.MaxRegionsPerOrder)
	require.Equal(t, uint32(16), p.MaxClassesPerOrder)
	require.Equal(t, uint32(1000), p.MaxLeaseEndsPerBlock)
	require.Equal(t, uint32(1000), p.MaxDryClosesPerBlock)
	require.Equal(t, uint32(500), p.MaxWindowEndsPerBlock)
	require.Equal(t, sdk.NewCoins(sdk.NewInt64Coin("umesh", 100_000_000)), p.ReputationLeaseValue)
	require.Equal(t, uint64(3600), p.ReputationLeaseSeconds)
	require.Equal(t, []string{"ssh", "https"}, p.AccessEndpointSchemes)
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name string
		mut  func(p *types.Params)
		msg  string
	}{
		{"no bids", func(p *types.Params) { p.MaxBidsPerOrder = 0 }, "max_bids_per_order must be in [1, 100], got 0"},
		{"too many bids", func(p *types.Params) { p.MaxBidsPerOrder = 101 }, "max_bids_per_order must be in [1, 100], got 101"},
		{"bid deposit denom", func(p *types.Params) { p.BidDeposit = sdk.Coin{Denom: "U", Amount: math.NewInt(1)} }, "bid_deposit 1U"},
		{"bid deposit zero", func(p *types.Params) { p.BidDeposit = sdk.NewInt64Coin("umesh", 0) }, "bid_deposit must be positive, got 0umesh"},
		{"bid deposit negative", func(p *types.Params) { p.BidDeposit = sdk.Coin{Denom: "umesh", Amount: math.NewInt(-1)} },
			"bid_deposit -1umesh"},
		{"no nodes", func(p *types.Params) { p.MaxNodesPerOrder = 0 }, "max_nodes_per_order must be in [1, 1024], got 0"},
		{"weight zero", func(p *types.Params) { p.PriceIndexWeightBps = 0 }, "price_index_weight_bps must be in [1, 10000], got 0"},
		{"weight above 100%", func(p *types.Params) { p.PriceIndexWeightBps = 10_001 }, "price_index_weight_bps must be in [1, 10000], got 10001"},
		{"min deposit zero", func(p *types.Params) { p.MinDepositSeconds = 0 }, "min_deposit_seconds must be in [1, 315360000], got 0"},
		{"window zero", func(p *types.Params) { p.MaxBidWindowSeconds = 0 }, "max_bid_window_seconds must be in [1, 315360000], got 0"},
		{"ttl zero", func(p *types.Params) { p.InstantOrderTtlSeconds = 0 }, "instant_order_ttl_seconds must be in [1, 315360000], got 0"},
		{"duration too long", func(p *types.Params) { p.MaxDurationSeconds = types.MaxSecondsLimit + 1 },
			"max_duration_seconds must be in [1, 315360000], got 315360001"},
		{"no gpus", func(p *types.Params) { p.MaxGpusPerOrder = 0 }, "max_gpus_per_order must be in [1, 1024], got 0"},
		{"gpus above the protocol limit", func(p *types.Params) { p.MaxGpusPerOrder = 1025 }, "max_gpus_per_order must be in [1, 1024], got 1025"},
		{"no regions", func(p *types.Params) { p.MaxRegionsPerOrder = 0 }, "max_regions_per_order must be in [1, 64], got 0"},
		{"regions above the protocol limit", func(p *types.Params) { p.MaxRegionsPerOrder = 65 },
			"max_regions_per_order must be in [1, 64], got 65"},
		{"no classes", func(p *types.Params) { p.MaxClassesPerOrder = 0 }, "max_classes_per_order must be in [1, 64], got 0"},
		{"classes above the protocol limit", func(p *types.Params) { p.MaxClassesPerOrder = 65 },
			"max_classes_per_order must be in [1, 64], got 65"},
		{"no lease ends", func(p *types.Params) { p.MaxLeaseEndsPerBlock = 0 }, "max_lease_ends_per_block must be in [1, 100000], got 0"},
		{"too many lease ends", func(p *types.Params) { p.MaxLeaseEndsPerBlock = 100_001 },
			"max_lease_ends_per_block must be in [1, 100000], got 100001"},
		{"no dry closes", func(p *types.Params) { p.MaxDryClosesPerBlock = 0 }, "max_dry_closes_per_block must be in [1, 100000], got 0"},
		{"too many dry closes", func(p *types.Params) { p.MaxDryClosesPerBlock = 100_001 },
			"max_dry_closes_per_block must be in [1, 100000], got 100001"},
		{"no window ends", func(p *types.Params) { p.MaxWindowEndsPerBlock = 0 }, "max_window_ends_per_block must be in [1, 100000], got 0"},
		{"too many window ends", func(p *types.Params) { p.MaxWindowEndsPerBlock = 100_001 },
			"max_window_ends_per_block must be in [1, 100000], got 100001"},
		{"reputation seconds zero", func(p *types.Params) { p.ReputationLeaseSeconds = 0 },
			"reputation_lease_seconds must be in [1, 315360000], got 0"},
		{"reputation seconds too long", func(p *types.Params) { p.ReputationLeaseSeconds = types.MaxSecondsLimit + 1 },
			"reputation_lease_seconds must be in [1, 315360000], got 315360001"},
		{"reputation value zero", func(p *types.Params) { p.ReputationLeaseValue = sdk.Coins{sdk.NewInt64Coin("umesh", 0)} },
			"reputation_lease_value 0umesh"},
		{"reputation value unsorted", func(p *types.Params) {
			p.ReputationLeaseValue = sdk.Coins{sdk.NewInt64Coin("uusdc", 1), sdk.NewInt64Coin("umesh", 1)}
		}, "reputation_lease_value 1uusdc,1umesh"},
		{"reputation value duplicate", func(p *types.Params) {
			p.ReputationLeaseValue = sdk.Coins{sdk.NewInt64Coin("umesh", 1), sdk.NewInt64Coin("umesh", 2)}
		}, "reputation_lease_value 1umesh,2umesh"},
		{"reputation value bad denom", func(p *types.Params) { p.ReputationLeaseValue = sdk.Coins{{Denom: "1x", Amount: math.NewInt(1)}} },
			"reputation_lease_value 11x"},
		{"reputation value without amount", func(p *types.Params) { p.ReputationLeaseValue = sdk.Coins{{Denom: "umesh"}} },
			`reputation_lease_value[0] (denom "umesh") has no amount`},
		// Governance cannot allow a scheme a browser runs as code or reads
		// from the viewer's disk.
		{"endpoint schemes javascript", func(p *types.Params) { p.AccessEndpointSchemes = []string{"ssh", "javascript"} },
			`access_endpoint_schemes[1]: scheme "javascript" is never allowed`},
		{"endpoint schemes vbscript", func(p *types.Params) { p.AccessEndpointSchemes = []string{"vbscript"} },
			`access_endpoint_schemes[0]: scheme "vbscript" is never allowed`},
		{"endpoint schemes data", func(p *types.Params) { p.AccessEndpointSchemes = []string{"data"} }, `scheme "data" is never allowed`},
		{"endpoint schemes file", func(p *types.Params) { p.AccessEndpointSchemes = []string{"file"} }, `scheme "file" is never allowed`},
		{"endpoint schemes blob", func(p *types.Params) { p.AccessEndpointSchemes = []string{"blob"} }, `scheme "blob" is never allowed`},
		{"endpoint schemes upper case", func(p *types.Params) { p.AccessEndpointSchemes = []string{"JavaScript"} },
			`access_endpoint_schemes[0] "JavaScript" must be a lowercase URI scheme`},
		{"endpoint schemes with colon", func(p *types.Params) { p.AccessEndpointSchemes = []string{"javascript:"} },
			`access_endpoint_schemes[0] "javascript:" must be a lowercase URI scheme`},
		{"endpoint schemes empty entry", func(p *types.Params) { p.AccessEndpointSchemes = []string{""} },
			`access_endpoint_schemes[0] "" must be a lowercase URI scheme`},
		{"endpoint schemes none", func(p *types.Params) { p.AccessEndpointSchemes = nil }, "access_endpoint_schemes: want 1-16 schemes, got 0"},
		{"endpoint schemes duplicate", func(p *types.Params) { p.AccessEndpointSchemes = []string{"ssh", "https", "ssh"} },
			`access_endpoint_schemes[2] "ssh" is listed twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := types.DefaultParams()
			tc.mut(&p)
			require.ErrorContains(t, p.Validate(), tc.msg)
			msg := types.MsgUpdateParams{Authority: tenant, Params: p}
			err := msg.ValidateBasic()
			require.ErrorIs(t, err, types.ErrInvalidParams)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	// The limits themselves are valid.
	p := types.DefaultParams()
	p.MaxBidsPerOrder, p.MaxNodesPerOrder, p.PriceIndexWeightBps = types.MaxBidsPerOrderLimit, types.MaxNodesPerOrderLimit, 10_000
	p.MinDepositSeconds, p.MaxDurationSeconds = 1, types.MaxSecondsLimit
	p.MaxGpusPerOrder, p.MaxRegionsPerOrder, p.MaxClassesPerOrder = types.MaxGPUsPerBid, types.MaxRegionsPerSpec, types.MaxGPUClassesPerSpec
	p.MaxLeaseEndsPerBlock, p.MaxDryClosesPerBlock, p.MaxWindowEndsPerBlock = 1, types.MaxPerBlockLimit, 1
	p.ReputationLeaseSeconds = types.MaxSecondsLimit
	require.NoError(t, p.Validate())
	p.ReputationLeaseValue = nil
	require.NoError(t, p.Validate(), "no reputation_lease_value: no lease earns a reputation step")
	p.ReputationLeaseValue = sdk.NewCoins(sdk.NewInt64Coin("umesh", 1), sdk.NewInt64Coin("uusdc", 1))
	require.NoError(t, p.Validate())
}
