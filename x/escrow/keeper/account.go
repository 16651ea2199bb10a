package keeper

import (
	"context"
	"errors"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// blockUnix is the block time in whole unix seconds, the clock of every
// stream.
func blockUnix(ctx context.Context) int64 {
	return sdk.UnwrapSDKContext(ctx).BlockTime().Unix()
}

// IsAllowedDenom reports whether orders may be paid in denom.
func (k *Keeper) IsAllowedDenom(ctx context.Context, denom string) (bool, error) {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return false, err
	}
	return params.IsAllowed(denom), nil
}

// GetAccount returns the account (tenant, seq), or ErrAccountNotFound
// naming it.
func (k *Keeper) GetAccount(ctx context.Context, tenant sdk.AccAddress, seq uint64) (types.Account, error) {
	acc, err := k.Accounts.Get(ctx, collections.Join(tenant, seq))
	if errors.Is(err, collections.ErrNotFound) {
		return acc, errorsmod.Wrapf(types.ErrAccountNotFound, "account %s", types.NewAccountID(tenant, seq))
	}
	return acc, err
}

// OpenAccount moves an order's deposit from the tenant into a new account
// (tenant, seq) in state OPEN. The denom must be allowed and the amount at
// least the denom's min_deposits entry: every account is an order in
// x/market's queues, so the minimum is what makes a storm of orders lock
// real money.
func (k *Keeper) OpenAccount(ctx context.Context, tenant sdk.AccAddress, seq uint64, deposit sdk.Coin) (types.Account, error) {
	id := types.NewAccountID(tenant, seq)
	if seq == 0 {
		return types.Account{}, errorsmod.Wrapf(types.ErrInvalidAccountID, "seq must be at least 1, got 0 (id %s)", id)
	}
	if err := types.ValidatePositiveCoin("deposit", deposit); err != nil {
		return types.Account{}, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.Account{}, err
	}
	if !params.IsAllowed(deposit.Denom) {
		return types.Account{}, errorsmod.Wrapf(types.ErrDenomNotAllowed, "deposit denom %q is not in the allowed_denoms param", deposit.Denom)
	}
	if minimum := params.MinDeposit(deposit.Denom); deposit.Amount.LT(minimum) {
		return types.Account{}, errorsmod.Wrapf(types.ErrDepositTooSmall, "deposit %s is below the min_deposits entry %s%s",
			deposit, minimum, deposit.Denom)
	}
	key := collections.Join(tenant, seq)
	if has, err := k.Accounts.Has(ctx, key); err != nil {
		return types.Account{}, err
	} else if has {
		return types.Account{}, errorsmod.Wrapf(types.ErrAccountExists, "account %s", id)
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, tenant, types.ModuleName, sdk.NewCoins(deposit)); err != nil {
		return types.Account{}, errorsmod.Wrapf(err, "deposit %s into account %s", deposit, id)
	}
	acc := types.Account{
		Id:              id,
		Denom:           deposit.Denom,
		State:           types.ACCOUNT_STATE_OPEN,
		Deposited:       deposit.Amount,
		Paid:            math.ZeroInt(),
		Refunded:        math.ZeroInt(),
		Balance:         deposit.Amount,
		Fees:            math.ZeroInt(),
		PricePerGpuHour: math.ZeroInt(),
		CreatedAt:       types.UnixTime(blockUnix(ctx)),
	}
	if err := k.Accounts.Set(ctx, key, acc); err != nil {
		return types.Account{}, err
	}
	return acc, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountOpened{Id: id, Deposit: deposit})
}

