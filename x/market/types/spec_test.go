package types_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// spec2xH100 is a valid spec: 2 H100 SXM on one node in the US or EU.
func spec2xH100() types.ResourceSpec {
	return types.ResourceSpec{
		GpuClasses: []string{"h100-sxm-80g"}, GpusPerNode: 2, Nodes: 1, MinVramMib: 80_000,
		CpuCoresPerNode: 16, MemoryMibPerNode: 128 * 1024, StorageGibPerNode: 500,
		Regions: []string{"US", "EU"}, MinReputation: 1000,
	}
}

// manyNames returns n distinct valid class names (c0, c1, …).
func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("c%d", i)
	}
	return out
}

// manyRegions returns n distinct valid regions (US-z0, US-z1, …).
func manyRegions(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("US-z%d", i)
	}
	return out
}

func TestValidateSpec(t *testing.T) {
	require.NoError(t, types.ValidateSpec(spec2xH100()))
	// The hard limits themselves pass; the keeper holds orders to the
	// smaller max_classes_per_order and max_regions_per_order.
	atLimits := spec2xH100()
	atLimits.GpuClasses, atLimits.Regions = manyNames(types.MaxGPUClassesPerSpec), manyRegions(types.MaxRegionsPerSpec)
	atLimits.Nodes, atLimits.GpusPerNode = 32, 32
	require.NoError(t, types.ValidateSpec(atLimits))
	tests := []struct {
		name string
		mut  func(s *types.ResourceSpec)
		msg  string
	}{
		{"no class", func(s *types.ResourceSpec) { s.GpuClasses = nil }, "gpu_classes: want 1-64 class names or models, got 0"},
		{"too many classes", func(s *types.ResourceSpec) { s.GpuClasses = manyNames(65) },
			"gpu_classes: want 1-64 class names or models, got 65"},
		{"capital class", func(s *types.ResourceSpec) { s.GpuClasses = []string{"H100"} }, `gpu_classes[0] "H100" must be 1-64 lowercase`},
		{"empty class", func(s *types.ResourceSpec) { s.GpuClasses = []string{"h100", ""} }, `gpu_classes[1] "" must be`},
		{"long class", func(s *types.ResourceSpec) { s.GpuClasses = []string{strings.Repeat("a", 65)} }, "must be 1-64 lowercase"},
		{"unknown class", func(s *types.ResourceSpec) { s.GpuClasses = []string{"unknown"} }, `gpu_classes[0] "unknown" is not a GPU class`},
		{"duplicate class", func(s *types.ResourceSpec) { s.GpuClasses = []string{"h100", "h100"} }, `gpu_classes[1] "h100" is listed twice`},
		{"no gpus per node", func(s *types.ResourceSpec) { s.GpusPerNode = 0 }, "gpus_per_node must be at least 1, got 0"},
		{"no nodes", func(s *types.ResourceSpec) { s.Nodes = 0 }, "nodes must be at least 1, got 0"},
		{"too many gpus", func(s *types.ResourceSpec) { s.Nodes, s.GpusPerNode = 33, 32 }, "nodes 33 × gpus_per_node 32 = 1056 GPUs, at most 1024"},
		{"too many regions", func(s *types.ResourceSpec) { s.Regions = manyRegions(65) }, "regions: at most 64, got 65"},
		{"bad region", func(s *types.ResourceSpec) { s.Regions = []string{"US", "usa"} }, `regions[1] "usa" must be an ISO 3166-1 alpha-2 code`},
		{"empty region", func(s *types.ResourceSpec) { s.Regions = []string{""} }, `regions[0] "" must be`},
		{"duplicate region", func(s *types.ResourceSpec) { s.Regions = []string{"DE-fra1", "DE-fra1"} }, `regions[1] "DE-fra1" is listed twice`},
		{"bad interconnect", func(s *types.ResourceSpec) { s.Interconnect = "InfiniBand" }, `interconnect "InfiniBand" must be`},
		{"long interconnect", func(s *types.ResourceSpec) { s.Interconnect = strings.Repeat("x", 65) }, "must be at most 64 lowercase"},
		{"reputation", func(s *types.ResourceSpec) { s.MinReputation = 10_001 }, "min_reputation must be at most 10000, got 10001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := spec2xH100()
			tc.mut(&s)
			err := types.ValidateSpec(s)
			require.ErrorIs(t, err, types.ErrInvalidSpec)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestClassMatching(t *testing.T) {
	classes := providertypes.DefaultGPUClasses()
	class := func(name string) providertypes.GPUClass {
		for _, c := range classes {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no class %s", name)
		return providertypes.GPUClass{}
	}
	sxm, pcie, h200 := class("h100-sxm-80g"), class("h100-pcie-80g"), class("h200-sxm-141g")
	require.True(t, types.ClassMatches("h100-sxm-80g", sxm))
	require.False(t, types.ClassMatches("h100-sxm-80g", pcie))
	require.True(t, types.ClassMatches("h100", sxm), "a model is a wildcard")
	require.True(t, types.ClassMatches("h100", pcie))
	require.False(t, types.ClassMatches("h100", h200))
	require.False(t, types.ClassMatches("nvidia", sxm), "the vendor is not a wildcard")

	s := types.ResourceSpec{GpuClasses: []string{"h200", "h100-pcie-80g"}}
	require.True(t, s.AcceptsClass(h200))
	require.True(t, s.AcceptsClass(pcie))
	require.False(t, s.AcceptsClass(sxm))

	require.NoError(t, types.CheckClassEntries(types.ResourceSpec{GpuClasses: []string{"h100", "a100-sxm-40g", "l40s"}}, classes))
	err := types.CheckClassEntries(types.ResourceSpec{GpuClasses: []string{"h100", "b200"}}, classes)
	require.ErrorIs(t, err, types.ErrInvalidSpec)
	require.ErrorContains(t, err, `gpu_classes[1] "b200" is neither a GPU class nor a model of one`)
}

func TestRegionMatches(t *testing.T) {
	tests := []struct {
		entry, region string
		want          bool
	}{
		{"US", "US", true},
		{"US", "US-east1", true},
		{"US-east1", "US-east1", true},
		{"US-east1", "US", false},
		{"US-east1", "US-west2", false},
		{"DE", "DE-fra1", true},
		{"DE", "FR", false},
		{"EU", "DE-fra1", true},
		{"EU", "FR", true},
		{"EU", "GR", true},
		{"EU", "IE-dub1", true},
		{"EU", "GB", false},
		{"EU", "CH", false},
		{"EU", "NO", false},
		{"EU", "US", false},
		{"EU", "EU", true},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, types.RegionMatches(tc.entry, tc.region), "%s accepts %s", tc.entry, tc.region)
	}
	require.Len(t, types.EUMemberStates, 27)
	for c := range types.EUMemberStates {
		require.NoError(t, providertypes.ValidateRegion(c))
	}

	s := types.ResourceSpec{}
	require.True(t, s.AcceptsRegion("JP"), "no regions: anywhere")
	s.Regions = []string{"US", "EU"}
	require.True(t, s.AcceptsRegion("US-east1"))
	require.True(t, s.AcceptsRegion("NL-ams1"))
	require.False(t, s.AcceptsRegion("JP"))
}
