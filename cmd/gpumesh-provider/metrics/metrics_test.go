package metrics

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

var (
	util87 = uint32(87)
	util42 = uint32(42)
	gpu0   = state.GPU{
		GPU: gpus.GPU{Index: 0, UUID: "GPU-aaaa", Name: "NVIDIA H100 80GB HBM3", Class: "h100-sxm", Healthy: true, Health: "ok"},
		Telemetry: gpus.Telemetry{UtilGPUPct: &util87, UtilMemPct: &util42, FBUsedMiB: 40960, FBTotalMiB: 81559,
			PowerMilliwatts: 312500, EnergyMillijoules: 9876543, TempC: 61, SMClockMHz: 1980, MemClockMHz: 2619},
	}
	// gpu1 is in MIG mode (no utilization), unhealthy, and reports more
	// memory used than it has.
	gpu1 = state.GPU{
		GPU:       gpus.GPU{Index: 1, UUID: "GPU-bbbb", Name: "NVIDIA A100-SXM4-40GB", Class: "a100-sxm", MIG: true, Health: "xid 79"},
		Telemetry: gpus.Telemetry{FBUsedMiB: 50000, FBTotalMiB: 40960, PowerMilliwatts: 1, TempC: 33, ECCUncorrected: 3},
	}
)

func TestNewRegistersOnInjectedRegistryOnly(t *testing.T) {
	reg1, reg2 := prometheus.NewRegistry(), prometheus.NewRegistry()
	var m1, m2 *Metrics
	require.NotPanics(t, func() { m1 = New(reg1) })
	require.NotPanics(t, func() { m2 = New(reg2) })
	// Registering twice on one registry collides, so New really registers there.
	require.Panics(t, func() { New(reg1) })

	m1.BidsPlaced.WithLabelValues("h100-sxm").Inc()
	m1.BidsPlaced.WithLabelValues("h100-sxm").Inc()
	m1.BidsWon.Inc()
	m1.BidsLost.Add(3)
	m1.BidsClosed.WithLabelValues("price").Inc()
	m1.LeasesActive.Set(4)
	m1.Challenges.WithLabelValues("passed").Inc()
	m1.ProofStage.WithLabelValues("prove").Observe(0.5)
	m1.TxFailures.WithLabelValues("check_tx", "market").Inc()
	m1.Earnings.WithLabelValues("uusdc").Add(1500)
	m1.Rewards.WithLabelValues("umesh").Add(7)
	m1.HookRuns.WithLabelValues("on_lease_start", "ok").Inc()
	m1.ChainHeight.Set(12345)
	m2.ChainHeight.Set(1)

	require.NoError(t, testutil.GatherAndCompare(reg1, strings.NewReader(`
# HELP gpumesh_provider_bids_placed_total Bids placed, by GPU class.
# TYPE gpumesh_provider_bids_placed_total counter
gpumesh_provider_bids_placed_total{class="h100-sxm"} 2
# HELP gpumesh_provider_bids_won_total Bids that became leases.
# TYPE gpumesh_provider_bids_won_total counter
gpumesh_provider_bids_won_total 1
# HELP gpumesh_provider_bids_lost_total Bids closed by the chain without a lease (lost, order closed or expired, GPUs unavailable).
# TYPE gpumesh_provider_bids_lost_total counter
gpumesh_provider_bids_lost_total 3
# HELP gpumesh_provider_bids_withdrawn_total Bids the sidecar withdrew, by reason.
# TYPE gpumesh_provider_bids_withdrawn_total counter
gpumesh_provider_bids_withdrawn_total{reason="price"} 1
# HELP gpumesh_provider_leases_active Active leases.
# TYPE gpumesh_provider_leases_active gauge
gpumesh_provider_leases_active 4
# HELP gpumesh_provider_challenges_total Resolved challenges, by outcome (passed, failed, missed).
# TYPE gpumesh_provider_challenges_total counter
gpumesh_provider_challenges_total{outcome="passed"} 1
# HELP gpumesh_provider_tx_failures_total Failed transactions, by stage (simulate, check_tx, deliver_tx, timeout, broadcast, sequence) and codespace.
# TYPE gpumesh_provider_tx_failures_total counter
gpumesh_provider_tx_failures_total{codespace="market",stage="check_tx"} 1
# HELP gpumesh_provider_earnings_total Lease payments withdrawn, in base units, by denom.
# TYPE gpumesh_provider_earnings_total counter
gpumesh_provider_earnings_total{denom="uusdc"} 1500
# HELP gpumesh_provider_rewards_claimed_total Capacity rewards claimed, in base units, by denom.
# TYPE gpumesh_provider_rewards_claimed_total counter
gpumesh_provider_rewards_claimed_total{denom="umesh"} 7
# HELP gpumesh_provider_hook_runs_total Provisioning hook runs, by hook and result.
# TYPE gpumesh_provider_hook_runs_total counter
gpumesh_provider_hook_runs_total{hook="on_lease_start",result="ok"} 1
# HELP gpumesh_provider_chain_height Latest block height seen.
# TYPE gpumesh_provider_chain_height gauge
gpumesh_provider_chain_height 12345
`), "gpumesh_provider_bids_placed_total", "gpumesh_provider_bids_won_total", "gpumesh_provider_bids_lost_total",
		"gpumesh_provider_bids_withdrawn_total", "gpumesh_provider_leases_active", "gpumesh_provider_challenges_total",
		"gpumesh_provider_tx_failures_total", "gpumesh_provider_earnings_total", "gpumesh_provider_rewards_claimed_total",
		"gpumesh_provider_hook_runs_total", "gpumesh_provider_chain_height"))
	require.Equal(t, 1, testutil.CollectAndCount(m1.ProofStage, "gpumesh_provider_proof_stage_seconds"))

	// The two registries are independent.
	require.InDelta(t, 1.0, testutil.ToFloat64(m2.ChainHeight), 0)
	require.InDelta(t, 0.0, testutil.ToFloat64(m2.BidsWon), 0)

	// Nothing went to the global registry.
	families, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range families {
		require.False(t, strings.HasPrefix(f.GetName(), "gpumesh_") || strings.HasPrefix(f.GetName(), "DCGM_"),
			"%s is on the default registry", f.GetName())
	}
}

