package keeper_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// minGasPrice is the validator minimum of the fee tests, per gas.
const minGasPrice = "0.1" + app.BondDenom

// wireTx is a transaction signed the way a wallet signs one
// (SIGN_MODE_DIRECT, one secp256k1 signer), with every part of the
// envelope under the test's control.
type wireTx struct {
	msgs []sdk.Msg
	fee  sdk.Coins
	gas  uint64
	memo string
	// ext and nonCritical are the body's extension options.
	ext, nonCritical []*codectypes.Any
	// junk is appended to the body bytes (unknown or repeated fields).
	junk []byte
	// The body's timeout fields.
	timeoutHeight uint64
	timeoutTime   *time.Time
	unordered     bool
}

// encode signs tx by signer with sequence seq and returns its bytes.
func (f *pocFixture) encode(signer apptest.Account, seq uint64, tx wireTx) []byte {
	f.t.Helper()
	cdc := f.a.AppCodec()
	body := &txtypes.TxBody{Memo: tx.memo, TimeoutHeight: tx.timeoutHeight, TimeoutTimestamp: tx.timeoutTime,
		Unordered: tx.unordered, ExtensionOptions: tx.ext, NonCriticalExtensionOptions: tx.nonCritical}
	for _, m := range tx.msgs {
		a, err := codectypes.NewAnyWithValue(m)
		require.NoError(f.t, err)
		body.Messages = append(body.Messages, a)
	}
	bodyBz, err := cdc.Marshal(body)
	require.NoError(f.t, err)
	bodyBz = append(bodyBz, tx.junk...)
	pk, err := codectypes.NewAnyWithValue(signer.PrivKey.PubKey())
	require.NoError(f.t, err)
	authBz, err := cdc.Marshal(&txtypes.AuthInfo{
		SignerInfos: []*txtypes.SignerInfo{{PublicKey: pk, Sequence: seq, ModeInfo: &txtypes.ModeInfo{
			Sum: &txtypes.ModeInfo_Single_{Single: &txtypes.ModeInfo_Single{Mode: signing.SignMode_SIGN_MODE_DIRECT}}}}},
		Fee: &txtypes.Fee{Amount: tx.fee, GasLimit: tx.gas},
	})
	require.NoError(f.t, err)
	acc := f.a.AccountKeeper.GetAccount(f.a.Ctx(), signer.Address)
	signBytes, err := authtx.DirectSignBytes(bodyBz, authBz, apptest.ChainID, acc.GetAccountNumber())
	require.NoError(f.t, err)
	sig, err := signer.PrivKey.Sign(signBytes)
	require.NoError(f.t, err)
	bz, err := cdc.Marshal(&txtypes.TxRaw{BodyBytes: bodyBz, AuthInfoBytes: authBz, Signatures: [][]byte{sig}})
	require.NoError(f.t, err)
	return bz
}

// check runs CheckTx on a new transaction.
func (f *pocFixture) check(bz []byte) *abci.ResponseCheckTx {
	f.t.Helper()
	res, err := f.a.CheckTx(&abci.RequestCheckTx{Tx: bz, Type: abci.CheckTxType_New})
	require.NoError(f.t, err)
	return res
}

// seq is an account's sequence in committed state. (The CheckTx state's
// sequence, which a.Ctx() reads, moves with every accepted tx, so tests
// pass sequences explicitly.)
func (f *pocFixture) seq(a apptest.Account) uint64 {
	f.t.Helper()
	return f.a.AccountKeeper.GetAccount(f.a.KeeperCtx(), a.Address).GetSequence()
}

// paying is the fee for gas at minGasPrice.
func paying(gas uint64) sdk.Coins {
	return sdk.NewCoins(sdk.NewCoin(app.BondDenom, math.NewIntFromUint64((gas+9)/10)))
}

// freeGas sums the allowances of msgs as the chain does, from committed
// state.
func (f *pocFixture) freeGas(msgs ...sdk.Msg) *types.FreeGas {
	f.t.Helper()
	params, err := f.a.ProofOfComputeKeeper.GetParams(f.a.Ctx())
	require.NoError(f.t, err)
	sum := types.NewFreeGas(params.Gas)
	for _, m := range msgs {
		var id uint64
		switch msg := m.(type) {
		case *types.MsgCommitProof:
			id = msg.ChallengeId
		case *types.MsgRevealProof:
			id = msg.ChallengeId
		}
		c := f.challenge(id)
		require.NoError(f.t, sum.Add(c, m, func() (int, error) { return f.nodeGPUs(c), nil }))
	}
	return sum
}

