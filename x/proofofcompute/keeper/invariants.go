package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// The invariants use sdk.Invariant, deprecated together with x/crisis; the
// checks stay useful in tests and simulations (CheckInvariants). They walk
// the whole store: only tests and simulations call them.

// AllInvariants runs every invariant of the module and reports the first
// broken one.
func AllInvariants(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		for _, inv := range []sdk.Invariant{ //nolint:staticcheck // see above
			ModuleAccountInvariant(k), RewardsInvariant(k), QueuesInvariant(k), DisputesInvariant(k),
			WeightsInvariant(k), VerificationQueueInvariant(k),
		} {
			if msg, broken := inv(ctx); broken {
				return msg, broken
			}
		}
		return "", false
	}
}

// CheckInvariants runs every invariant and returns the first violation.
func (k *Keeper) CheckInvariants(ctx context.Context) error {
	if msg, broken := AllInvariants(k)(sdk.UnwrapSDKContext(ctx)); broken {
		return errors.New(msg)
	}
	return nil
}

func broken(name, format string, args ...any) (string, bool) {
	return sdk.FormatInvariant(types.ModuleName, name, fmt.Sprintf(format, args...)), true //nolint:staticcheck // see above
}

// ModuleAccountInvariant checks that the module account holds exactly the
// rewards minted and not claimed plus the fees of the open disputes.
func ModuleAccountInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		pool, err := k.pool(ctx)
		if err != nil {
			return broken("module-account", "reward pool: %s", err)
		}
		want := sdk.NewCoins()
		if pool.Denom != "" {
			want = want.Add(sdk.NewCoin(pool.Denom, pool.Minted.Sub(pool.Claimed)))
		}
		if err := k.Disputes.Walk(ctx, nil, func(_ collections.Triple[sdk.AccAddress, uint64, uint64], d types.Dispute) (bool, error) {
			if d.State == types.DISPUTE_STATE_OPEN {
				want = want.Add(d.Fee)
			}
			return false, nil
		}); err != nil {
			return broken("module-account", "walk disputes: %s", err)
		}
		have := k.bankKeeper.GetAllBalances(ctx, k.moduleAddress())
		if !have.Equal(want) {
			return broken("module-account", "module account holds %q, but unclaimed rewards + open dispute fees = %q", have, want)
		}
		return "", false
	}
}

// RewardsInvariant checks the reward index exactly: the providers' weights
// add up to the pool's total, and everything the providers are owed
// (accrued plus weight × (index − snapshot), exact decimals) plus the
// carry equals minted − claimed.
func RewardsInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		pool, err := k.pool(ctx)
		if err != nil {
			return broken("rewards", "reward pool: %s", err)
		}
		var weight uint64
		owed := math.LegacyZeroDec()
		claimed := math.ZeroInt()
		if err := k.Rewards.Walk(ctx, nil, func(_ sdk.AccAddress, r types.ProviderReward) (bool, error) {
			weight += r.Weight
			settle(pool, &r)
			owed = owed.Add(r.Accrued)
			claimed = claimed.Add(r.Claimed)
			return false, nil
		}); err != nil {
			return broken("rewards", "walk rewards: %s", err)
		}
		if weight != pool.TotalWeight {
			return broken("rewards", "providers' weights sum to %d, pool total_weight is %d", weight, pool.TotalWeight)
		}
		if !claimed.Equal(pool.Claimed) {
			return broken("rewards", "providers claimed %s in all, pool says %s", claimed, pool.Claimed)
		}
		outstanding := math.LegacyNewDecFromInt(pool.Minted.Sub(pool.Claimed))
		if !owed.Add(pool.Carry).Equal(outstanding) {
			return broken("rewards", "owed %s + carry %s != minted %s − claimed %s", owed, pool.Carry, pool.Minted, pool.Claimed)
		}
		return "", false
	}
}

// QueuesInvariant checks that every unresolved challenge sits in exactly
// the queue its state needs (ISSUED/COMMITTED: open queue at its opening
// height; OPENED: reveal queue at its deadline), that every queue entry
// and node entry points at such a challenge, and that no resolved
// challenge is queued.
func QueuesInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		var msg string
		check := func(queue collections.KeySet[collections.Pair[int64, uint64]], name string, ok func(types.Challenge, int64) bool) int {
			n := 0
			err := queue.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
				n++
				c, err := k.Challenges.Get(ctx, key.K2())
				if err != nil || !ok(c, key.K1()) {
					msg = fmt.Sprintf("%s entry (%d, %d) does not match challenge (state %s, err %v)", name, key.K1(), key.K2(), c.State, err)
					return true, nil
				}
				return false, nil
			})
			if err != nil {
				msg = err.Error()
			}
			return n
		}
		opens := check(k.OpenQueue, "open queue", func(c types.Challenge, h int64) bool {
			return (c.State == types.CHALLENGE_STATE_ISSUED || c.State == types.CHALLENGE_STATE_COMMITTED) && c.OpenedHeight() == h
		})
		reveals := check(k.RevealQueue, "reveal queue", func(c types.Challenge, h int64) bool {
			return c.State == types.CHALLENGE_STATE_OPENED && c.RevealDeadlineHeight == h
		})
		if msg != "" {
			return broken("queues", "%s", msg)
		}
		var unresolvedOpen, unresolvedReveal int
		if err := k.Challenges.Walk(ctx, nil, func(_ uint64, c types.Challenge) (bool, error) {
			switch c.State {
			case types.CHALLENGE_STATE_ISSUED, types.CHALLENGE_STATE_COMMITTED:
				unresolvedOpen++
			case types.CHALLENGE_STATE_OPENED:
				unresolvedReveal++
			}
			return false, nil
		}); err != nil {
			return broken("queues", "walk challenges: %s", err)
		}
		if opens != unresolvedOpen || reveals != unresolvedReveal {
			return broken("queues", "queues hold %d/%d entries for %d/%d unresolved challenges (open/reveal)",
				opens, reveals, unresolvedOpen, unresolvedReveal)
		}
		if err := k.NodeChallenge.Walk(ctx, nil, func(key collections.Pair[sdk.AccAddress, string], id uint64) (bool, error) {
			c, err := k.Challenges.Get(ctx, id)
			if err != nil || c.Resolved() || c.Kind != types.CHALLENGE_KIND_CAPACITY || c.NodeId != key.K2() || c.Provider != key.K1().String() {
				msg = fmt.Sprintf("node entry (%s, %s) → %d is not that node's unresolved capacity challenge", key.K1(), key.K2(), id)
				return true, nil
			}
			return false, nil
		}); err != nil {
			return broken("queues", "walk node challenges: %s", err)
		}
		if msg != "" {
			return broken("queues", "%s", msg)
		}
		return "", false
	}
}

