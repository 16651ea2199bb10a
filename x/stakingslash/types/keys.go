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
	// ParamsKey holds the Params item.
	ParamsKey = collections.NewPrefix(0)
	// CollateralsKey holds the Collateral of each provider, by address.
	CollateralsKey = collections.NewPrefix(1)
	// UnbondingEntriesKey holds the UnbondingEntry values, by (provider, id).
	UnbondingEntriesKey = collections.NewPrefix(2)
	// UnbondingQueueKey indexes the unbonding entries by completion time:
	// (completion_time, provider, id).
	UnbondingQueueKey = collections.NewPrefix(3)
)
