package keeper

import (
	"context"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// A passed check keeps a GPU verified for verification_ttl_blocks. The
// verification queue holds (expiry height, provider, node) for every node
// with GPUs verified by a check; EndBlock visits the entries due (at most
// max_due_per_block of them) and unverifies the node's GPUs whose check is
// older than the TTL, so a GPU that is never checked again (leased, gone,
// or its provider ignoring the schedule) stops earning. A node whose GPUs
// were re-verified since is left alone: its newer check queued its own
// entry. The schedule forces a check of every node whose verification
// would lapse before a check issued in the next epoch could finish
// (needsCheck), so an honest, idle GPU is re-verified before its TTL runs
// out: with D = commit deadline + opening blocks + reveal window and E the
// epoch length, a verification expiring after the end of the next epoch +
// D outlasts a check issued anywhere in this epoch, which an honest
// provider finishes within D blocks.

// queueExpiry queues the nodes of the GPUs a passed challenge verified.
func (k *Keeper) queueExpiry(ctx context.Context, provider sdk.AccAddress, c types.Challenge, verified []string) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	at := sdk.UnwrapSDKContext(ctx).BlockHeight() + int64(params.VerificationTtlBlocks) //nolint:gosec // ≤ MaxVerificationTTLBlocks
	listed := make(map[string]bool, len(verified))
	for _, u := range verified {
		listed[u] = true
	}
	var last string
	for _, g := range c.Gpus { // the challenge's order; a node's GPUs are adjacent
		if !listed[g.Uuid] || g.NodeId == last {
			continue
		}
		// Verified GPUs are still listed on the node they were challenged
		// on (unchangedGPUs), for capacity checks and disputes alike.
		last = g.NodeId
		if err := k.VerificationExpiry.Set(ctx, collections.Join3(at, provider, g.NodeId)); err != nil {
			return err
		}
	}
	return nil
}

// expireVerifications handles the verification queue entries due at this
// height, oldest first, at most max_due_per_block of them; the rest wait
// for the next block (a GPU then stays verified a block longer, never
// longer than the backlog).
func (k *Keeper) expireVerifications(ctx context.Context, params types.Params) error {
	h := sdk.UnwrapSDKContext(ctx).BlockHeight()
	rng := collections.NewPrefixUntilTripleRange[int64, sdk.AccAddress, string](h)
	var due []collections.Triple[int64, sdk.AccAddress, string]
	err := k.VerificationExpiry.Walk(ctx, rng, func(key collections.Triple[int64, sdk.AccAddress, string]) (bool, error) {
		due = append(due, key)
		return uint32(len(due)) >= params.MaxDuePerBlock, nil
	})
	if err != nil {
		return err
	}
	for _, key := range due {
		if err := k.VerificationExpiry.Remove(ctx, key); err != nil {
			return err
		}
		if err := k.expireNode(ctx, params, key.K2(), key.K3(), h); err != nil {
			return err
		}
	}
	return nil
}

// expireNode unverifies the node's GPUs whose check is at least
// verification_ttl_blocks old at height h, and re-queues the node at the
// expiry of its freshest remaining check when that is later (the TTL may
// have grown since the entry was queued).
func (k *Keeper) expireNode(ctx context.Context, params types.Params, provider sdk.AccAddress, nodeID string, h int64) error {
	node, found, err := k.provider.GetNode(ctx, provider, nodeID)
	if err != nil || !found {
		return err
	}
	ttl := int64(params.VerificationTtlBlocks) //nolint:gosec // ≤ MaxVerificationTTLBlocks
	var expired []string
	var next int64
	for _, g := range node.Gpus {
		if !g.Verified {
			continue
		}
		if at := g.VerifiedHeight + ttl; at <= h {
			expired = append(expired, g.Uuid)
		} else if next == 0 || at < next {
			next = at
		}
	}
	if next > 0 {
		if err := k.VerificationExpiry.Set(ctx, collections.Join3(next, provider, nodeID)); err != nil {
			return err
		}
	}
	if len(expired) == 0 {
		return nil
	}
	if err := k.provider.SetGPUsVerified(ctx, provider, expired, false); err != nil {
		return err
	}
	return k.refreshWeight(ctx, provider)
}

// needsCheck reports whether a node must be challenged this epoch whatever
// the sampling draw: it has an idle GPU of a known class that is not
// verified, or whose verification lapses by height recheckBy (the end of
// the next epoch plus a challenge's duration).
func needsCheck(n providertypes.Node, ttl uint64, recheckBy int64) bool {
	for _, g := range n.Gpus {
		if g.AllocatedTo != "" || g.Class == providertypes.UnknownClass {
			continue
		}
		if !g.Verified || g.VerifiedHeight+int64(ttl) <= recheckBy { //nolint:gosec // ≤ MaxVerificationTTLBlocks
			return true
		}
	}
	return false
}

// rebuildExpiry queues every node that lists a verified GPU at the expiry
// of its oldest check, after a genesis import (the queue is derived state).
func (k *Keeper) rebuildExpiry(ctx context.Context, params types.Params) error {
	ttl := int64(params.VerificationTtlBlocks) //nolint:gosec // ≤ MaxVerificationTTLBlocks
	var owner sdk.AccAddress
	var nodeID string
	for {
		refs, done, err := k.provider.NodesAfter(ctx, owner, nodeID, 1000)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			owner, nodeID = ref.Owner, ref.Node.Id
			var first int64
			for _, g := range ref.Node.Gpus {
				if g.Verified && (first == 0 || g.VerifiedHeight+ttl < first) {
					first = g.VerifiedHeight + ttl
				}
			}
			if first > 0 {
				if err := k.VerificationExpiry.Set(ctx, collections.Join3(first, ref.Owner, ref.Node.Id)); err != nil {
					return err
				}
			}
		}
		if done {
			return nil
		}
	}
}
