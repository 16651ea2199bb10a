package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// DefaultGenesis returns the genesis state of x/proofofcompute on a new
// chain: default params, no challenge, no epoch yet (the first starts at
// the first block).
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextChallengeId: 1, RewardPool: NewRewardPool()}
}

// Validate checks the genesis state before it is imported: params, every
// record on its own, and the cross-record facts the keeper relies on
// (unique ids below next_challenge_id, one open dispute per lease naming a
// live dispute challenge, the pool's total weight equal to the providers'
// weights).
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(err, "params")
	}
	if gs.NextChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_challenge_id must be >= 1, got 0")
	}
	challenges := make(map[uint64]Challenge, len(gs.Challenges))
	for i, c := range gs.Challenges {
		if err := c.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenges[%d]: %s", i, err)
		}
		if c.Id >= gs.NextChallengeId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenges[%d]: id %d is not below next_challenge_id %d", i, c.Id, gs.NextChallengeId)
		}
		if _, dup := challenges[c.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenges[%d]: id %d repeated", i, c.Id)
		}
		challenges[c.Id] = c
	}
	for i, s := range gs.Schedule {
		if _, err := sdk.AccAddressFromBech32(s.Provider); err != nil || s.NodeId == "" || s.Height <= 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "schedule[%d]: need a provider address, a node id and a height > 0, got %q %q %d",
				i, s.Provider, s.NodeId, s.Height)
		}
	}
	if gs.Cursor.Provider != "" {
		if _, err := sdk.AccAddressFromBech32(gs.Cursor.Provider); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "cursor.provider %q: %s", gs.Cursor.Provider, err)
		}
	}
	for i, e := range gs.Epochs {
		if e.Number != uint64(i)+1 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "epochs[%d]: number must be %d, got %d", i, i+1, e.Number)
		}
		if e.Utilization.IsNil() {
			return errorsmod.Wrapf(ErrInvalidGenesis, "epochs[%d]: utilization must be set", i)
		}
	}
	if len(gs.Epochs) > 0 && gs.Cursor.Epoch != uint64(len(gs.Epochs)) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "cursor.epoch must be the running epoch %d, got %d", len(gs.Epochs), gs.Cursor.Epoch)
	}
	if err := gs.RewardPool.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "reward_pool: %s", err)
	}
	var weight uint64
	seen := map[string]bool{}
	for i, r := range gs.Rewards {
		if _, err := sdk.AccAddressFromBech32(r.Provider); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "rewards[%d].provider %q: %s", i, r.Provider, err)
		}
		if seen[r.Provider] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "rewards[%d]: provider %s repeated", i, r.Provider)
		}
		seen[r.Provider] = true
		if r.IndexSnapshot.IsNil() || r.Accrued.IsNil() || r.Accrued.IsNegative() || r.Claimed.IsNil() || r.Claimed.IsNegative() ||
			r.IndexSnapshot.GT(gs.RewardPool.Index) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "rewards[%d]: index_snapshot (≤ the pool index), accrued and claimed must be set and >= 0", i)
		}
		weight += r.Weight
	}
	if weight != gs.RewardPool.TotalWeight {
		return errorsmod.Wrapf(ErrInvalidGenesis, "reward_pool.total_weight %d differs from the providers' weights %d",
			gs.RewardPool.TotalWeight, weight)
	}
	open := map[string]bool{}
	for i, d := range gs.Disputes {
		if err := d.LeaseId.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "disputes[%d].lease_id: %s", i, err)
		}
		c, ok := challenges[d.ChallengeId]
		if !ok || c.Kind != CHALLENGE_KIND_DISPUTE || c.LeaseId == nil || !c.LeaseId.Equal(d.LeaseId) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "disputes[%d]: challenge %d is not a dispute challenge of lease %s", i, d.ChallengeId, d.LeaseId)
		}
		if d.Fee.Validate() != nil || d.Slashed.IsNil() || d.TenantCompensation.IsNil() {
			return errorsmod.Wrapf(ErrInvalidGenesis, "disputes[%d]: fee, slashed and tenant_compensation must be set", i)
		}
		if (d.State == DISPUTE_STATE_OPEN) != !c.Resolved() {
			return errorsmod.Wrapf(ErrInvalidGenesis, "disputes[%d]: state %s but challenge %d is %s", i, d.State, c.Id, c.State)
		}
		if d.State == DISPUTE_STATE_OPEN {
			if open[d.LeaseId.String()] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "disputes[%d]: lease %s has two open disputes", i, d.LeaseId)
			}
			open[d.LeaseId.String()] = true
		}
	}
	for i, u := range gs.Usage {
		if err := u.LeaseId.Validate(); err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "usage[%d].lease_id: %s", i, err)
		}
	}
	return nil
}

