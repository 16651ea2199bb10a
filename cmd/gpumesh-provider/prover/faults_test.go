//go:build gpumesh_faults

package prover_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

func faultsFor(corrupt bool) prover.Faults { return prover.Faults{CorruptOpening: corrupt} }

// The test build's corrupt-opening fault sends one reveal that the
// chain's verifier rejects.
func TestCorruptOpeningFaultFailsVerification(t *testing.T) {
	addr := sdk.AccAddress([]byte("provider-address-03"))
	f := &fakeChain{addr: addr, c: newChallenge(addr)}
	p, _ := newProver(f, true)
	require.NoError(t, p.Step(context.Background(), chain.Block{Height: 6}))
	commit := f.sent[0][0].(*poctypes.MsgCommitProof)
	for i := range f.c.Gpus {
		f.c.Gpus[i].Commitment = commit.Commitments[i]
	}
	open(f)
	require.NoError(t, p.Step(context.Background(), chain.Block{Height: 9}))
	require.Len(t, f.sent, 2)
	require.Len(t, f.sent[1], 1, "the first GPU's corrupted reveal alone")
	require.ErrorIs(t, verify(t, f, f.sent[1]), challenge.ErrWrongPath)
}
