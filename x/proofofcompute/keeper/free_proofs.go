package keeper

import (
	"context"
	"errors"
	"fmt"
	"math"

	"cosmossdk.io/collections"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// commitMarker stands for "the commitment" in PendingFreeProofs, whose
// second key part is otherwise a GPU index.
const commitMarker = math.MaxUint32

// FreeProofTx returns nil when tx may be included without a fee, and
// otherwise an error saying why not. A free transaction carries only
// proofs and what they need:
//   - every message is a MsgCommitProof or MsgRevealProof that the chain
//     would accept now for the signer's own open challenge (a commitment
//     while ISSUED and before the deadline; a reveal while OPENED, before
//     the deadline, for a GPU not yet revealed and with the exact shape
//     the challenge needs), and none repeats a proof already admitted
//     without a fee since the last block (MarkFreeProofs);
//   - no extension options, a memo of at most types.FreeMemoMaxBytes;
//   - at most types.FreeMaxTxBytes(msgs) bytes (ctx.TxBytes());
//   - a gas limit between types.FreeGas.Cost and .Cap at costs (at least
//     what the proofs need, at most 1.25 × that).
//
// (The app also requires the bytes to have no unknown fields.) Anything
// else pays the normal minimum, so free proofs open no spam path: each
// (challenge, GPU) gets at most one free reveal and each challenge one
// free commit per block, their size and gas follow from the challenge,
// and a wrong well-shaped reveal costs the provider a slash.
func (k *Keeper) FreeProofTx(ctx sdk.Context, tx sdk.Tx, costs types.TxGasCosts) error {
	msgs := tx.GetMsgs()
	if len(msgs) == 0 {
		return errors.New("no messages")
	}
	for i, m := range msgs {
		switch m.(type) {
		case *types.MsgCommitProof, *types.MsgRevealProof:
		default:
			return fmt.Errorf("message %d is %s, not a proof", i, sdk.MsgTypeURL(m))
		}
	}
	if err := checkFreeEnvelope(ctx, tx, msgs); err != nil {
		return err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	gas := types.NewFreeGas(params.Gas)
	seen := map[collections.Pair[uint64, uint32]]bool{}
	for i, m := range msgs {
		c, key, err := k.acceptableProof(ctx, m)
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
		if seen[key] {
			return fmt.Errorf("message %d repeats a proof of this transaction", i)
		}
		seen[key] = true
		pending, err := k.PendingFreeProofs.Has(ctx, key)
		if err != nil {
			return err
		}
		if pending {
			return fmt.Errorf("message %d: the same proof was already admitted without a fee since the last block", i)
		}
		if err := gas.Add(c, m, func() (int, error) { return k.passNodeGPUs(ctx, c) }); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	feeTx, ok := tx.(sdk.FeeTx)
	if !ok {
		return errors.New("transaction has no gas limit")
	}
	size := len(ctx.TxBytes())
	limit, cost, capped := feeTx.GetGas(), gas.Cost(size, costs), gas.Cap(size, costs)
	if limit > capped {
		return fmt.Errorf("gas limit %d is above the computed %d for these proofs (%d bytes)", limit, capped, size)
	}
	// CheckTx does not run the messages: a free proof with too little gas
	// would be admitted, run out of gas in its block for nothing, and could
	// be resent free in every block until its deadline.
	if limit < cost {
		return fmt.Errorf("gas limit %d is below the %d these proofs are computed to need (%d bytes)", limit, cost, size)
	}
	return nil
}

// extensionOptionsTx is a transaction with extension options (the SDK's
// protobuf transactions).
type extensionOptionsTx interface {
	GetExtensionOptions() []*codectypes.Any
	GetNonCriticalExtensionOptions() []*codectypes.Any
}

// checkFreeEnvelope checks what a free transaction carries besides its
// messages: no extension options, a short memo, and no more bytes than
// its messages need plus the envelope allowance.
func checkFreeEnvelope(ctx sdk.Context, tx sdk.Tx, msgs []sdk.Msg) error {
	if ext, ok := tx.(extensionOptionsTx); ok {
		if n := len(ext.GetExtensionOptions()); n > 0 {
			return fmt.Errorf("%d extension options; a free transaction has none", n)
		}
		if n := len(ext.GetNonCriticalExtensionOptions()); n > 0 {
			return fmt.Errorf("%d non-critical extension options; a free transaction has none", n)
		}
	}
	memoTx, ok := tx.(sdk.TxWithMemo)
	if !ok {
		return errors.New("transaction has no memo field")
	}
	if n := len(memoTx.GetMemo()); n > types.FreeMemoMaxBytes {
		return fmt.Errorf("memo is %d bytes, at most %d", n, types.FreeMemoMaxBytes)
	}
	if size, most := len(ctx.TxBytes()), types.FreeMaxTxBytes(msgs); size > most {
		return fmt.Errorf("transaction is %d bytes, at most %d for these messages (%d over them)",
			size, most, types.FreeEnvelopeBytes)
	}
	return nil
}

// acceptableProof returns the challenge of a commit or reveal the chain
// would accept now for the signer's own open challenge, and its key in
// PendingFreeProofs; otherwise an error saying why not.
func (k *Keeper) acceptableProof(ctx sdk.Context, m sdk.Msg) (types.Challenge, collections.Pair[uint64, uint32], error) {
	var none collections.Pair[uint64, uint32]
	h := ctx.BlockHeight()
	switch msg := m.(type) {
	case *types.MsgCommitProof:
		if err := msg.ValidateBasic(); err != nil {
			return types.Challenge{}, none, err
		}
		c, err := k.ownChallenge(ctx, msg.ChallengeId, msg.Provider)
		if err != nil {
			return c, none, err
		}
		switch {
		case c.State != types.CHALLENGE_STATE_ISSUED:
			return c, none, fmt.Errorf("challenge %d is %s; commitments are accepted only while ISSUED", c.Id, c.State)
		case h > c.CommitDeadlineHeight:
			return c, none, fmt.Errorf("challenge %d: commit deadline was height %d", c.Id, c.CommitDeadlineHeight)
		case len(msg.Commitments) != len(c.Gpus):
			return c, none, fmt.Errorf("challenge %d has %d GPUs, got %d commitments", c.Id, len(c.Gpus), len(msg.Commitments))
		}
		return c, collections.Join(c.Id, uint32(commitMarker)), nil
	case *types.MsgRevealProof:
		if err := msg.ValidateBasic(); err != nil {
			return types.Challenge{}, none, err
		}
		c, err := k.ownChallenge(ctx, msg.ChallengeId, msg.Provider)
		if err != nil {
			return c, none, err
		}
		switch {
		case c.State != types.CHALLENGE_STATE_OPENED:
			return c, none, fmt.Errorf("challenge %d is %s; reveals are accepted only while OPENED", c.Id, c.State)
		case h > c.RevealDeadlineHeight:
			return c, none, fmt.Errorf("challenge %d: reveal deadline was height %d", c.Id, c.RevealDeadlineHeight)
		case int(msg.GpuIndex) >= len(c.Gpus):
			return c, none, fmt.Errorf("gpu_index %d: challenge %d has %d GPUs", msg.GpuIndex, c.Id, len(c.Gpus))
		case c.Gpus[msg.GpuIndex].Revealed:
			return c, none, fmt.Errorf("challenge %d: gpu_index %d is already revealed", c.Id, msg.GpuIndex)
		}
		if err := checkRevealShape(c, msg); err != nil {
			return c, none, err
		}
		return c, collections.Join(c.Id, msg.GpuIndex), nil
	}
	return types.Challenge{}, none, fmt.Errorf("%s is not a proof", sdk.MsgTypeURL(m))
}

// ownChallenge returns challenge id when provider is the one challenged.
func (k *Keeper) ownChallenge(ctx context.Context, id uint64, provider string) (types.Challenge, error) {
	c, err := k.Challenges.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return c, fmt.Errorf("challenge %d does not exist", id)
	}
	if err != nil {
		return c, err
	}
	if c.Provider != provider {
		return c, fmt.Errorf("challenge %d is %s's, not %s's", id, c.Provider, provider)
	}
	return c, nil
}

// passNodeGPUs counts the GPUs listed on the provider's nodes that hold
// c's GPUs: the node records that passing c rewrites.
func (k *Keeper) passNodeGPUs(ctx context.Context, c types.Challenge) (int, error) {
	owner, err := k.addressCodec.StringToBytes(c.Provider)
	if err != nil {
		return 0, err
	}
	return types.PassNodeGPUs(c, func(g types.ChallengedGPU) (providertypes.Node, bool, error) {
		if g.NodeId != "" {
			return k.provider.GetNode(ctx, owner, g.NodeId)
		}
		loc, node, _, err := k.provider.GetGPU(ctx, g.Uuid)
		if errors.Is(err, providertypes.ErrGPUNotFound) || (err == nil && loc.Owner != c.Provider) {
			return node, false, nil
		}
		return node, err == nil, err
	})
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
