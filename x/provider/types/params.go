package types

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	errorsmod "cosmossdk.io/errors"

	"github.com/gpumesh/gpumesh/x/internal/text"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// Default baseline requirements and bounds.
const (
	DefaultMinGPUVRAMMiB       = 8 * 1024
	DefaultMinNodeMemoryMiB    = 16 * 1024
	DefaultMinNodeStorageGiB   = 100
	DefaultMaxNodesPerProvider = 64
	DefaultMaxGPUsPerNode      = 16
	MaxGPUsPerNodeLimit        = 64
	MaxNodesPerProviderLimit   = 1024
	MaxRewardWeight            = 1_000_000
	vramTolerancePercent       = 90
	defaultInitialReputation   = 5000
	defaultProofPassedBps      = 200
	defaultProofFailedBps      = 2500
	defaultLeaseCompletedBps   = 100
	defaultEarlyCloseBps       = 500
	defaultDisputeLostBps      = 3000
	maxNameLen                 = 32
)

var (
	tokenRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	pciRe   = regexp.MustCompile(`^0x[0-9a-f]{4}$`)
)

// DefaultGPUClasses are the GPU classes of a new chain. PCI device ids are
// NVIDIA's; reward weights are relative to an H100 SXM (1000); challenge
// sizes follow the proof-of-compute specification's production guide
// (docs/spec/proof-of-compute.md). There is no class a CPU can answer:
// local networks and tests shrink every class's challenge in their genesis
// (app.SetChallengeProfile).
func DefaultGPUClasses() []GPUClass {
	return []GPUClass{
		{Name: "h100-sxm-80g", Vendor: "nvidia", Model: "h100", VramGib: 80, Interface: "sxm",
			PciDeviceIds: []string{"0x2330"}, RewardWeight: 1000, ChallengeN: 65536, ChallengeM: 2},
		{Name: "h100-pcie-80g", Vendor: "nvidia", Model: "h100", VramGib: 80, Interface: "pcie",
			PciDeviceIds: []string{"0x2331"}, RewardWeight: 800, ChallengeN: 65536, ChallengeM: 1},
		{Name: "h200-sxm-141g", Vendor: "nvidia", Model: "h200", VramGib: 141, Interface: "sxm",
			PciDeviceIds: []string{"0x2335"}, RewardWeight: 1300, ChallengeN: 65536, ChallengeM: 2},
		{Name: "a100-sxm-80g", Vendor: "nvidia", Model: "a100", VramGib: 80, Interface: "sxm",
			PciDeviceIds: []string{"0x20b2"}, RewardWeight: 500, ChallengeN: 65536, ChallengeM: 1},
		{Name: "a100-sxm-40g", Vendor: "nvidia", Model: "a100", VramGib: 40, Interface: "sxm",
			PciDeviceIds: []string{"0x20b0"}, RewardWeight: 400, ChallengeN: 32768, ChallengeM: 4},
		{Name: "a100-pcie-80g", Vendor: "nvidia", Model: "a100", VramGib: 80, Interface: "pcie",
			PciDeviceIds: []string{"0x20b5"}, RewardWeight: 450, ChallengeN: 65536, ChallengeM: 1},
		{Name: "l40s-48g", Vendor: "nvidia", Model: "l40s", VramGib: 48, Interface: "pcie",
			PciDeviceIds: []string{"0x26b9"}, RewardWeight: 350, ChallengeN: 32768, ChallengeM: 4},
		{Name: "rtx4090-24g", Vendor: "nvidia", Model: "rtx4090", VramGib: 24, Interface: "pcie",
			PciDeviceIds: []string{"0x2684"}, RewardWeight: 250, ChallengeN: 32768, ChallengeM: 4},
		{Name: "rtx3090-24g", Vendor: "nvidia", Model: "rtx3090", VramGib: 24, Interface: "pcie",
			PciDeviceIds: []string{"0x2204"}, RewardWeight: 150, ChallengeN: 32768, ChallengeM: 2},
	}
}

// DefaultHostURISchemes are the schemes a host_uri may use on a new chain:
// https, and http because the sidecar's REST API serves plain HTTP unless
// the operator puts TLS in front of it (docs/provider.md registers
// http://127.0.0.1:9471). The API serves public chain-derived data; a
// console may mark an http host as not private. Governance may drop http.
func DefaultHostURISchemes() []string { return []string{"https", "http"} }

// DefaultReputationParams are the default reputation constants.
func DefaultReputationParams() ReputationParams {
	return ReputationParams{
		Initial:           defaultInitialReputation,
		ProofPassedBps:    defaultProofPassedBps,
		ProofFailedBps:    defaultProofFailedBps,
		LeaseCompletedBps: defaultLeaseCompletedBps,
		EarlyCloseBps:     defaultEarlyCloseBps,
		DisputeLostBps:    defaultDisputeLostBps,
	}
}

// DefaultParams returns the default parameters of x/provider.
func DefaultParams() Params {
	return Params{
		GpuClasses:          DefaultGPUClasses(),
		MinGpuVramMib:       DefaultMinGPUVRAMMiB,
		MinNodeMemoryMib:    DefaultMinNodeMemoryMiB,
		MinNodeStorageGib:   DefaultMinNodeStorageGiB,
		MaxNodesPerProvider: DefaultMaxNodesPerProvider,
		MaxGpusPerNode:      DefaultMaxGPUsPerNode,
		Reputation:          DefaultReputationParams(),
		HostUriSchemes:      DefaultHostURISchemes(),
	}
}

