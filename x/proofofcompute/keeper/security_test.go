package keeper_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// The attacks of the adversarial review (issue "Security: close the holes
// …") on rewards and collateral, each through signed transactions in
// FinalizeBlock, and what they now earn: nothing.

// onboardNodes registers a provider with the given nodes and bonds bond.
func (f *pocFixture) onboardNodes(name string, nodes []providertypes.Node, bond math.Int) {
	f.t.Helper()
	acc := f.a.Account(name)
	f.deliver(acc, fixtures.Register(acc.Address, name, "US-east1"))
	f.deliver(acc, &providertypes.MsgSetInventory{Owner: acc.Address.String(), Nodes: nodes})
	if bond.IsPositive() {
		f.deliver(acc, &stakingslashtypes.MsgBond{Provider: acc.Address.String(), Amount: sdk.NewCoin(app.BondDenom, bond)})
	}
}

// requiredBond is what gpus billable GPUs require.
func (f *pocFixture) requiredBond(gpus int64) math.Int {
	return f.slashParams().MinBondPerGpu.MulRaw(gpus)
}

// respondIf runs one block in which the next step of every unresolved
// challenge answer approves is taken honestly (commit when ISSUED, every
// reveal when OPENED); the others are left alone.
func (f *pocFixture) respondIf(answer func(types.Challenge) bool, proofs map[uint64][]*challenge.GPUProof) {
	f.t.Helper()
	var txs [][]byte
	require.NoError(f.t, f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(id uint64, c types.Challenge) (bool, error) {
		if c.Resolved() || !answer(c) {
			return false, nil
		}
		signer := f.accountOf(c.Provider)
		switch c.State {
		case types.CHALLENGE_STATE_ISSUED:
			proofs[id] = f.prove(c)
			txs = append(txs, f.a.SignTx(signer, commitMsg(c, proofs[id])))
		case types.CHALLENGE_STATE_OPENED:
			var msgs []sdk.Msg
			for g := range c.Gpus {
				if !c.Gpus[g].Revealed {
					msgs = append(msgs, f.revealMsg(c, proofs[id], g))
				}
			}
			txs = append(txs, f.a.SignTx(signer, msgs...))
		}
		return false, nil
	}))
	res := f.a.NextBlock(txs...)
	for _, r := range res.TxResults {
		require.Equal(f.t, uint32(0), r.Code, r.Log)
	}
}

// reward is a provider's stored reward record (weight, accrued so far).
func (f *pocFixture) reward(addr sdk.AccAddress) types.ProviderReward {
	f.t.Helper()
	r, err := f.a.ProofOfComputeKeeper.Rewards.Get(f.a.Ctx(), addr)
	if errors.Is(err, collections.ErrNotFound) {
		return types.NewProviderReward(addr.String(), math.LegacyZeroDec())
	}
	require.NoError(f.t, err)
	return r
}

// accrued is what a provider could claim now (settled to the index).
func (f *pocFixture) accrued(addr sdk.AccAddress) math.LegacyDec {
	f.t.Helper()
	r, err := f.a.ProofOfComputeKeeper.RewardOf(f.a.Ctx(), addr)
	require.NoError(f.t, err)
	return r.Accrued
}

// twoNodes is two 8×H100 nodes.
func twoNodes(seed string) []providertypes.Node {
	return []providertypes.Node{
		fixtures.Node("dgx-0", fixtures.GPUs(seed, fixtures.H100SXM, 0, 8)...),
		fixtures.Node("dgx-1", fixtures.GPUs(seed, fixtures.H100SXM, 8, 8)...),
	}
}

