package keeper

import (
	"context"
	"errors"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/provider/types"
)

// GetProvider returns a provider record, active or deregistered.
func (k *Keeper) GetProvider(ctx context.Context, owner sdk.AccAddress) (types.Provider, error) {
	p, err := k.Providers.Get(ctx, owner)
	if errors.Is(err, collections.ErrNotFound) {
		return p, errorsmod.Wrapf(types.ErrProviderNotFound, "provider %s", owner)
	}
	return p, err
}

// GetActiveProvider returns a provider that is registered now.
func (k *Keeper) GetActiveProvider(ctx context.Context, owner sdk.AccAddress) (types.Provider, error) {
	p, err := k.GetProvider(ctx, owner)
	if err != nil {
		return p, err
	}
	if p.Status != types.PROVIDER_STATUS_ACTIVE {
		return p, errorsmod.Wrapf(types.ErrProviderNotActive, "provider %s is %s", owner, p.Status)
	}
	return p, nil
}

// RegisterProvider registers owner, or re-activates a deregistered record
// keeping its reputation and history.
func (k *Keeper) RegisterProvider(ctx context.Context, msg *types.MsgRegisterProvider) (types.Provider, error) {
	owner, err := k.addressCodec.StringToBytes(msg.Owner)
	if err != nil {
		return types.Provider{}, errorsmod.Wrapf(types.ErrInvalidProvider, "owner %q: %s", msg.Owner, err)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Provider{}, err
	}
	if err := params.CheckHostURIScheme(msg.HostUri); err != nil {
		return types.Provider{}, err
	}
	p, err := k.Providers.Get(ctx, owner)
	switch {
	case err == nil && p.Status == types.PROVIDER_STATUS_ACTIVE:
		return p, errorsmod.Wrapf(types.ErrProviderExists, "provider %s is already registered (use MsgUpdateProvider)", msg.Owner)
	case err == nil:
		// A deregistered provider comes back with its reputation and
		// history: deregistering cannot launder a bad score.
	case errors.Is(err, collections.ErrNotFound):
		p = types.Provider{Owner: msg.Owner, Reputation: params.Reputation.Initial}
	default:
		return p, err
	}
	p.Moniker, p.HostUri, p.Region, p.Contact = msg.Moniker, msg.HostUri, msg.Region, msg.Contact
	p.Status = types.PROVIDER_STATUS_ACTIVE
	p.RegisteredAt = sdk.UnwrapSDKContext(ctx).BlockTime()
	if err := k.Providers.Set(ctx, owner, p); err != nil {
		return p, err
	}
	if k.hooks != nil {
		if err := k.hooks.AfterProviderRegistered(ctx, owner); err != nil {
			return p, err
		}
	}
	return p, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventProviderRegistered{
		Owner: p.Owner, Moniker: p.Moniker, HostUri: p.HostUri, Region: p.Region, Reputation: p.Reputation,
	})
}

// UpdateProvider changes the details set in msg; empty fields are kept.
func (k *Keeper) UpdateProvider(ctx context.Context, msg *types.MsgUpdateProvider) (types.Provider, error) {
	owner, err := k.addressCodec.StringToBytes(msg.Owner)
	if err != nil {
		return types.Provider{}, errorsmod.Wrapf(types.ErrInvalidProvider, "owner %q: %s", msg.Owner, err)
	}
	p, err := k.GetActiveProvider(ctx, owner)
	if err != nil {
		return p, err
	}
	if msg.Moniker != "" {
		p.Moniker = msg.Moniker
	}
	if msg.HostUri != "" {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return p, err
		}
		if err := params.CheckHostURIScheme(msg.HostUri); err != nil {
			return p, err
		}
		p.HostUri = msg.HostUri
	}
	if msg.Region != "" {
		p.Region = msg.Region
	}
	if msg.Contact != "" {
		p.Contact = msg.Contact
	}
	if err := k.Providers.Set(ctx, owner, p); err != nil {
		return p, err
	}
	return p, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventProviderUpdated{
		Owner: p.Owner, Moniker: p.Moniker, HostUri: p.HostUri, Region: p.Region, Contact: p.Contact,
	})
}

// DeregisterProvider removes the provider's inventory and marks it
// deregistered. It is refused while any GPU is allocated, or when a hook
// (x/market: active leases) refuses it.
func (k *Keeper) DeregisterProvider(ctx context.Context, owner sdk.AccAddress) error {
	p, err := k.GetActiveProvider(ctx, owner)
	if err != nil {
		return err
	}
	if p.Stats.AllocatedGpus > 0 {
		return errorsmod.Wrapf(types.ErrDeregistrationRefused,
			"provider %s has %d GPUs allocated to leases", p.Owner, p.Stats.AllocatedGpus)
	}
	if k.hooks != nil {
		if err := k.hooks.BeforeProviderDeregistered(ctx, owner); err != nil {
			return errorsmod.Wrapf(types.ErrDeregistrationRefused, "provider %s: %s", p.Owner, err)
		}
	}
	_, removed, err := k.replaceInventory(ctx, owner, &p, nil)
	if err != nil {
		return err
	}
	p.Status = types.PROVIDER_STATUS_DEREGISTERED
	if err := k.Providers.Set(ctx, owner, p); err != nil {
		return err
	}
	if k.hooks != nil {
		if err := k.hooks.AfterProviderDeregistered(ctx, owner); err != nil {
			return err
		}
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventProviderDeregistered{
		Owner: p.Owner, Released: removed,
	})
}
