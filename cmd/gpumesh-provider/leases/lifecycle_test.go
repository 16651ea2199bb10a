package leases

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
)

// gaugeValue reads a gauge by its full name from the harness's registry
// (-1 when it is not registered).
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// local gives the harness's machine these GPUs (its NVML inventory).
func (h *harness) local(uuids ...string) {
	for _, u := range uuids {
		h.tel[u] = gpus.Telemetry{UUID: u}
	}
}

// workloadHooks writes a start hook that creates a workload file per
// lease (and logs its runs) and an end hook that removes it.
func workloadHooks(t *testing.T, h *harness, startTail string) (startLog, endLog, workloads string) {
	t.Helper()
	workloads = filepath.Join(h.dir, "workloads")
	require.NoError(t, os.MkdirAll(workloads, 0o700))
	start, startLog := loggingHook(t, h.dir, "start", `touch "`+workloads+`/$GPUMESH_LEASE_SEQ"
`+startTail)
	end, endLog := loggingHook(t, h.dir, "end", `rm -f "`+workloads+`/$GPUMESH_LEASE_SEQ"`)
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end
	return startLog, endLog, workloads
}

func closeLease(f *fakeChain, l markettypes.Lease, reason markettypes.LeaseCloseReason) {
	l.State, l.CloseReason = markettypes.LEASE_STATE_CLOSED, reason
	f.closed[l.Id.String()] = l
	var rest []markettypes.Lease
	for _, a := range f.active {
		if a.Id != l.Id {
			rest = append(rest, a)
		}
	}
	f.active = rest
}

// Attack: the tenant closes the lease while its start hook runs, so the
// access post is refused. The workload the hook started must still be
// torn down.
func TestLeaseClosedDuringProvisioningIsTornDown(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 1, "GPU-a")
	f.active = []markettypes.Lease{l}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	startLog, endLog, workloads := workloadHooks(t, h, `echo ssh://gpumesh@host:2201`)
	f.sendErr = errors.New("rpc error: lease mesh1tenant/1 is not active")

	h.step(t, 1)
	require.Len(t, hookRuns(t, startLog), 1)
	require.FileExists(t, filepath.Join(workloads, "1"))

	// The lease closed on chain (the post was refused because of it).
	closeLease(f, l, markettypes.LEASE_CLOSE_REASON_TENANT)
	f.sendErr = nil
	for i := int64(2); i < 6; i++ {
		h.clock.add(time.Minute)
		h.step(t, i)
	}
	runs := hookRuns(t, endLog)
	require.Len(t, runs, 1, "the end hook runs for what the start hook started")
	require.Equal(t, "tenant", runs[0]["GPUMESH_CLOSE_REASON"])
	require.NoFileExists(t, filepath.Join(workloads, "1"))
	require.Len(t, hookRuns(t, startLog), 1)
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Empty(t, records)
}

// Attack: the start hook starts the workload and then times out (or
// fails). The end hook must clean up before any new start.
func TestStartHookTimeoutRunsEndHook(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 2, "GPU-a")
	f.active = []markettypes.Lease{l}
	cfg := quietConfig()
	cfg.HookTimeout = config.Duration(300 * time.Millisecond)
	h := newHarness(t, f, cfg)
	h.local("GPU-a")
	okFile := filepath.Join(h.dir, "ok")
	startLog, endLog, workloads := workloadHooks(t, h, `[ -f "`+okFile+`" ] || sleep 30
echo ssh://gpumesh@host:2202`)

	h.step(t, 1)
	require.Len(t, hookRuns(t, startLog), 1)
	require.Len(t, hookRuns(t, endLog), 1, "the timed-out start is cleaned up at once")
	require.NoFileExists(t, filepath.Join(workloads, "2"))
	require.Empty(t, f.sent)

	// Once the cleanup is done the lease, still active, is provisioned afresh.
	require.NoError(t, os.WriteFile(okFile, nil, 0o600))
	h.clock.add(time.Minute)
	h.step(t, 2)
	h.clock.add(time.Minute)
	h.step(t, 3)
	require.Len(t, hookRuns(t, startLog), 2)
	require.Len(t, hookRuns(t, endLog), 1)
	require.FileExists(t, filepath.Join(workloads, "2"))
	require.Len(t, f.sent, 1)
}

