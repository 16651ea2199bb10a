package keeper_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Audit after the security round (issue 20): attacks on who earns capacity
// rewards. Each test asserts the safe behaviour and fails while the hole
// is open.

// auditRevealAll reveals every GPU of an opened challenge in one transaction
// and requires that it succeeded.
func (f *pocFixture) auditRevealAll(p apptest.Account, c types.Challenge, proofs []*challenge.GPUProof) {
	f.t.Helper()
	c = f.challenge(c.Id)
	msgs := make([]sdk.Msg, len(c.Gpus))
	for g := range c.Gpus {
		msgs[g] = f.revealMsg(c, proofs, g)
	}
	res := f.a.DeliverTx(p, msgs...)
	require.Equal(f.t, uint32(0), res.Code, res.Log)
}

// A challenge stores each GPU's class (and so its n and m) when it is
// issued, but its pass verified the challenged UUIDs as they were listed
// at the pass, whatever their class was by then. A provider lists four
// GPUs as RTX 4090s (reward weight 250, on a real chain a 32 768², m = 4
// check), is challenged at that class's size, commits, then relists the
// same UUIDs on the same node as H200s (weight 1 300, a 65 536², m = 2
// check) and reveals: the pass marked four "H200s" verified, earning
// 1 300 per GPU for the work of a 4090 check, and the provider could repeat
// the switch before each check it is scheduled for (the schedule is in
// state). Safe: a GPU whose class or node changed after the challenge was
// issued is not verified by it.
func TestAuditClassSwitchDuringChallengeEarnsTheNewClass(t *testing.T) {
	f := newPoC(t)
	p2 := f.a.Account("provider2")
	const seed = "audit-class-switch"
	cheap := fixtures.Node("ws-0", fixtures.GPUs(seed, fixtures.RTX4090, 0, 4)...)
	f.onboardNodes("provider2", []providertypes.Node{cheap}, f.requiredBond(4))

	c := f.nextChallenge(p2)
	for _, g := range c.Gpus {
		require.Equal(t, "rtx4090-24g", g.Class)
	}
	proofs := f.prove(c)
	f.deliver(p2, commitMsg(c, proofs))

	// Same UUIDs, same node, now declared H200 (class, PCI id and VRAM are
	// all self-declared).
	dear := fixtures.Node("ws-0", fixtures.GPUs(seed, fixtures.H200SXM, 0, 4)...)
	f.deliver(p2, &providertypes.MsgSetInventory{Owner: p2.Address.String(), Nodes: []providertypes.Node{dear}})

	f.advanceTo(c.OpenedHeight())
	f.auditRevealAll(p2, c, proofs)
	require.Equal(t, types.CHALLENGE_STATE_PASSED, f.challenge(c.Id).State)

	require.Zero(t, f.reward(p2.Address).Weight, "a 4090 check earns no H200 weight")
	for _, g := range dear.Gpus {
		require.False(t, f.gpu(g.Uuid).Verified,
			"GPU %s relisted as %s after an rtx4090-24g check must not be verified by it", g.Uuid, g.Class)
	}
	f.invariants()
}

// The verification queue is keyed by the challenge's node id, but the pass
// verifies a challenged GPU wherever the provider lists it at the pass.
// A provider moves one challenged GPU to a new node between the commit and
// the reveal: the pass marks it verified on the new node and queues only
// the old node to expire. The GPU is verified with no expiry entry, which
// breaks the verification-queue invariant (a node running with
// invariants-every > 0, as every local network and e2e run does, stops
// there: this test runs with invariants-every = 1 and the block of the
// reveal fails FinalizeBlock). Safe: the moved GPU is either not verified
// by the check or its node is queued, and the invariants hold.
func TestAuditGPUMovedDuringChallengeEscapesTheExpiryQueue(t *testing.T) {
	// As on a local network: invariants checked in every EndBlock.
	f := newPoC(t, apptest.WithAppOption(app.FlagInvariantsEvery, 1))
	p2 := f.a.Account("provider2")
	const seed = "audit-move"
	gpus := fixtures.GPUs(seed, fixtures.H100SXM, 0, 8)
	f.onboardNodes("provider2", []providertypes.Node{fixtures.Node("dgx-0", gpus...)}, f.requiredBond(8))

	c := f.nextChallenge(p2)
	require.Equal(t, "dgx-0", c.NodeId)
	proofs := f.prove(c)
	f.deliver(p2, commitMsg(c, proofs))
	moved := gpus[7]
	f.deliver(p2, &providertypes.MsgSetInventory{Owner: p2.Address.String(), Nodes: []providertypes.Node{
		fixtures.Node("dgx-0", gpus[:7]...), fixtures.Node("dgx-1", moved),
	}})

	f.advanceTo(c.OpenedHeight())
	f.auditRevealAll(p2, c, proofs)
	require.Equal(t, types.CHALLENGE_STATE_PASSED, f.challenge(c.Id).State)

	require.NoError(t, f.a.CheckInvariants(f.a.Ctx()))
	if f.gpu(moved.Uuid).Verified {
		queued := false
		require.NoError(t, f.a.ProofOfComputeKeeper.VerificationExpiry.Walk(f.a.Ctx(), nil,
			func(key collections.Triple[int64, sdk.AccAddress, string]) (bool, error) {
				if key.K2().Equals(p2.Address) && key.K3() == "dgx-1" {
					queued = true
				}
				return false, nil
			}))
		require.True(t, queued, "GPU %s verified on dgx-1 but dgx-1 is not queued to expire", moved.Uuid)
	}
	f.invariants()
}

