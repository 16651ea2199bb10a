package keeper

import (
	"context"
	"math"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// Settle settles a streaming account at the block time: it pays out
// min(owed(t), deposited) − paid, t = the block time capped at the stream
// end, and returns that gross amount (0 when nothing was due).
func (k *Keeper) Settle(ctx context.Context, tenant sdk.AccAddress, seq uint64) (sdkmath.Int, error) {
	acc, err := k.GetAccount(ctx, tenant, seq)
	if err != nil {
		return sdkmath.Int{}, err
	}
	if err := requireStreaming(acc); err != nil {
		return sdkmath.Int{}, err
	}
	_, split, err := k.settle(ctx, acc)
	if err != nil {
		return sdkmath.Int{}, err
	}
	return split.Amount, nil
}

// Withdraw settles the provider's leases ids at the block time and returns
// what the provider received and what went to fees. Every id is checked
// first (at most max_withdraw_leases, valid, no duplicates, streaming,
// paid to provider), so a bad id settles nothing.
func (k *Keeper) Withdraw(ctx context.Context, provider sdk.AccAddress, ids []types.AccountID) (paid, fees sdk.Coins, err error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, nil, err
	}
	if len(ids) > int(params.MaxWithdrawLeases) {
		return nil, nil, errorsmod.Wrapf(types.ErrInvalidWithdraw, "lease_ids holds %d leases, above max_withdraw_leases %d",
			len(ids), params.MaxWithdrawLeases)
	}
	if err := types.ValidateWithdrawIDs(ids); err != nil {
		return nil, nil, err
	}
	accounts := make([]types.Account, len(ids))
	for i, id := range ids {
		key, _ := id.Key() // checked by ValidateWithdrawIDs
		acc, err := k.GetAccount(ctx, key.K1(), key.K2())
		if err != nil {
			return nil, nil, errorsmod.Wrapf(err, "lease_ids[%d]", i)
		}
		if err := requireStreaming(acc); err != nil {
			return nil, nil, errorsmod.Wrapf(err, "lease_ids[%d]", i)
		}
		if acc.Provider != provider.String() {
			return nil, nil, errorsmod.Wrapf(types.ErrNotPayee, "lease_ids[%d] %s is paid to %s, not %s", i, acc.Id, acc.Provider, provider)
		}
		accounts[i] = acc
	}
	paid, fees = sdk.NewCoins(), sdk.NewCoins()
	for _, acc := range accounts {
		_, split, err := k.settle(ctx, acc)
		if err != nil {
			return nil, nil, err
		}
		paid = paid.Add(sdk.NewCoin(acc.Denom, split.Provider))
		fees = fees.Add(sdk.NewCoin(acc.Denom, split.Fees()))
	}
	return paid, fees, nil
}

func requireStreaming(acc types.Account) error {
	switch acc.State {
	case types.ACCOUNT_STATE_STREAMING:
		return nil
	case types.ACCOUNT_STATE_CLOSED:
		return errorsmod.Wrapf(types.ErrAccountClosed, "account %s was closed at %s", acc.Id, acc.ClosedAt)
	default:
		return errorsmod.Wrapf(types.ErrNotStreaming, "account %s is %s: its order has no lease yet", acc.Id, acc.State)
	}
}

