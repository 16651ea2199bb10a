package chain

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// TxResult is an included transaction.
type TxResult struct {
	Hash      string
	Height    int64
	Code      uint32
	Codespace string
	Log       string
	GasUsed   int64
	Response  *sdk.TxResponse
}

// TxError is a transaction that failed at a stage: simulate, check_tx,
// deliver_tx, timeout or broadcast.
type TxError struct {
	Stage     string
	Codespace string
	Code      uint32
	Log       string
	Hash      string
}

func (e *TxError) Error() string {
	s := fmt.Sprintf("tx failed at %s", e.Stage)
	if e.Codespace != "" || e.Code != 0 {
		s += fmt.Sprintf(" (%s code %d)", e.Codespace, e.Code)
	}
	if e.Hash != "" {
		s += " " + e.Hash
	}
	return s + ": " + e.Log
}

// SendOptions tune one transaction.
type SendOptions struct {
	// Free sends proofs without a fee, as the chain admits a provider's
	// own acceptable commits and reveals (x/proofofcompute "Zero-fee
	// proofs"): the gas limit is capped at the chain's computed cap for
	// them, and the memo must fit poctypes.FreeMemoMaxBytes. When the
	// simulation needs more gas than the cap, the transaction pays the
	// configured gas prices instead.
	Free bool
	// Memo is attached to the transaction.
	Memo string
}

// signer tracks the signing account's number and sequence.
type signer struct {
	client *Client
	addr   sdk.AccAddress

	mu     sync.Mutex // one transaction at a time
	loaded bool
	accNum uint64
	seq    uint64
}

// sequenceRetries bounds how often a send is retried after an account
// sequence mismatch (another process signing with the same key, or a
// transaction dropped from the mempool).
const sequenceRetries = 4

// Send signs and broadcasts msgs as one transaction and waits until it is
// included. Gas is simulated and multiplied by the gas adjustment. An
// account sequence mismatch reloads the account and retries. A
// transaction included with a non-zero code returns its result and a
// *TxError at stage deliver_tx.
func (c *Client) Send(ctx context.Context, opts SendOptions, msgs ...sdk.Msg) (*TxResult, error) {
	if c.signer == nil {
		return nil, errors.New("no signing key configured")
	}
	s := c.signer
	s.mu.Lock()
	defer s.mu.Unlock()
	var lastErr error
	for attempt := 0; attempt < sequenceRetries; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !s.loaded {
			if err := s.load(ctx); err != nil {
				return nil, err
			}
		}
		res, err := s.sendOnce(ctx, opts, msgs)
		var te *TxError
		if errors.As(err, &te) && isSequenceMismatch(te) {
			lastErr = err
			s.loaded = false
			if c.opts.OnTxRetry != nil {
				c.opts.OnTxRetry("sequence")
			}
			if werr := backoff.Sleep(ctx, backoff.Default().Delay(attempt+1, nil)); werr != nil {
				return nil, werr
			}
			continue
		}
		if err != nil && c.opts.OnTxFailure != nil {
			if errors.As(err, &te) {
				c.opts.OnTxFailure(te.Stage, te.Codespace)
			} else {
				c.opts.OnTxFailure("broadcast", "")
			}
		}
		return res, err
	}
	if c.opts.OnTxFailure != nil {
		c.opts.OnTxFailure("sequence", sdkerrors.RootCodespace)
	}
	return nil, fmt.Errorf("account sequence kept changing after %d attempts: %w", sequenceRetries, lastErr)
}

func isSequenceMismatch(te *TxError) bool {
	if te.Codespace == sdkerrors.RootCodespace && te.Code == sdkerrors.ErrWrongSequence.ABCICode() {
		return true
	}
	return strings.Contains(te.Log, "account sequence mismatch")
}

// load reads the account number and sequence from the chain.
func (s *signer) load(ctx context.Context) error {
	res, err := s.client.Auth.AccountInfo(ctx, &authtypes.QueryAccountInfoRequest{Address: s.addr.String()})
	if err != nil {
		if IsNotFound(err) {
			return fmt.Errorf("account %s does not exist on chain: fund it first", s.addr)
		}
		return fmt.Errorf("account %s: %w", s.addr, err)
	}
	s.accNum, s.seq, s.loaded = res.Info.AccountNumber, res.Info.Sequence, true
	return nil
}

func (s *signer) factory(opts SendOptions) tx.Factory {
	c := s.client
	return tx.Factory{}.
		WithTxConfig(c.enc.TxConfig).
		WithKeybase(c.opts.Keyring).
		WithFromName(c.opts.KeyName).
		WithChainID(c.opts.ChainID).
		WithAccountNumber(s.accNum).
		WithSequence(s.seq).
		WithMemo(opts.Memo)
}