const gpuFamilies = `
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 87
# HELP DCGM_FI_DEV_MEM_COPY_UTIL Memory utilization (in %).
# TYPE DCGM_FI_DEV_MEM_COPY_UTIL gauge
DCGM_FI_DEV_MEM_COPY_UTIL{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 42
# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 40960
DCGM_FI_DEV_FB_USED{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 50000
# HELP DCGM_FI_DEV_FB_FREE Framebuffer memory free (in MiB).
# TYPE DCGM_FI_DEV_FB_FREE gauge
DCGM_FI_DEV_FB_FREE{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 40599
# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 312.5
DCGM_FI_DEV_POWER_USAGE{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 0.001
# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION gauge
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 9.876543e+06
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 0
# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).
# TYPE DCGM_FI_DEV_GPU_TEMP gauge
DCGM_FI_DEV_GPU_TEMP{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 61
DCGM_FI_DEV_GPU_TEMP{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 33
# HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).
# TYPE DCGM_FI_DEV_SM_CLOCK gauge
DCGM_FI_DEV_SM_CLOCK{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 1980
DCGM_FI_DEV_SM_CLOCK{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 0
# HELP DCGM_FI_DEV_MEM_CLOCK Memory clock frequency (in MHz).
# TYPE DCGM_FI_DEV_MEM_CLOCK gauge
DCGM_FI_DEV_MEM_CLOCK{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 2619
DCGM_FI_DEV_MEM_CLOCK{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 0
# HELP DCGM_FI_DEV_ECC_DBE_VOL_TOTAL Uncorrected (double-bit) volatile ECC errors.
# TYPE DCGM_FI_DEV_ECC_DBE_VOL_TOTAL gauge
DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 0
DCGM_FI_DEV_ECC_DBE_VOL_TOTAL{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 3
# HELP gpumesh_provider_gpu_healthy 1 when the GPU is healthy and offered, 0 when withdrawn.
# TYPE gpumesh_provider_gpu_healthy gauge
gpumesh_provider_gpu_healthy{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 1
gpumesh_provider_gpu_healthy{UUID="GPU-bbbb",class="a100-sxm",gpu="1",modelName="NVIDIA A100-SXM4-40GB"} 0
`