// settle settles a streaming account at the block time, pays the
// settlement out, stores the account and returns it with the split. With
// nothing due it only moves settled_at and emits nothing.
//
// te = min(block time, stream_end), never before settled_at; the new paid
// is min(owed(te), deposited); the amount above the old paid goes out as
// types.SplitSettlement splits it at the current rates.
func (k *Keeper) settle(ctx context.Context, acc types.Account) (types.Account, types.Split, error) {
	key, err := acc.Id.Key()
	if err != nil {
		return acc, types.Split{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return acc, types.Split{}, err
	}
	te := acc.EffectiveUnix(blockUnix(ctx))
	paidAfter := acc.PaidAt(te)
	if paidAfter.LT(acc.Paid) { // cannot happen: owed only grows and deposits only add
		return acc, types.Split{}, errorsmod.Wrapf(types.ErrInvalidAmount, "account %s: owed %s is below paid %s", acc.Id, paidAfter, acc.Paid)
	}
	split := types.SplitSettlement(acc.Paid, paidAfter, params.TakeRate(acc.Denom), params.ReserveRate)
	if split.Amount.IsPositive() {
		if err := k.payFees(ctx, acc, split); err != nil {
			return acc, split, err
		}
		if split.Provider.IsPositive() {
			provider, err := k.addressCodec.StringToBytes(acc.Provider)
			if err != nil {
				return acc, split, errorsmod.Wrapf(err, "provider %q of account %s", acc.Provider, acc.Id)
			}
			if err := k.payOut(ctx, provider, sdk.NewCoins(sdk.NewCoin(acc.Denom, split.Provider))); err != nil {
				return acc, split, errorsmod.Wrapf(err, "pay provider of account %s", acc.Id)
			}
		}
	}
	gpuSeconds := gpuSecondsBetween(acc, te)
	acc.Paid = paidAfter
	acc.Fees = acc.Fees.Add(split.Fees())
	acc.Balance = acc.Balance.Sub(split.Amount)
	acc.SettledAt = types.UnixTime(te)
	if err := k.Accounts.Set(ctx, key, acc); err != nil {
		return acc, split, err
	}
	if !split.Amount.IsPositive() && gpuSeconds == 0 {
		return acc, split, nil
	}
	if err := k.addTotals(ctx, acc.Denom, func(t *types.DenomTotals) {
		t.Settled = t.Settled.Add(split.Amount)
		t.TakeFees = t.TakeFees.Add(split.Take)
		t.ReserveFees = t.ReserveFees.Add(split.Reserve)
		t.GpuSeconds = saturatingAdd(t.GpuSeconds, gpuSeconds)
	}); err != nil {
		return acc, split, err
	}
	if !split.Amount.IsPositive() {
		return acc, split, nil
	}
	coin := func(n sdkmath.Int) sdk.Coin { return sdk.NewCoin(acc.Denom, n) }
	return acc, split, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventSettled{
		Id:             acc.Id,
		Provider:       acc.Provider,
		Amount:         coin(split.Amount),
		ProviderAmount: coin(split.Provider),
		TakeFee:        coin(split.Take),
		ReserveFee:     coin(split.Reserve),
		SettledAt:      acc.SettledAt,
		Balance:        coin(acc.Balance),
	})
}

// payFees sends the take fee to the community pool and the reserve fee to
// the reserve module account, skipping zero amounts.
func (k *Keeper) payFees(ctx context.Context, acc types.Account, split types.Split) error {
	if split.Take.IsPositive() {
		if err := k.distr.FundCommunityPool(ctx, sdk.NewCoins(sdk.NewCoin(acc.Denom, split.Take)), k.moduleAddress); err != nil {
			return errorsmod.Wrapf(err, "take fee of account %s", acc.Id)
		}
	}
	if split.Reserve.IsPositive() {
		if err := k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.reserveModule,
			sdk.NewCoins(sdk.NewCoin(acc.Denom, split.Reserve))); err != nil {
			return errorsmod.Wrapf(err, "reserve fee of account %s", acc.Id)
		}
	}
	return nil
}

// payOut sends coins from the module to addr, or to the reserve module
// account when addr may not receive coins (a module account; possible only
// through a hand-made genesis, as module accounts cannot sign orders or
// bids), so that a settlement or a close never fails for that reason.
func (k *Keeper) payOut(ctx context.Context, addr sdk.AccAddress, coins sdk.Coins) error {
	if k.bank.BlockedAddr(addr) {
		return k.bank.SendCoinsFromModuleToModule(ctx, types.ModuleName, k.reserveModule, coins)
	}
	return k.bank.SendCoinsFromModuleToAccount(ctx, types.ModuleName, addr, coins)
}

// gpuSecondsBetween is the GPU time paid for between settled_at and te:
// gpus × (min(te, runs_dry_at) − min(settled_at, runs_dry_at)), never
// negative.
func gpuSecondsBetween(acc types.Account, te int64) uint64 {
	from, to := acc.SettledAt.Unix(), te
	if dry := acc.RunsDryAt.Unix(); !acc.RunsDryAt.IsZero() {
		from, to = min(from, dry), min(to, dry)
	}
	if to <= from {
		return 0
	}
	secs := uint64(to - from)
	if secs > math.MaxUint64/uint64(acc.Gpus) {
		return math.MaxUint64
	}
	return secs * uint64(acc.Gpus)
}

func saturatingAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
