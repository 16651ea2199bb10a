package keeper_test

import (
	"math/rand"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// checkTx signs msgs with the given sequence and fee and runs CheckTx. (The
// CheckTx state's sequence moves with every accepted tx, so tests pass
// sequences explicitly.)
func (f *pocFixture) checkTx(signer apptest.Account, seq uint64, fee sdk.Coins, msgs ...sdk.Msg) *abci.ResponseCheckTx {
	f.t.Helper()
	acc := f.a.AccountKeeper.GetAccount(f.a.Ctx(), signer.Address)
	tx, err := simtestutil.GenSignedMockTx(rand.New(rand.NewSource(1)), f.a.TxConfig(), msgs, fee, 1_000_000, apptest.ChainID,
		[]uint64{acc.GetAccountNumber()}, []uint64{seq}, signer.PrivKey)
	require.NoError(f.t, err)
	bz, err := f.a.TxConfig().TxEncoder()(tx)
	require.NoError(f.t, err)
	res, err := f.a.CheckTx(&abci.RequestCheckTx{Tx: bz, Type: abci.CheckTxType_New})
	require.NoError(f.t, err)
	return res
}

// With a validator minimum of 0.1umesh per gas, a provider's commit for its
// own open challenge enters the mempool without a fee, once; the same
// commit again, someone else's proof, a transaction mixing a proof with a
// bank send, a plain bank send and a late proof all pay the minimum — and
// pass when they do.
func TestZeroFeeProofsOnlyForOwnOpenChallenges(t *testing.T) {
	f := newPoC(t, apptest.WithMinGasPrices("0.1"+app.BondDenom))
	p1, p2 := f.a.Account("provider1"), f.a.Account("provider2")
	f.onboard("provider1", "poc-fees")
	c := f.nextChallenge(p1)
	commit := commitMsg(c, f.prove(c))
	none := sdk.NewCoins()
	seq := func(a apptest.Account) uint64 {
		return f.a.AccountKeeper.GetAccount(f.a.Ctx(), a.Address).GetSequence()
	}
	s1, s2 := seq(p1), seq(p2)
	insufficient := sdkerrors.ErrInsufficientFee.ABCICode()

	send := &banktypes.MsgSend{FromAddress: p1.Address.String(), ToAddress: p2.Address.String(),
		Amount: sdk.NewCoins(sdk.NewCoin(app.BondDenom, math.NewInt(1)))}
	res := f.checkTx(p1, s1, none, send)
	require.Equal(t, insufficient, res.Code, "a bank send without a fee: %s", res.Log)
	res = f.checkTx(p1, s1, none, commit, send)
	require.Equal(t, insufficient, res.Code, "a proof does not carry another message for free")
	stolen := *commit
	stolen.Provider = p2.Address.String()
	res = f.checkTx(p2, s2, none, &stolen)
	require.Equal(t, insufficient, res.Code, "someone else's challenge")

	res = f.checkTx(p1, s1, none, commit)
	require.Equal(t, uint32(0), res.Code, "the provider's own commit is free: %s", res.Log)
	res = f.checkTx(p1, s1+1, none, commit)
	require.Equal(t, insufficient, res.Code, "the same commit is not free twice before the next block")
	paid := sdk.NewCoins(sdk.NewCoin(app.BondDenom, math.NewInt(100_000))) // 0.1 × 1 000 000 gas
	res = f.checkTx(p1, s1+1, paid, send)
	require.Equal(t, uint32(0), res.Code, "paying the minimum works: %s", res.Log)

	// After the deadline the commit is no longer free (and would fail).
	f.advanceTo(c.CommitDeadlineHeight + 1)
	res = f.checkTx(p1, seq(p1), none, commit)
	require.Equal(t, insufficient, res.Code, "a late proof pays the minimum")
	require.Equal(t, types.CHALLENGE_STATE_MISSED, f.challenge(c.Id).State)
}