// Deposit adds amount, paid by sender, to an account that is not closed.
// A streaming account is settled first; one that has already run dry
// (runs_dry_at ≤ block time) refuses the deposit with ErrAccountDepleted,
// as its lease is due to close (in this block, or a later one when
// x/market's EndBlock cap carries it over). The new runs_dry_at moves its entry in
// the dry queue.
func (k *Keeper) Deposit(ctx context.Context, sender, tenant sdk.AccAddress, seq uint64, amount sdk.Coin) (types.Account, error) {
	key := collections.Join(tenant, seq)
	acc, err := k.GetAccount(ctx, tenant, seq)
	if err != nil {
		return acc, err
	}
	if acc.State == types.ACCOUNT_STATE_CLOSED {
		return acc, errorsmod.Wrapf(types.ErrAccountClosed, "account %s was closed at %s", acc.Id, acc.ClosedAt)
	}
	if amount.Denom != acc.Denom {
		return acc, errorsmod.Wrapf(types.ErrWrongDenom, "amount denom %q: account %s is in %s", amount.Denom, acc.Id, acc.Denom)
	}
	if err := types.ValidatePositiveCoin("amount", amount); err != nil {
		return acc, err
	}
	now := blockUnix(ctx)
	if acc.State == types.ACCOUNT_STATE_STREAMING {
		if acc.RunsDryAt.Unix() <= now {
			return acc, errorsmod.Wrapf(types.ErrAccountDepleted, "account %s ran dry at %s; x/market's EndBlock closes its lease",
				acc.Id, acc.RunsDryAt)
		}
		if acc, _, err = k.settle(ctx, acc); err != nil {
			return acc, err
		}
	}
	if err := k.bank.SendCoinsFromAccountToModule(ctx, sender, types.ModuleName, sdk.NewCoins(amount)); err != nil {
		return acc, errorsmod.Wrapf(err, "deposit %s into account %s", amount, acc.Id)
	}
	acc.Deposited = acc.Deposited.Add(amount.Amount)
	acc.Balance = acc.Balance.Add(amount.Amount)
	if acc.State == types.ACCOUNT_STATE_STREAMING {
		if err := k.updateRunsDry(ctx, key, &acc); err != nil {
			return acc, err
		}
	}
	if err := k.Accounts.Set(ctx, key, acc); err != nil {
		return acc, err
	}
	return acc, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventDeposited{
		Id:        acc.Id,
		Sender:    sender.String(),
		Amount:    amount,
		Balance:   sdk.NewCoin(acc.Denom, acc.Balance),
		RunsDryAt: acc.RunsDryAt,
	})
}

// StartStream starts paying provider price × gpus per hour from the block
// time (whole seconds) out of an OPEN account. A non-zero duration caps
// accrual at start + duration (stream_end). The account enters the dry
// queue at its runs_dry_at.
func (k *Keeper) StartStream(ctx context.Context, tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress,
	pricePerGPUHour math.Int, gpus uint32, durationSeconds uint64,
) (types.Account, error) {
	key := collections.Join(tenant, seq)
	acc, err := k.GetAccount(ctx, tenant, seq)
	if err != nil {
		return acc, err
	}
	switch acc.State {
	case types.ACCOUNT_STATE_OPEN:
	case types.ACCOUNT_STATE_STREAMING:
		return acc, errorsmod.Wrapf(types.ErrAlreadyStreaming, "account %s streams to %s since %s", acc.Id, acc.Provider, acc.StreamStart)
	default:
		return acc, errorsmod.Wrapf(types.ErrAccountClosed, "account %s was closed at %s", acc.Id, acc.ClosedAt)
	}
	if len(provider) == 0 {
		return acc, errorsmod.Wrap(types.ErrInvalidStream, "provider must be set")
	}
	if pricePerGPUHour.IsNil() || !pricePerGPUHour.IsPositive() {
		return acc, errorsmod.Wrapf(types.ErrInvalidStream, "price_per_gpu_hour must be > 0, got %s", types.IntString(pricePerGPUHour))
	}
	if gpus == 0 {
		return acc, errorsmod.Wrap(types.ErrInvalidStream, "gpus must be > 0, got 0")
	}
	start := blockUnix(ctx)
	if durationSeconds > uint64(types.MaxUnix) || int64(durationSeconds) > types.MaxUnix-start {
		return acc, errorsmod.Wrapf(types.ErrInvalidStream, "duration_seconds %d ends after %s", durationSeconds, types.MaxTime)
	}
	acc.State = types.ACCOUNT_STATE_STREAMING
	acc.Provider = provider.String()
	acc.PricePerGpuHour = pricePerGPUHour
	acc.Gpus = gpus
	acc.StreamStart = types.UnixTime(start)
	acc.SettledAt = acc.StreamStart
	acc.StreamEnd = time.Time{}
	if durationSeconds > 0 {
		acc.StreamEnd = types.UnixTime(start + int64(durationSeconds))
	}
	acc.RunsDryAt = time.Time{}
	if err := k.updateRunsDry(ctx, key, &acc); err != nil {
		return acc, err
	}
	if err := k.Accounts.Set(ctx, key, acc); err != nil {
		return acc, err
	}
	return acc, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventStreamStarted{
		Id:              acc.Id,
		Provider:        acc.Provider,
		PricePerGpuHour: sdk.NewCoin(acc.Denom, pricePerGPUHour),
		Gpus:            gpus,
		RunsDryAt:       acc.RunsDryAt,
	})
}