// Resolved reports whether a challenge has its final outcome.
func (c Challenge) Resolved() bool {
	switch c.State {
	case CHALLENGE_STATE_PASSED, CHALLENGE_STATE_FAILED, CHALLENGE_STATE_MISSED:
		return true
	}
	return false
}

// Validate checks one challenge on its own.
func (c Challenge) Validate() error {
	if c.Id == 0 {
		return fmt.Errorf("id must be >= 1")
	}
	if _, err := sdk.AccAddressFromBech32(c.Provider); err != nil {
		return fmt.Errorf("provider %q: %w", c.Provider, err)
	}
	switch c.Kind {
	case CHALLENGE_KIND_CAPACITY:
		if c.NodeId == "" {
			return fmt.Errorf("a capacity challenge needs a node_id")
		}
	case CHALLENGE_KIND_DISPUTE:
		if c.LeaseId == nil {
			return fmt.Errorf("a dispute challenge needs a lease_id")
		}
		if err := c.LeaseId.Validate(); err != nil {
			return fmt.Errorf("lease_id: %w", err)
		}
	default:
		return fmt.Errorf("kind %s is invalid", c.Kind)
	}
	if c.State == CHALLENGE_STATE_UNSPECIFIED || ChallengeState_name[int32(c.State)] == "" {
		return fmt.Errorf("state %s is invalid", c.State)
	}
	if len(c.Gpus) == 0 || len(c.Gpus) > MaxChallengeGPUs {
		return fmt.Errorf("gpus: want 1 to %d, got %d", MaxChallengeGPUs, len(c.Gpus))
	}
	committed := c.State != CHALLENGE_STATE_ISSUED && c.State != CHALLENGE_STATE_MISSED
	for i, g := range c.Gpus {
		if err := g.ChallengeParams(c.Openings).Validate(); err != nil {
			return fmt.Errorf("gpus[%d] (%s): %w", i, g.Uuid, err)
		}
		if committed && len(g.Commitment) != challenge.HashSize {
			return fmt.Errorf("gpus[%d] (%s): a %s challenge needs a %d-byte commitment, got %d bytes",
				i, g.Uuid, c.State, challenge.HashSize, len(g.Commitment))
		}
	}
	if c.OpeningBlocks < 1 || c.OpeningBlocks > c.Openings {
		return fmt.Errorf("opening_blocks must be in [1, openings %d], got %d", c.Openings, c.OpeningBlocks)
	}
	if c.CommitDeadlineHeight < c.IssueHeight || c.OpenHeight != c.CommitDeadlineHeight+1 ||
		c.RevealDeadlineHeight <= c.OpenedHeight() {
		return fmt.Errorf("heights must satisfy issue ≤ commit deadline < open = deadline + 1 ≤ opened = open + opening_blocks − 1 < reveal deadline, got %d, %d, %d, %d, %d",
			c.IssueHeight, c.CommitDeadlineHeight, c.OpenHeight, c.OpenedHeight(), c.RevealDeadlineHeight)
	}
	if c.State == CHALLENGE_STATE_OPENED || len(c.OpenSeeds) > 0 {
		if len(c.OpenSeeds) != int(c.OpeningBlocks) {
			return fmt.Errorf("open_seeds: an opened challenge needs %d seeds (opening_blocks), got %d", c.OpeningBlocks, len(c.OpenSeeds))
		}
		for i, seed := range c.OpenSeeds {
			if len(seed) != challenge.HashSize {
				return fmt.Errorf("open_seeds[%d]: want %d bytes, got %d", i, challenge.HashSize, len(seed))
			}
		}
	}
	return nil
}

// Validate checks the pool's amounts.
func (p RewardPool) Validate() error {
	if p.Index.IsNil() || p.Index.IsNegative() || p.Carry.IsNil() || p.Carry.IsNegative() ||
		p.Minted.IsNil() || p.Claimed.IsNil() || p.Claimed.GT(p.Minted) || p.Claimed.IsNegative() {
		return fmt.Errorf("index, carry, minted and claimed must be set, >= 0, and claimed ≤ minted")
	}
	if p.Denom != "" {
		if err := sdk.ValidateDenom(p.Denom); err != nil {
			return fmt.Errorf("denom %q: %w", p.Denom, err)
		}
	}
	return nil
}
