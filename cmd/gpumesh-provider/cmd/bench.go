package cmd

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
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

// progress reports a long proof's progress on w (stderr): a bar redrawn
// in place when w is a terminal, otherwise a plain line every tenth, so
// that logs and pipes get no carriage returns.
type progress struct {
	w        io.Writer
	tty      bool
	start    time.Time
	macs     float64 // multiply-adds per unit of progress
	drawn    bool
	lastDraw time.Time
	lastStep int // tenths reported, for plain lines
}

func (p *progress) update(done, total uint64) {
	elapsed := time.Since(p.start)
	if elapsed < time.Second || total == 0 {
		return
	}
	frac := float64(done) / float64(total)
	rate := p.macs * float64(done) / elapsed.Seconds()
	if !p.tty {
		if step := int(10 * frac); step > p.lastStep {
			p.lastStep = step
			outf(p.w, "  proving: %3.0f%% after %s, %s multiply-adds/s\n", 100*frac, elapsed.Round(time.Second), si(rate))
		}
		return
	}
	if time.Since(p.lastDraw) < 200*time.Millisecond && done < total {
		return
	}
	p.drawn, p.lastDraw = true, time.Now()
	const width = 30
	filled := int(float64(width) * frac)
	outf(p.w, "\r  [%s%s] %3.0f%%  %s multiply-adds/s", strings.Repeat("#", filled), strings.Repeat(" ", width-filled),
		100*frac, si(rate))
}

func (p *progress) finish() {
	if p.drawn {
		outln(p.w)
	}
}

// isTerminal reports whether w is a character device (a terminal), the
// only place where a bar redrawn with \r reads well.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// maxUnconfirmed is the longest bench run started without --yes.
const maxUnconfirmed = 10 * time.Minute

// estimate is a run's expected duration, from a calibration proof on
// the same backend.
type estimate struct {
	Duration time.Duration
	// Rate is the whole-proof rate measured (multiply-adds/s) at n=CalibN.
	Rate   float64
	CalibN uint32
}

// estimateRun proves challenges of growing size with m=1, k=1 until one
// takes calibTime (or reaches p.N), and scales its whole-proof rate to
// p's m·n³ multiply-adds. The rate at a small n understates a GPU and
// may overstate a CPU whose cache no longer holds the matrices, so the
// estimate is an order of magnitude, enough to catch a run of days.
func estimateRun(ctx context.Context, mul challenge.Multiplier, workers int, p challenge.Params) (estimate, error) {
	const calibTime = 100 * time.Millisecond
	n := min(uint32(256), p.N)
	key := challenge.KeyFromSeed(sha256.Sum256([]byte("gpumesh-bench/calibration")))
	for {
		start := time.Now()
		if _, err := challenge.Prove(ctx, key, challenge.Params{N: n, M: 1, K: 1}, mul,
			challenge.ProverOptions{Workers: workers}); err != nil {
			return estimate{}, fmt.Errorf("calibration at n=%d: %w", n, err)
		}
		took := time.Since(start)
		if took >= calibTime || n >= p.N {
			rate := float64(n) * float64(n) * float64(n) / max(took.Seconds(), 1e-9)
			total := float64(p.M) * float64(p.N) * float64(p.N) * float64(p.N)
			return estimate{Duration: time.Duration(total / rate * float64(time.Second)), Rate: rate, CalibN: n}, nil
		}
		n *= 2
	}
}