var gpuFamilyNames = []string{"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_MEM_COPY_UTIL", "DCGM_FI_DEV_FB_USED",
	"DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "DCGM_FI_DEV_GPU_TEMP",
	"DCGM_FI_DEV_SM_CLOCK", "DCGM_FI_DEV_MEM_CLOCK", "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "gpumesh_provider_gpu_healthy"}

func TestObserveGPUsSetsDCGMGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	// Utilization is absent for the MIG GPU, free memory for the GPU that
	// reports more used than total, power is in watts.
	m.ObserveGPUs([]state.GPU{gpu0, gpu1})
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(gpuFamilies), gpuFamilyNames...))

	// A GPU that is gone is dropped; the remaining one takes the new values.
	g := gpu0
	u := uint32(3)
	g.Telemetry.UtilGPUPct = &u
	g.Telemetry.PowerMilliwatts = 100000
	g.Healthy = false
	m.ObserveGPUs([]state.GPU{g})
	labels := []string{"0", "GPU-aaaa", "NVIDIA H100 80GB HBM3", "h100-sxm"}
	require.InDelta(t, 3.0, testutil.ToFloat64(m.GPUUtil.WithLabelValues(labels...)), 0)
	require.InDelta(t, 100.0, testutil.ToFloat64(m.Power.WithLabelValues(labels...)), 0)
	require.InDelta(t, 0.0, testutil.ToFloat64(m.GPUHealth.WithLabelValues(labels...)), 0)
	for _, name := range gpuFamilyNames {
		n, err := testutil.GatherAndCount(reg, name)
		require.NoError(t, err)
		require.Equal(t, 1, n, name)
	}

	m.ObserveGPUs(nil)
	for _, name := range gpuFamilyNames {
		n, err := testutil.GatherAndCount(reg, name)
		require.NoError(t, err)
		require.Zero(t, n, name)
	}
}

func board(connected, nvmlOK bool, list ...state.GPU) *state.Board {
	b := state.NewBoard()
	c := state.Chain{Connected: connected, Height: 777}
	if !connected {
		c.LastError = "rpc error: code = Unavailable"
	}
	b.SetChain(c)
	b.SetGPUs(list, nvmlOK, "NVML 12.550")
	return b
}

func TestCheckHealth(t *testing.T) {
	before := time.Now().UTC()
	h := CheckHealth(board(true, true, gpu1, gpu0))
	require.True(t, h.OK)
	require.True(t, h.Chain)
	require.True(t, h.NVML)
	require.Equal(t, int64(777), h.Height)
	require.Empty(t, h.ChainError)
	require.Equal(t, "NVML 12.550", h.NVMLDetail)
	require.Equal(t, 2, h.GPUs)
	require.Equal(t, []string{"GPU-bbbb: xid 79"}, h.Unhealthy)
	require.False(t, h.CheckedTime.Before(before))
	require.Equal(t, time.UTC, h.CheckedTime.Location())

	for name, tc := range map[string]struct {
		b         *state.Board
		unhealthy []string
	}{
		"chain down":     {board(false, true, gpu0), nil},
		"nvml down":      {board(true, false, gpu0), nil},
		"no healthy gpu": {board(true, true, gpu1), []string{"GPU-bbbb: xid 79"}},
		"no gpus":        {board(true, true), nil},
		"empty board":    {state.NewBoard(), nil},
	} {
		h := CheckHealth(tc.b)
		require.False(t, h.OK, name)
		require.Equal(t, tc.unhealthy, h.Unhealthy, name)
	}
	h = CheckHealth(board(false, true, gpu0))
	require.False(t, h.Chain)
	require.Equal(t, "rpc error: code = Unavailable", h.ChainError)
}

