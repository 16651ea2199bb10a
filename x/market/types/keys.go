package types

import "cosmossdk.io/collections"

const (
	// ModuleName is the name of the module, its store key and its route.
	ModuleName = "market"
	// StoreKey is the KV store key of the module.
	StoreKey = ModuleName

	// MaxEndpointLength bounds a lease's access endpoint, in bytes.
	MaxEndpointLength = 512
	// MaxSSHPubkeyLength bounds an order's SSH public key, in bytes.
	MaxSSHPubkeyLength = 8192
	// MaxGPUClassesPerSpec bounds the accepted classes of a spec in
	// ValidateBasic, and max_classes_per_order, which the keeper enforces.
	MaxGPUClassesPerSpec = 64
	// MaxRegionsPerSpec bounds the accepted regions of a spec in
	// ValidateBasic, and max_regions_per_order, which the keeper enforces.
	MaxRegionsPerSpec = 64
	// MaxNameLength bounds a class, region or interconnect name in a spec.
	MaxNameLength = 64
	// BasisPoints is 100%, in basis points.
	BasisPoints = 10_000
	// SecondsPerHour converts prices per GPU-hour to per-second accrual.
	SecondsPerHour = 3600
	// MaxGPUsPerBid bounds the GPUs of one bid, and so an order's nodes ×
	// gpus_per_node, in ValidateBasic: the protocol's hard limit, and the
	// bound of max_gpus_per_order, which the keeper enforces.
	MaxGPUsPerBid = 1024
	// MaxGPUUUIDLength bounds one GPU UUID in a bid, in bytes.
	MaxGPUUUIDLength = 64
	// MaxPriceBits bounds a price amount (below 2^128 base units), so that
	// price × GPUs × seconds and the price index never overflow.
	MaxPriceBits = 128

	// How a lease started, in EventLeaseStarted.how.
	LeaseStartedAccepted = "accepted"
	LeaseStartedAuction  = "auction"
	LeaseStartedInstant  = "instant"
)

// Collection prefixes. Never reuse or renumber a prefix: it is the on-disk
// key of existing state.
var (
	ParamsKey               = collections.NewPrefix(0)
	OrdersKey               = collections.NewPrefix(1)
	OrdersByStateKey        = collections.NewPrefix(2)
	TenantSeqsKey           = collections.NewPrefix(3)
	BidsKey                 = collections.NewPrefix(4)
	BidsByProviderKey       = collections.NewPrefix(5)
	LeasesKey               = collections.NewPrefix(6)
	LeasesByStateKey        = collections.NewPrefix(7)
	LeasesByProviderKey     = collections.NewPrefix(8)
	WindowQueueKey          = collections.NewPrefix(9)
	LeaseEndQueueKey        = collections.NewPrefix(10)
	PriceIndexKey           = collections.NewPrefix(11)
	CountersKey             = collections.NewPrefix(12)
	ProviderActiveLeasesKey = collections.NewPrefix(13)
)
