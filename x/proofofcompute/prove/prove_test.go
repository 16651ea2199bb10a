package prove_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

const chainID = "gpumesh-prove-test"

// fabricated builds a two-GPU challenge as the chain would store it.
func fabricated(t *testing.T, n uint32) types.Challenge {
	t.Helper()
	provider := sdk.AccAddress(make([]byte, 20))
	provider[19] = 7
	bh := sha256.Sum256([]byte("cli test block"))
	return types.Challenge{
		Id: 42, Kind: types.CHALLENGE_KIND_CAPACITY, Provider: provider.String(), NodeId: "n1", Openings: 16,
		Gpus: []types.ChallengedGPU{
			{Uuid: "GPU-aaaa", NodeId: "n1", Class: "h100-sxm-80g", N: n, M: 1},
			{Uuid: "GPU-bbbb", NodeId: "n1", Class: "h100-sxm-80g", N: n, M: 2},
		},
		IssueHeight: 10, BlockHash: bh[:], CommitDeadlineHeight: 13, OpenHeight: 14, RevealDeadlineHeight: 24,
		State: types.CHALLENGE_STATE_ISSUED,
	}
}

// openings lists each GPU's indices for the open seeds, as the chain's
// Challenge query publishes them.
func openings(c types.Challenge, seeds [][32]byte) []types.GPUOpenings {
	out := make([]types.GPUOpenings, len(c.Gpus))
	for g, gpu := range c.Gpus {
		idx := challenge.Openings(seeds, uint32(g), gpu.ChallengeParams(c.Openings))
		out[g] = types.GPUOpenings{GpuIndex: uint32(g), Uuid: gpu.Uuid, Indices: make([]types.OpeningIndex, len(idx))}
		for t, x := range idx {
			out[g].Indices[t] = types.OpeningIndex{B: x.B, I: x.I, J: x.J}
		}
	}
	return out
}

// Challenge binds each GPU's proof to the chain, challenge, block hash,
// provider and UUID exactly as the chain derives seeds: its commitments
// equal a direct proof from challenge.Seed, and differ per GPU.
func TestChallengeMatchesTheLibrary(t *testing.T) {
	c := fabricated(t, 64)
	proofs, err := prove.Challenge(context.Background(), chainID, c, 0)
	require.NoError(t, err)
	msg := prove.CommitMsg(c, proofs)
	require.NoError(t, msg.ValidateBasic())
	require.Len(t, msg.Commitments, 2)
	require.NotEqual(t, msg.Commitments[0], msg.Commitments[1])

	provider := sdk.MustAccAddressFromBech32(c.Provider)
	key := challenge.KeyFromSeed(challenge.Seed(challenge.SeedInput{
		ChainID: chainID, ChallengeID: c.Id, BlockHash: c.BlockHash, Provider: provider, GPUUUID: "GPU-bbbb",
	}))
	direct, err := challenge.Prove(context.Background(), key, challenge.Params{N: 64, M: 2, K: 16},
		challenge.CPUMultiplier(1), challenge.ProverOptions{})
	require.NoError(t, err)
	want := direct.Commitment()
	require.Equal(t, want[:], msg.Commitments[1])

	other, err := prove.Challenge(context.Background(), chainID+"-other", c, 0)
	require.NoError(t, err)
	require.NotEqual(t, msg.Commitments[0], prove.CommitMsg(c, other).Commitments[0], "the chain id is in the seed")
}

// The reveals pass the chain's verifier at the chain's indices;
// CorruptReveals keeps the first GPU's reveal alone, failing the path
// check.
func TestRevealMsgsVerifyAndCorrupt(t *testing.T) {
	c := fabricated(t, 64)
	proofs, err := prove.Challenge(context.Background(), chainID, c, 0)
	require.NoError(t, err)
	commit := prove.CommitMsg(c, proofs)
	for i := range c.Gpus {
		c.Gpus[i].Commitment = commit.Commitments[i]
	}

	_, err = prove.RevealMsgs(c, nil, proofs, nil)
	require.ErrorContains(t, err, "is CHALLENGE_STATE_ISSUED")

	seed := sha256.Sum256([]byte("open block"))
	c.OpenSeeds, c.OpeningBlocks, c.State = [][]byte{seed[:]}, 1, types.CHALLENGE_STATE_OPENED
	opened := openings(c, [][32]byte{seed})
	provider := sdk.MustAccAddressFromBech32(c.Provider)
	verify := func(m *types.MsgRevealProof) error {
		g := c.Gpus[m.GpuIndex]
		key := challenge.KeyFromSeed(challenge.Seed(challenge.SeedInput{
			ChainID: chainID, ChallengeID: c.Id, BlockHash: c.BlockHash, Provider: provider, GPUUUID: g.Uuid,
		}))
		p := g.ChallengeParams(c.Openings)
		return challenge.VerifyReveal(key, p, g.Commitment, challenge.Openings([][32]byte{seed}, m.GpuIndex, p), m.Reveal())
	}

	msgs, err := prove.RevealMsgs(c, opened, proofs, nil)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		require.NoError(t, m.ValidateBasic())
		require.NoError(t, verify(m), "gpu %d", m.GpuIndex)
	}

	msgs = prove.CorruptReveals(msgs)
	require.Len(t, msgs, 1, "a corrupt reveal is sent alone: it fails the challenge")
	require.Equal(t, uint32(0), msgs[0].GpuIndex)
	require.True(t, errors.Is(verify(msgs[0]), challenge.ErrWrongPath))
	require.Empty(t, prove.CorruptReveals(nil))

	msgs, err = prove.RevealMsgs(c, opened, proofs, []uint32{1})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, uint32(1), msgs[0].GpuIndex)
	_, err = prove.RevealMsgs(c, opened, proofs, []uint32{2})
	require.ErrorContains(t, err, "gpu index 2: challenge 42 has 2 GPUs")
}

// The package is shared by gpumeshd and the sidecar: it must not pull in
// the application, keepers or the modules' commands, and does not import
// cobra itself (the SDK's version package, under its types, does).
func TestProveLinksOnlyTypesAndChallenge(t *testing.T) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps}, ".")
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	deps := map[string]bool{}
	var walk func(p *packages.Package)
	walk = func(p *packages.Package) {
		for path, dep := range p.Imports {
			if !deps[path] {
				deps[path] = true
				walk(dep)
			}
		}
	}
	walk(pkgs[0])
	require.True(t, deps["github.com/gpumesh/gpumesh/x/proofofcompute/challenge"], "the walk reached the library")
	for path := range deps {
		require.NotRegexp(t, `^github\.com/gpumesh/gpumesh/(app|testutil|x/[^/]+$|x/[^/]+/(keeper|client))`, path)
	}
	require.NotContains(t, pkgs[0].Imports, "github.com/spf13/cobra")
}
