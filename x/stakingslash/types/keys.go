package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key and its route.
	ModuleName = "stakingslash"
	// StoreKey is the KV store key of the module. It is not the module name:
	// the multistore refuses a key that is a prefix of another ("staking" is
	// a prefix of "stakingslash").
	StoreKey = "collateral"
)

// Collection prefixes. Never reuse or renumber a prefix: it is the on-disk
// key of existing state.
var (
	ParamsKey = collections.NewPrefix(0)
)