// Validate checks every parameter and names the first invalid one.
func (p Params) Validate() error {
	if len(p.GpuClasses) == 0 {
		return fmt.Errorf("gpu_classes: at least one class is required")
	}
	names := make(map[string]bool, len(p.GpuClasses))
	pciOwner := make(map[string]string)
	for i, c := range p.GpuClasses {
		if err := c.Validate(); err != nil {
			return fmt.Errorf("gpu_classes[%d]: %w", i, err)
		}
		if names[c.Name] {
			return fmt.Errorf("gpu_classes[%d].name: duplicate class %q", i, c.Name)
		}
		names[c.Name] = true
		for _, id := range c.PciDeviceIds {
			if other, ok := pciOwner[id]; ok {
				return fmt.Errorf("gpu_classes[%d].pci_device_ids: %s is already mapped to class %q", i, id, other)
			}
			pciOwner[id] = c.Name
		}
	}
	if p.MaxNodesPerProvider == 0 || p.MaxNodesPerProvider > MaxNodesPerProviderLimit {
		return fmt.Errorf("max_nodes_per_provider must be in [1, %d], got %d", MaxNodesPerProviderLimit, p.MaxNodesPerProvider)
	}
	if p.MaxGpusPerNode == 0 || p.MaxGpusPerNode > MaxGPUsPerNodeLimit {
		return fmt.Errorf("max_gpus_per_node must be in [1, %d], got %d", MaxGPUsPerNodeLimit, p.MaxGpusPerNode)
	}
	if err := p.Reputation.Validate(); err != nil {
		return fmt.Errorf("reputation.%w", err)
	}
	if err := text.CheckSchemes("host_uri_schemes", p.HostUriSchemes); err != nil {
		return err
	}
	return nil
}

// CheckHostURIScheme refuses a host_uri whose scheme host_uri_schemes does
// not list. The URI is valid (ValidateHostURI), so its scheme is the
// lowercase text before the first ':'.
func (p Params) CheckHostURIScheme(hostURI string) error {
	scheme, _, _ := strings.Cut(hostURI, ":")
	if !slices.Contains(p.HostUriSchemes, scheme) {
		return errorsmod.Wrapf(ErrInvalidProvider, "host_uri %s: scheme %q is not one of host_uri_schemes %v",
			text.Quote(hostURI), scheme, p.HostUriSchemes)
	}
	return nil
}

// Validate checks one GPU class.
func (c GPUClass) Validate() error {
	if !tokenRe.MatchString(c.Name) {
		return fmt.Errorf("name %q must be 1-%d lowercase letters, digits or '-'", c.Name, maxNameLen)
	}
	if c.Name == UnknownClass {
		return fmt.Errorf("name %q is reserved", c.Name)
	}
	for _, f := range []struct{ field, value string }{
		{"vendor", c.Vendor}, {"model", c.Model}, {"interface", c.Interface},
	} {
		if !tokenRe.MatchString(f.value) {
			return fmt.Errorf("%s %q must be 1-%d lowercase letters, digits or '-'", f.field, f.value, maxNameLen)
		}
	}
	if c.VramGib == 0 {
		return fmt.Errorf("vram_gib must be positive, got 0")
	}
	if len(c.PciDeviceIds) == 0 {
		return fmt.Errorf("pci_device_ids: at least one id is required")
	}
	seen := make(map[string]bool, len(c.PciDeviceIds))
	for _, id := range c.PciDeviceIds {
		if !pciRe.MatchString(id) {
			return fmt.Errorf("pci_device_ids: %q must be 0x and 4 lowercase hex digits", id)
		}
		if seen[id] {
			return fmt.Errorf("pci_device_ids: duplicate %s", id)
		}
		seen[id] = true
	}
	if c.RewardWeight > MaxRewardWeight {
		return fmt.Errorf("reward_weight must be at most %d, got %d", MaxRewardWeight, c.RewardWeight)
	}
	// The proof-of-compute protocol's own limits, so that a class
	// governance accepts is a challenge every module accepts.
	return challenge.ValidateSize(c.ChallengeN, c.ChallengeM)
}

// MinVRAMMiB is the least memory NVML may report for a GPU of the class:
// 90% of the nominal size, since ECC and the driver reserve some of it
// (an L40S 48 GB reports 46068 MiB).
func (c GPUClass) MinVRAMMiB() uint64 {
	return uint64(c.VramGib) * 1024 * vramTolerancePercent / 100
}

// Validate checks the reputation constants.
func (r ReputationParams) Validate() error {
	if r.Initial > MaxReputation {
		return fmt.Errorf("initial must be at most %d, got %d", MaxReputation, r.Initial)
	}
	for _, f := range []struct {
		field string
		value uint32
	}{
		{"proof_passed_bps", r.ProofPassedBps}, {"proof_failed_bps", r.ProofFailedBps},
		{"lease_completed_bps", r.LeaseCompletedBps}, {"early_close_bps", r.EarlyCloseBps},
		{"dispute_lost_bps", r.DisputeLostBps},
	} {
		if f.value > BasisPoints {
			return fmt.Errorf("%s must be at most %d, got %d", f.field, BasisPoints, f.value)
		}
	}
	return nil
}

// Class returns the class with the given name.
func (p Params) Class(name string) (GPUClass, bool) {
	for _, c := range p.GpuClasses {
		if c.Name == name {
			return c, true
		}
	}
	return GPUClass{}, false
}

// ClassForPCIDeviceID returns the class a PCI device id maps to, or
// UnknownClass.
func (p Params) ClassForPCIDeviceID(id string) string {
	for _, c := range p.GpuClasses {
		for _, pid := range c.PciDeviceIds {
			if pid == id {
				return c.Name
			}
		}
	}
	return UnknownClass
}
