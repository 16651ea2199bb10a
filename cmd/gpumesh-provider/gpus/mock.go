package gpus

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// Mock is a go-nvml mock machine with fault injection for tests: lost
// GPUs, MIG mode, utilization, ECC errors and Xid events. It embeds
// *mock.Interface (for dgx-a100 that of go-nvml's dgxa100 server) and
// implements nvml.Interface. Every function Source calls is stubbed on
// every profile: go-nvml's mocks panic on a function left unset.
type Mock struct {
	*mock.Interface
	profile string
	created time.Time

	mu        sync.Mutex
	gpus      []*mockGPU
	events    []nvml.EventData // queued Xid events, delivered once
	shutdowns int
	openSets  int // event sets created and not yet freed
}

// mockGPU is one mock GPU's state, guarded by Mock.mu.
type mockGPU struct {
	index    int
	uuid     string
	model    model
	handle   nvml.Device // what DeviceGetHandleByIndex returns
	lost     bool
	mig      bool
	utilGPU  uint32
	utilMem  uint32
	ecc      uint64 // uncorrected volatile ECC errors
	energyMJ uint64 // energy counter at lastE
	lastE    time.Time
}

// mockUUID derives a GPU UUID from the profile, seed and index: "GPU-" and
// a canonical (version 5 layout) UUID from sha256.
func mockUUID(profile, seed string, i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "gpumesh-mock\x00%s\x00%s\x00%d", profile, seed, i))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("GPU-%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// NewMock builds a mock machine of the named profile (see Profiles); seed
// makes its UUIDs deterministic and distinct per sidecar.
func NewMock(profile, seed string) (*Mock, error) {
	models, ok := profiles[profile]
	if !ok {
		return nil, fmt.Errorf("mock profile %q: want one of %s", profile, joinProfiles())
	}
	m := &Mock{profile: profile, created: time.Now()}
	if profile == "dgx-a100" {
		srv := dgxa100.New()
		m.Interface = &srv.Interface
		for i, d := range srv.Devices {
			dev := d.(*dgxa100.Device) //nolint:forcetypeassert // dgxa100.New builds only these
			dev.UUID = mockUUID(profile, seed, i)
			m.install(&dev.Device, &mockGPU{index: i, uuid: dev.UUID, model: models[i], handle: dev})
		}
	} else {
		m.Interface = &mock.Interface{}
		for i, mo := range models {
			dev := &mock.Device{}
			m.install(dev, &mockGPU{index: i, uuid: mockUUID(profile, seed, i), model: mo, handle: dev})
		}
	}
	m.InitFunc = func() nvml.Return { return nvml.SUCCESS }
	m.ShutdownFunc = func() nvml.Return { m.mu.Lock(); m.shutdowns++; m.mu.Unlock(); return nvml.SUCCESS }
	m.SystemGetDriverVersionFunc = func() (string, nvml.Return) { return mockDriver, nvml.SUCCESS }
	m.SystemGetNVMLVersionFunc = func() (string, nvml.Return) { return mockNVML, nvml.SUCCESS }
	m.SystemGetCudaDriverVersionFunc = func() (int, nvml.Return) { return mockCUDADriver, nvml.SUCCESS }
	m.DeviceGetCountFunc = func() (int, nvml.Return) { return len(m.gpus), nvml.SUCCESS }
	// Handles of lost GPUs are still handed out: their calls fail.
	m.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i < 0 || i >= len(m.gpus) {
			return nil, nvml.ERROR_INVALID_ARGUMENT
		}
		return m.gpus[i].handle, nvml.SUCCESS
	}
	m.DeviceGetHandleByUUIDFunc = func(uuid string) (nvml.Device, nvml.Return) {
		for _, g := range m.gpus {
			if g.uuid == uuid {
				return g.handle, nvml.SUCCESS
			}
		}
		return nil, nvml.ERROR_NOT_FOUND
	}
	m.EventSetCreateFunc = m.newEventSet
	return m, nil
}

