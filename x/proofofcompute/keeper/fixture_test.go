package keeper_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Test schedule: 20-block epochs in which every idle node is challenged
// (sample rate 1), the spec's deadlines (commit within 3 blocks, reveal
// within 10 after the opening height) and the test profile n=256, m=1.
const testEpochBlocks = 20

// pocFixture drives a whole app through FinalizeBlock: providers onboard by
// signed transactions, challenges come from the real epoch schedule, and
// proofs are computed with the challenge library's CPU prover.
type pocFixture struct {
	t *testing.T
	a *apptest.App
}

func newPoC(t *testing.T, opts ...apptest.Option) *pocFixture {
	t.Helper()
	opts = append([]apptest.Option{apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
		return app.SetChallengeSchedule(cdc, state, testEpochBlocks, math.LegacyOneDec())
	})}, opts...)
	return &pocFixture{t: t, a: apptest.New(t, opts...)}
}

// deliver sends msg from signer in its own block and requires success.
func (f *pocFixture) deliver(from apptest.Account, msg sdk.Msg) {
	f.t.Helper()
	res := f.a.DeliverTx(from, msg)
	require.Equal(f.t, uint32(0), res.Code, res.Log)
}

// onboard registers a provider with one 8×H100 node and bonds what it
// needs; it returns the node.
func (f *pocFixture) onboard(name, seed string) providertypes.Node {
	f.t.Helper()
	acc := f.a.Account(name)
	inv := fixtures.H100x8(seed)
	f.deliver(acc, fixtures.Register(acc.Address, name, "US-east1"))
	f.deliver(acc, &providertypes.MsgSetInventory{Owner: acc.Address.String(), Nodes: inv})
	params, err := f.a.StakingSlashKeeper.GetParams(f.a.Ctx())
	require.NoError(f.t, err)
	f.deliver(acc, &stakingslashtypes.MsgBond{Provider: acc.Address.String(),
		Amount: sdk.NewCoin(app.BondDenom, params.MinBondPerGpu.MulRaw(int64(len(inv[0].Gpus))))})
	return inv[0]
}

// height is the last committed height.
func (f *pocFixture) height() int64 { return f.a.LastBlockHeight() }

// advanceTo finalizes empty blocks until the last committed height is h.
func (f *pocFixture) advanceTo(h int64) {
	f.t.Helper()
	for f.height() < h {
		f.a.NextBlock()
	}
}

// challenge returns a challenge from committed state.
func (f *pocFixture) challenge(id uint64) types.Challenge {
	f.t.Helper()
	c, err := f.a.ProofOfComputeKeeper.GetChallenge(f.a.Ctx(), id)
	require.NoError(f.t, err)
	return c
}

// nextChallenge runs blocks until a challenge for provider is issued (at
// most two epochs) and returns it.
func (f *pocFixture) nextChallenge(provider apptest.Account) types.Challenge {
	f.t.Helper()
	for i := 0; i < 2*testEpochBlocks+2; i++ {
		var found *types.Challenge
		err := f.a.ProofOfComputeKeeper.Challenges.Walk(f.a.Ctx(), nil, func(_ uint64, c types.Challenge) (bool, error) {
			if c.Provider == provider.Address.String() && c.State == types.CHALLENGE_STATE_ISSUED {
				found = &c
				return true, nil
			}
			return false, nil
		})
		require.NoError(f.t, err)
		if found != nil {
			return *found
		}
		f.a.NextBlock()
	}
	f.t.Fatalf("no challenge issued to %s within two epochs", provider.Name)
	return types.Challenge{}
}

// prove computes every GPU's proof of a challenge as an honest provider.
func (f *pocFixture) prove(c types.Challenge) []*challenge.GPUProof {
	f.t.Helper()
	out, err := prove.Challenge(context.Background(), apptest.ChainID, c, 0)
	require.NoError(f.t, err)
	return out
}

// commitMsg carries the proofs' commitments.
var commitMsg = prove.CommitMsg