// Hole 1, unbonded: a provider that lists two nodes and bonds nothing
// answers the checks of one node and ignores the other's. Before the fix
// it earned capacity rewards for the verified node (weight ignored bond
// and jail). Now an ineligible provider is not challenged at all and its
// reward weight stays zero, while an honest bonded provider earns.
func TestUnbondedProviderEarnsNothing(t *testing.T) {
	f := newPoC(t)
	honest, attacker := f.a.Account("provider1"), f.a.Account("provider2")
	f.onboard("provider1", "sec-honest")
	f.onboardNodes("provider2", twoNodes("sec-unbonded"), math.ZeroInt())
	proofs := map[uint64][]*challenge.GPUProof{}
	answer := func(c types.Challenge) bool {
		return c.Provider == honest.Address.String() || (c.Provider == attacker.Address.String() && c.NodeId == "dgx-0")
	}
	for range 4 * testEpochBlocks {
		f.respondIf(answer, proofs)
	}
	require.True(t, f.accrued(honest.Address).IsPositive(), "the honest provider earns")
	require.Zero(t, f.reward(attacker.Address).Weight)
	require.True(t, f.accrued(attacker.Address).IsZero(), "the unbonded provider earns nothing")
	res := f.a.DeliverTx(attacker, &types.MsgClaimRewards{Provider: attacker.Address.String()})
	require.Equal(t, types.ErrNothingToClaim.ABCICode(), res.Code, res.Log)
	f.invariants()
}

// Hole 1, jailed: the same provider bonded for both nodes answers one and
// misses the other's checks until it is jailed. Its weight drops to zero
// in the block of the jail, nothing accrues while it is jailed however
// many epochs pass, and its node is not challenged again.
func TestJailedProviderStopsEarningInTheSameBlock(t *testing.T) {
	f := newPoC(t)
	honest, attacker := f.a.Account("provider1"), f.a.Account("provider2")
	f.onboard("provider1", "sec-honest")
	f.onboardNodes("provider2", twoNodes("sec-jailed"), f.requiredBond(16))
	proofs := map[uint64][]*challenge.GPUProof{}
	answer := func(c types.Challenge) bool {
		return c.Provider == honest.Address.String() || (c.Provider == attacker.Address.String() && c.NodeId == "dgx-0")
	}
	for i := 0; !f.jailed(attacker.Address); i++ {
		require.Less(t, i, 6*testEpochBlocks, "three missed commits jail the provider")
		weight := f.reward(attacker.Address).Weight
		f.respondIf(answer, proofs)
		if f.jailed(attacker.Address) {
			require.Positive(t, weight, "it earned for dgx-0 until the jail")
		}
	}
	// The block that jailed it also dropped its weight.
	require.Zero(t, f.reward(attacker.Address).Weight)
	atJail := f.accrued(attacker.Address)
	require.True(t, atJail.IsPositive())
	issued := f.challengeCount(attacker.Address)

	for range 3 * testEpochBlocks {
		f.respondIf(answer, proofs)
	}
	require.Equal(t, atJail.String(), f.accrued(attacker.Address).String(), "nothing accrues in jail")
	require.Equal(t, issued, f.challengeCount(attacker.Address), "a jailed provider is not challenged")
	f.invariants()
}

// challengeCount is the number of challenges issued to a provider.
func (f *pocFixture) challengeCount(addr sdk.AccAddress) int {
	f.t.Helper()
	n := 0
	require.NoError(f.t, f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(_ uint64, c types.Challenge) (bool, error) {
		if c.Provider == addr.String() {
			n++
		}
		return false, nil
	}))
	return n
}

// Hole 1, collateral: a slash that leaves the bond short of what the GPUs
// require (an early close, which jails no one) drops the weight in the
// same transaction; bonding the difference back restores it.
func TestUnderBondedProviderStopsEarning(t *testing.T) {
	f := newPoC(t)
	p1, alice := f.a.Account("provider1"), f.a.Account("alice")
	node := f.onboard("provider1", "sec-underbonded")
	proofs := map[uint64][]*challenge.GPUProof{}
	mine := func(types.Challenge) bool { return true }
	for f.reward(p1.Address).Weight == 0 {
		require.Less(t, f.height(), int64(3*testEpochBlocks), "provider1 is verified within two epochs")
		f.respondIf(mine, proofs)
	}
	id := f.lease(alice, p1, node.Gpus[0].Uuid, node.Gpus[1].Uuid)
	weight := f.reward(p1.Address).Weight
	require.Equal(t, uint64(6*1000), weight, "six idle verified H100s (the two leased earn by their lease)")

	f.deliver(p1, &markettypes.MsgCloseLease{Sender: p1.Address.String(), LeaseId: id})
	require.True(t, f.bonded(p1.Address).LT(f.requiredBond(8)))
	require.False(t, f.jailed(p1.Address))
	require.Zero(t, f.reward(p1.Address).Weight, "below the required bond: no weight, in the close's block")

	f.deliver(p1, &stakingslashtypes.MsgBond{Provider: p1.Address.String(),
		Amount: sdk.NewCoin(app.BondDenom, f.requiredBond(8).Sub(f.bonded(p1.Address)))})
	require.Equal(t, uint64(8*1000), f.reward(p1.Address).Weight, "bonded again: all eight verified GPUs earn")
	f.invariants()
}