// Attack: the sidecar crashed after recording the lease and while its
// start hook ran (the record says "starting"). On restart the partial
// workload is cleaned up before the lease is provisioned again.
func TestCrashDuringStartIsReconciled(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 3, "GPU-a")
	f.active = []markettypes.Lease{l}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	startLog, endLog, workloads := workloadHooks(t, h, `echo ssh://gpumesh@host:2203`)
	require.NoError(t, os.WriteFile(filepath.Join(workloads, "3"), nil, 0o600)) // half started
	require.NoError(t, os.WriteFile(h.store.path, []byte(`[{"id": "mesh1tenant/3", "tenant": "mesh1tenant", "seq": 3,
	 "gpus": ["GPU-a"], "endpoint": "", "provisioned_at": "0001-01-01T00:00:00Z", "phase": "starting"}]`), 0o600))

	h.step(t, 1)
	require.Len(t, hookRuns(t, endLog), 1, "the interrupted start is cleaned up first")
	h.clock.add(time.Minute)
	h.step(t, 2)
	h.clock.add(time.Minute)
	h.step(t, 3)
	require.Len(t, hookRuns(t, startLog), 1, "then provisioned afresh")
	require.FileExists(t, filepath.Join(workloads, "3"))
	require.Len(t, f.sent, 1)
}

// Attack on the retry path: a failed access post must not run the start
// hook again (a create-fresh start hook would fail or make a second
// workload); only the post is retried.
func TestFailedAccessPostRetriesOnlyThePost(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1tenant", 4, "GPU-a")
	f.active = []markettypes.Lease{l}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	startLog, endLog, _ := workloadHooks(t, h, `echo ssh://gpumesh@host:2204`)
	f.sendErr = errors.New("out of gas")

	h.step(t, 1)
	require.Len(t, f.sent, 1)
	for i := int64(2); i < 5; i++ {
		h.clock.add(time.Minute)
		h.step(t, i)
	}
	require.Len(t, f.sent, 4, "the post is retried")
	f.sendErr = nil
	h.clock.add(time.Minute)
	h.step(t, 5)
	h.clock.add(time.Minute)
	h.step(t, 6)
	require.Len(t, f.sent, 5, "and stops once it succeeded")
	require.Len(t, hookRuns(t, startLog), 1, "the start hook ran once")
	require.Empty(t, hookRuns(t, endLog))
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Equal(t, "ssh://gpumesh@host:2204", records["mesh1tenant/4"].Endpoint)
}

// A teardown that keeps failing is retried forever (the backoff is capped
// at five minutes), the record kept, and the alert gauge set.
func TestFailedTeardownRetriedForeverWithAlert(t *testing.T) {
	f := newFakeChain()
	gone := newLease(f, "mesh1tenant", 5, "GPU-a")
	closeLease(f, gone, markettypes.LEASE_CLOSE_REASON_EXPIRED)
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	require.NoError(t, h.store.Save(map[string]Record{
		"mesh1tenant/5": {ID: "mesh1tenant/5", Tenant: "mesh1tenant", Seq: 5, GPUs: []string{"GPU-a"}},
	}))
	okFile := filepath.Join(h.dir, "ok")
	end, endLog := loggingHook(t, h.dir, "end", `[ -f "`+okFile+`" ] || exit 7`)
	start, _ := loggingHook(t, h.dir, "start", `echo ssh://x`)
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	for i := int64(1); i <= 40; i++ {
		h.step(t, i)
		h.clock.add(6*time.Minute + time.Second) // the cap (5 min) plus its jitter (20 %)
	}
	require.Len(t, hookRuns(t, endLog), 40, "every attempt, however many failed before")
	require.InDelta(t, 1, gaugeValue(t, h.reg, "gpumesh_provider_teardowns_failing"), 0)
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Contains(t, records, "mesh1tenant/5")

	require.NoError(t, os.WriteFile(okFile, nil, 0o600))
	h.step(t, 41)
	require.Len(t, hookRuns(t, endLog), 41)
	require.InDelta(t, 0, gaugeValue(t, h.reg, "gpumesh_provider_teardowns_failing"), 0)
	records, err = h.store.Load()
	require.NoError(t, err)
	require.Empty(t, records)
}

