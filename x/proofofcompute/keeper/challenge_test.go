package keeper_test

import (
	"testing"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// An honest provider's capacity round through FinalizeBlock: the epoch
// schedule challenges its idle node (all 8 GPUs at once), it commits by
// the deadline, the opening height fixes the entries, it reveals every GPU
// in one transaction and the challenge passes. Its GPUs become verified,
// its reputation rises, and at the end of the epoch the issuance is minted
// into the reward index; the provider claims exactly the whole part of it
// (it is the only verified provider), the rest stays in the carry.
func TestHonestCapacityRoundPasses(t *testing.T) {
	f := newPoC(t)
	p1 := f.a.Account("provider1")
	node := f.onboard("provider1", "poc-honest")
	before, err := f.a.ProviderKeeper.GetProvider(f.a.Ctx(), p1.Address)
	require.NoError(t, err)

	c := f.nextChallenge(p1)
	require.Equal(t, types.CHALLENGE_KIND_CAPACITY, c.Kind)
	require.Equal(t, node.Id, c.NodeId)
	require.Len(t, c.Gpus, 8, "every idle GPU of the node is challenged at once")
	require.Equal(t, uint32(256), c.Gpus[0].N)
	require.Equal(t, c.IssueHeight+3, c.CommitDeadlineHeight)
	require.Equal(t, c.CommitDeadlineHeight+1, c.OpenHeight)

	c, proofs := f.commitAndOpen(p1, c)
	require.Equal(t, c.OpenedHeight()+10, c.RevealDeadlineHeight)
	msgs := make([]sdk.Msg, len(c.Gpus))
	for g := range c.Gpus {
		msgs[g] = f.revealMsg(c, proofs, g)
	}
	res := f.a.DeliverTx(p1, msgs...)
	require.Equal(t, uint32(0), res.Code, res.Log)
	c = f.challenge(c.Id)
	require.Equal(t, types.CHALLENGE_STATE_PASSED, c.State)
	for _, g := range c.Gpus {
		require.True(t, g.Revealed)
	}

	after, err := f.a.ProviderKeeper.GetProvider(f.a.Ctx(), p1.Address)
	require.NoError(t, err)
	require.Greater(t, after.Reputation, before.Reputation, "a passed proof raises reputation")
	require.Equal(t, uint32(8), after.Stats.VerifiedGpus)
	reward, err := f.a.ProofOfComputeKeeper.RewardOf(f.a.Ctx(), p1.Address)
	require.NoError(t, err)
	require.Equal(t, uint64(8*1000), reward.Weight, "8 verified h100-sxm-80g GPUs of weight 1000")
	f.invariants()

	// Run to the end of the epoch the check passed in: every block from the
	// pass on (the pass's own block included) minted its share of the
	// epoch's budget (nothing leased before, so the full base reward: 1/20
	// of it per block), and all of it is owed to provider1, the only
	// weight.
	passedAt := f.challenge(c.Id).ResolvedHeight
	current, err := f.a.ProofOfComputeKeeper.CurrentEpoch.Get(f.a.Ctx())
	require.NoError(t, err)
	epoch, err := f.a.ProofOfComputeKeeper.Epochs.Get(f.a.Ctx(), current)
	require.NoError(t, err)
	last := epoch.StartHeight + testEpochBlocks - 1
	f.advanceTo(last)
	epoch, err = f.a.ProofOfComputeKeeper.Epochs.Get(f.a.Ctx(), current)
	require.NoError(t, err)
	params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(t, err)
	perBlock := params.BaseReward.Amount.QuoRaw(testEpochBlocks)
	require.Equal(t, perBlock.MulRaw(last-passedAt+1), epoch.Issuance.Amount, "minted from the pass's block to the epoch's end")
	require.True(t, epoch.Utilization.IsZero())
	require.Equal(t, uint64(1), epoch.ChallengesPassed)
	require.Equal(t, uint64(8000), epoch.TotalWeight)

	bal := f.a.BankKeeper.GetBalance(f.a.Ctx(), p1.Address, app.BondDenom)
	res = f.a.DeliverTx(p1, &types.MsgClaimRewards{Provider: p1.Address.String()})
	require.Equal(t, uint32(0), res.Code, res.Log)
	var claimed types.MsgClaimRewardsResponse
	require.NoError(t, unpackResponse(res.Data, &claimed))
	owed := epoch.Issuance.Amount
	require.Equal(t, owed, claimed.Amount.Amount, "50 000 000 / 8000 is exact: nothing carried")
	require.Equal(t, bal.Amount.Add(owed),
		f.a.BankKeeper.GetBalance(f.a.Ctx(), p1.Address, app.BondDenom).Amount, "claims are free of fees in apptest")
	// The claim's block (the next epoch's first) minted one more share after
	// the claim ran: a second claim gets exactly that.
	res = f.a.DeliverTx(p1, &types.MsgClaimRewards{Provider: p1.Address.String()})
	require.Equal(t, uint32(0), res.Code, res.Log)
	require.NoError(t, unpackResponse(res.Data, &claimed))
	require.Equal(t, perBlock, claimed.Amount.Amount)
	f.invariants()
}

// A provider that opens a wrong entry is caught by the reveal: the
// transaction succeeds (so the failure is recorded), the challenge fails,
// exactly the wrong_opening fraction of its bond is slashed, it is jailed,
// its GPUs lose their verified state and its reputation falls.
func TestWrongOpeningSlashesAndJails(t *testing.T) {
	f := newPoC(t)
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "poc-wrong")
	c, proofs := f.commitAndOpen(p1, f.nextChallenge(p1))
	col, found, err := f.a.StakingSlashKeeper.GetCollateral(f.a.Ctx(), p1.Address)
	require.NoError(t, err)
	require.True(t, found)
	bonded := col.Bonded
	rep := mustProvider(t, f, p1.Address).Reputation

	// GPU 0 is honest; GPU 1's first opened leaf is altered after the
	// commitment, so its path no longer reaches the committed root.
	f.deliver(p1, f.revealMsg(c, proofs, 0))
	bad := f.revealMsg(c, proofs, 1)
	j := f.openings(c, 1)[0].J
	bad.Openings[0].Leaf[4*(j%16)]++
	res := f.a.DeliverTx(p1, bad)
	require.Equal(t, uint32(0), res.Code, res.Log)
	var out types.MsgRevealProofResponse
	require.NoError(t, unpackResponse(res.Data, &out))
	require.False(t, out.Correct)
	require.Equal(t, types.CHALLENGE_STATE_FAILED, out.State)

	c = f.challenge(c.Id)
	require.Equal(t, types.CHALLENGE_STATE_FAILED, c.State)
	require.Contains(t, c.Failure, "gpu_index 1")
	require.Contains(t, c.Failure, "Merkle path does not lead to the root")

	ssParams, err := f.a.StakingSlashKeeper.GetParams(f.a.Ctx())
	require.NoError(t, err)
	col, _, err = f.a.StakingSlashKeeper.GetCollateral(f.a.Ctx(), p1.Address)
	require.NoError(t, err)
	slashed := ssParams.WrongOpening.SlashFraction.MulInt(bonded).TruncateInt()
	require.Equal(t, bonded.Sub(slashed), col.Bonded, "exactly the wrong_opening fraction is slashed")
	jailed, err := f.a.StakingSlashKeeper.IsJailed(f.a.Ctx(), p1.Address)
	require.NoError(t, err)
	require.True(t, jailed)
	p := mustProvider(t, f, p1.Address)
	require.Less(t, p.Reputation, rep)
	require.Zero(t, p.Stats.VerifiedGpus, "every GPU of a cheating provider loses its verified state")

	// A further reveal for the resolved challenge is refused.
	res = f.a.DeliverTx(p1, f.revealMsg(c, proofs, 2))
	require.Equal(t, types.ErrWrongState.ABCICode(), res.Code, res.Log)
	f.invariants()
}

// unpackResponse decodes the first message response of a tx result.
func unpackResponse(data []byte, out proto.Message) error {
	var msgData sdk.TxMsgData
	if err := proto.Unmarshal(data, &msgData); err != nil {
		return err
	}
	return proto.Unmarshal(msgData.MsgResponses[0].Value, out)
}
