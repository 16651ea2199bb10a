package gpus

import (
	"errors"
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// maxDevices bounds the device count NVML may report; anything outside
// [0, maxDevices] is a broken reading and never used as a loop bound.
const maxDevices = 64

// errClosed is returned by every read after Close.
var errClosed = errors.New("NVML source is closed")

// Source reads GPUs from an nvml.Interface whose Init succeeded. Its
// methods are safe for concurrent use. Nothing is called on the library
// after Close: with the real library that would crash the process.
type Source struct {
	lib     nvml.Interface
	desc    string
	driver  string
	classOf func(string) string

	mu       sync.Mutex // serializes library calls and guards the fields below
	closed   bool
	done     chan struct{}     // closed by Close; stops WatchXid
	watchers sync.WaitGroup    // running WatchXid loops; Close waits for them
	uuids    map[int]string    // last UUID read per index, for lost GPUs
	xid      map[string]uint64 // recorded critical Xid per UUID
}

// Open opens the GPUs of mode: the machine's NVML for auto and real, a
// go-nvml mock (NewMock(profile, opts.Seed)) for mock.
func Open(mode Mode, opts Options) (*Source, error) {
	switch mode.Kind {
	case "mock":
		m, err := NewMock(mode.Profile, opts.Seed)
		if err != nil {
			return nil, err
		}
		return OpenLibrary(m, opts)
	case "auto", "real":
		// nvml.New only prepares the dlopen; Init loads the library.
		return OpenLibrary(nvml.New(), opts)
	default:
		return nil, fmt.Errorf("nvml mode kind %q: want auto, real or mock", mode.Kind)
	}
}

// OpenLibrary initializes lib and returns a Source over it. Nothing else
// is called on lib unless Init succeeds. ERROR_LIBRARY_NOT_FOUND gives an
// error wrapping ErrLibraryNotFound, ERROR_DRIVER_NOT_LOADED one wrapping
// ErrDriverNotLoaded; both suggest a mock profile.
func OpenLibrary(lib nvml.Interface, opts Options) (*Source, error) {
	switch ret := lib.Init(); ret {
	case nvml.SUCCESS:
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return nil, fmt.Errorf("%w: is the NVIDIA driver installed? For a machine without GPUs use --nvml mock:<profile> (profiles: %s)",
			ErrLibraryNotFound, joinProfiles())
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return nil, fmt.Errorf("%w: load the nvidia kernel module (nvidia-smi reports the same), or for a machine without GPUs use --nvml mock:<profile> (profiles: %s)",
			ErrDriverNotLoaded, joinProfiles())
	default:
		return nil, fmt.Errorf("NVML Init failed: %s (%d)", nvml.ErrorString(ret), int32(ret))
	}
	classOf := opts.ClassOf
	if classOf == nil {
		classOf = providertypes.DefaultParams().ClassForPCIDeviceID
	}
	s := &Source{lib: lib, classOf: classOf, done: make(chan struct{}), uuids: map[int]string{}, xid: map[string]uint64{}}
	driver, ret := lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS || driver == "" {
		driver = "unknown"
	}
	version, ret := lib.SystemGetNVMLVersion()
	if ret != nvml.SUCCESS || version == "" {
		version = "unknown"
	}
	s.driver = driver
	s.desc = fmt.Sprintf("NVML %s, driver %s", version, driver)
	if m, ok := lib.(*Mock); ok {
		s.desc = fmt.Sprintf("mock:%s (%s)", m.profile, s.desc)
	}
	return s, nil
}

// Close stops WatchXid loops and shuts NVML down, once; later calls
// return nil and every other method returns an error.
func (s *Source) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.watchers.Wait() // their event sets are freed before Shutdown
	s.mu.Lock()
	defer s.mu.Unlock()
	if ret := s.lib.Shutdown(); ret != nvml.SUCCESS {
		return fmt.Errorf("NVML Shutdown: %s", nvml.ErrorString(ret))
	}
	return nil
}

// Describe names the library and driver, e.g. "NVML 12.550.54.15, driver
// 550.54.15" or "mock:dgx-h100 (NVML 12.550.54.15, driver 550.54.15)".
func (s *Source) Describe() string { return s.desc }

// count reads and validates the device count; s.mu must be held.
func (s *Source) count() (int, error) {
	if s.closed {
		return 0, errClosed
	}
	n, ret := s.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return 0, fmt.Errorf("NVML DeviceGetCount: %s", nvml.ErrorString(ret))
	}
	if n < 0 || n > maxDevices {
		return 0, fmt.Errorf("NVML DeviceGetCount reported %d devices, outside [0, %d]: refusing it", n, maxDevices)
	}
	return n, nil
}

// GPUs lists the GPUs with class and health. A lost or unreadable GPU is
// listed unhealthy with what could be read.
func (s *Source) GPUs() ([]GPU, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.count()
	if err != nil {
		return nil, err
	}
	out := make([]GPU, 0, n)
	for i := range n {
		g, _, _ := s.readGPU(i)
		out = append(out, g)
	}
	return out, nil
}

