// Package chain is the sidecar's connection to a gpumesh node: gRPC
// queries, transactions signed with the SDK keyring (simulated, with
// account-sequence tracking and retry), and block following that survives
// node restarts.
package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Options configure a Client.
type Options struct {
	GRPC          string
	ChainID       string
	GasPrices     string
	GasAdjustment float64
	TxTimeout     time.Duration
	PollInterval  time.Duration
	// Keyring and KeyName sign transactions; a Client without them can
	// only query.
	Keyring keyring.Keyring
	KeyName string
	// OnTxFailure, when set, is told the stage (simulate, check_tx,
	// deliver_tx, timeout, broadcast) and codespace of each failed send.
	OnTxFailure func(stage, codespace string)
	// OnTxRetry, when set, is told each time a send is signed again, with
	// the reason ("sequence": the account sequence changed, because
	// another process signs with the same key or a transaction left the
	// mempool).
	OnTxRetry func(reason string)
	// MaxGas caps the gas signed per message kind (chain.max_gas; kinds
	// not set take DefaultMaxGas).
	MaxGas map[string]uint64
	// MaxFee caps the fee per transaction (chain.max_fee; empty =
	// DefaultMaxFee).
	MaxFee string
	// MaxRecvMsgBytes bounds one gRPC response from the node (0 =
	// DefaultMaxRecvMsgBytes).
	MaxRecvMsgBytes int
}

// DefaultMaxRecvMsgBytes bounds a node's gRPC response: a latest-block
// response carries the block twice (CometBFT's and the SDK's form), and
// a block is at most 4 MiB by CometBFT's default consensus params.
const DefaultMaxRecvMsgBytes = 16 << 20

// Client is a connection to one node. Queries may run concurrently;
// transactions go through one broadcaster (see Send).
type Client struct {
	opts Options
	conn *grpc.ClientConn
	enc  EncodingConfig

	Comet        cmtservice.ServiceClient
	Tx           txtypes.ServiceClient
	Auth         authtypes.QueryClient
	Market       markettypes.QueryClient
	Escrow       escrowtypes.QueryClient
	Provider     providertypes.QueryClient
	Stakingslash stakingslashtypes.QueryClient
	PoC          poctypes.QueryClient

	bc *broadcaster
}

// Dial connects to the node (lazily: gRPC reconnects by itself after a
// node restart).
func Dial(opts Options) (*Client, error) {
	if opts.GasAdjustment == 0 {
		opts.GasAdjustment = 1.4
	}
	if opts.TxTimeout == 0 {
		opts.TxTimeout = 30 * time.Second
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	if opts.MaxRecvMsgBytes == 0 {
		opts.MaxRecvMsgBytes = DefaultMaxRecvMsgBytes
	}
	if opts.MaxFee == "" {
		opts.MaxFee = DefaultMaxFee
	}
	caps, prices, err := parseCaps(opts)
	if err != nil {
		return nil, err
	}
	enc := Encoding()
	conn, err := grpc.NewClient(opts.GRPC,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(enc.InterfaceRegistry).GRPCCodec()),
			grpc.MaxCallRecvMsgSize(opts.MaxRecvMsgBytes)))
	if err != nil {
		return nil, fmt.Errorf("chain.grpc %q: %w", opts.GRPC, err)
	}
	c := &Client{
		opts: opts, conn: conn, enc: enc,
		Comet:        cmtservice.NewServiceClient(conn),
		Tx:           txtypes.NewServiceClient(conn),
		Auth:         authtypes.NewQueryClient(conn),
		Market:       markettypes.NewQueryClient(conn),
		Escrow:       escrowtypes.NewQueryClient(conn),
		Provider:     providertypes.NewQueryClient(conn),
		Stakingslash: stakingslashtypes.NewQueryClient(conn),
		PoC:          poctypes.NewQueryClient(conn),
	}
	if opts.Keyring != nil {
		rec, err := opts.Keyring.Key(opts.KeyName)
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("key.name %q: %w", opts.KeyName, err)
		}
		addr, err := rec.GetAddress()
		if err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("key.name %q: %w", opts.KeyName, err)
		}
		c.bc = newBroadcaster(c, addr, caps, prices)
	}
	return c, nil
}

// parseCaps reads the gas and fee caps and the gas prices, naming the
// config key of a bad one.
func parseCaps(opts Options) (Caps, sdk.DecCoins, error) {
	if err := ValidateMaxGas(opts.MaxGas); err != nil {
		return Caps{}, nil, err
	}
	maxFee, err := sdk.ParseCoinsNormalized(opts.MaxFee)
	if err != nil {
		return Caps{}, nil, fmt.Errorf("chain.max_fee %q: %w", opts.MaxFee, err)
	}
	var prices sdk.DecCoins
	if opts.GasPrices != "" {
		if prices, err = sdk.ParseDecCoins(opts.GasPrices); err != nil {
			return Caps{}, nil, fmt.Errorf("chain.gas_prices %q: %w", opts.GasPrices, err)
		}
	}
	for _, p := range prices {
		if !p.Amount.IsZero() && maxFee.AmountOf(p.Denom).IsZero() {
			return Caps{}, nil, fmt.Errorf("chain.max_fee %q has no %s, the denom of chain.gas_prices %q", opts.MaxFee,
				p.Denom, opts.GasPrices)
		}
	}
	return Caps{MaxGas: opts.MaxGas, MaxFee: maxFee}, prices, nil
}

// Close stops the broadcaster (waiting callers get ErrClosed) and closes
// the connection.
func (c *Client) Close() error {
	if c.bc != nil {
		c.bc.close()
	}
	return c.conn.Close()
}

