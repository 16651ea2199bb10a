package chain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// appNode serves a gpumesh node's gRPC API from an in-memory app: the
// app's own query services, and a Tx service whose broadcast runs CheckTx
// (with the app's minimum gas prices) and then includes the transaction
// alone in the next block.
type appNode struct {
	txtypes.UnimplementedServiceServer
	a *apptest.App

	mu      sync.Mutex
	results map[string]*sdk.TxResponse
	// simulated and gasWanted record each simulation's gas used and each
	// broadcast's gas limit.
	simulated, gasWanted []int64
}

func startAppNode(t *testing.T, a *apptest.App) (*appNode, string) {
	t.Helper()
	n := &appNode{a: a, results: map[string]*sdk.TxResponse{}}
	srv := grpc.NewServer(grpc.ForceServerCodec(codec.NewProtoCodec(a.InterfaceRegistry()).GRPCCodec()))
	a.RegisterGRPCServer(srv)
	txtypes.RegisterServiceServer(srv, n)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return n, lis.Addr().String()
}

func (n *appNode) Simulate(_ context.Context, req *txtypes.SimulateRequest) (*txtypes.SimulateResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	gi, res, err := n.a.Simulate(req.TxBytes)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	n.simulated = append(n.simulated, int64(gi.GasUsed)) //nolint:gosec // gas fits
	return &txtypes.SimulateResponse{GasInfo: &gi, Result: res}, nil
}

func (n *appNode) BroadcastTx(_ context.Context, req *txtypes.BroadcastTxRequest) (*txtypes.BroadcastTxResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sum := sha256.Sum256(req.TxBytes)
	hash := strings.ToUpper(hex.EncodeToString(sum[:]))
	res, err := n.a.CheckTx(&abci.RequestCheckTx{Tx: req.TxBytes, Type: abci.CheckTxType_New})
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	n.gasWanted = append(n.gasWanted, res.GasWanted)
	if res.Code != 0 {
		return &txtypes.BroadcastTxResponse{TxResponse: &sdk.TxResponse{TxHash: hash, Code: res.Code,
			Codespace: res.Codespace, RawLog: res.Log}}, nil
	}
	blk := n.a.NextBlock(req.TxBytes)
	r := blk.TxResults[0]
	n.results[hash] = &sdk.TxResponse{TxHash: hash, Height: n.a.LastBlockHeight(), Code: r.Code, Codespace: r.Codespace,
		RawLog: r.Log, GasWanted: r.GasWanted, GasUsed: r.GasUsed}
	return &txtypes.BroadcastTxResponse{TxResponse: &sdk.TxResponse{TxHash: hash}}, nil
}

func (n *appNode) GetTx(_ context.Context, req *txtypes.GetTxRequest) (*txtypes.GetTxResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.results[req.Hash]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "tx %s not found", req.Hash)
	}
	return &txtypes.GetTxResponse{TxResponse: r}, nil
}

// provingApp is an app with a validator minimum gas price of 0.1umesh in
// which provider1 lists one 8-GPU node, bonded, and has been issued a
// capacity challenge, which it returns.
func provingApp(t *testing.T) (*apptest.App, poctypes.Challenge) {
	t.Helper()
	a := apptest.New(t, apptest.WithMinGasPrices("0.1"+app.BondDenom),
		apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
			return app.SetChallengeSchedule(cdc, state, 50, math.LegacyOneDec())
		}))
	p := a.Account("provider1")
	inv := fixtures.H100x8("sidecar-free")
	ss, err := a.StakingSlashKeeper.GetParams(a.Ctx())
	require.NoError(t, err)
	for _, msg := range []sdk.Msg{
		fixtures.Register(p.Address, "provider1", "US-east1"),
		&providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: inv},
		&stakingslashtypes.MsgBond{Provider: p.Address.String(),
			Amount: sdk.NewCoin(app.BondDenom, ss.MinBondPerGpu.MulRaw(int64(len(inv[0].Gpus))))},
	} {
		res := a.DeliverTx(p, msg)
		require.Equal(t, uint32(0), res.Code, res.Log)
	}
	for i := 0; i < 110; i++ {
		var issued *poctypes.Challenge
		err := a.ProofOfComputeKeeper.Challenges.Walk(a.Ctx(), nil, func(_ uint64, c poctypes.Challenge) (bool, error) {
			if c.Provider == p.Address.String() && c.State == poctypes.CHALLENGE_STATE_ISSUED {
				issued = &c
				return true, nil
			}
			return false, nil
		})
		require.NoError(t, err)
		if issued != nil {
			return a, *issued
		}
		a.NextBlock()
	}
	t.Fatal("no challenge issued to provider1")
	return nil, poctypes.Challenge{}
}

