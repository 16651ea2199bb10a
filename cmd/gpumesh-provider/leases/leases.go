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
	"sort"
	"strings"
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

// Manager is the lease subsystem; its state is owned by Run's goroutine.
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
	retries      map[string]retry
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
// returns the latest telemetry by GPU UUID.
func New(c Chain, cfg config.Leases, store *Store, board *state.Board, m *metrics.Metrics, log *slog.Logger,
	blocks <-chan chain.Block, telemetry func() map[string]gpus.Telemetry,
) *Manager {
	return &Manager{chain: c, cfg: cfg, store: store, board: board, metrics: m, log: log, blocks: blocks,
		telemetry: telemetry, usage: map[string]*period{}, retries: map[string]retry{}, earned: map[string]sdk.Coins{},
		now: time.Now}
}

// Run manages leases on every new block until ctx is done.
func (m *Manager) Run(ctx context.Context) error {
	records, err := m.store.Load()
	if err != nil {
		return fmt.Errorf("lease records: %w", err)
	}
	m.records = records
	m.started = m.now()
	return chain.EachBlock(ctx, m.blocks, m.log, "lease step", m.Step)
}

// Step reconciles the leases at block blk: provision new ones, tear down
// closed ones, sample telemetry, and report usage, withdraw and claim when
// due.
func (m *Manager) Step(ctx context.Context, blk chain.Block) error {
	if m.records == nil {
		records, err := m.store.Load()
		if err != nil {
			return err
		}
		m.records = records
	}
	me := m.chain.Address().String()
	active, err := m.chain.Leases(ctx, me, markettypes.LEASE_STATE_ACTIVE)
	if err != nil {
		return err
	}
	live := make(map[string]markettypes.Lease, len(active))
	for _, l := range active {
		live[l.Id.String()] = l
	}
	m.metrics.LeasesActive.Set(float64(len(active)))
	if err := m.teardown(ctx, live); err != nil {
		return err
	}
	for _, l := range active {
		if _, ok := m.records[l.Id.String()]; !ok {
			m.provision(ctx, l)
		}
	}
	// A lease that closed before it was ever provisioned needs no retry.
	for key := range m.retries {
		if _, ok := live[key]; !ok {
			if _, ok := m.records[key]; !ok {
				delete(m.retries, key)
			}
		}
	}
	m.sample(blk, active)
	if err := m.report(ctx, blk, active); err != nil {
		m.log.Warn("usage report failed", "err", err)
	}
	if err := m.withdraw(ctx, active); err != nil {
		m.log.Warn("withdrawal failed", "err", err)
	}
	if err := m.claim(ctx); err != nil {
		m.log.Warn("reward claim failed", "err", err)
	}
	m.publish(active)
	return nil
}

// provision runs on_lease_start for a new lease and posts its endpoint. A
// failed hook is retried with backoff on later blocks.
func (m *Manager) provision(ctx context.Context, l markettypes.Lease) {
	key := l.Id.String()
	if r, ok := m.retries[key]; ok && m.now().Before(r.after) {
		return
	}
	env := HookEnv{LeaseID: key, Tenant: l.Id.Tenant, Seq: l.Id.Seq, Provider: l.Provider, GPUs: l.Gpus}
	if order, err := m.chain.Order(ctx, l.Id); err == nil {
		env.SSHPubKey = order.SshPubkey
	} else {
		m.log.Warn("cannot read the lease's order (no SSH key for the hook)", "lease", key, "err", err)
	}
	endpoint, err := RunHook(ctx, m.cfg.OnLeaseStart, env, m.cfg.HookTimeout.D())
	if err == nil && endpoint != "" && endpoint != l.AccessEndpoint {
		_, err = m.chain.Send(ctx, chain.SendOptions{},
			&markettypes.MsgSetLeaseAccess{Provider: l.Provider, LeaseId: l.Id, Endpoint: endpoint})
		if err != nil {
			err = fmt.Errorf("posting the access endpoint: %w", err)
		}
	}
	if err != nil {
		r := m.retries[key]
		r.count++
		r.after = m.now().Add(backoff.Default().Delay(r.count, nil))
		m.retries[key] = r
		m.metrics.HookRuns.WithLabelValues("on_lease_start", "error").Inc()
		m.log.Error("provisioning failed; will retry", "lease", key, "err", err, "attempt", r.count)
		return
	}
	if m.cfg.OnLeaseStart != "" {
		m.metrics.HookRuns.WithLabelValues("on_lease_start", "ok").Inc()
	}
	delete(m.retries, key)
	m.records[key] = Record{ID: key, Tenant: l.Id.Tenant, Seq: l.Id.Seq, GPUs: l.Gpus, Endpoint: endpoint,
		Provisioned: m.now().UTC()}
	if err := m.store.Save(m.records); err != nil {
		m.log.Error("saving lease records", "err", err)
	}
	m.log.Info("lease provisioned", "lease", key, "gpus", len(l.Gpus), "endpoint", endpoint)
}