// nodeGPUs counts the GPUs on the nodes holding c's GPUs, from the
// provider's inventory.
func (f *pocFixture) nodeGPUs(c types.Challenge) int {
	f.t.Helper()
	nodes, err := f.a.ProviderKeeper.GetInventory(f.a.Ctx(), sdk.MustAccAddressFromBech32(c.Provider))
	require.NoError(f.t, err)
	n, err := types.PassNodeGPUs(c, func(g types.ChallengedGPU) (providertypes.Node, bool, error) {
		for _, node := range nodes {
			for _, ng := range node.Gpus {
				if ng.Uuid == g.Uuid {
					return node, true, nil
				}
			}
		}
		return providertypes.Node{}, false, nil
	})
	require.NoError(f.t, err)
	return n
}

// txCosts are x/auth's gas costs in committed state.
func (f *pocFixture) txCosts() types.TxGasCosts {
	p := f.a.AccountKeeper.GetParams(f.a.Ctx())
	return types.TxGasCosts{PerByte: p.TxSizeCostPerByte, SigVerify: p.SigVerifyCostSecp256k1}
}

// freeTx signs msgs without a fee and with the largest gas limit the chain
// allows them: the cap at the size the transaction has with no gas limit
// (a gas limit only adds bytes, which only raises the cap).
func (f *pocFixture) freeTx(signer apptest.Account, seq uint64, msgs ...sdk.Msg) []byte {
	f.t.Helper()
	tx := wireTx{msgs: msgs}
	tx.gas = f.freeGas(msgs...).Cap(len(f.encode(signer, seq, tx)), f.txCosts())
	return f.encode(signer, seq, tx)
}

// With a validator minimum of 0.1umesh per gas, a provider's commit for its
// own open challenge enters the mempool without a fee, once; the same
// commit again, someone else's proof, a transaction mixing a proof with a
// bank send, a plain bank send and a late proof all pay the minimum (the
// refusal names the fee and why the transaction is not free) — and pass
// when they do.
func TestZeroFeeProofsOnlyForOwnOpenChallenges(t *testing.T) {
	f := newPoC(t, apptest.WithMinGasPrices(minGasPrice))
	p1, p2 := f.a.Account("provider1"), f.a.Account("provider2")
	f.onboard("provider1", "poc-fees")
	c := f.nextChallenge(p1)
	commit := commitMsg(c, f.prove(c))
	s1, s2 := f.seq(p1), f.seq(p2)
	insufficient := sdkerrors.ErrInsufficientFee.ABCICode()

	send := &banktypes.MsgSend{FromAddress: p1.Address.String(), ToAddress: p2.Address.String(),
		Amount: sdk.NewCoins(sdk.NewCoin(app.BondDenom, math.NewInt(1)))}
	res := f.check(f.encode(p1, s1, wireTx{msgs: []sdk.Msg{send}, gas: 100_000}))
	require.Equal(t, insufficient, res.Code, "a bank send without a fee: %s", res.Log)
	require.Contains(t, res.Log, "below the minimum 10000"+app.BondDenom+" for 100000 gas")
	require.Contains(t, res.Log, "not free: message 0 is /cosmos.bank.v1beta1.MsgSend, not a proof")
	res = f.check(f.encode(p1, s1, wireTx{msgs: []sdk.Msg{commit, send}, gas: 100_000}))
	require.Equal(t, insufficient, res.Code, "a proof does not carry another message for free")
	require.Contains(t, res.Log, "not free: message 1 is /cosmos.bank.v1beta1.MsgSend, not a proof")
	stolen := *commit
	stolen.Provider = p2.Address.String()
	res = f.check(f.freeTx(p2, s2, &stolen))
	require.Equal(t, insufficient, res.Code, "someone else's challenge")
	require.Contains(t, res.Log, fmt.Sprintf("not free: message 0: challenge %d is %s's, not %s's", c.Id, p1.Address, p2.Address))

	res = f.check(f.freeTx(p1, s1, commit))
	require.Equal(t, uint32(0), res.Code, "the provider's own commit is free: %s", res.Log)
	res = f.check(f.freeTx(p1, s1+1, commit))
	require.Equal(t, insufficient, res.Code, "the same commit is not free twice before the next block")
	require.Contains(t, res.Log, "not free: message 0: the same proof was already admitted without a fee since the last block")
	res = f.check(f.encode(p1, s1+1, wireTx{msgs: []sdk.Msg{send}, gas: 100_000, fee: paying(100_000)}))
	require.Equal(t, uint32(0), res.Code, "paying the minimum works: %s", res.Log)

	// After the deadline the commit is no longer free (and would fail).
	f.advanceTo(c.CommitDeadlineHeight + 1)
	res = f.check(f.freeTx(p1, f.seq(p1), commit))
	require.Equal(t, insufficient, res.Code, "a late proof pays the minimum")
	require.Contains(t, res.Log, fmt.Sprintf("not free: message 0: challenge %d: commit deadline was height %d",
		c.Id, c.CommitDeadlineHeight))
	f.advanceTo(c.OpenedHeight())
	require.Equal(t, types.CHALLENGE_STATE_MISSED, f.challenge(c.Id).State)
	res = f.check(f.freeTx(p1, f.seq(p1), commit))
	require.Contains(t, res.Log, fmt.Sprintf("not free: message 0: challenge %d is %s", c.Id, types.CHALLENGE_STATE_MISSED))
}