// auditStep runs one block holding extra and, for every unresolved
// challenge, its provider's next honest step (commit when ISSUED, every
// reveal when OPENED), one transaction per provider; every transaction
// must succeed.
func (f *pocFixture) auditStep(proofs map[uint64][]*challenge.GPUProof, extra ...[]byte) {
	f.t.Helper()
	var signers []string
	msgs := map[string][]sdk.Msg{}
	require.NoError(f.t, f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(id uint64, c types.Challenge) (bool, error) {
		if c.Resolved() {
			return false, nil
		}
		if _, ok := msgs[c.Provider]; !ok {
			signers = append(signers, c.Provider)
			msgs[c.Provider] = nil
		}
		switch c.State {
		case types.CHALLENGE_STATE_ISSUED:
			proofs[id] = f.prove(c)
			msgs[c.Provider] = append(msgs[c.Provider], commitMsg(c, proofs[id]))
		case types.CHALLENGE_STATE_OPENED:
			for g := range c.Gpus {
				if !c.Gpus[g].Revealed {
					msgs[c.Provider] = append(msgs[c.Provider], f.revealMsg(c, proofs[id], g))
				}
			}
		}
		return false, nil
	}))
	txs := append([][]byte(nil), extra...)
	for _, s := range signers {
		if len(msgs[s]) > 0 {
			txs = append(txs, f.a.SignTx(f.accountOf(s), msgs[s]...))
		}
	}
	res := f.a.NextBlock(txs...)
	for _, r := range res.TxResults {
		require.Equal(f.t, uint32(0), r.Code, r.Log)
	}
}

// auditEpoch is the running epoch.
func (f *pocFixture) auditEpoch() types.Epoch {
	f.t.Helper()
	n, err := f.a.ProofOfComputeKeeper.CurrentEpoch.Get(f.a.Ctx())
	require.NoError(f.t, err)
	e, err := f.a.ProofOfComputeKeeper.Epochs.Get(f.a.Ctx(), n)
	require.NoError(f.t, err)
	return e
}

// auditLeaseAll has tenant take an instant one-hour order for all of uuids
// (h100 class) from provider and returns the lease id.
func (f *pocFixture) auditLeaseAll(tenant, provider apptest.Account, uuids ...string) markettypes.OrderID {
	f.t.Helper()
	usdc := func(n int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, math.NewInt(n)) }
	last, err := f.a.MarketKeeper.TenantSeqs.Get(f.a.Ctx(), tenant.Address)
	if errors.Is(err, collections.ErrNotFound) {
		last, err = 0, nil
	}
	require.NoError(f.t, err)
	id := markettypes.NewOrderID(tenant.Address, last+1)
	f.deliver(tenant, &markettypes.MsgCreateOrder{Tenant: tenant.Address.String(),
		Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: uint32(len(uuids)), Nodes: 1},
		MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(int64(len(uuids)) * 2_500_000), DurationSeconds: 3600})
	f.deliver(provider, &markettypes.MsgCreateBid{Provider: provider.Address.String(), OrderId: id,
		PricePerGpuHour: usdc(2_000_000), Gpus: uuids, Deposit: sdk.NewCoin(app.BondDenom, math.NewInt(5_000_000))})
	l, err := f.a.MarketKeeper.GetLease(f.a.Ctx(), id)
	require.NoError(f.t, err)
	require.Equal(f.t, markettypes.LEASE_STATE_ACTIVE, l.State)
	return id
}

