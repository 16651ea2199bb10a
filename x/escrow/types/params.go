package types

import (
	"fmt"
	"strings"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultDenom is the only payment denom allowed by default: the chain's
// staking denom.
const DefaultDenom = "umesh"

const (
	// DefaultMaxWithdrawLeases is how many leases one MsgWithdraw may settle.
	DefaultMaxWithdrawLeases = 100
	// MaxWithdrawLeasesLimit bounds max_withdraw_leases (and a
	// MsgWithdraw's ids before any state is read).
	MaxWithdrawLeasesLimit = 1_000
)

// DefaultMinDeposit is the least deposit of an order paid in umesh: 10 MESH.
// 100 000 orders then lock 1 000 000 MESH until they close.
var DefaultMinDeposit = sdk.NewCoin(DefaultDenom, math.NewInt(10_000_000))

// Default rates: umesh pays a 2% take fee, every other denom 10%, and every
// settlement 0.25% to the market reserve.
var (
	DefaultUmeshTakeRate = math.LegacyNewDecWithPrec(2, 2)
	DefaultTakeRate      = math.LegacyNewDecWithPrec(10, 2)
	DefaultReserveRate   = math.LegacyNewDecWithPrec(25, 4)
)

// DefaultParams returns the default parameters of x/escrow.
func DefaultParams() Params {
	return Params{
		AllowedDenoms:     []string{DefaultDenom},
		TakeRates:         []DenomRate{{Denom: DefaultDenom, Rate: DefaultUmeshTakeRate}},
		DefaultTakeRate:   DefaultTakeRate,
		ReserveRate:       DefaultReserveRate,
		MinDeposits:       sdk.NewCoins(DefaultMinDeposit),
		MaxWithdrawLeases: DefaultMaxWithdrawLeases,
	}
}

// Validate checks every parameter and names the first invalid one with its
// value: allowed_denoms are valid and unique; every take_rates denom is
// allowed and listed once; every rate is in [0, 1); and the take rate plus
// the reserve rate stays below 1 for every allowed denom and for
// default_take_rate (which applies to an account whose denom is no longer
// listed), so that the provider's part of a settlement is never negative.
func (p Params) Validate() error {
	if len(p.AllowedDenoms) == 0 {
		return fmt.Errorf("allowed_denoms must list at least one denom")
	}
	allowed := make(map[string]bool, len(p.AllowedDenoms))
	for i, d := range p.AllowedDenoms {
		if err := sdk.ValidateDenom(d); err != nil {
			return fmt.Errorf("allowed_denoms[%d] %q: %w", i, d, err)
		}
		if allowed[d] {
			return fmt.Errorf("allowed_denoms[%d] %q: duplicate denom", i, d)
		}
		allowed[d] = true
	}
	seen := make(map[string]bool, len(p.TakeRates))
	for i, r := range p.TakeRates {
		if !allowed[r.Denom] {
			return fmt.Errorf("take_rates[%d].denom %q: not in allowed_denoms", i, r.Denom)
		}
		if seen[r.Denom] {
			return fmt.Errorf("take_rates[%d].denom %q: duplicate denom", i, r.Denom)
		}
		seen[r.Denom] = true
		if err := validateRate(fmt.Sprintf("take_rates[%d].rate", i), r.Rate); err != nil {
			return err
		}
	}
	if err := validateRate("default_take_rate", p.DefaultTakeRate); err != nil {
		return err
	}
	if err := validateRate("reserve_rate", p.ReserveRate); err != nil {
		return err
	}
	one := math.LegacyOneDec()
	if sum := p.DefaultTakeRate.Add(p.ReserveRate); sum.GTE(one) {
		return fmt.Errorf("default_take_rate + reserve_rate must be < 1, got %s + %s = %s",
			DecString(p.DefaultTakeRate), DecString(p.ReserveRate), DecString(sum))
	}
	for _, d := range p.AllowedDenoms {
		if sum := p.TakeRate(d).Add(p.ReserveRate); sum.GTE(one) {
			return fmt.Errorf("take rate of %s + reserve_rate must be < 1, got %s + %s = %s",
				d, DecString(p.TakeRate(d)), DecString(p.ReserveRate), DecString(sum))
		}
	}
	if err := p.validateMinDeposits(allowed); err != nil {
		return err
	}
	if p.MaxWithdrawLeases == 0 || p.MaxWithdrawLeases > MaxWithdrawLeasesLimit {
		return fmt.Errorf("max_withdraw_leases must be in [1, %d], got %d", MaxWithdrawLeasesLimit, p.MaxWithdrawLeases)
	}
	return nil
}

// validateMinDeposits checks that every allowed denom has exactly one
// positive minimum deposit, that nothing else has one and that the list is
// sorted by denom (the canonical form of sdk.Coins).
func (p Params) validateMinDeposits(allowed map[string]bool) error {
	seen := make(map[string]bool, len(p.MinDeposits))
	for i, c := range p.MinDeposits {
		if err := sdk.ValidateDenom(c.Denom); err != nil {
			return fmt.Errorf("min_deposits[%d] %q: %w", i, c.Denom, err)
		}
		if !allowed[c.Denom] {
			return fmt.Errorf("min_deposits[%d].denom %q: not in allowed_denoms", i, c.Denom)
		}
		if seen[c.Denom] {
			return fmt.Errorf("min_deposits[%d].denom %q: duplicate denom", i, c.Denom)
		}
		seen[c.Denom] = true
		if c.Amount.IsNil() || !c.Amount.IsPositive() {
			return fmt.Errorf("min_deposits[%d] %s: must be positive", i, c)
		}
		if i > 0 && p.MinDeposits[i-1].Denom > c.Denom {
			return fmt.Errorf("min_deposits[%d].denom %q: the list must be sorted by denom (after %q)", i, c.Denom,
				p.MinDeposits[i-1].Denom)
		}
	}
	for i, d := range p.AllowedDenoms {
		if !seen[d] {
			return fmt.Errorf("allowed_denoms[%d] %q has no min_deposits entry: every payment denom needs a minimum order deposit", i, d)
		}
	}
	return nil
}

// MinDeposit is the least deposit an account in denom may open with; zero
// for a denom without an entry (one not allowed). It reads the list
// linearly, so it does not depend on the list being sorted.
func (p Params) MinDeposit(denom string) math.Int {
	for _, c := range p.MinDeposits {
		if c.Denom == denom {
			return c.Amount
		}
	}
	return math.ZeroInt()
}

// TakeRate is the take rate of denom: its entry in take_rates, else
// default_take_rate.
func (p Params) TakeRate(denom string) math.LegacyDec {
	for _, r := range p.TakeRates {
		if r.Denom == denom {
			return r.Rate
		}
	}
	return p.DefaultTakeRate
}

// IsAllowed reports whether denom is in allowed_denoms.
func (p Params) IsAllowed(denom string) bool {
	for _, d := range p.AllowedDenoms {
		if d == denom {
			return true
		}
	}
	return false
}

func validateRate(field string, d math.LegacyDec) error {
	if d.IsNil() {
		return fmt.Errorf("%s must be set, in [0, 1)", field)
	}
	if d.IsNegative() || d.GTE(math.LegacyOneDec()) {
		return fmt.Errorf("%s %s: must be in [0, 1)", field, DecString(d))
	}
	return nil
}

// DecString prints a decimal without trailing zeros ("1.5", not
// "1.500000000000000000"); "nil" for an unset one.
func DecString(d math.LegacyDec) string {
	if d.IsNil() {
		return "nil"
	}
	s := d.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// IntString prints an Int that may be nil.
func IntString(i math.Int) string {
	if i.IsNil() {
		return "nil"
	}
	return i.String()
}