// Attack: the node invents leases. Only well-formed active leases of this
// provider on GPUs of this machine are provisioned, with only the local
// GPUs; a lease claiming a GPU another live lease holds is refused.
func TestInventedLeasesAreNotProvisioned(t *testing.T) {
	f := newFakeChain()
	foreign := newLease(f, "mesh1foreign", 1, "GPU-elsewhere")
	other := newLease(f, "mesh1other", 2, "GPU-a")
	other.Provider = "mesh1someoneelse"
	closed := newLease(f, "mesh1closed", 3, "GPU-a")
	closed.State = markettypes.LEASE_STATE_CLOSED
	badID := newLease(f, "mesh1;rm -rf /", 4, "GPU-a")
	zeroSeq := newLease(f, "mesh1zero", 0, "GPU-a")
	mixed := newLease(f, "mesh1mixed", 6, "GPU-remote", "GPU-a") // two machines of one provider
	f.active = []markettypes.Lease{foreign, other, closed, badID, zeroSeq, mixed}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a", "GPU-b")
	start, startLog := loggingHook(t, h.dir, "start", `echo ssh://gpumesh@host:22`)
	end, _ := loggingHook(t, h.dir, "end", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	h.step(t, 1)
	runs := hookRuns(t, startLog)
	require.Len(t, runs, 1)
	require.Equal(t, "mesh1mixed/6", runs[0]["GPUMESH_LEASE_ID"])
	require.Equal(t, "GPU-a", runs[0]["GPUMESH_GPU_UUIDS"], "only this machine's GPUs")
	require.Empty(t, f.sent, "the machine holding the lease's first GPU posts the endpoint")

	// A second lease on GPU-a (the node lies) is refused while mixed holds it.
	dup := newLease(f, "mesh1dup", 7, "GPU-a", "GPU-b")
	f.active = append(f.active, dup)
	h.clock.add(time.Minute)
	h.step(t, 2)
	require.Len(t, hookRuns(t, startLog), 1)
}

// Attack: the node omits a live lease from the active list (or says it
// does not exist). It is not torn down; a lease the chain says is closed
// is.
func TestOmittedLiveLeaseIsNotTornDown(t *testing.T) {
	f := newFakeChain()
	live := newLease(f, "mesh1live", 1, "GPU-a")
	f.closed[live.Id.String()] = live // still ACTIVE when asked directly
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a", "GPU-b")
	require.NoError(t, h.store.Save(map[string]Record{
		"mesh1live/1":  {ID: "mesh1live/1", Tenant: "mesh1live", Seq: 1, GPUs: []string{"GPU-a"}},
		"mesh1ghost/2": {ID: "mesh1ghost/2", Tenant: "mesh1ghost", Seq: 2, GPUs: []string{"GPU-b"}},
	}))
	end, endLog := loggingHook(t, h.dir, "end", "")
	start, _ := loggingHook(t, h.dir, "start", `echo ssh://x`)
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	h.step(t, 1)
	h.clock.add(time.Minute)
	h.step(t, 2)
	require.Empty(t, hookRuns(t, endLog), "neither is confirmed closed")
	require.InDelta(t, 2, gaugeValue(t, h.reg, "gpumesh_provider_leases_unconfirmed"), 0)
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Len(t, records, 2)

	closeLease(f, live, markettypes.LEASE_CLOSE_REASON_TENANT)
	h.clock.add(time.Minute)
	h.step(t, 3)
	runs := hookRuns(t, endLog)
	require.Len(t, runs, 1)
	require.Equal(t, "mesh1live/1", runs[0]["GPUMESH_LEASE_ID"])
	require.InDelta(t, 1, gaugeValue(t, h.reg, "gpumesh_provider_leases_unconfirmed"), 0)
}

// Two leases' start hooks run at the same time: each waits for the other
// to have started (a barrier through files), which serial hooks never
// pass.
func TestSlowHooksRunConcurrently(t *testing.T) {
	f := newFakeChain()
	a, b := newLease(f, "mesh1a", 1, "GPU-a"), newLease(f, "mesh1b", 2, "GPU-b")
	f.active = []markettypes.Lease{a, b}
	cfg := quietConfig()
	cfg.HookTimeout = config.Duration(20 * time.Second)
	h := newHarness(t, f, cfg)
	h.local("GPU-a", "GPU-b")
	barrier := filepath.Join(h.dir, "barrier")
	require.NoError(t, os.MkdirAll(barrier, 0o700))
	start, startLog := loggingHook(t, h.dir, "start", `touch "`+barrier+`/$GPUMESH_LEASE_SEQ"
other=1; [ "$GPUMESH_LEASE_SEQ" = 1 ] && other=2
i=0
while [ ! -f "`+barrier+`/$other" ]; do
  i=$((i+1)); [ $i -gt 100 ] && { echo "the other hook never started" >&2; exit 1; }
  sleep 0.1
done
echo "ssh://gpumesh@host:220$GPUMESH_LEASE_SEQ"`)
	end, _ := loggingHook(t, h.dir, "end", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end

	h.step(t, 1)
	require.Len(t, hookRuns(t, startLog), 2)
	require.Len(t, f.sent, 2, "both hooks passed the barrier and their endpoints were posted")
}

// Attack: the sidecar's environment (its keyring passphrase, cloud
// credentials) leaks into the hooks. A hook sees only PATH, LANG and the
// lease's variables.
func TestHookEnvironmentHasNoSidecarSecrets(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	t.Setenv("GPUMESH_KEYRING_PASSPHRASE", "hunter2")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "AKIAsecret")
	script := writeScript(t, dir, "dump.sh", `env > "`+envFile+`"`)
	_, err := RunHook(t.Context(), script, HookEnv{LeaseID: "mesh1t/1", Tenant: "mesh1t", Seq: 1}, 5*time.Second)
	require.NoError(t, err)
	got := readEnvFile(t, envFile)
	require.NotContains(t, got, "GPUMESH_KEYRING_PASSPHRASE")
	require.NotContains(t, got, "AWS_SECRET_ACCESS_KEY")
	require.Equal(t, os.Getenv("PATH"), got["PATH"])
	require.Equal(t, "mesh1t/1", got["GPUMESH_LEASE_ID"])
}

// A hook program that is missing, not a regular file or not executable is
// an error naming the field and the path; so is one hook without the
// other. A program others may rewrite is only a warning.
func TestCheckHooks(t *testing.T) {
	dir := t.TempDir()
	start := writeScript(t, dir, "start.sh", "exit 0\n")
	end := writeScript(t, dir, "end.sh", "exit 0\n")
	plain := filepath.Join(dir, "plain.sh")
	require.NoError(t, os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o600))
	missing := filepath.Join(dir, "missing.sh")

	require.NoError(t, CheckHooks(config.Leases{}, nil), "no hooks is fine")
	require.NoError(t, CheckHooks(config.Leases{OnLeaseStart: start + " --mode docker", OnLeaseEnd: end}, nil))

	for _, tc := range []struct {
		cfg  config.Leases
		want []string
	}{
		{config.Leases{OnLeaseStart: missing, OnLeaseEnd: end}, []string{"leases.on_lease_start", missing, "no such file"}},
		{config.Leases{OnLeaseStart: start, OnLeaseEnd: plain}, []string{"leases.on_lease_end", plain, "not executable"}},
		{config.Leases{OnLeaseStart: dir, OnLeaseEnd: end}, []string{"leases.on_lease_start", dir, "not a regular file"}},
		{config.Leases{OnLeaseStart: start}, []string{"set both or neither", start}},
		{config.Leases{OnLeaseEnd: end}, []string{"set both or neither", end}},
	} {
		err := CheckHooks(tc.cfg, nil)
		require.Error(t, err, "%+v", tc.cfg)
		for _, w := range tc.want {
			require.ErrorContains(t, err, w)
		}
	}

	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	require.NoError(t, os.Chmod(end, 0o777)) //nolint:gosec // the case under test
	require.NoError(t, CheckHooks(config.Leases{OnLeaseStart: start, OnLeaseEnd: end}, log))
	require.Contains(t, logged.String(), "writable by group or others")
	require.Contains(t, logged.String(), end)
	require.NotContains(t, logged.String(), "program="+start)
}