// guard makes f fail with ERROR_GPU_IS_LOST while g is lost; f runs with
// m.mu held.
func guard[T any](m *Mock, g *mockGPU, f func() T) func() (T, nvml.Return) {
	return func() (T, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if g.lost {
			var zero T
			return zero, nvml.ERROR_GPU_IS_LOST
		}
		return f(), nvml.SUCCESS
	}
}

// powerMW is g's power draw: idle plus a share of the headroom to the
// limit by utilization. m.mu must be held.
func (g *mockGPU) powerMW() uint32 {
	mo := g.model
	return (mo.idleWatts + (mo.limitWatts-mo.idleWatts)*g.utilGPU/100) * 1000
}

// advanceEnergy adds the energy drawn since the last call at the current
// power; m.mu must be held.
func (g *mockGPU) advanceEnergy(now time.Time) {
	if ms := now.Sub(g.lastE).Milliseconds(); ms > 0 {
		g.energyMJ += uint64(ms) * uint64(g.powerMW()) / 1000 //nolint:gosec // positive
		g.lastE = now
	}
}

// install stubs the device functions on d and adds g to the machine.
func (m *Mock) install(d *mock.Device, g *mockGPU) {
	g.lastE = m.created
	m.gpus = append(m.gpus, g)
	mo := g.model
	lostRet := func() nvml.Return {
		if g.lost {
			return nvml.ERROR_GPU_IS_LOST
		}
		return nvml.SUCCESS
	}
	d.GetUUIDFunc = guard(m, g, func() string { return g.uuid })
	d.GetNameFunc = guard(m, g, func() string { return mo.name })
	d.GetIndexFunc = guard(m, g, func() int { return g.index })
	d.GetMinorNumberFunc = guard(m, g, func() int { return g.index })
	d.GetPciInfoFunc = guard(m, g, func() nvml.PciInfo {
		p := nvml.PciInfo{PciDeviceId: mo.pci, Bus: uint32(g.index + 1)} //nolint:gosec // small index
		copy(p.BusId[:], fmt.Sprintf("00000000:%02X:00.0", g.index+1))
		return p
	})
	d.GetMemoryInfoFunc = guard(m, g, func() nvml.Memory {
		total := mo.memMiB << 20
		used := total / 100 * uint64(min(g.utilMem, 100))
		return nvml.Memory{Total: total, Used: used, Free: total - used}
	})
	d.GetCudaComputeCapabilityFunc = func() (int, int, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return mo.ccMajor, mo.ccMinor, lostRet()
	}
	d.GetMigModeFunc = func() (int, int, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		mode := nvml.DEVICE_MIG_DISABLE
		if g.mig {
			mode = nvml.DEVICE_MIG_ENABLE
		}
		return mode, mode, lostRet()
	}
	d.SetMigModeFunc = func(mode int) (nvml.Return, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if g.lost {
			return nvml.ERROR_GPU_IS_LOST, nvml.ERROR_GPU_IS_LOST
		}
		g.mig = mode == nvml.DEVICE_MIG_ENABLE
		return nvml.SUCCESS, nvml.SUCCESS
	}
	d.GetTotalEccErrorsFunc = func(t nvml.MemoryErrorType, c nvml.EccCounterType) (uint64, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if t == nvml.MEMORY_ERROR_TYPE_UNCORRECTED && c == nvml.VOLATILE_ECC {
			return g.ecc, lostRet()
		}
		return 0, lostRet()
	}
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !g.lost && g.mig {
			return nvml.Utilization{}, nvml.ERROR_NOT_SUPPORTED
		}
		return nvml.Utilization{Gpu: g.utilGPU, Memory: g.utilMem}, lostRet()
	}
	d.GetPowerUsageFunc = guard(m, g, g.powerMW)
	d.GetPowerManagementLimitFunc = guard(m, g, func() uint32 { return mo.limitWatts * 1000 })
	d.GetEnforcedPowerLimitFunc = guard(m, g, func() uint32 { return mo.limitWatts * 1000 })
	d.GetTotalEnergyConsumptionFunc = guard(m, g, func() uint64 { g.advanceEnergy(time.Now()); return g.energyMJ })
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return 40 + g.utilGPU/4, lostRet()
	}
	d.GetClockInfoFunc = func(t nvml.ClockType) (uint32, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if t == nvml.CLOCK_MEM {
			return mo.memClockMHz, lostRet()
		}
		return mo.smClockMHz, lostRet()
	}
	d.RegisterEventsFunc = func(uint64, nvml.EventSet) nvml.Return {
		m.mu.Lock()
		defer m.mu.Unlock()
		return lostRet()
	}
}

