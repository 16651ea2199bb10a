package types_test

import (
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

func TestDefaultParams(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	require.Equal(t, "umesh", p.BondDenom)
	require.Equal(t, math.NewInt(100_000_000), p.MinBondPerGpu)
	require.Equal(t, 21*24*time.Hour, p.UnbondingTime)
	require.Equal(t, uint32(7), p.MaxUnbondingEntries)
	require.Equal(t, uint32(3), p.MissedCommitLimit)
	require.Equal(t, 24*time.Hour, p.MissedCommitWindow)
	require.Equal(t, "0.500000000000000000", p.TenantShare.String())
	require.Equal(t, uint32(1_000), p.MaxUnbondingsPerBlock)

	week := 7 * 24 * time.Hour
	for _, tc := range []struct {
		infraction types.Infraction
		fraction   string
		jail       time.Duration
	}{
		{types.INFRACTION_WRONG_OPENING, "0.100000000000000000", week},
		{types.INFRACTION_UNOPENED_COMMIT, "0.100000000000000000", week},
		{types.INFRACTION_MISSED_COMMIT, "0.010000000000000000", 24 * time.Hour},
		{types.INFRACTION_DISPUTE_FAILED, "0.200000000000000000", week},
		{types.INFRACTION_EARLY_CLOSE, "0.020000000000000000", 0},
	} {
		ip, err := p.Infraction(tc.infraction)
		require.NoError(t, err, tc.infraction)
		require.Equal(t, tc.fraction, ip.SlashFraction.String(), tc.infraction)
		require.Equal(t, tc.jail, ip.JailDuration, tc.infraction)
	}
}

func TestParamsInfractionRejectsUnknown(t *testing.T) {
	p := types.DefaultParams()
	for _, i := range []types.Infraction{types.INFRACTION_UNSPECIFIED, types.Infraction(99)} {
		_, err := p.Infraction(i)
		require.ErrorIs(t, err, types.ErrInvalidInfraction)
	}
}

func TestRequiredBond(t *testing.T) {
	p := types.DefaultParams()
	require.Equal(t, math.ZeroInt(), p.RequiredBond(0))
	require.Equal(t, math.NewInt(800_000_000), p.RequiredBond(8))
	// No overflow at the largest GPU count.
	require.Equal(t, math.NewInt(100_000_000).Mul(math.NewInt(4_294_967_295)), p.RequiredBond(^uint32(0)))
}

func TestParamsValidate(t *testing.T) {
	dec := math.LegacyMustNewDecFromStr
	for _, tc := range []struct {
		name   string
		mutate func(*types.Params)
		want   string // substring of the error naming field and value; "" = valid
	}{
		{"defaults", func(*types.Params) {}, ""},
		{"zero fractions and min bond", func(p *types.Params) {
			p.MinBondPerGpu = math.ZeroInt()
			p.WrongOpening.SlashFraction = math.LegacyZeroDec()
			p.TenantShare = math.LegacyZeroDec()
		}, ""},
		{"everything to the tenant of a large dispute slash", func(p *types.Params) {
			p.TenantShare, p.DisputeFailed.SlashFraction = dec("0.9"), dec("1")
		}, ""},
		{"empty denom", func(p *types.Params) { p.BondDenom = "" }, `bond_denom ""`},
		{"bad denom", func(p *types.Params) { p.BondDenom = "1bad" }, `bond_denom "1bad"`},
		{"nil min bond", func(p *types.Params) { p.MinBondPerGpu = math.Int{} }, "min_bond_per_gpu must be set and >= 0, got nil"},
		{"negative min bond", func(p *types.Params) { p.MinBondPerGpu = math.NewInt(-1) }, "min_bond_per_gpu must be set and >= 0, got -1"},
		{"huge min bond", func(p *types.Params) { p.MinBondPerGpu = math.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), 192)) }, "min_bond_per_gpu must be below 2^192"},
		{"zero unbonding time", func(p *types.Params) { p.UnbondingTime = 0 }, "unbonding_time must be > 0, got 0s"},
		{"negative unbonding time", func(p *types.Params) { p.UnbondingTime = -time.Second }, "unbonding_time must be > 0, got -1s"},
		{"zero max entries", func(p *types.Params) { p.MaxUnbondingEntries = 0 }, "max_unbonding_entries must be >= 1, got 0"},
		{"wrong_opening fraction above one", func(p *types.Params) { p.WrongOpening.SlashFraction = dec("1.5") },
			"wrong_opening.slash_fraction must be in [0, 1], got 1.5"},
		{"unopened_commit negative fraction", func(p *types.Params) { p.UnopenedCommit.SlashFraction = dec("-0.1") },
			"unopened_commit.slash_fraction must be in [0, 1], got -0.1"},
		{"missed_commit nil fraction", func(p *types.Params) { p.MissedCommit.SlashFraction = math.LegacyDec{} },
			"missed_commit.slash_fraction must be set"},
		{"dispute_failed negative jail", func(p *types.Params) { p.DisputeFailed.JailDuration = -time.Hour },
			"dispute_failed.jail_duration must be >= 0, got -1h0m0s"},
		{"early_close fraction above one", func(p *types.Params) { p.EarlyClose.SlashFraction = dec("2") },
			"early_close.slash_fraction must be in [0, 1], got 2"},
		{"zero missed commit limit", func(p *types.Params) { p.MissedCommitLimit = 0 }, "missed_commit_limit must be >= 1, got 0"},
		{"zero missed commit window", func(p *types.Params) { p.MissedCommitWindow = 0 }, "missed_commit_window must be > 0, got 0s"},
		{"tenant share above one", func(p *types.Params) { p.TenantShare = dec("1.01") }, "tenant_share must be in [0, 1], got 1.01"},
		// A self-dispute must cost at least what a capacity check takes.
		{"dispute cheaper than a wrong opening", func(p *types.Params) { p.DisputeFailed.SlashFraction = dec("0.19") },
			"dispute_failed.slash_fraction × (1 − tenant_share) = 0.19 × (1 − 0.5) = 0.095 must be >= wrong_opening.slash_fraction 0.1"},
		{"tenant share too high for the dispute slash", func(p *types.Params) { p.TenantShare = dec("0.6") },
			"dispute_failed.slash_fraction × (1 − tenant_share) = 0.2 × (1 − 0.6) = 0.08 must be >= wrong_opening.slash_fraction 0.1"},
		{"dispute jail shorter", func(p *types.Params) { p.DisputeFailed.JailDuration = time.Hour },
			"dispute_failed.jail_duration 1h0m0s must be >= wrong_opening.jail_duration 168h0m0s"},
		{"zero unbondings per block", func(p *types.Params) { p.MaxUnbondingsPerBlock = 0 },
			"max_unbondings_per_block must be in [1, 100000], got 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := types.DefaultParams()
			tc.mutate(&p)
			err := p.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
