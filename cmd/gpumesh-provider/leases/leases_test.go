package leases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// fakeChain serves leases, orders and usage from maps and records every
// transaction sent.
type fakeChain struct {
	addr      sdk.AccAddress
	active    []markettypes.Lease
	closed    map[string]markettypes.Lease // what Lease returns for leases not active
	leaseErr  error                        // Lease fails with it when set
	orders    map[string]markettypes.Order
	usage     map[string]poctypes.LeaseUsage
	usageReqs int
	claimable sdk.Coin
	sendErr   error
	// respond builds the result of a successful Send (nil = an empty one).
	respond func(msgs []sdk.Msg) *chain.TxResult
	sent    [][]sdk.Msg
}

func newFakeChain() *fakeChain {
	return &fakeChain{addr: sdk.AccAddress([]byte("provider-address-01")), closed: map[string]markettypes.Lease{},
		orders: map[string]markettypes.Order{}, usage: map[string]poctypes.LeaseUsage{}}
}

func (f *fakeChain) Address() sdk.AccAddress { return f.addr }

func (f *fakeChain) Leases(_ context.Context, provider string, s markettypes.LeaseState) ([]markettypes.Lease, error) {
	if provider != f.addr.String() || s != markettypes.LEASE_STATE_ACTIVE {
		return nil, fmt.Errorf("unexpected query for %s leases of %s", s, provider)
	}
	return append([]markettypes.Lease(nil), f.active...), nil
}

func (f *fakeChain) Lease(_ context.Context, id markettypes.OrderID) (markettypes.Lease, error) {
	if f.leaseErr != nil {
		return markettypes.Lease{}, f.leaseErr
	}
	for _, l := range f.active {
		if l.Id == id {
			return l, nil
		}
	}
	if l, ok := f.closed[id.String()]; ok {
		return l, nil
	}
	return markettypes.Lease{}, errors.New("rpc error: code = NotFound desc = lease not found")
}

func (f *fakeChain) Order(_ context.Context, id markettypes.OrderID) (markettypes.Order, error) {
	if o, ok := f.orders[id.String()]; ok {
		return o, nil
	}
	return markettypes.Order{}, errors.New("rpc error: code = NotFound desc = order not found")
}

func (f *fakeChain) Usage(_ context.Context, id markettypes.OrderID) (poctypes.LeaseUsage, bool, error) {
	f.usageReqs++
	u, ok := f.usage[id.String()]
	return u, ok, nil
}

func (f *fakeChain) Claimable(context.Context) (sdk.Coin, error) { return f.claimable, nil }

func (f *fakeChain) Send(_ context.Context, _ chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error) {
	f.sent = append(f.sent, msgs)
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	if f.respond != nil {
		return f.respond(msgs), nil
	}
	return &chain.TxResult{Height: 10, Response: &sdk.TxResponse{}}, nil
}

// sentOf returns the messages of type T sent so far, by transaction.
func sentOf[T sdk.Msg](f *fakeChain) [][]T {
	var out [][]T
	for _, tx := range f.sent {
		var of []T
		for _, msg := range tx {
			if m, ok := msg.(T); ok {
				of = append(of, m)
			}
		}
		if len(of) > 0 {
			out = append(out, of)
		}
	}
	return out
}

// clock is the manager's wall clock, moved by the test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time            { return c.t }
func (c *clock) add(d time.Duration)       { c.t = c.t.Add(d) }
func (c *clock) block(h int64) chain.Block { return chain.Block{Height: h, Time: c.t} }

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type harness struct {
	f       *fakeChain
	m       *Manager
	metrics *metrics.Metrics
	reg     *prometheus.Registry
	board   *state.Board
	store   *Store
	clock   *clock
	dir     string
	tel     map[string]gpus.Telemetry
}

// quietConfig runs no hooks and reports, withdraws and claims rarely, so a
// test turns on what it checks.
func quietConfig() config.Leases {
	return config.Leases{HookTimeout: config.Duration(5 * time.Second), UsageInterval: config.Duration(24 * time.Hour),
		WithdrawInterval: config.Duration(24 * time.Hour), ClaimInterval: 0, MaxConcurrentHooks: 8}
}

