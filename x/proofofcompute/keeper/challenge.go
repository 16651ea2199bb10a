package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// GetChallenge returns a challenge by id.
func (k *Keeper) GetChallenge(ctx context.Context, id uint64) (types.Challenge, error) {
	c, err := k.Challenges.Get(ctx, id)
	if errors.Is(err, collections.ErrNotFound) {
		return c, errorsmod.Wrapf(types.ErrChallengeNotFound, "challenge %d", id)
	}
	return c, err
}

// challengedGPUs turns GPUs into challenge entries with the n and m of
// their class. GPUs whose class is unknown or no longer in the params are
// left out: there is nothing to check them against.
func challengedGPUs(classes providertypes.Params, nodeID string, gpus []providertypes.GPU) []types.ChallengedGPU {
	out := make([]types.ChallengedGPU, 0, len(gpus))
	for _, g := range gpus {
		class, ok := classes.Class(g.Class)
		if !ok || class.ChallengeN == 0 || class.ChallengeM == 0 {
			continue
		}
		out = append(out, types.ChallengedGPU{Uuid: g.Uuid, NodeId: nodeID, Class: g.Class, N: class.ChallengeN, M: class.ChallengeM})
	}
	return out
}

// issue creates a challenge at the current height, bound to this block's
// hash, and queues its opening.
func (k *Keeper) issue(ctx context.Context, params types.Params, kind types.ChallengeKind, provider sdk.AccAddress,
	nodeID string, gpus []types.ChallengedGPU, leaseID *markettypes.OrderID,
) (types.Challenge, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if len(gpus) == 0 {
		return types.Challenge{}, errorsmod.Wrap(types.ErrNoGPUsToChallenge, "no GPU of a known class")
	}
	if len(gpus) > types.MaxChallengeGPUs {
		return types.Challenge{}, errorsmod.Wrapf(types.ErrNoGPUsToChallenge, "%d GPUs exceed the %d a challenge may name",
			len(gpus), types.MaxChallengeGPUs)
	}
	seq, err := k.ChallengeSeq.Next(ctx)
	if err != nil {
		return types.Challenge{}, err
	}
	epoch, err := k.CurrentEpoch.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return types.Challenge{}, err
	}
	h := sdkCtx.BlockHeight()
	c := types.Challenge{
		Id:                   seq + 1,
		Kind:                 kind,
		Provider:             provider.String(),
		NodeId:               nodeID,
		Gpus:                 gpus,
		Openings:             params.Openings,
		Epoch:                epoch,
		IssueHeight:          h,
		BlockHash:            append([]byte(nil), sdkCtx.HeaderHash()...),
		IssueTime:            sdkCtx.BlockTime().UTC(),
		CommitDeadlineHeight: h + int64(params.CommitDeadlineBlocks),
		OpenHeight:           h + int64(params.CommitDeadlineBlocks) + 1,
		OpeningBlocks:        params.OpeningBlocks,
		State:                types.CHALLENGE_STATE_ISSUED,
		LeaseId:              leaseID,
	}
	c.RevealDeadlineHeight = c.OpenedHeight() + int64(params.RevealWindowBlocks)
	if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
		return c, err
	}
	if err := k.ProviderChallenges.Set(ctx, collections.Join(provider, c.Id)); err != nil {
		return c, err
	}
	if err := k.OpenQueue.Set(ctx, collections.Join(c.OpenedHeight(), c.Id)); err != nil {
		return c, err
	}
	if kind == types.CHALLENGE_KIND_CAPACITY {
		if err := k.NodeChallenge.Set(ctx, collections.Join(provider, nodeID), c.Id); err != nil {
			return c, err
		}
	}
	if err := k.countEpoch(ctx, func(e *types.Epoch) { e.ChallengesIssued++ }); err != nil {
		return c, err
	}
	uuids := make([]string, len(gpus))
	for i, g := range gpus {
		uuids[i] = g.Uuid
	}
	return c, sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengeIssued{
		Id: c.Id, Kind: kind, Provider: c.Provider, NodeId: nodeID, Gpus: uuids, IssueHeight: h,
		CommitDeadlineHeight: c.CommitDeadlineHeight, OpenHeight: c.OpenHeight, LeaseId: leaseID,
	})
}

// challengeOf loads a challenge and checks that sender is its provider.
func (k *Keeper) challengeOf(ctx context.Context, id uint64, sender string) (types.Challenge, error) {
	c, err := k.GetChallenge(ctx, id)
	if err != nil {
		return c, err
	}
	if c.Provider != sender {
		return c, errorsmod.Wrapf(types.ErrNotChallenged, "challenge %d is for %s, not %s", id, c.Provider, sender)
	}
	return c, nil
}