// A hook removed while the sidecar runs stops provisioning (no new start
// hook runs) and closes the bidder's gate, naming the path; teardowns
// still run. Putting it back opens the gate again.
func TestBrokenHookStopsProvisioningAndBidding(t *testing.T) {
	f := newFakeChain()
	a := newLease(f, "mesh1a", 1, "GPU-a")
	f.active = []markettypes.Lease{a}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a", "GPU-b")
	startLog, _, _ := workloadHooks(t, h, `echo ssh://gpumesh@host:22`)
	h.step(t, 1)
	require.Len(t, hookRuns(t, startLog), 1)
	require.Empty(t, h.board.ProvisioningProblem())

	startPath := h.m.cfg.OnLeaseStart
	require.NoError(t, os.Rename(startPath, startPath+".moved"))
	f.active = append(f.active, newLease(f, "mesh1b", 2, "GPU-b"))
	h.clock.add(time.Minute)
	h.step(t, 2)
	require.Len(t, hookRuns(t, startLog), 1, "no start hook while a hook is missing")
	require.Contains(t, h.board.ProvisioningProblem(), startPath)

	require.NoError(t, os.Rename(startPath+".moved", startPath))
	h.clock.add(time.Minute)
	h.step(t, 3)
	require.Len(t, hookRuns(t, startLog), 2)
	require.Empty(t, h.board.ProvisioningProblem())
}

