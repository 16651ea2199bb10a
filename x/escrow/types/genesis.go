package types

import (
	"fmt"
	"maps"
	"slices"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis returns the genesis state of x/escrow on a new chain.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state before it is imported: valid params,
// each account valid on its own (see Account.Validate) and listed once,
// bid deposits valid and listed once per (order, provider), totals listed
// once per denom and equal to the sums over the accounts. Errors name the
// index and field (accounts[2].balance …). The module account's balance is
// bank's genesis; the invariants compare the two.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "params: %s", err)
	}
	sums := map[string]*DenomTotals{}
	seen := make(map[string]bool, len(gs.Accounts))
	for i, a := range gs.Accounts {
		if err := a.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "accounts[%d]%s", i, err)
		}
		key, _ := a.Id.Key()
		id := AccountIDFromKey(key).String()
		if seen[id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "accounts[%d].id %s: duplicate account", i, a.Id)
		}
		seen[id] = true
		s, ok := sums[a.Denom]
		if !ok {
			s = &DenomTotals{Settled: math.ZeroInt(), TakeFees: math.ZeroInt(), Refunded: math.ZeroInt()}
			sums[a.Denom] = s
		}
		s.Settled = s.Settled.Add(a.Paid)
		s.TakeFees = s.TakeFees.Add(a.Fees) // take + reserve, compared below
		s.Refunded = s.Refunded.Add(a.Refunded)
	}
	bids := make(map[string]bool, len(gs.BidDeposits))
	for i, b := range gs.BidDeposits {
		key, err := b.OrderId.Key()
		if err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid_deposits[%d].order_id: %s", i, err)
		}
		p, err := sdk.AccAddressFromBech32(b.Provider)
		if err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid_deposits[%d].provider %q: %s", i, b.Provider, err)
		}
		if err := ValidatePositiveCoin("amount", b.Amount); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid_deposits[%d].%s", i, err)
		}
		k := AccountIDFromKey(key).String() + "/" + p.String()
		if bids[k] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bid_deposits[%d]: duplicate deposit of %s for order %s", i, b.Provider, b.OrderId)
		}
		bids[k] = true
	}
	denoms := make(map[string]bool, len(gs.Totals))
	for i, t := range gs.Totals {
		if err := sdk.ValidateDenom(t.Denom); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "totals[%d].denom %q: %s", i, t.Denom, err)
		}
		if denoms[t.Denom] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "totals[%d].denom %q: duplicate denom", i, t.Denom)
		}
		denoms[t.Denom] = true
		for _, f := range []struct {
			name string
			v    math.Int
		}{{"settled", t.Settled}, {"take_fees", t.TakeFees}, {"reserve_fees", t.ReserveFees}, {"refunded", t.Refunded}} {
			if f.v.IsNil() || f.v.IsNegative() {
				return errorsmod.Wrapf(ErrInvalidGenesis, "totals[%d].%s must be >= 0, got %s", i, f.name, IntString(f.v))
			}
		}
		s, ok := sums[t.Denom]
		if !ok {
			s = &DenomTotals{Settled: math.ZeroInt(), TakeFees: math.ZeroInt(), Refunded: math.ZeroInt()}
		}
		if !t.Settled.Equal(s.Settled) || !t.TakeFees.Add(t.ReserveFees).Equal(s.TakeFees) || !t.Refunded.Equal(s.Refunded) {
			return errorsmod.Wrapf(ErrInvalidGenesis,
				"totals[%d] (%s): settled %s, fees %s + %s, refunded %s do not match the accounts' paid %s, fees %s, refunded %s",
				i, t.Denom, t.Settled, t.TakeFees, t.ReserveFees, t.Refunded, s.Settled, s.TakeFees, s.Refunded)
		}
		delete(sums, t.Denom)
	}
	for _, d := range slices.Sorted(maps.Keys(sums)) {
		if s := sums[d]; s.Settled.IsPositive() || s.Refunded.IsPositive() {
			return errorsmod.Wrapf(ErrInvalidGenesis, "totals: no entry for %s, whose accounts paid %s and refunded %s",
				d, s.Settled, s.Refunded)
		}
	}
	return nil
}