// Commit records the commitments of every GPU of a challenge. It must come
// from the challenged provider, once, by the commit deadline.
func (k *Keeper) Commit(ctx context.Context, msg *types.MsgCommitProof) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c, err := k.challengeOf(ctx, msg.ChallengeId, msg.Provider)
	if err != nil {
		return err
	}
	if c.State != types.CHALLENGE_STATE_ISSUED {
		return errorsmod.Wrapf(types.ErrWrongState, "challenge %d is %s; commitments are accepted only while ISSUED", c.Id, c.State)
	}
	if h := sdkCtx.BlockHeight(); h > c.CommitDeadlineHeight {
		return errorsmod.Wrapf(types.ErrDeadlinePassed, "challenge %d: commit deadline was height %d, this is height %d",
			c.Id, c.CommitDeadlineHeight, h)
	}
	if len(msg.Commitments) != len(c.Gpus) {
		return errorsmod.Wrapf(types.ErrInvalidCommitment, "challenge %d names %d GPUs, got %d commitments",
			c.Id, len(c.Gpus), len(msg.Commitments))
	}
	for i := range c.Gpus {
		c.Gpus[i].Commitment = append([]byte(nil), msg.Commitments[i]...)
	}
	c.State = types.CHALLENGE_STATE_COMMITTED
	c.CommittedHeight = sdkCtx.BlockHeight()
	if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
		return err
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventProofCommitted{Id: c.Id, Provider: c.Provider})
}

// OpenSeeds returns a challenge's segment seeds; nil before it opened.
func OpenSeeds(c types.Challenge) [][32]byte {
	if len(c.OpenSeeds) == 0 {
		return nil
	}
	out := make([][32]byte, len(c.OpenSeeds))
	for i, s := range c.OpenSeeds {
		copy(out[i][:], s)
	}
	return out
}

// Openings returns the entries every GPU of an opened challenge must
// open, in gpu_index order; nil before it opened.
func Openings(c types.Challenge) []types.GPUOpenings {
	seeds := OpenSeeds(c)
	if seeds == nil {
		return nil
	}
	out := make([]types.GPUOpenings, len(c.Gpus))
	for g, gpu := range c.Gpus {
		idx := challenge.Openings(seeds, uint32(g), gpu.ChallengeParams(c.Openings))
		o := types.GPUOpenings{GpuIndex: uint32(g), Uuid: gpu.Uuid, Indices: make([]types.OpeningIndex, len(idx))}
		for t, x := range idx {
			o.Indices[t] = types.OpeningIndex{B: x.B, I: x.I, J: x.J}
		}
		out[g] = o
	}
	return out
}

// recordBlockHash keeps this block's header hash for the openings of the
// next blocks, and forgets the hash KeepBlockHashes blocks back.
func (k *Keeper) recordBlockHash(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	h := sdkCtx.BlockHeight()
	if err := k.BlockHashes.Set(ctx, h, append([]byte(nil), sdkCtx.HeaderHash()...)); err != nil {
		return err
	}
	return k.BlockHashes.Remove(ctx, h-types.KeepBlockHashes)
}

// blockHash is the recorded header hash of height h, or this block's when
// h is no longer kept (an opening carried over for more than
// KeepBlockHashes blocks by the per-block cap).
func (k *Keeper) blockHash(ctx context.Context, h int64) ([]byte, error) {
	bh, err := k.BlockHashes.Get(ctx, h)
	if errors.Is(err, collections.ErrNotFound) {
		return sdk.UnwrapSDKContext(ctx).HeaderHash(), nil
	}
	return bh, err
}

// open handles a challenge once the last of its opening blocks has been
// made: one without commitments is missed; a committed one draws its
// openings, opening_blocks segments each from the hash of one block from
// open_height on, so the proposer of any one block picks at most one
// segment.
func (k *Keeper) open(ctx context.Context, params types.Params, c types.Challenge) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	if c.State == types.CHALLENGE_STATE_ISSUED {
		return k.resolveFailure(ctx, c, types.CHALLENGE_STATE_MISSED,
			fmt.Sprintf("no commitment by height %d", c.CommitDeadlineHeight), false)
	}
	if c.State != types.CHALLENGE_STATE_COMMITTED {
		return fmt.Errorf("challenge %d in the open queue is %s", c.Id, c.State)
	}
	c.OpenSeeds = make([][]byte, c.OpeningBlocks)
	for j := range c.OpeningBlocks {
		bh, err := k.blockHash(ctx, c.OpenHeight+int64(j))
		if err != nil {
			return err
		}
		seed := challenge.OpenSeed(c.Id, j, bh)
		c.OpenSeeds[j] = seed[:]
	}
	c.State = types.CHALLENGE_STATE_OPENED
	// The reveal window runs from the block after this one.
	c.RevealDeadlineHeight = sdkCtx.BlockHeight() + int64(params.RevealWindowBlocks)
	if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
		return err
	}
	if err := k.RevealQueue.Set(ctx, collections.Join(c.RevealDeadlineHeight, c.Id)); err != nil {
		return err
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventChallengeOpened{
		Id: c.Id, Provider: c.Provider, RevealDeadlineHeight: c.RevealDeadlineHeight, OpenSeeds: c.OpenSeeds,
		Openings: Openings(c),
	})
}