// A free commit or reveal carries nothing its proof does not need: with
// 100 KB of non-critical unknown fields in the body, a 100 KB non-critical
// extension option (of a type registered for the test), a 256-byte memo, 100 KB hidden under a repeated memo field
// (no unknown field, but bytes the proof does not need) or a gas limit of
// 50 000 000 it is refused with the reason; the same transaction paying
// the minimum for its gas is admitted, and the honest proof stays free.
func TestFreeProofsCarryNoJunk(t *testing.T) {
	f := newPoC(t, apptest.WithMinGasPrices(minGasPrice))
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "poc-junk")
	c := f.nextChallenge(p1)
	proofs := f.prove(c)
	insufficient := sdkerrors.ErrInsufficientFee.ABCICode()

	junk := []byte(strings.Repeat("j", 100_000))
	// Field 1025 has bit 11 set: non-critical, so the SDK's decoder lets
	// it through in a body.
	unknown := protowire.AppendBytes(protowire.AppendTag(nil, 1025, protowire.BytesType), junk)
	memoField := func(b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), b)
	}
	repeatedMemo := append(memoField(junk), memoField(nil)...) // decodes to an empty memo
	ext, err := codectypes.NewAnyWithValue(&banktypes.MsgSend{FromAddress: string(junk)})
	require.NoError(t, err)
	// The app registers no extension option type, so the SDK's decoder
	// refuses any transaction with one, fee or not. Register one, as a
	// chain that accepts extension options would: free proofs still
	// refuse it.
	res := f.check(f.encode(p1, f.seq(p1), wireTx{msgs: []sdk.Msg{commitMsg(c, proofs)}, gas: 2_000_000,
		fee: paying(2_000_000), nonCritical: []*codectypes.Any{ext}}))
	require.Equal(t, sdkerrors.ErrTxDecode.ABCICode(), res.Code, res.Log)
	f.a.InterfaceRegistry().RegisterImplementations((*txtypes.TxExtensionOptionI)(nil), &banktypes.MsgSend{})
	cases := []struct {
		name   string
		tx     wireTx
		reason string
	}{
		{"100 KB of non-critical unknown fields", wireTx{junk: unknown}, "the body has unknown fields"},
		{"a 100 KB non-critical extension option", wireTx{nonCritical: []*codectypes.Any{ext}},
			"1 non-critical extension options; a free transaction has none"},
		// (A 1 KB memo is over x/auth's max_memo_characters, 256: refused
		// fee or not.)
		{"a 256-byte memo", wireTx{memo: strings.Repeat("m", 256)}, "memo is 256 bytes, at most 64"},
		{"100 KB under a repeated memo field", wireTx{junk: repeatedMemo}, "at most"},
		{"a gas limit of 50 000 000", wireTx{gas: 50_000_000}, "gas limit 50000000 is above the computed"},
	}
	try := func(msg sdk.Msg) {
		t.Helper()
		s := f.seq(p1)
		for _, tc := range cases {
			tx := tc.tx
			tx.msgs = []sdk.Msg{msg}
			if tx.gas == 0 {
				tx.gas = 2_000_000 // enough for 100 KB at 10 gas per byte
			}
			res := f.check(f.encode(p1, s, tx))
			require.Equal(t, insufficient, res.Code, "%s without a fee: %s", tc.name, res.Log)
			require.Contains(t, res.Log, "not free: ", tc.name)
			require.Contains(t, res.Log, tc.reason, tc.name)
			require.Contains(t, res.Log, fmt.Sprintf("below the minimum %s for %d gas", paying(tx.gas), tx.gas), tc.name)
		}
		for _, tc := range cases {
			tx := tc.tx
			tx.msgs = []sdk.Msg{msg}
			if tx.gas == 0 {
				tx.gas = 2_000_000
			}
			tx.fee = paying(tx.gas)
			res := f.check(f.encode(p1, s, tx))
			require.Equal(t, uint32(0), res.Code, "%s paying the minimum: %s", tc.name, res.Log)
			s++
		}
		res := f.check(f.freeTx(p1, s, msg))
		require.Equal(t, uint32(0), res.Code, "the honest proof is still free: %s", res.Log)
	}

	try(commitMsg(c, proofs))
	f.deliverBytes(f.freeTx(p1, f.seq(p1), commitMsg(c, proofs)))
	f.advanceTo(c.OpenedHeight())
	c = f.challenge(c.Id)
	try(f.revealMsg(c, proofs, 0))
}