// Validate checks one account on its own. Its errors start with the field
// path (".balance …", ".id …") so that the caller can prefix the index.
//
//   - the id is valid, the denom a valid denom (not necessarily still
//     allowed), the state OPEN, STREAMING or CLOSED;
//   - every amount is ≥ 0, deposited = paid + refunded + balance and
//     fees ≤ paid; a CLOSED account holds nothing, an OPEN one has paid
//     and refunded nothing;
//   - a stream (STREAMING, or CLOSED with a provider) has a provider
//     address, a positive price and GPU count, a start, settled_at at or
//     after the start (and not after stream_end when set), and paid =
//     min(owed(settled_at), deposited) exactly; without a stream nothing
//     is paid;
//   - a STREAMING account's runs_dry_at is the computed one.
func (a Account) Validate() error {
	if err := a.Id.Validate(); err != nil {
		return fmt.Errorf(".id: %w", err)
	}
	if err := sdk.ValidateDenom(a.Denom); err != nil {
		return fmt.Errorf(".denom %q: %w", a.Denom, err)
	}
	switch a.State {
	case ACCOUNT_STATE_OPEN, ACCOUNT_STATE_STREAMING, ACCOUNT_STATE_CLOSED:
	default:
		return fmt.Errorf(".state %s: must be open, streaming or closed", a.State)
	}
	for _, f := range []struct {
		name string
		v    math.Int
	}{{"deposited", a.Deposited}, {"paid", a.Paid}, {"refunded", a.Refunded}, {"balance", a.Balance}, {"fees", a.Fees}} {
		if f.v.IsNil() || f.v.IsNegative() {
			return fmt.Errorf(".%s must be >= 0, got %s", f.name, IntString(f.v))
		}
	}
	if sum := a.Paid.Add(a.Refunded).Add(a.Balance); !sum.Equal(a.Deposited) {
		return fmt.Errorf(".balance: deposited %s != paid %s + refunded %s + balance %s", a.Deposited, a.Paid, a.Refunded, a.Balance)
	}
	if a.Fees.GT(a.Paid) {
		return fmt.Errorf(".fees %s: more than paid %s", a.Fees, a.Paid)
	}
	switch a.State {
	case ACCOUNT_STATE_CLOSED:
		if !a.Balance.IsZero() {
			return fmt.Errorf(".balance %s: a closed account holds nothing", a.Balance)
		}
	case ACCOUNT_STATE_OPEN:
		if a.Streamed() || !a.Paid.IsZero() || !a.Refunded.IsZero() {
			return fmt.Errorf(".state: an open account has no provider and paid and refunded nothing, got provider %q, paid %s, refunded %s",
				a.Provider, a.Paid, a.Refunded)
		}
	case ACCOUNT_STATE_STREAMING:
		if !a.Refunded.IsZero() {
			return fmt.Errorf(".refunded %s: a streaming account refunded nothing", a.Refunded)
		}
		if !a.Streamed() {
			return fmt.Errorf(".provider: a streaming account needs a provider")
		}
	}
	if !a.Streamed() {
		if !a.Paid.IsZero() {
			return fmt.Errorf(".paid %s: nothing is paid without a stream", a.Paid)
		}
		return nil
	}
	if _, err := sdk.AccAddressFromBech32(a.Provider); err != nil {
		return fmt.Errorf(".provider %q: %w", a.Provider, err)
	}
	if a.PricePerGpuHour.IsNil() || !a.PricePerGpuHour.IsPositive() {
		return fmt.Errorf(".price_per_gpu_hour must be > 0, got %s", IntString(a.PricePerGpuHour))
	}
	if a.Gpus == 0 {
		return fmt.Errorf(".gpus must be > 0, got 0")
	}
	start := a.StreamStart.Unix()
	if a.StreamStart.IsZero() || start > MaxUnix {
		return fmt.Errorf(".stream_start %s: must be set", a.StreamStart)
	}
	if a.SettledAt.Unix() < start {
		return fmt.Errorf(".settled_at %s: before stream_start %s", a.SettledAt, a.StreamStart)
	}
	if !a.StreamEnd.IsZero() {
		if a.StreamEnd.Unix() <= start {
			return fmt.Errorf(".stream_end %s: not after stream_start %s", a.StreamEnd, a.StreamStart)
		}
		if a.SettledAt.Unix() > a.StreamEnd.Unix() {
			return fmt.Errorf(".settled_at %s: after stream_end %s", a.SettledAt, a.StreamEnd)
		}
	}
	if want := a.PaidAt(a.SettledAt.Unix()); !a.Paid.Equal(want) {
		return fmt.Errorf(".paid %s: must be min(owed at settled_at, deposited) = %s", a.Paid, want)
	}
	if a.State == ACCOUNT_STATE_STREAMING {
		if want := a.ComputeRunsDryAt(); a.RunsDryAt.Unix() != want {
			return fmt.Errorf(".runs_dry_at %s: must be %s", a.RunsDryAt, UnixTime(want))
		}
	}
	return nil
}
