package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key and its route.
	ModuleName = "provider"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName

	// UnknownClass is the class of a GPU whose PCI device id maps to no
	// class in the params: listed, but not biddable and not rewarded.
	UnknownClass = "unknown"
	// MaxReputation is the highest reputation score.
	MaxReputation = 10_000
	// BasisPoints is 100%, in basis points.
	BasisPoints = 10_000
)

// Collection prefixes. Never reuse or renumber a prefix: it is the on-disk
// key of existing state.
var (
	ParamsKey             = collections.NewPrefix(0)
	ProvidersKey          = collections.NewPrefix(1)
	ProvidersByStatusKey  = collections.NewPrefix(2)
	ProvidersByCountryKey = collections.NewPrefix(3)
	NodesKey              = collections.NewPrefix(4)
	GPUIndexKey           = collections.NewPrefix(5)
	ClassProvidersKey     = collections.NewPrefix(6)
	SupplyKey             = collections.NewPrefix(7)
	// EarningGPUsKey: (owner, class) → the owner's GPUs of the class that
	// are verified and not allocated: what capacity rewards weigh.
	EarningGPUsKey = collections.NewPrefix(8)
)
