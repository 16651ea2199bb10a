package cmd

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
)

// timedMultiplier adds up the time spent multiplying.
type timedMultiplier struct {
	challenge.Multiplier
	mu    sync.Mutex
	spent time.Duration
}

func (t *timedMultiplier) MultiplyRows(ctx context.Context, key [2]uint32, n, b, i0, rows uint32, dst []int32) error {
	start := time.Now()
	err := t.Multiplier.MultiplyRows(ctx, key, n, b, i0, rows, dst)
	t.mu.Lock()
	t.spent += time.Since(start)
	t.mu.Unlock()
	return err
}

// progressBar draws a bar on w once the work has taken more than a second.
type progressBar struct {
	w        io.Writer
	start    time.Time
	macs     float64 // multiply-adds per unit of progress
	drawn    bool
	lastDraw time.Time
}

func (p *progressBar) update(done, total uint64) {
	elapsed := time.Since(p.start)
	if elapsed < time.Second || (time.Since(p.lastDraw) < 200*time.Millisecond && done < total) {
		return
	}
	p.drawn, p.lastDraw = true, time.Now()
	const width = 30
	filled := int(float64(width) * float64(done) / float64(total))
	rate := p.macs * float64(done) / elapsed.Seconds()
	outf(p.w, "\r  [%s%s] %3.0f%%  %s multiply-adds/s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled),
		100*float64(done)/float64(total), si(rate))
}

func (p *progressBar) finish() {
	if p.drawn {
		outln(p.w)
	}
}

// si writes x with an SI prefix (k, M, G, T).
func si(x float64) string {
	for _, u := range []struct {
		f float64
		s string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if x >= u.f {
			return fmt.Sprintf("%.2f %s", x/u.f, u.s)
		}
	}
	return fmt.Sprintf("%.0f ", x)
}

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time a local challenge with the chosen prover backend: per stage and multiply-adds/s",
		Long: `Run one GPU's challenge locally, as the chain would issue it: m products of random n×n int8
matrices, hashed into Merkle trees, committed, opened at k random entries and verified the
way the chain verifies. Prints the time of each stage and the multiply-add rate.

The chain's production sizes are n=65536 (m=1 to 4, by class), which only a GPU backend
answers within the commit deadline; the default here is small enough for any CPU.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			n, _ := f.GetUint32("n")
			m, _ := f.GetUint32("m")
			k, _ := f.GetUint32("k")
			backendName, _ := f.GetString("backend")
			workers, _ := f.GetInt("workers")
			device, _ := f.GetInt("cuda-device")
			p := challenge.Params{N: n, M: m, K: k}
			if err := p.Validate(); err != nil {
				return fmt.Errorf("--n %d --m %d --k %d: %w", n, m, k, err)
			}
			log, err := logger(cmd, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			backend, err := prover.Select(backendName, workers, device, log)
			if err != nil {
				return err
			}
			defer func() { _ = backend.Close() }()
			out := cmd.OutOrStdout()
			macs := float64(m) * float64(n) * float64(n) * float64(n)
			outf(out, "challenge n=%d m=%d k=%d on %s: %s multiply-adds\n", n, m, k, backend.Name, si(macs))

			seed := sha256.Sum256([]byte(fmt.Sprintf("gpumesh-bench/%d", time.Now().UnixNano())))
			key := challenge.KeyFromSeed(seed)
			timed := &timedMultiplier{Multiplier: backend}
			bar := &progressBar{w: out, start: time.Now(), macs: float64(n) * float64(n)}
			start := time.Now()
			proof, err := challenge.Prove(cmd.Context(), key, p, timed, challenge.ProverOptions{Workers: workers,
				Progress: bar.update})
			bar.finish()
			if err != nil {
				return err
			}
			prove := time.Since(start)
			start = time.Now()
			commitment := proof.Commitment()
			commit := time.Since(start)
			openSeed := sha256.Sum256(append(seed[:], 'o'))
			idx := challenge.Openings([][32]byte{openSeed}, 0, p)
			start = time.Now()
			rev, err := proof.Open(idx)
			if err != nil {
				return err
			}
			open := time.Since(start)
			start = time.Now()
			if err := challenge.VerifyReveal(key, p, commitment[:], idx, rev); err != nil {
				return fmt.Errorf("the backend's proof does not verify: %w", err)
			}
			verify := time.Since(start)
			cost := challenge.VerifyCost(p)

			outf(out, "  %-28s %12s\n", "stage", "time")
			row := func(name string, d time.Duration) {
				outf(out, "  %-28s %12s\n", name, d.Round(time.Microsecond))
			}
			row("multiply (generate + A·Bᵀ)", timed.spent)
			row("hash leaves + build trees", prove-timed.spent)
			row("commitment", commit)
			row(fmt.Sprintf("open %d entries", k), open)
			row("verify (as the chain does)", verify)
			outf(out, "  multiply-adds/s: %s (multiply stage), %s (whole proof)\n",
				si(macs/timed.spent.Seconds()), si(macs/prove.Seconds()))
			outf(out, "  chain verification work: %d Philox calls, %d multiply-adds, %d hashes\n",
				cost.PhiloxCalls, cost.MulAdds, cost.Hashes)
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint32("n", 1024, "matrix size (a multiple of 64, at most 65536)")
	f.Uint32("m", 1, "number of products")
	f.Uint32("k", 16, "openings")
	f.String("backend", "auto", "prover backend: auto, cpu or cuda")
	f.Int("workers", 0, "CPU workers (0 = one per core)")
	f.Int("cuda-device", 0, "CUDA device ordinal")
	return cmd
}
