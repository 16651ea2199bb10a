// Package prover answers the provider's challenges: it computes each
// challenged GPU's products with the selected backend, commits before the
// deadline and reveals the published openings after the opening height.
// The chain is the source of truth: after a restart the prover reads its
// challenges' states and resumes where they are, recomputing proofs (they
// are deterministic) without sending what the chain already has.
package prover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Chain is what the prover needs from the chain client.
type Chain interface {
	Address() sdk.AccAddress
	ChainID() string
	Challenges(ctx context.Context, provider string, state poctypes.ChallengeState) ([]poctypes.Challenge, error)
	Challenge(ctx context.Context, id uint64) (poctypes.Challenge, []poctypes.GPUOpenings, error)
	ProviderParams(ctx context.Context) (providertypes.Params, error)
	Send(ctx context.Context, opts chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error)
}

// Options configure the prover.
type Options struct {
	// Multiplier is the backend computing the products.
	Multiplier challenge.Multiplier
	// Workers hash the product rows (0 = one per core).
	Workers int
	// FreeProofs sends proofs without a fee.
	FreeProofs bool
	// NodeID is this machine's node. A provider with several machines runs
	// a sidecar on each: a capacity challenge is answered by the sidecar of
	// its node, a dispute (no node) by the one holding its first GPU. ""
	// answers every challenge.
	NodeID string
	// Faults are test-only fault injections; empty unless the binary is
	// built with the gpumesh_faults tag (faults.go).
	Faults Faults
	// RevealBatch is how many GPUs' reveals go in one transaction.
	RevealBatch int
	// MaxMemoryBytes refuses a challenge whose proofs, with those already
	// held, would need more memory (0 = no cap; see MemoryLimit).
	MaxMemoryBytes uint64
}

// Prover is the proving subsystem; its state is owned by Run's goroutine.
type Prover struct {
	chain   Chain
	opts    Options
	board   *state.Board
	metrics *metrics.Metrics
	log     *slog.Logger
	blocks  <-chan chain.Block

	proofs  map[uint64][]*challenge.GPUProof // by challenge id
	held    map[uint64]uint64                // memory of proofs, by challenge id
	refused map[uint64]string                // challenges not computed, and why
	seen    map[uint64]*state.Challenge      // unresolved challenges we track
	history []state.Challenge                // resolved, newest first
}

// historyLen is how many resolved challenges are kept for the API.
const historyLen = 50

// New returns a prover acting on each block from blocks.
func New(c Chain, opts Options, board *state.Board, m *metrics.Metrics, log *slog.Logger, blocks <-chan chain.Block) *Prover {
	if opts.RevealBatch <= 0 {
		opts.RevealBatch = 4
	}
	return &Prover{chain: c, opts: opts, board: board, metrics: m, log: log, blocks: blocks,
		proofs: map[uint64][]*challenge.GPUProof{}, seen: map[uint64]*state.Challenge{}, held: map[uint64]uint64{},
		refused: map[uint64]string{}}
}

// Run answers challenges on every new block until ctx is done.
func (p *Prover) Run(ctx context.Context) error {
	return chain.EachBlock(ctx, p.blocks, p.log, "proof step", p.Step)
}

// Step handles every unresolved challenge at block blk.
func (p *Prover) Step(ctx context.Context, blk chain.Block) error {
	me := p.chain.Address().String()
	var pending []poctypes.Challenge
	for _, s := range []poctypes.ChallengeState{poctypes.CHALLENGE_STATE_ISSUED, poctypes.CHALLENGE_STATE_COMMITTED,
		poctypes.CHALLENGE_STATE_OPENED} {
		list, err := p.chain.Challenges(ctx, me, s)
		if err != nil {
			return err
		}
		for _, c := range list {
			if p.ours(c) {
				pending = append(pending, c)
			}
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].Id < pending[j].Id })
	live := map[uint64]bool{}
	var firstErr error
	// Commitments first, all in one transaction: two challenges issued in
	// the same block (a dispute and a capacity check) must not wait for
	// each other's inclusion and miss a 3-block deadline.
	var issued []poctypes.Challenge
	for _, c := range pending {
		if c.State == poctypes.CHALLENGE_STATE_ISSUED {
			issued = append(issued, c)
		}
	}
	if err := p.commitAll(ctx, blk, issued); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		firstErr = err
	}
	for _, c := range pending {
		live[c.Id] = true
		if c.State == poctypes.CHALLENGE_STATE_ISSUED {
			continue
		}
		if err := p.handle(ctx, blk, c); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Warn("challenge step failed", "challenge", c.Id, "state", c.State.String(), "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := p.resolve(ctx, live); err != nil && firstErr == nil {
		firstErr = err
	}
	p.publish()
	return firstErr
}