// An epoch's issuance is shared by the reward weights as they stand in
// the epoch's last block, not over the epoch: a GPU idle for one block
// earns the whole epoch's share. Provider2 leases all eight of its
// verified GPUs to its own second account (alice) in the epoch's first
// blocks, so for the rest of the epoch it has no idle capacity, is never
// checked (leased GPUs are not challenged) and is paid by the lease; its
// second account closes the lease in the epoch's last block. At the
// epoch's end its weight is back and it gets exactly as much as provider1,
// whose GPUs were idle and checked through the whole epoch. ("A leased
// GPU is paid by its lease and earns no capacity reward" holds only at
// epoch ends.) Safe: a provider idle for 3 of the epoch's 20 blocks earns
// well under half of what one idle for all 20 earns.
func TestAuditIdleOnlyAtEpochEndEarnsTheWholeEpoch(t *testing.T) {
	f := newPoC(t)
	p1, p2, alice := f.a.Account("provider1"), f.a.Account("provider2"), f.a.Account("alice")
	f.onboard("provider1", "audit-snap-1")
	node2 := f.onboard("provider2", "audit-snap-2")
	proofs := map[uint64][]*challenge.GPUProof{}
	for f.reward(p1.Address).Weight == 0 || f.reward(p2.Address).Weight == 0 {
		require.Less(t, f.height(), int64(4*testEpochBlocks), "both providers get verified")
		f.auditStep(proofs)
	}
	// Run to the first block of a new epoch.
	for e := f.auditEpoch().Number; f.auditEpoch().Number == e; {
		f.auditStep(proofs)
	}
	e := f.auditEpoch()
	require.Equal(t, e.StartHeight, f.height()+1, "the next block is the epoch's first")
	a1, a2 := f.accrued(p1.Address), f.accrued(p2.Address)

	uuids := make([]string, len(node2.Gpus))
	for i, g := range node2.Gpus {
		uuids[i] = g.Uuid
	}
	id := f.auditLeaseAll(alice, p2, uuids...)
	require.Zero(t, f.reward(p2.Address).Weight, "all leased: no weight")
	last := e.StartHeight + testEpochBlocks - 1
	for f.height() < last-1 {
		f.auditStep(proofs)
	}
	// The epoch's last block: the second account ends the lease.
	f.auditStep(proofs, f.a.SignTx(alice, &markettypes.MsgCloseLease{Sender: alice.Address.String(), LeaseId: id}))
	require.Equal(t, e.Number+1, f.auditEpoch().Number, "the epoch ended in that block")

	d1, d2 := f.accrued(p1.Address).Sub(a1), f.accrued(p2.Address).Sub(a2)
	t.Logf("epoch %d: provider1 (idle 20 blocks) earned %s, provider2 (idle 3 blocks) earned %s", e.Number, d1, d2)
	require.True(t, d1.IsPositive())
	require.True(t, d2.LT(d1.QuoInt64(2)),
		"provider2 was idle 3 of 20 blocks and earned %s, provider1 idle all 20 earned %s", d2, d1)
	f.invariants()
}

// "Whole-node simultaneity (all idle GPUs at once, so one fast GPU cannot
// answer for eight)" holds per node only: every node is scheduled at its
// own height drawn from the epoch, and nothing stops a provider from
// listing one GPU per node (up to max_nodes_per_provider = 64 of them).
// Its checks then arrive one by one at heights spread over the epoch,
// known in advance from the schedule in state, and each needs compute only
// from its issue to its commit deadline. Here eight single-GPU nodes of one
// provider are checked in the first epochs; the test counts, at every
// height, how many of the provider's checks need compute at once (issue ≤
// height ≤ commit deadline): that is how many real GPUs answering all of
// them requires. Safe: as many as the GPUs that earn (8) — a provider's
// GPUs are checked together.
func TestAuditOneGPUPerNodeAnswersForMany(t *testing.T) {
	f := newPoC(t)
	p2 := f.a.Account("provider2")
	const seed = "audit-spread"
	gpus := fixtures.GPUs(seed, fixtures.H100SXM, 0, 8)
	nodes := make([]providertypes.Node, len(gpus))
	for i, g := range gpus {
		nodes[i] = fixtures.Node(fmt.Sprintf("n%d", i), g)
	}
	f.onboardNodes("provider2", nodes, f.requiredBond(8))
	proofs := map[uint64][]*challenge.GPUProof{}
	for f.reward(p2.Address).Weight < 8*1000 {
		require.Less(t, f.height(), int64(4*testEpochBlocks), "every node gets verified")
		f.auditStep(proofs)
	}
	// Every passed capacity check of the provider: the heights at which it
	// needed compute.
	busy := map[int64]int{}
	checks := 0
	require.NoError(t, f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(_ uint64, c types.Challenge) (bool, error) {
		if c.Provider != p2.Address.String() || c.State != types.CHALLENGE_STATE_PASSED {
			return false, nil
		}
		checks++
		for h := c.IssueHeight; h <= c.CommitDeadlineHeight; h++ {
			busy[h]++
		}
		return false, nil
	}))
	most := 0
	for _, n := range busy {
		most = max(most, n)
	}
	t.Logf("%d checks of 8 single-GPU nodes passed; at most %d needed compute at the same height", checks, most)
	require.Equal(t, 8, checks)
	require.Equal(t, 8, most, "answering the provider's checks needs as many GPUs at once as it earns for")
	f.invariants()
}
