package keeper

import (
	"math"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// commitMarker stands for "the commitment" in PendingFreeProofs, whose
// second key part is otherwise a GPU index.
const commitMarker = math.MaxUint32

// FreeProofTx reports whether tx may be included without a fee: every
// message is a MsgCommitProof or MsgRevealProof that the chain would
// accept now for the signer's own open challenge (a commitment while
// ISSUED and before the deadline; a reveal while OPENED, before the
// deadline, for a GPU not yet revealed and with the exact shape the
// challenge needs), and no message repeats a proof already admitted
// without a fee since the last block (MarkFreeProofs). Anything else pays
// the normal minimum, so free proofs open no spam path: each (challenge,
// GPU) gets at most one free reveal and each challenge one free commit per
// block, and a wrong well-shaped reveal costs the provider a slash.
func (k *Keeper) FreeProofTx(ctx sdk.Context, tx sdk.Tx) bool {
	msgs := tx.GetMsgs()
	if len(msgs) == 0 {
		return false
	}
	h := ctx.BlockHeight()
	seen := map[collections.Pair[uint64, uint32]]bool{}
	for _, m := range msgs {
		var id uint64
		var slot uint32
		var provider string
		switch msg := m.(type) {
		case *types.MsgCommitProof:
			if msg.ValidateBasic() != nil {
				return false
			}
			c, err := k.Challenges.Get(ctx, msg.ChallengeId)
			if err != nil || c.State != types.CHALLENGE_STATE_ISSUED || h > c.CommitDeadlineHeight ||
				len(msg.Commitments) != len(c.Gpus) {
				return false
			}
			id, slot, provider = c.Id, commitMarker, c.Provider
			if msg.Provider != provider {
				return false
			}
		case *types.MsgRevealProof:
			if msg.ValidateBasic() != nil {
				return false
			}
			c, err := k.Challenges.Get(ctx, msg.ChallengeId)
			if err != nil || c.State != types.CHALLENGE_STATE_OPENED || h > c.RevealDeadlineHeight ||
				int(msg.GpuIndex) >= len(c.Gpus) || c.Gpus[msg.GpuIndex].Revealed {
				return false
			}
			if err := checkRevealShape(c, msg); err != nil {
				return false
			}
			id, slot, provider = c.Id, msg.GpuIndex, c.Provider
			if msg.Provider != provider {
				return false
			}
		default:
			return false
		}
		key := collections.Join(id, slot)
		if seen[key] {
			return false
		}
		seen[key] = true
		if pending, err := k.PendingFreeProofs.Has(ctx, key); err != nil || pending {
			return false
		}
	}
	return true
}

// MarkFreeProofs records, in the CheckTx state only, the proofs of a tx
// admitted without a fee, so the same proof cannot be admitted free again
// before the next block. The CheckTx state is rebuilt from the committed
// state at every commit, so the marks never reach consensus state.
func (k *Keeper) MarkFreeProofs(ctx sdk.Context, tx sdk.Tx) error {
	if !ctx.IsCheckTx() {
		return nil
	}
	for _, m := range tx.GetMsgs() {
		switch msg := m.(type) {
		case *types.MsgCommitProof:
			if err := k.PendingFreeProofs.Set(ctx, collections.Join(msg.ChallengeId, uint32(commitMarker))); err != nil {
				return err
			}
		case *types.MsgRevealProof:
			if err := k.PendingFreeProofs.Set(ctx, collections.Join(msg.ChallengeId, msg.GpuIndex)); err != nil {
				return err
			}
		}
	}
	return nil
}