// human writes a long duration in days, hours or minutes.
func human(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= 2*time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	case d >= 2*time.Minute:
		return fmt.Sprintf("%.1f minutes", d.Minutes())
	default:
		return d.Round(time.Millisecond).String()
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

// benchResult is what bench reports (-o json: this shape). Times are
// in seconds.
type benchResult struct {
	Backend          string            `json:"backend"`
	N                uint32            `json:"n"`
	M                uint32            `json:"m"`
	K                uint32            `json:"k"`
	MultiplyAdds     float64           `json:"multiply_adds"`
	EstimatedSeconds float64           `json:"estimated_seconds"`
	StageSeconds     benchStageSeconds `json:"stage_seconds"`
	// MultiplyAddsPerSecond over the multiply stage and the whole proof.
	MultiplyAddsPerSecond      float64 `json:"multiply_adds_per_second"`
	ProofMultiplyAddsPerSecond float64 `json:"proof_multiply_adds_per_second"`
	ChainVerification          struct {
		PhiloxCalls  uint64 `json:"philox_calls"`
		MultiplyAdds uint64 `json:"multiply_adds"`
		Hashes       uint64 `json:"hashes"`
	} `json:"chain_verification"`
}

type benchStageSeconds struct {
	Multiply   float64 `json:"multiply"`
	Hash       float64 `json:"hash"`
	Commitment float64 `json:"commitment"`
	Open       float64 `json:"open"`
	Verify     float64 `json:"verify"`
}

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time a local challenge with the chosen prover backend: per stage and multiply-adds/s",
		Long: `Run one GPU's challenge locally, as the chain would issue it: m products of random n×n int8
matrices, hashed into Merkle trees, committed, opened at k random entries and verified the
way the chain verifies. Prints the time of each stage and the multiply-add rate.

The chain's production sizes are n=65536 (m=1 to 4, by class), which only a GPU backend
answers within the commit deadline; the default here is small enough for any CPU.

Before the run, a short calibration on the same backend estimates its duration; a run
estimated over 10 minutes is refused unless --yes is given. Progress goes to stderr: a bar
on a terminal, plain lines otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := jsonOutput(cmd)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			n, _ := f.GetUint32("n")
			m, _ := f.GetUint32("m")
			k, _ := f.GetUint32("k")
			yes, _ := f.GetBool("yes")
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
			est, err := estimateRun(cmd.Context(), backend, workers, p)
			if err != nil {
				return err
			}
			if est.Duration > maxUnconfirmed && !yes {
				return fmt.Errorf("bench --n %d --m %d --k %d on %s: estimated %s (%s multiply-adds at %s multiply-adds/s, "+
					"measured at n=%d), over %s: pass --yes to run it anyway, or lower --n or --m",
					n, m, k, backend.Name, human(est.Duration), si(macs), si(est.Rate), est.CalibN, maxUnconfirmed)
			}
			if !asJSON {
				outf(out, "challenge n=%d m=%d k=%d on %s: %s multiply-adds, estimated %s\n", n, m, k, backend.Name,
					si(macs), human(est.Duration))
			}

			seed := sha256.Sum256([]byte(fmt.Sprintf("gpumesh-bench/%d", time.Now().UnixNano())))
			key := challenge.KeyFromSeed(seed)
			timed := &timedMultiplier{Multiplier: backend}
			stderr := cmd.ErrOrStderr()
			bar := &progress{w: stderr, tty: isTerminal(stderr), start: time.Now(), macs: float64(n) * float64(n)}
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

			if asJSON {
				r := benchResult{Backend: backend.Name, N: n, M: m, K: k, MultiplyAdds: macs,
					EstimatedSeconds: est.Duration.Seconds(),
					StageSeconds: benchStageSeconds{Multiply: timed.spent.Seconds(), Hash: (prove - timed.spent).Seconds(),
						Commitment: commit.Seconds(), Open: open.Seconds(), Verify: verify.Seconds()},
					MultiplyAddsPerSecond: macs / max(timed.spent.Seconds(), 1e-9), ProofMultiplyAddsPerSecond: macs / max(prove.Seconds(), 1e-9)}
				r.ChainVerification.PhiloxCalls, r.ChainVerification.MultiplyAdds, r.ChainVerification.Hashes =
					cost.PhiloxCalls, cost.MulAdds, cost.Hashes
				return writeJSON(out, r)
			}
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
	f.Uint32("n", 1024, "matrix size (a power of two, 64 to 65536)")
	f.Uint32("m", 1, "number of products")
	f.Uint32("k", 16, "openings")
	f.String("backend", "auto", "prover backend: auto, cpu or cuda")
	f.Int("workers", 0, "CPU workers (0 = one per core)")
	f.Int("cuda-device", 0, "CUDA device ordinal")
	f.Bool("yes", false, "run even when the estimate is over 10 minutes")
	addOutputFlag(cmd)
	return cmd
}
