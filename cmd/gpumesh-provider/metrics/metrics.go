// Package metrics holds the sidecar's Prometheus collectors, registered on
// an injected registry, and serves /metrics and /healthz.
package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"net"
	"net/http"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/listen"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

const ns = "gpumesh_provider"

// Metrics are the sidecar's collectors.
type Metrics struct {
	BidsPlaced   *prometheus.CounterVec
	BidsWon      prometheus.Counter
	BidsLost     prometheus.Counter
	BidsClosed   *prometheus.CounterVec
	LeasesActive prometheus.Gauge
	Challenges   *prometheus.CounterVec
	ProofStage   *prometheus.HistogramVec
	TxFailures   *prometheus.CounterVec
	TxRetries    *prometheus.CounterVec
	Earnings     *prometheus.CounterVec
	Rewards      *prometheus.CounterVec
	HookRuns     *prometheus.CounterVec
	ChainHeight  prometheus.Gauge

	// Lease lifecycle alerts (issue 21).
	TeardownsFailing  prometheus.Gauge
	LeasesUnconfirmed prometheus.Gauge
	LeasesRefused     *prometheus.CounterVec

	// Per-GPU gauges named after the DCGM exporter's fields, so existing
	// GPU dashboards work unchanged.
	GPUUtil   *prometheus.GaugeVec
	MemUtil   *prometheus.GaugeVec
	FBUsed    *prometheus.GaugeVec
	FBFree    *prometheus.GaugeVec
	Power     *prometheus.GaugeVec
	Energy    *prometheus.GaugeVec
	Temp      *prometheus.GaugeVec
	SMClock   *prometheus.GaugeVec
	MemClock  *prometheus.GaugeVec
	ECC       *prometheus.GaugeVec
	GPUHealth *prometheus.GaugeVec

	// GPUsUnbiddable counts the GPUs no order can get a bid for, by class
	// and reason (unknown_class, no_price, unhealthy).
	GPUsUnbiddable *prometheus.GaugeVec
	// ChallengesRefused counts challenges the prover would not compute, by
	// reason (protocol, class, memory).
	ChallengesRefused *prometheus.CounterVec
	// AutoBondHeld is 1 while auto-bonding waits for the operator.
	AutoBondHeld *prometheus.GaugeVec
	// AutoBondFailures counts failed auto-bond transactions.
	AutoBondFailures prometheus.Counter
}

// gpuLabels label per-GPU gauges as dcgm-exporter does.
var gpuLabels = []string{"gpu", "UUID", "modelName", "class"}

// New creates the collectors and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	gauge := func(name, help string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, gpuLabels)
		f(g)
		return g
	}
	m := &Metrics{
		BidsPlaced: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "bids_placed_total",
			Help: "Bids placed, by GPU class."}, []string{"class"}),
		BidsWon: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "bids_won_total",
			Help: "Bids that became leases."}),
		BidsLost: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "bids_lost_total",
			Help: "Bids closed by the chain without a lease (lost, order closed or expired, GPUs unavailable)."}),
		BidsClosed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "bids_withdrawn_total",
			Help: "Bids the sidecar withdrew, by reason."}, []string{"reason"}),
		LeasesActive: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "leases_active",
			Help: "Active leases."}),
		Challenges: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "challenges_total",
			Help: "Resolved challenges, by outcome (passed, failed, missed)."}, []string{"outcome"}),
		ProofStage: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "proof_stage_seconds",
			Help: "Duration of proof stages (prove, commit, reveal).", Buckets: prometheus.ExponentialBuckets(0.01, 3, 12)},
			[]string{"stage"}),
		TxFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tx_failures_total",
			Help: "Failed transactions, by stage (simulate, check_tx, deliver_tx, timeout, broadcast, sequence) and codespace."},
			[]string{"stage", "codespace"}),
		TxRetries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "tx_retries_total",
			Help: "Transactions signed again, by reason (sequence: the account sequence changed under the sidecar)."},
			[]string{"reason"}),
		Earnings: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "earnings_total",
			Help: "Lease payments withdrawn, in base units, by denom."}, []string{"denom"}),
		Rewards: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rewards_claimed_total",
			Help: "Capacity rewards claimed, in base units, by denom."}, []string{"denom"}),
		HookRuns: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "hook_runs_total",
			Help: "Provisioning hook runs, by hook and result."}, []string{"hook", "result"}),
		ChainHeight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "chain_height",
			Help: "Latest block height seen."}),
		TeardownsFailing: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "teardowns_failing",
			Help: "Leases whose on_lease_end failed and is being retried (alert when above 0)."}),
		LeasesUnconfirmed: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "leases_unconfirmed",
			Help: "Provisioned leases the node omits from the active leases without reporting them closed (not torn down)."}),
		LeasesRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "leases_refused_total",
			Help: "Leases listed by the node that the sidecar did not provision, by reason."}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.TeardownsFailing, m.LeasesUnconfirmed, m.LeasesRefused} {
		f(c)
	}
	for _, c := range []prometheus.Collector{m.BidsPlaced, m.BidsWon, m.BidsLost, m.BidsClosed, m.LeasesActive,
		m.Challenges, m.ProofStage, m.TxFailures, m.TxRetries, m.Earnings, m.Rewards, m.HookRuns, m.ChainHeight} {
		f(c)
	}
	m.GPUUtil = gauge("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).")
	m.MemUtil = gauge("DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).")
	m.FBUsed = gauge("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).")
	m.FBFree = gauge("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).")
	m.Power = gauge("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).")
	m.Energy = gauge("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "Total energy consumption since boot (in mJ).")
	m.Temp = gauge("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).")
	m.SMClock = gauge("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).")
	m.MemClock = gauge("DCGM_FI_DEV_MEM_CLOCK", "Memory clock frequency (in MHz).")
	m.ECC = gauge("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "Uncorrected (double-bit) volatile ECC errors.")
	m.GPUHealth = gauge("gpumesh_provider_gpu_healthy", "1 when the GPU is healthy and offered, 0 when withdrawn.")
	m.GPUsUnbiddable = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "gpus_unbiddable",
		Help: "GPUs that can never get a bid, by class and reason (unknown_class, no_price, unhealthy)."},
		[]string{"class", "reason"})
	m.ChallengesRefused = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "challenges_refused_total",
		Help: "Challenges the prover refused to compute, by reason (protocol: outside the protocol's limits; " +
			"class: not the size the chain's GPU class sets; memory: above prover.max_memory_mib)."}, []string{"reason"})
	m.AutoBondHeld = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "auto_bond_held",
		Help: "1 while auto-bonding is held, by reason (operator_unbond, above_max_auto_bond, required_mismatch)."},
		[]string{"reason"})
	m.AutoBondFailures = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "auto_bond_failures_total",
		Help: "Auto-bond transactions that failed (e.g. insufficient funds)."})
	for _, c := range []prometheus.Collector{m.GPUsUnbiddable, m.ChallengesRefused, m.AutoBondHeld, m.AutoBondFailures} {
		f(c)
	}
	return m
}

