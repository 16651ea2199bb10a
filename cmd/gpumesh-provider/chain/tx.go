package chain

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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

// TxError is a transaction that failed at a stage: simulate, gas_cap,
// fee_cap, check_tx, deliver_tx, timeout or broadcast.
type TxError struct {
	Stage     string
	Codespace string
	Code      uint32
	Log       string
	Hash      string
	// Err is the cause, when there is one to match (ErrOverCap).
	Err error
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

func (e *TxError) Unwrap() error { return e.Err }

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
	// Priority places the transaction in the broadcaster's queue;
	// PriorityAuto (the zero value) takes the most urgent of its
	// messages' kinds.
	Priority Priority
}

// Priority orders the broadcaster's queue: a lower value is signed first.
type Priority int

// Priorities, most urgent first.
const (
	// PriorityAuto infers the priority from the messages.
	PriorityAuto Priority = iota
	// PriorityProof: commits and reveals, which have deadlines of a few
	// blocks. Never refused for a full queue.
	PriorityProof
	// PriorityLease: lease access and usage reports, which tenants wait
	// for.
	PriorityLease
	// PriorityBid: bids and bid closes.
	PriorityBid
	// PriorityOther: withdrawals, claims, registration, inventory, bond.
	PriorityOther
	numPriorities
)

func (p Priority) String() string {
	switch p {
	case PriorityAuto:
		return "auto"
	case PriorityProof:
		return "proof"
	case PriorityLease:
		return "lease"
	case PriorityBid:
		return "bid"
	case PriorityOther:
		return "other"
	}
	return strconv.Itoa(int(p))
}

// kindPriority is the queue a message kind goes to.
func kindPriority(kind string) Priority {
	switch kind {
	case KindCommit, KindReveal:
		return PriorityProof
	case KindLease:
		return PriorityLease
	case KindBid:
		return PriorityBid
	default:
		return PriorityOther
	}
}

// priorityOf is the most urgent priority of msgs' kinds.
func priorityOf(msgs []sdk.Msg) Priority {
	p := PriorityOther
	for _, m := range msgs {
		p = min(p, kindPriority(msgKind(m)))
	}
	return p
}

var (
	// ErrWrongChain: the node is on another chain than chain.chain_id
	// (signatures over the configured chain id fail its check). Fatal:
	// the client signs nothing more.
	ErrWrongChain = errors.New("wrong chain")
	// ErrQueueFull: too many transactions wait to be signed; proofs are
	// never refused.
	ErrQueueFull = errors.New("transaction queue full")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("chain client closed")
)