// Verification expires, and leased GPUs earn nothing: a provider that
// leases its GPUs to its own second account skips capacity checks, but
// the leased GPUs carry no reward weight, and their verification lapses
// verification_ttl_blocks after the check, so after the self-lease ends
// they earn nothing until a new check passes.
func TestLeasedGPUsEarnNothingAndVerificationExpires(t *testing.T) {
	f := newPoC(t)
	p1, self := f.a.Account("provider1"), f.a.Account("alice") // alice stands for provider1's second account
	node := f.onboard("provider1", "sec-selflease")
	proofs := map[uint64][]*challenge.GPUProof{}
	mine := func(types.Challenge) bool { return true }
	for f.reward(p1.Address).Weight == 0 {
		require.Less(t, f.height(), int64(3*testEpochBlocks))
		f.respondIf(mine, proofs)
	}
	var leases []markettypes.OrderID
	for g := 0; g < 8; g += 2 {
		leases = append(leases, f.lease(self, p1, node.Gpus[g].Uuid, node.Gpus[g+1].Uuid))
	}
	require.Zero(t, f.reward(p1.Address).Weight, "every GPU leased: nothing to reward")
	verifiedAt := f.gpu(node.Gpus[0].Uuid).VerifiedHeight
	require.Positive(t, verifiedAt)

	params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(t, err)
	f.advanceTo(verifiedAt + int64(params.VerificationTtlBlocks))
	for _, g := range node.Gpus {
		require.False(t, f.gpu(g.Uuid).Verified, "%s: the check expired while leased", g.Uuid)
	}
	for _, id := range leases {
		f.deliver(self, &markettypes.MsgCloseLease{Sender: self.Address.String(), LeaseId: id})
	}
	require.Zero(t, f.reward(p1.Address).Weight, "back from the self-lease: unverified, no weight until a check passes")
	f.invariants()
}

// gpu is a listed GPU.
func (f *pocFixture) gpu(uuid string) providertypes.GPU {
	f.t.Helper()
	_, _, g, err := f.a.ProviderKeeper.GetGPU(f.a.Ctx(), uuid)
	require.NoError(f.t, err)
	return g
}

// An honest provider never loses its verification, even with random
// sampling off: every node whose check would lapse before the end of the
// next epoch is scheduled anyway, and its GPUs earn in every epoch from
// the first check on.
func TestHonestVerificationNeverLapses(t *testing.T) {
	f := newPoC(t, apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
		return app.SetChallengeSchedule(cdc, state, testEpochBlocks, math.LegacyZeroDec())
	}))
	p1 := f.a.Account("provider1")
	node := f.onboard("provider1", "sec-forced")
	proofs := map[uint64][]*challenge.GPUProof{}
	mine := func(types.Challenge) bool { return true }
	verifiedSince := int64(0)
	for range 10 * testEpochBlocks {
		f.respondIf(mine, proofs)
		verified := f.gpu(node.Gpus[0].Uuid).Verified
		if verifiedSince == 0 && verified {
			verifiedSince = f.height()
		}
		if verifiedSince > 0 {
			require.True(t, verified, "height %d: verified since %d, never lapsed", f.height(), verifiedSince)
			require.Equal(t, uint64(8*1000), f.reward(p1.Address).Weight)
		}
	}
	require.Positive(t, verifiedSince, "the unverified node was checked although sampling is off")
	require.Less(t, verifiedSince, int64(3*testEpochBlocks))
	require.GreaterOrEqual(t, f.challengeCount(p1.Address), 4, "re-checked before every lapse")
	f.invariants()
}