func newHarness(t *testing.T, f *fakeChain, cfg config.Leases) *harness {
	t.Helper()
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	h := &harness{f: f, metrics: metrics.New(reg), reg: reg, board: state.NewBoard(),
		store: NewStore(filepath.Join(dir, "leases.json")), clock: &clock{t: t0}, dir: dir, tel: map[string]gpus.Telemetry{}}
	h.m = New(f, cfg, h.store, h.board, h.metrics, slog.New(slog.NewTextHandler(io.Discard, nil)), nil,
		func() map[string]gpus.Telemetry { return h.tel })
	h.m.now = h.clock.now
	h.m.started = h.clock.t // as Run does
	return h
}

// step runs a block's step and waits for the hooks it started (and the
// cleanups these start) to finish, as Run applies them when they do.
func (h *harness) step(t *testing.T, height int64) {
	t.Helper()
	require.NoError(t, h.m.Step(context.Background(), h.clock.block(height)))
	h.settle(t)
}

func (h *harness) settle(t *testing.T) {
	t.Helper()
	for len(h.m.inflight) > 0 {
		select {
		case res := <-h.m.results:
			h.m.apply(context.Background(), res)
		case <-time.After(time.Minute):
			require.FailNow(t, "hooks still running after a minute", "%v", h.m.inflight)
		}
	}
}

func (h *harness) boardLease(t *testing.T, id string) state.Lease {
	t.Helper()
	for _, l := range h.board.Leases() {
		if l.ID == id {
			return l
		}
	}
	require.Failf(t, "lease not on the board", "%s in %+v", id, h.board.Leases())
	return state.Lease{}
}

// loggingHook writes a hook that appends its GPUMESH_* environment to
// <name>.log (one run a block, separated by "--") and runs output (its standard output is the endpoint).
func loggingHook(t *testing.T, dir, name, output string) (command, log string) {
	t.Helper()
	log = filepath.Join(dir, name+".log")
	command = writeScript(t, dir, name+".sh", `env | grep '^GPUMESH_' | sort >> "`+log+`"
echo -- >> "`+log+`"
echo "some progress" >&2
`+output+"\n")
	return command, log
}

// hookRuns returns the environment of each run of a logging hook.
func hookRuns(t *testing.T, log string) []map[string]string {
	t.Helper()
	bz, err := os.ReadFile(log) //nolint:gosec // a test file
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	var runs []map[string]string
	for _, block := range strings.Split(strings.TrimSuffix(string(bz), "--\n"), "--\n") {
		run := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			k, v, _ := strings.Cut(line, "=")
			run[k] = v
		}
		runs = append(runs, run)
	}
	return runs
}

func newLease(f *fakeChain, tenant string, seq uint64, gpuList ...string) markettypes.Lease {
	return markettypes.Lease{Id: markettypes.OrderID{Tenant: tenant, Seq: seq}, Provider: f.addr.String(), Gpus: gpuList,
		PricePerGpuHour: sdk.NewInt64Coin("ugpu", 1000), StartTime: t0, State: markettypes.LEASE_STATE_ACTIVE}
}