// The operator's leases.hook_env reaches the hooks; the sidecar's own
// environment does not, and the lease's variables win.
func TestHookEnvFromConfig(t *testing.T) {
	t.Setenv("GPUMESH_KEYRING_PASSPHRASE", "hunter2")
	t.Setenv("GPUMESH_PUBLIC_HOST", "from-the-sidecar-env")
	f := newFakeChain()
	f.active = []markettypes.Lease{newLease(f, "mesh1a", 1, "GPU-a")}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	envFile := filepath.Join(h.dir, "env")
	start := writeScript(t, h.dir, "start.sh", `env > "`+envFile+`"`)
	end := writeScript(t, h.dir, "end.sh", "")
	h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd = start, end
	h.m.cfg.HookEnv = map[string]string{"GPUMESH_PUBLIC_HOST": "gpu1.example.com", "GPUMESH_LEASE_ID": "forged"}

	h.step(t, 1)
	got := readEnvFile(t, envFile)
	require.Equal(t, "gpu1.example.com", got["GPUMESH_PUBLIC_HOST"])
	require.Equal(t, "mesh1a/1", got["GPUMESH_LEASE_ID"], "config validation refuses it; the runner still lets the lease win")
	require.Equal(t, "C.UTF-8", got["LANG"])
	require.NotContains(t, got, "GPUMESH_KEYRING_PASSPHRASE")
	require.NotContains(t, got, "HOME")
}

// The config refuses hook_env names that are not variable names or that
// the sidecar sets itself, one hook without the other, and a concurrency
// outside [1, 256].
func TestHookConfigValidation(t *testing.T) {
	base := config.Default()
	base.Leases.OnLeaseStart, base.Leases.OnLeaseEnd = "/etc/gpumesh/start.sh", "/etc/gpumesh/end.sh"
	base.Leases.HookEnv = map[string]string{"GPUMESH_PUBLIC_HOST": "gpu1.example.com", "HOME": "/root"}
	require.NoError(t, base.Validate())
	require.Equal(t, 8, config.Default().Leases.MaxConcurrentHooks)

	for _, tc := range []struct {
		edit func(*config.Leases)
		want string
	}{
		{func(l *config.Leases) { l.HookEnv = map[string]string{"GPUMESH_TENANT": "x"} }, "leases.hook_env.GPUMESH_TENANT"},
		{func(l *config.Leases) { l.HookEnv = map[string]string{"BAD-NAME": "x"} }, `"BAD-NAME" is not a variable name`},
		{func(l *config.Leases) { l.HookEnv = map[string]string{"A": "nul\x00"} }, "leases.hook_env.A"},
		{func(l *config.Leases) { l.OnLeaseEnd = "" }, "set both on_lease_start and on_lease_end, or neither"},
		{func(l *config.Leases) { l.MaxConcurrentHooks = 0 }, "leases.max_concurrent_hooks"},
		{func(l *config.Leases) { l.MaxConcurrentHooks = 1000 }, "leases.max_concurrent_hooks"},
	} {
		c := base
		c.Leases.HookEnv = maps.Clone(base.Leases.HookEnv)
		tc.edit(&c.Leases)
		require.ErrorContains(t, c.Validate(), tc.want)
	}

	// The template writes hook_env and max_concurrent_hooks back readably.
	bz, err := config.Render(base)
	require.NoError(t, err)
	parsed, err := config.Parse(bz)
	require.NoError(t, err)
	require.Equal(t, base.Leases.HookEnv, parsed.Leases.HookEnv)
	require.Equal(t, 8, parsed.Leases.MaxConcurrentHooks)
	bz, err = config.Render(config.Default())
	require.NoError(t, err)
	parsed, err = config.Parse(bz)
	require.NoError(t, err)
	require.Empty(t, parsed.Leases.HookEnv)
}