// Hole 2: a provider with a running lease unbonds everything, then
// abandons the lease or fails the tenant's dispute. Before the fix the
// unbonding entry predated the infraction, so the slash took nothing and
// the tenant got nothing. Now the bond its listed GPUs require cannot be
// unbonded, and both slashes find it: the tenant is paid its share.
func TestUnbondingCannotDodgeTheLeaseSlash(t *testing.T) {
	for _, path := range []string{"early close", "failed dispute"} {
		t.Run(path, func(t *testing.T) {
			f := newPoC(t)
			p1, alice := f.a.Account("provider1"), f.a.Account("alice")
			node := f.onboard("provider1", "sec-unbond-"+path)
			id := f.lease(alice, p1, node.Gpus[0].Uuid, node.Gpus[1].Uuid)
			bonded := f.bonded(p1.Address)
			require.Equal(t, f.requiredBond(8), bonded)

			res := f.a.DeliverTx(p1, &stakingslashtypes.MsgUnbond{Provider: p1.Address.String(),
				Amount: sdk.NewCoin(app.BondDenom, bonded)})
			require.Equal(t, stakingslashtypes.ErrBondLocked.ABCICode(), res.Code, res.Log)
			require.Contains(t, res.Log, "8 listed GPUs require")
			require.Equal(t, bonded, f.bonded(p1.Address), "nothing left the bond")

			aliceBefore := umesh(f, alice.Address)
			ss := f.slashParams()
			var fraction math.LegacyDec
			switch path {
			case "early close":
				f.deliver(p1, &markettypes.MsgCloseLease{Sender: p1.Address.String(), LeaseId: id})
				fraction = ss.EarlyClose.SlashFraction
			case "failed dispute":
				params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
				require.NoError(t, err)
				res := f.a.DeliverTx(alice, &types.MsgOpenDispute{Tenant: alice.Address.String(), LeaseId: id, Fee: params.DisputeFee})
				require.Equal(t, uint32(0), res.Code, res.Log)
				var opened types.MsgOpenDisputeResponse
				require.NoError(t, unpackResponse(res.Data, &opened))
				for !f.challenge(opened.ChallengeId).Resolved() {
					f.a.NextBlock() // provider1 does not answer
				}
				require.Equal(t, types.CHALLENGE_STATE_MISSED, f.challenge(opened.ChallengeId).State)
				fraction = ss.DisputeFailed.SlashFraction
			}
			slashed := fraction.MulInt(bonded).TruncateInt()
			require.True(t, slashed.IsPositive())
			require.Equal(t, bonded.Sub(slashed), f.bonded(p1.Address))
			share := ss.TenantShare.MulInt(slashed).TruncateInt()
			require.Equal(t, aliceBefore.Add(share), umesh(f, alice.Address), "the tenant gets its share of the slash")
			lease, err := f.a.MarketKeeper.GetLease(f.a.Ctx(), id)
			require.NoError(t, err)
			require.Equal(t, markettypes.LEASE_STATE_CLOSED, lease.State)
			f.invariants()
		})
	}
}

// halfRows is a provider that computed half the work: every odd row of
// every product is wrong (committed consistently, so only the verifier's
// recomputation of an opened entry can tell).
type halfRows struct{ challenge.Multiplier }

func (m halfRows) MultiplyRows(ctx context.Context, key [2]uint32, n, b, i0, rows uint32, dst []int32) error {
	if err := m.Multiplier.MultiplyRows(ctx, key, n, b, i0, rows, dst); err != nil {
		return err
	}
	for r := range rows {
		if (i0+r)%2 == 1 {
			for j := range n {
				dst[r*n+j]++
			}
		}
	}
	return nil
}