// newEventSet is EventSetCreate: Wait delivers queued Xid events, each
// once, polling until the timeout.
func (m *Mock) newEventSet() (nvml.EventSet, nvml.Return) {
	m.mu.Lock()
	m.openSets++
	m.mu.Unlock()
	set := &mock.EventSet{}
	var freed bool
	set.FreeFunc = func() nvml.Return {
		m.mu.Lock()
		defer m.mu.Unlock()
		if freed {
			return nvml.ERROR_INVALID_ARGUMENT
		}
		freed = true
		m.openSets--
		return nvml.SUCCESS
	}
	set.WaitFunc = func(timeoutMs uint32) (nvml.EventData, nvml.Return) {
		deadline := time.Now().Add(time.Duration(timeoutMs) * time.Millisecond)
		for {
			m.mu.Lock()
			if len(m.events) > 0 {
				ev := m.events[0]
				m.events = m.events[1:]
				m.mu.Unlock()
				return ev, nvml.SUCCESS
			}
			m.mu.Unlock()
			if !time.Now().Before(deadline) {
				return nvml.EventData{}, nvml.ERROR_TIMEOUT
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return set, nvml.SUCCESS
}

// gpu returns GPU i; a bad index is a test's mistake and panics.
func (m *Mock) gpu(i int) *mockGPU {
	if i < 0 || i >= len(m.gpus) {
		panic(fmt.Sprintf("mock GPU index %d out of range [0, %d)", i, len(m.gpus)))
	}
	return m.gpus[i]
}

// SetLost makes every device call on GPU i return ERROR_GPU_IS_LOST (its
// handle is still handed out, as NVML does).
func (m *Mock) SetLost(i int) {
	g := m.gpu(i)
	m.mu.Lock()
	g.lost = true
	m.mu.Unlock()
}

// SetMIG turns MIG mode on or off for GPU i; while on, utilization returns
// ERROR_NOT_SUPPORTED.
func (m *Mock) SetMIG(i int, on bool) {
	g := m.gpu(i)
	m.mu.Lock()
	g.mig = on
	m.mu.Unlock()
}

// SetUtilization sets GPU i's utilization; power, temperature and memory
// used follow it.
func (m *Mock) SetUtilization(i int, gpuPct, memPct uint32) {
	g := m.gpu(i)
	m.mu.Lock()
	g.advanceEnergy(time.Now()) // energy so far at the old power
	g.utilGPU, g.utilMem = min(gpuPct, 100), min(memPct, 100)
	m.mu.Unlock()
}

// SetECCErrors sets GPU i's uncorrected volatile ECC error count.
func (m *Mock) SetECCErrors(i int, n uint64) {
	g := m.gpu(i)
	m.mu.Lock()
	g.ecc = n
	m.mu.Unlock()
}

// InjectXid queues an Xid event for GPU i; an event set's Wait returns it
// once.
func (m *Mock) InjectXid(i int, xid uint64) {
	g := m.gpu(i)
	m.mu.Lock()
	m.events = append(m.events, nvml.EventData{Device: g.handle, EventType: nvml.EventTypeXidCriticalError, EventData: xid})
	m.mu.Unlock()
}

// MissingLibrary is an nvml.Interface whose Init fails with
// ERROR_LIBRARY_NOT_FOUND, as on a machine without the NVIDIA driver.
// Every other call panics (go-nvml's mock with nothing stubbed), so a test
// proves nothing is called after a failed Init.
func MissingLibrary() nvml.Interface {
	return &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
}
