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
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

const chainID = "gpumesh-test-1"

// fakeChain holds one challenge (and optionally more) and records what
// the prover sends.
type fakeChain struct {
	addr  sdk.AccAddress
	c     poctypes.Challenge
	extra []poctypes.Challenge
	sent  [][]sdk.Msg
	// pp are the provider params (the GPU classes); nil = testClasses.
	pp *providertypes.Params
}

// testParams are GPU classes sized as newChallenge's GPUs.
func testParams() providertypes.Params {
	return providertypes.Params{MaxGpusPerNode: 8, GpuClasses: []providertypes.GPUClass{
		{Name: "test-a", ChallengeN: 256, ChallengeM: 1},
		{Name: "test-b", ChallengeN: 256, ChallengeM: 2},
	}}
}

func (f *fakeChain) ProviderParams(context.Context) (providertypes.Params, error) {
	if f.pp != nil {
		return *f.pp, nil
	}
	return testParams(), nil
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
			{Uuid: "GPU-00000000-0000-5000-8000-000000000001", Class: "test-a", N: 256, M: 1},
			{Uuid: "GPU-00000000-0000-5000-8000-000000000002", Class: "test-b", N: 256, M: 2},
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

// Challenges the chain's rules would not produce are refused before any
// memory is allocated: not computed, nothing sent, counted once by
// reason, and no step error (no retry storm). The huge one would need
// 4·65536²·16 bytes (256 GiB) of Merkle trees.
func TestChallengeSizeRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		gpu    poctypes.ChallengedGPU
		reason string
		msg    string
	}{
		"huge, class says 256": {poctypes.ChallengedGPU{Class: "test-a", N: 65536, M: 16}, prover.RefusedClass,
			"n 65536, m 16, but class test-a challenges with challenge_n 256, challenge_m 1"},
		"smaller than the class": {poctypes.ChallengedGPU{Class: "test-b", N: 128, M: 2}, prover.RefusedClass,
			"n 128, m 2, but class test-b"},
		"outside the protocol": {poctypes.ChallengedGPU{Class: "test-a", N: 1 << 17, M: 1}, prover.RefusedProtocol,
			"n must be a power of two in [64, 65536], got 131072"},
		"unknown class": {poctypes.ChallengedGPU{Class: "h100-sxm-80g", N: 256, M: 1}, prover.RefusedClass,
			`class "h100-sxm-80g" is not a GPU class on chain`},
	} {
		t.Run(name, func(t *testing.T) {
			addr := sdk.AccAddress([]byte("provider-address-06"))
			c := newChallenge(addr)
			tc.gpu.Uuid = "GPU-00000000-0000-5000-8000-000000000003"
			c.Gpus = append(c.Gpus, tc.gpu)
			f := &fakeChain{addr: addr, c: c}
			board := state.NewBoard()
			m := metrics.New(prometheus.NewRegistry())
			p := prover.New(f, prover.Options{Multiplier: challenge.CPUMultiplier(2)}, board, m,
				slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			require.NoError(t, p.Step(context.Background(), chain.Block{Height: 6}))
			require.NoError(t, p.Step(context.Background(), chain.Block{Height: 7}))
			require.Empty(t, f.sent, "nothing committed")
			require.InDelta(t, 1, testutil.ToFloat64(m.ChallengesRefused.WithLabelValues(tc.reason)), 0, "counted once")
			list := board.Challenges()
			require.Len(t, list, 1)
			require.Contains(t, list[0].Outcome, "refused: ")
			require.Contains(t, list[0].Outcome, tc.msg)
		})
	}
}

// The memory cap counts the proofs already held: a challenge that fits
// alone is refused while another one's proofs are kept for its reveal,
// and a challenge that never fits is refused outright.
func TestChallengeMemoryCap(t *testing.T) {
	addr := sdk.AccAddress([]byte("provider-address-07"))
	c := newChallenge(addr)
	need := prover.ProofMemory(c)
	require.Equal(t, uint64(4*256*256*3+256*256+64*4*256), need)

	f := &fakeChain{addr: addr, c: c}
	m := metrics.New(prometheus.NewRegistry())
	p := prover.New(f, prover.Options{Multiplier: challenge.CPUMultiplier(2), MaxMemoryBytes: need - 1}, state.NewBoard(),
		m, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.NoError(t, p.Step(context.Background(), chain.Block{Height: 6}))
	require.Empty(t, f.sent)
	require.InDelta(t, 1, testutil.ToFloat64(m.ChallengesRefused.WithLabelValues(prover.RefusedMemory)), 0)

	second := newChallenge(addr)
	second.Id = 8
	f = &fakeChain{addr: addr, c: newChallenge(addr), extra: []poctypes.Challenge{second}}
	m = metrics.New(prometheus.NewRegistry())
	p = prover.New(f, prover.Options{Multiplier: challenge.CPUMultiplier(2), MaxMemoryBytes: need + need/2}, state.NewBoard(),
		m, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	require.NoError(t, p.Step(context.Background(), chain.Block{Height: 6}))
	require.Len(t, f.sent, 1)
	require.Len(t, f.sent[0], 1, "only the first challenge fits beside nothing else")
	require.Equal(t, uint64(7), f.sent[0][0].(*poctypes.MsgCommitProof).ChallengeId)
	require.InDelta(t, 1, testutil.ToFloat64(m.ChallengesRefused.WithLabelValues(prover.RefusedMemory)), 0)
}

func TestMemoryLimit(t *testing.T) {
	require.Equal(t, uint64(4096)<<20, prover.MemoryLimit(4096))
}

// A provider with two machines runs two sidecars on one account: each
// answers only the capacity challenges of its own node, and a dispute
// (no node) is answered by the machine holding its first GPU, so no
// challenge is computed and committed twice.
func TestEachMachineAnswersItsOwnChallenges(t *testing.T) {
	addr := sdk.AccAddress([]byte("provider-address-06"))
	other := newChallenge(addr)
	other.Id, other.NodeId = 8, "n2"
	dispute := newChallenge(addr)
	dispute.Id, dispute.Kind, dispute.NodeId = 9, poctypes.CHALLENGE_KIND_DISPUTE, ""
	dispute.Gpus[0].NodeId, dispute.Gpus[1].NodeId = "n2", "n1"
	committed := func(node string) []uint64 {
		f := &fakeChain{addr: addr, c: newChallenge(addr), extra: []poctypes.Challenge{other, dispute}}
		m := metrics.New(prometheus.NewRegistry())
		p := prover.New(f, prover.Options{Multiplier: challenge.CPUMultiplier(2), NodeID: node}, state.NewBoard(), m,
			slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		require.NoError(t, p.Step(context.Background(), chain.Block{Height: 6}))
		var ids []uint64
		for _, tx := range f.sent {
			for _, msg := range tx {
				ids = append(ids, msg.(*poctypes.MsgCommitProof).ChallengeId)
			}
		}
		return ids
	}
	require.Equal(t, []uint64{7}, committed("n1"))
	require.Equal(t, []uint64{8, 9}, committed("n2"), "its node's check and the dispute whose first GPU it holds")
	require.Equal(t, []uint64{7, 8, 9}, committed(""), "no node configured: every challenge")
}
