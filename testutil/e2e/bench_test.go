//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	gpumeshcmd "github.com/gpumesh/gpumesh/cmd/gpumeshd/cmd"
	"github.com/gpumesh/gpumesh/testutil/bench"
	"github.com/gpumesh/gpumesh/testutil/bench/results"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// The benchmarks on a real four-validator network: how long the market's
// steps take in blocks and seconds (TestBenchLatency) and how many
// transactions a second the network takes (TestBenchThroughput). They
// skip unless GPUMESH_BENCH_OUT names a directory, and then write
// latency.json and network.json there. Every number is read back from the
// chain: heights from transaction results and events, times from the
// block headers.

// benchChainID is the chain id scripts/localnet.sh gives its networks.
const benchChainID = "gpumesh-local-1"

// requireBenchOut skips the test unless GPUMESH_BENCH_OUT is set.
func requireBenchOut(t *testing.T) {
	t.Helper()
	if os.Getenv(bench.OutEnv) == "" {
		t.Skip("benchmark: set GPUMESH_BENCH_OUT to run")
	}
}

// ---- reading blocks back ----

// benchEvent is an ABCI event with its attributes by key.
type benchEvent struct {
	Type  string
	Attrs map[string]string
}

// id reads an id attribute: a typed event's OrderID or AccountID
// ({"tenant":…,"seq":…}) as "tenant/seq", a quoted number or enum as its
// text.
func (e benchEvent) id(key string) string {
	v := e.Attrs[key]
	var obj map[string]any
	if json.Unmarshal([]byte(v), &obj) == nil && obj != nil {
		return fmt.Sprintf("%v/%v", obj["tenant"], obj["seq"])
	}
	var s string
	if json.Unmarshal([]byte(v), &s) == nil {
		return s
	}
	return v
}

// benchTx is one transaction of a block with its result.
type benchTx struct {
	Hash      string // upper-case hex SHA-256 of the bytes, as CometBFT names it
	Bytes     []byte
	Code      uint32
	Codespace string
	Log       string
	Events    []benchEvent
}

// benchBlock is a block's time, transactions and FinalizeBlock events.
type benchBlock struct {
	Height int64
	Time   time.Time
	Txs    []benchTx
	Events []benchEvent // the block's own (begin and end block) events
}

// events are the block's own events and those of its successful
// transactions.
func (b benchBlock) events() []benchEvent {
	out := slices.Clone(b.Events)
	for _, tx := range b.Txs {
		if tx.Code == 0 {
			out = append(out, tx.Events...)
		}
	}
	return out
}

