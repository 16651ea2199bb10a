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

	"github.com/gpumesh/gpumesh/app"
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
}

// Client is a connection to one node. Queries may run concurrently;
// transactions are sent one at a time.
type Client struct {
	opts Options
	conn *grpc.ClientConn
	enc  app.EncodingConfig

	Comet        cmtservice.ServiceClient
	Tx           txtypes.ServiceClient
	Auth         authtypes.QueryClient
	Market       markettypes.QueryClient
	Escrow       escrowtypes.QueryClient
	Provider     providertypes.QueryClient
	Stakingslash stakingslashtypes.QueryClient
	PoC          poctypes.QueryClient

	signer *signer
}

// Encoding returns the codecs with every gpumesh message registered.
func Encoding() app.EncodingConfig {
	enc := app.MakeEncodingConfig()
	authtypes.RegisterInterfaces(enc.InterfaceRegistry)
	providertypes.RegisterInterfaces(enc.InterfaceRegistry)
	stakingslashtypes.RegisterInterfaces(enc.InterfaceRegistry)
	markettypes.RegisterInterfaces(enc.InterfaceRegistry)
	escrowtypes.RegisterInterfaces(enc.InterfaceRegistry)
	poctypes.RegisterInterfaces(enc.InterfaceRegistry)
	return enc
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
	enc := Encoding()
	conn, err := grpc.NewClient(opts.GRPC,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(enc.InterfaceRegistry).GRPCCodec())))
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
		c.signer = &signer{client: c, addr: addr}
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// ChainID is the configured chain id.
func (c *Client) ChainID() string { return c.opts.ChainID }

// Address is the signing account (nil for a query-only client).
func (c *Client) Address() sdk.AccAddress {
	if c.signer == nil {
		return nil
	}
	return c.signer.addr
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
		return Block{}, fmt.Errorf("node %s is on chain %q, the config says chain.chain_id %q", c.opts.GRPC, h.ChainID, c.opts.ChainID)
	}
	return Block{Height: h.Height, Time: h.Time}, nil
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