// Shutdown kills the hooks in flight and waits for them; the record stays
// "starting", and the next manager over the same store cleans it up before
// provisioning the lease again.
func TestShutdownKillsHooksAndRestartReconciles(t *testing.T) {
	f := newFakeChain()
	f.active = []markettypes.Lease{newLease(f, "mesh1a", 1, "GPU-a")}
	cfg := quietConfig()
	cfg.HookTimeout = config.Duration(time.Minute)
	h := newHarness(t, f, cfg)
	h.local("GPU-a")
	started := filepath.Join(h.dir, "started")
	okFile := filepath.Join(h.dir, "ok")
	startLog, endLog, _ := workloadHooks(t, h, `touch "`+started+`"
[ -f "`+okFile+`" ] || sleep 60
echo ssh://gpumesh@host:22`)
	blocks := make(chan chain.Block)
	h.m.blocks = blocks
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.m.Run(ctx) }()
	blocks <- chain.Block{Height: 1, Time: t0}
	require.Eventually(t, func() bool { _, err := os.Stat(started); return err == nil }, time.Minute, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done, "Run returns once the killed hook is drained")
	records, err := h.store.Load()
	require.NoError(t, err)
	require.Equal(t, PhaseStarting, records["mesh1a/1"].Phase)
	require.Empty(t, hookRuns(t, endLog))

	require.NoError(t, os.WriteFile(okFile, nil, 0o600))
	h2 := newHarness(t, f, cfg)
	h2.local("GPU-a")
	h2.store, h2.m.store = h.store, h.store
	h2.m.cfg.OnLeaseStart, h2.m.cfg.OnLeaseEnd = h.m.cfg.OnLeaseStart, h.m.cfg.OnLeaseEnd
	h2.step(t, 2)
	ends := hookRuns(t, endLog)
	require.Len(t, ends, 1)
	require.Equal(t, "provisioning_interrupted", ends[0]["GPUMESH_CLOSE_REASON"])
	h2.step(t, 3)
	require.Len(t, hookRuns(t, startLog), 2)
	require.Len(t, f.sent, 1)
}

// A lease's end hook never runs while its start hook does: the lease
// closes while the start hook is blocked, and its teardown waits.
func TestNoTwoHooksForOneLease(t *testing.T) {
	f := newFakeChain()
	l := newLease(f, "mesh1a", 1, "GPU-a")
	f.active = []markettypes.Lease{l}
	h := newHarness(t, f, quietConfig())
	h.local("GPU-a")
	started, release := filepath.Join(h.dir, "started"), filepath.Join(h.dir, "release")
	startLog, endLog, workloads := workloadHooks(t, h, `touch "`+started+`"
while [ ! -f "`+release+`" ]; do sleep 0.05; done
echo ssh://gpumesh@host:22`)
	h.m.cfg.HookTimeout = config.Duration(time.Minute)

	require.NoError(t, h.m.Step(context.Background(), h.clock.block(1)))
	require.Eventually(t, func() bool { _, err := os.Stat(started); return err == nil }, time.Minute, 10*time.Millisecond)
	closeLease(f, l, markettypes.LEASE_CLOSE_REASON_TENANT)
	h.clock.add(time.Minute)
	require.NoError(t, h.m.Step(context.Background(), h.clock.block(2)))
	require.Empty(t, hookRuns(t, endLog), "the start hook still runs")
	require.Len(t, h.m.inflight, 1)

	require.NoError(t, os.WriteFile(release, nil, 0o600))
	h.settle(t)
	h.clock.add(time.Minute)
	h.step(t, 3)
	require.Len(t, hookRuns(t, startLog), 1)
	require.Len(t, hookRuns(t, endLog), 1)
	require.NoFileExists(t, filepath.Join(workloads, "1"))
}
