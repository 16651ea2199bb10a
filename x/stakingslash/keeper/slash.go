package keeper

import (
	"context"
	"time"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Slash punishes a provider for an infraction committed at
// infractionHeight, with the slash_fraction and jail_duration that the
// params set for that infraction:
//
//   - floor(fraction × bonded) is taken from the bonded stake;
//   - from every unbonding entry that started at or after infractionHeight
//     (stake that was still backing the provider when it misbehaved),
//     floor(fraction × initial_balance), capped at the entry's balance, is
//     taken; older entries are not touched;
//   - the total is paid out: floor(total × tenant_share) split equally
//     (rounded down) among the TENANT beneficiaries, and everything else
//     (no beneficiary, blocked addresses, rounding) to the reserve module
//     account. No coin is created or lost;
//   - the provider is jailed until block time + jail_duration when the
//     duration is positive;
//   - EventProviderSlashed is emitted and the hooks run (AfterProviderJailed,
//     then AfterProviderSlashed).
//
// INFRACTION_MISSED_COMMIT is counted first: below missed_commit_limit
// misses within missed_commit_window it only emits EventCommitMissed and
// returns zero amounts; the miss that reaches the limit clears the count
// and slashes (Escalated is then true).
//
// A provider without a record or stake is still jailed and the event still
// emitted, with zero amounts. Slash is atomic: when it returns an error
// (an unknown infraction, a future infraction height, a beneficiary
// without address or role, or a failing hook) nothing has been written.
func (k *Keeper) Slash(ctx context.Context, provider sdk.AccAddress, infraction types.Infraction,
	infractionHeight int64, beneficiaries ...types.Beneficiary,
) (types.SlashResult, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.SlashResult{}, err
	}
	ip, err := params.Infraction(infraction)
	if err != nil {
		return types.SlashResult{}, err
	}
	if len(provider) == 0 {
		return types.SlashResult{}, errorsmod.Wrap(types.ErrInvalidInfraction, "provider address is empty")
	}
	if infractionHeight < 0 || infractionHeight > sdkCtx.BlockHeight() {
		return types.SlashResult{}, errorsmod.Wrapf(types.ErrInvalidInfraction,
			"infraction_height must be in [0, %d] (the current height), got %d", sdkCtx.BlockHeight(), infractionHeight)
	}
	for i, b := range beneficiaries {
		if len(b.Address) == 0 {
			return types.SlashResult{}, errorsmod.Wrapf(types.ErrInvalidBeneficiary, "beneficiaries[%d].address is empty", i)
		}
		if b.Role != types.BENEFICIARY_ROLE_TENANT {
			return types.SlashResult{}, errorsmod.Wrapf(types.ErrInvalidBeneficiary,
				"beneficiaries[%d].role must be TENANT, got %s", i, b.Role)
		}
	}

	cacheCtx, write := sdkCtx.CacheContext()
	res, err := k.slash(cacheCtx, provider, infraction, infractionHeight, ip, params, beneficiaries)
	if err != nil {
		return types.SlashResult{}, err
	}
	write()
	return res, nil
}

func (k *Keeper) slash(ctx sdk.Context, provider sdk.AccAddress, infraction types.Infraction, infractionHeight int64,
	ip types.InfractionParams, params types.Params, beneficiaries []types.Beneficiary,
) (types.SlashResult, error) {
	res := types.ZeroSlashResult()
	now := ctx.BlockTime().UTC()

	if infraction == types.INFRACTION_MISSED_COMMIT {
		var misses uint32
		c, err := k.update(ctx, provider, func(c *types.Collateral, _ types.Params) error {
			cutoff := now.Add(-params.MissedCommitWindow)
			kept := make([]time.Time, 0, len(c.MissedCommits)+1)
			for _, t := range c.MissedCommits {
				if !t.Before(cutoff) {
					kept = append(kept, t)
				}
			}
			kept = append(kept, now)
			misses = uint32(len(kept)) // at most missed_commit_limit
			if misses < params.MissedCommitLimit {
				c.MissedCommits = kept
			} else {
				c.MissedCommits = nil
			}
			return nil
		})
		if err != nil {
			return types.SlashResult{}, err
		}
		if misses < params.MissedCommitLimit {
			return res, ctx.EventManager().EmitTypedEvent(&types.EventCommitMissed{
				Provider: c.Provider, MissesInWindow: misses, Limit: params.MissedCommitLimit,
			})
		}
		res.Escalated = true
	}

	jailed := false
	c, err := k.update(ctx, provider, func(c *types.Collateral, params types.Params) error {
		res.FromBonded = ip.SlashFraction.MulInt(c.Bonded).TruncateInt()
		c.Bonded = c.Bonded.Sub(res.FromBonded)

		entries, err := k.UnbondingEntriesOf(ctx, provider)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.CreationHeight < infractionHeight {
				continue // started before the infraction: not at stake when it happened
			}
			amt := math.MinInt(ip.SlashFraction.MulInt(e.InitialBalance).TruncateInt(), e.Balance)
			if !amt.IsPositive() {
				continue
			}
			e.Balance = e.Balance.Sub(amt)
			res.FromUnbonding = res.FromUnbonding.Add(amt)
			// The completion time is unchanged, so the queue key stays valid.
			if err := k.setEntry(ctx, provider, e); err != nil {
				return err
			}
		}
		res.Total = res.FromBonded.Add(res.FromUnbonding)
		res.Payouts, err = k.payOut(ctx, params, res.Total, beneficiaries)
		if err != nil {
			return err
		}
		if ip.JailDuration > 0 {
			jailed = true
			return k.jail(ctx, c, now.Add(ip.JailDuration), infraction)
		}
		return nil
	})
	if err != nil {
		return types.SlashResult{}, err
	}
	if jailed {
		res.JailedUntil = c.JailedUntil
	}
	if err := ctx.EventManager().EmitTypedEvent(&types.EventProviderSlashed{
		Provider:         c.Provider,
		Infraction:       infraction,
		InfractionHeight: infractionHeight,
		SlashFraction:    ip.SlashFraction,
		FromBonded:       res.FromBonded,
		FromUnbonding:    res.FromUnbonding,
		Payouts:          res.Payouts,
		Denom:            params.BondDenom,
	}); err != nil {
		return types.SlashResult{}, err
	}
	if k.hooks != nil {
		if jailed {
			if err := k.hooks.AfterProviderJailed(ctx, provider, c.JailedUntil); err != nil {
				return types.SlashResult{}, err
			}
		}
		if err := k.hooks.AfterProviderSlashed(ctx, provider, infraction, res.Total); err != nil {
			return types.SlashResult{}, err
		}
	}
	return res, nil
}