// A new active lease runs on_lease_start with the lease and the order's SSH
// key, posts the hook's endpoint, and is recorded; later blocks (and a
// restarted sidecar) do not provision it again.
func TestNewLeaseIsProvisionedOnce(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 3, "GPU-a", "GPU-b")
	f.active = []markettypes.Lease{l}
	f.orders[l.Id.String()] = markettypes.Order{Id: l.Id, SshPubkey: fixtures.TenantSSHKey}
	cfg := quietConfig()
	h := newHarness(t, f, cfg)
	h.local("GPU-a", "GPU-b", "GPU-other")
	start, startLog := loggingHook(t, h.dir, "start", `echo "ssh://gpumesh@gpu1.example.com:2201"`)
	end, endLog := loggingHook(t, h.dir, "end", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	h.step(t, 1)
	runs := hookRuns(t, startLog)
	require.Len(t, runs, 1)
	require.Equal(t, map[string]string{
		"GPUMESH_LEASE_ID": "mesh1tenant/3", "GPUMESH_TENANT": "mesh1tenant", "GPUMESH_LEASE_SEQ": "3",
		"GPUMESH_PROVIDER": f.addr.String(), "GPUMESH_GPU_UUIDS": "GPU-a,GPU-b",
		"GPUMESH_SSH_PUBKEY": fixtures.TenantSSHKey, "GPUMESH_CLOSE_REASON": "",
	}, runs[0])
	require.Empty(t, hookRuns(t, endLog))

	require.Len(t, f.sent, 1)
	require.Equal(t, []sdk.Msg{&markettypes.MsgSetLeaseAccess{Provider: f.addr.String(), LeaseId: l.Id,
		Endpoint: "ssh://gpumesh@gpu1.example.com:2201"}}, f.sent[0])

	records, err := h.store.Load()
	require.NoError(t, err)
	require.Equal(t, map[string]Record{"mesh1tenant/3": {ID: "mesh1tenant/3", Tenant: "mesh1tenant", Seq: 3,
		GPUs: []string{"GPU-a", "GPU-b"}, Endpoint: "ssh://gpumesh@gpu1.example.com:2201", Provisioned: t0,
		Phase: PhaseAccessPosted, Posts: true}}, records)
	require.True(t, h.boardLease(t, "mesh1tenant/3").Provisioned)
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.HookRuns.WithLabelValues("on_lease_start", "ok")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.LeasesActive), 0)

	// Next block: the chain has not yet recorded the endpoint, but the lease
	// is provisioned; nothing runs or is sent again.
	h.clock.add(6 * time.Second)
	h.step(t, 2)
	f.active[0].AccessEndpoint = "ssh://gpumesh@gpu1.example.com:2201"
	h.clock.add(6 * time.Second)
	h.step(t, 3)
	require.Len(t, hookRuns(t, startLog), 1)
	require.Len(t, f.sent, 1)

	// A restarted sidecar reads the record and does not provision again.
	h2 := newHarness(t, f, cfg)
	h2.local("GPU-a", "GPU-b")
	h2.store, h2.m.store = h.store, h.store
	h2.m.cfg.OnLeaseStart, h2.m.cfg.OnLeaseEnd = start, end
	h2.step(t, 4)
	require.Len(t, hookRuns(t, startLog), 1)
	require.Len(t, f.sent, 1)
	require.True(t, h2.boardLease(t, "mesh1tenant/3").Provisioned)
}

// A lease provisioned before a crash whose record was not saved is
// provisioned again; when the hook returns the endpoint already on chain,
// nothing is sent. A hook that prints nothing posts nothing.
func TestProvisionSkipsPostingKnownOrEmptyEndpoint(t *testing.T) {
	f := newFakeChain()
	l1 := newLease(f, "mesh1tenant", 1, "GPU-a")
	l1.AccessEndpoint = "ssh://gpumesh@host:2201"
	l2 := newLease(f, "mesh1tenant", 2, "GPU-b")
	f.active = []markettypes.Lease{l1}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a", "GPU-b")
	start, startLog := loggingHook(t, h.dir, "start",
		`[ "$GPUMESH_LEASE_SEQ" = 1 ] && echo "ssh://gpumesh@host:2201"; true`)
	end, _ := loggingHook(t, h.dir, "end", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	h.step(t, 1)
	require.Len(t, hookRuns(t, startLog), 1)
	require.Empty(t, f.sent, "the endpoint is already on chain")
	f.active = append(f.active, l2)
	h.step(t, 2)
	require.Len(t, hookRuns(t, startLog), 2)
	require.Empty(t, f.sent, "an empty endpoint is not posted")
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Len(t, records, 2)
	require.Equal(t, "ssh://gpumesh@host:2201", records["mesh1tenant/1"].Endpoint)
	require.Empty(t, records["mesh1tenant/2"].Endpoint)
}

// A failing on_lease_start is cleaned up with on_lease_end at once (it
// may have started something), and retried with backoff on later blocks.
func TestFailedProvisioningIsRetriedWithBackoff(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 5, "GPU-a")
	f.active = []markettypes.Lease{l}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	okFile := filepath.Join(h.dir, "ok")
	start, startLog := loggingHook(t, h.dir, "start",
		`[ -f "`+okFile+`" ] || { echo "no capacity" >&2; exit 1; }
echo "ssh://gpumesh@host:2205"`)
	end, endLog := loggingHook(t, h.dir, "end", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	h.step(t, 1)
	require.Len(t, hookRuns(t, startLog), 1)
	ends := hookRuns(t, endLog)
	require.Len(t, ends, 1, "the failed start is cleaned up")
	require.Equal(t, "provisioning_failed", ends[0]["GPUMESH_CLOSE_REASON"])
	require.Equal(t, "GPU-a", ends[0]["GPUMESH_GPU_UUIDS"])
	require.Empty(t, f.sent)
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Empty(t, records)
	require.False(t, h.boardLease(t, "mesh1tenant/5").Provisioned)
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.HookRuns.WithLabelValues("on_lease_start", "error")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.HookRuns.WithLabelValues("on_lease_end", "ok")), 0)

	// Within the backoff (at least 400 ms for the first failure) it waits.
	h.clock.add(300 * time.Millisecond)
	h.step(t, 2)
	require.Len(t, hookRuns(t, startLog), 1)

	// After it, the hook runs again, succeeds, and the endpoint is posted.
	require.NoError(t, os.WriteFile(okFile, nil, 0o600))
	h.clock.add(time.Second)
	h.step(t, 3)
	require.Len(t, hookRuns(t, startLog), 2)
	require.Len(t, hookRuns(t, endLog), 1)
	require.Len(t, f.sent, 1)
	require.Equal(t, "ssh://gpumesh@host:2205", f.sent[0][0].(*markettypes.MsgSetLeaseAccess).Endpoint)
	records, err = h.store.Load()
	require.NoError(t, err)
	require.Equal(t, PhaseAccessPosted, records["mesh1tenant/5"].Phase)
	require.Empty(t, h.m.startRetry, "a success clears the backoff")
}

