package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key, its route and
	// its module account, which holds every account balance and bid
	// deposit.
	ModuleName = "escrow"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName

	// SecondsPerHour converts prices per GPU-hour to per-second accrual.
	SecondsPerHour = 3600
	// MaxReserveReasonLength bounds MsgSpendReserve's reason, in bytes.
	MaxReserveReasonLength = 256
)

// Collection prefixes. Never reuse or renumber a prefix: it is the on-disk
// key of existing state.
var (
	ParamsKey      = collections.NewPrefix(0)
	AccountsKey    = collections.NewPrefix(1)
	DryQueueKey    = collections.NewPrefix(2)
	BidDepositsKey = collections.NewPrefix(3)
	TotalsKey      = collections.NewPrefix(4)
)