// teardown runs on_lease_end for every provisioned lease that is no longer
// active, including those that closed while the sidecar was down.
func (m *Manager) teardown(ctx context.Context, live map[string]markettypes.Lease) error {
	ids := make([]string, 0)
	for id := range m.records {
		if _, ok := live[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if r, ok := m.retries[id]; ok && m.now().Before(r.after) {
			continue
		}
		rec := m.records[id]
		env := HookEnv{LeaseID: id, Tenant: rec.Tenant, Seq: rec.Seq, Provider: m.chain.Address().String(), GPUs: rec.GPUs,
			CloseReason: "unknown"}
		if l, err := m.chain.Lease(ctx, markettypes.OrderID{Tenant: rec.Tenant, Seq: rec.Seq}); err == nil {
			env.CloseReason = closeReasonName(l.CloseReason)
		} else if !chain.IsNotFound(err) {
			return err
		}
		if _, err := RunHook(ctx, m.cfg.OnLeaseEnd, env, m.cfg.HookTimeout.D()); err != nil {
			r := m.retries[id]
			r.count++
			r.after = m.now().Add(backoff.Default().Delay(r.count, nil))
			m.retries[id] = r
			m.metrics.HookRuns.WithLabelValues("on_lease_end", "error").Inc()
			m.log.Error("teardown failed; will retry", "lease", id, "err", err, "attempt", r.count)
			continue
		}
		if m.cfg.OnLeaseEnd != "" {
			m.metrics.HookRuns.WithLabelValues("on_lease_end", "ok").Inc()
		}
		delete(m.retries, id)
		delete(m.records, id)
		delete(m.usage, id)
		delete(m.earned, id)
		if err := m.store.Save(m.records); err != nil {
			m.log.Error("saving lease records", "err", err)
		}
		m.log.Info("lease torn down", "lease", id, "reason", env.CloseReason)
	}
	return nil
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
			m.metrics.Earnings.WithLabelValues(s.ProviderAmount.Denom).Add(float64(s.ProviderAmount.Amount.Uint64()))
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
		m.metrics.Rewards.WithLabelValues(out.Amount.Denom).Add(float64(out.Amount.Amount.Uint64()))
	}
	m.log.Info("capacity rewards claimed", "amount", out.Amount.String(), "height", res.Height)
	return nil
}

func (m *Manager) publish(active []markettypes.Lease) {
	list := make([]state.Lease, 0, len(active))
	for _, l := range active {
		key := l.Id.String()
		s := state.Lease{ID: key, Tenant: l.Id.Tenant, Seq: l.Id.Seq, GPUs: l.Gpus, Price: l.PricePerGpuHour.String(),
			StartedAt: l.StartTime, State: l.State.String(), AccessEndpoint: l.AccessEndpoint, LastWithdrawal: m.lastWithdraw,
			Earned: m.earned[key].String()}
		_, s.Provisioned = m.records[key]
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