// Send signs and broadcasts msgs as one transaction and waits until it is
// included. It queues the transaction with the broadcaster (see
// broadcaster), which signs the most urgent first and does not wait for
// one inclusion before the next broadcast. Gas is simulated, multiplied
// by the gas adjustment and capped (chain.max_gas, chain.max_fee). A
// transaction included with a non-zero code returns its result and a
// *TxError at stage deliver_tx. A cancelled ctx returns at once; a
// transaction already broadcast may still be included.
func (c *Client) Send(ctx context.Context, opts SendOptions, msgs ...sdk.Msg) (*TxResult, error) {
	b := c.bc
	if b == nil {
		return nil, errors.New("no signing key configured")
	}
	if len(msgs) == 0 {
		return nil, errors.New("a transaction needs at least one message")
	}
	prio := opts.Priority
	switch {
	case prio == PriorityAuto:
		prio = priorityOf(msgs)
	case prio < PriorityAuto || prio >= numPriorities:
		return nil, fmt.Errorf("send priority %d: want %d to %d", prio, PriorityProof, numPriorities-1)
	}
	r := &request{ctx: ctx, opts: opts, msgs: msgs, prio: prio, done: make(chan outcome, 1)}
	select {
	case b.submit <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.exited:
		return nil, ErrClosed
	}
	select {
	case o := <-r.done:
		return o.res, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sequenceRetries bounds how often a transaction is signed again after an
// account sequence mismatch (another process signing with the same key,
// or a transaction dropped from the mempool).
const sequenceRetries = 4

// Broadcaster bounds.
const (
	// maxPending is how many transactions other than proofs may wait in
	// the mempool at once: a proof signed later goes after them in
	// sequence order, so they are few.
	maxPending = 8
	// maxPendingProofs is how many transactions, proofs included, may
	// wait at once: proofs are broadcast past a full maxPending.
	maxPendingProofs = 2 * maxPending
	// maxQueued is how many transactions other than proofs may wait to be
	// signed; more are refused with ErrQueueFull.
	maxQueued = 256
	// submitBuffer lets callers hand over a transaction while the
	// broadcaster is in a node call.
	submitBuffer = 64
)

type outcome struct {
	res *TxResult
	err error
}

// request is one Send.
type request struct {
	ctx   context.Context
	opts  SendOptions
	msgs  []sdk.Msg
	prio  Priority
	tries int // signed again after a sequence mismatch
	done  chan outcome
}

// inflight is a broadcast transaction not yet seen included.
type inflight struct {
	req      *request
	hash     string
	seq      uint64
	deadline time.Time
}

// broadcaster owns the signing account: its sequence, the queue of
// transactions to sign and the transactions in the mempool. One goroutine
// (run) owns all of it. It signs the most urgent queued transaction,
// broadcasts it (sync mode: CheckTx only), takes the next sequence at
// once and goes on; inclusion is polled for every pending hash each
// half poll interval and each caller is answered when its transaction is
// included, fails or times out. Several transactions thus wait in the
// mempool with consecutive sequences, and a proof waits for at most the
// one send in progress, never for an earlier transaction's inclusion.
//
// On an account sequence mismatch the node's expected sequence (from the
// error, else the account) becomes the next one; pending transactions at
// or past it are no longer in the node's mempool and are signed again, in
// order, before anything newer. A signature the node refuses (code 4)
// while the node's chain id differs from the configured one is fatal.
type broadcaster struct {
	c      *Client
	addr   sdk.AccAddress
	caps   Caps
	prices sdk.DecCoins

	submit chan *request
	stop   context.CancelFunc
	exited chan struct{}

	// Owned by run.
	queues    [numPriorities][]*request
	pending   []*inflight
	loaded    bool
	accNum    uint64
	seq       uint64
	holdUntil time.Time
	fatal     error
}

func newBroadcaster(c *Client, addr sdk.AccAddress, caps Caps, prices sdk.DecCoins) *broadcaster {
	ctx, cancel := context.WithCancel(context.Background())
	b := &broadcaster{c: c, addr: addr, caps: caps, prices: prices, submit: make(chan *request, submitBuffer),
		stop: cancel, exited: make(chan struct{})}
	go b.run(ctx)
	return b
}

// close stops run and waits for it; every waiting caller gets ErrClosed.
func (b *broadcaster) close() {
	b.stop()
	<-b.exited
}

func (b *broadcaster) pollInterval() time.Duration {
	return max(b.c.opts.PollInterval/2, 10*time.Millisecond)
}

func (b *broadcaster) run(ctx context.Context) {
	defer close(b.exited)
	defer b.failAll(ErrClosed)
	tick := time.NewTicker(b.pollInterval())
	defer tick.Stop()
	for {
		b.drain()
		select {
		case <-tick.C:
			b.poll(ctx)
		default:
		}
		if ctx.Err() != nil {
			return
		}
		if r := b.next(); r != nil {
			b.send(ctx, r)
			continue
		}
		b.wait(ctx, tick.C)
	}
}

// wait blocks until a submission, a poll tick, the end of a hold or the
// end of ctx.
func (b *broadcaster) wait(ctx context.Context, tick <-chan time.Time) {
	var wake <-chan time.Time
	if hold := time.Until(b.holdUntil); hold > 0 && b.queued() > 0 {
		t := time.NewTimer(hold)
		defer t.Stop()
		wake = t.C
	}
	select {
	case <-ctx.Done():
	case r := <-b.submit:
		b.enqueue(r)
	case <-tick:
		b.poll(ctx)
	case <-wake:
	}
}

// drain queues every submission waiting, so that the next send is the
// most urgent of all.
func (b *broadcaster) drain() {
	for {
		select {
		case r := <-b.submit:
			b.enqueue(r)
		default:
			return
		}
	}
}

func (b *broadcaster) queued() int {
	n := 0
	for _, q := range b.queues {
		n += len(q)
	}
	return n
}

func (b *broadcaster) enqueue(r *request) {
	if b.fatal != nil {
		b.reply(r, nil, b.fatal)
		return
	}
	if r.prio != PriorityProof && b.queued()-len(b.queues[PriorityProof]) >= maxQueued {
		b.reply(r, nil, &TxError{Stage: "queue_full", Err: ErrQueueFull, Log: fmt.Sprintf(
			"%d transactions wait to be signed, at most %d besides proofs; %s refused", maxQueued, maxQueued, kindsOf(r.msgs))})
		return
	}
	b.queues[r.prio] = append(b.queues[r.prio], r)
}

// requeue puts rs back at the front of their queues, in order, to be
// signed again (tries counts each time).
func (b *broadcaster) requeue(rs []*request, reason string) {
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i]
		r.tries++
		if r.tries > sequenceRetries {
			b.reply(r, nil, &TxError{Stage: "sequence", Codespace: sdkerrors.RootCodespace,
				Code: sdkerrors.ErrWrongSequence.ABCICode(),
				Log:  fmt.Sprintf("account sequence kept changing after %d attempts", sequenceRetries)})
			continue
		}
		if b.c.opts.OnTxRetry != nil {
			b.c.opts.OnTxRetry(reason)
		}
		b.queues[r.prio] = append([]*request{r}, b.queues[r.prio]...)
	}
}