// grind plays the proposer of the first opening block, paid by the
// provider: it tries block hashes until every opening of GPU g that the
// block's hash picks (segment 0: t ≡ 0 mod L) falls on an even, computed
// row. It returns the hash and the number of tries.
func grind(t *testing.T, c types.Challenge, g uint32) ([]byte, int) {
	t.Helper()
	p := c.Gpus[g].ChallengeParams(c.Openings)
	seeds := make([][32]byte, c.OpeningBlocks) // segments other than 0 are not the grinder's: ignored below
	for try := 1; try <= 1<<22; try++ {
		h := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("grind"), uint64(try)))
		seeds[0] = challenge.OpenSeed(c.Id, 0, h[:])
		good := true
		for tt, x := range challenge.Openings(seeds, g, p) {
			if uint32(tt)%c.OpeningBlocks == 0 && x.I%2 == 1 {
				good = false
				break
			}
		}
		if good {
			return h[:], try
		}
	}
	t.Fatal("no hash found")
	return nil, 0
}

// Hole 7: the proposer of the opening block (the provider itself, or paid
// by it) grinds its block's hash after seeing the commitment. When one
// block picked every opening (protocol v1, opening_blocks = 1), a provider
// that computed only half of one GPU's product passed after ~2^16 tries.
// With the openings spread over several blocks of different proposers the
// grinder controls only its own segment (4 of 16 openings here), the other
// 12 are drawn by honest blocks, and the half-done GPU fails: slashed and
// jailed.
func TestGrindingTheOpeningBlock(t *testing.T) {
	for _, tc := range []struct {
		name          string
		openingBlocks uint32
		passes        bool
	}{
		{"one opening block (v1): the grinder passes", 1, true},
		{"five opening blocks: the grinder fails", 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPoC(t, apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
				var gen types.GenesisState
				if err := cdc.UnmarshalJSON(state[types.ModuleName], &gen); err != nil {
					return err
				}
				gen.Params.OpeningBlocks = tc.openingBlocks
				bz, err := cdc.MarshalJSON(&gen)
				state[types.ModuleName] = bz
				return err
			}))
			p1 := f.a.Account("provider1")
			f.onboard("provider1", "sec-grind")
			c := f.nextChallenge(p1)
			require.Equal(t, tc.openingBlocks, c.OpeningBlocks)
			proofs := f.prove(c)
			proofs[0] = f.proveWith(c, 0, halfRows{challenge.CPUMultiplier(1)})
			f.deliver(p1, commitMsg(c, proofs))
			bonded := f.bonded(p1.Address)

			f.advanceTo(c.OpenHeight - 1)
			hash, tries := grind(t, c, 0)
			t.Logf("opening_blocks %d: %d tries for the grinder's segment", tc.openingBlocks, tries)
			f.a.NextBlockWithHash(hash)
			f.advanceTo(c.OpenedHeight())
			c = f.challenge(c.Id)
			require.Equal(t, types.CHALLENGE_STATE_OPENED, c.State)
			for g := range c.Gpus {
				f.deliver(p1, f.revealMsg(c, proofs, g))
				if f.challenge(c.Id).Resolved() {
					break
				}
			}
			if tc.passes {
				require.Equal(t, types.CHALLENGE_STATE_PASSED, f.challenge(c.Id).State, "the attack worked in v1")
				require.Equal(t, bonded, f.bonded(p1.Address))
			} else {
				require.Equal(t, types.CHALLENGE_STATE_FAILED, f.challenge(c.Id).State)
				f.requireSlashed(p1.Address, bonded, f.slashParams().WrongOpening.SlashFraction)
			}
			f.invariants()
		})
	}
}

