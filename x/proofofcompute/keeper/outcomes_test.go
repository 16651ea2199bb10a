package keeper_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Roots that do not hash to the commitment fail the challenge: slashed by
// the wrong-opening fraction and jailed.
func TestWrongRootsFail(t *testing.T) {
	f := newPoC(t)
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "poc-roots")
	c, proofs := f.commitAndOpen(p1, f.nextChallenge(p1))
	before := f.bonded(p1.Address)
	msg := f.revealMsg(c, proofs, 0)
	msg.Roots[0][7] ^= 0x80
	f.deliver(p1, msg)
	c = f.challenge(c.Id)
	require.Equal(t, types.CHALLENGE_STATE_FAILED, c.State)
	require.Contains(t, c.Failure, "roots do not hash to the commitment")
	f.requireSlashed(p1.Address, before, f.slashParams().WrongOpening.SlashFraction)
	f.invariants()
}

// A GPU that computes a wrong product and commits to it consistently (a
// valid tree over wrong entries) passes the path check and is caught by the
// recomputed dot product.
func TestConsistentlyWrongProductFails(t *testing.T) {
	f := newPoC(t)
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "poc-lie")
	c := f.nextChallenge(p1)
	proofs := f.prove(c)
	// GPU 0 lies on every entry.
	liar := f.proveWith(c, 0, offByOne{challenge.CPUMultiplier(0)})
	proofs[0] = liar
	f.deliver(p1, commitMsg(c, proofs))
	f.advanceTo(c.OpenedHeight())
	c = f.challenge(c.Id)
	before := f.bonded(p1.Address)

	msg := f.revealMsg(c, proofs, 0)
	// The liar's leaves: the honest leaf (recomputed by Open) plus one per
	// entry, as its tree holds them.
	for i := range msg.Openings {
		leaf := msg.Openings[i].Leaf
		for e := 0; e < 16; e++ {
			binary.LittleEndian.PutUint32(leaf[4*e:], binary.LittleEndian.Uint32(leaf[4*e:])+1)
		}
	}
	f.deliver(p1, msg)
	c = f.challenge(c.Id)
	require.Equal(t, types.CHALLENGE_STATE_FAILED, c.State)
	require.Contains(t, c.Failure, "opened entry differs from the recomputed product")
	f.requireSlashed(p1.Address, before, f.slashParams().WrongOpening.SlashFraction)
	f.invariants()
}

// A commitment after the deadline is refused; at the opening height the
// challenge is missed: counted toward the missed-commit limit (no slash,
// no jail below it) and the challenged GPUs are not verified.
func TestLateCommitIsRefusedAndTheChallengeMissed(t *testing.T) {
	f := newPoC(t)
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "poc-late")
	c := f.nextChallenge(p1)
	proofs := f.prove(c)
	before := f.bonded(p1.Address)
	f.advanceTo(c.CommitDeadlineHeight) // the next block is past the deadline
	res := f.a.DeliverTx(p1, commitMsg(c, proofs))
	require.Equal(t, types.ErrDeadlinePassed.ABCICode(), res.Code, res.Log)
	require.Contains(t, res.Log, "commit deadline was height")
	require.Equal(t, types.CHALLENGE_STATE_ISSUED, f.challenge(c.Id).State, "refused: still waiting")
	f.advanceTo(c.OpenedHeight())
	c = f.challenge(c.Id)
	require.Equal(t, types.CHALLENGE_STATE_MISSED, c.State, "missed when the openings would have been drawn")
	require.Contains(t, c.Failure, "no commitment by height")

	col, _, err := f.a.StakingSlashKeeper.GetCollateral(f.a.Ctx(), p1.Address)
	require.NoError(t, err)
	require.Len(t, col.MissedCommits, 1, "the miss is counted")
	require.Equal(t, before, f.bonded(p1.Address))
	require.False(t, f.jailed(p1.Address))
	require.Zero(t, mustProvider(t, f, p1.Address).Stats.VerifiedGpus)
	f.invariants()
}

