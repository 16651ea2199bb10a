package keeper_test

import (
	"encoding/json"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// A chain exported in the middle of a dispute — its challenge OPENED with
// one of two GPUs revealed — with rewards minted, a schedule planned, a
// usage report and epochs recorded, imports into a fresh app with an
// identical x/proofofcompute state and consistent indexes, and the imported
// chain finishes the dispute: the last reveal passes it.
func TestGenesisRoundTripMidChallenge(t *testing.T) {
	f := newPoC(t)
	p1, alice := f.a.Account("provider1"), f.a.Account("alice")
	node := f.onboard("provider1", "poc-genesis")
	id := f.lease(alice, p1, node.Gpus[0].Uuid, node.Gpus[1].Uuid)
	honest := map[string]bool{p1.Address.String(): true}
	proofs := map[uint64][]*challenge.GPUProof{}
	for i := 0; i < 3*testEpochBlocks; i++ {
		f.respond(honest, proofs)
	}
	f.deliver(alice, &types.MsgOpenDispute{Tenant: alice.Address.String(), LeaseId: id, Fee: f.disputeFee()})
	c := f.challenge(f.disputes(id)[0].ChallengeId)
	c, dproofs := f.commitAndOpen(p1, c)
	f.deliver(p1, f.revealMsg(c, dproofs, 0))
	f.deliver(p1, &types.MsgReportUsage{Provider: p1.Address.String(), LeaseId: id, PeriodEnd: f.a.BlockTime,
		GpuSeconds: 20, MeanUtilPct: 90, EnergyMj: 1000, SamplesHash: make([]byte, 32)})
	f.invariants()

	exported, err := f.a.ExportAppStateAndValidators(false, nil, nil)
	require.NoError(t, err)
	var state map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(exported.AppState, &state))
	var gs types.GenesisState
	require.NoError(t, f.a.AppCodec().UnmarshalJSON(state[types.ModuleName], &gs))
	require.NotEmpty(t, gs.Epochs)
	require.True(t, gs.RewardPool.Minted.IsPositive(), "rewards were minted before the export")
	require.NotEmpty(t, gs.Usage)
	openDispute := false
	for _, d := range gs.Disputes {
		openDispute = openDispute || d.State == types.DISPUTE_STATE_OPEN
	}
	require.True(t, openDispute)

	fresh := app.New(log.NewNopLogger(), dbm.NewMemDB(), true, simtestutil.EmptyAppOptions{}, baseapp.SetChainID(apptest.ChainID))
	_, err = fresh.InitChain(&abci.RequestInitChain{
		ChainId: apptest.ChainID, Time: f.a.BlockTime, ConsensusParams: simtestutil.DefaultConsensusParams,
		AppStateBytes: exported.AppState, InitialHeight: exported.Height,
	})
	require.NoError(t, err)
	ctx := fresh.NewContextLegacy(false, cmtproto.Header{ChainID: apptest.ChainID, Height: exported.Height + 1,
		Time: f.a.BlockTime.Add(apptest.BlockInterval)})
	after, err := fresh.ProofOfComputeKeeper.ExportGenesis(ctx)
	require.NoError(t, err)
	require.JSONEq(t, string(state[types.ModuleName]), string(fresh.AppCodec().MustMarshalJSON(after)))
	require.NoError(t, fresh.CheckInvariants(ctx), "the rebuilt queues and indexes are consistent")

	res, err := keeper.NewMsgServerImpl(fresh.ProofOfComputeKeeper).RevealProof(ctx, f.revealMsg(c, dproofs, 1))
	require.NoError(t, err)
	require.True(t, res.Correct)
	require.Equal(t, types.CHALLENGE_STATE_PASSED, res.State)
	require.NoError(t, fresh.CheckInvariants(ctx))
}

// Genesis validation names the broken field.
func TestGenesisValidateNamesTheField(t *testing.T) {
	valid := func() types.GenesisState { return *types.DefaultGenesis() }
	require.NoError(t, valid().Validate())
	for _, tc := range []struct {
		mutate func(*types.GenesisState)
		want   string
	}{
		{func(g *types.GenesisState) { g.NextChallengeId = 0 }, "next_challenge_id must be >= 1"},
		{func(g *types.GenesisState) { g.Params.Openings = 0 }, "openings must be in [1, 64], got 0"},
		{func(g *types.GenesisState) { g.RewardPool.TotalWeight = 5 }, "total_weight 5 differs from the providers' weights 0"},
		{func(g *types.GenesisState) {
			g.Rewards = append(g.Rewards, types.NewProviderReward("mesh1bad", g.RewardPool.Index))
		}, "rewards[0].provider"},
		{func(g *types.GenesisState) { g.Schedule = append(g.Schedule, types.ScheduleEntry{Height: 3}) }, "schedule[0]"},
		{func(g *types.GenesisState) {
			g.Challenges = append(g.Challenges, types.Challenge{Id: 1})
		}, "challenges[0]"},
	} {
		g := valid()
		tc.mutate(&g)
		err := g.Validate()
		require.Error(t, err, tc.want)
		require.True(t, strings.Contains(err.Error(), tc.want), "%q does not contain %q", err, tc.want)
	}
}