// next pops the most urgent request that may be signed now: none while
// held after a sequence mismatch, proofs up to maxPendingProofs in the
// mempool, others up to maxPending. Requests whose caller gave up are
// dropped.
func (b *broadcaster) next() *request {
	if time.Now().Before(b.holdUntil) {
		return nil
	}
	for p := PriorityProof; p < numPriorities; p++ {
		limit := maxPending
		if p == PriorityProof {
			limit = maxPendingProofs
		}
		for len(b.queues[p]) > 0 && len(b.pending) < limit {
			r := b.queues[p][0]
			b.queues[p] = b.queues[p][1:]
			if err := r.ctx.Err(); err != nil {
				b.reply(r, nil, err)
				continue
			}
			return r
		}
	}
	return nil
}

// reply answers r's caller once, and reports a failure.
func (b *broadcaster) reply(r *request, res *TxResult, err error) {
	if err != nil && b.c.opts.OnTxFailure != nil && r.ctx.Err() == nil {
		var te *TxError
		if errors.As(err, &te) {
			b.c.opts.OnTxFailure(te.Stage, te.Codespace)
		} else {
			b.c.opts.OnTxFailure("broadcast", "")
		}
	}
	select {
	case r.done <- outcome{res: res, err: err}:
	default:
	}
}

func (b *broadcaster) failAll(err error) {
	b.drain()
	for p := range b.queues {
		for _, r := range b.queues[p] {
			b.reply(r, nil, err)
		}
		b.queues[p] = nil
	}
	for _, p := range b.pending {
		b.reply(p.req, nil, err)
	}
	b.pending = nil
}

// callCtx bounds one node call: the tx timeout, the caller's context and
// the broadcaster's.
func (b *broadcaster) callCtx(ctx, caller context.Context) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithTimeout(caller, b.c.opts.TxTimeout)
	stop := context.AfterFunc(ctx, cancel)
	return cctx, func() { stop(); cancel() }
}

