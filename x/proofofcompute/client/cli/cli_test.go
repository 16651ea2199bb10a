package cli_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/client/cli"
	"github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

const chainID = "gpumesh-cli-test"

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

// ProveChallenge binds each GPU's proof to the chain, challenge, block
// hash, provider and UUID exactly as the chain derives seeds: its
// commitments equal a direct proof from challenge.Seed, and differ per GPU.
func TestProveChallengeMatchesTheLibrary(t *testing.T) {
	c := fabricated(t, 64)
	proofs, err := cli.ProveChallenge(context.Background(), chainID, c, 0)
	require.NoError(t, err)
	msg := cli.CommitMsg(c, proofs)
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

	other, err := cli.ProveChallenge(context.Background(), chainID+"-other", c, 0)
	require.NoError(t, err)
	require.NotEqual(t, msg.Commitments[0], cli.CommitMsg(c, other).Commitments[0], "the chain id is in the seed")
}

// The reveals the CLI builds pass the chain's verifier at the chain's
// indices; --corrupt sends the first GPU's reveal alone, failing the path
// check.
func TestRevealMsgsVerifyAndCorrupt(t *testing.T) {
	c := fabricated(t, 64)
	proofs, err := cli.ProveChallenge(context.Background(), chainID, c, 0)
	require.NoError(t, err)
	commit := cli.CommitMsg(c, proofs)
	for i := range c.Gpus {
		c.Gpus[i].Commitment = commit.Commitments[i]
	}

	_, err = cli.RevealMsgs(c, nil, proofs, nil, false)
	require.ErrorContains(t, err, "is CHALLENGE_STATE_ISSUED")

	seed := sha256.Sum256([]byte("open block"))
	c.OpenSeeds, c.OpeningBlocks, c.State = [][]byte{seed[:]}, 1, types.CHALLENGE_STATE_OPENED
	openings := keeper.Openings(c)
	provider := sdk.MustAccAddressFromBech32(c.Provider)
	verify := func(m *types.MsgRevealProof) error {
		g := c.Gpus[m.GpuIndex]
		key := challenge.KeyFromSeed(challenge.Seed(challenge.SeedInput{
			ChainID: chainID, ChallengeID: c.Id, BlockHash: c.BlockHash, Provider: provider, GPUUUID: g.Uuid,
		}))
		p := g.ChallengeParams(c.Openings)
		return challenge.VerifyReveal(key, p, g.Commitment, challenge.Openings([][32]byte{seed}, m.GpuIndex, p), m.Reveal())
	}

	msgs, err := cli.RevealMsgs(c, openings, proofs, nil, false)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		require.NoError(t, m.ValidateBasic())
		require.NoError(t, verify(m), "gpu %d", m.GpuIndex)
	}

	msgs, err = cli.RevealMsgs(c, openings, proofs, nil, true)
	require.NoError(t, err)
	require.Len(t, msgs, 1, "a corrupt reveal is sent alone: it fails the challenge")
	require.True(t, errors.Is(verify(msgs[0]), challenge.ErrWrongPath))

	msgs, err = cli.RevealMsgs(c, openings, proofs, []uint32{1}, false)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, uint32(1), msgs[0].GpuIndex)
	_, err = cli.RevealMsgs(c, openings, proofs, []uint32{2}, false)
	require.ErrorContains(t, err, "gpu index 2: challenge 42 has 2 GPUs")
}

// Argument errors name the argument and its value.
func TestArgumentErrors(t *testing.T) {
	for _, s := range []string{"", "0", "-1", "seven"} {
		_, err := cli.ParseChallengeID(s)
		require.ErrorContains(t, err, `challenge id "`+s+`"`)
	}
	id, err := cli.ParseChallengeID(" 12 ")
	require.NoError(t, err)
	require.Equal(t, uint64(12), id)

	_, err = cli.ParseHash32("--samples-hash", "zz")
	require.ErrorContains(t, err, `--samples-hash "zz": not hex`)
	_, err = cli.ParseHash32("--samples-hash", "abcd")
	require.ErrorContains(t, err, "want 32 bytes, got 2")
	h := sha256.Sum256(nil)
	bz, err := cli.ParseHash32("x", "0x"+hexString(h[:]))
	require.NoError(t, err)
	require.Equal(t, h[:], bz)

}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
