package cli

import (
	"context"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// ProveChallenge is prove.Challenge.
//
// Deprecated: use x/proofofcompute/prove; kept until the sidecar chain
// client's tests move over (issue 21).
func ProveChallenge(ctx context.Context, chainID string, c types.Challenge, workers int) ([]*challenge.GPUProof, error) {
	return prove.Challenge(ctx, chainID, c, workers)
}

// CommitMsg is prove.CommitMsg.
//
// Deprecated: use x/proofofcompute/prove.
func CommitMsg(c types.Challenge, proofs []*challenge.GPUProof) *types.MsgCommitProof {
	return prove.CommitMsg(c, proofs)
}

// RevealMsgs is prove.RevealMsgs, then prove.CorruptReveals when corrupt.
//
// Deprecated: use x/proofofcompute/prove.
func RevealMsgs(c types.Challenge, openings []types.GPUOpenings, proofs []*challenge.GPUProof,
	gpuIndexes []uint32, corrupt bool,
) ([]*types.MsgRevealProof, error) {
	msgs, err := prove.RevealMsgs(c, openings, proofs, gpuIndexes)
	if err == nil && corrupt {
		msgs = prove.CorruptReveals(msgs)
	}
	return msgs, err
}