// readGPU reads GPU i; s.mu must be held. It also returns the device
// handle (nil when the GPU is lost or has none) and the uncorrected
// volatile ECC count.
func (s *Source) readGPU(i int) (GPU, nvml.Device, uint64) {
	g := GPU{Index: i, UUID: s.uuids[i], Class: providertypes.UnknownClass, DriverVersion: s.driver, Healthy: true, Health: healthOK}
	var (
		isLost     bool
		unreadable string
		ecc        uint64
	)
	// ok says whether a reading succeeded and records why not; optional
	// readings may be NOT_SUPPORTED without making the GPU unhealthy.
	ok := func(what string, ret nvml.Return, optional bool) bool {
		switch {
		case ret == nvml.SUCCESS:
			return true
		case ret == nvml.ERROR_GPU_IS_LOST:
			isLost = true
		case optional && ret == nvml.ERROR_NOT_SUPPORTED:
		case unreadable == "":
			unreadable = fmt.Sprintf("unreadable: %s: %s", what, nvml.ErrorString(ret))
		}
		return false
	}
	dev, ret := s.lib.DeviceGetHandleByIndex(i)
	if !ok("handle", ret, false) {
		dev = nil
	} else {
		if uuid, ret := dev.GetUUID(); ok("uuid", ret, false) {
			g.UUID = uuid
			s.uuids[i] = uuid
		}
		if name, ret := dev.GetName(); ok("name", ret, false) {
			g.Name = name
		}
		if pci, ret := dev.GetPciInfo(); ok("pci info", ret, false) {
			g.PCIDeviceID = pciDeviceID(pci.PciDeviceId)
			g.Class = s.classOf(g.PCIDeviceID)
		}
		if mem, ret := dev.GetMemoryInfo(); ok("memory", ret, false) {
			g.VramMiB = uint32(min(mem.Total>>20, uint64(^uint32(0)))) //nolint:gosec // clamped
		}
		if major, minor, ret := dev.GetCudaComputeCapability(); ok("compute capability", ret, false) {
			g.ComputeCapability = fmt.Sprintf("%d.%d", major, minor)
		}
		if cur, _, ret := dev.GetMigMode(); ok("mig mode", ret, true) {
			g.MIG = cur == nvml.DEVICE_MIG_ENABLE
		}
		if n, ret := dev.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC); ok("ecc", ret, true) {
			ecc = n
		}
	}
	if g.UUID == "" && unreadable == "" {
		unreadable = "unreadable: no UUID"
	}
	x, hasXid := s.xid[g.UUID]
	switch {
	case isLost:
		g.Health, dev = healthLost, nil
	case hasXid && g.UUID != "":
		g.Health = fmt.Sprintf("xid %d", x)
	case ecc > 0:
		g.Health = fmt.Sprintf("ecc: %d uncorrected volatile errors", ecc)
	case unreadable != "":
		g.Health = unreadable
	default:
		return g, dev, ecc
	}
	g.Healthy = false
	return g, dev, ecc
}

// Telemetry reads every GPU's live values, one entry per GPU in GPUs'
// order. Readings a GPU does not support are left zero (utilization nil);
// a lost GPU has only UUID and health.
func (s *Source) Telemetry() ([]Telemetry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.count()
	if err != nil {
		return nil, err
	}
	out := make([]Telemetry, 0, n)
	for i := range n {
		g, dev, ecc := s.readGPU(i)
		t := Telemetry{UUID: g.UUID, ECCUncorrected: ecc, Healthy: g.Healthy, Health: g.Health}
		if dev != nil {
			readTelemetry(dev, &t)
		}
		out = append(out, t)
	}
	return out, nil
}

func readTelemetry(dev nvml.Device, t *Telemetry) {
	if u, ret := dev.GetUtilizationRates(); ret == nvml.SUCCESS {
		gpu, mem := min(u.Gpu, 100), min(u.Memory, 100)
		t.UtilGPUPct, t.UtilMemPct = &gpu, &mem
	}
	if mem, ret := dev.GetMemoryInfo(); ret == nvml.SUCCESS {
		t.FBTotalMiB = mem.Total >> 20
		t.FBUsedMiB = min(mem.Used>>20, t.FBTotalMiB)
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
}

// RecordXid marks the GPU unhealthy ("xid N") after a critical Xid error
// (48, 63, 64, 74, 79, 92, 94, 95) until ClearHealth. Other Xids are
// application faults that say nothing about the hardware and are ignored.
func (s *Source) RecordXid(uuid string, xid uint64) {
	if uuid == "" || !criticalXids[xid] {
		return
	}
	s.mu.Lock()
	s.xid[uuid] = xid
	s.mu.Unlock()
}

// ClearHealth forgets the GPU's recorded Xid (after an operator reset it).
// Lost GPUs and ECC errors are read afresh every time and are not cleared.
func (s *Source) ClearHealth(uuid string) {
	s.mu.Lock()
	delete(s.xid, uuid)
	s.mu.Unlock()
}