// Self-dispute: a provider disputes its own lease from its second account.
// A pass no longer raises its reputation (only the checks the chain
// schedules do: a self-dispute is as frequent as the provider likes and
// its fee comes back), and failing one's own dispute, to be caught where
// half the slash comes back, costs at least what a capacity check that
// caught the same lie would have taken: dispute_failed × (1 − tenant_share)
// ≥ wrong_opening (enforced by x/stakingslash's params).
func TestSelfDisputeGainsNothing(t *testing.T) {
	t.Run("pass", func(t *testing.T) {
		f, _, c := disputeSetup(t, "sec-selfdispute-pass")
		p1 := f.a.Account("provider1")
		before := mustProvider(t, f, p1.Address).Reputation
		c, proofs := f.commitAndOpen(p1, c)
		for g := range c.Gpus {
			f.deliver(p1, f.revealMsg(c, proofs, g))
		}
		require.Equal(t, types.CHALLENGE_STATE_PASSED, f.challenge(c.Id).State)
		require.Equal(t, before, mustProvider(t, f, p1.Address).Reputation, "a dispute pass earns no reputation")
		f.invariants()
	})
	t.Run("fail", func(t *testing.T) {
		f, _, c := disputeSetup(t, "sec-selfdispute-fail")
		p1, self := f.a.Account("provider1"), f.a.Account("alice")
		bonded := f.bonded(p1.Address)
		both := func() math.Int { return umesh(f, p1.Address).Add(umesh(f, self.Address)).Add(f.bonded(p1.Address)) }
		// alice's fee is held until the outcome, provider1's bid deposit
		// until the lease closes: both come back.
		before := both().Add(f.disputeFee().Amount).AddRaw(5_000_000)
		for !f.challenge(c.Id).Resolved() {
			f.a.NextBlock()
		}
		lost := before.Sub(both())
		ss := f.slashParams()
		require.Equal(t, ss.DisputeFailed.SlashFraction.MulInt(bonded).TruncateInt().
			Sub(ss.TenantShare.MulInt(ss.DisputeFailed.SlashFraction.MulInt(bonded).TruncateInt()).TruncateInt()), lost)
		require.True(t, lost.GTE(ss.WrongOpening.SlashFraction.MulInt(bonded).TruncateInt()),
			"the pair loses %s, at least a wrong opening's %s", lost, ss.WrongOpening.SlashFraction.MulInt(bonded))
		f.invariants()
	})
}

// Hole 5, x/proofofcompute's queues: three disputes opened in one block
// are due to open in the same block, and max_due_per_block is 1. One
// opens per block over three blocks (never more), each draws its openings
// from its own opening blocks whatever the delay, and all three pass:
// nothing is lost.
func TestChallengeQueueCapCarriesOver(t *testing.T) {
	f := newPoC(t, apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
		var gen types.GenesisState
		if err := cdc.UnmarshalJSON(state[types.ModuleName], &gen); err != nil {
			return err
		}
		gen.Params.MaxDuePerBlock = 1
		gen.Params.SampleRate = math.LegacyZeroDec()
		bz, err := cdc.MarshalJSON(&gen)
		state[types.ModuleName] = bz
		return err
	}))
	p1 := f.a.Account("provider1")
	node := f.onboard("provider1", "sec-queue-cap")
	tenants := []apptest.Account{f.a.Account("alice"), f.a.Account("bob"), f.a.Account("provider3")}
	var leases []markettypes.OrderID
	for i, tenant := range tenants {
		leases = append(leases, f.lease(tenant, p1, node.Gpus[2*i].Uuid, node.Gpus[2*i+1].Uuid))
	}
	fee := f.disputeFee()
	var txs [][]byte
	for i, tenant := range tenants {
		txs = append(txs, f.a.SignTx(tenant, &types.MsgOpenDispute{Tenant: tenant.Address.String(), LeaseId: leases[i], Fee: fee}))
	}
	res := f.a.NextBlock(txs...)
	var ids []uint64
	for _, r := range res.TxResults {
		require.Equal(t, uint32(0), r.Code, r.Log)
		var out types.MsgOpenDisputeResponse
		require.NoError(t, unpackResponse(r.Data, &out))
		ids = append(ids, out.ChallengeId)
	}
	proofs := make(map[uint64][]*challenge.GPUProof)
	var commits []sdk.Msg
	for _, id := range ids {
		c := f.challenge(id)
		proofs[id] = f.prove(c)
		commits = append(commits, commitMsg(c, proofs[id]))
	}
	committed := f.a.DeliverTx(p1, commits...)
	require.Equal(t, uint32(0), committed.Code, committed.Log)
	opened := f.challenge(ids[0]).OpenedHeight()
	for _, id := range ids {
		require.Equal(t, opened, f.challenge(id).OpenedHeight(), "all three due in the same block")
	}

	f.advanceTo(opened - 1)
	var order []uint64
	for len(order) < len(ids) {
		require.Less(t, f.height(), opened+int64(len(ids)), "all opened within three blocks")
		block := f.a.NextBlock()
		var events []uint64
		for _, e := range block.Events {
			if e.Type != proto.MessageName(&types.EventChallengeOpened{}) {
				continue
			}
			var attrs []abci.EventAttribute
			for _, a := range e.Attributes {
				if a.Key != "mode" {
					attrs = append(attrs, a)
				}
			}
			msg, err := sdk.ParseTypedEvent(abci.Event{Type: e.Type, Attributes: attrs})
			require.NoError(t, err)
			events = append(events, msg.(*types.EventChallengeOpened).Id)
		}
		require.LessOrEqual(t, len(events), 1, "height %d: at most max_due_per_block openings", f.height())
		order = append(order, events...)
	}
	require.Equal(t, ids, order, "oldest first")
	for _, id := range ids {
		c := f.challenge(id)
		require.Equal(t, types.CHALLENGE_STATE_OPENED, c.State)
		for s := range c.OpeningBlocks {
			want := challenge.OpenSeed(c.Id, s, apptest.BlockHash(c.OpenHeight+int64(s)))
			require.Equal(t, want[:], c.OpenSeeds[s], "challenge %d segment %d: its own opening block's hash", id, s)
		}
		var reveals []sdk.Msg
		for g := range c.Gpus {
			reveals = append(reveals, f.revealMsg(c, proofs[id], g))
		}
		res := f.a.DeliverTx(p1, reveals...)
		require.Equal(t, uint32(0), res.Code, res.Log)
		require.Equal(t, types.CHALLENGE_STATE_PASSED, f.challenge(id).State)
	}
	f.invariants()
}