// ChainID is the configured chain id.
func (c *Client) ChainID() string { return c.opts.ChainID }

// Address is the signing account (nil for a query-only client).
func (c *Client) Address() sdk.AccAddress {
	if c.bc == nil {
		return nil
	}
	return c.bc.addr
}

// Block is a block header's height and time.
type Block struct {
	Height int64
	Time   time.Time
}

// Latest returns the node's latest block, and checks the chain id.
func (c *Client) Latest(ctx context.Context) (Block, error) {
	res, err := c.Comet.GetLatestBlock(ctx, &cmtservice.GetLatestBlockRequest{})
	if err != nil {
		return Block{}, err
	}
	if res.SdkBlock == nil {
		return Block{}, errors.New("node returned no block")
	}
	h := res.SdkBlock.Header
	if c.opts.ChainID != "" && h.ChainID != c.opts.ChainID {
		return Block{}, c.wrongChain(h.ChainID)
	}
	return Block{Height: h.Height, Time: h.Time}, nil
}

// CheckChainID returns an error wrapping ErrWrongChain, naming both ids,
// when the node's chain id (its node info's network) is not the
// configured chain.chain_id, and the node's error when it cannot be
// asked. Signatures over another chain id fail the node's check, so a
// sidecar must not start against such a node.
func (c *Client) CheckChainID(ctx context.Context) error {
	res, err := c.Comet.GetNodeInfo(ctx, &cmtservice.GetNodeInfoRequest{})
	if err != nil {
		return fmt.Errorf("node %s (chain.grpc): node info: %w", c.opts.GRPC, err)
	}
	if res.DefaultNodeInfo == nil {
		return fmt.Errorf("node %s (chain.grpc): node info without a network", c.opts.GRPC)
	}
	if got := res.DefaultNodeInfo.Network; got != c.opts.ChainID {
		return c.wrongChain(got)
	}
	return nil
}

func (c *Client) wrongChain(got string) error {
	return fmt.Errorf("%w: node %s (chain.grpc) is on chain %q, the config says chain.chain_id %q", ErrWrongChain,
		c.opts.GRPC, got, c.opts.ChainID)
}

// maxPages bounds a paginated walk, so a misbehaving node cannot keep the
// sidecar paging forever.
const maxPages = 1000

// Pages walks a paginated query: fetch is called with each page request
// and returns the next key (empty at the end).
func Pages(ctx context.Context, fetch func(ctx context.Context, page *query.PageRequest) ([]byte, error)) error {
	var key []byte
	for i := 0; i < maxPages; i++ {
		next, err := fetch(ctx, &query.PageRequest{Key: key, Limit: 200})
		if err != nil {
			return err
		}
		if len(next) == 0 {
			return nil
		}
		key = next
	}
	return fmt.Errorf("more than %d pages", maxPages)
}

func nextKey(p *query.PageResponse) []byte {
	if p == nil {
		return nil
	}
	return p.NextKey
}

// OpenOrders returns every open order.
func (c *Client) OpenOrders(ctx context.Context) ([]markettypes.Order, error) {
	var out []markettypes.Order
	err := Pages(ctx, func(ctx context.Context, page *query.PageRequest) ([]byte, error) {
		res, err := c.Market.Orders(ctx, &markettypes.QueryOrdersRequest{State: markettypes.ORDER_STATE_OPEN, Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Orders...)
		return nextKey(res.Pagination), nil
	})
	return out, err
}

// Bids returns the provider's bids in a state (UNSPECIFIED = all).
func (c *Client) Bids(ctx context.Context, provider string, state markettypes.BidState) ([]markettypes.Bid, error) {
	var out []markettypes.Bid
	err := Pages(ctx, func(ctx context.Context, page *query.PageRequest) ([]byte, error) {
		res, err := c.Market.Bids(ctx, &markettypes.QueryBidsRequest{Provider: provider, State: state, Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Bids...)
		return nextKey(res.Pagination), nil
	})
	return out, err
}

// Leases returns the provider's leases in a state.
func (c *Client) Leases(ctx context.Context, provider string, state markettypes.LeaseState) ([]markettypes.Lease, error) {
	var out []markettypes.Lease
	err := Pages(ctx, func(ctx context.Context, page *query.PageRequest) ([]byte, error) {
		res, err := c.Market.Leases(ctx, &markettypes.QueryLeasesRequest{Provider: provider, State: state, Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Leases...)
		return nextKey(res.Pagination), nil
	})
	return out, err
}

// Challenges returns the provider's challenges in a state (UNSPECIFIED =
// all).
func (c *Client) Challenges(ctx context.Context, provider string, state poctypes.ChallengeState) ([]poctypes.Challenge, error) {
	var out []poctypes.Challenge
	err := Pages(ctx, func(ctx context.Context, page *query.PageRequest) ([]byte, error) {
		res, err := c.PoC.Challenges(ctx, &poctypes.QueryChallengesRequest{Provider: provider, State: state, Pagination: page})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Challenges...)
		return nextKey(res.Pagination), nil
	})
	return out, err
}

// IsNotFound reports whether a query error is the gRPC NotFound status.
func IsNotFound(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "code = NotFound") || strings.Contains(err.Error(), "not found"))
}

// PassphraseReader feeds a keyring passphrase to the file backend, which
// asks for it on every key access (possibly through a buffered reader):
// it repeats the line forever.
func PassphraseReader(pass string) io.Reader { return &repeatReader{line: []byte(pass + "\n")} }

type repeatReader struct {
	line []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.line[r.off:])
		n += c
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}