// revealMsg opens GPU g of an OPENED challenge at the chain's indices.
func (f *pocFixture) revealMsg(c types.Challenge, proofs []*challenge.GPUProof, g int) *types.MsgRevealProof {
	f.t.Helper()
	require.Len(f.t, c.OpenSeeds, int(c.OpeningBlocks), "challenge %d is not opened", c.Id)
	rev, err := proofs[g].Open(f.openings(c, g))
	require.NoError(f.t, err)
	msg := &types.MsgRevealProof{Provider: c.Provider, ChallengeId: c.Id, GpuIndex: uint32(g), Roots: rev.Roots}
	for _, o := range rev.Openings {
		msg.Openings = append(msg.Openings, types.Opening{Leaf: o.Leaf, Siblings: o.Siblings})
	}
	return msg
}

// commitAndOpen commits honestly and runs blocks to the opening height;
// it returns the opened challenge and the proofs.
func (f *pocFixture) commitAndOpen(provider apptest.Account, c types.Challenge) (types.Challenge, []*challenge.GPUProof) {
	f.t.Helper()
	proofs := f.prove(c)
	f.deliver(provider, commitMsg(c, proofs))
	f.advanceTo(c.OpenedHeight())
	c = f.challenge(c.Id)
	require.Equal(f.t, types.CHALLENGE_STATE_OPENED, c.State)
	return c, proofs
}

// invariants checks every module's invariants on committed state.
func (f *pocFixture) invariants() {
	f.t.Helper()
	require.NoError(f.t, f.a.CheckInvariants(f.a.Ctx()))
}

// openings are the indices GPU g of an opened challenge must open.
func (f *pocFixture) openings(c types.Challenge, g int) []challenge.Index {
	return challenge.Openings(keeper.OpenSeeds(c), uint32(g), c.Gpus[g].ChallengeParams(c.Openings))
}

func mustProvider(t *testing.T, f *pocFixture, addr sdk.AccAddress) providertypes.Provider {
	t.Helper()
	p, err := f.a.ProviderKeeper.GetProvider(f.a.Ctx(), addr)
	require.NoError(t, err)
	return p
}

// bonded is a provider's bonded collateral.
func (f *pocFixture) bonded(addr sdk.AccAddress) math.Int {
	f.t.Helper()
	c, _, err := f.a.StakingSlashKeeper.GetCollateral(f.a.Ctx(), addr)
	require.NoError(f.t, err)
	return c.Bonded
}

// jailed reports whether a provider is jailed.
func (f *pocFixture) jailed(addr sdk.AccAddress) bool {
	f.t.Helper()
	j, err := f.a.StakingSlashKeeper.IsJailed(f.a.Ctx(), addr)
	require.NoError(f.t, err)
	return j
}

// slashParams are x/stakingslash's params.
func (f *pocFixture) slashParams() stakingslashtypes.Params {
	f.t.Helper()
	p, err := f.a.StakingSlashKeeper.GetParams(f.a.Ctx())
	require.NoError(f.t, err)
	return p
}

// requireSlashed checks that exactly fraction × before was slashed and the
// provider is jailed.
func (f *pocFixture) requireSlashed(addr sdk.AccAddress, before math.Int, fraction math.LegacyDec) {
	f.t.Helper()
	require.Equal(f.t, before.Sub(fraction.MulInt(before).TruncateInt()), f.bonded(addr))
	require.True(f.t, f.jailed(addr))
}

// offByOne is a lying GPU: every entry of every product is one too high.
type offByOne struct{ challenge.Multiplier }

func (m offByOne) MultiplyRows(ctx context.Context, key [2]uint32, n, b, i0, rows uint32, dst []int32) error {
	if err := m.Multiplier.MultiplyRows(ctx, key, n, b, i0, rows, dst); err != nil {
		return err
	}
	for i := range dst[:int(rows)*int(n)] {
		dst[i]++
	}
	return nil
}
