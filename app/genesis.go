package app

import (
	"encoding/json"
	"fmt"
	"slices"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/x/bank"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
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

// Stable-denom amounts that AllowStablePayments sets.
var (
	// StableMinDeposit is the least deposit of an order paid in uusdc: 1 USDC.
	StableMinDeposit = sdk.NewCoin(StableDenom, math.NewInt(1_000_000))
	// StableReputationLeaseValue is the payment of a uusdc lease that earns
	// a full reputation step: 100 USDC.
	StableReputationLeaseValue = sdk.NewCoin(StableDenom, math.NewInt(100_000_000))
)

// AllowStablePayments adds StableDenom to x/escrow's allowed payment denoms
// in an app genesis state, as local networks and tests run: orders may then
// be priced and paid in uusdc as well as umesh. Its take rate is the
// default take rate, its minimum order deposit StableMinDeposit, and a
// lease paid in it counts in the provider's reputation by
// StableReputationLeaseValue (x/market's reputation_lease_value). Entries
// already present are kept.
func AllowStablePayments(cdc codec.JSONCodec, state GenesisState) error {
	var gen escrowtypes.GenesisState
	if err := cdc.UnmarshalJSON(state[escrowtypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("decode %s genesis: %w", escrowtypes.ModuleName, err)
	}
	if !slices.Contains(gen.Params.AllowedDenoms, StableDenom) {
		gen.Params.AllowedDenoms = append(gen.Params.AllowedDenoms, StableDenom)
	}
	if gen.Params.MinDeposit(StableDenom).IsZero() {
		gen.Params.MinDeposits = gen.Params.MinDeposits.Add(StableMinDeposit)
	}
	if err := gen.Params.Validate(); err != nil {
		return fmt.Errorf("%s params with %s allowed: %w", escrowtypes.ModuleName, StableDenom, err)
	}
	bz, err := cdc.MarshalJSON(&gen)
	if err != nil {
		return err
	}
	state[escrowtypes.ModuleName] = bz

	var market markettypes.GenesisState
	if err := cdc.UnmarshalJSON(state[markettypes.ModuleName], &market); err != nil {
		return fmt.Errorf("decode %s genesis: %w", markettypes.ModuleName, err)
	}
	if market.Params.ReputationLeaseValue.AmountOf(StableDenom).IsZero() {
		market.Params.ReputationLeaseValue = market.Params.ReputationLeaseValue.Add(StableReputationLeaseValue)
	}
	if err := market.Params.Validate(); err != nil {
		return fmt.Errorf("%s params with %s allowed: %w", markettypes.ModuleName, StableDenom, err)
	}
	if bz, err = cdc.MarshalJSON(&market); err != nil {
		return err
	}
	state[markettypes.ModuleName] = bz
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
// rate in an app genesis state, with the verification TTL the default
// number of those epochs and as many opening blocks as the epoch leaves
// room for.
func SetChallengeSchedule(cdc codec.JSONCodec, state GenesisState, epochBlocks uint64, sampleRate math.LegacyDec) error {
	var gen proofofcomputetypes.GenesisState
	if err := cdc.UnmarshalJSON(state[proofofcomputetypes.ModuleName], &gen); err != nil {
		return fmt.Errorf("decode %s genesis: %w", proofofcomputetypes.ModuleName, err)
	}
	gen.Params.EpochBlocks, gen.Params.SampleRate = epochBlocks, sampleRate
	// A short epoch (local networks use 20 blocks) leaves room for fewer
	// opening blocks: as many as fit, up to the default. Verifications last
	// the default number of epochs.
	p := &gen.Params
	if room := int64(epochBlocks) - int64(p.CommitDeadlineBlocks+p.RevealWindowBlocks+proofofcomputetypes.MinEpochBlocksOverChallenges); room < int64(p.OpeningBlocks) { //nolint:gosec // small params
		p.OpeningBlocks = uint32(max(room, 1)) //nolint:gosec // between 1 and the default
	}
	p.VerificationTtlBlocks = proofofcomputetypes.DefaultVerificationTTLEpochs * epochBlocks
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
