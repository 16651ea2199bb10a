package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// respond runs one block in which every unresolved challenge of an honest
// provider gets its next step (commit when ISSUED, every reveal when
// OPENED); other providers' challenges are left alone.
func (f *pocFixture) respond(honest map[string]bool, proofs map[uint64][]*challenge.GPUProof) {
	f.t.Helper()
	var txs [][]byte
	require.NoError(f.t, f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(id uint64, c types.Challenge) (bool, error) {
		if !honest[c.Provider] {
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

func (f *pocFixture) accountOf(addr string) apptest.Account {
	for _, name := range []string{"provider1", "provider2", "provider3"} {
		if a := f.a.Account(name); a.Address.String() == addr {
			return a
		}
	}
	f.t.Fatalf("no test account %s", addr)
	return apptest.Account{}
}

// Capacity rewards over several epochs, with provider1 verified from its
// first challenge, provider2 joining an epoch later and dropping out when
// it misses a challenge, and a lease raising utilization: every epoch mints
// at most base_reward × max(floor, 1 − α·u), u the previous epoch's
// utilization from its recorded GPU-seconds, block by block while a GPU is
// verified (so exactly that once one always is, and nothing before any
// is), and after both claim,
// claimed + still accrued + carry equals the total minted, to the last
// fraction of a unit; the module account holds exactly what is unclaimed.
func TestRewardAccountingIsExactAcrossEpochs(t *testing.T) {
	f := newPoC(t)
	p1, p2, alice := f.a.Account("provider1"), f.a.Account("provider2"), f.a.Account("alice")
	node1 := f.onboard("provider1", "poc-rewards-1")
	honest := map[string]bool{p1.Address.String(): true}
	proofs := map[uint64][]*challenge.GPUProof{}
	run := func(blocks int) {
		for i := 0; i < blocks; i++ {
			f.respond(honest, proofs)
		}
	}
	run(2 * testEpochBlocks)
	f.onboard("provider2", "poc-rewards-2")
	honest[p2.Address.String()] = true
	f.lease(alice, p1, node1.Gpus[0].Uuid, node1.Gpus[1].Uuid)
	run(2 * testEpochBlocks)
	delete(honest, p2.Address.String()) // provider2 stops answering
	run(2 * testEpochBlocks)
	f.invariants()

	params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(t, err)
	pool, err := keeper.NewQueryServer(f.a.ProofOfComputeKeeper).RewardPool(f.a.Ctx(), &types.QueryRewardPoolRequest{})
	require.NoError(t, err)
	epochs, err := keeper.NewQueryServer(f.a.ProofOfComputeKeeper).Epochs(f.a.Ctx(), &types.QueryEpochsRequest{})
	require.NoError(t, err)
	// provider1 is verified from its first pass on and never lapses: every
	// epoch that starts after it mints its whole budget.
	firstPass := int64(0)
	require.NoError(t, f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(_ uint64, c types.Challenge) (bool, error) {
		if c.Provider == p1.Address.String() && c.State == types.CHALLENGE_STATE_PASSED && (firstPass == 0 || c.ResolvedHeight < firstPass) {
			firstPass = c.ResolvedHeight
		}
		return false, nil
	}))
	require.Positive(t, firstPass)
	minted := math.ZeroInt()
	prev := math.LegacyZeroDec()
	sawUtilization, sawZero, sawFull := false, false, false
	for _, e := range epochs.Epochs {
		if e.Issuance.Amount.IsNil() {
			continue // the running epoch before its first block
		}
		minted = minted.Add(e.Issuance.Amount)
		if e.EndHeight == 0 {
			continue // the running epoch
		}
		require.Equal(t, keeper.Utilization(e), e.Utilization, "epoch %d", e.Number)
		// An epoch's budget follows the previous epoch's utilization, and
		// is minted block by block while some GPU is verified.
		budget := keeper.Issuance(params, prev)
		require.True(t, e.Issuance.Amount.LTE(budget.Amount), "epoch %d minted %s, budget %s", e.Number, e.Issuance, budget)
		if e.StartHeight > firstPass {
			require.Equal(t, budget, e.Issuance, "epoch %d: verified weight in every block", e.Number)
			sawFull = true
		}
		if e.EndHeight < firstPass {
			require.True(t, e.Issuance.Amount.IsZero(), "epoch %d: nothing verified, nothing minted", e.Number)
			sawZero = true
		}
		if prev.IsPositive() {
			sawUtilization = true
			require.True(t, budget.Amount.LT(params.BaseReward.Amount), "utilization lowers the next epoch's issuance")
		}
		prev = e.Utilization
	}
	require.True(t, sawFull, "an epoch minted its whole budget")
	require.True(t, sawUtilization && sawZero, "the run covers an epoch without verified GPUs and one with leases")
	require.Equal(t, minted.String(), pool.Pool.Minted.String())

	// Both claim in one block; its EndBlock then mints one more share.
	claimed := math.ZeroInt()
	before := map[string]math.Int{}
	var txs [][]byte
	for _, p := range []sdk.AccAddress{p1.Address, p2.Address} {
		before[p.String()] = umesh(f, p)
		txs = append(txs, f.a.SignTx(f.accountOf(p.String()), &types.MsgClaimRewards{Provider: p.String()}))
	}
	block := f.a.NextBlock(txs...)
	for _, res := range block.TxResults {
		require.Equal(t, uint32(0), res.Code, res.Log)
	}
	for _, p := range []sdk.AccAddress{p1.Address, p2.Address} {
		got := umesh(f, p).Sub(before[p.String()])
		require.True(t, got.IsPositive(), "both providers earned something")
		claimed = claimed.Add(got)
	}
	oneBlock := keeper.BlockIssuance(params.BaseReward, 0, int64(params.EpochBlocks)).Amount
	pool, err = keeper.NewQueryServer(f.a.ProofOfComputeKeeper).RewardPool(f.a.Ctx(), &types.QueryRewardPoolRequest{})
	require.NoError(t, err)
	require.Equal(t, claimed.String(), pool.Pool.Claimed.String())
	owed := pool.Pool.Carry
	for _, p := range []sdk.AccAddress{p1.Address, p2.Address} {
		r, err := f.a.ProofOfComputeKeeper.RewardOf(f.a.Ctx(), p)
		require.NoError(t, err)
		require.True(t, r.Accrued.LT(math.LegacyNewDecFromInt(oneBlock.AddRaw(1))),
			"after a claim only the claim block's share (and a fraction) stays: %s", r.Accrued)
		owed = owed.Add(r.Accrued)
	}
	require.Equal(t, math.LegacyNewDecFromInt(pool.Pool.Minted.Sub(claimed)).String(), owed.String())
	moduleAddr := f.a.AccountKeeper.GetModuleAddress(types.ModuleName)
	require.Equal(t, pool.Pool.Minted.Sub(claimed).String(),
		f.a.BankKeeper.GetBalance(f.a.Ctx(), moduleAddr, app.BondDenom).Amount.String())
	f.invariants()
}
