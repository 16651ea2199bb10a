package chain

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
)

// Head is the chain's latest block as the follower saw it.
type Head interface {
	Latest(ctx context.Context) (Block, error)
}

// Follower polls the node for new blocks and tells subscribers about each
// new height. Subscribers get only the latest height (a slow subscriber
// skips heights, never blocks the follower): they read state, not events,
// so nothing is lost. A node restart is a run of failed polls, retried
// with backoff; when the node is back, the next height goes out.
type Follower struct {
	head     Head
	interval time.Duration
	log      *slog.Logger
	// OnStatus, when set, is called after every poll with the latest block
	// and the poll's error (nil when it succeeded).
	OnStatus func(b Block, err error)

	mu   sync.Mutex
	subs []chan Block
}

// NewFollower follows head every interval.
func NewFollower(head Head, interval time.Duration, log *slog.Logger) *Follower {
	return &Follower{head: head, interval: interval, log: log}
}

// Subscribe returns a channel that receives new blocks (capacity one,
// latest wins). Call before Run.
func (f *Follower) Subscribe() <-chan Block {
	ch := make(chan Block, 1)
	f.mu.Lock()
	f.subs = append(f.subs, ch)
	f.mu.Unlock()
	return ch
}

func (f *Follower) publish(b Block) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		select {
		case <-ch: // drop the stale height
		default:
		}
		ch <- b
	}
}

// Run polls until ctx is done.
func (f *Follower) Run(ctx context.Context) error {
	bo := backoff.New(backoff.Policy{Initial: f.interval, Max: 30 * time.Second, Factor: 2, Jitter: 0.2})
	var last Block
	for {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		b, err := f.head.Latest(qctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if f.OnStatus != nil {
			if err != nil {
				f.OnStatus(last, err)
			} else {
				f.OnStatus(b, nil)
			}
		}
		if err != nil {
			if bo.Failures() == 0 || bo.Failures()%10 == 0 {
				f.log.Warn("cannot reach the node; retrying", "err", err, "failures", bo.Failures()+1)
			}
			if bo.Wait(ctx) != nil {
				return nil
			}
			continue
		}
		if bo.Failures() > 0 {
			f.log.Info("node reachable again", "height", b.Height)
		}
		bo.Reset()
		if b.Height != last.Height {
			last = b
			f.publish(b)
		}
		if backoff.Sleep(ctx, f.interval) != nil {
			return nil
		}
	}
}

// EachBlock calls step for every block received on blocks until ctx is
// done, then returns nil. A failed step is logged as "<what> failed" and
// the loop waits a jittered backoff before taking the next block (the
// latest by then); a step that succeeds resets the backoff.
func EachBlock(ctx context.Context, blocks <-chan Block, log *slog.Logger, what string,
	step func(context.Context, Block) error,
) error {
	bo := backoff.New(backoff.Default())
	for {
		select {
		case <-ctx.Done():
			return nil
		case blk := <-blocks:
			if err := step(ctx, blk); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				log.Warn(what+" failed", "height", blk.Height, "err", err)
				if bo.Wait(ctx) != nil {
					return nil
				}
				continue
			}
			bo.Reset()
		}
	}
}