// DisputesInvariant checks that a lease's open-dispute entry and its OPEN
// dispute match one to one, and that an open dispute's challenge is
// unresolved.
func DisputesInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		open := 0
		var msg string
		if err := k.Disputes.Walk(ctx, nil, func(key collections.Triple[sdk.AccAddress, uint64, uint64], d types.Dispute) (bool, error) {
			if d.State != types.DISPUTE_STATE_OPEN {
				return false, nil
			}
			open++
			id, err := k.OpenDisputes.Get(ctx, collections.Join(key.K1(), key.K2()))
			c, cerr := k.Challenges.Get(ctx, key.K3())
			if err != nil || id != key.K3() || cerr != nil || c.Resolved() {
				msg = fmt.Sprintf("open dispute of lease %s/%d (challenge %d) is not indexed or its challenge is resolved", key.K1(), key.K2(), key.K3())
				return true, nil
			}
			return false, nil
		}); err != nil {
			return broken("disputes", "walk disputes: %s", err)
		}
		if msg != "" {
			return broken("disputes", "%s", msg)
		}
		indexed := 0
		if err := k.OpenDisputes.Walk(ctx, nil, func(collections.Pair[sdk.AccAddress, uint64], uint64) (bool, error) {
			indexed++
			return false, nil
		}); err != nil {
			return broken("disputes", "walk open disputes: %s", err)
		}
		if indexed != open {
			return broken("disputes", "%d open-dispute entries for %d open disputes", indexed, open)
		}
		return "", false
	}
}

// WeightsInvariant checks that nobody earns who may not: a provider whose
// stored reward weight is positive is active, not jailed and lists
// verified idle GPUs now. (What a governance proposal changes without a
// per-provider walk — min_bond_per_gpu, a class's reward weight — reaches a
// provider's weight at its next update, so the bond and the exact value are
// not compared here; every slash, jail, bond and unbond refreshes the
// weight in its own block.)
func WeightsInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		var problems []string
		err := k.Rewards.Walk(ctx, nil, func(provider sdk.AccAddress, r types.ProviderReward) (bool, error) {
			if r.Weight == 0 {
				return false, nil
			}
			active, err := k.isActive(ctx, provider)
			if err != nil {
				return true, err
			}
			jailed, err := k.stakingslash.IsJailed(ctx, provider)
			if err != nil {
				return true, err
			}
			earning, err := k.provider.EarningGPUsOf(ctx, provider)
			if err != nil {
				return true, err
			}
			if !active || jailed || len(earning) == 0 {
				problems = append(problems, fmt.Sprintf("%s has reward weight %d while active %t, jailed %t, with %d classes of verified idle GPUs",
					r.Provider, r.Weight, active, jailed, len(earning)))
			}
			return false, nil
		})
		if err != nil {
			return broken("weights", "walk rewards: %s", err)
		}
		if len(problems) > 0 {
			return broken("weights", "%v", problems)
		}
		return "", false
	}
}

// VerificationQueueInvariant checks that every node listing a verified GPU
// is in the verification queue, so every verification lapses. (A node is
// queued at its check's expiry under the TTL in force when it passed; a
// TTL lowered by governance applies to later checks, so the queued height
// is not compared with the current TTL.)
func VerificationQueueInvariant(k *Keeper) sdk.Invariant { //nolint:staticcheck // see above
	return func(ctx sdk.Context) (string, bool) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			return broken("verification-queue", "params: %s", err)
		}
		first := make(map[string]bool)
		err = k.VerificationExpiry.Walk(ctx, nil, func(key collections.Triple[int64, sdk.AccAddress, string]) (bool, error) {
			first[key.K2().String()+"/"+key.K3()] = true
			return false, nil
		})
		if err != nil {
			return broken("verification-queue", "walk queue: %s", err)
		}
		var owner sdk.AccAddress
		var nodeID string
		for {
			refs, done, err := k.provider.NodesAfter(ctx, owner, nodeID, 1000)
			if err != nil {
				return broken("verification-queue", "walk nodes: %s", err)
			}
			for _, ref := range refs {
				owner, nodeID = ref.Owner, ref.Node.Id
				for _, g := range ref.Node.Gpus {
					if !g.Verified {
						continue
					}
					if _, ok := first[ref.Owner.String()+"/"+ref.Node.Id]; !ok {
						return broken("verification-queue", "GPU %s of %s/%s verified at %d (ttl %d) is not queued to expire",
							g.Uuid, ref.Owner, ref.Node.Id, g.VerifiedHeight, params.VerificationTtlBlocks)
					}
				}
			}
			if done {
				return "", false
			}
		}
	}
}
