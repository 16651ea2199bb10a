package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Audit after the security round (issue 20): free proofs.

// The free-proof check bounds a zero-fee transaction's gas limit from
// above only. CheckTx does not run the messages, so a reveal with a gas
// limit that covers the ante handler but not the verification is admitted
// without a fee, then runs out of gas in the block: it pays nothing, its
// bytes take block space, and since the GPU is still unrevealed and the
// free marks are dropped at every commit, the provider sends the same
// reveal again in every block of the reveal window, for free each time,
// before finally revealing properly. Safe: a free transaction whose gas
// limit is below what its proofs are computed to need is not free.
func TestAuditFreeProofUnderGasFailsInTheBlockForFree(t *testing.T) {
	f := newPoC(t, apptest.WithMinGasPrices(minGasPrice))
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "audit-free-undergas")
	c := f.nextChallenge(p1)
	proofs := f.prove(c)
	f.deliverBytes(f.freeTx(p1, f.seq(p1), commitMsg(c, proofs)))
	f.advanceTo(c.OpenedHeight())
	c = f.challenge(c.Id)
	reveal := f.revealMsg(c, proofs, 0)

	insufficient := sdkerrors.ErrInsufficientFee.ABCICode()
	freeFailures := 0
	for f.height() < c.RevealDeadlineHeight-1 {
		// Enough gas for the envelope (bytes, signature, account) and then
		// some, not for the whole proof.
		bz := f.encode(p1, f.seq(p1), wireTx{msgs: []sdk.Msg{reveal}, gas: 1 << 20})
		needed := f.freeGas(reveal).Cost(len(bz), f.txCosts())
		gas := needed - 15_000
		bz = f.encode(p1, f.seq(p1), wireTx{msgs: []sdk.Msg{reveal}, gas: gas})
		res := f.check(bz)
		if res.Code == insufficient {
			break // refused: the hole is closed
		}
		require.Equal(t, uint32(0), res.Code, res.Log)
		out := f.a.NextBlock(bz).TxResults[0]
		require.Equal(t, sdkerrors.ErrOutOfGas.ABCICode(), out.Code, out.Log)
		freeFailures++
		t.Logf("height %d: reveal of %d bytes admitted free with gas limit %d (its proofs need about %d), out of gas in the block",
			f.height(), len(bz), gas, needed)
	}
	require.Equal(t, types.CHALLENGE_STATE_OPENED, f.challenge(c.Id).State, "still open: the provider can now reveal properly")
	require.Zero(t, freeFailures,
		"a free reveal whose gas limit cannot cover its proof was admitted without a fee and failed in %d blocks", freeFailures)
}
