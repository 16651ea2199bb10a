package types_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

func twoGPUChallenge() types.Challenge {
	return types.Challenge{Id: 7, Openings: 16, Gpus: []types.ChallengedGPU{
		{Uuid: "GPU-a", NodeId: "n1", N: 256, M: 1},
		{Uuid: "GPU-b", NodeId: "n1", N: 1024, M: 2},
	}}
}

// The cap adds the allowances of each message, the size and one
// signature, times 1.25; the pass allowance comes once, with the reveal
// that completes the challenge, and only then are the node GPUs asked for.
func TestFreeGasCap(t *testing.T) {
	gas := types.DefaultParams().Gas
	c := twoGPUChallenge()
	costs := types.TxGasCosts{PerByte: 10, SigVerify: 1000}
	noNodes := func() (int, error) { t.Fatal("node GPUs asked for a reveal that does not complete"); return 0, nil }
	reveal := func(g uint32) uint64 {
		return types.FreeRevealGas + 2*types.FreeRevealGasPerGPU + gas.RevealCost(c.Gpus[g].ChallengeParams(c.Openings))
	}
	pass := uint64(types.FreePassGas + 2*types.FreePassGasPerGPU + 8*types.FreePassGasPerNodeGPU)

	commit := types.NewFreeGas(gas)
	require.NoError(t, commit.Add(c, &types.MsgCommitProof{ChallengeId: 7}, noNodes))
	want := uint64(types.FreeTxGas+types.FreeCommitGas+2*types.FreeCommitGasPerGPU) + 500*10 + 1000
	require.Equal(t, want, commit.Cost(500, costs))
	require.Equal(t, want*125/100, commit.Cap(500, costs))

	first := types.NewFreeGas(gas)
	require.NoError(t, first.Add(c, &types.MsgRevealProof{ChallengeId: 7, GpuIndex: 0}, noNodes))
	require.Equal(t, types.FreeTxGas+reveal(0), first.Cost(0, types.TxGasCosts{}))

	both := types.NewFreeGas(gas)
	asked := 0
	eight := func() (int, error) { asked++; return 8, nil }
	require.NoError(t, both.Add(c, &types.MsgRevealProof{ChallengeId: 7, GpuIndex: 1}, eight))
	require.Zero(t, asked)
	require.NoError(t, both.Add(c, &types.MsgRevealProof{ChallengeId: 7, GpuIndex: 0}, eight))
	require.Equal(t, 1, asked)
	require.Equal(t, types.FreeTxGas+reveal(0)+reveal(1)+pass, both.Cost(0, types.TxGasCosts{}))

	c.Gpus[0].Revealed = true
	last := types.NewFreeGas(gas)
	require.NoError(t, last.Add(c, &types.MsgRevealProof{ChallengeId: 7, GpuIndex: 1}, eight))
	require.Equal(t, types.FreeTxGas+reveal(1)+pass, last.Cost(0, types.TxGasCosts{}))

	require.ErrorContains(t, last.Add(c, &types.MsgRevealProof{ChallengeId: 7, GpuIndex: 2}, eight), "gpu_index 2")
	require.ErrorContains(t, last.Add(c, &banktypes.MsgSend{}, eight), "/cosmos.bank.v1beta1.MsgSend is not a proof")
	require.Equal(t, uint64(math.MaxUint64), last.Cap(1, types.TxGasCosts{PerByte: math.MaxUint64}), "saturates")
}

// MsgEntryBytes is exactly what a message adds to an encoded TxBody.
func TestMsgEntryBytes(t *testing.T) {
	reveal := &types.MsgRevealProof{Provider: "gpumesh1provider", ChallengeId: 300, GpuIndex: 3,
		Roots:    [][]byte{make([]byte, challenge.HashSize)},
		Openings: []types.Opening{{Leaf: make([]byte, challenge.LeafBytes), Siblings: [][]byte{make([]byte, 32)}}}}
	for _, m := range []sdk.Msg{reveal, &types.MsgCommitProof{ChallengeId: 1, Commitments: [][]byte{make([]byte, 32)}}} {
		a, err := codectypes.NewAnyWithValue(m)
		require.NoError(t, err)
		empty, err := (&txtypes.TxBody{Memo: "x"}).Marshal()
		require.NoError(t, err)
		one, err := (&txtypes.TxBody{Memo: "x", Messages: []*codectypes.Any{a}}).Marshal()
		require.NoError(t, err)
		require.Equal(t, len(one)-len(empty), types.MsgEntryBytes(m), sdk.MsgTypeURL(m))
	}
	require.Equal(t, types.FreeEnvelopeBytes+2*types.MsgEntryBytes(reveal), types.FreeMaxTxBytes([]sdk.Msg{reveal, reveal}))
}

// PassNodeGPUs counts each node holding a challenged GPU once, and skips
// GPUs the provider no longer lists.
func TestPassNodeGPUs(t *testing.T) {
	n1 := providertypes.Node{Id: "n1", Gpus: make([]providertypes.GPU, 8)}
	n2 := providertypes.Node{Id: "n2", Gpus: make([]providertypes.GPU, 4)}
	c := types.Challenge{Gpus: []types.ChallengedGPU{{Uuid: "a"}, {Uuid: "b"}, {Uuid: "c"}, {Uuid: "gone"}}}
	where := map[string]providertypes.Node{"a": n1, "b": n2, "c": n1}
	got, err := types.PassNodeGPUs(c, func(g types.ChallengedGPU) (providertypes.Node, bool, error) {
		n, ok := where[g.Uuid]
		return n, ok, nil
	})
	require.NoError(t, err)
	require.Equal(t, 12, got)
}