type rpcEvent struct {
	Type       string `json:"type"`
	Attributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"attributes"`
}

func convertEvents(in []rpcEvent) []benchEvent {
	out := make([]benchEvent, len(in))
	for i, e := range in {
		out[i] = benchEvent{Type: e.Type, Attrs: make(map[string]string, len(e.Attributes))}
		for _, a := range e.Attributes {
			out[i].Attrs[a.Key] = a.Value
		}
	}
	return out
}

// txHash is CometBFT's name of a transaction.
func txHash(tx []byte) string {
	h := sha256.Sum256(tx)
	return strings.ToUpper(hex.EncodeToString(h[:]))
}

// getJSONRetry is GetJSON, tried a few times: a node busy with a large
// block can miss the 3 s timeout.
func getJSONRetry(url string, out any) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = GetJSON(url, out); err == nil {
			return nil
		}
		time.Sleep(time.Duration(300*(try+1)) * time.Millisecond)
	}
	return err
}

// benchBlockAt reads block h and its results from node's CometBFT RPC.
func (ln *Localnet) benchBlockAt(t *testing.T, node int, h int64) benchBlock {
	t.Helper()
	var blk struct {
		Result struct {
			Block struct {
				Header struct {
					Time time.Time `json:"time"`
				} `json:"header"`
				Data struct {
					Txs [][]byte `json:"txs"`
				} `json:"data"`
			} `json:"block"`
		} `json:"result"`
	}
	require.NoError(t, getJSONRetry(fmt.Sprintf("%s/block?height=%d", ln.RPC(node), h), &blk))
	var res struct {
		Result struct {
			TxsResults []struct {
				Code      uint32     `json:"code"`
				Codespace string     `json:"codespace"`
				Log       string     `json:"log"`
				Events    []rpcEvent `json:"events"`
			} `json:"txs_results"`
			FinalizeBlockEvents []rpcEvent `json:"finalize_block_events"`
		} `json:"result"`
	}
	require.NoError(t, getJSONRetry(fmt.Sprintf("%s/block_results?height=%d", ln.RPC(node), h), &res))
	txs := blk.Result.Block.Data.Txs
	require.Len(t, res.Result.TxsResults, len(txs), "block %d: one result per transaction", h)
	b := benchBlock{Height: h, Time: blk.Result.Block.Header.Time, Events: convertEvents(res.Result.FinalizeBlockEvents)}
	for i, tx := range txs {
		r := res.Result.TxsResults[i]
		b.Txs = append(b.Txs, benchTx{Hash: txHash(tx), Bytes: tx, Code: r.Code, Codespace: r.Codespace, Log: r.Log,
			Events: convertEvents(r.Events)})
	}
	return b
}

// benchBlocks reads blocks from through to (inclusive) from node, indexed
// by height.
func (ln *Localnet) benchBlocks(t *testing.T, node int, from, to int64) map[int64]benchBlock {
	t.Helper()
	out := make(map[int64]benchBlock, to-from+1)
	for h := from; h <= to; h++ {
		out[h] = ln.benchBlockAt(t, node, h)
	}
	return out
}

// ---- summaries ----

// span is one latency sample: from the block at one height to the block
// at a later one.
type span struct{ from, to int64 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// round2 rounds to hundredths, for readable JSON.
func round2(x float64) float64 { return float64(int64(x*100+0.5)) / 100 }

// latencyOf summarizes samples in blocks and in seconds between the
// blocks' header times.
func latencyOf(t *testing.T, name, target string, samples []span, blocks map[int64]benchBlock) results.LatencyRow {
	t.Helper()
	require.NotEmpty(t, samples, name)
	var nb, secs []float64
	row := results.LatencyRow{Name: name, Target: target, Samples: len(samples)}
	for _, s := range samples {
		from, ok1 := blocks[s.from]
		to, ok2 := blocks[s.to]
		require.True(t, ok1 && ok2, "%s: blocks %d and %d were read", name, s.from, s.to)
		require.GreaterOrEqual(t, s.to, s.from, name)
		d := to.Time.Sub(from.Time).Seconds()
		nb = append(nb, float64(s.to-s.from))
		secs = append(secs, d)
		row.BlocksMax = max(row.BlocksMax, s.to-s.from)
		row.SecondsMax = max(row.SecondsMax, round2(d))
	}
	row.BlocksMedian, row.SecondsMedian = median(nb), round2(median(secs))
	t.Logf("%s: %d samples %v, median %.1f blocks / %.2f s, max %d blocks / %.2f s", name, len(samples), samples,
		row.BlocksMedian, row.SecondsMedian, row.BlocksMax, row.SecondsMax)
	return row
}

// blockInterval is the mean time between the blocks from and to.
func blockInterval(blocks map[int64]benchBlock, from, to int64) float64 {
	if to <= from {
		return 0
	}
	return round2(blocks[to].Time.Sub(blocks[from].Time).Seconds() / float64(to-from))
}

// benchEncoding decodes and encodes every message these benchmarks send
// or read.
func benchEncoding() chain.EncodingConfig {
	enc := chain.Encoding()
	banktypes.RegisterInterfaces(enc.InterfaceRegistry)
	return enc
}

// ---- latency ----

// TestBenchLatency times the market's steps on four validators with one
// mock-GPU sidecar (8 H100s, CPU prover at the test profile) bidding on
// alice's orders: an order to the sidecar's first bid, instant and
// windowed orders to their leases, a capacity challenge to its verdict,
// and a lease to the sidecar's first withdrawal from it.
func TestBenchLatency(t *testing.T) {
	requireBenchOut(t)
	began := time.Now()
	const (
		samples       = 3
		window        = 10 // seconds, of the windowed orders
		epochBlocks   = 16 // the least x/proofofcompute takes
		withdrawEvery = 3 * time.Second
		challenges    = 3
	)
	ln := NewLocalnet(t, 19000)
	ln.Env = append(ln.Env, fmt.Sprintf("LOCALNET_POC_EPOCH_BLOCKS=%d", epochBlocks), "LOCALNET_POC_SAMPLE_RATE=1",
		"LOCALNET_MIN_DEPOSIT_SECONDS=20")
	ln.MustScript("start", "--validators", "4")
	alice, p1 := ln.Address("alice"), ln.Address("provider1")
	sc := NewSidecar(t, ln, "bench-lat", "provider1", "dgx-h100", "e2e-bench-lat", 0, func(c *config.Config) {
		c.Leases.WithdrawInterval = config.Duration(withdrawEvery)
		// Usage reports are not measured; fewer of them leave the
		// sidecar's one signer to the bids and withdrawals.
		c.Leases.UsageInterval = config.Duration(time.Minute)
	})
	sc.Run("register")
	first, err := ln.Height(0)
	require.NoError(t, err)
	sc.Start()

	// One order at a time, alternately instant and windowed, each waited
	// on until it is leased, so no two orders share the sidecar.
	type order struct {
		seq    int
		window int
		height int64 // the block that included the order
	}
	var orders []order
	for i := 0; i < 2*samples; i++ {
		o := order{seq: i + 1, window: (i % 2) * window}
		spec := fmt.Sprintf("gpu_classes: [h100]\ngpus_per_node: 1\nmax_price_per_gpu_hour: 2500000uusdc\nbid_window: %ds\n", o.window)
		res := ln.Tx("market", "create-order", writeOrder(t, fmt.Sprintf("bench-%d.yaml", o.seq), spec),
			"--deposit", "3000000uusdc", "--from", "alice")
		require.Equal(t, uint32(0), res.Code, res.RawLog)
		o.height = atoi(t, res.Height)
		orders = append(orders, o)
		require.Eventually(t, func() bool {
			_, ok := ln.lease(alice, o.seq)
			return ok
		}, time.Duration(o.window)*time.Second+30*time.Second, 200*time.Millisecond, "alice/%d leased", o.seq)
	}
	// Every lease is withdrawn from, and the idle GPUs are challenged.
	require.Eventually(t, func() bool {
		for _, o := range orders {
			var acct escrowView
			if GetJSON(fmt.Sprintf("%s/gpumesh/escrow/v1/accounts/%s/%d", ln.REST(0), alice, o.seq), &acct) != nil ||
				acct.Account.Paid == "" || acct.Account.Paid == "0" {
				return false
			}
		}
		return true
	}, 60*time.Second, 500*time.Millisecond, "the sidecar withdrew from every lease")
	passed := func() int {
		n := 0
		for _, c := range ln.challengesOf(p1) {
			if c.Kind == poctypes.CHALLENGE_KIND_CAPACITY.String() && c.State == poctypes.CHALLENGE_STATE_PASSED.String() {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return passed() >= challenges }, 4*epochBlocks*3*time.Second, time.Second,
		"%d capacity challenges passed", challenges)
	last, err := ln.Height(0)
	require.NoError(t, err)
	blocks := ln.benchBlocks(t, 0, first, last)

	// What happened in which block.
	enc := benchEncoding()
	decode := enc.TxConfig.TxDecoder()
	var (
		bidAt, leaseAt       = map[string]int64{}, map[string]int64{}
		withdrawAt           = map[string]int64{}
		issuedAt, passedAt   = map[string]int64{}, map[string]int64{}
		bidType, leaseType   = proto.MessageName(&markettypes.EventBidCreated{}), proto.MessageName(&markettypes.EventLeaseStarted{})
		issueType, passType  = proto.MessageName(&poctypes.EventChallengeIssued{}), proto.MessageName(&poctypes.EventChallengePassed{})
		capacity, withdrawal = poctypes.CHALLENGE_KIND_CAPACITY.String(), sdk.MsgTypeURL(&escrowtypes.MsgWithdraw{})
	)
	sidecarTxs := map[int64][]string{} // by height: the messages of the sidecar's transactions
	setFirst := func(m map[string]int64, key string, h int64) {
		if _, seen := m[key]; !seen {
			m[key] = h
		}
	}
	for h := first; h <= last; h++ {
		b := blocks[h]
		for _, e := range b.events() {
			switch {
			case e.Type == "message" && e.Attrs["sender"] == p1 && e.Attrs["action"] != "":
				action := e.Attrs["action"]
				sidecarTxs[h] = append(sidecarTxs[h], action[strings.LastIndexByte(action, '.')+1:])
			case e.Type == bidType && e.id("provider") == p1:
				setFirst(bidAt, e.id("order_id"), h)
			case e.Type == leaseType:
				setFirst(leaseAt, e.id("id"), h)
			case e.Type == issueType && e.id("provider") == p1 && e.id("kind") == capacity:
				setFirst(issuedAt, e.id("id"), h)
			case e.Type == passType && e.id("provider") == p1 && e.id("kind") == capacity:
				setFirst(passedAt, e.id("id"), h)
			}
		}
		for _, tx := range b.Txs {
			if tx.Code != 0 || !bytes.Contains(tx.Bytes, []byte(withdrawal)) {
				continue
			}
			decoded, err := decode(tx.Bytes)
			require.NoError(t, err)
			for _, m := range decoded.GetMsgs() {
				if w, ok := m.(*escrowtypes.MsgWithdraw); ok && w.Provider == p1 {
					for _, id := range w.LeaseIds {
						setFirst(withdrawAt, fmt.Sprintf("%s/%d", id.Tenant, id.Seq), h)
					}
				}
			}
		}
	}

	var toBid, instant, windowed, withdrawn, verified []span
	// slow names the samples where the sidecar's bid took more than two
	// blocks, with what the sidecar sent in between (it sends one
	// transaction at a time).
	var slow []string
	explain := func(what, id string, s span) {
		if s.to-s.from <= 2 {
			return
		}
		var between []string
		for h := s.from + 1; h < s.to; h++ {
			for _, m := range sidecarTxs[h] {
				between = append(between, fmt.Sprintf("%s (block %d)", m, h))
			}
		}
		slow = append(slow, fmt.Sprintf("%s %s took %d blocks (%d to %d); the sidecar's transactions included "+
			"in between: %s", what, id, s.to-s.from, s.from, s.to, joinOr(between, "none")))
	}
	for _, o := range orders {
		id := fmt.Sprintf("%s/%d", alice, o.seq)
		lease, ok := leaseAt[id]
		require.True(t, ok, "lease %s started between blocks %d and %d", id, first, last)
		w, ok := withdrawAt[id]
		require.True(t, ok, "the sidecar withdrew from %s", id)
		withdrawn = append(withdrawn, span{lease, w})
		if o.window == 0 {
			instant = append(instant, span{o.height, lease})
			explain("instant order", id, instant[len(instant)-1])
			continue
		}
		bid, ok := bidAt[id]
		require.True(t, ok, "the sidecar bid on %s", id)
		toBid = append(toBid, span{o.height, bid})
		explain("the first bid on", id, toBid[len(toBid)-1])
		windowed = append(windowed, span{o.height, lease})
	}
	ids := make([]string, 0, len(passedAt))
	for id := range passedAt {
		if _, ok := issuedAt[id]; ok {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return issuedAt[ids[i]] < issuedAt[ids[j]] })
	require.GreaterOrEqual(t, len(ids), challenges, "passed capacity challenges issued in blocks %d-%d", first, last)
	for _, id := range ids[:min(len(ids), 5)] {
		verified = append(verified, span{issuedAt[id], passedAt[id]})
	}

	res := results.Latency{
		Validators:     4,
		BlockIntervalS: blockInterval(blocks, first, last),
		Latency: []results.LatencyRow{
			latencyOf(t, "order → first bid", "", toBid, blocks),
			latencyOf(t, "instant order → lease", "≤ 2 blocks", instant, blocks),
			latencyOf(t, "windowed order → lease", "window + 1 block", windowed, blocks),
			latencyOf(t, "challenge → verified", "", verified, blocks),
			latencyOf(t, "lease → first withdrawal", "", withdrawn, blocks),
		},
		Notes: []string{
			fmt.Sprintf("4 validators on one machine (%s, timeout_commit 1 s); one gpumesh-provider sidecar with mock "+
				"dgx-h100 (8 × H100 SXM), CPU prover at the test profile (n = 256), polling the chain every 300 ms; "+
				"blocks %d-%d; the whole test took %.0f s", benchHost(), first, last, time.Since(began).Seconds()),
			fmt.Sprintf("orders: %d instant and %d windowed (bid_window %d s), one at a time, 1 × H100 each, sent "+
				"from the CLI; the order's height is its transaction result's; blocks and seconds are between "+
				"the including blocks' heights and header times", samples, samples, window),
			"order → first bid: the windowed order's block to the block of the sidecar's first EventBidCreated " +
				"on it; the sidecar signs one transaction at a time and waits for its inclusion, so a bid can " +
				"queue behind a withdrawal or a proof of its own",
			"instant order → lease: the order's block to its EventLeaseStarted (the block of the sidecar's bid)",
			fmt.Sprintf("windowed order → lease: the order's block to its EventLeaseStarted, in the first block "+
				"at or after the window's end (window %d s, counted from the order's block time in whole seconds, "+
				"so the lease can start up to 1 s short of the window after the order's block)", window),
			fmt.Sprintf("challenge → verified: EventChallengeIssued to EventChallengePassed of the sidecar's "+
				"capacity challenges (epoch_blocks %d, sample_rate 1; the protocol's commit and opening delays "+
				"are part of it); the first %d challenges", epochBlocks, len(verified)),
			fmt.Sprintf("lease → first withdrawal: EventLeaseStarted to the first block with the sidecar's "+
				"MsgWithdraw naming the lease (withdraw_interval %s; all %d leases)", withdrawEvery, len(withdrawn)),
		},
	}
	res.Notes = append(res.Notes, slow...)
	bench.WriteResult(t, "latency.json", res)
}

// benchHost describes the machine the network runs on.
func benchHost() string {
	return fmt.Sprintf("%d CPUs", runtime.NumCPU())
}

// ---- throughput ----

// loadKind is one kind of load transaction.
type loadKind string

const (
	kindCreateOrder loadKind = "create-order"
	kindDeposit     loadKind = "deposit"
	kindCloseOrder  loadKind = "close-order"
	kindBankSend    loadKind = "bank-send"
)

// loadCycle is what each load account sends, over and over: an order,
// a top-up of it, its close, and a bank send to the next account.
var loadCycle = []loadKind{kindCreateOrder, kindDeposit, kindCloseOrder, kindBankSend}

// loadAccount is one load generator account; only its own goroutine
// touches it, except included, which the block follower counts.
type loadAccount struct {
	key    cryptotypes.PrivKey
	addr   sdk.AccAddress
	number uint64
	seq    uint64         // the next transaction's account sequence
	node   int            // the node its transactions go to
	base   uint64         // its sequence when the load began (a fresh account: 0)
	copies map[uint64]int // by sequence: how often it was signed anew

	accepted int64        // passed CheckTx
	dropped  int64        // of those, given up for lost (sent again)
	included atomic.Int64 // seen in a block
}

// loadTx is a transaction that passed CheckTx.
type loadTx struct {
	kind    loadKind
	account int
}

// loadGen signs transactions offline and sends them with CometBFT's
// broadcast_tx_sync.
type loadGen struct {
	t        *testing.T
	ln       *Localnet
	enc      chain.EncodingConfig
	http     *http.Client
	accounts []*loadAccount

	mu      sync.Mutex
	sent    map[string]loadTx // by hash
	refused map[string]int    // CheckTx refusals and broadcast errors by reason

	submitted atomic.Int64
}

func newLoadGen(t *testing.T, ln *Localnet) *loadGen {
	return &loadGen{
		t: t, ln: ln, enc: benchEncoding(),
		http: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}},
		sent: map[string]loadTx{}, refused: map[string]int{},
	}
}

// sign signs msgs by acc with its current sequence (SIGN_MODE_DIRECT, no
// fee: localnets take zero gas prices).
func (lg *loadGen) sign(acc *loadAccount, gas uint64, memo string, msgs ...sdk.Msg) ([]byte, error) {
	txCfg := lg.enc.TxConfig
	b := txCfg.NewTxBuilder()
	if err := b.SetMsgs(msgs...); err != nil {
		return nil, err
	}
	b.SetGasLimit(gas)
	b.SetMemo(memo)
	mode := signing.SignMode_SIGN_MODE_DIRECT
	pub := acc.key.PubKey()
	sig := signing.SignatureV2{PubKey: pub, Data: &signing.SingleSignatureData{SignMode: mode}, Sequence: acc.seq}
	if err := b.SetSignatures(sig); err != nil {
		return nil, err
	}
	signer := authsigning.SignerData{Address: acc.addr.String(), ChainID: benchChainID, AccountNumber: acc.number,
		Sequence: acc.seq, PubKey: pub}
	bz, err := authsigning.GetSignBytesAdapter(context.Background(), txCfg.SignModeHandler(), mode, signer, b.GetTx())
	if err != nil {
		return nil, err
	}
	signature, err := acc.key.Sign(bz)
	if err != nil {
		return nil, err
	}
	sig.Data = &signing.SingleSignatureData{SignMode: mode, Signature: signature}
	if err := b.SetSignatures(sig); err != nil {
		return nil, err
	}
	return txCfg.TxEncoder()(b.GetTx())
}

// checkTxResult is broadcast_tx_sync's answer.
type checkTxResult struct {
	Code      uint32 `json:"code"`
	Codespace string `json:"codespace"`
	Log       string `json:"log"`
	Hash      string `json:"hash"`
}

// broadcast sends tx to node with broadcast_tx_sync (CheckTx only). A
// refusal before CheckTx (mempool full, already in the cache) is an error.
func (lg *loadGen) broadcast(node int, tx []byte) (checkTxResult, error) {
	lg.submitted.Add(1)
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "broadcast_tx_sync",
		"params": map[string]any{"tx": tx}})
	if err != nil {
		return checkTxResult{}, err
	}
	resp, err := lg.http.Post(lg.ln.RPC(node), "application/json", bytes.NewReader(body))
	if err != nil {
		return checkTxResult{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	bz, err := io.ReadAll(resp.Body)
	if err != nil {
		return checkTxResult{}, err
	}
	var r struct {
		Result *checkTxResult `json:"result"`
		Error  *struct {
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(bz, &r); err != nil {
		return checkTxResult{}, fmt.Errorf("%s: %w", resp.Status, err)
	}
	if r.Error != nil {
		return checkTxResult{}, fmt.Errorf("%s: %s", r.Error.Message, r.Error.Data)
	}
	if r.Result == nil {
		return checkTxResult{}, fmt.Errorf("no result: %s", bz)
	}
	return *r.Result, nil
}

func (lg *loadGen) refuse(reason string) {
	lg.mu.Lock()
	lg.refused[reason]++
	lg.mu.Unlock()
}

// refusalReason names a broadcast error without its numbers.
func refusalReason(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "mempool is full"):
		return "mempool full"
	case strings.Contains(s, "tx already exists in cache"):
		return "already in cache"
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return "broadcast error: " + s
}

// waitTx polls node0 until tx hash is in a block and returns its code.
func (lg *loadGen) waitTx(hash string) uint32 {
	lg.t.Helper()
	var res struct {
		Result struct {
			TxResult struct {
				Code uint32 `json:"code"`
				Log  string `json:"log"`
			} `json:"tx_result"`
		} `json:"result"`
	}
	require.Eventually(lg.t, func() bool {
		return GetJSON(fmt.Sprintf("%s/tx?hash=0x%s", lg.ln.RPC(0), hash), &res) == nil
	}, 30*time.Second, 200*time.Millisecond, "tx %s included", hash)
	require.Zero(lg.t, res.Result.TxResult.Code, res.Result.TxResult.Log)
	return res.Result.TxResult.Code
}

// accountInfo reads an account's number and sequence over REST.
func (lg *loadGen) accountInfo(addr sdk.AccAddress) (number, seq uint64, err error) {
	var res struct {
		Info struct {
			AccountNumber string `json:"account_number"`
			Sequence      string `json:"sequence"`
		} `json:"info"`
	}
	if err := getJSONRetry(lg.ln.REST(0)+"/cosmos/auth/v1beta1/account_info/"+addr.String(), &res); err != nil {
		return 0, 0, err
	}
	if number, err = strconv.ParseUint(res.Info.AccountNumber, 10, 64); err != nil {
		return 0, 0, err
	}
	seq, err = strconv.ParseUint(res.Info.Sequence, 10, 64)
	return number, seq, err
}

// testKey is the private key of a localnet test account (from its public
// mnemonic).
func testKey(t *testing.T, name string) cryptotypes.PrivKey {
	t.Helper()
	for _, a := range gpumeshcmd.TestAccounts {
		if a.Name == name {
			derived, err := hd.Secp256k1.Derive()(a.Mnemonic, "", sdk.FullFundraiserPath)
			require.NoError(t, err)
			return hd.Secp256k1.Generate()(derived)
		}
	}
	require.FailNow(t, "no test account "+name)
	return nil
}

// fund creates n load accounts, funds them from bob in one multi-send and
// reads their account numbers; account i sends to node i mod 4.
func (lg *loadGen) fund(n int, coins sdk.Coins) {
	t := lg.t
	t.Helper()
	bob := &loadAccount{key: testKey(t, "bob")}
	bob.addr = sdk.AccAddress(bob.key.PubKey().Address())
	var err error
	bob.number, bob.seq, err = lg.accountInfo(bob.addr)
	require.NoError(t, err)
	send := &banktypes.MsgMultiSend{Inputs: []banktypes.Input{{Address: bob.addr.String()}}}
	total := sdk.NewCoins()
	for i := 0; i < n; i++ {
		key := secp256k1.GenPrivKeyFromSecret(fmt.Appendf(nil, "gpumesh-e2e-load/%d", i))
		acc := &loadAccount{key: key, addr: sdk.AccAddress(key.PubKey().Address()), node: i % 4}
		lg.accounts = append(lg.accounts, acc)
		send.Outputs = append(send.Outputs, banktypes.Output{Address: acc.addr.String(), Coins: coins})
		total = total.Add(coins...)
	}
	send.Inputs[0].Coins = total
	tx, err := lg.sign(bob, 200_000+50_000*uint64(n), "", send)
	require.NoError(t, err)
	res, err := lg.broadcast(0, tx)
	require.NoError(t, err)
	require.Zero(t, res.Code, res.Log)
	lg.waitTx(txHash(tx))
	h, err := lg.ln.Height(0)
	require.NoError(t, err)
	for i := 0; i < 4; i++ { // every node has the accounts before the load
		lg.ln.WaitHeight(i, h, 20*time.Second)
	}
	for _, acc := range lg.accounts {
		acc.number, acc.seq, err = lg.accountInfo(acc.addr)
		require.NoError(t, err)
		acc.base, acc.copies = acc.seq, map[uint64]int{}
	}
}

// msgAt builds account i's message for account sequence seq. The
// message is a function of the sequence alone (the cycle's step and the
// order it names), so a transaction signed again for a sequence, after a
// node lost it, carries the same message and can never conflict with the
// first copy: at most one of them executes.
func (lg *loadGen) msgAt(i int, seq uint64) (loadKind, sdk.Msg, uint64) {
	acc := lg.accounts[i]
	tenant := acc.addr.String()
	n := seq - acc.base
	order := n/uint64(len(loadCycle)) + 1 // the tenant sequence of this cycle's order
	usdc := func(n int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, sdkmath.NewInt(n)) }
	switch kind := loadCycle[n%uint64(len(loadCycle))]; kind {
	case kindCreateOrder:
		return kind, &markettypes.MsgCreateOrder{
			Tenant:             tenant,
			Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1},
			MaxPricePerGpuHour: usdc(2_500_000),
			Deposit:            app.StableMinDeposit, // the least x/escrow accepts on a local network
			BidWindowSeconds:   3600,                 // open until the account closes it
		}, 400_000
	case kindDeposit:
		return kind, &escrowtypes.MsgDeposit{Sender: tenant, Id: escrowtypes.AccountID{Tenant: tenant, Seq: order},
			Amount: usdc(1_000)}, 400_000
	case kindCloseOrder:
		return kind, &markettypes.MsgCloseOrder{Tenant: tenant, Seq: order}, 400_000
	default:
		to := lg.accounts[(i+1)%len(lg.accounts)].addr.String()
		return kind, &banktypes.MsgSend{FromAddress: tenant, ToAddress: to, Amount: sdk.NewCoins(usdc(1))}, 200_000
	}
}

var wrongSeq = regexp.MustCompile(`expected (\d+), got (\d+)`)

// drive sends account i's cycle to its node until end, keeping at most
// inFlight of its transactions between CheckTx and a block.
//
// A node that answers "account sequence mismatch, expected E" has lost
// (or never had) the account's transactions from E on: the account goes
// back to E and sends them again. The same bytes are refused as already
// in the node's cache when an earlier copy was included and failed (a
// proposer that missed one of the account's transactions); the copy is
// then signed again with a memo that makes it new.
func (lg *loadGen) drive(i int, end time.Time, inFlight int64) {
	acc := lg.accounts[i]
	progress, lastIncluded := time.Now(), acc.included.Load()
	for time.Now().Before(end) {
		if inc := acc.included.Load(); inc != lastIncluded {
			progress, lastIncluded = time.Now(), inc
		}
		if acc.accepted-acc.dropped-lastIncluded >= inFlight {
			if time.Since(progress) > 10*time.Second {
				// Nothing of the account's reached a block for a while:
				// go on from the chain's sequence.
				lg.refuse("stalled: restarted from the chain's sequence")
				if _, seq, err := lg.accountInfo(acc.addr); err == nil {
					acc.seq, acc.dropped, progress = seq, acc.accepted-lastIncluded, time.Now()
				}
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		kind, msg, gas := lg.msgAt(i, acc.seq)
		memo := ""
		if n := acc.copies[acc.seq]; n > 0 {
			memo = fmt.Sprintf("copy %d", n)
		}
		tx, err := lg.sign(acc, gas, memo, msg)
		if err != nil {
			lg.t.Errorf("account %d: sign: %v", i, err)
			return
		}
		res, err := lg.broadcast(acc.node, tx)
		if err != nil {
			reason := refusalReason(err)
			lg.refuse(reason)
			if reason == "already in cache" {
				acc.copies[acc.seq]++
				continue
			}
			// Mempool full and the like: the same transaction again after
			// a jittered pause.
			time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond) //nolint:gosec // jitter
			continue
		}
		switch {
		case res.Code == 0:
			lg.mu.Lock()
			lg.sent[txHash(tx)] = loadTx{kind: kind, account: i}
			lg.mu.Unlock()
			acc.seq++
			acc.accepted++
		case res.Codespace == sdkerrors.RootCodespace && res.Code == sdkerrors.ErrWrongSequence.ABCICode():
			lg.refuse(fmt.Sprintf("CheckTx %s/%d (account sequence)", res.Codespace, res.Code))
			m := wrongSeq.FindStringSubmatch(res.Log)
			if m == nil {
				lg.t.Errorf("account %d: %s", i, res.Log)
				return
			}
			want, _ := strconv.ParseUint(m[1], 10, 64)
			if want < acc.seq {
				// Those in between count as in flight no more.
				acc.dropped += int64(acc.seq - want)
			}
			acc.seq = want
		default:
			lg.refuse(fmt.Sprintf("CheckTx %s/%d", res.Codespace, res.Code))
			lg.t.Errorf("account %d: %s refused at CheckTx: %s", i, kind, res.Log)
			return
		}
	}
}

// follow counts, block by block on node0, the load transactions included,
// until ctx ends.
func (lg *loadGen) follow(ctx context.Context, from int64) {
	next := from + 1
	for ctx.Err() == nil {
		h, err := lg.ln.Height(0)
		if err != nil || h < next {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		for ; next <= h && ctx.Err() == nil; next++ {
			var blk struct {
				Result struct {
					Block struct {
						Data struct {
							Txs [][]byte `json:"txs"`
						} `json:"data"`
					} `json:"block"`
				} `json:"result"`
			}
			if getJSONRetry(fmt.Sprintf("%s/block?height=%d", lg.ln.RPC(0), next), &blk) != nil {
				break
			}
			lg.mu.Lock()
			for _, tx := range blk.Result.Block.Data.Txs {
				if s, ok := lg.sent[txHash(tx)]; ok {
					lg.accounts[s.account].included.Add(1)
				}
			}
			lg.mu.Unlock()
		}
	}
}

// TestBenchThroughput loads four validators with market transactions
// (create-order, deposit, close-order) and bank sends, signed in the test
// and sent with broadcast_tx_sync, and counts from the blocks what was
// included and succeeded.
func TestBenchThroughput(t *testing.T) {
	requireBenchOut(t)
	began := time.Now()
	const (
		accounts = 12
		inFlight = 25 // per account, between CheckTx and a block: enough to keep the nodes' CPUs busy
		duration = 50 * time.Second
	)
	ln := NewLocalnet(t, 20000)
	ln.Env = append(ln.Env, "LOCALNET_MIN_DEPOSIT_SECONDS=20")
	ln.MustScript("start", "--validators", "4")
	lg := newLoadGen(t, ln)
	lg.fund(accounts, sdk.NewCoins(sdk.NewCoin(app.StableDenom, sdkmath.NewInt(1_000_000_000))))
	start, err := ln.Height(0)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	var following sync.WaitGroup
	following.Add(1)
	go func() { defer following.Done(); lg.follow(ctx, start) }()
	t.Cleanup(func() { cancel(); following.Wait() })

	nodesCPU0, selfCPU0, busy0 := ln.nodesCPU(), selfCPU(), machineBusy()
	loadBegan := time.Now()
	end := loadBegan.Add(duration)
	var drivers sync.WaitGroup
	for i := range lg.accounts {
		drivers.Add(1)
		go func() { defer drivers.Done(); lg.drive(i, end, inFlight) }()
	}
	drivers.Wait()
	sendSeconds := time.Since(loadBegan).Seconds()
	nodesCPU, genCPU, busy := ln.nodesCPU()-nodesCPU0, selfCPU()-selfCPU0, machineBusy()-busy0
	var accepted, dropped int64
	for _, acc := range lg.accounts {
		accepted += acc.accepted
		dropped += acc.dropped
	}
	// Let the mempools drain: until everything accepted is in a block, or
	// nothing more arrives for 10 s.
	deadline, lastCount, lastChange := time.Now().Add(60*time.Second), int64(-1), time.Now()
	for time.Now().Before(deadline) && time.Since(lastChange) < 10*time.Second {
		var inc int64
		for _, acc := range lg.accounts {
			inc += acc.included.Load()
		}
		if inc >= accepted-dropped {
			break
		}
		if inc != lastCount {
			lastCount, lastChange = inc, time.Now()
		}
		time.Sleep(300 * time.Millisecond)
	}
	cancel()
	following.Wait()
	last, err := ln.Height(0)
	require.NoError(t, err)

	// Everything from the blocks.
	blocks := ln.benchBlocks(t, 0, start+1, last)
	type failure struct {
		n       int64
		example string
	}
	var (
		included, succeeded int64
		firstLoad, lastLoad int64
		byType              = map[string]int64{}
		failures            = map[string]*failure{} // by kind and code
	)
	for h := start + 1; h <= last; h++ {
		for _, tx := range blocks[h].Txs {
			s, ok := lg.sent[tx.Hash]
			if !ok {
				continue
			}
			if firstLoad == 0 {
				firstLoad = h
			}
			lastLoad = h
			included++
			if tx.Code != 0 {
				key := fmt.Sprintf("%s %s/%d", s.kind, tx.Codespace, tx.Code)
				if failures[key] == nil {
					failures[key] = &failure{example: tx.Log}
				}
				failures[key].n++
				continue
			}
			succeeded++
			byType[string(s.kind)]++
		}
	}
	failed := make([]string, 0, len(failures))
	var outOfOrder int64
	for key, f := range failures {
		failed = append(failed, fmt.Sprintf("%s × %d (e.g. %q)", key, f.n, f.example))
		if strings.HasSuffix(key, fmt.Sprintf(" %s/%d", sdkerrors.RootCodespace, sdkerrors.ErrWrongSequence.ABCICode())) {
			outOfOrder += f.n
		}
	}
	sort.Strings(failed)
	t.Logf("refused before a block: %v; failed in a block: %v", lg.refused, failed)
	require.Positive(t, included, "load transactions were included")
	require.Equal(t, included-succeeded, outOfOrder,
		"every transaction that failed in its block failed on its account sequence: %v", failed)
	require.Greater(t, succeeded, included*8/10, "most included transactions succeeded")

	res := results.Network{
		Validators: 4, Accounts: accounts, DurationS: round2(sendSeconds),
		Submitted: lg.submitted.Load(), AcceptedCheckTx: accepted, Included: included, Succeeded: succeeded,
		InclusionRate:  round4(float64(included) / float64(accepted)),
		BlockIntervalS: blockInterval(blocks, firstLoad, lastLoad), ByType: byType,
	}
	loadSeconds := blocks[lastLoad].Time.Sub(blocks[firstLoad].Time).Seconds()
	require.Positive(t, loadSeconds, "the load spans more than one block")
	res.TPS = round2(float64(succeeded) / loadSeconds)
	for h := firstLoad; h <= lastLoad; h++ {
		b := blocks[h]
		res.Blocks = append(res.Blocks, results.NetworkBlock{Height: h, TimeS: round2(b.Time.Sub(blocks[firstLoad].Time).Seconds()),
			Txs: len(b.Txs)})
		res.PeakBlockTxs = max(res.PeakBlockTxs, len(b.Txs))
	}
	refused := make([]string, 0, len(lg.refused))
	for r, n := range lg.refused {
		refused = append(refused, fmt.Sprintf("%s × %d", r, n))
	}
	sort.Strings(refused)
	cores := float64(runtime.NumCPU())
	nodeCores, genCores := nodesCPU/sendSeconds, genCPU/sendSeconds
	otherCores := max(0, busy/sendSeconds-nodeCores-genCores)
	use := fmt.Sprintf("while the load ran the machine's %d cores were %.0f%% busy: the four nodes %.2f cores, the "+
		"load generator (signing, sending, following blocks) %.2f, other processes on the machine %.2f",
		runtime.NumCPU(), 100*busy/sendSeconds/cores, nodeCores, genCores, otherCores)
	bound := "the CPU (" + use + ")"
	if busy/sendSeconds < 0.85*cores {
		bound = "not the CPU (" + use + "): the transactions each account keeps in flight limit the rate"
	}
	res.Notes = []string{
		fmt.Sprintf("4 validators on one machine (%s, timeout_commit 1 s, zero gas prices, CometBFT flood mempool); "+
			"the load generator runs in the test process on the same CPUs; the whole test took %.0f s",
			benchHost(), time.Since(began).Seconds()),
		fmt.Sprintf("%d accounts, one goroutine each, signing offline (secp256k1, SIGN_MODE_DIRECT) with its own "+
			"sequence and sending with broadcast_tx_sync; account i always sends to node i mod 4 (a node's CheckTx "+
			"takes an account's transactions only in sequence order), so the 4 nodes share the load round-robin by "+
			"account; each account keeps at most %d transactions between CheckTx and a block, and sends the same "+
			"bytes again after a jittered 100-300 ms pause when a node refuses one before CheckTx", accounts, inFlight),
		"each account cycles create-order (1 × H100, bid_window 3600 s, so it stays open), deposit into that " +
			"order, close-order, bank send of 1 uusdc to the next account; the message of each account sequence is " +
			"fixed, so a transaction sent again can never conflict with its first copy",
		fmt.Sprintf("blocks %d-%d hold the load; tps = succeeded / seconds between their header times; included "+
			"counts this run's transactions found in them by hash; submitted counts broadcast_tx_sync calls", firstLoad, lastLoad),
		"what bounds the rate: " + bound,
		fmt.Sprintf("%d included transactions (%.1f%%) failed on their account sequence (code 32): CometBFT's "+
			"mempool can store one account's transactions out of order at a node that receives them from several "+
			"peers at once (CheckTx passes in order, but the insertions race; tendermint/tendermint#6219), and a "+
			"proposer then puts sequence n+1 before n: n+1 and the account's later transactions in that block "+
			"fail, and the account's node drops the rest at recheck. Its next CheckTx answers \"expected n+1\"; "+
			"the account goes back and sends those transactions again (signed anew where the failed bytes are in "+
			"the node's cache), which is why accepted_checktx exceeds what could succeed and inclusion_rate is "+
			"below 1", outOfOrder,
			100*float64(outOfOrder)/float64(included)),
		"refused before a block: " + joinOr(refused, "none"),
		"failed in a block: " + joinOr(failed, "none"),
	}
	bench.WriteResult(t, "network.json", res)
	t.Logf("submitted %d, accepted %d, included %d, succeeded %d, %.1f tps, peak %d txs/block, blocks %.2f s",
		res.Submitted, accepted, included, succeeded, res.TPS, res.PeakBlockTxs, res.BlockIntervalS)
}

// round4 rounds to four decimals.
func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }

func joinOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, "; ")
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times.
const clockTicks = 100

// nodesCPU is the CPU time (user and system) the nodes have used, in
// seconds.
func (ln *Localnet) nodesCPU() float64 {
	var sum float64
	for i := 0; i < 4; i++ {
		bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", ln.Pid(i)))
		if err != nil {
			continue
		}
		// Fields after the command name, which may hold spaces: state is
		// the first, utime and stime the 12th and 13th.
		f := strings.Fields(string(bz[bytes.LastIndexByte(bz, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		sum += (u + s) / clockTicks
	}
	return sum
}

// selfCPU is the CPU time this test process has used, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// machineBusy is the CPU time all CPUs of the machine have spent other
// than idle, in seconds (from /proc/stat).
func machineBusy() float64 {
	bz, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(bz), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	var busy float64
	for i, v := range f[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i != 3 && i != 4 && i < 8 { // not idle or iowait; guest time is inside user
			busy += n
		}
	}
	return busy / clockTicks
}