// Reveal checks one GPU's openings. A malformed reveal (wrong counts or
// lengths, a GPU already revealed, too late) is refused with an error and
// changes nothing. A well-formed reveal is verified after paying its gas:
// a wrong one fails the challenge (slash, jail) and still succeeds as a
// transaction, so the failure is recorded; the last correct one passes it.
func (k *Keeper) Reveal(ctx context.Context, msg *types.MsgRevealProof) (*types.MsgRevealProofResponse, error) {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	c, err := k.challengeOf(ctx, msg.ChallengeId, msg.Provider)
	if err != nil {
		return nil, err
	}
	if c.State != types.CHALLENGE_STATE_OPENED {
		return nil, errorsmod.Wrapf(types.ErrWrongState, "challenge %d is %s; reveals are accepted only while OPENED", c.Id, c.State)
	}
	if h := sdkCtx.BlockHeight(); h > c.RevealDeadlineHeight {
		return nil, errorsmod.Wrapf(types.ErrDeadlinePassed, "challenge %d: reveal deadline was height %d, this is height %d",
			c.Id, c.RevealDeadlineHeight, h)
	}
	if int(msg.GpuIndex) >= len(c.Gpus) {
		return nil, errorsmod.Wrapf(types.ErrInvalidReveal, "gpu_index %d: challenge %d has %d GPUs", msg.GpuIndex, c.Id, len(c.Gpus))
	}
	gpu := c.Gpus[msg.GpuIndex]
	if gpu.Revealed {
		return nil, errorsmod.Wrapf(types.ErrDuplicateReveal, "challenge %d, gpu_index %d (%s)", c.Id, msg.GpuIndex, gpu.Uuid)
	}
	if err := checkRevealShape(c, msg); err != nil {
		return nil, err
	}
	p := gpu.ChallengeParams(c.Openings)
	rev := msg.Reveal()
	params, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	sdkCtx.GasMeter().ConsumeGas(params.Gas.RevealCost(p), "proof-of-compute verification")

	key, err := c.GPUKey(sdkCtx.ChainID(), int(msg.GpuIndex))
	if err != nil {
		return nil, err
	}
	idx := challenge.Openings(OpenSeeds(c), msg.GpuIndex, p)
	if err := challenge.VerifyReveal(key, p, gpu.Commitment, idx, rev); err != nil {
		if errors.Is(err, challenge.ErrMalformed) {
			return nil, errorsmod.Wrapf(types.ErrInvalidReveal, "challenge %d, gpu_index %d: %s", c.Id, msg.GpuIndex, err)
		}
		reason := fmt.Sprintf("gpu_index %d (%s): %s", msg.GpuIndex, gpu.Uuid, err)
		if err := k.resolveFailure(ctx, c, types.CHALLENGE_STATE_FAILED, reason, false); err != nil {
			return nil, err
		}
		return &types.MsgRevealProofResponse{Correct: false, State: types.CHALLENGE_STATE_FAILED}, nil
	}

	c.Gpus[msg.GpuIndex].Revealed = true
	if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventProofRevealed{
		Id: c.Id, Provider: c.Provider, GpuIndex: msg.GpuIndex, Uuid: gpu.Uuid,
	}); err != nil {
		return nil, err
	}
	for _, g := range c.Gpus {
		if !g.Revealed {
			return &types.MsgRevealProofResponse{Correct: true, State: c.State}, nil
		}
	}
	if err := k.resolvePass(ctx, c); err != nil {
		return nil, err
	}
	return &types.MsgRevealProofResponse{Correct: true, State: types.CHALLENGE_STATE_PASSED}, nil
}

// revealDeadline fails a challenge still OPENED after its reveal window:
// the provider committed and did not open, which is treated as a wrong
// opening ("commit garbage and hope").
func (k *Keeper) revealDeadline(ctx context.Context, c types.Challenge) error {
	if c.State != types.CHALLENGE_STATE_OPENED {
		return fmt.Errorf("challenge %d in the reveal queue is %s", c.Id, c.State)
	}
	missing := 0
	for _, g := range c.Gpus {
		if !g.Revealed {
			missing++
		}
	}
	return k.resolveFailure(ctx, c, types.CHALLENGE_STATE_FAILED,
		fmt.Sprintf("%d of %d GPUs not revealed by height %d", missing, len(c.Gpus), c.RevealDeadlineHeight), true)
}

// checkRevealShape checks a reveal's counts and lengths against the GPU it
// names: m roots, k openings, log2(n²/16) siblings each.
func checkRevealShape(c types.Challenge, msg *types.MsgRevealProof) error {
	gpu := c.Gpus[msg.GpuIndex]
	if err := challenge.CheckShape(gpu.ChallengeParams(c.Openings), msg.Reveal()); err != nil {
		return errorsmod.Wrapf(types.ErrInvalidReveal, "challenge %d, gpu_index %d: %s", c.Id, msg.GpuIndex, err)
	}
	return nil
}
