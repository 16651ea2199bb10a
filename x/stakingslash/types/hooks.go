package types

import (
	"context"
	"errors"
	"time"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// StakingSlashHooks lets modules that depend on x/stakingslash react to its
// state changes without x/stakingslash importing them.
type StakingSlashHooks interface {
	// AfterProviderSlashed runs after the slashed coins have been paid out.
	AfterProviderSlashed(ctx context.Context, provider sdk.AccAddress, infraction Infraction, slashed math.Int) error
	// AfterProviderJailed runs after a provider has been jailed.
	AfterProviderJailed(ctx context.Context, provider sdk.AccAddress, until time.Time) error
	// AfterEligibilityChanged runs whenever a provider gains or loses the
	// right to bid (registered, not jailed, bonded at least the required
	// bond), in the same transaction or block as the change.
	AfterEligibilityChanged(ctx context.Context, provider sdk.AccAddress, eligible bool) error
}

// MultiStakingSlashHooks runs several hooks in order and joins their errors.
type MultiStakingSlashHooks []StakingSlashHooks

var _ StakingSlashHooks = MultiStakingSlashHooks{}

// AfterProviderSlashed implements StakingSlashHooks.
func (m MultiStakingSlashHooks) AfterProviderSlashed(ctx context.Context, provider sdk.AccAddress, infraction Infraction, slashed math.Int) error {
	var errs []error
	for _, h := range m {
		errs = append(errs, h.AfterProviderSlashed(ctx, provider, infraction, slashed))
	}
	return errors.Join(errs...)
}

// AfterProviderJailed implements StakingSlashHooks.
func (m MultiStakingSlashHooks) AfterProviderJailed(ctx context.Context, provider sdk.AccAddress, until time.Time) error {
	var errs []error
	for _, h := range m {
		errs = append(errs, h.AfterProviderJailed(ctx, provider, until))
	}
	return errors.Join(errs...)
}

// AfterEligibilityChanged implements StakingSlashHooks.
func (m MultiStakingSlashHooks) AfterEligibilityChanged(ctx context.Context, provider sdk.AccAddress, eligible bool) error {
	var errs []error
	for _, h := range m {
		errs = append(errs, h.AfterEligibilityChanged(ctx, provider, eligible))
	}
	return errors.Join(errs...)
}