// Committing and not revealing every GPU in the window fails the challenge
// as an unopened commitment: slashed by that fraction and jailed.
func TestMissingRevealFailsAsUnopened(t *testing.T) {
	f := newPoC(t)
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "poc-unopened")
	c, proofs := f.commitAndOpen(p1, f.nextChallenge(p1))
	before := f.bonded(p1.Address)
	f.deliver(p1, f.revealMsg(c, proofs, 0)) // GPU 0 only
	f.advanceTo(c.RevealDeadlineHeight - 1)
	require.Equal(t, types.CHALLENGE_STATE_OPENED, f.challenge(c.Id).State, "still open inside the window")
	f.advanceTo(c.RevealDeadlineHeight)
	c = f.challenge(c.Id)
	require.Equal(t, types.CHALLENGE_STATE_FAILED, c.State)
	require.Contains(t, c.Failure, "7 of 8 GPUs not revealed")
	f.requireSlashed(p1.Address, before, f.slashParams().UnopenedCommit.SlashFraction)
	f.invariants()
}

// Proof messages that do not fit the challenge are refused and change
// nothing: a second commitment, a reveal before the opening height,
// someone else's challenge, a malformed reveal, a duplicate reveal.
func TestProofRefusals(t *testing.T) {
	f := newPoC(t)
	p1, p2 := f.a.Account("provider1"), f.a.Account("provider2")
	f.onboard("provider1", "poc-refusals")
	c := f.nextChallenge(p1)
	proofs := f.prove(c)
	f.deliver(p1, commitMsg(c, proofs))
	res := f.a.DeliverTx(p1, commitMsg(c, proofs))
	require.Equal(t, types.ErrWrongState.ABCICode(), res.Code, "a second commitment")

	early := &types.MsgRevealProof{Provider: c.Provider, ChallengeId: c.Id, Roots: [][]byte{make([]byte, 32)},
		Openings: []types.Opening{{Leaf: make([]byte, 64), Siblings: [][]byte{make([]byte, 32)}}}}
	res = f.a.DeliverTx(p1, early)
	require.Equal(t, types.ErrWrongState.ABCICode(), res.Code, "a reveal before the opening height")
	require.Contains(t, res.Log, "CHALLENGE_STATE_COMMITTED")

	f.advanceTo(c.OpenedHeight())
	c = f.challenge(c.Id)
	msg := f.revealMsg(c, proofs, 0)
	stolen := *msg
	stolen.Provider = p2.Address.String()
	res = f.a.DeliverTx(p2, &stolen)
	require.Equal(t, types.ErrNotChallenged.ABCICode(), res.Code, "someone else's challenge")

	short := f.revealMsg(c, proofs, 1)
	short.Openings[2].Siblings = short.Openings[2].Siblings[1:]
	res = f.a.DeliverTx(p1, short)
	require.Equal(t, types.ErrInvalidReveal.ABCICode(), res.Code)
	require.Contains(t, res.Log, "openings[2].siblings: want 12 hashes, got 11")

	f.deliver(p1, msg)
	res = f.a.DeliverTx(p1, msg)
	require.Equal(t, types.ErrDuplicateReveal.ABCICode(), res.Code, "a duplicate reveal")
	c = f.challenge(c.Id)
	require.Equal(t, types.CHALLENGE_STATE_OPENED, c.State, "refusals change nothing")
	require.True(t, c.Gpus[0].Revealed)
	require.False(t, c.Gpus[1].Revealed)
	require.False(t, f.jailed(p1.Address))
	f.invariants()
}

