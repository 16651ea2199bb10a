package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key and its route.
	ModuleName = "market"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName
)

// Collection prefixes. Never reuse or renumber a prefix: it is the on-disk
// key of existing state.
var (
	ParamsKey = collections.NewPrefix(0)
)
