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

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Mode says where GPUs come from.
type Mode struct {
	// Kind is auto, real or mock. auto is real: we never fall back to fake
	// GPUs silently; without the library the error suggests a mock.
	Kind string
	// Profile names the mock profile.
	Profile string
}

// ParseMode reads "auto", "real" or "mock:<profile>".
func ParseMode(s string) (Mode, error) {
	switch {
	case s == "auto" || s == "real":
		return Mode{Kind: s}, nil
	case strings.HasPrefix(s, "mock:"):
		p := strings.TrimPrefix(s, "mock:")
		if _, ok := profiles[p]; !ok {
			return Mode{}, fmt.Errorf("nvml mode %q: unknown mock profile %q (profiles: %s)", s, p, strings.Join(Profiles(), ", "))
		}
		return Mode{Kind: "mock", Profile: p}, nil
	default:
		return Mode{}, fmt.Errorf("nvml mode %q: want auto, real or mock:<profile> (profiles: %s)", s, strings.Join(Profiles(), ", "))
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

// Errors NVML's Init reports that mean "no usable NVIDIA driver here".
var (
	ErrLibraryNotFound = errors.New("NVML library libnvidia-ml.so.1 not found")
	ErrDriverNotLoaded = errors.New("NVIDIA driver not loaded")
)

// Options tune a Source.
type Options struct {
	// Seed makes mock UUIDs deterministic and distinct per sidecar.
	Seed string
	// ClassOf maps a PCI device id ("0x2330") to a class name or
	// "unknown"; nil = the default classes of a new chain.
	ClassOf func(pciDeviceID string) string
}

// GPU is one GPU as NVML reports it.
type GPU struct {
	Index             int
	UUID              string
	Name              string
	PCIDeviceID       string
	Class             string
	VramMiB           uint32
	ComputeCapability string
	DriverVersion     string
	// MIG is true while MIG mode is enabled.
	MIG bool
	// Healthy is false for a lost GPU, after a critical Xid, or with
	// uncorrected volatile ECC errors; Health says which ("ok" otherwise).
	Healthy bool
	Health  string
}

// Telemetry is one GPU's live readings. Unsupported readings are zero
// (utilization: nil).
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

// NodeInfo is what the operator declares about the machine.
type NodeInfo struct {
	ID            string
	CPUCores      uint32
	MemoryMiB     uint32
	StorageGiB    uint32
	BandwidthMbps uint32
	Interconnect  string
}

// Inventory builds the on-chain inventory of one node from GPUs: healthy
// GPUs are listed (unknown-class ones as "unknown"), unhealthy ones left
// out.
func Inventory(node NodeInfo, list []GPU) providertypes.Inventory {
	n := providertypes.Node{Id: node.ID, CpuCores: node.CPUCores, MemoryMib: node.MemoryMiB, StorageGib: node.StorageGiB,
		BandwidthMbps: node.BandwidthMbps, Interconnect: node.Interconnect, Gpus: []providertypes.GPU{}}
	for _, g := range list {
		if !g.Healthy {
			continue
		}
		n.Gpus = append(n.Gpus, providertypes.GPU{Uuid: g.UUID, Class: g.Class, VramMib: g.VramMiB,
			PciDeviceId: g.PCIDeviceID, ComputeCapability: g.ComputeCapability, DriverVersion: g.DriverVersion})
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
// 13, 31, 43) say nothing about the hardware.
var criticalXids = map[uint64]bool{48: true, 63: true, 64: true, 74: true, 79: true, 92: true, 94: true, 95: true}

func retErr(r nvml.Return) string { return r.Error() }
