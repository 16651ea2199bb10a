package chain

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

func bidMsg(addr sdk.AccAddress, i int) sdk.Msg {
	return &markettypes.MsgCreateBid{Provider: addr.String(),
		OrderId:         markettypes.OrderID{Tenant: addr.String(), Seq: uint64(i)}, //nolint:gosec // small
		PricePerGpuHour: sdk.NewInt64Coin("uusdc", 1), Deposit: sdk.NewInt64Coin("umesh", 1)}
}

// storm sends bids and withdrawals from goroutines and returns a wait
// for their errors.
func storm(c *Client, addr sdk.AccAddress, bids, withdrawals int) func() []error {
	var wg sync.WaitGroup
	errs := make([]error, bids+withdrawals)
	for i := range bids + withdrawals {
		var msg sdk.Msg = &escrowtypes.MsgWithdraw{Provider: addr.String()}
		if i < bids {
			msg = bidMsg(addr, i)
		}
		wg.Go(func() {
			_, errs[i] = c.Send(context.Background(), SendOptions{}, msg)
		})
	}
	return func() []error {
		wg.Wait()
		return errs
	}
}

// A challenge's commit issued while a storm of bids and withdrawals waits
// to be signed is broadcast before every one of them still queued and is
// included within the commit deadline (x/proofofcompute's default, 3
// blocks), although the node includes the sidecar's transactions only
// every second block and in sequence order. The one signer lock held
// until inclusion queued the commit behind them all (one transaction per
// two blocks: 72 blocks for the storm).
func TestCommitOvertakesABidStorm(t *testing.T) {
	kr, addr := testKey(t)
	node := startFakeNode(t, "gpumesh-test", addr)
	node.every = 2
	c := dialFake(t, node, kr, nil)
	go node.produce(t.Context(), 200*time.Millisecond)

	const bids, withdrawals = 24, 12
	wait := storm(c, addr, bids, withdrawals)
	require.Eventually(t, func() bool {
		_, b := node.snapshot()
		return len(b) > 0
	}, 10*time.Second, time.Millisecond, "the storm is being broadcast")

	issued, before := node.snapshot()
	deadline := issued + int64(poctypes.DefaultCommitDeadlineBlocks)
	res, err := c.Send(context.Background(), SendOptions{},
		&poctypes.MsgCommitProof{Provider: addr.String(), ChallengeId: 1})
	require.NoError(t, err)
	_, all := node.snapshot()
	ahead := 0
	for _, tx := range all {
		if _, ok := tx.msgs[0].(*poctypes.MsgCommitProof); ok {
			break
		}
		ahead++
	}
	t.Logf("commit: challenge at height %d, deadline %d, included at %d: margin %d blocks; %d storm txs "+
		"broadcast before it (%d when it was sent)", issued, deadline, res.Height, deadline-res.Height, ahead, len(before))
	require.LessOrEqual(t, ahead, len(before)+1+maxPending, "the commit went ahead of the queued storm")
	require.LessOrEqual(t, res.Height, deadline, "the commit is included within its deadline")

	for i, err := range wait() {
		require.NoError(t, err, "storm tx %d", i)
	}
	_, all = node.snapshot()
	require.Len(t, all, bids+withdrawals+1)
	for i, tx := range all {
		require.Equal(t, uint64(i), tx.seq, "consecutive sequences")
	}
}

// Bids wait behind lease reports, which wait behind proofs; withdrawals
// go last: the queue signs by priority, not arrival.
func TestQueueSignsByPriority(t *testing.T) {
	kr, addr := testKey(t)
	node := startFakeNode(t, "gpumesh-test", addr)
	c := dialFake(t, node, kr, nil)
	// A broadcaster not running, so that everything is queued before the
	// first is taken.
	nb := &broadcaster{c: c, addr: addr, submit: make(chan *request, submitBuffer), exited: make(chan struct{})}
	msgs := []sdk.Msg{
		&escrowtypes.MsgWithdraw{Provider: addr.String()},
		bidMsg(addr, 1),
		&poctypes.MsgReportUsage{Provider: addr.String()},
		&poctypes.MsgRevealProof{Provider: addr.String()},
		&markettypes.MsgSetLeaseAccess{Provider: addr.String()},
		&poctypes.MsgCommitProof{Provider: addr.String()},
	}
	for _, m := range msgs {
		nb.enqueue(&request{ctx: context.Background(), msgs: []sdk.Msg{m}, prio: priorityOf([]sdk.Msg{m}), done: make(chan outcome, 1)})
	}
	var got []string
	for r := nb.next(); r != nil; r = nb.next() {
		got = append(got, kindsOf(r.msgs))
	}
	require.Equal(t, []string{"1 reveal", "1 commit", "1 lease", "1 lease", "1 bid", "1 withdraw"}, got)
}

