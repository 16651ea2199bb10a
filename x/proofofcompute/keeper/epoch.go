package keeper

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/big"

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
	dt := uint64(now.Sub(e.LastAccrualTime).Seconds())
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

// endEpoch closes the running epoch at this block: final totals,
// utilization, issuance minted into the reward index; then the next epoch
// starts at the next block, seeded with this block's hash.
func (k *Keeper) endEpoch(ctx context.Context, params types.Params, e types.Epoch) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	e.EndHeight = sdkCtx.BlockHeight()
	e.EndTime = sdkCtx.BlockTime().UTC()
	e.Utilization = Utilization(e)
	minted, weight, err := k.distribute(ctx, Issuance(params, e.Utilization))
	if err != nil {
		return err
	}
	e.Issuance, e.TotalWeight = minted, weight
	if err := k.Epochs.Set(ctx, e.Number, e); err != nil {
		return err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventEpochEnded{Epoch: e}); err != nil {
		return err
	}
	return k.startEpoch(ctx, e.Number+1, e.EndHeight+1, sdkCtx.HeaderHash())
}

// sampleThreshold is sample_rate × 2^64: a node is sampled when the first
// 8 bytes of its sampling hash, read as a big-endian integer, are below it.
func sampleThreshold(rate math.LegacyDec) *big.Int {
	t := new(big.Int).Lsh(big.NewInt(1), 64)
	return rate.MulInt(math.NewIntFromBigInt(t)).TruncateInt().BigInt()
}

// sampleHash = H("gpumesh/poc/v1/sample" ‖ epoch seed ‖ u16be(len P) ‖ P
// ‖ u16be(len node) ‖ node): whether and when a node is checked this epoch,
// unknown before the epoch's seed block.
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
	span := uint64(last - lo + 1)
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
		at := lo + int64(binary.BigEndian.Uint64(r[8:16])%span)
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