// ObserveGPUs sets the per-GPU gauges from a telemetry snapshot. GPUs that
// are gone are dropped from the gauges.
func (m *Metrics) ObserveGPUs(list []state.GPU) {
	for _, g := range []*prometheus.GaugeVec{m.GPUUtil, m.MemUtil, m.FBUsed, m.FBFree, m.Power, m.Energy, m.Temp,
		m.SMClock, m.MemClock, m.ECC, m.GPUHealth} {
		g.Reset()
	}
	for _, g := range list {
		l := prometheus.Labels{"gpu": itoa(g.Index), "UUID": g.UUID, "modelName": g.Name, "class": g.Class}
		t := g.Telemetry
		if t.UtilGPUPct != nil {
			m.GPUUtil.With(l).Set(float64(*t.UtilGPUPct))
		}
		if t.UtilMemPct != nil {
			m.MemUtil.With(l).Set(float64(*t.UtilMemPct))
		}
		m.FBUsed.With(l).Set(float64(t.FBUsedMiB))
		if t.FBTotalMiB >= t.FBUsedMiB {
			m.FBFree.With(l).Set(float64(t.FBTotalMiB - t.FBUsedMiB))
		}
		m.Power.With(l).Set(float64(t.PowerMilliwatts) / 1000)
		m.Energy.With(l).Set(float64(t.EnergyMillijoules))
		m.Temp.With(l).Set(float64(t.TempC))
		m.SMClock.With(l).Set(float64(t.SMClockMHz))
		m.MemClock.With(l).Set(float64(t.MemClockMHz))
		m.ECC.With(l).Set(float64(t.ECCUncorrected))
		healthy := 0.0
		if g.Healthy {
			healthy = 1
		}
		m.GPUHealth.With(l).Set(healthy)
	}
}

func itoa(i int) string {
	bz, _ := json.Marshal(i)
	return string(bz)
}

// Health is what /healthz reports.
type Health struct {
	OK          bool      `json:"ok"`
	Chain       bool      `json:"chain_connected"`
	Height      int64     `json:"height"`
	ChainError  string    `json:"chain_error,omitempty"`
	NVML        bool      `json:"nvml_healthy"`
	NVMLDetail  string    `json:"nvml"`
	GPUs        int       `json:"gpus"`
	Unhealthy   []string  `json:"unhealthy_gpus,omitempty"`
	CheckedTime time.Time `json:"checked_at"`
}

// CheckHealth derives the health from the board: the node answers, NVML
// answers, and at least one GPU is healthy.
func CheckHealth(b *state.Board) Health {
	c := b.Chain()
	list, nvmlOK, desc := b.GPUs()
	h := Health{Chain: c.Connected, Height: c.Height, ChainError: c.LastError, NVML: nvmlOK, NVMLDetail: desc,
		GPUs: len(list), CheckedTime: time.Now().UTC()}
	healthy := 0
	for _, g := range list {
		if g.Healthy {
			healthy++
		} else {
			h.Unhealthy = append(h.Unhealthy, g.UUID+": "+g.Health)
		}
	}
	h.OK = h.Chain && h.NVML && healthy > 0
	return h
}

// Handler serves /metrics from reg and /healthz from the board.
func Handler(reg prometheus.Gatherer, b *state.Board) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		h := CheckHealth(b)
		w.Header().Set("Content-Type", "application/json")
		if !h.OK {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(h)
	})
	return mux
}

// Serve runs an HTTP server for h on cfg.Address, with at most
// cfg.MaxConnections open connections and the default HTTP limits, until
// ctx is done, then shuts it down gracefully.
func Serve(ctx context.Context, cfg config.Metrics, h http.Handler) error {
	ln, err := listen.Listen("metrics.address", cfg.Address, cfg.MaxConnections)
	if err != nil {
		return err
	}
	return serve(ctx, ln, listen.DefaultHTTPLimits(), h)
}

// serve serves h on ln until ctx is done; it owns ln.
func serve(ctx context.Context, ln net.Listener, limits listen.HTTPLimits, h http.Handler) error {
	srv := limits.Server(h)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// CoinAmount converts an amount of base units to a metric value. Amounts
// beyond 2^64 (which Int.Uint64 would panic on) keep their magnitude,
// rounded to float64's 53-bit precision; a nil amount is 0.
func CoinAmount(a sdkmath.Int) float64 {
	if a.IsNil() {
		return 0
	}
	f, _ := new(big.Float).SetInt(a.BigInt()).Float64()
	return f
}