// Governance raising min_bond_per_gpu makes a bonded provider ineligible
// without a per-provider walk. Its weight is not recomputed in the
// proposal's block, but it is not challenged while ineligible, so its
// verification lapses within verification_ttl_blocks and the weight drops
// then; the invariants hold in every block in between.
func TestMinBondRaiseReachesTheWeightWithinTheTTL(t *testing.T) {
	gov := apptest.NewAccount("bob")
	f := newPoC(t, apptest.WithConsensusAuthority(gov.Address))
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "sec-minbond")
	proofs := map[uint64][]*challenge.GPUProof{}
	mine := func(types.Challenge) bool { return true }
	for f.reward(p1.Address).Weight == 0 {
		require.Less(t, f.height(), int64(3*testEpochBlocks))
		f.respondIf(mine, proofs)
	}
	ss := f.slashParams()
	ss.MinBondPerGpu = ss.MinBondPerGpu.MulRaw(2)
	f.deliver(f.a.Account("bob"), &stakingslashtypes.MsgUpdateParams{Authority: gov.Address.String(), Params: ss})
	eligible, err := f.a.StakingSlashKeeper.IsEligible(f.a.Ctx(), p1.Address)
	require.NoError(t, err)
	require.False(t, eligible)

	params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(t, err)
	deadline := f.height() + int64(params.VerificationTtlBlocks)
	for f.reward(p1.Address).Weight > 0 {
		require.LessOrEqual(t, f.height(), deadline, "the weight drops within the TTL")
		f.respondIf(mine, proofs)
		f.invariants()
	}
	require.False(t, f.gpu(f.lastGPU(p1.Address)).Verified)
	f.invariants()
}

// lastGPU is a GPU listed by addr.
func (f *pocFixture) lastGPU(addr sdk.AccAddress) string {
	f.t.Helper()
	nodes, err := f.a.ProviderKeeper.GetInventory(f.a.Ctx(), addr)
	require.NoError(f.t, err)
	require.NotEmpty(f.t, nodes)
	return nodes[0].Gpus[len(nodes[0].Gpus)-1].Uuid
}
