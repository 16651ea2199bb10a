package gpus_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

var uuidRe = regexp.MustCompile(`^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func open(t *testing.T, profile, seed string) (*gpus.Mock, *gpus.Source) {
	t.Helper()
	m, err := gpus.NewMock(profile, seed)
	require.NoError(t, err)
	s, err := gpus.OpenLibrary(m, gpus.Options{Seed: seed})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return m, s
}

func TestProfiles(t *testing.T) {
	cases := []struct {
		profile string
		classes []string
		vram    uint32
	}{
		{"dgx-h100", repeat("h100-sxm-80g", 8), 81559},
		{"dgx-a100", repeat("a100-sxm-40g", 8), 40960},
		{"rtx4090x4", repeat("rtx4090-24g", 4), 24564},
		{"mixed", []string{"h100-pcie-80g", "h100-pcie-80g", "l40s-48g", "l40s-48g", providertypes.UnknownClass}, 0},
	}
	require.Equal(t, []string{"dgx-a100", "dgx-h100", "mixed", "rtx4090x4"}, gpus.Profiles())
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			_, s := open(t, tc.profile, "node-a")
			list, err := s.GPUs()
			require.NoError(t, err)
			require.Len(t, list, len(tc.classes))
			seen := map[string]bool{}
			for i, g := range list {
				require.Equal(t, tc.classes[i], g.Class, "gpu %d", i)
				require.Regexp(t, uuidRe, g.UUID)
				require.False(t, seen[g.UUID], "duplicate uuid %s", g.UUID)
				seen[g.UUID] = true
				require.True(t, g.Healthy, g.Health)
				require.Equal(t, "ok", g.Health)
				require.Equal(t, "550.54.15", g.DriverVersion)
				if tc.vram != 0 {
					require.Equal(t, tc.vram, g.VramMiB)
				}
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestMockUUIDsAreDeterministicPerSeed(t *testing.T) {
	_, a1 := open(t, "dgx-h100", "node-a")
	_, a2 := open(t, "dgx-h100", "node-a")
	_, b := open(t, "dgx-h100", "node-b")
	l1, _ := a1.GPUs()
	l2, _ := a2.GPUs()
	l3, _ := b.GPUs()
	for i := range l1 {
		require.Equal(t, l1[i].UUID, l2[i].UUID)
		require.NotEqual(t, l1[i].UUID, l3[i].UUID)
	}
}

// The inventory JSON is what set-inventory reads: it parses back into the
// same inventory, and the chain's own validation accepts it.
func TestInventoryJSONIsWhatSetInventoryAccepts(t *testing.T) {
	_, s := open(t, "dgx-h100", "node-a")
	list, err := s.GPUs()
	require.NoError(t, err)
	inv := gpus.Inventory(gpus.NodeInfo{ID: "node-a", CPUCores: 64, MemoryMiB: 1 << 20, StorageGiB: 4000,
		BandwidthMbps: 100000, Interconnect: "infiniband"}, list)
	bz, err := providertypes.MarshalInventoryJSON(inv)
	require.NoError(t, err)
	back, err := providertypes.ParseInventoryJSON(bz)
	require.NoError(t, err)
	require.Equal(t, inv, back)
	require.Len(t, back.Nodes, 1)
	require.Len(t, back.Nodes[0].Gpus, 8)
	require.NoError(t, providertypes.ValidateNodes(back.Nodes))
}

func TestLostGPUIsUnhealthyAndLeftOutOfTheInventory(t *testing.T) {
	m, s := open(t, "dgx-h100", "node-a")
	before, err := s.GPUs()
	require.NoError(t, err)
	m.SetLost(3)
	list, err := s.GPUs()
	require.NoError(t, err)
	require.Len(t, list, 8)
	require.False(t, list[3].Healthy)
	require.Contains(t, list[3].Health, "lost")
	require.Equal(t, before[3].UUID, list[3].UUID, "a lost GPU keeps the UUID read before")
	for i, g := range list {
		if i != 3 {
			require.True(t, g.Healthy)
		}
	}
	inv := gpus.Inventory(gpus.NodeInfo{ID: "n"}, list)
	require.Len(t, inv.Nodes[0].Gpus, 7)
	for _, g := range inv.Nodes[0].Gpus {
		require.NotEqual(t, before[3].UUID, g.Uuid)
	}
	tel, err := s.Telemetry()
	require.NoError(t, err)
	require.Len(t, tel, 8)
	require.False(t, tel[3].Healthy)
	require.Nil(t, tel[3].UtilGPUPct)
}

func TestMIGMakesUtilizationUnsupportedWithoutFailing(t *testing.T) {
	m, s := open(t, "dgx-h100", "node-a")
	m.SetUtilization(1, 87, 40)
	m.SetMIG(2, true)
	list, err := s.GPUs()
	require.NoError(t, err)
	require.True(t, list[2].MIG)
	require.True(t, list[2].Healthy)
	tel, err := s.Telemetry()
	require.NoError(t, err)
	require.Nil(t, tel[2].UtilGPUPct)
	require.NotNil(t, tel[1].UtilGPUPct)
	require.Equal(t, uint32(87), *tel[1].UtilGPUPct)
	require.Equal(t, uint32(40), *tel[1].UtilMemPct)
	require.Positive(t, tel[1].PowerMilliwatts)
	require.Equal(t, uint64(81559), tel[1].FBTotalMiB)
}

func TestCriticalXidMarksTheGPUUnhealthyUntilCleared(t *testing.T) {
	m, s := open(t, "rtx4090x4", "node-a")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.WatchXid(ctx) }()
	m.InjectXid(0, 13) // an application fault: ignored
	m.InjectXid(1, 79) // fallen off the bus
	require.Eventually(t, func() bool {
		list, err := s.GPUs()
		return err == nil && !list[1].Healthy
	}, 5*time.Second, 20*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	list, err := s.GPUs()
	require.NoError(t, err)
	require.Equal(t, "xid 79", list[1].Health)
	require.True(t, list[0].Healthy, "xid 13 is not critical")
	s.ClearHealth(list[1].UUID)
	list, err = s.GPUs()
	require.NoError(t, err)
	require.True(t, list[1].Healthy)
}

func TestMissingLibraryIsReportedWithoutCallingNVML(t *testing.T) {
	_, err := gpus.OpenLibrary(gpus.MissingLibrary(), gpus.Options{})
	require.ErrorIs(t, err, gpus.ErrLibraryNotFound)
	require.Contains(t, err.Error(), "mock:<profile>")
	_, err = gpus.OpenLibrary(gpus.DriverNotLoaded(), gpus.Options{})
	require.ErrorIs(t, err, gpus.ErrDriverNotLoaded)
}

func TestBadDeviceCountsAreRefused(t *testing.T) {
	for _, n := range []int{-1, 65, 1 << 30} {
		lib := &mock.Interface{
			InitFunc:                   func() nvml.Return { return nvml.SUCCESS },
			SystemGetDriverVersionFunc: func() (string, nvml.Return) { return "", nvml.ERROR_UNKNOWN },
			SystemGetNVMLVersionFunc:   func() (string, nvml.Return) { return "", nvml.ERROR_UNKNOWN },
			DeviceGetCountFunc:         func() (int, nvml.Return) { return n, nvml.SUCCESS },
		}
		s, err := gpus.OpenLibrary(lib, gpus.Options{})
		require.NoError(t, err)
		_, err = s.GPUs()
		require.Error(t, err)
		require.True(t, strings.Contains(err.Error(), "devices"), err.Error())
	}
}

func TestParseMode(t *testing.T) {
	for _, ok := range []string{"auto", "real", "mock:dgx-h100", "mock:mixed"} {
		m, err := gpus.ParseMode(ok)
		require.NoError(t, err)
		require.Equal(t, ok, m.String())
	}
	for _, bad := range []string{"", "mock", "mock:dgx-b200", "nvidia"} {
		_, err := gpus.ParseMode(bad)
		require.Error(t, err)
		require.Contains(t, err.Error(), `"`+bad+`"`)
	}
	_, err := gpus.Open(gpus.Mode{Kind: "mock", Profile: "nope"}, gpus.Options{})
	require.True(t, err != nil && !errors.Is(err, gpus.ErrLibraryNotFound))
}
