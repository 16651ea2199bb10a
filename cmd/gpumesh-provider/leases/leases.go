// Package leases provisions the provider's leases through the operator's
// hooks, posts their access endpoints, reports usage from NVML, withdraws
// earnings and claims capacity rewards on schedules, and tears down
// leases that closed, including while the sidecar was down.
package leases

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	gogoproto "github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/backoff"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Chain is what the lease manager needs from the chain client.
type Chain interface {
	Address() sdk.AccAddress
	Leases(ctx context.Context, provider string, state markettypes.LeaseState) ([]markettypes.Lease, error)
	Lease(ctx context.Context, id markettypes.OrderID) (markettypes.Lease, error)
	Order(ctx context.Context, id markettypes.OrderID) (markettypes.Order, error)
	Usage(ctx context.Context, id markettypes.OrderID) (poctypes.LeaseUsage, bool, error)
	Claimable(ctx context.Context) (sdk.Coin, error)
	Send(ctx context.Context, opts chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error)
}

// Bounds on what the manager accepts from its node.
const (
	// maxListedLeases bounds the active leases of one provider; a longer
	// answer is not trusted.
	maxListedLeases = 4096
	// maxUUIDLength bounds a GPU UUID of a lease.
	maxUUIDLength = 128
	// defaultMaxHooks is leases.max_concurrent_hooks when unset.
	defaultMaxHooks = 8
)

// Close reasons of cleanups that are not a lease closing on chain.
const (
	// reasonStartFailed: on_lease_start failed or timed out.
	reasonStartFailed = "provisioning_failed"
	// reasonStartInterrupted: the sidecar stopped while on_lease_start ran.
	reasonStartInterrupted = "provisioning_interrupted"
)

// hookBackoff spaces the retries of one lease's failed hook or access
// post: from half a second, doubling, at most five minutes, forever.
var hookBackoff = backoff.Policy{Initial: 500 * time.Millisecond, Max: 5 * time.Minute, Factor: 2, Jitter: 0.2}

// validTenant matches a bech32 account address's characters and length.
var validTenant = regexp.MustCompile(`^[a-z0-9]{1,90}$`)