// A lease the records say was provisioned but that is no longer active
// (it closed while the sidecar was down) is torn down with its close reason
// and forgotten; one the chain does not know is kept (the node may lie).
func TestLeaseClosedWhileDownIsTornDown(t *testing.T) {
	f := newFakeChain()
	live := newLease(f, "mesh1live", 1, "GPU-c")
	f.active = []markettypes.Lease{live}
	gone := newLease(f, "mesh1tenant", 4, "GPU-a", "GPU-b")
	gone.State, gone.CloseReason, gone.ClosedAt = markettypes.LEASE_STATE_CLOSED,
		markettypes.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS, t0.Add(time.Hour)
	f.closed[gone.Id.String()] = gone

	h := newHarness(t, f, quietConfig())
	h.local("GPU-a", "GPU-b", "GPU-c", "GPU-d")
	require.NoError(t, h.store.Save(map[string]Record{
		"mesh1live/1":   {ID: "mesh1live/1", Tenant: "mesh1live", Seq: 1, GPUs: []string{"GPU-c"}},
		"mesh1tenant/4": {ID: "mesh1tenant/4", Tenant: "mesh1tenant", Seq: 4, GPUs: []string{"GPU-a", "GPU-b"}},
		"mesh1pruned/8": {ID: "mesh1pruned/8", Tenant: "mesh1pruned", Seq: 8, GPUs: []string{"GPU-d"}},
	}))
	end, endLog := loggingHook(t, h.dir, "end", "")
	h.m.cfg.OnLeaseEnd = end
	start, startLog := loggingHook(t, h.dir, "start", `echo ssh://x`)
	h.m.cfg.OnLeaseStart = start

	h.step(t, 1)
	runs := hookRuns(t, endLog)
	require.Len(t, runs, 1, "the lease confirmed closed")
	require.Equal(t, map[string]string{
		"GPUMESH_LEASE_ID": "mesh1tenant/4", "GPUMESH_TENANT": "mesh1tenant", "GPUMESH_LEASE_SEQ": "4",
		"GPUMESH_PROVIDER": f.addr.String(), "GPUMESH_GPU_UUIDS": "GPU-a,GPU-b", "GPUMESH_SSH_PUBKEY": "",
		"GPUMESH_CLOSE_REASON": "insufficient_funds",
	}, runs[0])
	require.Empty(t, hookRuns(t, startLog), "the live lease was already provisioned")
	require.Empty(t, f.sent)

	records, err := h.store.Load()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"mesh1live/1", "mesh1pruned/8"}, keys(records))
	require.Equal(t, PhaseAccessPosted, records["mesh1live/1"].phase(), "a record from before phases is provisioned")
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.HookRuns.WithLabelValues("on_lease_end", "ok")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.LeasesUnconfirmed), 0)

	h.step(t, 2)
	require.Len(t, hookRuns(t, endLog), 1, "torn down once")

	// The live lease closes now, by the tenant.
	closed := live
	closed.State, closed.CloseReason = markettypes.LEASE_STATE_CLOSED, markettypes.LEASE_CLOSE_REASON_TENANT
	f.closed[closed.Id.String()] = closed
	f.active = nil
	h.step(t, 3)
	runs = hookRuns(t, endLog)
	require.Len(t, runs, 2)
	require.Equal(t, "mesh1live/1", runs[1]["GPUMESH_LEASE_ID"])
	require.Equal(t, "tenant", runs[1]["GPUMESH_CLOSE_REASON"])
	records, err = h.store.Load()
	require.NoError(t, err)
	require.Equal(t, []string{"mesh1pruned/8"}, keys(records))
	require.Empty(t, h.board.Leases())
}