// send signs r at the next sequence and broadcasts it.
func (b *broadcaster) send(ctx context.Context, r *request) {
	cctx, cancel := b.callCtx(ctx, r.ctx)
	defer cancel()
	if !b.loaded {
		if err := b.load(cctx); err != nil {
			b.reply(r, nil, err)
			return
		}
	}
	bz, err := b.build(cctx, r)
	var hash string
	if err == nil {
		hash, err = b.broadcast(cctx, bz)
	}
	var te *TxError
	switch {
	case err == nil:
		b.pending = append(b.pending, &inflight{req: r, hash: hash, seq: b.seq, deadline: time.Now().Add(b.c.opts.TxTimeout)})
		b.seq++
	case errors.As(err, &te) && isSequenceMismatch(te):
		b.resync(cctx, r, te)
	case errors.As(err, &te) && isSignatureRefused(te):
		b.refused(cctx, r, err)
	default:
		b.reply(r, nil, err)
	}
}

// resync handles an account sequence mismatch: the node's expected
// sequence becomes the next, pending transactions from it on are signed
// again before r, and sends wait a backoff delay.
func (b *broadcaster) resync(ctx context.Context, r *request, te *TxError) {
	expected, ok := expectedSequence(te.Log)
	if !ok {
		if err := b.load(ctx); err != nil {
			b.reply(r, nil, err)
			return
		}
		expected = b.seq
	}
	var lost []*request
	kept := b.pending[:0]
	for _, p := range b.pending {
		if p.seq >= expected {
			lost = append(lost, p.req)
		} else {
			kept = append(kept, p)
		}
	}
	b.pending = kept
	b.seq = expected
	tries := r.tries
	b.requeue(append(lost, r), "sequence")
	b.holdUntil = time.Now().Add(backoff.Default().Delay(tries+1, nil))
}

// refused handles a signature the node refused: fatal when the node is
// on another chain, else the error as it is.
func (b *broadcaster) refused(ctx context.Context, r *request, err error) {
	cerr := b.c.CheckChainID(ctx)
	if !errors.Is(cerr, ErrWrongChain) {
		b.reply(r, nil, err)
		return
	}
	b.fatal = &TxError{Stage: "chain_id", Log: cerr.Error(), Err: cerr}
	b.reply(r, nil, b.fatal)
	for p := range b.queues {
		for _, q := range b.queues[p] {
			b.reply(q, nil, b.fatal)
		}
		b.queues[p] = nil
	}
}

// poll looks up every pending transaction: included ones answer their
// caller, ones past the tx timeout answer with a timeout.
func (b *broadcaster) poll(ctx context.Context) {
	if len(b.pending) == 0 {
		return
	}
	kept := b.pending[:0]
	for _, p := range b.pending {
		res, found := b.lookup(ctx, p.hash)
		switch {
		case found && res.Code != 0:
			b.reply(p.req, res, &TxError{Stage: "deliver_tx", Codespace: res.Codespace, Code: res.Code, Log: res.Log, Hash: res.Hash})
		case found:
			b.reply(p.req, res, nil)
		case time.Now().After(p.deadline):
			// The mempool may have dropped it: a later broadcast's
			// sequence mismatch resyncs.
			b.reply(p.req, nil, &TxError{Stage: "timeout", Hash: p.hash,
				Log: fmt.Sprintf("not included within chain.tx_timeout %s", b.c.opts.TxTimeout)})
		default:
			kept = append(kept, p)
		}
	}
	clear(b.pending[len(kept):])
	b.pending = kept
}

func (b *broadcaster) lookup(ctx context.Context, hash string) (*TxResult, bool) {
	cctx, cancel := context.WithTimeout(ctx, b.c.opts.TxTimeout)
	defer cancel()
	res, err := b.c.Tx.GetTx(cctx, &txtypes.GetTxRequest{Hash: hash})
	if err != nil || res.TxResponse == nil {
		return nil, false
	}
	return txResult(res.TxResponse), true
}

func txResult(r *sdk.TxResponse) *TxResult {
	return &TxResult{Hash: r.TxHash, Height: r.Height, Code: r.Code, Codespace: r.Codespace, Log: r.RawLog,
		GasUsed: r.GasUsed, Response: r}
}

