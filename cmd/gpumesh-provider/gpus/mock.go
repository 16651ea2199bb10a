package gpus

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// model is one GPU model of a mock profile.
type model struct {
	name        string
	pci         uint32 // device<<16 | vendor
	memMiB      uint64
	ccMajor     int
	ccMinor     int
	idleWatts   uint32
	smClockMHz  uint32
	memClockMHz uint32
}

var (
	h100SXM  = model{"NVIDIA H100 80GB HBM3", 0x233010DE, 81559, 9, 0, 70, 1980, 2619}
	h100PCIe = model{"NVIDIA H100 PCIe", 0x233110DE, 81559, 9, 0, 50, 1755, 1593}
	l40s     = model{"NVIDIA L40S", 0x26B910DE, 46068, 8, 9, 35, 2520, 9001}
	rtx4090  = model{"NVIDIA GeForce RTX 4090", 0x268410DE, 24564, 8, 9, 25, 2520, 10501}
	t4       = model{"Tesla T4", 0x1EB810DE, 15360, 7, 5, 10, 1590, 5001}
)

// profiles are the mock machines. dgx-a100 is go-nvml's own dgxa100 mock
// (nil models here).
var profiles = map[string][]model{
	"dgx-h100":  {h100SXM, h100SXM, h100SXM, h100SXM, h100SXM, h100SXM, h100SXM, h100SXM},
	"dgx-a100":  nil,
	"rtx4090x4": {rtx4090, rtx4090, rtx4090, rtx4090},
	"mixed":     {h100PCIe, h100PCIe, l40s, l40s, t4},
}

const mockDriver = "550.54.15"

// Mock is a go-nvml mock machine with fault injection for tests: a lost
// GPU, MIG mode, utilization, Xid events. It implements nvml.Interface.
type Mock struct {
	*mock.Interface
	created time.Time

	mu      sync.Mutex
	devices []*mockDevice
	events  []nvml.EventData
}

type mockDevice struct {
	nvml.Device
	uuid    string
	lost    bool
	mig     bool
	utilGPU uint32
	utilMem uint32
	watts   uint32
}

// mockUUID derives a GPU UUID from the profile, seed and index.
func mockUUID(profile, seed string, i int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "gpumesh-mock/%s/%s/%d", profile, seed, i))
	h[6] = h[6]&0x0f | 0x50 // version 5 layout
	h[8] = h[8]&0x3f | 0x80
	u, _ := uuid.FromBytes(h[:16])
	return "GPU-" + u.String()
}

// NewMock builds a mock machine of the named profile; seed makes its UUIDs
// distinct per sidecar.
func NewMock(profile, seed string) (*Mock, error) {
	models, ok := profiles[profile]
	if !ok {
		return nil, fmt.Errorf("mock profile %q: want one of %s", profile, joinProfiles())
	}
	m := &Mock{Interface: &mock.Interface{}, created: time.Now()}
	if profile == "dgx-a100" {
		srv := dgxa100.New()
		for i, d := range srv.Devices {
			dev := d.(*dgxa100.Device)
			dev.UUID = mockUUID(profile, seed, i)
			md := &mockDevice{uuid: dev.UUID, watts: 60}
			m.fill(&dev.Device, md, model{smClockMHz: 1410, memClockMHz: 1215})
			md.Device = dev
			m.devices = append(m.devices, md)
		}
	} else {
		for i, mo := range models {
			dev := &mock.Device{}
			md := &mockDevice{uuid: mockUUID(profile, seed, i), watts: mo.idleWatts, Device: dev}
			dev.GetNameFunc = func() (string, nvml.Return) { return mo.name, nvml.SUCCESS }
			dev.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) {
				return nvml.PciInfo{PciDeviceId: mo.pci, Bus: uint32(i + 1)}, nvml.SUCCESS //nolint:gosec // small index
			}
			dev.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
				total := mo.memMiB << 20
				used := uint64(0)
				m.mu.Lock()
				used = total / 100 * uint64(md.utilMem)
				m.mu.Unlock()
				return nvml.Memory{Total: total, Used: used, Free: total - used}, nvml.SUCCESS
			}
			dev.GetCudaComputeCapabilityFunc = func() (int, int, nvml.Return) { return mo.ccMajor, mo.ccMinor, nvml.SUCCESS }
			dev.GetMigModeFunc = func() (int, int, nvml.Return) {
				m.mu.Lock()
				defer m.mu.Unlock()
				if md.mig {
					return nvml.DEVICE_MIG_ENABLE, nvml.DEVICE_MIG_ENABLE, nvml.SUCCESS
				}
				return nvml.DEVICE_MIG_DISABLE, nvml.DEVICE_MIG_DISABLE, nvml.SUCCESS
			}
			m.fill(dev, md, mo)
			m.devices = append(m.devices, md)
		}
	}
	m.InitFunc = func() nvml.Return { return nvml.SUCCESS }
	m.ShutdownFunc = func() nvml.Return { return nvml.SUCCESS }
	m.SystemGetDriverVersionFunc = func() (string, nvml.Return) { return mockDriver, nvml.SUCCESS }
	m.SystemGetNVMLVersionFunc = func() (string, nvml.Return) { return "12." + mockDriver, nvml.SUCCESS }
	m.DeviceGetCountFunc = func() (int, nvml.Return) { return len(m.devices), nvml.SUCCESS }
	m.DeviceGetHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i < 0 || i >= len(m.devices) {
			return nil, nvml.ERROR_INVALID_ARGUMENT
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.devices[i].lost {
			return nil, nvml.ERROR_GPU_IS_LOST
		}
		return m.devices[i], nvml.SUCCESS
	}
	m.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) {
		set := &mock.EventSet{}
		set.FreeFunc = func() nvml.Return { return nvml.SUCCESS }
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
				if time.Now().After(deadline) {
					return nvml.EventData{}, nvml.ERROR_TIMEOUT
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		return set, nvml.SUCCESS
	}
	return m, nil
}

