package chain

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scriptedHead answers Latest from a script of results, then repeats the
// last one; done is closed once the script is used up.
type scriptedHead struct {
	mu     sync.Mutex
	script []headResult
	done   chan struct{}
}

type headResult struct {
	height int64
	err    error
}

func newScriptedHead(script ...headResult) *scriptedHead {
	return &scriptedHead{script: script, done: make(chan struct{})}
}

func (h *scriptedHead) Latest(context.Context) (Block, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.script[0]
	if len(h.script) > 1 {
		h.script = h.script[1:]
	} else {
		select {
		case <-h.done:
		default:
			close(h.done)
		}
	}
	return Block{Height: r.height, Time: time.Unix(r.height, 0)}, r.err
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A subscriber that does not read never blocks the follower and finds
// only the latest height; a repeated height is not published again;
// OnStatus reports every poll.
func TestFollowerLatestWins(t *testing.T) {
	head := newScriptedHead(headResult{height: 1}, headResult{height: 1}, headResult{height: 2}, headResult{height: 3},
		headResult{height: 3})
	f := NewFollower(head, time.Millisecond, quiet())
	var mu sync.Mutex
	var statuses []int64
	f.OnStatus = func(b Block, err error) {
		require.NoError(t, err)
		mu.Lock()
		statuses = append(statuses, b.Height)
		mu.Unlock()
	}
	sub := f.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.Run(ctx) }()
	<-head.done
	cancel()
	require.NoError(t, <-done)

	require.Equal(t, int64(3), (<-sub).Height, "only the latest height waits in the channel")
	select {
	case b := <-sub:
		t.Fatalf("a second block was queued: %d", b.Height)
	default:
	}
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(statuses), 5)
	require.Equal(t, []int64{1, 1, 2, 3, 3}, statuses[:5])
}

// A node that goes away is polled again with backoff; OnStatus carries the
// error and the last block seen; when the node is back, the next height
// is published.
func TestFollowerSurvivesNodeRestart(t *testing.T) {
	down := errors.New("connection refused")
	head := newScriptedHead(headResult{height: 5}, headResult{err: down}, headResult{err: down}, headResult{height: 6})
	f := NewFollower(head, time.Millisecond, quiet())
	var mu sync.Mutex
	var errs []string
	var lastOnErr int64
	f.OnStatus = func(b Block, err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err.Error())
			lastOnErr = b.Height
			mu.Unlock()
		}
	}
	sub := f.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = f.Run(ctx) }()

	require.Equal(t, int64(5), (<-sub).Height)
	select {
	case b := <-sub:
		require.Equal(t, int64(6), b.Height)
	case <-time.After(10 * time.Second):
		t.Fatal("no block after the node came back")
	}
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"connection refused", "connection refused"}, errs)
	require.Equal(t, int64(5), lastOnErr, "while down, the status keeps the last block seen")
}

// EachBlock runs the step for each block; a failing step does not end the
// loop (the next block is handled after a backoff); it returns nil when
// the context ends.
func TestEachBlock(t *testing.T) {
	blocks := make(chan Block, 1)
	var mu sync.Mutex
	var seen []int64
	step := func(_ context.Context, b Block) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, b.Height)
		if b.Height == 1 {
			return errors.New("node hiccup")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- EachBlock(ctx, blocks, quiet(), "test step", step) }()
	blocks <- Block{Height: 1}
	blocks <- Block{Height: 2}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 2
	}, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, []int64{1, 2}, seen)
}
