// Package backoff is the jittered exponential backoff every retry in the
// sidecar goes through, so that no error path becomes a hot loop.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff: the n-th consecutive failure waits
// Initial·Factor^(n-1), at most Max, scaled by a random factor in
// [1−Jitter, 1+Jitter].
type Policy struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Jitter  float64
}

// Default is the policy the sidecar uses unless configured otherwise.
func Default() Policy {
	return Policy{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Factor: 2, Jitter: 0.2}
}

// Delay is the wait after the given number of consecutive failures
// (attempt ≥ 1), with jitter drawn from rnd (nil = the global source).
func (p Policy) Delay(attempt int, rnd *rand.Rand) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(p.Initial)
	for i := 1; i < attempt && d < float64(p.Max); i++ {
		d *= p.Factor
	}
	if d > float64(p.Max) {
		d = float64(p.Max)
	}
	if p.Jitter > 0 {
		var u float64
		if rnd != nil {
			u = rnd.Float64()
		} else {
			u = rand.Float64() //nolint:gosec // jitter, not security
		}
		d *= 1 - p.Jitter + 2*p.Jitter*u
	}
	return time.Duration(d)
}

// Backoff counts consecutive failures of one loop. The zero value is not
// usable; create it with New.
type Backoff struct {
	policy   Policy
	failures int
}

// New returns a Backoff following p.
func New(p Policy) *Backoff { return &Backoff{policy: p} }

// Failures is the number of consecutive failures so far.
func (b *Backoff) Failures() int { return b.failures }

// Reset records a success.
func (b *Backoff) Reset() { b.failures = 0 }

// Wait records a failure and sleeps the next delay, returning ctx's error
// if it is cancelled first.
func (b *Backoff) Wait(ctx context.Context) error {
	b.failures++
	return Sleep(ctx, b.policy.Delay(b.failures, nil))
}

// Sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry calls fn until it succeeds, ctx is done, or it has failed attempts
// times (0 = no limit), waiting per p between failures. permanent, when
// non-nil, stops retrying errors it reports as permanent.
func Retry(ctx context.Context, p Policy, attempts int, permanent func(error) bool, fn func(context.Context) error) error {
	b := New(p)
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if permanent != nil && permanent(err) {
			return err
		}
		if attempts > 0 && b.Failures()+1 >= attempts {
			return err
		}
		if werr := b.Wait(ctx); werr != nil {
			return err
		}
	}
}