// deliverBytes includes a signed transaction in the next block and
// requires success; it returns the result.
func (f *pocFixture) deliverBytes(bz []byte) *abci.ExecTxResult {
	f.t.Helper()
	res := f.a.NextBlock(bz)
	require.Len(f.t, res.TxResults, 1)
	require.Equal(f.t, uint32(0), res.TxResults[0].Code, res.TxResults[0].Log)
	return res.TxResults[0]
}

// The gas cap of free proofs fits honest proofs closely: a commit and
// every reveal of a challenge, each admitted by CheckTx without a fee at
// the largest gas limit allowed and then delivered through FinalizeBlock,
// use at most the computed cost (the least free gas limit), and the cap
// is at most 1.5 × what they use. Cases:
// a whole 8-GPU node (the last reveal passes the challenge), one idle GPU
// of a node whose seven others are leased (the pass rewrites the whole
// node), a dispute of two leased GPUs, and a larger challenge (n = 1024).
// The test fails when gas costs drift from the allowances in
// types/free_proofs.go.
func TestFreeProofGasCapFitsHonestProofs(t *testing.T) {
	t.Run("8 GPUs n=256", func(t *testing.T) {
		f := newPoC(t, apptest.WithMinGasPrices(minGasPrice))
		p1 := f.a.Account("provider1")
		f.onboard("provider1", "poc-cap-8")
		f.requireCappedRound(p1, f.nextChallenge(p1))
	})
	t.Run("1 idle GPU of 8", func(t *testing.T) {
		f := newPoC(t, apptest.WithMinGasPrices(minGasPrice))
		p1, alice := f.a.Account("provider1"), f.a.Account("alice")
		node := f.onboard("provider1", "poc-cap-partial")
		uuids := make([]string, 0, 7)
		for _, g := range node.Gpus[:7] {
			uuids = append(uuids, g.Uuid)
		}
		f.lease(alice, p1, uuids...)
		c := f.nextChallenge(p1)
		require.Len(t, c.Gpus, 1)
		f.requireCappedRound(p1, c)
	})
	t.Run("dispute of 2 GPUs", func(t *testing.T) {
		f, _, c := disputeSetup(t, "poc-cap-dispute", apptest.WithMinGasPrices(minGasPrice))
		f.requireCappedRound(f.a.Account("provider1"), c)
	})
	t.Run("1 GPU n=1024", func(t *testing.T) {
		f := newPoC(t, apptest.WithMinGasPrices(minGasPrice),
			apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
				return app.SetChallengeProfile(cdc, state, 1024, 1)
			}))
		p1 := f.a.Account("provider1")
		f.onboardNode("provider1", fixtures.Node("n1", fixtures.GPUs("poc-cap-1024", fixtures.H100SXM, 0, 1)...))
		c := f.nextChallenge(p1)
		require.Equal(t, uint32(1024), c.Gpus[0].N)
		f.requireCappedRound(p1, c)
	})
}

