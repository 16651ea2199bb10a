package types

import (
	"fmt"
	"strings"
	"time"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Default parameters.
const (
	// DefaultBondDenom is the only denom providers bond: the chain's staking
	// denom.
	DefaultBondDenom = "umesh"
	// DefaultUnbondingTime is how long unbonding collateral stays slashable.
	DefaultUnbondingTime = 21 * 24 * time.Hour
	// DefaultMaxUnbondingEntries bounds the open unbonding entries of one
	// provider.
	DefaultMaxUnbondingEntries = 7
	// DefaultMissedCommitLimit is the number of missed commits within the
	// window that triggers the missed_commit slash.
	DefaultMissedCommitLimit = 3
	// DefaultMissedCommitWindow is the sliding window of missed commits.
	DefaultMissedCommitWindow = 24 * time.Hour
	// DefaultMaxUnbondingsPerBlock caps the unbonding entries EndBlock pays
	// out in one block (a payout is two bank sends and a few writes).
	DefaultMaxUnbondingsPerBlock = 1_000
	// MaxUnbondingsPerBlockLimit bounds max_unbondings_per_block.
	MaxUnbondingsPerBlockLimit = 100_000
)

// maxMinBondBits bounds min_bond_per_gpu so that min_bond_per_gpu × any
// uint32 GPU count fits math.Int's 256 bits.
const maxMinBondBits = 192

// DefaultMinBondPerGPU is 100 MESH (10^8 umesh) per billable GPU.
var DefaultMinBondPerGPU = math.NewInt(100_000_000)

// DefaultParams returns the default parameters of x/stakingslash.
func DefaultParams() Params {
	week := 7 * 24 * time.Hour
	return Params{
		BondDenom:           DefaultBondDenom,
		MinBondPerGpu:       DefaultMinBondPerGPU,
		UnbondingTime:       DefaultUnbondingTime,
		MaxUnbondingEntries: DefaultMaxUnbondingEntries,
		WrongOpening:        InfractionParams{SlashFraction: math.LegacyNewDecWithPrec(10, 2), JailDuration: week},
		UnopenedCommit:      InfractionParams{SlashFraction: math.LegacyNewDecWithPrec(10, 2), JailDuration: week},
		MissedCommit:        InfractionParams{SlashFraction: math.LegacyNewDecWithPrec(1, 2), JailDuration: 24 * time.Hour},
		// A failed dispute pays tenant_share of the slash to the disputing
		// tenant, who may be the provider's own second account: 20% keeps
		// what the provider loses, 20% × (1 − 50%) = 10%, equal to a wrong
		// opening caught by a capacity check (Validate enforces it).
		DisputeFailed:         InfractionParams{SlashFraction: math.LegacyNewDecWithPrec(20, 2), JailDuration: week},
		EarlyClose:            InfractionParams{SlashFraction: math.LegacyNewDecWithPrec(2, 2), JailDuration: 0},
		MissedCommitLimit:     DefaultMissedCommitLimit,
		MissedCommitWindow:    DefaultMissedCommitWindow,
		TenantShare:           math.LegacyNewDecWithPrec(50, 2),
		MaxUnbondingsPerBlock: DefaultMaxUnbondingsPerBlock,
	}
}

// Validate checks every parameter and names the first invalid one with its
// value.
func (p Params) Validate() error {
	if err := sdk.ValidateDenom(p.BondDenom); err != nil {
		return fmt.Errorf("bond_denom %q: %w", p.BondDenom, err)
	}
	if p.MinBondPerGpu.IsNil() || p.MinBondPerGpu.IsNegative() {
		return fmt.Errorf("min_bond_per_gpu must be set and >= 0, got %s", intString(p.MinBondPerGpu))
	}
	if p.MinBondPerGpu.BigInt().BitLen() > maxMinBondBits {
		return fmt.Errorf("min_bond_per_gpu must be below 2^%d, got %s", maxMinBondBits, p.MinBondPerGpu)
	}
	if p.UnbondingTime <= 0 {
		return fmt.Errorf("unbonding_time must be > 0, got %s", p.UnbondingTime)
	}
	if p.MaxUnbondingEntries < 1 {
		return fmt.Errorf("max_unbonding_entries must be >= 1, got %d", p.MaxUnbondingEntries)
	}
	for _, f := range []struct {
		name string
		ip   InfractionParams
	}{
		{"wrong_opening", p.WrongOpening},
		{"unopened_commit", p.UnopenedCommit},
		{"missed_commit", p.MissedCommit},
		{"dispute_failed", p.DisputeFailed},
		{"early_close", p.EarlyClose},
	} {
		if err := f.ip.Validate(); err != nil {
			return fmt.Errorf("%s.%w", f.name, err)
		}
	}
	if p.MissedCommitLimit < 1 {
		return fmt.Errorf("missed_commit_limit must be >= 1, got %d", p.MissedCommitLimit)
	}
	if p.MissedCommitWindow <= 0 {
		return fmt.Errorf("missed_commit_window must be > 0, got %s", p.MissedCommitWindow)
	}
	if err := validateFraction("tenant_share", p.TenantShare); err != nil {
		return err
	}
	// The disputing tenant may be the provider itself under a second
	// account, and gets tenant_share of the slash back: what a failed
	// dispute still costs the provider must be at least what a capacity
	// check would have taken for the same failure, or failing one's own
	// dispute would be the cheap way to be caught.
	kept := math.LegacyOneDec().Sub(p.TenantShare).Mul(p.DisputeFailed.SlashFraction)
	for _, f := range []struct {
		name string
		ip   InfractionParams
	}{{"wrong_opening", p.WrongOpening}, {"unopened_commit", p.UnopenedCommit}} {
		if kept.LT(f.ip.SlashFraction) {
			return fmt.Errorf("dispute_failed.slash_fraction × (1 − tenant_share) = %s × (1 − %s) = %s must be >= %s.slash_fraction %s",
				decString(p.DisputeFailed.SlashFraction), decString(p.TenantShare), decString(kept), f.name,
				decString(f.ip.SlashFraction))
		}
		if p.DisputeFailed.JailDuration < f.ip.JailDuration {
			return fmt.Errorf("dispute_failed.jail_duration %s must be >= %s.jail_duration %s",
				p.DisputeFailed.JailDuration, f.name, f.ip.JailDuration)
		}
	}
	if p.MaxUnbondingsPerBlock < 1 || p.MaxUnbondingsPerBlock > MaxUnbondingsPerBlockLimit {
		return fmt.Errorf("max_unbondings_per_block must be in [1, %d], got %d", MaxUnbondingsPerBlockLimit, p.MaxUnbondingsPerBlock)
	}
	return nil
}

// Validate checks one infraction's parameters. Its errors start with the
// field name so that Params.Validate can prefix the infraction.
func (ip InfractionParams) Validate() error {
	if err := validateFraction("slash_fraction", ip.SlashFraction); err != nil {
		return err
	}
	if ip.JailDuration < 0 {
		return fmt.Errorf("jail_duration must be >= 0, got %s", ip.JailDuration)
	}
	return nil
}

// Infraction returns the parameters of one infraction kind; it fails on
// INFRACTION_UNSPECIFIED and on values this version does not know.
func (p Params) Infraction(i Infraction) (InfractionParams, error) {
	switch i {
	case INFRACTION_WRONG_OPENING:
		return p.WrongOpening, nil
	case INFRACTION_UNOPENED_COMMIT:
		return p.UnopenedCommit, nil
	case INFRACTION_MISSED_COMMIT:
		return p.MissedCommit, nil
	case INFRACTION_DISPUTE_FAILED:
		return p.DisputeFailed, nil
	case INFRACTION_EARLY_CLOSE:
		return p.EarlyClose, nil
	default:
		return InfractionParams{}, errorsmod.Wrapf(ErrInvalidInfraction, "infraction %s (%d) has no parameters", i, int32(i))
	}
}

// RequiredBond is min_bond_per_gpu × gpus.
func (p Params) RequiredBond(gpus uint32) math.Int {
	return p.MinBondPerGpu.Mul(math.NewIntFromUint64(uint64(gpus)))
}

func validateFraction(field string, d math.LegacyDec) error {
	if d.IsNil() {
		return fmt.Errorf("%s must be set, in [0, 1]", field)
	}
	if d.IsNegative() || d.GT(math.LegacyOneDec()) {
		return fmt.Errorf("%s must be in [0, 1], got %s", field, decString(d))
	}
	return nil
}

// decString prints a decimal without trailing zeros ("1.5", not
// "1.500000000000000000").
func decString(d math.LegacyDec) string {
	s := d.String()
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
