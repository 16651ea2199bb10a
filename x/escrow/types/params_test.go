package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

func TestDefaultParams(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	require.Equal(t, []string{"umesh"}, p.AllowedDenoms)
	require.Equal(t, "0.020000000000000000", p.TakeRate("umesh").String())
	require.Equal(t, "0.100000000000000000", p.TakeRate("uusdc").String(), "an unlisted denom pays default_take_rate")
	require.Equal(t, "0.100000000000000000", p.DefaultTakeRate.String())
	require.Equal(t, "0.002500000000000000", p.ReserveRate.String())
	require.True(t, p.IsAllowed("umesh"))
	require.False(t, p.IsAllowed("uusdc"))
	require.Equal(t, sdk.NewCoins(sdk.NewInt64Coin("umesh", 10_000_000)), p.MinDeposits, "10 MESH")
	require.Equal(t, math.NewInt(10_000_000), p.MinDeposit("umesh"))
	require.True(t, p.MinDeposit("uusdc").IsZero(), "a denom without an entry")
	require.Equal(t, uint32(100), p.MaxWithdrawLeases)
}

// ibcDenom is an IBC voucher denom, as an allowed payment denom may be.
const ibcDenom = "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"

func TestParamsValidate(t *testing.T) {
	dec := math.LegacyMustNewDecFromStr
	for _, tc := range []struct {
		name   string
		mutate func(*types.Params)
		want   string // substring of the error naming field and value; "" = valid
	}{
		{"defaults", func(*types.Params) {}, ""},
		{"two denoms, zero rates", func(p *types.Params) {
			p.AllowedDenoms = append(p.AllowedDenoms, "uusdc")
			p.TakeRates = append(p.TakeRates, types.DenomRate{Denom: "uusdc", Rate: math.LegacyZeroDec()})
			p.MinDeposits = p.MinDeposits.Add(sdk.NewInt64Coin("uusdc", 1))
			p.DefaultTakeRate, p.ReserveRate = math.LegacyZeroDec(), math.LegacyZeroDec()
		}, ""},
		{"no take rates", func(p *types.Params) { p.TakeRates = nil }, ""},
		{"ibc denom", func(p *types.Params) {
			p.AllowedDenoms = append(p.AllowedDenoms, ibcDenom)
			p.MinDeposits = p.MinDeposits.Add(sdk.NewInt64Coin(ibcDenom, 1_000_000))
		}, ""},
		{"rates just below one", func(p *types.Params) {
			p.TakeRates[0].Rate, p.ReserveRate, p.DefaultTakeRate = dec("0.5"), dec("0.499999999999999999"), dec("0.5")
		}, ""},
		{"no allowed denoms", func(p *types.Params) { p.AllowedDenoms = nil; p.TakeRates = nil }, "allowed_denoms must list at least one denom"},
		{"bad denom", func(p *types.Params) { p.AllowedDenoms = append(p.AllowedDenoms, "1bad") }, `allowed_denoms[1] "1bad"`},
		{"duplicate denom", func(p *types.Params) { p.AllowedDenoms = append(p.AllowedDenoms, "umesh") }, `allowed_denoms[1] "umesh": duplicate denom`},
		{"take rate of a denom not allowed", func(p *types.Params) {
			p.TakeRates = append(p.TakeRates, types.DenomRate{Denom: "uusdc", Rate: dec("0.1")})
		}, `take_rates[1].denom "uusdc": not in allowed_denoms`},
		{"duplicate take rate", func(p *types.Params) {
			p.TakeRates = append(p.TakeRates, types.DenomRate{Denom: "umesh", Rate: dec("0.1")})
		}, `take_rates[1].denom "umesh": duplicate denom`},
		{"take rate one", func(p *types.Params) { p.TakeRates[0].Rate = math.LegacyOneDec() }, "take_rates[0].rate 1: must be in [0, 1)"},
		{"take rate 1.5", func(p *types.Params) { p.TakeRates[0].Rate = dec("1.5") }, "take_rates[0].rate 1.5: must be in [0, 1)"},
		{"negative take rate", func(p *types.Params) { p.TakeRates[0].Rate = dec("-0.1") }, "take_rates[0].rate -0.1: must be in [0, 1)"},
		{"nil take rate", func(p *types.Params) { p.TakeRates[0].Rate = math.LegacyDec{} }, "take_rates[0].rate must be set"},
		{"default take rate one", func(p *types.Params) { p.DefaultTakeRate = math.LegacyOneDec() }, "default_take_rate 1: must be in [0, 1)"},
		{"nil default take rate", func(p *types.Params) { p.DefaultTakeRate = math.LegacyDec{} }, "default_take_rate must be set"},
		{"reserve rate one", func(p *types.Params) { p.ReserveRate = math.LegacyOneDec() }, "reserve_rate 1: must be in [0, 1)"},
		{"negative reserve rate", func(p *types.Params) { p.ReserveRate = dec("-0.0025") }, "reserve_rate -0.0025: must be in [0, 1)"},
		{"take + reserve reach one", func(p *types.Params) {
			p.TakeRates[0].Rate, p.ReserveRate = dec("0.6"), dec("0.4")
		}, "take rate of umesh + reserve_rate must be < 1, got 0.6 + 0.4 = 1"},
		{"default take + reserve reach one", func(p *types.Params) {
			p.DefaultTakeRate, p.ReserveRate = dec("0.9"), dec("0.1")
		}, "default_take_rate + reserve_rate must be < 1, got 0.9 + 0.1 = 1"},
		{"allowed denom without a min deposit", func(p *types.Params) { p.AllowedDenoms = append(p.AllowedDenoms, "uusdc") },
			`allowed_denoms[1] "uusdc" has no min_deposits entry`},
		{"no min deposits", func(p *types.Params) { p.MinDeposits = nil }, `allowed_denoms[0] "umesh" has no min_deposits entry`},
		{"min deposit of a denom not allowed", func(p *types.Params) {
			p.MinDeposits = p.MinDeposits.Add(sdk.NewInt64Coin("uusdc", 1))
		}, `min_deposits[1].denom "uusdc": not in allowed_denoms`},
		{"min deposit zero", func(p *types.Params) { p.MinDeposits[0].Amount = math.ZeroInt() }, "min_deposits[0] 0umesh: must be positive"},
		{"min deposit negative", func(p *types.Params) { p.MinDeposits[0].Amount = math.NewInt(-5) }, "min_deposits[0] -5umesh: must be positive"},
		{"min deposit nil", func(p *types.Params) { p.MinDeposits[0].Amount = math.Int{} }, "min_deposits[0]"},
		{"min deposit bad denom", func(p *types.Params) { p.MinDeposits[0].Denom = "1x" }, `min_deposits[0] "1x"`},
		{"duplicate min deposit", func(p *types.Params) {
			p.MinDeposits = append(p.MinDeposits, sdk.NewInt64Coin("umesh", 1))
		}, `min_deposits[1].denom "umesh": duplicate denom`},
		{"unsorted min deposits", func(p *types.Params) {
			p.AllowedDenoms = append(p.AllowedDenoms, "uatom")
			p.MinDeposits = append(p.MinDeposits, sdk.NewInt64Coin("uatom", 1))
		}, `min_deposits[1].denom "uatom": the list must be sorted by denom (after "umesh")`},
		{"max withdraw leases zero", func(p *types.Params) { p.MaxWithdrawLeases = 0 }, "max_withdraw_leases must be in [1, 1000], got 0"},
		{"max withdraw leases above the limit", func(p *types.Params) { p.MaxWithdrawLeases = 1001 },
			"max_withdraw_leases must be in [1, 1000], got 1001"},
		{"max withdraw leases at the limit", func(p *types.Params) { p.MaxWithdrawLeases = types.MaxWithdrawLeasesLimit }, ""},
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
			// The message handler wraps it as ErrInvalidParams.
			msg := types.MsgUpdateParams{Authority: testAddr(1), Params: p}
			require.ErrorIs(t, msg.ValidateBasic(), types.ErrInvalidParams)
		})
	}
}
