package gpus

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// maxDevices bounds the device count NVML may report; anything outside
// [0, maxDevices] is treated as a broken reading, never used as a bound.
const maxDevices = 64

// Source reads GPUs from an nvml.Interface whose Init succeeded. Its
// methods are safe for concurrent use.
type Source struct {
	lib     nvml.Interface
	desc    string
	classOf func(string) string

	mu     sync.Mutex
	closed bool
	uuids  map[int]string    // last UUID read per index, for lost GPUs
	xid    map[string]uint64 // critical Xid per UUID
	driver string
}

// Open opens NVML in the given mode.
func Open(mode Mode, opts Options) (*Source, error) {
	switch mode.Kind {
	case "mock":
		m, err := NewMock(mode.Profile, opts.Seed)
		if err != nil {
			return nil, err
		}
		s, err := OpenLibrary(m, opts)
		if err != nil {
			return nil, err
		}
		s.desc = fmt.Sprintf("mock:%s (%s)", mode.Profile, s.desc)
		return s, nil
	case "auto", "real":
		return OpenLibrary(nvml.New(), opts)
	default:
		return nil, fmt.Errorf("nvml mode %q: want auto, real or mock:<profile>", mode.Kind)
	}
}

// OpenLibrary initializes lib and returns a Source over it. Nothing else
// is called on lib unless Init succeeds: with the real library, a call
// without a successful Init kills the process.
func OpenLibrary(lib nvml.Interface, opts Options) (*Source, error) {
	switch ret := lib.Init(); ret {
	case nvml.SUCCESS:
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return nil, fmt.Errorf("%w: is the NVIDIA driver installed? For a machine without GPUs use --nvml mock:<profile> (%s)",
			ErrLibraryNotFound, joinProfiles())
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return nil, fmt.Errorf("%w: load the kernel module (nvidia-smi shows the same error) or use --nvml mock:<profile>",
			ErrDriverNotLoaded)
	default:
		return nil, fmt.Errorf("NVML Init failed: %s", retErr(ret))
	}
	classOf := opts.ClassOf
	if classOf == nil {
		params := providertypes.DefaultParams()
		classOf = params.ClassForPCIDeviceID
	}
	s := &Source{lib: lib, classOf: classOf, uuids: map[int]string{}, xid: map[string]uint64{}}
	driver, ret := lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		driver = "unknown"
	}
	nvmlVersion, ret := lib.SystemGetNVMLVersion()
	if ret != nvml.SUCCESS {
		nvmlVersion = "unknown"
	}
	s.driver = driver
	s.desc = fmt.Sprintf("NVML %s, driver %s", nvmlVersion, driver)
	return s, nil
}

// Close shuts NVML down (once).
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if ret := s.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("NVML Shutdown: %s", retErr(ret))
	}
	return nil
}

// Describe names the library and driver.
func (s *Source) Describe() string { return s.desc }

// count reads the device count and validates it.
func (s *Source) count() (int, error) {
	if s.closed {
		return 0, fmt.Errorf("NVML is closed")
	}
	n, ret := s.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return 0, fmt.Errorf("NVML DeviceGetCount: %s", retErr(ret))
	}
	if n < 0 || n > maxDevices {
		return 0, fmt.Errorf("NVML reported %d devices: outside [0, %d], refusing to use it", n, maxDevices)
	}
	return n, nil
}

// GPUs lists the GPUs with class and health.
func (s *Source) GPUs() ([]GPU, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.count()
	if err != nil {
		return nil, err
	}
	out := make([]GPU, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, s.readGPU(i))
	}
	return out, nil
}

// lost reports whether ret says the GPU fell off.
func lost(ret nvml.Return) bool { return ret == nvml.ERROR_GPU_IS_LOST }

func (s *Source) readGPU(i int) GPU {
	g := GPU{Index: i, UUID: s.uuids[i], Class: providertypes.UnknownClass, DriverVersion: s.driver, Healthy: true, Health: "ok"}
	unhealthy := func(why string) {
		if g.Healthy {
			g.Healthy, g.Health = false, why
		}
	}
	dev, ret := s.lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		unhealthy(fmt.Sprintf("unreadable: %s", retErr(ret)))
		if lost(ret) {
			g.Health = "lost (GPU_IS_LOST)"
		}
		return g
	}
	check := func(what string, ret nvml.Return) bool {
		switch {
		case ret == nvml.SUCCESS:
			return true
		case lost(ret):
			unhealthy("lost (GPU_IS_LOST)")
		case ret == nvml.ERROR_NOT_SUPPORTED:
		default:
			unhealthy(fmt.Sprintf("unreadable %s: %s", what, retErr(ret)))
		}
		return false
	}
	if uuid, ret := dev.GetUUID(); check("uuid", ret) {
		g.UUID = uuid
		s.uuids[i] = uuid
	}
	if name, ret := dev.GetName(); check("name", ret) {
		g.Name = name
	}
	if pci, ret := dev.GetPciInfo(); check("pci info", ret) {
		g.PCIDeviceID = pciDeviceID(pci.PciDeviceId)
		g.Class = s.classOf(g.PCIDeviceID)
	}
	if mem, ret := dev.GetMemoryInfo(); check("memory", ret) {
		mib := mem.Total >> 20
		if mib > uint64(^uint32(0)) {
			mib = uint64(^uint32(0))
		}
		g.VramMiB = uint32(mib)
	}
	if major, minor, ret := dev.GetCudaComputeCapability(); check("compute capability", ret) {
		g.ComputeCapability = fmt.Sprintf("%d.%d", major, minor)
	}
	if cur, _, ret := dev.GetMigMode(); check("mig mode", ret) {
		g.MIG = cur == nvml.DEVICE_MIG_ENABLE
	}
	if ecc, ret := dev.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC); check("ecc", ret) && ecc > 0 {
		unhealthy(fmt.Sprintf("ecc: %d uncorrected volatile errors", ecc))
	}
	if g.UUID == "" {
		unhealthy("unreadable: no UUID")
	}
	if x, ok := s.xid[g.UUID]; ok {
		unhealthy(fmt.Sprintf("xid %d", x))
	}
	return g
}

