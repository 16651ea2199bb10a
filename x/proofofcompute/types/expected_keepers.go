package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// AccountKeeper is the part of x/auth that x/proofofcompute uses.
type AccountKeeper interface {
	GetModuleAddress(name string) sdk.AccAddress
}

// BankKeeper is the part of x/bank that x/proofofcompute uses.
type BankKeeper interface {
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
	GetAllBalances(ctx context.Context, addr sdk.AccAddress) sdk.Coins
	MintCoins(ctx context.Context, moduleName string, amt sdk.Coins) error
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	BlockedAddr(addr sdk.AccAddress) bool
}

// ProviderKeeper is the part of x/provider that x/proofofcompute uses.
type ProviderKeeper interface {
	GetParams(ctx context.Context) (providertypes.Params, error)
	GetProvider(ctx context.Context, owner sdk.AccAddress) (providertypes.Provider, error)
	GetInventory(ctx context.Context, owner sdk.AccAddress) ([]providertypes.Node, error)
	// GetNode returns one node of a provider.
	GetNode(ctx context.Context, owner sdk.AccAddress, nodeID string) (providertypes.Node, bool, error)
	// GetGPU returns where a GPU is listed, its node and the GPU.
	GetGPU(ctx context.Context, uuid string) (providertypes.GPULocation, providertypes.Node, providertypes.GPU, error)
	// NodesAfter returns up to limit nodes in (owner, node id) order after
	// the given one (from the first when owner is empty), and whether the
	// walk reached the end.
	NodesAfter(ctx context.Context, owner sdk.AccAddress, nodeID string, limit int) ([]providertypes.NodeRef, bool, error)
	// SupplyTotals sums the allocated and verified GPU counters over the
	// classes (a handful of reads, independent of the number of GPUs).
	SupplyTotals(ctx context.Context) (allocated, verified uint64, err error)
	SetGPUsVerified(ctx context.Context, owner sdk.AccAddress, uuids []string, verified bool) error
	ApplyReputationEvent(ctx context.Context, owner sdk.AccAddress, event providertypes.ReputationEvent) (uint32, error)
	// EarningGPUsOf counts, per class, the owner's verified idle GPUs.
	EarningGPUsOf(ctx context.Context, owner sdk.AccAddress) ([]providertypes.ClassCount, error)
}

// StakingSlashKeeper is the part of x/stakingslash that x/proofofcompute
// uses.
type StakingSlashKeeper interface {
	IsJailed(ctx context.Context, provider sdk.AccAddress) (bool, error)
	// IsEligible: registered, not jailed, bonded at least the required bond.
	IsEligible(ctx context.Context, provider sdk.AccAddress) (bool, error)
	Slash(ctx context.Context, provider sdk.AccAddress, infraction stakingslashtypes.Infraction,
		infractionHeight int64, beneficiaries ...stakingslashtypes.Beneficiary) (stakingslashtypes.SlashResult, error)
}

// MarketKeeper is the part of x/market that x/proofofcompute uses.
type MarketKeeper interface {
	GetLease(ctx context.Context, id markettypes.OrderID) (markettypes.Lease, error)
	// CloseLease closes an ACTIVE lease: the provider is paid what it
	// earned, the tenant refunded the rest and the GPUs released.
	CloseLease(ctx context.Context, id markettypes.OrderID, reason markettypes.LeaseCloseReason) error
}