// CloseAccount closes an account: a streaming one is settled at the block
// time first (capped at its stream end and its funds), then whatever is
// left is refunded to the tenant and the account leaves the dry queue. The
// account is kept, CLOSED, for the record.
func (k *Keeper) CloseAccount(ctx context.Context, tenant sdk.AccAddress, seq uint64) (types.Account, error) {
	key := collections.Join(tenant, seq)
	acc, err := k.GetAccount(ctx, tenant, seq)
	if err != nil {
		return acc, err
	}
	switch acc.State {
	case types.ACCOUNT_STATE_CLOSED:
		return acc, errorsmod.Wrapf(types.ErrAccountClosed, "account %s was closed at %s", acc.Id, acc.ClosedAt)
	case types.ACCOUNT_STATE_STREAMING:
		if acc, _, err = k.settle(ctx, acc); err != nil {
			return acc, err
		}
		if err := k.DryQueue.Remove(ctx, collections.Join3(acc.RunsDryAt.Unix(), tenant, seq)); err != nil {
			return acc, err
		}
	}
	rest := acc.Balance
	if rest.IsPositive() {
		if err := k.payOut(ctx, tenant, sdk.NewCoins(sdk.NewCoin(acc.Denom, rest))); err != nil {
			return acc, errorsmod.Wrapf(err, "refund %s%s of account %s", rest, acc.Denom, acc.Id)
		}
	}
	acc.Refunded = acc.Refunded.Add(rest)
	acc.Balance = math.ZeroInt()
	acc.State = types.ACCOUNT_STATE_CLOSED
	acc.ClosedAt = types.UnixTime(blockUnix(ctx))
	acc.RunsDryAt = time.Time{}
	if err := k.Accounts.Set(ctx, key, acc); err != nil {
		return acc, err
	}
	if rest.IsPositive() {
		if err := k.addTotals(ctx, acc.Denom, func(t *types.DenomTotals) { t.Refunded = t.Refunded.Add(rest) }); err != nil {
			return acc, err
		}
	}
	return acc, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventAccountClosed{
		Id:       acc.Id,
		Refunded: sdk.NewCoin(acc.Denom, rest),
		Paid:     sdk.NewCoin(acc.Denom, acc.Paid),
	})
}

// DueDry returns, in time order, up to limit streaming accounts whose
// runs_dry_at is at or before the block time. It reads only the due
// entries of the dry queue and changes nothing.
func (k *Keeper) DueDry(ctx context.Context, limit int) ([]types.AccountID, error) {
	if limit <= 0 {
		return nil, nil
	}
	rng := collections.NewPrefixUntilTripleRange[int64, sdk.AccAddress, uint64](blockUnix(ctx))
	var out []types.AccountID
	err := k.DryQueue.Walk(ctx, rng, func(key collections.Triple[int64, sdk.AccAddress, uint64]) (bool, error) {
		out = append(out, types.NewAccountID(key.K2(), key.K3()))
		return len(out) >= limit, nil
	})
	return out, err
}

// Totals returns the running totals per denom, sorted by denom.
func (k *Keeper) Totals(ctx context.Context) ([]types.DenomTotals, error) {
	var out []types.DenomTotals
	err := k.DenomTotals.Walk(ctx, nil, func(_ string, t types.DenomTotals) (bool, error) {
		out = append(out, t)
		return false, nil
	})
	return out, err
}

// updateRunsDry recomputes a streaming account's runs_dry_at and moves its
// dry queue entry when it changed. The caller stores the account.
func (k *Keeper) updateRunsDry(ctx context.Context, key types.AccountKey, acc *types.Account) error {
	at := acc.ComputeRunsDryAt()
	if !acc.RunsDryAt.IsZero() {
		if acc.RunsDryAt.Unix() == at {
			return nil
		}
		if err := k.DryQueue.Remove(ctx, collections.Join3(acc.RunsDryAt.Unix(), key.K1(), key.K2())); err != nil {
			return err
		}
	}
	acc.RunsDryAt = types.UnixTime(at)
	return k.DryQueue.Set(ctx, collections.Join3(at, key.K1(), key.K2()))
}

// addTotals applies update to the running totals of denom.
func (k *Keeper) addTotals(ctx context.Context, denom string, update func(*types.DenomTotals)) error {
	t, err := k.DenomTotals.Get(ctx, denom)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		t = types.DenomTotals{
			Denom: denom, Settled: math.ZeroInt(), TakeFees: math.ZeroInt(),
			ReserveFees: math.ZeroInt(), Refunded: math.ZeroInt(),
		}
	case err != nil:
		return err
	}
	update(&t)
	return k.DenomTotals.Set(ctx, denom, t)
}