func (s *signer) sendOnce(ctx context.Context, opts SendOptions, msgs []sdk.Msg) (*TxResult, error) {
	c := s.client
	if opts.Free && len(opts.Memo) > poctypes.FreeMemoMaxBytes {
		return nil, fmt.Errorf("memo of %d bytes: a free proof transaction carries at most %d", len(opts.Memo),
			poctypes.FreeMemoMaxBytes)
	}
	f := s.factory(opts)
	simBytes, err := f.BuildSimTx(msgs...)
	if err != nil {
		return nil, fmt.Errorf("build simulation: %w", err)
	}
	sim, err := c.Tx.Simulate(ctx, &txtypes.SimulateRequest{TxBytes: simBytes})
	if err != nil {
		return nil, simulateError(err)
	}
	gas := uint64(math.Ceil(float64(sim.GasInfo.GasUsed) * c.opts.GasAdjustment))
	free := opts.Free
	if free {
		least, capped, err := s.freeGasRange(ctx, f, msgs)
		if err != nil {
			return nil, err
		}
		gas, free = freeGasLimit(sim.GasInfo.GasUsed, gas, least, capped)
	}
	f = f.WithGas(gas)
	if !free && c.opts.GasPrices != "" {
		prices, err := sdk.ParseDecCoins(c.opts.GasPrices)
		if err != nil {
			return nil, fmt.Errorf("chain.gas_prices %q: %w", c.opts.GasPrices, err)
		}
		fees := make(sdk.Coins, 0, len(prices))
		for _, p := range prices {
			fees = append(fees, sdk.NewCoin(p.Denom, p.Amount.MulInt64(int64(gas)).Ceil().RoundInt())) //nolint:gosec // gas fits
		}
		f = f.WithFees(sdk.NewCoins(fees...).String())
	}
	builder, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, fmt.Errorf("build tx: %w", err)
	}
	if err := tx.Sign(ctx, f, c.opts.KeyName, builder, true); err != nil {
		return nil, fmt.Errorf("sign with key %q: %w", c.opts.KeyName, err)
	}
	bz, err := c.enc.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		return nil, err
	}
	bres, err := c.Tx.BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: bz, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
	if err != nil {
		return nil, fmt.Errorf("broadcast: %w", err)
	}
	r := bres.TxResponse
	if r.Code != 0 {
		return nil, &TxError{Stage: "check_tx", Codespace: r.Codespace, Code: r.Code, Log: r.RawLog, Hash: r.TxHash}
	}
	// Accepted into the mempool: the sequence is used.
	s.seq++
	res, err := c.WaitTx(ctx, r.TxHash)
	if err != nil {
		// Not included in time: the mempool may have dropped it, so the
		// sequence is uncertain; reload it next time.
		s.loaded = false
		return nil, err
	}
	if res.Code != 0 {
		return res, &TxError{Stage: "deliver_tx", Codespace: res.Codespace, Code: res.Code, Log: res.Log, Hash: res.Hash}
	}
	return res, nil
}

// freeGasLimit is the gas limit of a free proof transaction: the adjusted
// simulation, kept within the range the chain admits free (at least the
// computed cost, at most the cap). free is false when the simulation
// alone needs more than the cap: the chain would not admit the
// transaction free, so it pays (at adjusted gas).
func freeGasLimit(simulated, adjusted, least, capped uint64) (gas uint64, free bool) {
	if simulated > capped || least > capped {
		return adjusted, false
	}
	return max(least, min(adjusted, capped)), true
}

// gasLimitBytes bounds what a gas limit adds to a signed transaction: its
// tag and a varint of at most 10 bytes.
const gasLimitBytes = 11

// freeGasRange is the range of gas limits the chain admits without a fee
// for msgs (poctypes.FreeGas, the chain's own computation), from the
// challenges, params and inventory on chain: the cost at the largest size
// the signed transaction can have, and the cap at the smallest (a gas
// limit only adds bytes, which raises both).
func (s *signer) freeGasRange(ctx context.Context, f tx.Factory, msgs []sdk.Msg) (least, capped uint64, err error) {
	sum, size, costs, err := s.freeGas(ctx, f, msgs)
	if err != nil {
		return 0, 0, err
	}
	return sum.Cost(size+gasLimitBytes, costs), sum.Cap(size, costs), nil
}

