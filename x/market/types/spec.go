package types

import (
	"regexp"

	errorsmod "cosmossdk.io/errors"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// RegionEU is the ISO 3166-1 reserved code of the European Union: as a
// spec region it accepts a provider in any member state.
const RegionEU = "EU"

// EUMemberStates are the ISO 3166-1 alpha-2 codes of the 27 member states
// of the European Union (Greece is GR in ISO, EL in EU usage).
var EUMemberStates = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true,
	"EE": true, "FI": true, "FR": true, "DE": true, "GR": true, "HU": true, "IE": true,
	"IT": true, "LV": true, "LT": true, "LU": true, "MT": true, "NL": true, "PL": true,
	"PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
}

var specNameRe = regexp.MustCompile(`^[a-z0-9-]+$`)

// ValidateSpec checks a resource spec without state: 1 to
// MaxGPUClassesPerSpec distinct class names or model wildcards, lowercase
// tokens; at least one node and one GPU per node, at most MaxGPUsPerBid in
// all; distinct, well-formed regions; a lowercase interconnect token; a
// minimum reputation within [0, 10000]. The node count against the params
// and the class names against the known classes are checked by the keeper.
func ValidateSpec(s ResourceSpec) error {
	if len(s.GpuClasses) == 0 || len(s.GpuClasses) > MaxGPUClassesPerSpec {
		return errorsmod.Wrapf(ErrInvalidSpec, "gpu_classes: want 1-%d class names or models, got %d",
			MaxGPUClassesPerSpec, len(s.GpuClasses))
	}
	seen := make(map[string]bool, len(s.GpuClasses))
	for i, c := range s.GpuClasses {
		if len(c) > MaxNameLength || !specNameRe.MatchString(c) {
			return errorsmod.Wrapf(ErrInvalidSpec,
				"gpu_classes[%d] %q must be 1-%d lowercase letters, digits or '-'", i, c, MaxNameLength)
		}
		if c == providertypes.UnknownClass {
			return errorsmod.Wrapf(ErrInvalidSpec, "gpu_classes[%d] %q is not a GPU class: it marks unrecognised GPUs", i, c)
		}
		if seen[c] {
			return errorsmod.Wrapf(ErrInvalidSpec, "gpu_classes[%d] %q is listed twice", i, c)
		}
		seen[c] = true
	}
	if s.GpusPerNode == 0 {
		return errorsmod.Wrap(ErrInvalidSpec, "gpus_per_node must be at least 1, got 0")
	}
	if s.Nodes == 0 {
		return errorsmod.Wrap(ErrInvalidSpec, "nodes must be at least 1, got 0")
	}
	if total := s.TotalGPUs(); total > MaxGPUsPerBid {
		return errorsmod.Wrapf(ErrInvalidSpec, "nodes %d × gpus_per_node %d = %d GPUs, at most %d",
			s.Nodes, s.GpusPerNode, total, MaxGPUsPerBid)
	}
	if len(s.Regions) > MaxRegionsPerSpec {
		return errorsmod.Wrapf(ErrInvalidSpec, "regions: at most %d, got %d", MaxRegionsPerSpec, len(s.Regions))
	}
	seenRegions := make(map[string]bool, len(s.Regions))
	for i, r := range s.Regions {
		if len(r) > MaxNameLength || providertypes.ValidateRegion(r) != nil {
			return errorsmod.Wrapf(ErrInvalidSpec,
				"regions[%d] %q must be an ISO 3166-1 alpha-2 code, optionally '-' and a lowercase zone (US, DE-fra1), or EU", i, r)
		}
		if seenRegions[r] {
			return errorsmod.Wrapf(ErrInvalidSpec, "regions[%d] %q is listed twice", i, r)
		}
		seenRegions[r] = true
	}
	if s.Interconnect != "" && (len(s.Interconnect) > MaxNameLength || !specNameRe.MatchString(s.Interconnect)) {
		return errorsmod.Wrapf(ErrInvalidSpec,
			"interconnect %q must be at most %d lowercase letters, digits or '-' (e.g. infiniband)", s.Interconnect, MaxNameLength)
	}
	if s.MinReputation > providertypes.MaxReputation {
		return errorsmod.Wrapf(ErrInvalidSpec, "min_reputation must be at most %d, got %d", providertypes.MaxReputation, s.MinReputation)
	}
	return nil
}

// TotalGPUs is nodes × gpus_per_node: the GPUs a bid must offer.
func (s ResourceSpec) TotalGPUs() uint64 { return uint64(s.Nodes) * uint64(s.GpusPerNode) }

// ClassMatches reports whether a spec entry accepts a GPU class: the entry
// is the class's name (h100-sxm-80g) or its model (h100, every class of
// that model).
func ClassMatches(entry string, class providertypes.GPUClass) bool {
	return entry == class.Name || entry == class.Model
}

// AcceptsClass reports whether an entry of the spec accepts the class.
func (s ResourceSpec) AcceptsClass(class providertypes.GPUClass) bool {
	for _, e := range s.GpuClasses {
		if ClassMatches(e, class) {
			return true
		}
	}
	return false
}

// CheckClassEntries checks that every entry of the spec names at least one
// of the given classes, by name or model.
func CheckClassEntries(s ResourceSpec, classes []providertypes.GPUClass) error {
	for i, e := range s.GpuClasses {
		known := false
		for _, c := range classes {
			if ClassMatches(e, c) {
				known = true
				break
			}
		}
		if !known {
			return errorsmod.Wrapf(ErrInvalidSpec, "gpu_classes[%d] %q is neither a GPU class nor a model of one", i, e)
		}
	}
	return nil
}

// RegionMatches reports whether a spec region accepts a provider region:
// when they are equal, when the entry is a bare country and the provider
// is in it (US accepts US-east1), or when the entry is EU and the
// provider's country is an EU member state.
func RegionMatches(entry, providerRegion string) bool {
	if entry == providerRegion {
		return true
	}
	country := providertypes.Country(providerRegion)
	if entry == RegionEU {
		return EUMemberStates[country]
	}
	return entry == country
}

// AcceptsRegion reports whether the spec accepts a provider region: any
// region when the spec names none.
func (s ResourceSpec) AcceptsRegion(providerRegion string) bool {
	if len(s.Regions) == 0 {
		return true
	}
	for _, r := range s.Regions {
		if RegionMatches(r, providerRegion) {
			return true
		}
	}
	return false
}