// A full queue refuses a withdrawal at once, naming the bound, and still
// takes a proof.
func TestFullQueueRefusesAllButProofs(t *testing.T) {
	kr, addr := testKey(t)
	node := startFakeNode(t, "gpumesh-test", addr)
	c := dialFake(t, node, kr, nil)
	b := &broadcaster{c: c, addr: addr, submit: make(chan *request, 1), exited: make(chan struct{})}
	for i := range maxQueued {
		b.enqueue(&request{ctx: context.Background(), msgs: []sdk.Msg{bidMsg(addr, i)}, prio: PriorityBid, done: make(chan outcome, 1)})
	}
	late := &request{ctx: context.Background(), msgs: []sdk.Msg{&escrowtypes.MsgWithdraw{}}, prio: PriorityOther, done: make(chan outcome, 1)}
	b.enqueue(late)
	o := <-late.done
	require.True(t, errors.Is(o.err, ErrQueueFull), "%v", o.err)
	require.ErrorContains(t, o.err, "at most 256 besides proofs; 1 withdraw refused")
	proof := &request{ctx: context.Background(), msgs: []sdk.Msg{&poctypes.MsgCommitProof{}}, prio: PriorityProof, done: make(chan outcome, 1)}
	b.enqueue(proof)
	require.Len(t, b.queues[PriorityProof], 1)
	require.Empty(t, proof.done)
}

// Transactions dropped from the mempool (a node restart) are signed again
// in order when the next broadcast meets the node's expected sequence,
// and every caller gets its inclusion.
func TestDroppedMempoolIsSignedAgain(t *testing.T) {
	kr, addr := testKey(t)
	node := startFakeNode(t, "gpumesh-test", addr)
	node.every = 1_000_000 // no inclusion until the test says
	var retries sync.Map
	c := dialFake(t, node, kr, func(o *Options) {
		o.OnTxRetry = func(reason string) { retries.Store(reason, true) }
	})
	wait := storm(c, addr, 3, 0)
	require.Eventually(t, func() bool {
		_, b := node.snapshot()
		return len(b) == 3
	}, 10*time.Second, time.Millisecond)
	node.dropMempool()
	done := make(chan error, 1)
	go func() {
		_, err := c.Send(context.Background(), SendOptions{}, &escrowtypes.MsgWithdraw{Provider: addr.String()})
		done <- err
	}()
	require.Eventually(t, func() bool {
		_, b := node.snapshot()
		return len(b) == 7
	}, 20*time.Second, time.Millisecond, "the three dropped and the withdrawal are broadcast again")
	node.mu.Lock()
	node.every = 1
	node.mu.Unlock()
	go node.produce(t.Context(), 10*time.Millisecond)
	require.NoError(t, <-done)
	for i, err := range wait() {
		require.NoError(t, err, "bid %d", i)
	}
	_, all := node.snapshot()
	for i, tx := range all[3:] {
		require.Equal(t, uint64(i), tx.seq)
	}
	_, last := all[6].msgs[0].(*escrowtypes.MsgWithdraw)
	require.True(t, last, "the withdrawal goes after the bids signed again")
	_, ok := retries.Load("sequence")
	require.True(t, ok)
}

// A node on another chain refuses every signature (code 4): the send
// fails naming both chain ids, the failure is fatal (the next send is
// refused without a broadcast), and CheckChainID says the same up front.
func TestWrongChainIsFatal(t *testing.T) {
	kr, addr := testKey(t)
	node := startFakeNode(t, "gpumesh-other", addr)
	node.refuseSignatures = true
	c := dialFake(t, node, kr, nil)
	err := c.CheckChainID(context.Background())
	require.True(t, errors.Is(err, ErrWrongChain), "%v", err)
	require.ErrorContains(t, err, `is on chain "gpumesh-other", the config says chain.chain_id "gpumesh-test"`)

	_, err = c.Send(context.Background(), SendOptions{}, bidMsg(addr, 1))
	require.True(t, errors.Is(err, ErrWrongChain), "%v", err)
	require.ErrorContains(t, err, `"gpumesh-other"`)
	require.ErrorContains(t, err, `chain.chain_id "gpumesh-test"`)
	signs := kr.signs.Load()
	_, err = c.Send(context.Background(), SendOptions{}, bidMsg(addr, 2))
	require.True(t, errors.Is(err, ErrWrongChain), "%v", err)
	require.Equal(t, signs, kr.signs.Load(), "nothing more is signed")

	right := startFakeNode(t, "gpumesh-test", addr)
	require.NoError(t, dialFake(t, right, kr, nil).CheckChainID(context.Background()))
}