// A failing on_lease_end keeps the record and is retried after a backoff;
// a failed lease query tears nothing down.
func TestFailedTeardownIsRetried(t *testing.T) {
	f := newFakeChain()
	gone := newLease(f, "mesh1tenant", 4, "GPU-a")
	gone.State = markettypes.LEASE_STATE_CLOSED
	f.closed[gone.Id.String()] = gone
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	require.NoError(t, h.store.Save(map[string]Record{
		"mesh1tenant/4": {ID: "mesh1tenant/4", Tenant: "mesh1tenant", Seq: 4, GPUs: []string{"GPU-a"}},
	}))
	okFile := filepath.Join(h.dir, "ok")
	end, endLog := loggingHook(t, h.dir, "end", `[ -f "`+okFile+`" ] || exit 7`)
	start, _ := loggingHook(t, h.dir, "start", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	f.leaseErr = errors.New("rpc error: code = Unavailable desc = connection refused")
	h.step(t, 1)
	require.Empty(t, hookRuns(t, endLog), "no teardown without the chain confirming the close")
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.LeasesUnconfirmed), 0)
	f.leaseErr = nil

	h.step(t, 2)
	require.Len(t, hookRuns(t, endLog), 1)
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Equal(t, PhaseEnding, records["mesh1tenant/4"].Phase, "kept until the hook succeeds")
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.HookRuns.WithLabelValues("on_lease_end", "error")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(h.metrics.TeardownsFailing), 0)
	require.Contains(t, h.board.ProvisioningProblem(), "1 lease teardowns failing")

	h.clock.add(300 * time.Millisecond)
	h.step(t, 3)
	require.Len(t, hookRuns(t, endLog), 1, "within the backoff")

	require.NoError(t, os.WriteFile(okFile, nil, 0o600))
	h.clock.add(time.Second)
	h.step(t, 4)
	require.Len(t, hookRuns(t, endLog), 2)
	records, err = h.store.Load()
	require.NoError(t, err)
	require.Empty(t, records)
	require.Empty(t, h.board.ProvisioningProblem())
}

func keys(m map[string]Record) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func pct(v uint32) *uint32 { return &v }