// fill installs the telemetry, health and event functions shared by every
// profile (go-nvml's mocks panic on any function left unset). Each checks
// the lost flag first, as a real lost GPU fails every call.
func (m *Mock) fill(dev *mock.Device, md *mockDevice, mo model) {
	isLost := func() bool { m.mu.Lock(); defer m.mu.Unlock(); return md.lost }
	dev.GetUUIDFunc = func() (string, nvml.Return) {
		if isLost() {
			return "", nvml.ERROR_GPU_IS_LOST
		}
		return md.uuid, nvml.SUCCESS
	}
	dev.GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) {
		return 0, nvml.SUCCESS
	}
	dev.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if md.mig {
			return nvml.Utilization{}, nvml.ERROR_NOT_SUPPORTED
		}
		return nvml.Utilization{Gpu: md.utilGPU, Memory: md.utilMem}, nvml.SUCCESS
	}
	dev.GetPowerUsageFunc = func() (uint32, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return md.watts*1000 + md.utilGPU*5000, nvml.SUCCESS
	}
	dev.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) {
		m.mu.Lock()
		w := uint64(md.watts)
		m.mu.Unlock()
		return uint64(time.Since(m.created).Milliseconds()) * w, nvml.SUCCESS //nolint:gosec // positive
	}
	dev.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return 35 + md.utilGPU/3, nvml.SUCCESS
	}
	dev.GetClockInfoFunc = func(t nvml.ClockType) (uint32, nvml.Return) {
		if t == nvml.CLOCK_MEM {
			return mo.memClockMHz, nvml.SUCCESS
		}
		return mo.smClockMHz, nvml.SUCCESS
	}
	dev.RegisterEventsFunc = func(uint64, nvml.EventSet) nvml.Return { return nvml.SUCCESS }
}

func (m *Mock) device(i int) *mockDevice {
	if i < 0 || i >= len(m.devices) {
		panic(fmt.Sprintf("mock GPU index %d out of range [0, %d)", i, len(m.devices)))
	}
	return m.devices[i]
}

// UUIDs lists the mock's GPU UUIDs.
func (m *Mock) UUIDs() []string {
	out := make([]string, len(m.devices))
	for i, d := range m.devices {
		out[i] = d.uuid
	}
	return out
}

// SetLost makes every call about GPU i fail with ERROR_GPU_IS_LOST.
func (m *Mock) SetLost(i int) { d := m.device(i); m.mu.Lock(); d.lost = true; m.mu.Unlock() }

// SetMIG turns MIG mode on or off; while on, utilization is unsupported.
func (m *Mock) SetMIG(i int, on bool) { d := m.device(i); m.mu.Lock(); d.mig = on; m.mu.Unlock() }

// SetUtilization sets GPU i's utilization.
func (m *Mock) SetUtilization(i int, gpuPct, memPct uint32) {
	d := m.device(i)
	m.mu.Lock()
	d.utilGPU, d.utilMem = gpuPct, memPct
	m.mu.Unlock()
}

// InjectXid queues an Xid event for GPU i, delivered once by the event
// set's Wait.
func (m *Mock) InjectXid(i int, xid uint64) {
	d := m.device(i)
	m.mu.Lock()
	m.events = append(m.events, nvml.EventData{Device: d, EventType: nvml.EventTypeXidCriticalError, EventData: xid})
	m.mu.Unlock()
}

// MissingLibrary is an nvml.Interface whose Init fails as on a machine
// without the NVIDIA driver; every other call panics, so a test proves
// nothing is called after a failed Init.
func MissingLibrary() nvml.Interface {
	return &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
}

// DriverNotLoaded is like MissingLibrary with the driver not loaded.
func DriverNotLoaded() nvml.Interface {
	return &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_DRIVER_NOT_LOADED }}
}
