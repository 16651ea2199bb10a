package gpus

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/stretchr/testify/require"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

var uuidRe = regexp.MustCompile(`^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func open(t *testing.T, profile, seed string) (*Mock, *Source) {
	t.Helper()
	m, err := NewMock(profile, seed)
	require.NoError(t, err)
	s, err := OpenLibrary(m, Options{Seed: seed})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return m, s
}

func gpuList(t *testing.T, s *Source) []GPU {
	t.Helper()
	list, err := s.GPUs()
	require.NoError(t, err)
	return list
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestProfiles(t *testing.T) {
	cases := []struct {
		profile string
		classes []string
		vram    []uint32
		cc      []string
		pci     []string
		name    string // of GPU 0
	}{
		{"dgx-h100", repeat("h100-sxm-80g", 8), []uint32{81559}, []string{"9.0"}, []string{"0x2330"}, "NVIDIA H100 80GB HBM3"},
		{"dgx-a100", repeat("a100-sxm-40g", 8), []uint32{40960}, []string{"8.0"}, []string{"0x20b0"}, "NVIDIA A100-SXM4-40GB"},
		{"rtx4090x4", repeat("rtx4090-24g", 4), []uint32{24564}, []string{"8.9"}, []string{"0x2684"}, "NVIDIA GeForce RTX 4090"},
		{
			"mixed", []string{"h100-pcie-80g", "h100-pcie-80g", "l40s-48g", "l40s-48g", providertypes.UnknownClass},
			[]uint32{81559, 81559, 46068, 46068, 15360}, []string{"9.0", "9.0", "8.9", "8.9", "7.5"},
			[]string{"0x2331", "0x2331", "0x26b9", "0x26b9", "0x1eb8"}, "NVIDIA H100 PCIe",
		},
	}
	require.Equal(t, []string{"dgx-a100", "dgx-h100", "mixed", "rtx4090x4"}, Profiles())
	at := func(l []string, i int) string { return l[min(i, len(l)-1)] }
	for _, tc := range cases {
		t.Run(tc.profile, func(t *testing.T) {
			_, s := open(t, tc.profile, "node-a")
			require.Equal(t, "mock:"+tc.profile+" (NVML 12.550.54.15, driver 550.54.15)", s.Describe())
			list := gpuList(t, s)
			require.Len(t, list, len(tc.classes))
			require.Equal(t, tc.name, list[0].Name)
			seen := map[string]bool{}
			for i, g := range list {
				require.Equal(t, i, g.Index)
				require.Equal(t, tc.classes[i], g.Class, "gpu %d", i)
				require.Equal(t, tc.vram[min(i, len(tc.vram)-1)], g.VramMiB, "gpu %d", i)
				require.Equal(t, at(tc.cc, i), g.ComputeCapability, "gpu %d", i)
				require.Equal(t, at(tc.pci, i), g.PCIDeviceID, "gpu %d", i)
				require.Regexp(t, uuidRe, g.UUID)
				require.False(t, seen[g.UUID], "duplicate uuid %s", g.UUID)
				seen[g.UUID] = true
				require.True(t, g.Healthy, g.Health)
				require.Equal(t, "ok", g.Health)
				require.False(t, g.MIG)
				require.Equal(t, "550.54.15", g.DriverVersion)
			}
			tel, err := s.Telemetry()
			require.NoError(t, err)
			require.Len(t, tel, len(list))
			for i, x := range tel {
				require.Equal(t, list[i].UUID, x.UUID)
				require.NotNil(t, x.UtilGPUPct)
				require.Equal(t, uint64(list[i].VramMiB), x.FBTotalMiB)
				require.Equal(t, uint32(40), x.TempC)
				require.NotZero(t, x.PowerMilliwatts)
				require.NotZero(t, x.SMClockMHz)
				require.NotZero(t, x.MemClockMHz)
			}
		})
	}
}

func TestMockUUIDsAreDeterministicPerSeed(t *testing.T) {
	uuids := func(profile, seed string) []string {
		m, err := NewMock(profile, seed)
		require.NoError(t, err)
		s, err := OpenLibrary(m, Options{Seed: seed})
		require.NoError(t, err)
		defer func() { require.NoError(t, s.Close()) }()
		var out []string
		for _, g := range gpuList(t, s) {
			require.Regexp(t, uuidRe, g.UUID)
			out = append(out, g.UUID)
		}
		return out
	}
	for _, p := range Profiles() {
		a := uuids(p, "node-a")
		require.Equal(t, a, uuids(p, "node-a"), p)
		b := uuids(p, "node-b")
		for i := range a {
			require.NotEqual(t, a[i], b[i], "%s gpu %d", p, i)
		}
	}
	require.NotEqual(t, uuids("dgx-h100", "x")[0], uuids("dgx-a100", "x")[0])
}

func TestInventoryJSONIsWhatSetInventoryAccepts(t *testing.T) {
	node := NodeInfo{ID: "node-a", CPUCores: 224, MemoryMiB: 2 << 20, StorageGiB: 30000, BandwidthMbps: 400000, Interconnect: "infiniband"}
	for _, p := range []string{"dgx-h100", "mixed"} {
		_, s := open(t, p, "node-a")
		list := gpuList(t, s)
		inv := Inventory(node, list)
		require.Len(t, inv.Nodes, 1)
		require.Len(t, inv.Nodes[0].Gpus, len(list))
		require.NoError(t, providertypes.ValidateNodes(inv.Nodes), p)
		bz, err := providertypes.MarshalInventoryJSON(inv)
		require.NoError(t, err)
		back, err := providertypes.ParseInventoryJSON(bz)
		require.NoError(t, err)
		require.Equal(t, inv, back, p)
		n := back.Nodes[0]
		require.Equal(t, "node-a", n.Id)
		require.Equal(t, uint32(224), n.CpuCores)
		require.Equal(t, "infiniband", n.Interconnect)
		g := n.Gpus[0]
		require.Equal(t, list[0].UUID, g.Uuid)
		require.Equal(t, list[0].Class, g.Class)
		require.Equal(t, list[0].VramMiB, g.VramMib)
		require.Equal(t, list[0].PCIDeviceID, g.PciDeviceId)
		require.Equal(t, "9.0", g.ComputeCapability)
		require.Equal(t, "550.54.15", g.DriverVersion)
	}
}

func TestInventoryLeavesOutUnhealthyAndListsUnknown(t *testing.T) {
	list := []GPU{
		{UUID: "GPU-a", Class: "h100-sxm-80g", Healthy: true},
		{UUID: "GPU-b", Class: "h100-sxm-80g", Healthy: false, Health: "xid 79"},
		{UUID: "GPU-c", Class: providertypes.UnknownClass, Healthy: true},
		{UUID: "GPU-d", Healthy: true},
	}
	got := Inventory(NodeInfo{ID: "n"}, list).Nodes[0].Gpus
	require.Len(t, got, 3)
	require.Equal(t, "GPU-a", got[0].Uuid)
	require.Equal(t, providertypes.UnknownClass, got[1].Class)
	require.Equal(t, providertypes.UnknownClass, got[2].Class)
	require.NotNil(t, Inventory(NodeInfo{ID: "n"}, nil).Nodes[0].Gpus)
}

func TestLostGPUIsUnhealthyAndLeftOutOfTheInventory(t *testing.T) {
	m, s := open(t, "dgx-h100", "node-a")
	before := gpuList(t, s)
	m.SetLost(2)
	list := gpuList(t, s)
	require.Len(t, list, 8)
	require.False(t, list[2].Healthy)
	require.Equal(t, "lost (GPU_IS_LOST)", list[2].Health)
	require.Equal(t, before[2].UUID, list[2].UUID, "UUID from the earlier read")
	for i, g := range list {
		if i != 2 {
			require.True(t, g.Healthy, "gpu %d: %s", i, g.Health)
		}
	}
	inv := Inventory(NodeInfo{ID: "node-a", CPUCores: 1, Interconnect: "ethernet"}, list)
	require.Len(t, inv.Nodes[0].Gpus, 7)
	for _, g := range inv.Nodes[0].Gpus {
		require.NotEqual(t, before[2].UUID, g.Uuid)
	}
	require.NoError(t, providertypes.ValidateNodes(inv.Nodes))
	tel, err := s.Telemetry()
	require.NoError(t, err)
	require.Len(t, tel, 8)
	require.False(t, tel[2].Healthy)
	require.Equal(t, before[2].UUID, tel[2].UUID)
	require.Nil(t, tel[2].UtilGPUPct)
	require.Zero(t, tel[2].PowerMilliwatts)
	require.NotNil(t, tel[3].UtilGPUPct)
}

func TestGPULostBeforeFirstReadAndLostHandle(t *testing.T) {
	m, s := open(t, "rtx4090x4", "n")
	m.SetLost(0)
	inner := m.DeviceGetHandleByIndexFunc
	m.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i == 1 {
			return nil, nvml.ERROR_GPU_IS_LOST
		}
		if i == 3 {
			return nil, nvml.ERROR_UNKNOWN
		}
		return inner(i)
	}
	list := gpuList(t, s)
	require.Len(t, list, 4)
	require.Equal(t, "lost (GPU_IS_LOST)", list[0].Health)
	require.Empty(t, list[0].UUID)
	require.Equal(t, "lost (GPU_IS_LOST)", list[1].Health)
	require.True(t, list[2].Healthy)
	require.False(t, list[3].Healthy)
	require.Equal(t, "unreadable: handle: ERROR_UNKNOWN", list[3].Health)
	require.Len(t, Inventory(NodeInfo{ID: "n"}, list).Nodes[0].Gpus, 1)
	_, err := s.Telemetry()
	require.NoError(t, err)
}

func TestECCErrorsMakeAGPUUnhealthy(t *testing.T) {
	m, s := open(t, "dgx-a100", "n")
	m.SetECCErrors(1, 3)
	list := gpuList(t, s)
	require.False(t, list[1].Healthy)
	require.Equal(t, "ecc: 3 uncorrected volatile errors", list[1].Health)
	tel, err := s.Telemetry()
	require.NoError(t, err)
	require.Equal(t, uint64(3), tel[1].ECCUncorrected)
	require.Zero(t, tel[0].ECCUncorrected)
	m.SetECCErrors(1, 0)
	require.True(t, gpuList(t, s)[1].Healthy)
}

func TestMIGMakesUtilizationUnsupportedWithoutFailing(t *testing.T) {
	for _, p := range []string{"dgx-h100", "dgx-a100"} {
		m, s := open(t, p, "n")
		m.SetUtilization(0, 55, 20)
		m.SetUtilization(1, 75, 30)
		m.SetMIG(0, true)
		list := gpuList(t, s)
		require.True(t, list[0].MIG, p)
		require.True(t, list[0].Healthy, p)
		require.False(t, list[1].MIG, p)
		tel, err := s.Telemetry()
		require.NoError(t, err)
		require.Nil(t, tel[0].UtilGPUPct, p)
		require.Nil(t, tel[0].UtilMemPct, p)
		require.NotZero(t, tel[0].FBTotalMiB, p)
		require.NotNil(t, tel[1].UtilGPUPct, p)
		require.Equal(t, uint32(75), *tel[1].UtilGPUPct, p)
		require.Equal(t, uint32(30), *tel[1].UtilMemPct, p)
		m.SetMIG(0, false)
		tel, err = s.Telemetry()
		require.NoError(t, err)
		require.Equal(t, uint32(55), *tel[0].UtilGPUPct, p)
	}
}

func TestTelemetryFollowsUtilization(t *testing.T) {
	m, s := open(t, "dgx-h100", "n")
	first, err := s.Telemetry()
	require.NoError(t, err)
	require.Equal(t, uint32(70_000), first[0].PowerMilliwatts, "idle 70 W")
	require.Zero(t, *first[0].UtilGPUPct)
	require.Zero(t, first[0].FBUsedMiB)
	m.SetUtilization(0, 100, 50)
	time.Sleep(30 * time.Millisecond)
	tel, err := s.Telemetry()
	require.NoError(t, err)
	require.Equal(t, uint32(700_000), tel[0].PowerMilliwatts, "700 W limit at full load")
	require.Equal(t, uint32(65), tel[0].TempC)
	require.InDelta(t, 81559/2, tel[0].FBUsedMiB, 1000)
	require.Equal(t, uint32(1980), tel[0].SMClockMHz)
	require.Equal(t, uint32(2619), tel[0].MemClockMHz)
	require.Greater(t, tel[0].EnergyMillijoules, first[0].EnergyMillijoules)
	// 30 ms at 700 W is at least 21 J more than GPU 1 drew idle.
	require.Greater(t, tel[0].EnergyMillijoules-first[0].EnergyMillijoules, tel[1].EnergyMillijoules-first[1].EnergyMillijoules+15_000)
}

func TestCustomClassOf(t *testing.T) {
	m, err := NewMock("rtx4090x4", "n")
	require.NoError(t, err)
	var asked []string
	s, err := OpenLibrary(m, Options{ClassOf: func(id string) string { asked = append(asked, id); return "consumer" }})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	require.Equal(t, "consumer", gpuList(t, s)[0].Class)
	require.Equal(t, "0x2684", asked[0])
}

// watch runs WatchXid until the test ends and returns its result channel.
func watch(t *testing.T, s *Source) (context.CancelFunc, chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.WatchXid(ctx) }()
	t.Cleanup(cancel)
	return cancel, done
}

func health(t *testing.T, s *Source, i int) string {
	t.Helper()
	return gpuList(t, s)[i].Health
}

func TestCriticalXidMarksTheGPUUnhealthyUntilCleared(t *testing.T) {
	m, s := open(t, "dgx-h100", "n")
	cancel, done := watch(t, s)
	m.InjectXid(3, 13) // application fault: ignored
	m.InjectXid(4, 79)
	require.Eventually(t, func() bool { return health(t, s, 4) == "xid 79" }, 5*time.Second, 10*time.Millisecond)
	list := gpuList(t, s)
	require.False(t, list[4].Healthy)
	require.True(t, list[3].Healthy, list[3].Health)
	require.Len(t, Inventory(NodeInfo{ID: "n"}, list).Nodes[0].Gpus, 7)
	tel, err := s.Telemetry()
	require.NoError(t, err)
	require.False(t, tel[4].Healthy)
	require.Equal(t, "xid 79", tel[4].Health)
	s.ClearHealth(list[4].UUID)
	require.True(t, gpuList(t, s)[4].Healthy)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(3 * time.Second):
		t.Fatal("WatchXid did not return after cancel")
	}
	m.mu.Lock()
	require.Zero(t, m.openSets, "event set freed")
	m.mu.Unlock()
}

func TestXidOfALostGPUIsRecordedByItsEarlierUUID(t *testing.T) {
	m, s := open(t, "mixed", "n")
	uuid := gpuList(t, s)[2].UUID
	_, _ = watch(t, s)
	require.Eventually(t, func() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.openSets == 1 }, 2*time.Second, 5*time.Millisecond)
	m.SetLost(2)
	m.InjectXid(2, 79)
	require.Eventually(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.xid[uuid] == 79 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "lost (GPU_IS_LOST)", health(t, s, 2))
}

func TestRecordXidIgnoresNonCriticalXids(t *testing.T) {
	_, s := open(t, "rtx4090x4", "n")
	uuid := gpuList(t, s)[0].UUID
	for _, x := range []uint64{13, 31, 43, 45, 0} {
		s.RecordXid(uuid, x)
		require.Equal(t, "ok", health(t, s, 0), "xid %d", x)
	}
	for _, x := range []uint64{48, 63, 64, 74, 79, 92, 94, 95} {
		s.RecordXid(uuid, x)
		require.Equal(t, "xid "+strconv.FormatUint(x, 10), health(t, s, 0))
		s.ClearHealth(uuid)
		require.Equal(t, "ok", health(t, s, 0))
	}
}

func TestCloseStopsWatchXidAndShutsDownOnce(t *testing.T) {
	m, err := NewMock("dgx-h100", "n")
	require.NoError(t, err)
	s, err := OpenLibrary(m, Options{})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.WatchXid(context.Background()) }()
	require.Eventually(t, func() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.openSets == 1 }, 2*time.Second, 5*time.Millisecond)
	require.NoError(t, s.Close())
	require.NoError(t, <-done)
	require.NoError(t, s.Close())
	m.mu.Lock()
	require.Equal(t, 1, m.shutdowns)
	require.Zero(t, m.openSets)
	m.mu.Unlock()
	_, err = s.GPUs()
	require.ErrorIs(t, err, errClosed)
	_, err = s.Telemetry()
	require.ErrorIs(t, err, errClosed)
	require.ErrorIs(t, s.WatchXid(context.Background()), errClosed)
}

func TestWatchXidWithoutEventSets(t *testing.T) {
	m, s := open(t, "dgx-h100", "n")
	m.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) { return nil, nvml.ERROR_NOT_SUPPORTED }
	require.NoError(t, s.WatchXid(context.Background()))

	m2, s2 := open(t, "rtx4090x4", "n")
	for i := range 4 {
		m2.SetLost(i) // RegisterEvents fails everywhere: nothing to watch
	}
	require.NoError(t, s2.WatchXid(context.Background()))
	m2.mu.Lock()
	require.Zero(t, m2.openSets)
	m2.mu.Unlock()
}

func TestWatchXidDoesNotBusyLoopOnErrors(t *testing.T) {
	m, s := open(t, "rtx4090x4", "n")
	var mu sync.Mutex
	waits := 0
	m.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) {
		return &mock.EventSet{
			WaitFunc: func(uint32) (nvml.EventData, nvml.Return) {
				mu.Lock()
				waits++
				mu.Unlock()
				return nvml.EventData{}, nvml.ERROR_UNKNOWN
			},
			FreeFunc: func() nvml.Return { return nvml.SUCCESS },
		}, nvml.SUCCESS
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.NoError(t, s.WatchXid(ctx))
	require.Less(t, time.Since(start), 3*time.Second)
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, waits, 1)
	require.LessOrEqual(t, waits, 3)
}

func TestMissingLibraryIsReportedWithoutCallingNVML(t *testing.T) {
	_, err := OpenLibrary(MissingLibrary(), Options{})
	require.ErrorIs(t, err, ErrLibraryNotFound)
	require.Contains(t, err.Error(), "libnvidia-ml.so.1 not found")
	require.Contains(t, err.Error(), "--nvml mock:<profile>")
	require.Contains(t, err.Error(), "dgx-h100")
	require.Panics(t, func() { _, _ = MissingLibrary().DeviceGetCount() }, "MissingLibrary must not answer other calls")

	_, err = OpenLibrary(&mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_DRIVER_NOT_LOADED }}, Options{})
	require.ErrorIs(t, err, ErrDriverNotLoaded)
	require.Contains(t, err.Error(), "mock:")

	_, err = OpenLibrary(&mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_NO_PERMISSION }}, Options{})
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrLibraryNotFound)
	require.Contains(t, err.Error(), "ERROR_NO_PERMISSION")
}

func TestOpenModes(t *testing.T) {
	s, err := Open(Mode{Kind: "mock", Profile: "mixed"}, Options{Seed: "x"})
	require.NoError(t, err)
	require.Len(t, gpuList(t, s), 5)
	require.Contains(t, s.Describe(), "mock:mixed")
	require.NoError(t, s.Close())

	_, err = Open(Mode{Kind: "mock", Profile: "nope"}, Options{})
	require.ErrorContains(t, err, `"nope"`)
	_, err = Open(Mode{Kind: "fake"}, Options{})
	require.ErrorContains(t, err, `"fake"`)

	// The machine's library: absent here (no GPU), present on a GPU host.
	s, err = Open(Mode{Kind: "real"}, Options{})
	if err == nil {
		require.NoError(t, s.Close())
		t.Skip("this machine has NVML: " + s.Describe())
	}
	require.ErrorIs(t, err, ErrLibraryNotFound)
	require.Contains(t, err.Error(), "mock:")
}

func TestBadDeviceCountsAreRefused(t *testing.T) {
	for _, n := range []int{-1, 65, 1 << 30} {
		lib := &mock.Interface{
			InitFunc:                   func() nvml.Return { return nvml.SUCCESS },
			ShutdownFunc:               func() nvml.Return { return nvml.SUCCESS },
			SystemGetDriverVersionFunc: func() (string, nvml.Return) { return "1", nvml.SUCCESS },
			SystemGetNVMLVersionFunc:   func() (string, nvml.Return) { return "", nvml.ERROR_NOT_SUPPORTED },
			DeviceGetCountFunc:         func() (int, nvml.Return) { return n, nvml.SUCCESS },
			// DeviceGetHandleByIndex is unset: calling it panics.
		}
		s, err := OpenLibrary(lib, Options{})
		require.NoError(t, err)
		require.Equal(t, "NVML unknown, driver 1", s.Describe())
		_, err = s.GPUs()
		require.ErrorContains(t, err, fmt.Sprintf("reported %d devices", n))
		_, err = s.Telemetry()
		require.ErrorContains(t, err, strconv.Itoa(n))
		require.ErrorContains(t, s.WatchXid(context.Background()), strconv.Itoa(n))
		require.NoError(t, s.Close())
	}
}

func TestParseMode(t *testing.T) {
	for _, in := range []string{"auto", "real", "mock:dgx-h100", "mock:dgx-a100", "mock:rtx4090x4", "mock:mixed"} {
		m, err := ParseMode(in)
		require.NoError(t, err, in)
		require.Equal(t, in, m.String())
	}
	m, _ := ParseMode("mock:mixed")
	require.Equal(t, Mode{Kind: "mock", Profile: "mixed"}, m)
	for _, bad := range []string{"", "gpu", "mock:", "mock:dgx-h200", "Mock:mixed", "auto "} {
		_, err := ParseMode(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), strconv.Quote(bad))
		require.Contains(t, err.Error(), "dgx-a100, dgx-h100, mixed, rtx4090x4")
	}
}

func TestConcurrentUse(t *testing.T) {
	m, s := open(t, "dgx-h100", "n")
	_, _ = watch(t, s)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				m.SetUtilization(i, uint32(j), uint32(j))
				_, err := s.GPUs()
				require.NoError(t, err)
				_, err = s.Telemetry()
				require.NoError(t, err)
				s.RecordXid("GPU-x", 79)
				s.ClearHealth("GPU-x")
			}
		}()
	}
	wg.Wait()
}