// Usage is reported once a usage_interval from the lease's start, from the
// telemetry of its GPUs sampled each block: GPU-seconds for whole seconds,
// the mean utilization, the energy used, and a hash of the samples; the
// next period starts where the last ended and counts energy from the last
// reading.
func TestUsageReportedOncePerPeriod(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 2, "GPU-a", "GPU-b")
	other := newLease(f, "mesh1other", 1, "GPU-z") // on another machine of the provider: not in this NVML
	f.active = []markettypes.Lease{l, other}
	cfg := quietConfig()
	cfg.UsageInterval = config.Duration(time.Minute)
	h := newHarness(t, f, cfg)
	var lines []string
	feed := func(at time.Duration, utilA, utilB uint32, energyA, energyB uint64) {
		h.clock.t = t0.Add(at)
		h.tel = map[string]gpus.Telemetry{
			"GPU-a": {UUID: "GPU-a", UtilGPUPct: pct(utilA), EnergyMillijoules: energyA},
			"GPU-b": {UUID: "GPU-b", UtilGPUPct: pct(utilB), EnergyMillijoules: energyB},
			"GPU-x": {UUID: "GPU-x", UtilGPUPct: pct(100), EnergyMillijoules: 1 << 40}, // not leased
		}
		sec := h.clock.t.Unix()
		lines = append(lines, fmt.Sprintf("%d GPU-a %d %d\n", sec, min(utilA, 100), energyA),
			fmt.Sprintf("%d GPU-b %d %d\n", sec, min(utilB, 100), energyB))
	}
	hashOf := func(lines []string) []byte {
		s := sha256.New()
		for _, line := range lines {
			_, _ = s.Write([]byte(line))
		}
		return s.Sum(nil)
	}

	// The first block starts the period at the lease's start (no report on
	// chain yet); its telemetry is not sampled.
	feed(10*time.Second, 99, 99, 1, 1)
	h.step(t, 1)
	require.Equal(t, 1, f.usageReqs, "only the lease on this machine is accounted here")
	lines = nil

	feed(20*time.Second, 50, 70, 1000, 5000)
	h.step(t, 2)
	feed(40*time.Second, 30, 90, 1600, 5900)
	h.step(t, 3)
	require.Empty(t, sentOf[*poctypes.MsgReportUsage](f), "the period is not a minute old")
	feed(61500*time.Millisecond, 10, 160, 2000, 6500) // 160%: clamped to 100
	h.step(t, 4)

	reports := sentOf[*poctypes.MsgReportUsage](f)
	require.Len(t, reports, 1)
	require.Equal(t, &poctypes.MsgReportUsage{Provider: f.addr.String(), LeaseId: l.Id, PeriodEnd: t0.Add(61 * time.Second),
		GpuSeconds: 2 * 61, MeanUtilPct: (50 + 70 + 30 + 90 + 10 + 100) / 6, EnergyMj: (2000 - 1000) + (6500 - 5000),
		SamplesHash: hashOf(lines)}, reports[0][0])
	// The other lease is accounted by the sidecar of the machine holding
	// its first GPU: reported there, not here (no double report).
	require.Len(t, f.sent, 1)
	require.Len(t, f.sent[0], 1)
	require.NotEqual(t, other.Id, f.sent[0][0].(*poctypes.MsgReportUsage).LeaseId)

	bl := h.boardLease(t, "mesh1tenant/2")
	require.Equal(t, uint64(122), bl.GPUSeconds)
	require.Equal(t, uint32(58), bl.MeanUtilPct)
	require.Equal(t, uint64(2500), bl.EnergyMJ)
	require.Equal(t, t0.Add(61*time.Second), bl.LastReport)

	// Nothing more until the next period, which starts at 61 s, is a minute old.
	lines = nil
	feed(70*time.Second, 40, 40, 2300, 6800)
	h.step(t, 5)
	feed(120*time.Second, 60, 60, 2600, 7000)
	h.step(t, 6)
	require.Len(t, sentOf[*poctypes.MsgReportUsage](f), 1)
	feed(122*time.Second, 80, 80, 2700, 7100)
	h.step(t, 7)
	reports = sentOf[*poctypes.MsgReportUsage](f)
	require.Len(t, reports, 2)
	require.Equal(t, &poctypes.MsgReportUsage{Provider: f.addr.String(), LeaseId: l.Id,
		PeriodEnd: t0.Add(122 * time.Second), GpuSeconds: 2 * 61, MeanUtilPct: (40 + 40 + 60 + 60 + 80 + 80) / 6,
		EnergyMj: (2700 - 2000) + (7100 - 6500), SamplesHash: hashOf(lines)}, reports[1][0])
	bl = h.boardLease(t, "mesh1tenant/2")
	require.Equal(t, uint64(244), bl.GPUSeconds, "the board shows the totals since start")
	require.Equal(t, uint64(2500+1300), bl.EnergyMJ)
	require.Equal(t, uint32(60), bl.MeanUtilPct, "and the latest mean")
	require.Equal(t, 1, f.usageReqs, "the chain's usage is read once per lease")
}

// A lease the chain already has usage for continues from its latest
// report's end; a failed report starts over from the chain's record.
func TestUsageContinuesFromChainAndRetriesAfterFailure(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 2, "GPU-a")
	f.active = []markettypes.Lease{l}
	prev := t0.Add(time.Hour)
	f.usage[l.Id.String()] = poctypes.LeaseUsage{LeaseId: l.Id, Latest: poctypes.UsageReport{PeriodEnd: prev}}
	cfg := quietConfig()
	cfg.UsageInterval = config.Duration(time.Minute)
	h := newHarness(t, f, cfg)
	h.tel = map[string]gpus.Telemetry{"GPU-a": {UUID: "GPU-a"}}

	h.clock.t = prev.Add(30 * time.Second)
	h.step(t, 1)
	require.Equal(t, 1, f.usageReqs)
	h.clock.t = prev.Add(59 * time.Second)
	h.step(t, 2)
	require.Empty(t, f.sent, "a minute from the latest report, not from the lease's start")

	f.sendErr = errors.New("rpc error: node unavailable")
	h.clock.t = prev.Add(90 * time.Second)
	require.NoError(t, h.m.Step(context.Background(), h.clock.block(3)), "a failed report does not fail the step")
	require.Len(t, f.sent, 1)
	require.Equal(t, prev.Add(90*time.Second), f.sent[0][0].(*poctypes.MsgReportUsage).PeriodEnd)

	// The chain recorded nothing; the next block reads its usage again and
	// the block after reports the whole period since its latest report.
	f.sendErr = nil
	h.clock.t = prev.Add(96 * time.Second)
	h.step(t, 4)
	require.Equal(t, 2, f.usageReqs)
	require.Len(t, f.sent, 1)
	h.clock.t = prev.Add(102 * time.Second)
	h.step(t, 5)
	require.Len(t, f.sent, 2)
	r := f.sent[1][0].(*poctypes.MsgReportUsage)
	require.Equal(t, prev.Add(102*time.Second), r.PeriodEnd)
	require.Equal(t, uint64(102), r.GpuSeconds)
}

