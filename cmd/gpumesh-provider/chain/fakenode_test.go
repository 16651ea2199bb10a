package chain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	p2p "github.com/cometbft/cometbft/proto/tendermint/p2p"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
)

// fakeNode is a node's gRPC API reduced to what the broadcaster uses,
// with a mempool: a broadcast passes CheckTx when its sequence is the
// account's after the mempool (else x/auth's mismatch, code 32), and the
// block made by step includes the whole mempool, in sequence order, only
// at heights that are multiples of every. Simulations report gasUsed.
type fakeNode struct {
	enc     EncodingConfig
	chainID string
	addr    string

	mu        sync.Mutex
	height    int64
	every     int64
	gasUsed   uint64
	committed uint64 // the account's sequence in the last block
	checkSeq  uint64 // and after the mempool
	mempool   []fakeTx
	included  map[string]*sdk.TxResponse
	// broadcasts lists every transaction CheckTx admitted, in order.
	broadcasts []fakeTx
	// refuseSignatures answers every broadcast with x/auth's signature
	// failure (code 4), as a node on another chain does.
	refuseSignatures bool
}

type fakeTx struct {
	hash     string
	seq      uint64
	msgs     []sdk.Msg
	height   int64 // the height when it was broadcast
	gasLimit uint64
	fee      sdk.Coins
}

type fakeTxService struct {
	txtypes.UnimplementedServiceServer
	n *fakeNode
}

type fakeAuth struct {
	authtypes.UnimplementedQueryServer
	n    *fakeNode
	addr string
}

type fakeComet struct {
	cmtservice.UnimplementedServiceServer
	n *fakeNode
}

// startFakeNode serves a fake node on loopback, its account owned by
// addr, at height 1.
func startFakeNode(t *testing.T, chainID string, addr sdk.AccAddress) *fakeNode {
	t.Helper()
	n := &fakeNode{enc: Encoding(), chainID: chainID, height: 1, every: 1, gasUsed: 80_000,
		included: map[string]*sdk.TxResponse{}}
	srv := grpc.NewServer(grpc.ForceServerCodec(codec.NewProtoCodec(n.enc.InterfaceRegistry).GRPCCodec()))
	txtypes.RegisterServiceServer(srv, &fakeTxService{n: n})
	authtypes.RegisterQueryServer(srv, &fakeAuth{n: n, addr: addr.String()})
	cmtservice.RegisterServiceServer(srv, &fakeComet{n: n})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	n.addr = lis.Addr().String()
	return n
}

func (n *fakeNode) decode(bz []byte) (fakeTx, error) {
	tx, err := n.enc.TxConfig.TxDecoder()(bz)
	if err != nil {
		return fakeTx{}, err
	}
	sigs, err := tx.(authsigning.SigVerifiableTx).GetSignaturesV2()
	if err != nil || len(sigs) != 1 {
		return fakeTx{}, fmt.Errorf("want one signature, got %d (%w)", len(sigs), err)
	}
	sum := sha256.Sum256(bz)
	ft := tx.(sdk.FeeTx)
	return fakeTx{hash: strings.ToUpper(hex.EncodeToString(sum[:])), seq: sigs[0].Sequence, msgs: tx.GetMsgs(),
		gasLimit: ft.GetGas(), fee: ft.GetFee()}, nil
}

func (s *fakeTxService) Simulate(_ context.Context, req *txtypes.SimulateRequest) (*txtypes.SimulateResponse, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	tx, err := n.decode(req.TxBytes)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if tx.seq != n.checkSeq {
		return nil, status.Errorf(codes.Unknown, "account sequence mismatch, expected %d, got %d: incorrect account sequence",
			n.checkSeq, tx.seq)
	}
	return &txtypes.SimulateResponse{GasInfo: &sdk.GasInfo{GasUsed: n.gasUsed}, Result: &sdk.Result{}}, nil
}