// ours reports whether this machine answers c (see Options.NodeID).
func (p *Prover) ours(c poctypes.Challenge) bool {
	if p.opts.NodeID == "" {
		return true
	}
	if c.NodeId != "" {
		return c.NodeId == p.opts.NodeID
	}
	return len(c.Gpus) > 0 && c.Gpus[0].NodeId == p.opts.NodeID
}

func (p *Prover) track(c poctypes.Challenge) *state.Challenge {
	t, ok := p.seen[c.Id]
	if !ok {
		t = &state.Challenge{ID: c.Id, IssuedHeight: c.IssueHeight, CommitDeadline: c.CommitDeadlineHeight,
			OpenHeight: c.OpenedHeight(), Dispute: c.Kind == poctypes.CHALLENGE_KIND_DISPUTE}
		for _, g := range c.Gpus {
			t.GPUs = append(t.GPUs, g.Uuid)
		}
		p.seen[c.Id] = t
		p.log.Info("challenge received", "challenge", c.Id, "gpus", len(c.Gpus), "state", c.State.String(),
			"commit_deadline", c.CommitDeadlineHeight, "dispute", t.Dispute)
	}
	t.State = c.State.String()
	if c.CommittedHeight > 0 {
		t.CommittedAt = c.CommittedHeight
	}
	return t
}