// Telemetry reads every GPU's live values, in GPUs' order.
func (s *Source) Telemetry() ([]Telemetry, error) {
	s.mu.Lock()
	n, err := s.count()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	list, err := s.GPUs()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Telemetry, 0, n)
	for _, g := range list {
		t := Telemetry{UUID: g.UUID, Healthy: g.Healthy, Health: g.Health}
		dev, ret := s.lib.DeviceGetHandleByIndex(g.Index)
		if ret != nvml.SUCCESS || g.Health == "lost (GPU_IS_LOST)" {
			out = append(out, t)
			continue
		}
		if u, ret := dev.GetUtilizationRates(); ret == nvml.SUCCESS {
			gpu, mem := min(u.Gpu, 100), min(u.Memory, 100)
			t.UtilGPUPct, t.UtilMemPct = &gpu, &mem
		}
		if mem, ret := dev.GetMemoryInfo(); ret == nvml.SUCCESS {
			t.FBUsedMiB, t.FBTotalMiB = mem.Used>>20, mem.Total>>20
			if t.FBUsedMiB > t.FBTotalMiB {
				t.FBUsedMiB = t.FBTotalMiB
			}
		}
		if p, ret := dev.GetPowerUsage(); ret == nvml.SUCCESS {
			t.PowerMilliwatts = p
		}
		if e, ret := dev.GetTotalEnergyConsumption(); ret == nvml.SUCCESS {
			t.EnergyMillijoules = e
		}
		if c, ret := dev.GetTemperature(nvml.TEMPERATURE_GPU); ret == nvml.SUCCESS {
			t.TempC = c
		}
		if c, ret := dev.GetClockInfo(nvml.CLOCK_SM); ret == nvml.SUCCESS {
			t.SMClockMHz = c
		}
		if c, ret := dev.GetClockInfo(nvml.CLOCK_MEM); ret == nvml.SUCCESS {
			t.MemClockMHz = c
		}
		if e, ret := dev.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC); ret == nvml.SUCCESS {
			t.ECCUncorrected = e
		}
		out = append(out, t)
	}
	return out, nil
}

// RecordXid marks a GPU unhealthy after a critical Xid error; other Xids
// are ignored. It reports whether the Xid was critical.
func (s *Source) RecordXid(uuid string, xid uint64) bool {
	if !criticalXids[xid] {
		return false
	}
	s.mu.Lock()
	s.xid[uuid] = xid
	s.mu.Unlock()
	return true
}

// ClearHealth forgets a GPU's recorded Xid (after an operator reset it).
func (s *Source) ClearHealth(uuid string) {
	s.mu.Lock()
	delete(s.xid, uuid)
	s.mu.Unlock()
}

// WatchXid records critical Xid errors delivered through an NVML event
// set until ctx is done. Devices that do not support the event are
// skipped; when no device does, it returns nil at once.
func (s *Source) WatchXid(ctx context.Context) error {
	s.mu.Lock()
	n, err := s.count()
	if err != nil {
		s.mu.Unlock()
		return err
	}
	set, ret := s.lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		s.mu.Unlock()
		if ret == nvml.ERROR_NOT_SUPPORTED {
			return nil
		}
		return fmt.Errorf("NVML EventSetCreate: %s", retErr(ret))
	}
	registered := 0
	for i := 0; i < n; i++ {
		dev, ret := s.lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue
		}
		if dev.RegisterEvents(nvml.EventTypeXidCriticalError, set) == nvml.SUCCESS {
			registered++
		}
	}
	s.mu.Unlock()
	defer func() { _ = set.Free() }()
	if registered == 0 {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		default:
		}
		data, ret := set.Wait(1000)
		switch ret {
		case nvml.SUCCESS:
			if data.EventType&nvml.EventTypeXidCriticalError == 0 || data.Device == nil {
				continue
			}
			if uuid, ret := data.Device.GetUUID(); ret == nvml.SUCCESS {
				s.RecordXid(uuid, data.EventData)
			}
		case nvml.ERROR_TIMEOUT:
		default:
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
		}
	}
}

func joinProfiles() string {
	out := ""
	for i, p := range Profiles() {
		if i > 0 {
			out += ", "
		}
		out += p
	}
	return out
}
