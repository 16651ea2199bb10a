package prover_test

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

const chainID = "gpumesh-test-1"

// fakeChain holds one challenge (and optionally more) and records what
// the prover sends.
type fakeChain struct {
	addr  sdk.AccAddress
	c     poctypes.Challenge
	extra []poctypes.Challenge
	sent  [][]sdk.Msg
}

func (f *fakeChain) Address() sdk.AccAddress { return f.addr }
func (f *fakeChain) ChainID() string         { return chainID }

func (f *fakeChain) Challenges(_ context.Context, _ string, s poctypes.ChallengeState) ([]poctypes.Challenge, error) {
	var out []poctypes.Challenge
	for _, c := range append([]poctypes.Challenge{f.c}, f.extra...) {
		if c.State == s {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeChain) Challenge(_ context.Context, id uint64) (poctypes.Challenge, []poctypes.GPUOpenings, error) {
	if f.c.State == poctypes.CHALLENGE_STATE_OPENED {
		return f.c, keeper.Openings(f.c), nil
	}
	return f.c, nil, nil
}

func (f *fakeChain) Send(_ context.Context, _ chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error) {
	f.sent = append(f.sent, msgs)
	return &chain.TxResult{Height: 10}, nil
}

func newChallenge(addr sdk.AccAddress) poctypes.Challenge {
	hash := sha256.Sum256([]byte("block 5"))
	return poctypes.Challenge{Id: 7, Kind: poctypes.CHALLENGE_KIND_CAPACITY, Provider: addr.String(), NodeId: "n1",
		Openings: 8, IssueHeight: 5, BlockHash: hash[:], CommitDeadlineHeight: 8, OpenHeight: 9, RevealDeadlineHeight: 19,
		State: poctypes.CHALLENGE_STATE_ISSUED,
		Gpus: []poctypes.ChallengedGPU{
			{Uuid: "GPU-00000000-0000-5000-8000-000000000001", Class: "test", N: 256, M: 1},
			{Uuid: "GPU-00000000-0000-5000-8000-000000000002", Class: "test", N: 256, M: 2},
		}}
}

func newProver(f *fakeChain, corrupt bool) (*prover.Prover, *metrics.Metrics) {
	m := metrics.New(prometheus.NewRegistry())
	p := prover.New(f, prover.Options{Multiplier: challenge.CPUMultiplier(2), Faults: faultsFor(corrupt)}, state.NewBoard(), m,
		slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	return p, m
}

// open moves the fake challenge to OPENED with the seed the chain draws.
func open(f *fakeChain) {
	hash := sha256.Sum256([]byte("block 9"))
	f.c.State = poctypes.CHALLENGE_STATE_OPENED
	seed := challenge.OpenSeed(f.c.Id, 0, hash[:])
	f.c.OpenSeeds, f.c.OpeningBlocks = [][]byte{seed[:]}, 1
}

// verify checks every reveal as the chain's verifier does.
func verify(t *testing.T, f *fakeChain, reveals []sdk.Msg) error {
	t.Helper()
	openings := keeper.Openings(f.c)
	for _, msg := range reveals {
		r := msg.(*poctypes.MsgRevealProof)
		g := f.c.Gpus[r.GpuIndex]
		key, err := f.c.GPUKey(chainID, int(r.GpuIndex))
		require.NoError(t, err)
		idx := make([]challenge.Index, len(openings[r.GpuIndex].Indices))
		for i, x := range openings[r.GpuIndex].Indices {
			idx[i] = challenge.Index{B: x.B, I: x.I, J: x.J}
		}
		if err := challenge.VerifyReveal(key, g.ChallengeParams(f.c.Openings), g.Commitment, idx, r.Reveal()); err != nil {
			return err
		}
	}
	return nil
}

func TestCommitThenRevealVerifies(t *testing.T) {
	addr := sdk.AccAddress([]byte("provider-address-01"))
	f := &fakeChain{addr: addr, c: newChallenge(addr)}
	p, m := newProver(f, false)
	ctx := context.Background()

	require.NoError(t, p.Step(ctx, chain.Block{Height: 6}))
	require.Len(t, f.sent, 1)
	commit := f.sent[0][0].(*poctypes.MsgCommitProof)
	require.Equal(t, uint64(7), commit.ChallengeId)
	require.Len(t, commit.Commitments, 2)
	for i := range f.c.Gpus {
		f.c.Gpus[i].Commitment = commit.Commitments[i]
	}
	f.c.State, f.c.CommittedHeight = poctypes.CHALLENGE_STATE_COMMITTED, 7
	require.NoError(t, p.Step(ctx, chain.Block{Height: 7}))
	require.Len(t, f.sent, 1, "nothing is sent while waiting for the opening")

	open(f)
	require.NoError(t, p.Step(ctx, chain.Block{Height: 9}))
	require.Len(t, f.sent, 2)
	require.Len(t, f.sent[1], 2, "both GPUs revealed in one transaction")
	require.NoError(t, verify(t, f, f.sent[1]))

	f.c.State = poctypes.CHALLENGE_STATE_PASSED
	require.NoError(t, p.Step(ctx, chain.Block{Height: 10}))
	require.InDelta(t, 1, testutil.ToFloat64(m.Challenges.WithLabelValues("passed")), 0)
}

// A prover started after the commitment (a restart) recomputes the proofs,
// does not commit again, and reveals what verifies against the commitment
// the first process made; GPUs already revealed are not sent again.
func TestRestartAfterCommitDoesNotResubmit(t *testing.T) {
	addr := sdk.AccAddress([]byte("provider-address-02"))
	f := &fakeChain{addr: addr, c: newChallenge(addr)}
	first, _ := newProver(f, false)
	require.NoError(t, first.Step(context.Background(), chain.Block{Height: 6}))
	commit := f.sent[0][0].(*poctypes.MsgCommitProof)
	for i := range f.c.Gpus {
		f.c.Gpus[i].Commitment = commit.Commitments[i]
	}
	f.c.State = poctypes.CHALLENGE_STATE_COMMITTED
	f.sent = nil

	second, _ := newProver(f, false)
	require.NoError(t, second.Step(context.Background(), chain.Block{Height: 7}))
	require.Empty(t, f.sent, "no second commitment")
	open(f)
	f.c.Gpus[0].Revealed = true
	require.NoError(t, second.Step(context.Background(), chain.Block{Height: 9}))
	require.Len(t, f.sent, 1)
	require.Len(t, f.sent[0], 1)
	require.Equal(t, uint32(1), f.sent[0][0].(*poctypes.MsgRevealProof).GpuIndex)
	require.NoError(t, verify(t, f, f.sent[0]))
}

func TestMissedDeadlineSendsNothing(t *testing.T) {
	addr := sdk.AccAddress([]byte("provider-address-04"))
	f := &fakeChain{addr: addr, c: newChallenge(addr)}
	p, _ := newProver(f, false)
	require.NoError(t, p.Step(context.Background(), chain.Block{Height: 9}))
	require.Empty(t, f.sent)
}

// Two challenges issued in the same block (a capacity check and a
// dispute) are committed in one transaction, so neither waits for the
// other's inclusion; at the deadline height itself nothing is sent (it
// could only land after the deadline).
func TestSameBlockChallengesCommitTogether(t *testing.T) {
	addr := sdk.AccAddress([]byte("provider-address-05"))
	dispute := newChallenge(addr)
	dispute.Id, dispute.Kind = 8, poctypes.CHALLENGE_KIND_DISPUTE
	dispute.Gpus = dispute.Gpus[:1]
	f := &fakeChain{addr: addr, c: newChallenge(addr), extra: []poctypes.Challenge{dispute}}
	p, _ := newProver(f, false)

	require.NoError(t, p.Step(context.Background(), chain.Block{Height: 8}))
	require.Empty(t, f.sent, "at the deadline height a commitment can no longer land in time")

	require.NoError(t, p.Step(context.Background(), chain.Block{Height: 7}))
	require.Len(t, f.sent, 1, "one transaction")
	require.Len(t, f.sent[0], 2, "with both commitments")
	ids := []uint64{f.sent[0][0].(*poctypes.MsgCommitProof).ChallengeId, f.sent[0][1].(*poctypes.MsgCommitProof).ChallengeId}
	require.Equal(t, []uint64{7, 8}, ids)
	require.Len(t, f.sent[0][1].(*poctypes.MsgCommitProof).Commitments, 1)
}
