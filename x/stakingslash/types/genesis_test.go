package types_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

func validGenesis() types.GenesisState {
	other := sdk.AccAddress([]byte("other-provider-20byt")).String()
	done := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	return types.GenesisState{
		Params: types.DefaultParams(),
		Collaterals: []types.Collateral{
			{Provider: provider, Bonded: math.NewInt(1000), Registered: true, BillableGpus: 2, NextUnbondingId: 2},
			{Provider: other, Bonded: math.ZeroInt(), Jailed: true, JailedUntil: done, NextUnbondingId: 1},
		},
		UnbondingEntries: []types.UnbondingEntry{
			{Provider: provider, Id: 0, CreationHeight: 5, CompletionTime: done, InitialBalance: math.NewInt(300), Balance: math.NewInt(270)},
			{Provider: provider, Id: 1, CreationHeight: 9, CompletionTime: done, InitialBalance: math.NewInt(200), Balance: math.NewInt(200)},
			{Provider: other, Id: 0, CreationHeight: 9, CompletionTime: done, InitialBalance: math.NewInt(50), Balance: math.ZeroInt()},
		},
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate())

	for _, tc := range []struct {
		name   string
		mutate func(*types.GenesisState)
		want   string // "" = valid
	}{
		{"valid", func(*types.GenesisState) {}, ""},
		{"bad params", func(gs *types.GenesisState) { gs.Params.UnbondingTime = 0 }, "params: unbonding_time must be > 0, got 0s"},
		{"bad collateral address", func(gs *types.GenesisState) { gs.Collaterals[0].Provider = "nope" },
			`collaterals[0].provider "nope"`},
		{"duplicate collateral", func(gs *types.GenesisState) {
			gs.Collaterals = append(gs.Collaterals, types.Collateral{Provider: provider, Bonded: math.ZeroInt()})
		}, `collaterals[2].provider "` + provider + `": duplicate collateral`},
		{"negative bonded", func(gs *types.GenesisState) { gs.Collaterals[0].Bonded = math.NewInt(-1) },
			"collaterals[0].bonded must be >= 0, got -1"},
		{"nil bonded", func(gs *types.GenesisState) { gs.Collaterals[1].Bonded = math.Int{} },
			"collaterals[1].bonded must be >= 0, got nil"},
		{"bad entry address", func(gs *types.GenesisState) { gs.UnbondingEntries[1].Provider = "bad" },
			`unbonding_entries[1].provider "bad"`},
		{"entry without collateral", func(gs *types.GenesisState) {
			gs.UnbondingEntries[2].Provider = sdk.AccAddress([]byte("stranger-address-20b")).String()
		}, "unbonding_entries[2].provider"},
		{"duplicate entry", func(gs *types.GenesisState) { gs.UnbondingEntries[1].Id = 0 },
			"unbonding_entries[1]: duplicate entry 0 of provider " + provider},
		{"id not below next id", func(gs *types.GenesisState) { gs.UnbondingEntries[1].Id = 2 },
			"unbonding_entries[1].id must be < the provider's next_unbonding_id 2, got 2"},
		{"negative creation height", func(gs *types.GenesisState) { gs.UnbondingEntries[0].CreationHeight = -1 },
			"unbonding_entries[0].creation_height must be >= 0, got -1"},
		{"zero initial balance", func(gs *types.GenesisState) {
			gs.UnbondingEntries[0].InitialBalance, gs.UnbondingEntries[0].Balance = math.ZeroInt(), math.ZeroInt()
		}, "unbonding_entries[0].initial_balance must be > 0, got 0"},
		{"balance above initial", func(gs *types.GenesisState) { gs.UnbondingEntries[0].Balance = math.NewInt(301) },
			"unbonding_entries[0].balance must be in [0, initial_balance 300], got 301"},
		{"negative balance", func(gs *types.GenesisState) { gs.UnbondingEntries[2].Balance = math.NewInt(-1) },
			"unbonding_entries[2].balance must be in [0, initial_balance 50], got -1"},
		{"nil balance", func(gs *types.GenesisState) { gs.UnbondingEntries[2].Balance = math.Int{} },
			"unbonding_entries[2].balance must be in [0, initial_balance 50], got nil"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis()
			tc.mutate(&gs)
			err := gs.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidGenesis)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