func (b *broadcaster) broadcast(ctx context.Context, bz []byte) (string, error) {
	res, err := b.c.Tx.BroadcastTx(ctx, &txtypes.BroadcastTxRequest{TxBytes: bz, Mode: txtypes.BroadcastMode_BROADCAST_MODE_SYNC})
	if err != nil {
		return "", fmt.Errorf("broadcast: %w", err)
	}
	r := res.TxResponse
	if r == nil {
		return "", errors.New("broadcast: the node returned no response")
	}
	if r.Code != 0 {
		return "", &TxError{Stage: "check_tx", Codespace: r.Codespace, Code: r.Code, Log: r.RawLog, Hash: r.TxHash}
	}
	if _, err := hex.DecodeString(r.TxHash); err != nil || r.TxHash == "" {
		return "", fmt.Errorf("broadcast: the node returned tx hash %q", r.TxHash)
	}
	return r.TxHash, nil
}

func isSequenceMismatch(te *TxError) bool {
	if te.Codespace == sdkerrors.RootCodespace && te.Code == sdkerrors.ErrWrongSequence.ABCICode() {
		return true
	}
	return strings.Contains(te.Log, "account sequence mismatch")
}

// isSignatureRefused: the node's signature check failed (x/auth's
// "signature verification failed; please verify account number and
// chain-id", code 4).
func isSignatureRefused(te *TxError) bool {
	return te.Stage == "check_tx" && te.Codespace == sdkerrors.RootCodespace && te.Code == sdkerrors.ErrUnauthorized.ABCICode() &&
		strings.Contains(te.Log, "signature verification failed")
}

var expectedSequenceRE = regexp.MustCompile(`account sequence mismatch, expected (\d+), got \d+`)

// expectedSequence is the sequence the node expects, from x/auth's
// mismatch message.
func expectedSequence(log string) (uint64, bool) {
	m := expectedSequenceRE.FindStringSubmatch(log)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	return n, err == nil
}

// load reads the account number and sequence from the chain.
func (b *broadcaster) load(ctx context.Context) error {
	res, err := b.c.Auth.AccountInfo(ctx, &authtypes.QueryAccountInfoRequest{Address: b.addr.String()})
	if err != nil {
		if IsNotFound(err) {
			return fmt.Errorf("account %s does not exist on chain: fund it first", b.addr)
		}
		return fmt.Errorf("account %s: %w", b.addr, err)
	}
	if res.Info == nil {
		return fmt.Errorf("account %s: the node returned no account", b.addr)
	}
	b.accNum, b.seq, b.loaded = res.Info.AccountNumber, res.Info.Sequence, true
	return nil
}

func (b *broadcaster) factory(opts SendOptions) tx.Factory {
	c := b.c
	return tx.Factory{}.
		WithTxConfig(c.enc.TxConfig).
		WithKeybase(c.opts.Keyring).
		WithFromName(c.opts.KeyName).
		WithChainID(c.opts.ChainID).
		WithAccountNumber(b.accNum).
		WithSequence(b.seq).
		WithMemo(opts.Memo)
}