// freeGas adds up the chain's free-proof gas computation for msgs and
// returns it with the signed size without a gas limit and x/auth's costs.
func (s *signer) freeGas(ctx context.Context, f tx.Factory, msgs []sdk.Msg) (*poctypes.FreeGas, int, poctypes.TxGasCosts, error) {
	c := s.client
	pp, err := c.PoC.Params(ctx, &poctypes.QueryParamsRequest{})
	if err != nil {
		return nil, 0, poctypes.TxGasCosts{}, fmt.Errorf("proof-of-compute params: %w", err)
	}
	ap, err := c.Auth.Params(ctx, &authtypes.QueryParamsRequest{})
	if err != nil {
		return nil, 0, poctypes.TxGasCosts{}, fmt.Errorf("auth params: %w", err)
	}
	challenges := map[uint64]poctypes.Challenge{}
	var inventory []providertypes.Node
	sum := poctypes.NewFreeGas(pp.Params.Gas)
	for _, m := range msgs {
		var id uint64
		switch msg := m.(type) {
		case *poctypes.MsgCommitProof:
			id = msg.ChallengeId
		case *poctypes.MsgRevealProof:
			id = msg.ChallengeId
		default:
			return nil, 0, poctypes.TxGasCosts{}, fmt.Errorf("only proofs are sent free, not %s", sdk.MsgTypeURL(m))
		}
		ch, ok := challenges[id]
		if !ok {
			if ch, _, err = c.Challenge(ctx, id); err != nil {
				return nil, 0, poctypes.TxGasCosts{}, fmt.Errorf("challenge %d: %w", id, err)
			}
			challenges[id] = ch
		}
		nodeGPUs := func() (int, error) {
			if inventory == nil {
				res, err := c.Provider.Inventory(ctx, &providertypes.QueryInventoryRequest{Owner: s.addr.String()})
				if err != nil {
					return 0, fmt.Errorf("inventory: %w", err)
				}
				inventory = res.Nodes
			}
			return poctypes.PassNodeGPUs(ch, func(g poctypes.ChallengedGPU) (providertypes.Node, bool, error) {
				for _, n := range inventory {
					for _, ng := range n.Gpus {
						if ng.Uuid == g.Uuid {
							return n, true, nil
						}
					}
				}
				return providertypes.Node{}, false, nil
			})
		}
		if err := sum.Add(ch, m, nodeGPUs); err != nil {
			return nil, 0, poctypes.TxGasCosts{}, err
		}
	}
	size, err := s.sizeWithoutGas(f, msgs)
	if err != nil {
		return nil, 0, poctypes.TxGasCosts{}, err
	}
	return sum, size, poctypes.TxGasCosts{PerByte: ap.Params.TxSizeCostPerByte, SigVerify: ap.Params.SigVerifyCostSecp256k1}, nil
}

// secp256k1SignatureBytes is the size of a secp256k1 signature (r ‖ s).
const secp256k1SignatureBytes = 64

// sizeWithoutGas is the size of the signed transaction carrying msgs
// without a fee and with no gas limit: built as it will be signed, with a
// placeholder signature of the right size.
func (s *signer) sizeWithoutGas(f tx.Factory, msgs []sdk.Msg) (int, error) {
	c := s.client
	b, err := f.WithGas(0).WithFees("").BuildUnsignedTx(msgs...)
	if err != nil {
		return 0, fmt.Errorf("build tx: %w", err)
	}
	rec, err := c.opts.Keyring.Key(c.opts.KeyName)
	if err != nil {
		return 0, fmt.Errorf("key.name %q: %w", c.opts.KeyName, err)
	}
	pk, err := rec.GetPubKey()
	if err != nil {
		return 0, fmt.Errorf("key.name %q: %w", c.opts.KeyName, err)
	}
	err = b.SetSignatures(signing.SignatureV2{PubKey: pk, Sequence: s.seq, Data: &signing.SingleSignatureData{
		SignMode: signing.SignMode_SIGN_MODE_DIRECT, Signature: make([]byte, secp256k1SignatureBytes)}})
	if err != nil {
		return 0, err
	}
	bz, err := c.enc.TxConfig.TxEncoder()(b.GetTx())
	return len(bz), err
}

// simulateError turns a failed simulation into a TxError, keeping the
// chain's message (it names the failing check).
func simulateError(err error) error {
	msg := err.Error()
	te := &TxError{Stage: "simulate", Log: msg}
	if i := strings.Index(msg, "desc = "); i >= 0 {
		te.Log = msg[i+len("desc = "):]
	}
	if strings.Contains(msg, "account sequence mismatch") || strings.Contains(msg, "incorrect account sequence") {
		te.Codespace, te.Code = sdkerrors.RootCodespace, sdkerrors.ErrWrongSequence.ABCICode()
	}
	return te
}

// WaitTx polls for an included transaction until the tx timeout.
func (c *Client) WaitTx(ctx context.Context, hash string) (*TxResult, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.TxTimeout)
	defer cancel()
	if _, err := hex.DecodeString(hash); err != nil {
		return nil, fmt.Errorf("tx hash %q: %w", hash, err)
	}
	interval := c.opts.PollInterval / 2
	if interval < 100*time.Millisecond {
		interval = 100 * time.Millisecond
	}
	for {
		res, err := c.Tx.GetTx(ctx, &txtypes.GetTxRequest{Hash: hash})
		if err == nil && res.TxResponse != nil {
			r := res.TxResponse
			return &TxResult{Hash: r.TxHash, Height: r.Height, Code: r.Code, Codespace: r.Codespace,
				Log: r.RawLog, GasUsed: r.GasUsed, Response: r}, nil
		}
		if serr := backoff.Sleep(ctx, interval); serr != nil {
			return nil, &TxError{Stage: "timeout", Hash: hash,
				Log: fmt.Sprintf("not included within chain.tx_timeout %s", c.opts.TxTimeout)}
		}
	}
}