// A capacity failure closes the leases on the challenged node (reason
// PROVIDER_SLASHED, the tenant refunded); only the node's idle GPUs were
// challenged.
func TestCapacityFailureClosesTheNodesLeases(t *testing.T) {
	f := newPoC(t)
	p1, alice := f.a.Account("provider1"), f.a.Account("alice")
	node := f.onboard("provider1", "poc-leases")
	id := f.lease(alice, p1, node.Gpus[0].Uuid, node.Gpus[1].Uuid)
	usdc := f.a.BankKeeper.GetBalance(f.a.Ctx(), alice.Address, app.StableDenom)

	c, proofs := f.commitAndOpen(p1, f.nextChallenge(p1))
	require.Len(t, c.Gpus, 6, "leased GPUs are not capacity-checked")
	for _, g := range c.Gpus {
		require.NotContains(t, []string{node.Gpus[0].Uuid, node.Gpus[1].Uuid}, g.Uuid)
	}
	bad := f.revealMsg(c, proofs, 0)
	bad.Openings[0].Leaf[0] ^= 1
	f.deliver(p1, bad)

	lease, err := f.a.MarketKeeper.GetLease(f.a.Ctx(), id)
	require.NoError(t, err)
	require.Equal(t, markettypes.LEASE_STATE_CLOSED, lease.State)
	require.Equal(t, markettypes.LEASE_CLOSE_REASON_PROVIDER_SLASHED, lease.CloseReason)
	acct, err := f.a.EscrowKeeper.GetAccount(f.a.Ctx(), alice.Address, id.Seq)
	require.NoError(t, err)
	require.True(t, acct.Refunded.IsPositive())
	require.Equal(t, usdc.Amount.Add(acct.Refunded), f.a.BankKeeper.GetBalance(f.a.Ctx(), alice.Address, app.StableDenom).Amount)
	f.invariants()
}

// A jailed provider's nodes are not challenged; nor is a node whose GPUs
// are all leased.
func TestWhoIsNotChallenged(t *testing.T) {
	f := newPoC(t)
	p1, p2, alice := f.a.Account("provider1"), f.a.Account("provider2"), f.a.Account("alice")
	f.onboard("provider1", "poc-jailed")
	node2 := f.onboard("provider2", "poc-busy")
	// provider2 leases out all 8 GPUs in four leases of 2.
	for g := 0; g < 8; g += 2 {
		f.lease(alice, p2, node2.Gpus[g].Uuid, node2.Gpus[g+1].Uuid)
	}
	c, proofs := f.commitAndOpen(p1, f.nextChallenge(p1))
	bad := f.revealMsg(c, proofs, 0)
	bad.Openings[0].Leaf[0] ^= 1
	f.deliver(p1, bad)
	require.True(t, f.jailed(p1.Address))

	params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(t, err)
	f.advanceTo(f.height() + 2*int64(params.EpochBlocks))
	n := 0
	require.NoError(t, f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(_ uint64, ch types.Challenge) (bool, error) {
		if ch.Provider == p2.Address.String() || ch.Id != c.Id {
			n++
		}
		return false, nil
	}))
	require.Zero(t, n, "no challenge for the jailed provider1 or the fully leased provider2")
	f.invariants()
}

// proveWith computes GPU g's proof with another multiplier.
func (f *pocFixture) proveWith(c types.Challenge, g int, mul challenge.Multiplier) *challenge.GPUProof {
	f.t.Helper()
	key, err := c.GPUKey(apptest.ChainID, g)
	require.NoError(f.t, err)
	p, err := challenge.Prove(context.Background(), key, c.Gpus[g].ChallengeParams(c.Openings), mul, challenge.ProverOptions{})
	require.NoError(f.t, err)
	return p
}

// lease has tenant take an instant one-hour order for the given GPUs of
// provider (2 × h100 at 2 USDC per GPU-hour) and returns the lease id.
func (f *pocFixture) lease(tenant, provider apptest.Account, uuids ...string) markettypes.OrderID {
	f.t.Helper()
	usdc := func(n int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, math.NewInt(n)) }
	last, err := f.a.MarketKeeper.TenantSeqs.Get(f.a.Ctx(), tenant.Address)
	if errors.Is(err, collections.ErrNotFound) {
		last, err = 0, nil
	}
	require.NoError(f.t, err)
	seq := last + 1
	f.deliver(tenant, &markettypes.MsgCreateOrder{Tenant: tenant.Address.String(),
		Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: uint32(len(uuids)), Nodes: 1},
		MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(5_000_000), DurationSeconds: 3600})
	id := markettypes.NewOrderID(tenant.Address, seq)
	f.deliver(provider, &markettypes.MsgCreateBid{Provider: provider.Address.String(), OrderId: id,
		PricePerGpuHour: usdc(2_000_000), Gpus: uuids, Deposit: sdk.NewCoin(app.BondDenom, math.NewInt(5_000_000))})
	l, err := f.a.MarketKeeper.GetLease(f.a.Ctx(), id)
	require.NoError(f.t, err)
	require.Equal(f.t, markettypes.LEASE_STATE_ACTIVE, l.State)
	return id
}
