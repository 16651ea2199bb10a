package keeper

import (
	"context"
	"time"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

type msgServer struct {
	*Keeper
}

var _ types.MsgServer = msgServer{}

// NewMsgServerImpl returns the Msg service of x/stakingslash.
func NewMsgServerImpl(k *Keeper) types.MsgServer {
	return msgServer{Keeper: k}
}

// Bond moves collateral from a registered provider's account into the
// module account.
func (s msgServer) Bond(ctx context.Context, msg *types.MsgBond) (*types.MsgBondResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider := sdk.MustAccAddressFromBech32(msg.Provider)
	c, err := s.update(ctx, provider, func(c *types.Collateral, params types.Params) error {
		if msg.Amount.Denom != params.BondDenom {
			return errorsmod.Wrapf(types.ErrWrongDenom, "amount denom %q must be the bond denom %q", msg.Amount.Denom, params.BondDenom)
		}
		if !c.Registered {
			return errorsmod.Wrapf(types.ErrProviderNotRegistered, "provider %s is not a registered provider", msg.Provider)
		}
		if err := s.bankKeeper.SendCoinsFromAccountToModule(ctx, provider, types.ModuleName, sdk.NewCoins(msg.Amount)); err != nil {
			return err
		}
		c.Bonded = c.Bonded.Add(msg.Amount.Amount)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBonded{
		Provider: c.Provider, Amount: msg.Amount.Amount, Bonded: c.Bonded,
	}); err != nil {
		return nil, err
	}
	return &types.MsgBondResponse{}, nil
}

// Unbond moves bonded collateral into an unbonding entry paid out after
// unbonding_time. It never takes the bond below what the provider's listed
// GPUs require (jailed or not): that part stays at stake while the GPUs are
// listed.
func (s msgServer) Unbond(ctx context.Context, msg *types.MsgUnbond) (*types.MsgUnbondResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider := sdk.MustAccAddressFromBech32(msg.Provider)
	var entry types.UnbondingEntry
	_, err := s.update(ctx, provider, func(c *types.Collateral, params types.Params) error {
		if msg.Amount.Denom != params.BondDenom {
			return errorsmod.Wrapf(types.ErrWrongDenom, "amount denom %q must be the bond denom %q", msg.Amount.Denom, params.BondDenom)
		}
		if msg.Amount.Amount.GT(c.Bonded) {
			return errorsmod.Wrapf(types.ErrInsufficientBond, "amount %s exceeds the bonded %s%s",
				msg.Amount, c.Bonded, params.BondDenom)
		}
		// The bond required by the listed GPUs stays bonded: it backs their
		// leases (allocated GPUs cannot be delisted while a lease runs) and
		// their capacity rewards, so a slash for an early close or a failed
		// dispute always finds it. List fewer GPUs, or deregister, to unbond
		// it.
		required := params.RequiredBond(c.BillableGpus)
		if left := c.Bonded.Sub(msg.Amount.Amount); left.LT(required) {
			return errorsmod.Wrapf(types.ErrBondLocked,
				"amount %s would leave %s%s bonded, below the %s%s that %d listed GPUs require (min_bond_per_gpu %s); "+
					"list fewer GPUs or deregister first (at most %s%s can be unbonded now)",
				msg.Amount, left, params.BondDenom, required, params.BondDenom, c.BillableGpus, params.MinBondPerGpu,
				math.MaxInt(c.Bonded.Sub(required), math.ZeroInt()), params.BondDenom)
		}
		open, err := s.countEntries(ctx, provider)
		if err != nil {
			return err
		}
		if open >= params.MaxUnbondingEntries {
			return errorsmod.Wrapf(types.ErrTooManyUnbondingEntries,
				"provider %s has %d open unbonding entries; max_unbonding_entries is %d", msg.Provider, open, params.MaxUnbondingEntries)
		}
		entry, err = s.startUnbonding(ctx, provider, c, msg.Amount.Amount, params)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &types.MsgUnbondResponse{EntryId: entry.Id, CompletionTime: entry.CompletionTime}, nil
}

// Unjail lifts a provider's jail once block time has reached jailed_until.
func (s msgServer) Unjail(ctx context.Context, msg *types.MsgUnjail) (*types.MsgUnjailResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	provider := sdk.MustAccAddressFromBech32(msg.Provider)
	now := sdk.UnwrapSDKContext(ctx).BlockTime()
	c, err := s.update(ctx, provider, func(c *types.Collateral, _ types.Params) error {
		if !c.Jailed {
			return errorsmod.Wrapf(types.ErrNotJailed, "provider %s is not jailed", msg.Provider)
		}
		if now.Before(c.JailedUntil) {
			return errorsmod.Wrapf(types.ErrJailPeriodNotOver, "provider %s is jailed until %s; block time is %s",
				msg.Provider, c.JailedUntil.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
		}
		c.Jailed = false
		c.JailedUntil = time.Time{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventProviderUnjailed{Provider: c.Provider}); err != nil {
		return nil, err
	}
	return &types.MsgUnjailResponse{}, nil
}

// UpdateParams replaces the params; only the authority may send it.
func (s msgServer) UpdateParams(ctx context.Context, msg *types.MsgUpdateParams) (*types.MsgUpdateParamsResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if err := sdk.ValidateAuthority(sdkCtx, s.authority, msg.Authority); err != nil {
		return nil, err
	}
	if err := msg.Params.Validate(); err != nil {
		return nil, errorsmod.Wrap(types.ErrInvalidParams, err.Error())
	}
	if err := s.Params.Set(ctx, msg.Params); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventParamsUpdated{
		Authority: msg.Authority,
		Params:    msg.Params,
	}); err != nil {
		return nil, err
	}
	return &types.MsgUpdateParamsResponse{}, nil
}