// payOut sends total bond-denom coins from the module account: the tenant
// share, split equally among the TENANT beneficiaries, and the rest to the
// reserve. It returns the transfers made, the reserve's last; their sum is
// total.
func (k *Keeper) payOut(ctx context.Context, params types.Params, total math.Int,
	beneficiaries []types.Beneficiary,
) ([]types.SlashPayout, error) {
	if !total.IsPositive() {
		return nil, nil
	}
	var payouts []types.SlashPayout
	paid := math.ZeroInt()
	if len(beneficiaries) > 0 {
		each := params.TenantShare.MulInt(total).TruncateInt().QuoRaw(int64(len(beneficiaries)))
		for _, b := range beneficiaries {
			if !each.IsPositive() {
				break
			}
			if k.bankKeeper.BlockedAddr(b.Address) {
				continue // a module account or other blocked address: its part goes to the reserve
			}
			if err := k.bankKeeper.SendCoinsFromModuleToAccount(ctx, types.ModuleName, b.Address,
				sdk.NewCoins(sdk.NewCoin(params.BondDenom, each))); err != nil {
				return nil, err
			}
			s, err := k.addressCodec.BytesToString(b.Address)
			if err != nil {
				return nil, err
			}
			payouts = append(payouts, types.SlashPayout{Address: s, Role: b.Role, Amount: each})
			paid = paid.Add(each)
		}
	}
	if rest := total.Sub(paid); rest.IsPositive() {
		if err := k.bankKeeper.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.reserveModule,
			sdk.NewCoins(sdk.NewCoin(params.BondDenom, rest))); err != nil {
			return nil, err
		}
		s, err := k.addressCodec.BytesToString(k.accountKeeper.GetModuleAddress(k.reserveModule))
		if err != nil {
			return nil, err
		}
		payouts = append(payouts, types.SlashPayout{Address: s, Role: types.BENEFICIARY_ROLE_UNSPECIFIED, Amount: rest})
	}
	return payouts, nil
}

// Jail jails a provider for infraction until the given time, or longer if
// it is already jailed until later (jailed_until only grows), emits
// EventProviderJailed and runs the AfterProviderJailed hook. A provider
// without a record gets one. Jail is atomic: on error nothing is written.
func (k *Keeper) Jail(ctx context.Context, provider sdk.AccAddress, until time.Time, infraction types.Infraction) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	if _, err := params.Infraction(infraction); err != nil {
		return err
	}
	cacheCtx, write := sdk.UnwrapSDKContext(ctx).CacheContext()
	c, err := k.update(cacheCtx, provider, func(c *types.Collateral, _ types.Params) error {
		return k.jail(cacheCtx, c, until.UTC(), infraction)
	})
	if err != nil {
		return err
	}
	if k.hooks != nil {
		if err := k.hooks.AfterProviderJailed(cacheCtx, provider, c.JailedUntil); err != nil {
			return err
		}
	}
	write()
	return nil
}

// jail sets the jail on c (the caller stores it) and emits
// EventProviderJailed.
func (k *Keeper) jail(ctx context.Context, c *types.Collateral, until time.Time, infraction types.Infraction) error {
	c.Jailed = true
	if until.After(c.JailedUntil) {
		c.JailedUntil = until
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventProviderJailed{
		Provider:    c.Provider,
		Infraction:  infraction,
		JailedUntil: c.JailedUntil,
	})
}