// requireCappedRound commits and reveals every GPU of c honestly, each
// proof in its own free transaction (requireCapped), and requires the
// challenge passed.
func (f *pocFixture) requireCappedRound(p apptest.Account, c types.Challenge) {
	f.t.Helper()
	proofs := f.prove(c)
	f.requireCapped(p, commitMsg(c, proofs))
	f.advanceTo(c.OpenedHeight())
	for g := range c.Gpus {
		f.requireCapped(p, f.revealMsg(f.challenge(c.Id), proofs, g))
	}
	require.Equal(f.t, types.CHALLENGE_STATE_PASSED, f.challenge(c.Id).State)
}

// requireCapped sends msg in a free transaction at the largest gas limit
// allowed: CheckTx admits it without a fee, it succeeds in the next block,
// and its gas used is at most the computed cost (the least gas limit a
// free proof may carry) while the cap is at most 1.5 × that use.
func (f *pocFixture) requireCapped(p apptest.Account, msg sdk.Msg) {
	f.t.Helper()
	bz := f.freeTx(p, f.seq(p), msg)
	capped := f.freeGas(msg).Cap(len(bz), f.txCosts())
	cost := f.freeGas(msg).Cost(len(bz), f.txCosts())
	res := f.check(bz)
	require.Equal(f.t, uint32(0), res.Code, "%s is admitted without a fee: %s", sdk.MsgTypeURL(msg), res.Log)
	used := uint64(f.deliverBytes(bz).GasUsed) //nolint:gosec // gas is positive
	f.t.Logf("%s: %d bytes, gas used %d, cap %d (×%.2f)", sdk.MsgTypeURL(msg), len(bz), used, capped,
		float64(capped)/float64(used))
	require.LessOrEqual(f.t, used, cost, "an honest proof needs no more than the computed cost, the least free gas limit")
	require.LessOrEqual(f.t, capped, used*3/2, "the cap stays within 1.5 × the gas an honest proof uses")
}

// onboardNode registers a provider with one node and bonds what it needs.
func (f *pocFixture) onboardNode(name string, node providertypes.Node) {
	f.t.Helper()
	acc := f.a.Account(name)
	f.deliver(acc, fixtures.Register(acc.Address, name, "US-east1"))
	f.deliver(acc, &providertypes.MsgSetInventory{Owner: acc.Address.String(), Nodes: []providertypes.Node{node}})
	f.deliver(acc, &stakingslashtypes.MsgBond{Provider: acc.Address.String(),
		Amount: sdk.NewCoin(app.BondDenom, f.slashParams().MinBondPerGpu.MulRaw(int64(len(node.Gpus))))})
}

// The envelope allowance covers the widest envelope an honest wallet can
// sign, with a small margin: a 64-byte memo, timeout height and timestamp
// at their widest, the unordered flag, sequence and gas limit at the
// largest uint64, a 4-byte body length, one secp256k1 key and signature.
func TestFreeEnvelopeAllowance(t *testing.T) {
	f := newPoC(t)
	p1 := f.a.Account("provider1")
	f.onboard("provider1", "poc-envelope")
	c := f.nextChallenge(p1)
	commit := commitMsg(c, f.prove(c))
	latest := time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	widest := wireTx{msgs: []sdk.Msg{commit}, memo: strings.Repeat("m", types.FreeMemoMaxBytes),
		timeoutHeight: 1<<64 - 1, timeoutTime: &latest, unordered: true, gas: 1<<64 - 1}
	bz := f.encode(p1, 1<<64-1, widest)
	var raw txtypes.TxRaw
	require.NoError(t, raw.Unmarshal(bz))
	// The body's length takes 2 bytes here and at most 4 in any
	// transaction that fits a block.
	envelope := len(bz) - types.MsgEntryBytes(commit) + 4 - protowire.SizeVarint(uint64(len(raw.BodyBytes)))
	t.Logf("widest envelope %d bytes, allowance %d", envelope, types.FreeEnvelopeBytes)
	require.Equal(t, types.MeasuredFreeEnvelopeBytes, envelope, "update MeasuredFreeEnvelopeBytes")
	require.LessOrEqual(t, types.FreeEnvelopeMarginBytes, 32, "a small margin")
}
