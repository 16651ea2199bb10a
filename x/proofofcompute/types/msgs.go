package types

import (
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// Bounds on message sizes that hold whatever the params say, so a message
// cannot make the chain allocate without limit before its state checks.
const (
	// MaxChallengeGPUs bounds the GPUs of one challenge (and so the
	// commitments of one MsgCommitProof).
	MaxChallengeGPUs = 1_024
	// MaxUtilPct is the largest mean utilization.
	MaxUtilPct = 100
)

var (
	_ sdk.HasValidateBasic = (*MsgCommitProof)(nil)
	_ sdk.HasValidateBasic = (*MsgRevealProof)(nil)
	_ sdk.HasValidateBasic = (*MsgOpenDispute)(nil)
	_ sdk.HasValidateBasic = (*MsgReportUsage)(nil)
	_ sdk.HasValidateBasic = (*MsgClaimRewards)(nil)
	_ sdk.HasValidateBasic = (*MsgUpdateParams)(nil)
)

func validateAddress(field, addr string) error {
	if _, err := sdk.AccAddressFromBech32(addr); err != nil {
		return errorsmod.Wrapf(sdkerrors.ErrInvalidAddress, "%s %q: %s", field, addr, err)
	}
	return nil
}

// ValidateBasic checks the provider address, the challenge id and that
// every commitment is 32 bytes.
func (m *MsgCommitProof) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	if m.ChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidCommitment, "challenge_id must be >= 1, got 0")
	}
	if len(m.Commitments) == 0 || len(m.Commitments) > MaxChallengeGPUs {
		return errorsmod.Wrapf(ErrInvalidCommitment, "commitments: want 1 to %d, got %d", MaxChallengeGPUs, len(m.Commitments))
	}
	for i, c := range m.Commitments {
		if len(c) != challenge.HashSize {
			return errorsmod.Wrapf(ErrInvalidCommitment, "commitments[%d]: want %d bytes, got %d", i, challenge.HashSize, len(c))
		}
	}
	return nil
}

// ValidateBasic checks the shape bounds that hold for every challenge; the
// exact counts (m roots, k openings, log2(n²/16) siblings) depend on the
// challenge and are checked by the keeper.
func (m *MsgRevealProof) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	if m.ChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidReveal, "challenge_id must be >= 1, got 0")
	}
	if len(m.Roots) == 0 || len(m.Roots) > challenge.MaxM {
		return errorsmod.Wrapf(ErrInvalidReveal, "roots: want 1 to %d, got %d", challenge.MaxM, len(m.Roots))
	}
	for i, r := range m.Roots {
		if len(r) != challenge.HashSize {
			return errorsmod.Wrapf(ErrInvalidReveal, "roots[%d]: want %d bytes, got %d", i, challenge.HashSize, len(r))
		}
	}
	if len(m.Openings) == 0 || len(m.Openings) > challenge.MaxK {
		return errorsmod.Wrapf(ErrInvalidReveal, "openings: want 1 to %d, got %d", challenge.MaxK, len(m.Openings))
	}
	for t, o := range m.Openings {
		if len(o.Leaf) != challenge.LeafBytes {
			return errorsmod.Wrapf(ErrInvalidReveal, "openings[%d].leaf: want %d bytes, got %d", t, challenge.LeafBytes, len(o.Leaf))
		}
		if len(o.Siblings) == 0 || len(o.Siblings) > challenge.MaxDepth {
			return errorsmod.Wrapf(ErrInvalidReveal, "openings[%d].siblings: want 1 to %d hashes, got %d", t, challenge.MaxDepth, len(o.Siblings))
		}
		for s, h := range o.Siblings {
			if len(h) != challenge.HashSize {
				return errorsmod.Wrapf(ErrInvalidReveal, "openings[%d].siblings[%d]: want %d bytes, got %d", t, s, challenge.HashSize, len(h))
			}
		}
	}
	return nil
}

// Reveal converts the message to the challenge library's form.
func (m *MsgRevealProof) Reveal() challenge.Reveal {
	rev := challenge.Reveal{Roots: m.Roots, Openings: make([]challenge.Opening, len(m.Openings))}
	for t, o := range m.Openings {
		rev.Openings[t] = challenge.Opening{Leaf: o.Leaf, Siblings: o.Siblings}
	}
	return rev
}

// ValidateBasic checks the tenant, the lease id and the fee.
func (m *MsgOpenDispute) ValidateBasic() error {
	if err := validateAddress("tenant", m.Tenant); err != nil {
		return err
	}
	if err := m.LeaseId.Validate(); err != nil {
		return errorsmod.Wrapf(ErrLeaseNotDisputable, "lease_id: %s", err)
	}
	if err := m.Fee.Validate(); err != nil || !m.Fee.IsPositive() {
		return errorsmod.Wrapf(ErrInvalidFee, "fee must be a positive coin, got %s", m.Fee)
	}
	return nil
}

// ValidateBasic checks the provider, the lease id and the report's ranges.
func (m *MsgReportUsage) ValidateBasic() error {
	if err := validateAddress("provider", m.Provider); err != nil {
		return err
	}
	if err := m.LeaseId.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidUsage, "lease_id: %s", err)
	}
	if m.PeriodEnd.IsZero() {
		return errorsmod.Wrap(ErrInvalidUsage, "period_end must be set")
	}
	if m.MeanUtilPct > MaxUtilPct {
		return errorsmod.Wrapf(ErrInvalidUsage, "mean_util_pct must be in [0, %d], got %d", MaxUtilPct, m.MeanUtilPct)
	}
	if len(m.SamplesHash) != 32 {
		return errorsmod.Wrapf(ErrInvalidUsage, "samples_hash: want 32 bytes (SHA-256), got %d", len(m.SamplesHash))
	}
	return nil
}

// ValidateBasic checks the provider address.
func (m *MsgClaimRewards) ValidateBasic() error {
	return validateAddress("provider", m.Provider)
}

// ValidateBasic checks the message without state: the authority is an
// address and the parameters are valid.
func (m *MsgUpdateParams) ValidateBasic() error {
	if err := validateAddress("authority", m.Authority); err != nil {
		return err
	}
	if err := m.Params.Validate(); err != nil {
		return errorsmod.Wrap(ErrInvalidParams, err.Error())
	}
	return nil
}
