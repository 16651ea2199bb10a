package keeper

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"time"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Epochs are height ranges: epoch n covers [start_height, start_height +
// epoch_blocks). The first starts at the first block after genesis; each
// next one starts at the block after the previous one ended, with the last
// block's hash as its sampling seed.

// currentEpoch returns the running epoch; found is false before the first.
func (k *Keeper) currentEpoch(ctx context.Context) (types.Epoch, bool, error) {
	n, err := k.CurrentEpoch.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.Epoch{}, false, nil
	}
	if err != nil {
		return types.Epoch{}, false, err
	}
	e, err := k.Epochs.Get(ctx, n)
	return e, err == nil, err
}

// countEpoch updates the running epoch's challenge counters.
func (k *Keeper) countEpoch(ctx context.Context, fn func(e *types.Epoch)) error {
	e, found, err := k.currentEpoch(ctx)
	if err != nil || !found {
		return err
	}
	fn(&e)
	return k.Epochs.Set(ctx, e.Number, e)
}

// startEpoch begins epoch number at startHeight with seed, and points the
// schedule builder at the first node.
func (k *Keeper) startEpoch(ctx context.Context, number uint64, startHeight int64, seed []byte) error {
	now := sdk.UnwrapSDKContext(ctx).BlockTime().UTC()
	e := types.Epoch{
		Number: number, StartHeight: startHeight, StartTime: now, LastAccrualTime: now,
		Seed: append([]byte(nil), seed...), Utilization: math.LegacyZeroDec(),
	}
	if err := k.Epochs.Set(ctx, number, e); err != nil {
		return err
	}
	if err := k.CurrentEpoch.Set(ctx, number); err != nil {
		return err
	}
	return k.Cursor.Set(ctx, types.ScheduleCursor{Epoch: number})
}

// accrue advances the running epoch's GPU-second totals to the block time
// with the current counts of verified and leased GPUs.
func (k *Keeper) accrue(ctx context.Context, e *types.Epoch) error {
	now := sdk.UnwrapSDKContext(ctx).BlockTime().UTC()
	if !now.After(e.LastAccrualTime) {
		return nil
	}
	dt := uint64(now.Sub(e.LastAccrualTime) / time.Second) //nolint:gosec // positive: now is after it
	leased, verified, err := k.provider.SupplyTotals(ctx)
	if err != nil {
		return err
	}
	e.VerifiedGpuSeconds += verified * dt
	e.LeasedGpuSeconds += leased * dt
	e.LastAccrualTime = e.LastAccrualTime.Add(secondsDuration(dt))
	return nil
}

// Utilization is leased / verified GPU-seconds, capped at 1 (unverified
// GPUs can be leased too); zero when nothing was verified.
func Utilization(e types.Epoch) math.LegacyDec {
	if e.VerifiedGpuSeconds == 0 {
		return math.LegacyZeroDec()
	}
	u := math.LegacyNewDecFromInt(math.NewIntFromUint64(e.LeasedGpuSeconds)).
		QuoInt(math.NewIntFromUint64(e.VerifiedGpuSeconds))
	if u.GT(math.LegacyOneDec()) {
		return math.LegacyOneDec()
	}
	return u
}

// Issuance is base_reward × max(floor, 1 − alpha × utilization), rounded
// down.
func Issuance(p types.Params, utilization math.LegacyDec) sdk.Coin {
	factor := math.LegacyOneDec().Sub(p.RewardAlpha.Mul(utilization))
	if factor.LT(p.RewardFloor) {
		factor = p.RewardFloor
	}
	return sdk.NewCoin(p.BaseReward.Denom, factor.MulInt(p.BaseReward.Amount).TruncateInt())
}

// BlockIssuance is what block i (0-based) of an epoch of n blocks mints
// when the epoch's budget is b: floor(b·(i+1)/n) − floor(b·i/n), so the
// blocks of a whole epoch add up to b exactly.
func BlockIssuance(b sdk.Coin, i, n int64) sdk.Coin {
	if i < 0 || i >= n || !b.IsPositive() {
		return sdk.NewCoin(b.Denom, math.ZeroInt())
	}
	return sdk.NewCoin(b.Denom, b.Amount.MulRaw(i+1).QuoRaw(n).Sub(b.Amount.MulRaw(i).QuoRaw(n)))
}

