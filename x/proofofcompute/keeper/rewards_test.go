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
// exactly base_reward × max(floor, 1 − α·u) with u from its recorded
// GPU-seconds (nothing while no GPU is verified), and after both claim,
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
	minted := math.ZeroInt()
	sawUtilization, sawZero := false, false
	for _, e := range epochs.Epochs {
		if e.EndHeight == 0 {
			continue // the running epoch
		}
		require.Equal(t, keeper.Utilization(e), e.Utilization, "epoch %d", e.Number)
		if e.TotalWeight == 0 {
			require.True(t, e.Issuance.Amount.IsZero(), "epoch %d: nothing verified, nothing minted", e.Number)
			sawZero = true
		} else {
			require.Equal(t, keeper.Issuance(params, e.Utilization), e.Issuance, "epoch %d", e.Number)
		}
		if e.Utilization.IsPositive() {
			sawUtilization = true
			require.True(t, e.Issuance.Amount.LT(params.BaseReward.Amount), "utilization lowers issuance")
		}
		minted = minted.Add(e.Issuance.Amount)
	}
	require.True(t, sawUtilization && sawZero, "the run covers an epoch without verified GPUs and one with leases")
	require.Equal(t, minted.String(), pool.Pool.Minted.String())

	claimed := math.ZeroInt()
	for _, p := range []sdk.AccAddress{p1.Address, p2.Address} {
		before := umesh(f, p)
		res := f.a.DeliverTx(f.accountOf(p.String()), &types.MsgClaimRewards{Provider: p.String()})
		require.Equal(t, uint32(0), res.Code, res.Log)
		got := umesh(f, p).Sub(before)
		require.True(t, got.IsPositive(), "both providers earned something")
		claimed = claimed.Add(got)
	}
	pool, err = keeper.NewQueryServer(f.a.ProofOfComputeKeeper).RewardPool(f.a.Ctx(), &types.QueryRewardPoolRequest{})
	require.NoError(t, err)
	require.Equal(t, claimed.String(), pool.Pool.Claimed.String())
	owed := pool.Pool.Carry
	for _, p := range []sdk.AccAddress{p1.Address, p2.Address} {
		r, err := f.a.ProofOfComputeKeeper.RewardOf(f.a.Ctx(), p)
		require.NoError(t, err)
		require.True(t, r.Accrued.LT(math.LegacyOneDec()), "only a fraction stays after a claim")
		owed = owed.Add(r.Accrued)
	}
	require.Equal(t, math.LegacyNewDecFromInt(pool.Pool.Minted.Sub(claimed)).String(), owed.String())
	moduleAddr := f.a.AccountKeeper.GetModuleAddress(types.ModuleName)
	require.Equal(t, pool.Pool.Minted.Sub(claimed).String(),
		f.a.BankKeeper.GetBalance(f.a.Ctx(), moduleAddr, app.BondDenom).Amount.String())
	f.invariants()
}
