// Package gpus reads the machine's GPUs through go-nvml's nvml.Interface:
// the real library, or a go-nvml mock for machines without GPUs, so the
// same code paths run either way. It maps each GPU to a class by its PCI
// device id, tracks health (lost GPUs, critical Xid errors, uncorrected
// ECC errors) and reads telemetry.
package gpus

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Mode says where GPUs come from.
type Mode struct {
	// Kind is "auto", "real" or "mock". auto is real: we never fall back to
	// fake GPUs silently; without the library the error suggests a mock.
	Kind string
	// Profile names the mock profile (Kind "mock" only).
	Profile string
}

// ParseMode reads "auto", "real" or "mock:<profile>". Errors name the value
// and list the valid profiles.
func ParseMode(s string) (Mode, error) {
	switch {
	case s == "auto" || s == "real":
		return Mode{Kind: s}, nil
	case strings.HasPrefix(s, "mock:"):
		p := strings.TrimPrefix(s, "mock:")
		if _, ok := profiles[p]; !ok {
			return Mode{}, fmt.Errorf("nvml mode %q: unknown mock profile %q (profiles: %s)", s, p, joinProfiles())
		}
		return Mode{Kind: "mock", Profile: p}, nil
	default:
		return Mode{}, fmt.Errorf("nvml mode %q: want auto, real or mock:<profile> (profiles: %s)", s, joinProfiles())
	}
}

// String writes the mode as ParseMode reads it.
func (m Mode) String() string {
	if m.Kind == "mock" {
		return "mock:" + m.Profile
	}
	return m.Kind
}

// Profiles are the mock profiles, sorted.
func Profiles() []string {
	out := make([]string, 0, len(profiles))
	for p := range profiles {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func joinProfiles() string { return strings.Join(Profiles(), ", ") }

// Errors NVML's Init reports that mean "no usable NVIDIA driver here".
// OpenLibrary wraps them with advice.
var (
	ErrLibraryNotFound = errors.New("NVML library libnvidia-ml.so.1 not found")
	ErrDriverNotLoaded = errors.New("NVIDIA driver not loaded")
)

// Options tune a Source.
type Options struct {
	// Seed makes mock UUIDs deterministic and distinct per sidecar (e.g.
	// the node id): mock UUIDs are "GPU-" and a canonical UUID derived from
	// sha256(profile, seed, index). Real GPUs ignore it.
	Seed string
	// ClassOf maps a PCI device id ("0x2330") to a class name or
	// "unknown"; nil = providertypes.DefaultParams().ClassForPCIDeviceID.
	ClassOf func(pciDeviceID string) string
}

// Health strings of a GPU (besides the ones carrying a number or an error).
const (
	healthOK   = "ok"
	healthLost = "lost (GPU_IS_LOST)"
)

// GPU is one GPU as NVML reports it.
type GPU struct {
	Index             int
	UUID              string
	Name              string
	PCIDeviceID       string // "0x2330"
	Class             string // a class name or providertypes.UnknownClass
	VramMiB           uint32
	ComputeCapability string // "9.0"
	DriverVersion     string
	// MIG is true while MIG mode is enabled.
	MIG bool
	// Healthy is false for a lost GPU, after a critical Xid, with
	// uncorrected volatile ECC errors or when a reading failed; Health says
	// why ("lost (GPU_IS_LOST)", "xid 79", "ecc: 3 uncorrected volatile
	// errors", "unreadable: <err>"), or is "ok".
	Healthy bool
	Health  string
}

// Telemetry is one GPU's live readings. Unsupported readings are zero, and
// utilization nil (MIG mode, NOT_SUPPORTED).
type Telemetry struct {
	UUID              string
	UtilGPUPct        *uint32
	UtilMemPct        *uint32
	FBUsedMiB         uint64
	FBTotalMiB        uint64
	PowerMilliwatts   uint32
	EnergyMillijoules uint64
	TempC             uint32
	SMClockMHz        uint32
	MemClockMHz       uint32
	ECCUncorrected    uint64
	Healthy           bool
	Health            string
}

// NodeInfo is what the operator configures about the machine.
type NodeInfo struct {
	ID            string
	CPUCores      uint32
	MemoryMiB     uint32
	StorageGiB    uint32
	BandwidthMbps uint32
	Interconnect  string
}

// Inventory builds the on-chain inventory of one node from GPUs: healthy
// GPUs are listed, those of an unknown class with class "unknown";
// unhealthy ones are left out.
func Inventory(node NodeInfo, list []GPU) providertypes.Inventory {
	n := providertypes.Node{
		Id: node.ID, CpuCores: node.CPUCores, MemoryMib: node.MemoryMiB, StorageGib: node.StorageGiB,
		BandwidthMbps: node.BandwidthMbps, Interconnect: node.Interconnect, Gpus: []providertypes.GPU{},
	}
	for _, g := range list {
		if !g.Healthy {
			continue
		}
		class := g.Class
		if class == "" {
			class = providertypes.UnknownClass
		}
		n.Gpus = append(n.Gpus, providertypes.GPU{
			Uuid: g.UUID, Class: class, VramMib: g.VramMiB, PciDeviceId: g.PCIDeviceID,
			ComputeCapability: g.ComputeCapability, DriverVersion: g.DriverVersion,
		})
	}
	return providertypes.Inventory{Nodes: []providertypes.Node{n}}
}

// pciDeviceID formats NVML's combined id (device<<16 | vendor) as the
// chain's "0x" and four lowercase hex digits of the device.
func pciDeviceID(combined uint32) string { return fmt.Sprintf("0x%04x", combined>>16) }

// criticalXids are the Xid errors after which a GPU is not offered until
// an operator clears it: 48 double-bit ECC, 63/64 row remapping, 74
// NVLink, 79 fallen off the bus, 92 high single-bit ECC rate, 94/95
// contained/uncontained ECC errors. Others (application faults such as
// 13, 31, 43, 45) say nothing about the hardware and are ignored.
var criticalXids = map[uint64]bool{48: true, 63: true, 64: true, 74: true, 79: true, 92: true, 94: true, 95: true}
