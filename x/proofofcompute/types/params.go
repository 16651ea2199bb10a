package types

import (
	"fmt"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// Default parameters: hour-long epochs at 6 s blocks, a quarter of the idle
// nodes checked per epoch, and the spec's deadlines.
const (
	DefaultEpochBlocks           = 600
	DefaultCommitDeadlineBlocks  = 3
	DefaultRevealWindowBlocks    = 10
	DefaultOpenings              = 16
	DefaultScheduleScanPerBlock  = 500
	DefaultRewardDenom           = "umesh"
	DefaultGasPerPhiloxCall      = 2
	DefaultGasPerKiloMulAdds     = 210
	DefaultGasPerHash            = 21
	MaxEpochBlocks               = 1_000_000
	MaxCommitDeadlineBlocks      = 100
	MaxRevealWindowBlocks        = 1_000
	MaxScheduleScanPerBlock      = 100_000
	MaxGasPerUnit                = 1_000_000
	MinEpochBlocksOverChallenges = 2
	// DefaultOpeningBlocks: the 16 openings come from 8 consecutive block
	// hashes, 2 per block (README, Security: grinding).
	DefaultOpeningBlocks = 8
	// DefaultVerificationTTLEpochs: a passed check keeps a GPU verified
	// for three epochs (README, Capacity rewards).
	DefaultVerificationTTLEpochs = 3
	// MinVerificationTTLEpochs: the TTL must cover two epochs, so that the
	// forced check of the next epoch always lands before the TTL runs out.
	MinVerificationTTLEpochs = 2
	// MaxVerificationTTLBlocks bounds verification_ttl_blocks (about 19
	// years at 6 s blocks).
	MaxVerificationTTLBlocks = 100_000_000
	// DefaultMaxDuePerBlock caps each EndBlock queue per block.
	DefaultMaxDuePerBlock = 1_000
	// MaxDuePerBlockLimit bounds max_due_per_block.
	MaxDuePerBlockLimit = 100_000
	// KeepBlockHashes is how many recent block hashes the module keeps for
	// the multi-block openings (at least challenge.MaxK, the largest
	// opening_blocks, plus room for openings carried over by the cap).
	KeepBlockHashes = 256
)

var (
	// DefaultSampleRate: each node with idle GPUs is checked with
	// probability 1/4 per epoch.
	DefaultSampleRate = math.LegacyNewDecWithPrec(25, 2)
	// DefaultDisputeFee is 10 MESH.
	DefaultDisputeFee = sdk.NewCoin(DefaultRewardDenom, math.NewInt(10_000_000))
	// DefaultBaseReward is 1000 MESH per epoch at zero utilization.
	DefaultBaseReward = sdk.NewCoin(DefaultRewardDenom, math.NewInt(1_000_000_000))
	// DefaultRewardFloor: issuance never falls below 10% of base_reward.
	DefaultRewardFloor = math.LegacyNewDecWithPrec(10, 2)
	// DefaultRewardAlpha: issuance reaches the floor at 90% utilization.
	DefaultRewardAlpha = math.LegacyOneDec()
)

// DefaultParams returns the default parameters of x/proofofcompute.
func DefaultParams() Params {
	return Params{
		EpochBlocks:          DefaultEpochBlocks,
		SampleRate:           DefaultSampleRate,
		CommitDeadlineBlocks: DefaultCommitDeadlineBlocks,
		RevealWindowBlocks:   DefaultRevealWindowBlocks,
		Openings:             DefaultOpenings,
		ScheduleScanPerBlock: DefaultScheduleScanPerBlock,
		Gas: VerificationGas{
			PerPhiloxCall:  DefaultGasPerPhiloxCall,
			PerKiloMulAdds: DefaultGasPerKiloMulAdds,
			PerHash:        DefaultGasPerHash,
		},
		DisputeFee:            DefaultDisputeFee,
		BaseReward:            DefaultBaseReward,
		RewardFloor:           DefaultRewardFloor,
		RewardAlpha:           DefaultRewardAlpha,
		OpeningBlocks:         DefaultOpeningBlocks,
		VerificationTtlBlocks: DefaultVerificationTTLEpochs * DefaultEpochBlocks,
		MaxDuePerBlock:        DefaultMaxDuePerBlock,
	}
}

// Validate checks every parameter and names the first invalid one with its
// value.
func (p Params) Validate() error {
	if p.CommitDeadlineBlocks == 0 || p.CommitDeadlineBlocks > MaxCommitDeadlineBlocks {
		return fmt.Errorf("commit_deadline_blocks must be in [1, %d], got %d", MaxCommitDeadlineBlocks, p.CommitDeadlineBlocks)
	}
	if p.RevealWindowBlocks == 0 || p.RevealWindowBlocks > MaxRevealWindowBlocks {
		return fmt.Errorf("reveal_window_blocks must be in [1, %d], got %d", MaxRevealWindowBlocks, p.RevealWindowBlocks)
	}
	if p.Openings == 0 || p.Openings > challenge.MaxK {
		return fmt.Errorf("openings must be in [1, %d], got %d", challenge.MaxK, p.Openings)
	}
	if p.OpeningBlocks == 0 || p.OpeningBlocks > p.Openings {
		return fmt.Errorf("opening_blocks must be in [1, openings %d], got %d", p.Openings, p.OpeningBlocks)
	}
	// An epoch must be long enough for a challenge issued at its start to
	// finish inside it, so that a node is never challenged twice at once.
	minEpoch := p.CommitDeadlineBlocks + uint64(p.OpeningBlocks) + p.RevealWindowBlocks + MinEpochBlocksOverChallenges
	if p.EpochBlocks < minEpoch || p.EpochBlocks > MaxEpochBlocks {
		return fmt.Errorf("epoch_blocks must be in [%d, %d] (commit deadline + opening blocks + reveal window + %d), got %d",
			minEpoch, MaxEpochBlocks, MinEpochBlocksOverChallenges, p.EpochBlocks)
	}
	if minTTL := MinVerificationTTLEpochs * p.EpochBlocks; p.VerificationTtlBlocks < minTTL ||
		p.VerificationTtlBlocks > MaxVerificationTTLBlocks {
		return fmt.Errorf("verification_ttl_blocks must be in [%d, %d] (at least %d epochs), got %d",
			minTTL, MaxVerificationTTLBlocks, MinVerificationTTLEpochs, p.VerificationTtlBlocks)
	}
	if p.MaxDuePerBlock == 0 || p.MaxDuePerBlock > MaxDuePerBlockLimit {
		return fmt.Errorf("max_due_per_block must be in [1, %d], got %d", MaxDuePerBlockLimit, p.MaxDuePerBlock)
	}
	if err := unitDec("sample_rate", p.SampleRate); err != nil {
		return err
	}
	if p.ScheduleScanPerBlock == 0 || p.ScheduleScanPerBlock > MaxScheduleScanPerBlock {
		return fmt.Errorf("schedule_scan_per_block must be in [1, %d], got %d", MaxScheduleScanPerBlock, p.ScheduleScanPerBlock)
	}
	for _, g := range []struct {
		field string
		value uint64
	}{
		{"gas.per_philox_call", p.Gas.PerPhiloxCall},
		{"gas.per_kilo_mul_adds", p.Gas.PerKiloMulAdds},
		{"gas.per_hash", p.Gas.PerHash},
	} {
		if g.value == 0 || g.value > MaxGasPerUnit {
			return fmt.Errorf("%s must be in [1, %d], got %d", g.field, MaxGasPerUnit, g.value)
		}
	}
	if err := p.DisputeFee.Validate(); err != nil {
		return fmt.Errorf("dispute_fee %s: %w", p.DisputeFee, err)
	}
	if !p.DisputeFee.IsPositive() {
		return fmt.Errorf("dispute_fee must be positive, got %s", p.DisputeFee)
	}
	if err := p.BaseReward.Validate(); err != nil {
		return fmt.Errorf("base_reward %s: %w", p.BaseReward, err)
	}
	if err := unitDec("reward_floor", p.RewardFloor); err != nil {
		return err
	}
	if p.RewardAlpha.IsNil() || p.RewardAlpha.IsNegative() || p.RewardAlpha.GT(math.LegacyNewDec(100)) {
		return fmt.Errorf("reward_alpha must be in [0, 100], got %s", decString(p.RewardAlpha))
	}
	return nil
}

// unitDec checks that d is set and in [0, 1].
func unitDec(field string, d math.LegacyDec) error {
	if d.IsNil() || d.IsNegative() || d.GT(math.LegacyOneDec()) {
		return fmt.Errorf("%s must be in [0, 1], got %s", field, decString(d))
	}
	return nil
}

func decString(d math.LegacyDec) string {
	if d.IsNil() {
		return "<nil>"
	}
	return d.String()
}

// ChallengeParams are the challenge library's parameters for one GPU.
func (g ChallengedGPU) ChallengeParams(k uint32) challenge.Params {
	return challenge.Params{N: g.N, M: g.M, K: k}
}

// RevealCost is the gas a reveal of one GPU pays for its verification.
func (gas VerificationGas) RevealCost(p challenge.Params) uint64 {
	c := challenge.VerifyCost(p)
	return c.PhiloxCalls*gas.PerPhiloxCall + (c.MulAdds+1023)/1024*gas.PerKiloMulAdds + c.Hashes*gas.PerHash
}

// OpenedHeight is the height whose block completes the openings: the last
// of the opening_blocks blocks from open_height.
func (c Challenge) OpenedHeight() int64 {
	return c.OpenHeight + int64(c.OpeningBlocks) - 1
}

// GPUKey is the Philox key of GPU g of the challenge on chain chainID: the
// seed binds the chain, the challenge id, its block hash, the provider's
// address bytes and the GPU's UUID (spec §2).
func (c Challenge) GPUKey(chainID string, g int) ([2]uint32, error) {
	provider, err := sdk.AccAddressFromBech32(c.Provider)
	if err != nil {
		return [2]uint32{}, fmt.Errorf("challenge %d: provider %q: %w", c.Id, c.Provider, err)
	}
	if g < 0 || g >= len(c.Gpus) {
		return [2]uint32{}, fmt.Errorf("challenge %d has %d GPUs, no GPU %d", c.Id, len(c.Gpus), g)
	}
	return challenge.KeyFromSeed(challenge.Seed(challenge.SeedInput{
		ChainID: chainID, ChallengeID: c.Id, BlockHash: c.BlockHash, Provider: provider, GPUUUID: c.Gpus[g].Uuid,
	})), nil
}