// issueBlock mints this block's share of the running epoch's budget into
// the reward index, over the weights in force now, and counts it in the
// epoch. The budget is Issuance at the previous epoch's utilization (the
// running epoch's is known only at its end), so rewards accrue block by
// block: a GPU idle, verified and of an eligible provider for part of an
// epoch earns for that part, never for the whole epoch by being idle at
// its end.
func (k *Keeper) issueBlock(ctx context.Context, params types.Params, e *types.Epoch) error {
	prev := math.LegacyZeroDec()
	if e.Number > 1 {
		p, err := k.Epochs.Get(ctx, e.Number-1)
		switch {
		case err == nil:
			prev = p.Utilization
		case !errors.Is(err, collections.ErrNotFound):
			return err
		}
	}
	i := sdk.UnwrapSDKContext(ctx).BlockHeight() - e.StartHeight
	minted, _, err := k.distribute(ctx, BlockIssuance(Issuance(params, prev), i, int64(params.EpochBlocks))) //nolint:gosec // ≤ MaxEpochBlocks
	if err != nil {
		return err
	}
	if e.Issuance.Amount.IsNil() || e.Issuance.Denom != minted.Denom {
		if !e.Issuance.Amount.IsNil() && e.Issuance.IsPositive() {
			return fmt.Errorf("epoch %d minted %s and now %s", e.Number, e.Issuance, minted)
		}
		e.Issuance = sdk.NewCoin(minted.Denom, math.ZeroInt())
	}
	e.Issuance = e.Issuance.Add(minted)
	return nil
}

// endEpoch closes the running epoch at this block: final totals,
// utilization (which sets the next epoch's issuance) and the weight in
// force at its end; then the next epoch starts at the next block, seeded
// with this block's hash.
func (k *Keeper) endEpoch(ctx context.Context, params types.Params, e types.Epoch) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	e.EndHeight = sdkCtx.BlockHeight()
	e.EndTime = sdkCtx.BlockTime().UTC()
	e.Utilization = Utilization(e)
	pool, err := k.pool(ctx)
	if err != nil {
		return err
	}
	e.TotalWeight = pool.TotalWeight
	if e.Issuance.Amount.IsNil() {
		e.Issuance = sdk.NewCoin(params.BaseReward.Denom, math.ZeroInt())
	}
	if err := k.Epochs.Set(ctx, e.Number, e); err != nil {
		return err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventEpochEnded{Epoch: e}); err != nil {
		return err
	}
	return k.startEpoch(ctx, e.Number+1, e.EndHeight+1, sdkCtx.HeaderHash())
}

// checkHeight is the height at which a provider's planned nodes are
// challenged this epoch: one height per provider, so that all its sampled
// nodes are checked at once (one GPU cannot answer for many single-GPU
// nodes one at a time), drawn from the second half of the epoch by
// H("gpumesh/poc/v2/height" ‖ seed ‖ u16be(len P) ‖ P). The schedule walk,
// at schedule_scan_per_block nodes a block, reaches every node in the
// first half unless there are more than epoch_blocks / 2 ×
// schedule_scan_per_block of them (150 000 at the defaults); a provider
// reached later, after its height, is checked at a height drawn the same
// way from the rest of the epoch.
func checkHeight(e types.Epoch, params types.Params, owner sdk.AccAddress, lo, last int64) int64 {
	h := sha256.New()
	h.Write([]byte("gpumesh/poc/v2/height"))
	h.Write(e.Seed)
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(owner))) //nolint:gosec // an address is short
	h.Write(l[:])
	h.Write(owner)
	draw := binary.BigEndian.Uint64(h.Sum(nil)[:8])
	first := e.StartHeight + int64(params.EpochBlocks/2) //nolint:gosec // ≤ MaxEpochBlocks
	if first < lo {
		first = lo
	}
	return first + int64(draw%uint64(last-first+1)) //nolint:gosec // last ≥ first
}

// sampleThreshold is sample_rate × 2^64: a node is sampled when the first
// 8 bytes of its sampling hash, read as a big-endian integer, are below it.
func sampleThreshold(rate math.LegacyDec) *big.Int {
	t := new(big.Int).Lsh(big.NewInt(1), 64)
	return rate.MulInt(math.NewIntFromBigInt(t)).TruncateInt().BigInt()
}

