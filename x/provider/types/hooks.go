package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// ProviderHooks lets other modules follow the provider registry without
// x/provider importing them: x/stakingslash mirrors registration and the
// billable GPU count (for the required bond) and unbonds on deregistration;
// x/market vetoes a deregistration while leases are active;
// x/proofofcompute keeps the provider's reward weight in step with its
// verified, idle GPUs.
type ProviderHooks interface {
	// AfterProviderRegistered runs after a provider registers or re-registers.
	AfterProviderRegistered(ctx context.Context, owner sdk.AccAddress) error
	// AfterInventoryChanged runs after an inventory is replaced, with the
	// number of GPUs of a known class now listed.
	AfterInventoryChanged(ctx context.Context, owner sdk.AccAddress, billableGPUs uint32) error
	// BeforeProviderDeregistered may refuse a deregistration by returning an
	// error.
	BeforeProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error
	// AfterProviderDeregistered runs after the inventory has been removed.
	AfterProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error
	// AfterGPUAllocationChanged runs after GPUs of owner were allocated to a
	// lease or released from one, when that changed how many of owner's
	// GPUs are verified and idle (an allocation of unverified GPUs does
	// not run it).
	AfterGPUAllocationChanged(ctx context.Context, owner sdk.AccAddress) error
}

// MultiProviderHooks runs several hooks in order; the first error stops the
// sequence (an error aborts the transaction anyway).
type MultiProviderHooks []ProviderHooks

var _ ProviderHooks = MultiProviderHooks{}

// AfterProviderRegistered implements ProviderHooks.
func (m MultiProviderHooks) AfterProviderRegistered(ctx context.Context, owner sdk.AccAddress) error {
	for _, h := range m {
		if err := h.AfterProviderRegistered(ctx, owner); err != nil {
			return err
		}
	}
	return nil
}

// AfterInventoryChanged implements ProviderHooks.
func (m MultiProviderHooks) AfterInventoryChanged(ctx context.Context, owner sdk.AccAddress, billableGPUs uint32) error {
	for _, h := range m {
		if err := h.AfterInventoryChanged(ctx, owner, billableGPUs); err != nil {
			return err
		}
	}
	return nil
}

// BeforeProviderDeregistered implements ProviderHooks.
func (m MultiProviderHooks) BeforeProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error {
	for _, h := range m {
		if err := h.BeforeProviderDeregistered(ctx, owner); err != nil {
			return err
		}
	}
	return nil
}

// AfterProviderDeregistered implements ProviderHooks.
func (m MultiProviderHooks) AfterProviderDeregistered(ctx context.Context, owner sdk.AccAddress) error {
	for _, h := range m {
		if err := h.AfterProviderDeregistered(ctx, owner); err != nil {
			return err
		}
	}
	return nil
}

// AfterGPUAllocationChanged implements ProviderHooks.
func (m MultiProviderHooks) AfterGPUAllocationChanged(ctx context.Context, owner sdk.AccAddress) error {
	for _, h := range m {
		if err := h.AfterGPUAllocationChanged(ctx, owner); err != nil {
			return err
		}
	}
	return nil
}