// build simulates r, caps its gas and fee and signs it at the next
// sequence. Nothing over chain.max_gas or chain.max_fee is signed.
func (b *broadcaster) build(ctx context.Context, r *request) ([]byte, error) {
	c, opts, msgs := b.c, r.opts, r.msgs
	if opts.Free && len(opts.Memo) > poctypes.FreeMemoMaxBytes {
		return nil, fmt.Errorf("memo of %d bytes: a free proof transaction carries at most %d", len(opts.Memo),
			poctypes.FreeMemoMaxBytes)
	}
	f := b.factory(opts)
	simBytes, err := f.BuildSimTx(msgs...)
	if err != nil {
		return nil, fmt.Errorf("build simulation: %w", err)
	}
	sim, err := c.Tx.Simulate(ctx, &txtypes.SimulateRequest{TxBytes: simBytes})
	if err != nil {
		return nil, simulateError(err)
	}
	if sim.GasInfo == nil {
		return nil, &TxError{Stage: "simulate", Log: "the node returned no gas info"}
	}
	capped := b.caps.gasCap(msgs)
	gas, err := gasLimit(sim.GasInfo.GasUsed, c.opts.GasAdjustment, capped, kindsOf(msgs))
	if err != nil {
		return nil, &TxError{Stage: "gas_cap", Log: err.Error(), Err: err}
	}
	free := opts.Free
	if free {
		least, freeCap, err := b.freeGasRange(ctx, f, msgs)
		if err != nil {
			return nil, err
		}
		gas, free = freeGasLimit(sim.GasInfo.GasUsed, gas, least, freeCap)
		if gas > capped {
			err := fmt.Errorf("%w: the chain's free-proof cost of %s is %d gas, chain.max_gas allows %d", ErrOverCap,
				kindsOf(msgs), gas, capped)
			return nil, &TxError{Stage: "gas_cap", Log: err.Error(), Err: err}
		}
	}
	f = f.WithGas(gas)
	if !free && len(b.prices) > 0 {
		fees, err := b.caps.fee(gas, b.prices)
		if err != nil {
			return nil, &TxError{Stage: "fee_cap", Log: err.Error(), Err: err}
		}
		f = f.WithFees(fees.String())
	}
	builder, err := f.BuildUnsignedTx(msgs...)
	if err != nil {
		return nil, fmt.Errorf("build tx: %w", err)
	}
	if err := tx.Sign(ctx, f, c.opts.KeyName, builder, true); err != nil {
		return nil, fmt.Errorf("sign with key %q: %w", c.opts.KeyName, err)
	}
	return c.enc.TxConfig.TxEncoder()(builder.GetTx())
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
func (b *broadcaster) freeGasRange(ctx context.Context, f tx.Factory, msgs []sdk.Msg) (least, capped uint64, err error) {
	sum, size, costs, err := b.freeGas(ctx, f, msgs)
	if err != nil {
		return 0, 0, err
	}
	return sum.Cost(size+gasLimitBytes, costs), sum.Cap(size, costs), nil
}

// freeGas adds up the chain's free-proof gas computation for msgs and
// returns it with the signed size without a gas limit and x/auth's costs.
func (b *broadcaster) freeGas(ctx context.Context, f tx.Factory, msgs []sdk.Msg) (*poctypes.FreeGas, int, poctypes.TxGasCosts, error) {
	c := b.c
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
				res, err := c.Provider.Inventory(ctx, &providertypes.QueryInventoryRequest{Owner: b.addr.String()})
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
	size, err := b.sizeWithoutGas(f, msgs)
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
func (b *broadcaster) sizeWithoutGas(f tx.Factory, msgs []sdk.Msg) (int, error) {
	c := b.c
	bld, err := f.WithGas(0).WithFees("").BuildUnsignedTx(msgs...)
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
	err = bld.SetSignatures(signing.SignatureV2{PubKey: pk, Sequence: b.seq, Data: &signing.SingleSignatureData{
		SignMode: signing.SignMode_SIGN_MODE_DIRECT, Signature: make([]byte, secp256k1SignatureBytes)}})
	if err != nil {
		return 0, err
	}
	bz, err := c.enc.TxConfig.TxEncoder()(bld.GetTx())
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
	interval := max(c.opts.PollInterval/2, 100*time.Millisecond)
	for {
		res, err := c.Tx.GetTx(ctx, &txtypes.GetTxRequest{Hash: hash})
		if err == nil && res.TxResponse != nil {
			return txResult(res.TxResponse), nil
		}
		if serr := backoff.Sleep(ctx, interval); serr != nil {
			return nil, &TxError{Stage: "timeout", Hash: hash,
				Log: fmt.Sprintf("not included within chain.tx_timeout %s", c.opts.TxTimeout)}
		}
	}
}