func healthz(t *testing.T, b *state.Board) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(prometheus.NewRegistry(), b).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	return rec.Code, body
}

func TestHealthzHealthy(t *testing.T) {
	code, body := healthz(t, board(true, true, gpu0, gpu1))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, true, body["ok"])
	require.Equal(t, true, body["chain_connected"])
	require.Equal(t, true, body["nvml_healthy"])
	require.InDelta(t, 777.0, body["height"], 0)
	require.InDelta(t, 2.0, body["gpus"], 0)
	require.Equal(t, "NVML 12.550", body["nvml"])
	require.Equal(t, []any{"GPU-bbbb: xid 79"}, body["unhealthy_gpus"])
	require.NotContains(t, body, "chain_error")
	checked, ok := body["checked_at"].(string)
	require.True(t, ok)
	_, err := time.Parse(time.RFC3339Nano, checked)
	require.NoError(t, err)
}

func TestHealthzUnhealthy(t *testing.T) {
	code, body := healthz(t, board(false, true, gpu0))
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, false, body["ok"])
	require.Equal(t, false, body["chain_connected"])
	require.Equal(t, "rpc error: code = Unavailable", body["chain_error"])

	code, body = healthz(t, board(true, false, gpu0))
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, false, body["ok"])
	require.Equal(t, false, body["nvml_healthy"])

	code, body = healthz(t, board(true, true, gpu1))
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, false, body["ok"])
	require.Equal(t, []any{"GPU-bbbb: xid 79"}, body["unhealthy_gpus"])

	code, body = healthz(t, board(true, true))
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, false, body["ok"])
	require.InDelta(t, 0.0, body["gpus"], 0)
}

func TestHealthzFollowsBoard(t *testing.T) {
	// The handler reads the board on every request.
	b := board(false, true, gpu0)
	h := Handler(prometheus.NewRegistry(), b)
	get := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code
	}
	require.Equal(t, http.StatusServiceUnavailable, get())
	b.SetChain(state.Chain{Connected: true, Height: 778})
	require.Equal(t, http.StatusOK, get())
	b.SetGPUs([]state.GPU{gpu1}, true, "")
	require.Equal(t, http.StatusServiceUnavailable, get())
}

func TestMetricsEndpointServesInjectedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.ChainHeight.Set(4242)
	m.BidsPlaced.WithLabelValues("h100-sxm").Add(5)
	m.ObserveGPUs([]state.GPU{gpu0})

	rec := httptest.NewRecorder()
	Handler(reg, state.NewBoard()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain"), rec.Header().Get("Content-Type"))
	body := rec.Body.String()
	for _, line := range []string{
		"# TYPE gpumesh_provider_chain_height gauge",
		"gpumesh_provider_chain_height 4242",
		`gpumesh_provider_bids_placed_total{class="h100-sxm"} 5`,
		`DCGM_FI_DEV_GPU_TEMP{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 61`,
		`DCGM_FI_DEV_POWER_USAGE{UUID="GPU-aaaa",class="h100-sxm",gpu="0",modelName="NVIDIA H100 80GB HBM3"} 312.5`,
	} {
		require.Contains(t, strings.Split(body, "\n"), line)
	}
	// Only the injected registry: no Go runtime collectors from the default one.
	require.NotContains(t, body, "go_goroutines")

	rec = httptest.NewRecorder()
	Handler(reg, state.NewBoard()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nope", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

func TestServe(t *testing.T) {
	require.ErrorContains(t, Serve(context.Background(), config.Metrics{Address: "127.0.0.1:notaport", MaxConnections: 1},
		http.NotFoundHandler()), `metrics.address "127.0.0.1:notaport"`)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, config.Metrics{Address: "127.0.0.1:0", MaxConnections: 1}, http.NotFoundHandler())
	}()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the context was cancelled")
	}
}