// validUUID matches an NVML GPU or MIG UUID.
var validUUID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_/.-]*$`)

// Manager is the lease subsystem; its state is owned by Run's goroutine.
// Hooks run in workers, at most cfg.MaxConcurrentHooks at once and one at
// a time per lease, and report through results.
type Manager struct {
	chain     Chain
	cfg       config.Leases
	store     *Store
	board     *state.Board
	metrics   *metrics.Metrics
	log       *slog.Logger
	blocks    <-chan chain.Block
	telemetry func() map[string]gpus.Telemetry

	records      map[string]Record
	usage        map[string]*period
	startRetry   map[string]retry // before the next on_lease_start of a lease
	postRetry    map[string]retry // before the next access post
	endRetry     map[string]retry // before the next on_lease_end
	inflight     map[string]hookKind
	results      chan hookResult
	workers      sync.WaitGroup
	unconfirmed  map[string]string // records the node omits but does not report closed: why
	refused      map[string]string // leases not provisioned this block, by reason
	refusedLast  map[string]string // the same, the block before (each refusal is logged once)
	hooksErr     error             // CheckHooks's latest answer
	lastActive   []markettypes.Lease
	lastWithdraw time.Time
	lastClaim    time.Time
	earned       map[string]sdk.Coins // by lease, withdrawn since start
	started      time.Time
	now          func() time.Time // the wall clock (replaced in tests)
}

type retry struct {
	count int
	after time.Time
}

type hookKind int

const (
	hookStart hookKind = iota
	hookEnd
)

func (k hookKind) String() string {
	if k == hookStart {
		return "on_lease_start"
	}
	return "on_lease_end"
}

// hookResult is a worker's report of one hook run.
type hookResult struct {
	key      string
	kind     hookKind
	endpoint string
	err      error
	known    string // the endpoint on chain when the start hook was launched
}

// period accumulates one lease's telemetry since its last usage report.
type period struct {
	start       time.Time
	utilSum     uint64
	utilN       uint64
	energyStart map[string]uint64
	energyLast  map[string]uint64
	samples     hash.Hash
	reported    poctypes.UsageReport
}

// New returns a manager acting on each block from blocks. telemetry
// returns the latest telemetry by GPU UUID: its keys are this machine's
// GPUs, the only ones it provisions.
func New(c Chain, cfg config.Leases, store *Store, board *state.Board, m *metrics.Metrics, log *slog.Logger,
	blocks <-chan chain.Block, telemetry func() map[string]gpus.Telemetry,
) *Manager {
	if cfg.MaxConcurrentHooks < 1 {
		cfg.MaxConcurrentHooks = defaultMaxHooks
	}
	return &Manager{chain: c, cfg: cfg, store: store, board: board, metrics: m, log: log, blocks: blocks,
		telemetry: telemetry, usage: map[string]*period{}, startRetry: map[string]retry{}, postRetry: map[string]retry{},
		endRetry: map[string]retry{}, inflight: map[string]hookKind{},
		results:     make(chan hookResult, cfg.MaxConcurrentHooks),
		unconfirmed: map[string]string{}, refused: map[string]string{}, earned: map[string]sdk.Coins{}, now: time.Now}
}

// Run manages leases on every new block, and applies the hooks' results
// as they finish, until ctx is done. Then the hooks still running are
// killed and waited for; their records stay in a phase the next start
// reconciles.
func (m *Manager) Run(ctx context.Context) error {
	records, err := m.store.Load()
	if err != nil {
		return fmt.Errorf("lease records: %w", err)
	}
	m.records = records
	m.started = m.now()
	defer m.workers.Wait()
	failures := 0
	var pauseUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case res := <-m.results:
			m.apply(ctx, res)
		case blk := <-m.blocks:
			if time.Now().Before(pauseUntil) {
				continue
			}
			if err := m.Step(ctx, blk); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				failures++
				pauseUntil = time.Now().Add(backoff.Default().Delay(failures, nil))
				m.log.Warn("lease step failed", "height", blk.Height, "err", err, "attempt", failures)
				continue
			}
			failures = 0
		}
	}
}

// Step reconciles the leases at block blk: decide which records to tear
// down, retry access posts, start the hooks that are due, sample
// telemetry, and report usage, withdraw and claim when due.
func (m *Manager) Step(ctx context.Context, blk chain.Block) error {
	if m.records == nil {
		records, err := m.store.Load()
		if err != nil {
			return err
		}
		m.records = records
	}
	m.hooksErr = CheckHooks(m.cfg, nil)
	me := m.chain.Address().String()
	listed, err := m.chain.Leases(ctx, me, markettypes.LEASE_STATE_ACTIVE)
	if err != nil {
		return err
	}
	if len(listed) > maxListedLeases {
		return fmt.Errorf("the node lists %d active leases for %s, more than %d: not trusted", len(listed), me,
			maxListedLeases)
	}
	active := m.accept(listed, me)
	live := make(map[string]markettypes.Lease, len(active))
	for _, l := range active {
		live[l.Id.String()] = l
	}
	for key := range m.usage {
		if _, ok := live[key]; !ok {
			delete(m.usage, key)
			delete(m.earned, key)
		}
	}
	m.metrics.LeasesActive.Set(float64(len(active)))
	m.reconcile(ctx, live)
	m.dispatch(ctx, active)
	mine := m.accounted(active)
	m.sample(blk, mine)
	if err := m.report(ctx, blk, mine); err != nil {
		m.log.Warn("usage report failed", "err", err)
	}
	if err := m.withdraw(ctx, mine); err != nil {
		m.log.Warn("withdrawal failed", "err", err)
	}
	if err := m.claim(ctx); err != nil {
		m.log.Warn("reward claim failed", "err", err)
	}
	m.publish(active)
	return nil
}

// accounted returns the active leases this machine reports usage for
// and withdraws: those whose first GPU is one of its own. A provider with
// several machines runs a sidecar on each; every lease is accounted by
// exactly one of them (the one that also posts the endpoint), so usage is
// not reported twice and withdrawals are not sent twice.
func (m *Manager) accounted(active []markettypes.Lease) []markettypes.Lease {
	inventory := m.telemetry()
	out := make([]markettypes.Lease, 0, len(active))
	for _, l := range active {
		if _, ok := inventory[l.Gpus[0]]; ok {
			out = append(out, l)
		}
	}
	return out
}

// accept returns the listed leases the manager believes: well-formed
// active leases of this provider, each once. The others are counted and
// logged once.
func (m *Manager) accept(listed []markettypes.Lease, me string) []markettypes.Lease {
	out := make([]markettypes.Lease, 0, len(listed))
	seen := make(map[string]bool, len(listed))
	m.refusedLast, m.refused = m.refused, map[string]string{}
	for _, l := range listed {
		key := l.Id.String()
		reason := ""
		switch {
		case !validTenant.MatchString(l.Id.Tenant) || l.Id.Seq == 0:
			reason = "bad_id"
			key = fmt.Sprintf("%.100q/%d", l.Id.Tenant, l.Id.Seq)
		case seen[key]:
			reason = "duplicate"
		case l.Provider != me:
			reason = "other_provider"
		case l.State != markettypes.LEASE_STATE_ACTIVE:
			reason = "not_active"
		case len(l.Gpus) == 0 || len(l.Gpus) > markettypes.MaxGPUsPerBid:
			reason = "bad_gpus"
		case len(l.AccessEndpoint) > markettypes.MaxEndpointLength:
			reason = "bad_endpoint"
		}
		if reason == "" {
			uuids := make(map[string]bool, len(l.Gpus))
			for _, u := range l.Gpus {
				if len(u) > maxUUIDLength || !validUUID.MatchString(u) || uuids[u] {
					reason = "bad_gpus"
					break
				}
				uuids[u] = true
			}
		}
		if reason != "" {
			m.refuse(key, reason, "the node lists a lease the sidecar does not believe")
			continue
		}
		seen[key] = true
		out = append(out, l)
	}
	return out
}

// refuse notes that a lease is not provisioned this block, counting and
// logging it when it was not already refused for that reason.
func (m *Manager) refuse(key, reason, msg string) {
	m.refused[key] = reason
	if m.refusedLast[key] != reason {
		m.metrics.LeasesRefused.WithLabelValues(reason).Inc()
		m.log.Warn(msg, "lease", key, "reason", reason)
	}
}

// reconcile decides what each record needs: a record whose start was
// interrupted, or whose lease the chain confirms closed, is torn down; a
// started lease's endpoint is posted. A record whose lease the node omits
// from the active list but does not report closed is kept.
func (m *Manager) reconcile(ctx context.Context, live map[string]markettypes.Lease) {
	for _, id := range m.recordIDs() {
		if _, busy := m.inflight[id]; busy {
			continue
		}
		rec := m.records[id]
		switch rec.phase() {
		case PhaseEnding:
			continue
		case PhaseStarting:
			m.log.Warn("the sidecar stopped while the lease's start hook ran; cleaning up", "lease", id)
			m.toEnding(rec, reasonStartInterrupted)
			continue
		}
		if l, ok := live[id]; ok {
			delete(m.unconfirmed, id)
			if rec.phase() == PhaseStarted {
				m.postAccess(ctx, rec, l.AccessEndpoint)
			}
			continue
		}
		l, err := m.chain.Lease(ctx, markettypes.OrderID{Tenant: rec.Tenant, Seq: rec.Seq})
		why := ""
		switch {
		case err == nil && l.Id.Tenant == rec.Tenant && l.Id.Seq == rec.Seq && l.State == markettypes.LEASE_STATE_CLOSED:
			delete(m.unconfirmed, id)
			m.toEnding(rec, closeReasonName(l.CloseReason))
			continue
		case chain.IsNotFound(err):
			why = "not_found"
		case err != nil:
			why = "query_failed"
		default:
			why = "not_closed"
		}
		if m.unconfirmed[id] != why {
			m.log.Warn("the node omits a provisioned lease from the active leases but does not say it closed; "+
				"not tearing it down", "lease", id, "lease_query", why, "err", err)
		}
		m.unconfirmed[id] = why
	}
	for id := range m.unconfirmed {
		if _, ok := m.records[id]; !ok {
			delete(m.unconfirmed, id)
		}
	}
	m.metrics.LeasesUnconfirmed.Set(float64(len(m.unconfirmed)))
}

// toEnding marks a record for teardown, durably.
func (m *Manager) toEnding(rec Record, reason string) {
	rec.Phase, rec.CloseReason = PhaseEnding, reason
	m.records[rec.ID] = rec
	m.save()
	m.log.Info("lease to tear down", "lease", rec.ID, "reason", reason)
}

// postAccess posts a started lease's endpoint (only this, never the start
// hook again), unless it is on chain already or another machine posts it.
func (m *Manager) postAccess(ctx context.Context, rec Record, onChain string) {
	if rec.Posts && rec.Endpoint != "" && rec.Endpoint != onChain {
		if r, ok := m.postRetry[rec.ID]; ok && m.now().Before(r.after) {
			return
		}
		_, err := m.chain.Send(ctx, chain.SendOptions{}, &markettypes.MsgSetLeaseAccess{Provider: m.chain.Address().String(),
			LeaseId: markettypes.OrderID{Tenant: rec.Tenant, Seq: rec.Seq}, Endpoint: rec.Endpoint})
		if err != nil {
			r := m.bump(m.postRetry, rec.ID)
			m.log.Error("posting the access endpoint failed; will retry the post", "lease", rec.ID, "err", err,
				"attempt", r.count)
			return
		}
	}
	delete(m.postRetry, rec.ID)
	rec.Phase = PhaseAccessPosted
	m.records[rec.ID] = rec
	m.save()
	m.log.Info("lease provisioned", "lease", rec.ID, "gpus", len(rec.GPUs), "endpoint", rec.Endpoint, "posted", rec.Posts)
}

// bump records a failure in a retry table and returns the new entry.
func (m *Manager) bump(table map[string]retry, key string) retry {
	r := table[key]
	r.count++
	r.after = m.now().Add(hookBackoff.Delay(r.count, nil))
	table[key] = r
	return r
}

// dispatch starts the hooks that are due, teardowns first, while fewer
// than max_concurrent_hooks run.
func (m *Manager) dispatch(ctx context.Context, active []markettypes.Lease) {
	m.dispatchEnds(ctx)
	if m.hooksErr != nil {
		m.publishProblem()
		return
	}
	inventory := m.telemetry()
	held := map[string]string{} // local GPU → lease holding it
	for id, rec := range m.records {
		for _, u := range rec.GPUs {
			held[u] = id
		}
	}
	for _, l := range active {
		key := l.Id.String()
		if _, ok := m.records[key]; ok {
			continue
		}
		if r, ok := m.startRetry[key]; ok && m.now().Before(r.after) {
			continue
		}
		var local []string
		for _, u := range l.Gpus {
			if _, ok := inventory[u]; ok {
				local = append(local, u)
			}
		}
		if len(local) == 0 {
			continue // on another machine of this provider, or NVML has not answered yet
		}
		conflict := ""
		for _, u := range local {
			if other, ok := held[u]; ok {
				conflict = other
				break
			}
		}
		if conflict != "" {
			if m.records[conflict].phase() != PhaseEnding { // a GPU freed by a teardown is waited for
				m.refuse(key, "gpu_held", "a lease names a GPU another live lease holds; not provisioning it")
			}
			continue
		}
		if len(m.inflight) >= m.cfg.MaxConcurrentHooks {
			break
		}
		sshKey := ""
		if order, err := m.chain.Order(ctx, l.Id); err != nil {
			m.log.Warn("cannot read the lease's order (no SSH key for the hook)", "lease", key, "err", err)
		} else if err := markettypes.ValidateSSHPubkey(order.SshPubkey); err != nil {
			m.refuse(key, "bad_ssh_key", "the lease's order has an invalid SSH key; not provisioning it")
			continue
		} else {
			sshKey = order.SshPubkey
		}
		rec := Record{ID: key, Tenant: l.Id.Tenant, Seq: l.Id.Seq, GPUs: local, Provisioned: m.now().UTC(),
			Phase: PhaseStarting, Posts: slices.Contains(local, l.Gpus[0])}
		m.records[key] = rec
		if err := m.store.Save(m.records); err != nil {
			delete(m.records, key)
			m.bump(m.startRetry, key)
			m.log.Error("cannot record the lease; not running its start hook", "lease", key, "err", err)
			continue
		}
		for _, u := range local {
			held[u] = key
		}
		m.launch(ctx, hookStart, m.cfg.OnLeaseStart, m.hookEnv(rec, sshKey), l.AccessEndpoint)
	}
	m.publishProblem()
}

// dispatchEnds starts on_lease_end for each record being torn down whose
// backoff is over.
func (m *Manager) dispatchEnds(ctx context.Context) {
	for _, id := range m.recordIDs() {
		rec := m.records[id]
		if rec.phase() != PhaseEnding {
			continue
		}
		if _, busy := m.inflight[id]; busy {
			continue
		}
		if r, ok := m.endRetry[id]; ok && m.now().Before(r.after) {
			continue
		}
		if len(m.inflight) >= m.cfg.MaxConcurrentHooks {
			return
		}
		m.launch(ctx, hookEnd, m.cfg.OnLeaseEnd, m.hookEnv(rec, ""), "")
	}
}

func (m *Manager) hookEnv(rec Record, sshKey string) HookEnv {
	return HookEnv{LeaseID: rec.ID, Tenant: rec.Tenant, Seq: rec.Seq, Provider: m.chain.Address().String(), GPUs: rec.GPUs,
		SSHPubKey: sshKey, CloseReason: rec.CloseReason, Extra: m.cfg.HookEnv}
}

// launch runs one hook in a worker. ctx ending kills the hook; the worker
// then reports nothing.
func (m *Manager) launch(ctx context.Context, kind hookKind, command string, env HookEnv, known string) {
	m.inflight[env.LeaseID] = kind
	m.workers.Add(1)
	timeout := m.cfg.HookTimeout.D()
	go func() {
		defer m.workers.Done()
		endpoint, err := RunHook(ctx, command, env, timeout)
		select {
		case m.results <- hookResult{key: env.LeaseID, kind: kind, endpoint: endpoint, err: err, known: known}:
		case <-ctx.Done():
		}
	}()
}

// apply takes a hook's result into the records.
func (m *Manager) apply(ctx context.Context, res hookResult) {
	delete(m.inflight, res.key)
	if ctx.Err() != nil {
		return // killed by the shutdown: the record keeps its phase for the next start
	}
	rec, ok := m.records[res.key]
	if !ok {
		return
	}
	configured := m.cfg.OnLeaseStart
	if res.kind == hookEnd {
		configured = m.cfg.OnLeaseEnd
	}
	result := "ok"
	if res.err != nil {
		result = "error"
	}
	if configured != "" || res.err != nil {
		m.metrics.HookRuns.WithLabelValues(res.kind.String(), result).Inc()
	}
	switch res.kind {
	case hookStart:
		if res.err == nil && res.endpoint != "" {
			if err := markettypes.ValidateEndpoint(res.endpoint); err != nil {
				res.err = fmt.Errorf("hook %s printed an endpoint the chain would refuse: %w", configured, err)
			}
		}
		if res.err != nil {
			r := m.bump(m.startRetry, res.key)
			m.log.Error("provisioning failed; cleaning up with on_lease_end, then retrying", "lease", res.key,
				"err", res.err, "attempt", r.count)
			m.toEnding(rec, reasonStartFailed)
			break
		}
		delete(m.startRetry, res.key)
		rec.Phase, rec.Endpoint = PhaseStarted, res.endpoint
		m.records[res.key] = rec
		m.save()
		m.postAccess(ctx, rec, res.known)
	case hookEnd:
		if res.err != nil {
			r := m.bump(m.endRetry, res.key)
			m.log.Error("teardown failed; will retry until it succeeds", "lease", res.key, "err", res.err,
				"attempt", r.count, "next", r.after.Sub(m.now()).Round(time.Second))
			break
		}
		delete(m.endRetry, res.key)
		delete(m.postRetry, res.key)
		delete(m.records, res.key)
		m.save()
		m.log.Info("lease torn down", "lease", res.key, "reason", rec.CloseReason)
	}
	m.dispatchEnds(ctx)
	m.publishProblem()
	m.publish(m.lastActive)
}

// publishProblem sets the teardown alert and tells the bidder, through
// the board, whether provisioning works: not while a hook cannot run, nor
// while a teardown fails (the GPUs may still hold the last tenant's
// workload).
func (m *Manager) publishProblem() {
	failing := 0
	for id := range m.endRetry {
		if rec, ok := m.records[id]; ok && rec.phase() == PhaseEnding {
			failing++
		}
	}
	m.metrics.TeardownsFailing.Set(float64(failing))
	problem := ""
	switch {
	case m.hooksErr != nil:
		problem = m.hooksErr.Error()
	case failing > 0:
		problem = fmt.Sprintf("%d lease teardowns failing", failing)
	}
	if problem != m.board.ProvisioningProblem() {
		if problem != "" {
			m.log.Error("provisioning cannot work; no new bids until fixed", "reason", problem)
		} else {
			m.log.Info("provisioning works again")
		}
	}
	m.board.SetProvisioningProblem(problem)
}

func (m *Manager) save() {
	if err := m.store.Save(m.records); err != nil {
		m.log.Error("saving lease records", "err", err)
	}
}

func (m *Manager) recordIDs() []string {
	ids := make([]string, 0, len(m.records))
	for id := range m.records {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// sample adds the latest telemetry of each lease's GPUs to its period.
func (m *Manager) sample(blk chain.Block, active []markettypes.Lease) {
	tel := m.telemetry()
	for _, l := range active {
		p, ok := m.usage[l.Id.String()]
		if !ok {
			continue // the period starts once report() knows its start
		}
		for _, uuid := range l.Gpus {
			t, ok := tel[uuid]
			if !ok {
				continue
			}
			util := uint32(0)
			if t.UtilGPUPct != nil {
				util = min(*t.UtilGPUPct, 100)
				p.utilSum += uint64(util)
				p.utilN++
			}
			if _, ok := p.energyStart[uuid]; !ok {
				p.energyStart[uuid] = t.EnergyMillijoules
			}
			p.energyLast[uuid] = t.EnergyMillijoules
			_, _ = fmt.Fprintf(p.samples, "%d %s %d %d\n", blk.Time.Unix(), uuid, util, t.EnergyMillijoules)
		}
	}
}

func newPeriod(start time.Time) *period {
	return &period{start: start, energyStart: map[string]uint64{}, energyLast: map[string]uint64{}, samples: sha256.New()}
}

// report sends the usage of every lease whose period is usage_interval
// old, in one transaction.
func (m *Manager) report(ctx context.Context, blk chain.Block, active []markettypes.Lease) error {
	var msgs []sdk.Msg
	var due []string
	for _, l := range active {
		key := l.Id.String()
		p, ok := m.usage[key]
		if !ok {
			u, found, err := m.chain.Usage(ctx, l.Id)
			if err != nil {
				return err
			}
			start := l.StartTime
			if found {
				start = u.Latest.PeriodEnd
			}
			m.usage[key] = newPeriod(start)
			continue
		}
		secs := blk.Time.Sub(p.start) / time.Second
		if blk.Time.Sub(p.start) < m.cfg.UsageInterval.D() || secs <= 0 {
			continue
		}
		end := p.start.Add(secs * time.Second)
		var energy uint64
		for uuid, last := range p.energyLast {
			if first := p.energyStart[uuid]; last > first {
				energy += last - first
			}
		}
		var util uint32
		if p.utilN > 0 {
			util = uint32(p.utilSum / p.utilN) //nolint:gosec // at most 100
		}
		msgs = append(msgs, &poctypes.MsgReportUsage{Provider: l.Provider, LeaseId: l.Id, PeriodEnd: end,
			GpuSeconds: uint64(len(l.Gpus)) * uint64(secs), MeanUtilPct: util, EnergyMj: energy, //nolint:gosec // secs > 0
			SamplesHash: p.samples.Sum(nil)})
		due = append(due, key)
	}
	if len(msgs) == 0 {
		return nil
	}
	if _, err := m.chain.Send(ctx, chain.SendOptions{}, msgs...); err != nil {
		// Start over from the chain's record next block.
		for _, key := range due {
			delete(m.usage, key)
		}
		return err
	}
	for i, key := range due {
		r := msgs[i].(*poctypes.MsgReportUsage)
		next := newPeriod(r.PeriodEnd)
		next.reported = poctypes.UsageReport{PeriodEnd: r.PeriodEnd, GpuSeconds: r.GpuSeconds, MeanUtilPct: r.MeanUtilPct,
			EnergyMj: r.EnergyMj}
		prev := m.usage[key]
		// The next period's energy counts from this period's last reading,
		// so the energy between two samples at a boundary is not lost.
		for uuid, e := range prev.energyLast {
			next.energyStart[uuid] = e
		}
		next.reported.GpuSeconds += prev.reported.GpuSeconds
		next.reported.EnergyMj += prev.reported.EnergyMj
		m.usage[key] = next
	}
	m.log.Info("usage reported", "leases", len(msgs))
	return nil
}

// withdraw collects what the active leases owe, every withdraw_interval,
// in one transaction.
func (m *Manager) withdraw(ctx context.Context, active []markettypes.Lease) error {
	if len(active) == 0 || m.now().Sub(m.lastWithdraw) < m.cfg.WithdrawInterval.D() {
		return nil
	}
	if m.lastWithdraw.IsZero() && m.now().Sub(m.started) < m.cfg.WithdrawInterval.D() {
		return nil
	}
	msg := &escrowtypes.MsgWithdraw{Provider: active[0].Provider}
	for _, l := range active {
		msg.LeaseIds = append(msg.LeaseIds, escrowtypes.AccountID{Tenant: l.Id.Tenant, Seq: l.Id.Seq})
	}
	res, err := m.chain.Send(ctx, chain.SendOptions{}, msg)
	if err != nil {
		return err
	}
	m.lastWithdraw = m.now()
	// Each settled lease emits EventSettled with the provider's share.
	paid := sdk.NewCoins()
	for _, ev := range res.Response.Events {
		if ev.Type != settledEvent {
			continue
		}
		msg, err := sdk.ParseTypedEvent(ev)
		if err != nil {
			m.log.Warn("cannot decode a settlement event", "err", err)
			continue
		}
		if s, ok := msg.(*escrowtypes.EventSettled); ok && s.ProviderAmount.IsValid() {
			key := markettypes.OrderID{Tenant: s.Id.Tenant, Seq: s.Id.Seq}.String()
			m.earned[key] = m.earned[key].Add(s.ProviderAmount)
			paid = paid.Add(s.ProviderAmount)
			m.metrics.Earnings.WithLabelValues(s.ProviderAmount.Denom).Add(metrics.CoinAmount(s.ProviderAmount.Amount))
		}
	}
	m.log.Info("earnings withdrawn", "leases", len(active), "paid", paid.String(), "height", res.Height)
	return nil
}

// settledEvent is the type of escrow's typed settlement event.
var settledEvent = gogoproto.MessageName(&escrowtypes.EventSettled{})

// claim collects capacity rewards every claim_interval when there are any.
func (m *Manager) claim(ctx context.Context) error {
	if m.cfg.ClaimInterval <= 0 || m.now().Sub(m.lastClaim) < m.cfg.ClaimInterval.D() {
		return nil
	}
	if m.lastClaim.IsZero() && m.now().Sub(m.started) < m.cfg.ClaimInterval.D() {
		return nil
	}
	m.lastClaim = m.now()
	claimable, err := m.chain.Claimable(ctx)
	if err != nil || !claimable.IsValid() || !claimable.IsPositive() {
		return err
	}
	res, err := m.chain.Send(ctx, chain.SendOptions{}, &poctypes.MsgClaimRewards{Provider: m.chain.Address().String()})
	if err != nil {
		return err
	}
	var out poctypes.MsgClaimRewardsResponse
	if err := res.MsgResponses(&out); err == nil && out.Amount.IsValid() {
		m.metrics.Rewards.WithLabelValues(out.Amount.Denom).Add(metrics.CoinAmount(out.Amount.Amount))
	}
	m.log.Info("capacity rewards claimed", "amount", out.Amount.String(), "height", res.Height)
	return nil
}

func (m *Manager) publish(active []markettypes.Lease) {
	m.lastActive = active
	list := make([]state.Lease, 0, len(active))
	for _, l := range active {
		key := l.Id.String()
		s := state.Lease{ID: key, Tenant: l.Id.Tenant, Seq: l.Id.Seq, GPUs: l.Gpus, Price: l.PricePerGpuHour.String(),
			StartedAt: l.StartTime, State: l.State.String(), AccessEndpoint: l.AccessEndpoint, LastWithdrawal: m.lastWithdraw,
			Earned: m.earned[key].String()}
		if rec, ok := m.records[key]; ok {
			s.Provisioned = rec.phase() == PhaseStarted || rec.phase() == PhaseAccessPosted
		}
		if p, ok := m.usage[key]; ok {
			s.GPUSeconds, s.MeanUtilPct, s.EnergyMJ = p.reported.GpuSeconds, p.reported.MeanUtilPct, p.reported.EnergyMj
			s.LastReport = p.reported.PeriodEnd
		}
		list = append(list, s)
	}
	m.board.SetLeases(list)
}

func sortRecords(list []Record) {
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
}

// closeReasonName is the hook's GPUMESH_CLOSE_REASON: the chain's close
// reason in lower case without the enum prefix (tenant, provider, expired,
// insufficient_funds, provider_slashed, dispute_lost).
func closeReasonName(r markettypes.LeaseCloseReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "LEASE_CLOSE_REASON_"))
}
