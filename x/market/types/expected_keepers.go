package types

import (
	"context"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// ProviderKeeper is the part of x/provider that x/market uses.
type ProviderKeeper interface {
	GetParams(ctx context.Context) (providertypes.Params, error)
	// GetActiveProvider fails unless the provider is registered and active.
	GetActiveProvider(ctx context.Context, owner sdk.AccAddress) (providertypes.Provider, error)
	// GetGPU returns where a GPU is listed, its node and the GPU.
	GetGPU(ctx context.Context, uuid string) (providertypes.GPULocation, providertypes.Node, providertypes.GPU, error)
	// GPULocation returns where a GPU is listed, without its node.
	GPULocation(ctx context.Context, uuid string) (providertypes.GPULocation, error)
	// GetNode returns one node of a provider.
	GetNode(ctx context.Context, owner sdk.AccAddress, nodeID string) (providertypes.Node, bool, error)
	// AllocateGPUs marks the provider's GPUs as leased (all or nothing).
	AllocateGPUs(ctx context.Context, owner sdk.AccAddress, leaseID string, uuids []string) error
	// ReleaseGPUs frees GPUs allocated to leaseID (all or nothing).
	ReleaseGPUs(ctx context.Context, owner sdk.AccAddress, leaseID string, uuids []string) error
	ApplyReputationEvent(ctx context.Context, owner sdk.AccAddress, event providertypes.ReputationEvent) (uint32, error)
	// ApplyReputationEventScaled applies an event with its step scaled by
	// scaleBps/10000.
	ApplyReputationEventScaled(ctx context.Context, owner sdk.AccAddress, event providertypes.ReputationEvent,
		scaleBps uint32) (uint32, error)
}

// StakingSlashKeeper is the part of x/stakingslash that x/market uses.
type StakingSlashKeeper interface {
	// IsEligible: registered, not jailed and bonded at least the required
	// bond.
	IsEligible(ctx context.Context, provider sdk.AccAddress) (bool, error)
	IsJailed(ctx context.Context, provider sdk.AccAddress) (bool, error)
	Slash(ctx context.Context, provider sdk.AccAddress, infraction stakingslashtypes.Infraction,
		infractionHeight int64, beneficiaries ...stakingslashtypes.Beneficiary) (stakingslashtypes.SlashResult, error)
}

// EscrowKeeper is the part of x/escrow that x/market uses. Accounts are
// named by the order's (tenant, seq).
type EscrowKeeper interface {
	// IsAllowedDenom reports whether orders may be paid in denom.
	IsAllowedDenom(ctx context.Context, denom string) (bool, error)
	// OpenAccount moves the order's deposit from the tenant into a new
	// account in state OPEN.
	OpenAccount(ctx context.Context, tenant sdk.AccAddress, seq uint64, deposit sdk.Coin) (escrowtypes.Account, error)
	// StartStream starts paying provider price × gpus per hour from the
	// block time; a non-zero duration caps accrual at start + duration.
	StartStream(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress,
		pricePerGPUHour math.Int, gpus uint32, durationSeconds uint64) (escrowtypes.Account, error)
	// CloseAccount settles a streaming account at the block time (capped at
	// its stream end and its funds), pays the provider minus fees, refunds
	// the rest to the tenant and marks the account CLOSED.
	CloseAccount(ctx context.Context, tenant sdk.AccAddress, seq uint64) (escrowtypes.Account, error)
	GetAccount(ctx context.Context, tenant sdk.AccAddress, seq uint64) (escrowtypes.Account, error)
	// HoldBidDeposit moves a bid's deposit from the provider into escrow.
	HoldBidDeposit(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress, deposit sdk.Coin) error
	// ReleaseBidDeposit returns a held bid deposit to the provider.
	ReleaseBidDeposit(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress) (sdk.Coin, error)
	// DueDry returns, in time order, up to limit streaming accounts whose
	// runs_dry_at is at or before the block time. It does not change state.
	DueDry(ctx context.Context, limit int) ([]escrowtypes.AccountID, error)
	// Totals returns the running totals per denom.
	Totals(ctx context.Context) ([]escrowtypes.DenomTotals, error)
}