// settled is the result of a withdrawal settling each lease for amount.
func settled(t *testing.T, amount int64) func([]sdk.Msg) *chain.TxResult {
	return func(msgs []sdk.Msg) *chain.TxResult {
		var events sdk.Events
		for _, msg := range msgs {
			w, ok := msg.(*escrowtypes.MsgWithdraw)
			if !ok {
				continue
			}
			for _, id := range w.LeaseIds {
				ev, err := sdk.TypedEventToEvent(&escrowtypes.EventSettled{Id: id, Provider: w.Provider,
					Amount: sdk.NewInt64Coin("ugpu", amount+10), ProviderAmount: sdk.NewInt64Coin("ugpu", amount)})
				require.NoError(t, err)
				events = append(events, ev)
			}
		}
		events = append(events, sdk.NewEvent("message", sdk.NewAttribute("action", "withdraw")))
		return &chain.TxResult{Height: 42, Response: &sdk.TxResponse{Events: events.ToABCIEvents()}}
	}
}

// Earnings are withdrawn for every active lease once per withdraw_interval
// (the first time a full interval after start), and the settled amounts
// are counted per lease and in the metrics.
func TestWithdrawalOnSchedule(t *testing.T) {
	f := newFakeChain()
	l1, l2 := newLease(f, "mesh1a", 1, "GPU-a"), newLease(f, "mesh1b", 2, "GPU-b")
	f.active = []markettypes.Lease{l1, l2}
	f.respond = settled(t, 250)
	cfg := quietConfig()
	cfg.WithdrawInterval = config.Duration(30 * time.Minute)
	h := newHarness(t, f, cfg)
	h.tel = map[string]gpus.Telemetry{"GPU-a": {UUID: "GPU-a"}, "GPU-b": {UUID: "GPU-b"}}
	withdrawals := func() [][]*escrowtypes.MsgWithdraw { return sentOf[*escrowtypes.MsgWithdraw](f) }

	h.step(t, 1)
	h.clock.add(29 * time.Minute)
	h.step(t, 2)
	require.Empty(t, withdrawals(), "not before an interval since start")

	h.clock.add(time.Minute)
	h.step(t, 3)
	require.Len(t, withdrawals(), 1)
	require.Equal(t, &escrowtypes.MsgWithdraw{Provider: f.addr.String(), LeaseIds: []escrowtypes.AccountID{
		{Tenant: "mesh1a", Seq: 1}, {Tenant: "mesh1b", Seq: 2}}}, withdrawals()[0][0])
	require.InDelta(t, 500, testutil.ToFloat64(h.metrics.Earnings.WithLabelValues("ugpu")), 0)
	bl := h.boardLease(t, "mesh1a/1")
	require.Equal(t, "250ugpu", bl.Earned)
	require.Equal(t, t0.Add(30*time.Minute), bl.LastWithdrawal)

	h.clock.add(29 * time.Minute)
	h.step(t, 4)
	require.Len(t, withdrawals(), 1, "not again within the interval")

	h.clock.add(time.Minute)
	h.step(t, 5)
	require.Len(t, withdrawals(), 2)
	require.InDelta(t, 1000, testutil.ToFloat64(h.metrics.Earnings.WithLabelValues("ugpu")), 0)
	require.Equal(t, "500ugpu", h.boardLease(t, "mesh1b/2").Earned)

	// A failed withdrawal is retried on the next block, not an interval later.
	f.sendErr = errors.New("insufficient fees")
	h.clock.add(30 * time.Minute)
	h.step(t, 6)
	require.Len(t, withdrawals(), 3)
	f.sendErr = nil
	h.clock.add(6 * time.Second)
	h.step(t, 7)
	require.Len(t, withdrawals(), 4)
	require.InDelta(t, 1500, testutil.ToFloat64(h.metrics.Earnings.WithLabelValues("ugpu")), 0)

	// Without active leases there is nothing to withdraw.
	f.active = nil
	h.clock.add(time.Hour)
	h.step(t, 8)
	require.Len(t, withdrawals(), 4)
}

