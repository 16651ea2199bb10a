// Package prove builds a challenged provider's proof-of-compute messages:
// the proofs of every challenged GPU, the commitment message and the
// reveals at the openings the chain published. Both the gpumeshd CLI
// (tx proofofcompute commit/reveal) and the provider sidecar use it, so it
// depends only on the module's types and the challenge library: no keeper,
// application or command-line code.
package prove

import (
	"context"
	"fmt"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Challenge computes every GPU's proof of a challenge with the CPU
// prover, as the challenged provider: the seeds bind the chain id, the
// challenge, its block hash, the provider's address and each GPU's UUID.
// The result is deterministic, so commit and reveal can each recompute it.
func Challenge(ctx context.Context, chainID string, c types.Challenge, workers int) ([]*challenge.GPUProof, error) {
	return ChallengeWith(ctx, chainID, c, challenge.CPUMultiplier(workers), challenge.ProverOptions{Workers: workers})
}

// ChallengeWith is Challenge with any multiplier (a GPU backend) and
// prover options.
func ChallengeWith(ctx context.Context, chainID string, c types.Challenge, mul challenge.Multiplier,
	opts challenge.ProverOptions,
) ([]*challenge.GPUProof, error) {
	proofs := make([]*challenge.GPUProof, len(c.Gpus))
	for i, g := range c.Gpus {
		key, err := c.GPUKey(chainID, i)
		if err != nil {
			return nil, err
		}
		p, err := challenge.Prove(ctx, key, g.ChallengeParams(c.Openings), mul, opts)
		if err != nil {
			return nil, fmt.Errorf("challenge %d, gpu %d (%s): %w", c.Id, i, g.Uuid, err)
		}
		proofs[i] = p
	}
	return proofs, nil
}

// CommitMsg carries the proofs' commitments for the challenge's provider.
func CommitMsg(c types.Challenge, proofs []*challenge.GPUProof) *types.MsgCommitProof {
	msg := &types.MsgCommitProof{Provider: c.Provider, ChallengeId: c.Id}
	for _, p := range proofs {
		cm := p.Commitment()
		msg.Commitments = append(msg.Commitments, cm[:])
	}
	return msg
}

// RevealMsgs opens the listed GPUs (all when gpuIndexes is empty) at the
// indices the chain published for an opened challenge.
func RevealMsgs(c types.Challenge, openings []types.GPUOpenings, proofs []*challenge.GPUProof,
	gpuIndexes []uint32,
) ([]*types.MsgRevealProof, error) {
	if c.State != types.CHALLENGE_STATE_OPENED || len(openings) != len(c.Gpus) {
		return nil, fmt.Errorf("challenge %d is %s: reveals are taken once it is OPENED, at height %d",
			c.Id, c.State, c.OpenedHeight())
	}
	if len(gpuIndexes) == 0 {
		for g := range c.Gpus {
			gpuIndexes = append(gpuIndexes, uint32(g))
		}
	}
	var msgs []*types.MsgRevealProof
	for _, g := range gpuIndexes {
		if int(g) >= len(c.Gpus) || int(g) >= len(proofs) {
			return nil, fmt.Errorf("gpu index %d: challenge %d has %d GPUs", g, c.Id, len(c.Gpus))
		}
		idx := make([]challenge.Index, len(openings[g].Indices))
		for t, x := range openings[g].Indices {
			idx[t] = challenge.Index{B: x.B, I: x.I, J: x.J}
		}
		rev, err := proofs[g].Open(idx)
		if err != nil {
			return nil, fmt.Errorf("gpu index %d: %w", g, err)
		}
		msg := &types.MsgRevealProof{Provider: c.Provider, ChallengeId: c.Id, GpuIndex: g, Roots: rev.Roots}
		for _, o := range rev.Openings {
			msg.Openings = append(msg.Openings, types.Opening{Leaf: o.Leaf, Siblings: o.Siblings})
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// CorruptReveals is a fault injection for tests and demos: it keeps only
// the first reveal and flips one byte of its first opened leaf, which the
// chain answers by failing the challenge (a further reveal in the same
// transaction would then be refused and revert it). It changes msgs in
// place and returns them unchanged when there is nothing to corrupt. The
// production sidecar does not link it (see the gpumesh_faults build tag).
func CorruptReveals(msgs []*types.MsgRevealProof) []*types.MsgRevealProof {
	if len(msgs) == 0 || len(msgs[0].Openings) == 0 || len(msgs[0].Openings[0].Leaf) == 0 {
		return msgs
	}
	msgs = msgs[:1]
	msgs[0].Openings[0].Leaf[0] ^= 0x01
	return msgs
}
