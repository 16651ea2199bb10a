package keeper

import (
	"context"
	"fmt"
	"time"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// EndBlocker runs the module's clock. Every step reads only what is due at
// this height, and every queue at most max_due_per_block entries, so a
// block's work is bounded by the params, never by the number of providers,
// GPUs or leases:
//
//  0. this block's hash is kept for the multi-block openings, and the
//     verifications that lapsed by this height are expired;
//  1. the running epoch's GPU-second totals advance to the block time (a
//     handful of supply counters);
//  2. this block's share of the epoch's issuance is minted into the
//     reward index, over the weights in force now; at the epoch's last
//     block its utilization is fixed (setting the next epoch's issuance)
//     and the next epoch starts;
//  3. the schedule builder examines the next nodes;
//  4. the capacity challenges planned for this height are issued;
//  5. challenges at their opening height are opened (or missed);
//  6. challenges at their reveal deadline with GPUs unrevealed fail.
func (k *Keeper) EndBlocker(ctx context.Context) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	h := sdkCtx.BlockHeight()
	if err := k.recordBlockHash(ctx); err != nil {
		return err
	}
	// Lapsed verifications first, so that an epoch ending in this block
	// pays no GPU whose check has expired.
	if err := k.expireVerifications(ctx, params); err != nil {
		return err
	}
	e, found, err := k.currentEpoch(ctx)
	if err != nil {
		return err
	}
	if !found {
		if err := k.startEpoch(ctx, 1, h, sdkCtx.HeaderHash()); err != nil {
			return err
		}
	} else {
		if err := k.accrue(ctx, &e); err != nil {
			return err
		}
		if err := k.issueBlock(ctx, params, &e); err != nil {
			return err
		}
		if err := k.Epochs.Set(ctx, e.Number, e); err != nil {
			return err
		}
		if h >= e.StartHeight+int64(params.EpochBlocks)-1 {
			if err := k.endEpoch(ctx, params, e); err != nil {
				return err
			}
		}
	}
	if e, _, err = k.currentEpoch(ctx); err != nil {
		return err
	}
	if err := k.scheduleStep(ctx, params, e); err != nil {
		return err
	}
	if err := k.issueScheduled(ctx, params); err != nil {
		return err
	}
	if err := k.processQueue(ctx, k.OpenQueue, h, params.MaxDuePerBlock, func(ctx context.Context, c types.Challenge) error {
		return k.open(ctx, params, c)
	}); err != nil {
		return err
	}
	return k.processQueue(ctx, k.RevealQueue, h, params.MaxDuePerBlock, k.revealDeadline)
}

// processQueue handles the challenges queued at a height ≤ h, oldest
// first, at most limit of them; the rest wait for the next block (an
// opening then draws from the same block hashes, and a reveal deadline
// still refuses late reveals by height). Each one runs in its own cached
// context: if its side effects fail (a slash or a
// lease close returning an error), they are dropped, the error is
// recorded on the challenge and logged, and the chain goes on — a bug in
// one outcome must not halt block production.
func (k *Keeper) processQueue(ctx context.Context, queue collections.KeySet[collections.Pair[int64, uint64]], h int64,
	limit uint32, fn func(context.Context, types.Challenge) error,
) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	var due []collections.Pair[int64, uint64]
	err := queue.Walk(ctx, new(collections.Range[collections.Pair[int64, uint64]]).EndInclusive(collections.Join(h, uint64(1<<64-1))),
		func(key collections.Pair[int64, uint64]) (bool, error) {
			due = append(due, key)
			return uint32(len(due)) >= limit, nil
		})
	if err != nil {
		return err
	}
	for _, key := range due {
		if err := queue.Remove(ctx, key); err != nil {
			return err
		}
		c, err := k.Challenges.Get(ctx, key.K2())
		if err != nil {
			return err
		}
		cacheCtx, write := sdkCtx.CacheContext()
		if err := fn(cacheCtx, c); err != nil {
			sdkCtx.Logger().Error("proof-of-compute: challenge outcome failed; recorded without side effects",
				"challenge", c.Id, "err", err)
			state := types.CHALLENGE_STATE_FAILED
			if c.State == types.CHALLENGE_STATE_ISSUED {
				state = types.CHALLENGE_STATE_MISSED
			}
			if _, err := k.finish(ctx, c, state, fmt.Sprintf("outcome not applied: %s", err)); err != nil {
				return err
			}
			continue
		}
		write()
	}
	return nil
}

// secondsDuration converts whole seconds to a duration.
func secondsDuration(s uint64) time.Duration { return time.Duration(s) * time.Second }