// sampleHash = H("gpumesh/poc/v1/sample" ‖ epoch seed ‖ u16be(len P) ‖ P
// ‖ u16be(len node) ‖ node): whether a node is sampled this epoch, unknown
// before the epoch's seed block.
func sampleHash(seed []byte, owner sdk.AccAddress, nodeID string) [32]byte {
	h := sha256.New()
	h.Write([]byte("gpumesh/poc/v1/sample"))
	h.Write(seed)
	var l [2]byte
	binary.BigEndian.PutUint16(l[:], uint16(len(owner)))
	h.Write(l[:])
	h.Write(owner)
	binary.BigEndian.PutUint16(l[:], uint16(len(nodeID)))
	h.Write(l[:])
	h.Write([]byte(nodeID))
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// challengeable reports whether a node has an idle GPU of a known class.
func challengeable(n providertypes.Node) bool {
	for _, g := range n.Gpus {
		if g.AllocatedTo == "" && g.Class != providertypes.UnknownClass {
			return true
		}
	}
	return false
}

// scheduleStep examines up to schedule_scan_per_block nodes after the
// cursor: each node with an idle GPU of a known class is sampled with
// probability sample_rate, or taken whatever the draw when one of those
// GPUs is unverified or its verification would lapse before a check issued
// in the next epoch could finish (needsCheck), and planned at a height
// drawn from the rest of the epoch. The walk stops at the last node or when the epoch
// has no later height left.
func (k *Keeper) scheduleStep(ctx context.Context, params types.Params, e types.Epoch) error {
	cur, err := k.Cursor.Get(ctx)
	if err != nil {
		return err
	}
	if cur.Done || cur.Epoch != e.Number {
		return nil
	}
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	last := e.StartHeight + int64(params.EpochBlocks) - 1
	lo := max(h+1, e.StartHeight)
	if lo > last {
		cur.Done = true
		return k.Cursor.Set(ctx, cur)
	}
	var owner sdk.AccAddress
	if cur.Provider != "" {
		if owner, err = k.addressCodec.StringToBytes(cur.Provider); err != nil {
			return err
		}
	}
	refs, done, err := k.provider.NodesAfter(ctx, owner, cur.NodeId, int(params.ScheduleScanPerBlock))
	if err != nil {
		return err
	}
	threshold := sampleThreshold(params.SampleRate)
	// A node is checked this epoch whatever the draw if a verification
	// would lapse before a check issued in the next epoch could finish.
	recheckBy := last + int64(params.EpochBlocks+params.CommitDeadlineBlocks+uint64(params.OpeningBlocks)+params.RevealWindowBlocks) //nolint:gosec // bounded params
	for _, ref := range refs {
		cur.NodesExamined++
		cur.Provider, cur.NodeId = ref.Owner.String(), ref.Node.Id
		if !challengeable(ref.Node) {
			continue
		}
		r := sampleHash(e.Seed, ref.Owner, ref.Node.Id)
		draw := new(big.Int).SetUint64(binary.BigEndian.Uint64(r[0:8]))
		if draw.Cmp(threshold) >= 0 && !needsCheck(ref.Node, params.VerificationTtlBlocks, recheckBy) {
			continue
		}
		at := checkHeight(e, params, ref.Owner, lo, last)
		if err := k.Schedule.Set(ctx, collections.Join3(at, ref.Owner, ref.Node.Id)); err != nil {
			return err
		}
		cur.NodesScheduled++
	}
	cur.Done = done
	return k.Cursor.Set(ctx, cur)
}

// issueScheduled issues the capacity challenges planned for this height or
// earlier, oldest first, at most max_due_per_block of them (the rest are
// issued in the next blocks). A node is skipped when its provider is no
// longer active or not eligible in x/stakingslash (jailed, or bonded below
// what its GPUs require: it earns nothing, so a check would only cost the
// chain), when it still has an unresolved challenge, or when it has no
// idle GPU of a known class left.
func (k *Keeper) issueScheduled(ctx context.Context, params types.Params) error {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	var due []collections.Triple[int64, sdk.AccAddress, string]
	rng := collections.NewPrefixUntilTripleRange[int64, sdk.AccAddress, string](h)
	err := k.Schedule.Walk(ctx, rng,
		func(key collections.Triple[int64, sdk.AccAddress, string]) (bool, error) {
			due = append(due, key)
			return uint32(len(due)) >= params.MaxDuePerBlock, nil
		})
	if err != nil {
		return err
	}
	if len(due) == 0 {
		return nil
	}
	providerParams, err := k.provider.GetParams(ctx)
	if err != nil {
		return err
	}
	for _, key := range due {
		if err := k.Schedule.Remove(ctx, key); err != nil {
			return err
		}
		owner, nodeID := key.K2(), key.K3()
		if active, err := k.isActive(ctx, owner); err != nil || !active {
			if err != nil {
				return err
			}
			continue
		}
		if eligible, err := k.stakingslash.IsEligible(ctx, owner); err != nil || !eligible {
			if err != nil {
				return err
			}
			continue
		}
		if has, err := k.NodeChallenge.Has(ctx, collections.Join(owner, nodeID)); err != nil || has {
			if err != nil {
				return err
			}
			continue
		}
		node, found, err := k.provider.GetNode(ctx, owner, nodeID)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		var idle []providertypes.GPU
		for _, g := range node.Gpus {
			if g.AllocatedTo == "" {
				idle = append(idle, g)
			}
		}
		gpus := challengedGPUs(providerParams, nodeID, idle)
		if len(gpus) == 0 {
			continue
		}
		if _, err := k.issue(ctx, params, types.CHALLENGE_KIND_CAPACITY, owner, nodeID, gpus, nil); err != nil {
			return err
		}
	}
	return nil
}