func (s *fakeTxService) BroadcastTx(_ context.Context, req *txtypes.BroadcastTxRequest) (*txtypes.BroadcastTxResponse, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	tx, err := n.decode(req.TxBytes)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	refuse := func(code uint32, log string) (*txtypes.BroadcastTxResponse, error) {
		return &txtypes.BroadcastTxResponse{TxResponse: &sdk.TxResponse{TxHash: tx.hash, Code: code,
			Codespace: sdkerrors.RootCodespace, RawLog: log}}, nil
	}
	switch {
	case n.refuseSignatures:
		return refuse(sdkerrors.ErrUnauthorized.ABCICode(), fmt.Sprintf("signature verification failed; please verify "+
			"account number (0) and chain-id (%s): unauthorized", n.chainID))
	case tx.seq != n.checkSeq:
		return refuse(sdkerrors.ErrWrongSequence.ABCICode(), fmt.Sprintf(
			"account sequence mismatch, expected %d, got %d: incorrect account sequence", n.checkSeq, tx.seq))
	}
	tx.height = n.height
	n.mempool = append(n.mempool, tx)
	n.broadcasts = append(n.broadcasts, tx)
	n.checkSeq++
	return &txtypes.BroadcastTxResponse{TxResponse: &sdk.TxResponse{TxHash: tx.hash}}, nil
}

func (s *fakeTxService) GetTx(_ context.Context, req *txtypes.GetTxRequest) (*txtypes.GetTxResponse, error) {
	n := s.n
	n.mu.Lock()
	defer n.mu.Unlock()
	r, ok := n.included[req.Hash]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "tx %s not found", req.Hash)
	}
	return &txtypes.GetTxResponse{TxResponse: r}, nil
}

func (a *fakeAuth) AccountInfo(_ context.Context, req *authtypes.QueryAccountInfoRequest) (*authtypes.QueryAccountInfoResponse, error) {
	if req.Address != a.addr {
		return nil, status.Errorf(codes.NotFound, "account %s not found", req.Address)
	}
	a.n.mu.Lock()
	defer a.n.mu.Unlock()
	return &authtypes.QueryAccountInfoResponse{Info: &authtypes.BaseAccount{Address: a.addr, AccountNumber: 7,
		Sequence: a.n.committed}}, nil
}

func (c *fakeComet) GetNodeInfo(context.Context, *cmtservice.GetNodeInfoRequest) (*cmtservice.GetNodeInfoResponse, error) {
	return &cmtservice.GetNodeInfoResponse{DefaultNodeInfo: &p2p.DefaultNodeInfo{Network: c.n.chainID}}, nil
}

// step makes the next block: at a multiple of every it includes the
// mempool.
func (n *fakeNode) step() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.height++
	if n.height%n.every != 0 {
		return
	}
	for _, tx := range n.mempool {
		n.included[tx.hash] = &sdk.TxResponse{TxHash: tx.hash, Height: n.height, GasUsed: int64(n.gasUsed)} //nolint:gosec // test gas
		n.committed = tx.seq + 1
	}
	n.mempool = nil
}

// dropMempool empties the mempool without including anything, as a node
// restart does.
func (n *fakeNode) dropMempool() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.mempool = nil
	n.checkSeq = n.committed
}

func (n *fakeNode) snapshot() (height int64, broadcasts []fakeTx) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.height, append([]fakeTx(nil), n.broadcasts...)
}

// produce makes a block every interval until ctx ends.
func (n *fakeNode) produce(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.step()
		}
	}
}

// countingKeyring counts signatures.
type countingKeyring struct {
	keyring.Keyring
	signs atomic.Int32
}

func (k *countingKeyring) Sign(uid string, msg []byte, mode signing.SignMode) ([]byte, cryptotypes.PubKey, error) {
	k.signs.Add(1)
	return k.Keyring.Sign(uid, msg, mode)
}

// testKey is an in-memory keyring holding the key "provider".
func testKey(t *testing.T) (*countingKeyring, sdk.AccAddress) {
	t.Helper()
	kr := keyring.NewInMemory(Encoding().Codec)
	priv := secp256k1.GenPrivKeyFromSecret([]byte("chain-test-provider"))
	require.NoError(t, kr.ImportPrivKeyHex("provider", hex.EncodeToString(priv.Bytes()), string(hd.Secp256k1Type)))
	return &countingKeyring{Keyring: kr}, sdk.AccAddress(priv.PubKey().Address())
}

// dialFake connects a signing client to n; edit adjusts the options.
func dialFake(t *testing.T, n *fakeNode, kr keyring.Keyring, edit func(*Options)) *Client {
	t.Helper()
	opts := Options{GRPC: n.addr, ChainID: "gpumesh-test", GasPrices: "0.025umesh", Keyring: kr, KeyName: "provider",
		TxTimeout: 20 * time.Second, PollInterval: 20 * time.Millisecond}
	if edit != nil {
		edit(&opts)
	}
	c, err := Dial(opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