// dialAs connects a client signing with the named test account.
func dialAs(t *testing.T, addr string, acc apptest.Account) *Client {
	t.Helper()
	enc := Encoding()
	kr := keyring.NewInMemory(enc.Codec)
	require.NoError(t, kr.ImportPrivKeyHex(acc.Name, hex.EncodeToString(acc.PrivKey.Bytes()), string(hd.Secp256k1Type)))
	c, err := Dial(Options{GRPC: addr, ChainID: apptest.ChainID, GasPrices: "0.1" + app.BondDenom,
		Keyring: kr, KeyName: acc.Name, TxTimeout: 5 * time.Second, PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The sidecar's free proofs pass the chain's free-proof check against a
// node with a non-zero minimum gas price: the commit and the eight reveals,
// sent as the prover sends them (reveals four to a transaction, the second
// batch passing the challenge) with the default gas adjustment 1.4, are
// admitted without a fee at a gas limit capped below 1.4 × the simulation,
// and the challenge passes. A free send with a memo over the limit is
// refused before anything is signed.
func TestFreeProofsPassTheChainsCheck(t *testing.T) {
	a, c := provingApp(t)
	node, addr := startAppNode(t, a)
	p := a.Account("provider1")
	client := dialAs(t, addr, p)
	ctx := context.Background()
	before := a.BankKeeper.GetBalance(a.Ctx(), p.Address, app.BondDenom)

	_, err := client.Send(ctx, SendOptions{Free: true, Memo: strings.Repeat("m", poctypes.FreeMemoMaxBytes+1)},
		&poctypes.MsgCommitProof{})
	require.ErrorContains(t, err, fmt.Sprintf("memo of %d bytes", poctypes.FreeMemoMaxBytes+1))
	require.Empty(t, node.gasWanted, "nothing was broadcast")

	proofs, err := prove.Challenge(ctx, apptest.ChainID, c, 0)
	require.NoError(t, err)
	res, err := client.Send(ctx, SendOptions{Free: true}, prove.CommitMsg(c, proofs))
	require.NoError(t, err)
	require.Equal(t, uint32(0), res.Code)

	for a.LastBlockHeight() < c.OpenedHeight() {
		a.NextBlock()
	}
	full, openings, err := client.Challenge(ctx, c.Id)
	require.NoError(t, err)
	require.Equal(t, poctypes.CHALLENGE_STATE_OPENED, full.State)
	todo := make([]uint32, len(full.Gpus))
	for i := range todo {
		todo[i] = uint32(i)
	}
	reveals, err := prove.RevealMsgs(full, openings, proofs, todo)
	require.NoError(t, err)
	for i := 0; i < len(reveals); i += 4 {
		batch := make([]sdk.Msg, 0, 4)
		for _, m := range reveals[i:min(i+4, len(reveals))] {
			batch = append(batch, m)
		}
		res, err := client.Send(ctx, SendOptions{Free: true}, batch...)
		require.NoError(t, err, "reveals %d-%d", i, i+len(batch)-1)
		require.Equal(t, uint32(0), res.Code)
	}
	done, _, err := client.Challenge(ctx, c.Id)
	require.NoError(t, err)
	require.Equal(t, poctypes.CHALLENGE_STATE_PASSED, done.State)
	require.Equal(t, before, a.BankKeeper.GetBalance(a.Ctx(), p.Address, app.BondDenom), "no fee was paid")
	require.Len(t, node.gasWanted, 3)
	require.Len(t, node.simulated, 3)
	for i, wanted := range node.gasWanted {
		require.Less(t, float64(wanted), 1.4*float64(node.simulated[i]), "tx %d: the gas limit is capped", i)
		require.GreaterOrEqual(t, wanted, node.simulated[i], "tx %d", i)
	}
}

// freeGasLimit keeps the adjusted simulation between the chain's computed
// cost and its cap, and pays when the simulation alone is over the cap.
func TestFreeGasLimit(t *testing.T) {
	for _, tc := range []struct {
		simulated, adjusted, least, capped, gas uint64
		free                                    bool
	}{
		{simulated: 100_000, adjusted: 140_000, least: 100_000, capped: 125_000, gas: 125_000, free: true},
		{simulated: 100_000, adjusted: 110_000, least: 100_000, capped: 125_000, gas: 110_000, free: true},
		{simulated: 90_000, adjusted: 99_000, least: 100_000, capped: 125_000, gas: 100_000, free: true},
		{simulated: 125_000, adjusted: 175_000, least: 100_000, capped: 125_000, gas: 125_000, free: true},
		{simulated: 130_000, adjusted: 182_000, least: 100_000, capped: 125_000, gas: 182_000, free: false},
	} {
		gas, free := freeGasLimit(tc.simulated, tc.adjusted, tc.least, tc.capped)
		require.Equal(t, tc.gas, gas, "%+v", tc)
		require.Equal(t, tc.free, free, "%+v", tc)
	}
}
