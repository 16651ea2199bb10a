package bidder_test

import (
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/bidder"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

func node(id, ic string, class string, vram uint32, uuids ...string) providertypes.Node {
	n := providertypes.Node{Id: id, CpuCores: 64, MemoryMib: 512 << 10, StorageGib: 4000, Interconnect: ic}
	for _, u := range uuids {
		n.Gpus = append(n.Gpus, providertypes.GPU{Uuid: u, Class: class, VramMib: vram})
	}
	return n
}

func all(string) bool { return true }

func TestSelectGPUs(t *testing.T) {
	classes := providertypes.DefaultGPUClasses()
	prov := providertypes.Provider{Region: "US-east1", Reputation: 6000}
	h100 := node("a", "infiniband", "h100-sxm-80g", 81559, "g1", "g2", "g3", "g4")
	h100b := node("b", "infiniband", "h100-sxm-80g", 81559, "g5", "g6")
	rtx := node("c", "ethernet", "rtx4090-24g", 24564, "r1", "r2")
	spec := markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 2, Nodes: 1, Regions: []string{"US"}}
	cases := []struct {
		name   string
		spec   func(*markettypes.ResourceSpec)
		nodes  []providertypes.Node
		usable bidder.Usable
		want   []string // GPUs of the single expected offer, nil = none
	}{
		{"model wildcard picks the first node's lowest UUIDs", nil, []providertypes.Node{h100, rtx}, all, []string{"g1", "g2"}},
		{"region outside the spec", func(s *markettypes.ResourceSpec) { s.Regions = []string{"DE"} }, []providertypes.Node{h100}, all, nil},
		{"reputation too low", func(s *markettypes.ResourceSpec) { s.MinReputation = 7000 }, []providertypes.Node{h100}, all, nil},
		{"class not accepted", func(s *markettypes.ResourceSpec) { s.GpuClasses = []string{"a100"} }, []providertypes.Node{h100, rtx}, all, nil},
		{"not enough memory", func(s *markettypes.ResourceSpec) { s.MinVramMib = 90000 }, []providertypes.Node{h100}, all, nil},
		{"unusable GPUs are skipped", nil, []providertypes.Node{h100}, func(u string) bool { return u != "g1" && u != "g3" },
			[]string{"g2", "g4"}},
		{"too few usable on the node", nil, []providertypes.Node{h100}, func(u string) bool { return u == "g1" }, nil},
		{"node CPU minimum", func(s *markettypes.ResourceSpec) { s.CpuCoresPerNode = 128 }, []providertypes.Node{h100}, all, nil},
		{"required interconnect", func(s *markettypes.ResourceSpec) { s.Interconnect = "roce" }, []providertypes.Node{h100}, all, nil},
		{"cluster on one fabric", func(s *markettypes.ResourceSpec) { s.Nodes = 2 }, []providertypes.Node{h100, h100b},
			all, []string{"g1", "g2", "g5", "g6"}},
		{"cluster needs a shared fabric", func(s *markettypes.ResourceSpec) { s.Nodes = 2 },
			[]providertypes.Node{h100, node("b", "roce", "h100-sxm-80g", 81559, "g5", "g6")}, all, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := spec
			s.GpuClasses = append([]string(nil), spec.GpuClasses...)
			if tc.spec != nil {
				tc.spec(&s)
			}
			offers := bidder.SelectGPUs(s, prov, tc.nodes, classes, tc.usable)
			if tc.want == nil {
				require.Empty(t, offers)
				return
			}
			require.Len(t, offers, 1)
			require.Equal(t, "h100-sxm-80g", offers[0].Class)
			require.Equal(t, tc.want, offers[0].GPUs)
		})
	}
	// An allocated GPU is never offered.
	busy := node("a", "infiniband", "h100-sxm-80g", 81559, "g1", "g2", "g3")
	busy.Gpus[0].AllocatedTo = "mesh1x/1"
	offers := bidder.SelectGPUs(spec, prov, []providertypes.Node{busy}, classes, all)
	require.Len(t, offers, 1)
	require.Equal(t, []string{"g2", "g3"}, offers[0].GPUs)
}

func TestPrice(t *testing.T) {
	pricing := config.Pricing{Classes: map[string]config.ClassPrice{
		"h100-sxm-80g": {Floor: []string{"2000000uusdc", "3000000umesh"}, IndexMultiplier: 0.9},
		"rtx4090-24g":  {Floor: []string{"350000uusdc"}},
	}}
	index := map[string]sdkmath.LegacyDec{"h100-sxm-80g/uusdc": sdkmath.LegacyNewDec(2_500_000)}
	usdc := func(a int64) sdk.Coin { return sdk.NewInt64Coin("uusdc", a) }
	cases := []struct {
		class string
		max   sdk.Coin
		want  int64 // 0 = no bid
	}{
		{"h100-sxm-80g", usdc(5_000_000), 2_250_000},                      // index 2.5M × 0.9 above the floor
		{"h100-sxm-80g", usdc(2_100_000), 2_100_000},                      // capped by the order's max
		{"h100-sxm-80g", usdc(1_999_999), 0},                              // max below the floor
		{"h100-sxm-80g", sdk.NewInt64Coin("umesh", 9_000_000), 3_000_000}, // no index in umesh: the floor
		{"h100-sxm-80g", sdk.NewInt64Coin("uatom", 9_000_000), 0},         // no floor in that denom
		{"rtx4090-24g", usdc(1_000_000), 350_000},                         // floor only
		{"a100-sxm-80g", usdc(9_000_000), 0},                              // class not priced
	}
	for _, tc := range cases {
		got, ok := bidder.Price(pricing, tc.class, tc.max, index)
		if tc.want == 0 {
			require.False(t, ok, "%s at %s: %s", tc.class, tc.max, got)
			continue
		}
		require.True(t, ok, "%s at %s", tc.class, tc.max)
		require.Equal(t, tc.max.Denom, got.Denom)
		require.Equal(t, tc.want, got.Amount.Int64(), "%s at %s", tc.class, tc.max)
	}
	// Cheapest picks the lower-priced class among fitting offers.
	offers := []bidder.Offer{{Class: "h100-sxm-80g"}, {Class: "rtx4090-24g"}}
	best, ok := bidder.Cheapest(offers, pricing, usdc(5_000_000), index)
	require.True(t, ok)
	require.Equal(t, "rtx4090-24g", best.Class)
	require.Equal(t, int64(350_000), best.Price.Amount.Int64())
}