// commitAll proves the issued challenges that can still make their
// deadline (the transaction lands in a later block than blk) and commits
// to all of them in one transaction.
func (p *Prover) commitAll(ctx context.Context, blk chain.Block, issued []poctypes.Challenge) error {
	var msgs []sdk.Msg
	var batch []poctypes.Challenge
	var firstErr error
	for _, c := range issued {
		t := p.track(c)
		if blk.Height >= c.CommitDeadlineHeight {
			continue // too late: the chain records the miss
		}
		proofs, err := p.prove(ctx, c, t)
		if errors.Is(err, errRefused) {
			continue
		}
		if err != nil {
			p.log.Warn("challenge step failed", "challenge", c.Id, "state", c.State.String(), "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		msgs = append(msgs, prove.CommitMsg(c, proofs))
		batch = append(batch, c)
	}
	if len(msgs) == 0 {
		return firstErr
	}
	start := time.Now()
	res, err := p.chain.Send(ctx, chain.SendOptions{Free: p.opts.FreeProofs}, msgs...)
	if err != nil {
		ids := make([]uint64, len(batch))
		for i, c := range batch {
			ids[i] = c.Id
		}
		p.log.Warn("commit failed", "challenges", ids, "err", err)
		return fmt.Errorf("commit %v: %w", ids, err)
	}
	p.metrics.ProofStage.WithLabelValues("commit").Observe(time.Since(start).Seconds())
	for _, c := range batch {
		t := p.seen[c.Id]
		t.CommittedAt, t.State = res.Height, poctypes.CHALLENGE_STATE_COMMITTED.String()
		p.log.Info("challenge committed", "challenge", c.Id, "height", res.Height, "opened_height", c.OpenedHeight())
	}
	return firstErr
}

func (p *Prover) handle(ctx context.Context, blk chain.Block, c poctypes.Challenge) error {
	t := p.track(c)
	var err error
	switch c.State {
	case poctypes.CHALLENGE_STATE_COMMITTED:
		// Have the proofs ready for the opening (after a restart they are
		// recomputed; the commitment on chain is the same).
		_, err = p.prove(ctx, c, t)
	case poctypes.CHALLENGE_STATE_OPENED:
		err = p.reveal(ctx, c, t)
	}
	if errors.Is(err, errRefused) {
		return nil
	}
	return err
}

// prove returns the challenge's proofs, computing them once.
func (p *Prover) prove(ctx context.Context, c poctypes.Challenge, t *state.Challenge) ([]*challenge.GPUProof, error) {
	if proofs, ok := p.proofs[c.Id]; ok {
		return proofs, nil
	}
	if _, ok := p.refused[c.Id]; ok {
		return nil, errRefused
	}
	need, err := p.checkSize(ctx, c)
	if err != nil {
		var refusal *SizeError
		if !errors.As(err, &refusal) {
			return nil, err
		}
		p.refused[c.Id] = refusal.Error()
		t.Outcome = "refused: " + refusal.Error()
		p.metrics.ChallengesRefused.WithLabelValues(refusal.Reason).Inc()
		p.log.Error("challenge refused: not computing it (it will be missed)", "challenge", c.Id,
			"reason", refusal.Reason, "err", refusal.Error())
		return nil, errRefused
	}
	start := time.Now()
	proofs, err := prove.ChallengeWith(ctx, p.chain.ChainID(), c, p.opts.Multiplier,
		challenge.ProverOptions{Workers: p.opts.Workers})
	if err != nil {
		return nil, fmt.Errorf("prove: %w", err)
	}
	t.ProveTime = time.Since(start)
	p.metrics.ProofStage.WithLabelValues("prove").Observe(t.ProveTime.Seconds())
	p.proofs[c.Id] = proofs
	p.held[c.Id] = need
	p.log.Info("challenge proven", "challenge", c.Id, "gpus", len(proofs), "took", t.ProveTime.Round(time.Millisecond))
	return proofs, nil
}

// reveal opens every GPU the chain has not yet recorded a reveal for.
func (p *Prover) reveal(ctx context.Context, c poctypes.Challenge, t *state.Challenge) error {
	proofs, err := p.prove(ctx, c, t)
	if err != nil {
		return err
	}
	full, openings, err := p.chain.Challenge(ctx, c.Id)
	if err != nil {
		return err
	}
	var todo []uint32
	for i, g := range full.Gpus {
		if !g.Revealed {
			todo = append(todo, uint32(i)) //nolint:gosec // a challenge has few GPUs
		}
	}
	if len(todo) == 0 {
		return nil
	}
	msgs, err := prove.RevealMsgs(full, openings, proofs, todo)
	if err != nil {
		return err
	}
	msgs = p.opts.Faults.reveals(msgs, p.log, c.Id)
	start := time.Now()
	var last *chain.TxResult
	for i := 0; i < len(msgs); i += p.opts.RevealBatch {
		end := min(i+p.opts.RevealBatch, len(msgs))
		batch := make([]sdk.Msg, 0, end-i)
		for _, m := range msgs[i:end] {
			batch = append(batch, m)
		}
		res, err := p.chain.Send(ctx, chain.SendOptions{Free: p.opts.FreeProofs}, batch...)
		if err != nil {
			return fmt.Errorf("reveal GPUs %d-%d: %w", i, end-1, err)
		}
		last = res
	}
	p.metrics.ProofStage.WithLabelValues("reveal").Observe(time.Since(start).Seconds())
	t.RevealedAt = last.Height
	p.log.Info("challenge revealed", "challenge", c.Id, "gpus", len(msgs), "height", last.Height)
	return nil
}

// resolve records the outcome of tracked challenges that are no longer
// pending.
func (p *Prover) resolve(ctx context.Context, live map[uint64]bool) error {
	ids := make([]uint64, 0, len(p.seen))
	for id := range p.seen {
		if !live[id] {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		c, _, err := p.chain.Challenge(ctx, id)
		if err != nil {
			return err
		}
		t := p.seen[id]
		t.State = c.State.String()
		outcome := ""
		switch c.State {
		case poctypes.CHALLENGE_STATE_PASSED:
			outcome = "passed"
		case poctypes.CHALLENGE_STATE_FAILED:
			outcome = "failed"
		case poctypes.CHALLENGE_STATE_MISSED:
			outcome = "missed"
		default:
			continue // not resolved yet (should not happen)
		}
		t.Outcome = outcome
		if c.Failure != "" {
			t.Outcome += ": " + c.Failure
		}
		p.metrics.Challenges.WithLabelValues(outcome).Inc()
		level := slog.LevelInfo
		if outcome != "passed" {
			level = slog.LevelError
		}
		p.log.Log(ctx, level, "challenge resolved", "challenge", id, "outcome", outcome, "failure", c.Failure)
		p.history = append([]state.Challenge{*t}, p.history...)
		if len(p.history) > historyLen {
			p.history = p.history[:historyLen]
		}
		delete(p.seen, id)
		delete(p.proofs, id)
		delete(p.held, id)
		delete(p.refused, id)
	}
	return nil
}

func (p *Prover) publish() {
	list := make([]state.Challenge, 0, len(p.seen)+len(p.history))
	ids := make([]uint64, 0, len(p.seen))
	for id := range p.seen {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	for _, id := range ids {
		list = append(list, *p.seen[id])
	}
	list = append(list, p.history...)
	p.board.SetChallenges(list)
}
