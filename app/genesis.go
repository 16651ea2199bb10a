package app

import (
	"encoding/json"
	"fmt"
	"slices"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/x/bank"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	proofofcomputetypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// GenesisState is the app state of a genesis file: module name → JSON.
type GenesisState = map[string]json.RawMessage

// Staking, mint and gov defaults already use umesh because SetSDKConfig sets
// sdk.DefaultBondDenom before any default genesis is built. Bank's default
// genesis additionally describes umesh so wallets can display MESH.
type bankBasic struct {
	bank.AppModuleBasic
}

// DefaultGenesis returns bank's default genesis with umesh metadata.
func (b bankBasic) DefaultGenesis(cdc codec.JSONCodec) json.RawMessage {
	state := banktypes.DefaultGenesisState()
	state.DenomMetadata = append(state.DenomMetadata, BondDenomMetadata())
	return cdc.MustMarshalJSON(state)
}

// BondDenomMetadata describes umesh and its display unit MESH.
func BondDenomMetadata() banktypes.Metadata {
	return banktypes.Metadata{
		Description: "The native staking, fee and collateral token of gpumesh.",
		DenomUnits: []*banktypes.DenomUnit{
			{Denom: BondDenom, Exponent: 0, Aliases: []string{"micromesh"}},
			{Denom: "mmesh", Exponent: 3, Aliases: []string{"millimesh"}},
			{Denom: DisplayDenom, Exponent: BondDenomExponent},
		},
		Base:    BondDenom,
		Display: DisplayDenom,
		Name:    "gpumesh",
		Symbol:  DisplayDenom,
	}
}

// AllowStablePayments adds StableDenom to x/escrow's allowed payment denoms
// in an app genesis state, as local networks and tests run: orders may then
// be priced and paid in uusdc as well as umesh. Its take rate is the
// default take rate.
func AllowStablePayments(cdc codec.JSONCodec, state GenesisState) error {
	var gen escrowtypes.GenesisState
	if err := cdc.UnmarshalJSON(state[escrowtypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("decode %s genesis: %w", escrowtypes.ModuleName, err)
	}
	if !slices.Contains(gen.Params.AllowedDenoms, StableDenom) {
		gen.Params.AllowedDenoms = append(gen.Params.AllowedDenoms, StableDenom)
	}
	bz, err := cdc.MarshalJSON(&gen)
	if err != nil {
		return err
	}
	state[escrowtypes.ModuleName] = bz
	return nil
}

// SetChallengeProfile sets the matrix size n and the product count m of
// every GPU class in an app genesis state. Local networks and tests use the
// spec's test profile (n = 256, m = 1), which a CPU answers in milliseconds;
// production classes use n in the tens of thousands.
func SetChallengeProfile(cdc codec.JSONCodec, state GenesisState, n, m uint32) error {
	var gen providertypes.GenesisState
	if err := cdc.UnmarshalJSON(state[providertypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("decode %s genesis: %w", providertypes.ModuleName, err)
	}
	for i := range gen.Params.GpuClasses {
		gen.Params.GpuClasses[i].ChallengeN, gen.Params.GpuClasses[i].ChallengeM = n, m
	}
	if err := gen.Params.Validate(); err != nil {
		return fmt.Errorf("challenge profile n=%d m=%d: %w", n, m, err)
	}
	bz, err := cdc.MarshalJSON(&gen)
	if err != nil {
		return err
	}
	state[providertypes.ModuleName] = bz
	return nil
}

// SetChallengeSchedule sets x/proofofcompute's epoch length and sample
// rate in an app genesis state.
func SetChallengeSchedule(cdc codec.JSONCodec, state GenesisState, epochBlocks uint64, sampleRate math.LegacyDec) error {
	var gen proofofcomputetypes.GenesisState
	if err := cdc.UnmarshalJSON(state[proofofcomputetypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("decode %s genesis: %w", proofofcomputetypes.ModuleName, err)
	}
	gen.Params.EpochBlocks, gen.Params.SampleRate = epochBlocks, sampleRate
	if err := gen.Params.Validate(); err != nil {
		return fmt.Errorf("proof-of-compute schedule: %w", err)
	}
	bz, err := cdc.MarshalJSON(&gen)
	if err != nil {
		return err
	}
	state[proofofcomputetypes.ModuleName] = bz
	return nil
}