// claimed is the result of a claim paying amount.
func claimed(t *testing.T, amount sdk.Coin) func([]sdk.Msg) *chain.TxResult {
	return func([]sdk.Msg) *chain.TxResult {
		anyResp, err := codectypes.NewAnyWithValue(&poctypes.MsgClaimRewardsResponse{Amount: amount})
		require.NoError(t, err)
		bz, err := (&sdk.TxMsgData{MsgResponses: []*codectypes.Any{anyResp}}).Marshal()
		require.NoError(t, err)
		return &chain.TxResult{Height: 43, Response: &sdk.TxResponse{Data: strings.ToUpper(hex.EncodeToString(bz))}}
	}
}

// Capacity rewards are claimed once per claim_interval when some are
// claimable, and never with claim_interval 0.
func TestClaimRewardsOnSchedule(t *testing.T) {
	f := newFakeChain()
	f.respond = claimed(t, sdk.NewInt64Coin("ugpu", 777))
	cfg := quietConfig()
	cfg.ClaimInterval = config.Duration(6 * time.Hour)
	h := newHarness(t, f, cfg)
	claims := func() [][]*poctypes.MsgClaimRewards { return sentOf[*poctypes.MsgClaimRewards](f) }

	f.claimable = sdk.NewInt64Coin("ugpu", 777)
	h.clock.add(5 * time.Hour)
	h.step(t, 1)
	require.Empty(t, claims(), "not before an interval since start")
	h.clock.add(time.Hour)
	h.step(t, 2)
	require.Len(t, claims(), 1)
	require.Equal(t, &poctypes.MsgClaimRewards{Provider: f.addr.String()}, claims()[0][0])
	require.InDelta(t, 777, testutil.ToFloat64(h.metrics.Rewards.WithLabelValues("ugpu")), 0)

	h.clock.add(time.Hour)
	h.step(t, 3)
	require.Len(t, claims(), 1, "once per interval")

	// Nothing claimable: no transaction, and the next look is an interval later.
	f.claimable = sdk.NewInt64Coin("ugpu", 0)
	h.clock.add(5 * time.Hour)
	h.step(t, 4)
	require.Len(t, claims(), 1)
	f.claimable = sdk.NewInt64Coin("ugpu", 5)
	h.clock.add(time.Hour)
	h.step(t, 5)
	require.Len(t, claims(), 1)
	h.clock.add(5 * time.Hour)
	h.step(t, 6)
	require.Len(t, claims(), 2)

	// claim_interval 0 never claims.
	f2 := newFakeChain()
	f2.claimable = sdk.NewInt64Coin("ugpu", 777)
	h2 := newHarness(t, f2, quietConfig())
	h2.clock.add(1000 * time.Hour)
	h2.step(t, 1)
	require.Empty(t, f2.sent)
}

// Run loads the records before the first block, steps on each block and
// applies the hooks' results as they finish, until its context ends; a
// corrupt records file stops it.
func TestRunStepsOnBlocks(t *testing.T) {
	f := newFakeChain()
	f.active = []markettypes.Lease{newLease(f, "mesh1tenant", 1, "GPU-a")}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	start, startLog := loggingHook(t, h.dir, "start", `echo ssh://run`)
	end, _ := loggingHook(t, h.dir, "end", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end
	blocks := make(chan chain.Block)
	h.m.blocks = blocks
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.m.Run(ctx) }()
	blocks <- chain.Block{Height: 1, Time: t0}
	require.Eventually(t, func() bool {
		records, err := NewStore(h.store.path).Load()
		return err == nil && records["mesh1tenant/1"].Phase == PhaseAccessPosted
	}, time.Minute, 10*time.Millisecond, "the hook's result is applied without another block")
	cancel()
	require.NoError(t, <-done)
	require.Len(t, hookRuns(t, startLog), 1)
	require.Len(t, f.sent, 1)

	require.NoError(t, os.WriteFile(h.store.path, []byte("garbage"), 0o600))
	m := New(f, quietConfig(), h.store, h.board, h.metrics, slog.New(slog.NewTextHandler(io.Discard, nil)), blocks,
		func() map[string]gpus.Telemetry { return nil })
	err := m.Run(context.Background())
	require.ErrorContains(t, err, "lease records")
	require.ErrorContains(t, err, h.store.path)
}
