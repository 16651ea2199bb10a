package api

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/api/sidecarv1"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

var (
	blockTime   = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	startedAt   = time.Date(2025, 3, 4, 1, 2, 3, 0, time.UTC)
	bidTime     = time.Date(2025, 3, 4, 5, 0, 1, 123_000_000, time.UTC)
	leaseStart  = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	lastReport  = time.Date(2025, 3, 4, 4, 59, 0, 0, time.UTC)
	lastWithdr  = time.Date(2025, 3, 3, 12, 30, 0, 500_000_000, time.UTC)
	testInfo    = Info{Version: "v1.2.3", Commit: "abc1234", ChainID: "gpumesh-test-1", Provider: "mesh1provider", NodeID: "node-a", NVML: "mock:h100x2", Backend: "cpu", StartedAt: startedAt}
	utilGPU     = uint32(87)
	utilMem     = uint32(42)
	healthyGPU  = state.GPU{GPU: gpus.GPU{Index: 0, UUID: "GPU-aaaa", Name: "NVIDIA H100 80GB HBM3", PCIDeviceID: "0x2330", Class: "h100-sxm", VramMiB: 81559, ComputeCapability: "9.0", DriverVersion: "550.54.15", MIG: false, Healthy: true, Health: "ok"}, Telemetry: gpus.Telemetry{UUID: "GPU-aaaa", UtilGPUPct: &utilGPU, UtilMemPct: &utilMem, FBUsedMiB: 40960, FBTotalMiB: 81559, PowerMilliwatts: 312500, EnergyMillijoules: 9876543210, TempC: 61, SMClockMHz: 1980, MemClockMHz: 2619, ECCUncorrected: 0}, Listed: true, AllocatedTo: "mesh1alice/7", Verified: true}
	unhealthyGP = state.GPU{GPU: gpus.GPU{Index: 1, UUID: "GPU-bbbb", Name: "NVIDIA H100 80GB HBM3", PCIDeviceID: "0x2330", Class: "h100-sxm", VramMiB: 81559, ComputeCapability: "9.0", DriverVersion: "550.54.15", MIG: true, Healthy: false, Health: "xid 79"}, Telemetry: gpus.Telemetry{UUID: "GPU-bbbb", FBUsedMiB: 0, FBTotalMiB: 81559, PowerMilliwatts: 70000, EnergyMillijoules: 5, TempC: 33, SMClockMHz: 345, MemClockMHz: 2619, ECCUncorrected: 3}, Listed: false, Verified: false}
)

// fullBoard is a board where every subsystem has published something.
func fullBoard() *state.Board {
	b := state.NewBoard()
	b.SetChain(state.Chain{ChainID: "gpumesh-test-1", Connected: true, Height: 12345, BlockTime: blockTime})
	b.SetGPUs([]state.GPU{healthyGPU, unhealthyGP}, true, "NVML 12.550.54 driver 550.54.15")
	b.SetProvider(state.Provider{Address: "mesh1provider", Registered: true, Active: false, Jailed: true, Eligible: true, Reputation: 8123})
	b.SetBids([]state.Bid{
		{OrderID: "mesh1alice/9", Price: "2000000uusdc", GPUs: []string{"GPU-aaaa"}, State: "open", CreatedAt: bidTime},
		{OrderID: "mesh1bob/2", Price: "1900000uusdc", GPUs: []string{"GPU-aaaa", "GPU-bbbb"}, State: "pending"},
	})
	b.SetLeases([]state.Lease{
		{ID: "mesh1alice/7", Tenant: "mesh1alice", Seq: 7, GPUs: []string{"GPU-aaaa"}, Price: "2000000uusdc", StartedAt: leaseStart,
			State: "active", AccessEndpoint: "ssh://10.0.0.5:2222", Provisioned: true, GPUSeconds: 259200, MeanUtilPct: 91,
			EnergyMJ: 77777777, LastReport: lastReport, Earned: "144000000uusdc", LastWithdrawal: lastWithdr},
		{ID: "mesh1alice/8", Tenant: "mesh1alice", Seq: 8, GPUs: []string{"GPU-bbbb"}, Price: "1500000uusdc", StartedAt: leaseStart,
			State: "active", Provisioned: false},
		{ID: "mesh1bob/7", Tenant: "mesh1bob", Seq: 7, GPUs: []string{"GPU-cccc"}, Price: "1000000uusdc", StartedAt: leaseStart,
			State: "insufficient_funds", Provisioned: true, GPUSeconds: 1},
	})
	b.SetChallenges([]state.Challenge{
		{ID: 42, State: "revealed", GPUs: []string{"GPU-aaaa"}, IssuedHeight: 12000, CommitDeadline: 12010, OpenHeight: 12012,
			Outcome: "", Dispute: true, ProveTime: 1500*time.Millisecond + 700*time.Microsecond, CommittedAt: 12005, RevealedAt: 12013},
		{ID: 41, State: "resolved", GPUs: []string{"GPU-aaaa", "GPU-bbbb"}, IssuedHeight: 11000, CommitDeadline: 11010,
			OpenHeight: 11012, Outcome: "failed: wrong opening", ProveTime: 0},
	})
	b.SetUnbiddable([]state.UnbiddableGPU{{UUID: "GPU-bbbb", Class: "h100-sxm", Reason: "unhealthy", Detail: "xid 79"},
		{UUID: "GPU-cccc", Class: "l40s", Reason: "no_price", Detail: "pricing.classes has no price for l40s"}})
	b.SetAutoBond(state.AutoBond{Held: true, Reason: "operator_unbond", LastError: "insufficient funds"})
	b.SetProvisioningProblem("leases.on_lease_start /etc/gpumesh/hooks/start.sh: no such file")
	return b
}

func requireProtoEqual(t *testing.T, want, got proto.Message) {
	t.Helper()
	if !proto.Equal(want, got) {
		w, _ := protojson.Marshal(want)
		g, _ := protojson.Marshal(got)
		require.JSONEq(t, string(w), string(g))
		require.Fail(t, "messages differ", "want %s\ngot  %s", w, g)
	}
}

func TestStatusMapsEveryField(t *testing.T) {
	b := fullBoard()
	resp, err := New(b, testInfo).Status(context.Background(), &sidecarv1.StatusRequest{})
	require.NoError(t, err)
	requireProtoEqual(t, &sidecarv1.StatusResponse{
		Version: "v1.2.3", Commit: "abc1234", ChainId: "gpumesh-test-1", Provider: "mesh1provider", NodeId: "node-a",
		Connected: true, LatestHeight: 12345, LatestBlockTime: timestamppb.New(blockTime),
		Nvml: "NVML 12.550.54 driver 550.54.15", NvmlHealthy: true, ProverBackend: "cpu", StartedAt: timestamppb.New(startedAt),
		Registered: true, ProviderActive: false, Jailed: true, Reputation: 8123, Healthy: true,
		Unbiddable: []*sidecarv1.UnbiddableGPU{
			{Uuid: "GPU-bbbb", Class: "h100-sxm", Reason: "unhealthy", Detail: "xid 79"},
			{Uuid: "GPU-cccc", Class: "l40s", Reason: "no_price", Detail: "pricing.classes has no price for l40s"}},
		AutoBond:            &sidecarv1.AutoBondStatus{Held: true, Reason: "operator_unbond", LastError: "insufficient funds"},
		ProvisioningProblem: "leases.on_lease_start /etc/gpumesh/hooks/start.sh: no such file",
	}, resp)
	require.Equal(t, metrics.CheckHealth(b).OK, resp.Healthy)
}

func TestStatusDegraded(t *testing.T) {
	// Chain down, NVML without a description of its own: the error is
	// reported, the configured NVML description is used, the zero block
	// time is absent rather than year 1, and the sidecar is unhealthy.
	b := state.NewBoard()
	b.SetChain(state.Chain{Connected: false, LastError: "dial tcp: connection refused"})
	b.SetGPUs([]state.GPU{healthyGPU}, true, "")
	b.SetProvider(state.Provider{Registered: true, Active: true, Jailed: false, Reputation: 10000})
	info := testInfo
	info.StartedAt = time.Time{}
	resp, err := New(b, info).Status(context.Background(), &sidecarv1.StatusRequest{})
	require.NoError(t, err)
	requireProtoEqual(t, &sidecarv1.StatusResponse{
		Version: "v1.2.3", Commit: "abc1234", ChainId: "gpumesh-test-1", Provider: "mesh1provider", NodeId: "node-a",
		ChainError: "dial tcp: connection refused", Nvml: "mock:h100x2", NvmlHealthy: true, ProverBackend: "cpu",
		Registered: true, ProviderActive: true, Reputation: 10000, AutoBond: &sidecarv1.AutoBondStatus{},
	}, resp)
	require.Nil(t, resp.LatestBlockTime)
	require.Nil(t, resp.StartedAt)
	require.False(t, resp.Healthy)
}

func TestStatusHealthyFollowsCheckHealth(t *testing.T) {
	cases := map[string]struct {
		connected bool
		nvmlOK    bool
		gpus      []state.GPU
		want      bool
	}{
		"all good":        {true, true, []state.GPU{unhealthyGP, healthyGPU}, true},
		"chain down":      {false, true, []state.GPU{healthyGPU}, false},
		"nvml down":       {true, false, []state.GPU{healthyGPU}, false},
		"no healthy gpu":  {true, true, []state.GPU{unhealthyGP}, false},
		"no gpus at all":  {true, true, nil, false},
		"everything down": {false, false, nil, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := state.NewBoard()
			b.SetChain(state.Chain{Connected: tc.connected, Height: 1})
			b.SetGPUs(tc.gpus, tc.nvmlOK, "nvml")
			resp, err := New(b, testInfo).Status(context.Background(), &sidecarv1.StatusRequest{})
			require.NoError(t, err)
			require.Equal(t, tc.want, resp.Healthy)
			require.Equal(t, metrics.CheckHealth(b).OK, resp.Healthy)
			require.Equal(t, tc.nvmlOK, resp.NvmlHealthy)
			require.Equal(t, tc.connected, resp.Connected)
		})
	}
}

var (
	wantGPUs = &sidecarv1.GPUsResponse{Gpus: []*sidecarv1.GPU{
		{Index: 0, Uuid: "GPU-aaaa", Name: "NVIDIA H100 80GB HBM3", PciDeviceId: "0x2330", Class: "h100-sxm", VramMib: 81559,
			ComputeCapability: "9.0", DriverVersion: "550.54.15", Mig: false, Healthy: true, Health: "ok", Listed: true,
			AllocatedTo: "mesh1alice/7", Verified: true, Telemetry: &sidecarv1.GPUTelemetry{UtilGpuPct: proto.Uint32(87),
				UtilMemPct: proto.Uint32(42), FbUsedMib: 40960, FbTotalMib: 81559, PowerMilliwatts: 312500,
				EnergyMillijoules: 9876543210, TempC: 61, SmClockMhz: 1980, MemClockMhz: 2619}},
		{Index: 1, Uuid: "GPU-bbbb", Name: "NVIDIA H100 80GB HBM3", PciDeviceId: "0x2330", Class: "h100-sxm", VramMib: 81559,
			ComputeCapability: "9.0", DriverVersion: "550.54.15", Mig: true, Healthy: false, Health: "xid 79",
			Telemetry: &sidecarv1.GPUTelemetry{FbTotalMib: 81559, PowerMilliwatts: 70000, EnergyMillijoules: 5, TempC: 33,
				SmClockMhz: 345, MemClockMhz: 2619, EccUncorrected: 3}},
	}}
	wantBids = &sidecarv1.BidsResponse{Bids: []*sidecarv1.Bid{
		{OrderId: "mesh1alice/9", Price: "2000000uusdc", Gpus: []string{"GPU-aaaa"}, State: "open", CreatedAt: timestamppb.New(bidTime)},
		{OrderId: "mesh1bob/2", Price: "1900000uusdc", Gpus: []string{"GPU-aaaa", "GPU-bbbb"}, State: "pending"},
	}}
	wantLeaseAlice7 = &sidecarv1.Lease{Id: "mesh1alice/7", Tenant: "mesh1alice", Gpus: []string{"GPU-aaaa"},
		PricePerGpuHour: "2000000uusdc", StartedAt: timestamppb.New(leaseStart), State: "active",
		AccessEndpoint: "ssh://10.0.0.5:2222", Provisioned: true,
		Usage:  &sidecarv1.LeaseUsage{GpuSeconds: 259200, MeanUtilPct: 91, EnergyMj: 77777777, LastReport: timestamppb.New(lastReport)},
		Earned: "144000000uusdc", LastWithdrawal: timestamppb.New(lastWithdr)}
	wantLeaseAlice8 = &sidecarv1.Lease{Id: "mesh1alice/8", Tenant: "mesh1alice", Gpus: []string{"GPU-bbbb"},
		PricePerGpuHour: "1500000uusdc", StartedAt: timestamppb.New(leaseStart), State: "active", Usage: &sidecarv1.LeaseUsage{}}
	wantLeaseBob7 = &sidecarv1.Lease{Id: "mesh1bob/7", Tenant: "mesh1bob", Gpus: []string{"GPU-cccc"},
		PricePerGpuHour: "1000000uusdc", StartedAt: timestamppb.New(leaseStart), State: "insufficient_funds", Provisioned: true,
		Usage: &sidecarv1.LeaseUsage{GpuSeconds: 1}}
	wantChallenges = &sidecarv1.ChallengesResponse{Challenges: []*sidecarv1.Challenge{
		{Id: 42, State: "revealed", Gpus: []string{"GPU-aaaa"}, IssuedHeight: 12000, CommitDeadline: 12010, OpenHeight: 12012,
			Dispute: true, ProveMs: 1500, CommittedHeight: 12005, RevealedHeight: 12013},
		{Id: 41, State: "resolved", Gpus: []string{"GPU-aaaa", "GPU-bbbb"}, IssuedHeight: 11000, CommitDeadline: 11010,
			OpenHeight: 11012, Outcome: "failed: wrong opening"},
	}}
)

func TestListsOverGRPCMethods(t *testing.T) {
	s := New(fullBoard(), testInfo)
	ctx := context.Background()

	g, err := s.GPUs(ctx, &sidecarv1.GPUsRequest{})
	require.NoError(t, err)
	requireProtoEqual(t, wantGPUs, g)

	bids, err := s.Bids(ctx, &sidecarv1.BidsRequest{})
	require.NoError(t, err)
	requireProtoEqual(t, wantBids, bids)
	require.Nil(t, bids.Bids[1].CreatedAt, "a zero created_at is absent")

	leases, err := s.Leases(ctx, &sidecarv1.LeasesRequest{})
	require.NoError(t, err)
	requireProtoEqual(t, &sidecarv1.LeasesResponse{Leases: []*sidecarv1.Lease{wantLeaseAlice7, wantLeaseAlice8, wantLeaseBob7}}, leases)

	ch, err := s.Challenges(ctx, &sidecarv1.ChallengesRequest{})
	require.NoError(t, err)
	requireProtoEqual(t, wantChallenges, ch)
}

func TestLeaseByTenantAndSeq(t *testing.T) {
	s := New(fullBoard(), testInfo)
	ctx := context.Background()
	for _, tc := range []struct {
		tenant string
		seq    uint64
		want   *sidecarv1.Lease
	}{
		{"mesh1alice", 7, wantLeaseAlice7},
		{"mesh1alice", 8, wantLeaseAlice8},
		{"mesh1bob", 7, wantLeaseBob7},
	} {
		resp, err := s.Lease(ctx, &sidecarv1.LeaseRequest{Tenant: tc.tenant, Seq: tc.seq})
		require.NoError(t, err)
		requireProtoEqual(t, tc.want, resp.Lease)
	}
	for _, req := range []*sidecarv1.LeaseRequest{
		{Tenant: "mesh1alice", Seq: 9}, // tenant known, seq not
		{Tenant: "mesh1carol", Seq: 7}, // seq known, tenant not
		{Tenant: "mesh1bob", Seq: 8},   // both known, not together
		{},
	} {
		resp, err := s.Lease(ctx, req)
		require.Nil(t, resp)
		require.Equal(t, codes.NotFound, status.Code(err), "%v: %v", req, err)
	}
}

func TestEmptyBoard(t *testing.T) {
	s := New(state.NewBoard(), Info{})
	ctx := context.Background()
	g, err := s.GPUs(ctx, &sidecarv1.GPUsRequest{})
	require.NoError(t, err)
	require.Empty(t, g.Gpus)
	b, err := s.Bids(ctx, &sidecarv1.BidsRequest{})
	require.NoError(t, err)
	require.Empty(t, b.Bids)
	l, err := s.Leases(ctx, &sidecarv1.LeasesRequest{})
	require.NoError(t, err)
	require.Empty(t, l.Leases)
	c, err := s.Challenges(ctx, &sidecarv1.ChallengesRequest{})
	require.NoError(t, err)
	require.Empty(t, c.Challenges)
	st, err := s.Status(ctx, &sidecarv1.StatusRequest{})
	require.NoError(t, err)
	require.False(t, st.Healthy)
	_, err = s.Lease(ctx, &sidecarv1.LeaseRequest{Tenant: "mesh1alice", Seq: 7})
	require.Equal(t, codes.NotFound, status.Code(err))
}

func restGet(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"), path)
	return rec.Code, rec.Body.String()
}

// The REST JSON uses the proto field names, emits unset fields, renders
// 64-bit integers as strings and timestamps as RFC 3339.
const (
	restStatus = `{
	"version": "v1.2.3", "commit": "abc1234", "chain_id": "gpumesh-test-1", "provider": "mesh1provider", "node_id": "node-a",
	"connected": true, "latest_height": "12345", "latest_block_time": "2025-03-04T05:06:07Z", "chain_error": "",
	"nvml": "NVML 12.550.54 driver 550.54.15", "nvml_healthy": true, "prover_backend": "cpu",
	"started_at": "2025-03-04T01:02:03Z", "registered": true, "provider_active": false, "jailed": true,
	"reputation": 8123, "healthy": true,
	"unbiddable": [{"uuid": "GPU-bbbb", "class": "h100-sxm", "reason": "unhealthy", "detail": "xid 79"},
	 {"uuid": "GPU-cccc", "class": "l40s", "reason": "no_price", "detail": "pricing.classes has no price for l40s"}],
	"auto_bond": {"held": true, "reason": "operator_unbond", "last_error": "insufficient funds"},
	"provisioning_problem": "leases.on_lease_start /etc/gpumesh/hooks/start.sh: no such file"}`
	restGPUs = `{"gpus": [
	{"index": 0, "uuid": "GPU-aaaa", "name": "NVIDIA H100 80GB HBM3", "pci_device_id": "0x2330", "class": "h100-sxm",
	 "vram_mib": 81559, "compute_capability": "9.0", "driver_version": "550.54.15", "mig": false, "healthy": true,
	 "health": "ok", "listed": true, "allocated_to": "mesh1alice/7", "verified": true,
	 "telemetry": {"util_gpu_pct": 87, "util_mem_pct": 42, "fb_used_mib": "40960", "fb_total_mib": "81559",
	  "power_milliwatts": 312500, "energy_millijoules": "9876543210", "temp_c": 61, "sm_clock_mhz": 1980,
	  "mem_clock_mhz": 2619, "ecc_uncorrected": "0"}},
	{"index": 1, "uuid": "GPU-bbbb", "name": "NVIDIA H100 80GB HBM3", "pci_device_id": "0x2330", "class": "h100-sxm",
	 "vram_mib": 81559, "compute_capability": "9.0", "driver_version": "550.54.15", "mig": true, "healthy": false,
	 "health": "xid 79", "listed": false, "allocated_to": "", "verified": false,
	 "telemetry": {"fb_used_mib": "0", "fb_total_mib": "81559",
	  "power_milliwatts": 70000, "energy_millijoules": "5", "temp_c": 33, "sm_clock_mhz": 345,
	  "mem_clock_mhz": 2619, "ecc_uncorrected": "3"}}]}`
	restBids = `{"bids": [
	{"order_id": "mesh1alice/9", "price": "2000000uusdc", "gpus": ["GPU-aaaa"], "state": "open", "created_at": "2025-03-04T05:00:01.123Z"},
	{"order_id": "mesh1bob/2", "price": "1900000uusdc", "gpus": ["GPU-aaaa", "GPU-bbbb"], "state": "pending", "created_at": null}]}`
	restLeaseAlice7 = `{"id": "mesh1alice/7", "tenant": "mesh1alice", "gpus": ["GPU-aaaa"], "price_per_gpu_hour": "2000000uusdc",
	"started_at": "2025-03-01T10:00:00Z", "state": "active", "access_endpoint": "ssh://10.0.0.5:2222", "provisioned": true,
	"usage": {"gpu_seconds": "259200", "mean_util_pct": 91, "energy_mj": "77777777", "last_report": "2025-03-04T04:59:00Z"},
	"earned": "144000000uusdc", "last_withdrawal": "2025-03-03T12:30:00.500Z"}`
	restLeaseAlice8 = `{"id": "mesh1alice/8", "tenant": "mesh1alice", "gpus": ["GPU-bbbb"], "price_per_gpu_hour": "1500000uusdc",
	"started_at": "2025-03-01T10:00:00Z", "state": "active", "access_endpoint": "", "provisioned": false,
	"usage": {"gpu_seconds": "0", "mean_util_pct": 0, "energy_mj": "0", "last_report": null},
	"earned": "", "last_withdrawal": null}`
	restLeaseBob7 = `{"id": "mesh1bob/7", "tenant": "mesh1bob", "gpus": ["GPU-cccc"], "price_per_gpu_hour": "1000000uusdc",
	"started_at": "2025-03-01T10:00:00Z", "state": "insufficient_funds", "access_endpoint": "", "provisioned": true,
	"usage": {"gpu_seconds": "1", "mean_util_pct": 0, "energy_mj": "0", "last_report": null},
	"earned": "", "last_withdrawal": null}`
	restChallenges = `{"challenges": [
	{"id": "42", "state": "revealed", "gpus": ["GPU-aaaa"], "issued_height": "12000", "commit_deadline": "12010",
	 "open_height": "12012", "outcome": "", "dispute": true, "prove_ms": "1500", "committed_height": "12005",
	 "revealed_height": "12013"},
	{"id": "41", "state": "resolved", "gpus": ["GPU-aaaa", "GPU-bbbb"], "issued_height": "11000", "commit_deadline": "11010",
	 "open_height": "11012", "outcome": "failed: wrong opening", "dispute": false, "prove_ms": "0", "committed_height": "0",
	 "revealed_height": "0"}]}`
)

func TestREST(t *testing.T) {
	h, err := New(fullBoard(), testInfo).RESTHandler(context.Background())
	require.NoError(t, err)
	for path, want := range map[string]string{
		"/v1/status":              restStatus,
		"/v1/gpus":                restGPUs,
		"/v1/bids":                restBids,
		"/v1/leases":              `{"leases": [` + restLeaseAlice7 + `,` + restLeaseAlice8 + `,` + restLeaseBob7 + `]}`,
		"/v1/leases/mesh1alice/7": `{"lease": ` + restLeaseAlice7 + `}`,
		"/v1/leases/mesh1alice/8": `{"lease": ` + restLeaseAlice8 + `}`,
		"/v1/leases/mesh1bob/7":   `{"lease": ` + restLeaseBob7 + `}`,
		"/v1/challenges":          restChallenges,
	} {
		code, body := restGet(t, h, path)
		require.Equal(t, http.StatusOK, code, "%s: %s", path, body)
		require.JSONEq(t, want, body, path)
	}
}

func TestRESTEmptyListsAreArrays(t *testing.T) {
	h, err := New(state.NewBoard(), Info{}).RESTHandler(context.Background())
	require.NoError(t, err)
	for path, want := range map[string]string{
		"/v1/gpus":       `{"gpus": []}`,
		"/v1/bids":       `{"bids": []}`,
		"/v1/leases":     `{"leases": []}`,
		"/v1/challenges": `{"challenges": []}`,
	} {
		code, body := restGet(t, h, path)
		require.Equal(t, http.StatusOK, code, path)
		require.JSONEq(t, want, body, path)
	}
}

func TestRESTLeaseErrors(t *testing.T) {
	h, err := New(fullBoard(), testInfo).RESTHandler(context.Background())
	require.NoError(t, err)
	for path, want := range map[string]struct {
		http int
		grpc codes.Code
	}{
		"/v1/leases/mesh1alice/9":   {http.StatusNotFound, codes.NotFound},
		"/v1/leases/mesh1carol/7":   {http.StatusNotFound, codes.NotFound},
		"/v1/leases/mesh1alice/abc": {http.StatusBadRequest, codes.InvalidArgument},
		"/v1/leases/mesh1alice/-1":  {http.StatusBadRequest, codes.InvalidArgument},
	} {
		code, body := restGet(t, h, path)
		require.Equal(t, want.http, code, "%s: %s", path, body)
		var e struct {
			Code    codes.Code `json:"code"`
			Message string     `json:"message"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &e), body)
		require.Equal(t, want.grpc, e.Code, body)
		require.NotEmpty(t, e.Message, body)
	}
	_, body := restGet(t, h, "/v1/leases/mesh1alice/9")
	require.Contains(t, body, "lease mesh1alice/9 is not an active lease of this provider")
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestServeGRPCAndRESTUntilCancelled(t *testing.T) {
	grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	restLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	grpcAddr, restAddr := grpcLn.Addr().String(), restLn.Addr().String()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- New(fullBoard(), testInfo).serve(ctx, grpcLn, restLn) }()

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	client := sidecarv1.NewSidecarClient(conn)
	rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
	defer rcancel()
	st, err := client.Status(rctx, &sidecarv1.StatusRequest{}, grpc.WaitForReady(true))
	require.NoError(t, err)
	require.Equal(t, "v1.2.3", st.Version)
	require.Equal(t, int64(12345), st.LatestHeight)
	require.True(t, st.Healthy)
	g, err := client.GPUs(rctx, &sidecarv1.GPUsRequest{})
	require.NoError(t, err)
	requireProtoEqual(t, wantGPUs, g)
	l, err := client.Lease(rctx, &sidecarv1.LeaseRequest{Tenant: "mesh1alice", Seq: 8})
	require.NoError(t, err)
	requireProtoEqual(t, wantLeaseAlice8, l.Lease)
	_, err = client.Lease(rctx, &sidecarv1.LeaseRequest{Tenant: "mesh1alice", Seq: 9})
	require.Equal(t, codes.NotFound, status.Code(err))

	httpClient := &http.Client{Timeout: 3 * time.Second}
	get := func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+restAddr+path, nil)
		require.NoError(t, err)
		return httpClient.Do(req)
	}
	resp, err := get("/v1/bids")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, restBids, string(body))
	resp, err = get("/v1/leases/mesh1alice/9")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// Cancelling stops both servers, with a client still connected, well
	// within the 3 s grace periods.
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the context was cancelled")
	}
	require.Less(t, time.Since(start), 2*time.Second)
	_, err = net.DialTimeout("tcp", grpcAddr, time.Second)
	require.Error(t, err, "gRPC listener still open")
	_, err = net.DialTimeout("tcp", restAddr, time.Second)
	require.Error(t, err, "REST listener still open")
}

func TestServeStopsWhenCancelledBeforeStart(t *testing.T) {
	// A context cancelled before (or right as) the servers start is a clean
	// stop, not an error, however the goroutines are scheduled.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 {
		grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		restLn, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, New(fullBoard(), testInfo).serve(ctx, grpcLn, restLn))
	}
}

func TestServeByAddress(t *testing.T) {
	grpcAddr, restAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(fullBoard(), testInfo).Serve(ctx, grpcAddr, restAddr) }()

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
	defer rcancel()
	ch, err := sidecarv1.NewSidecarClient(conn).Challenges(rctx, &sidecarv1.ChallengesRequest{}, grpc.WaitForReady(true))
	require.NoError(t, err)
	requireProtoEqual(t, wantChallenges, ch)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the context was cancelled")
	}
}

func TestServeAddressErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = busy.Close() }()
	ctx := context.Background() // never cancelled: Serve must return on its own

	err = New(fullBoard(), testInfo).Serve(ctx, busy.Addr().String(), "")
	require.ErrorContains(t, err, "api.grpc_address")

	err = New(fullBoard(), testInfo).Serve(ctx, "", busy.Addr().String())
	require.ErrorContains(t, err, "api.rest_address")

	// When the REST address fails after the gRPC one was bound, the gRPC
	// port is released rather than left serving behind the error.
	grpcAddr := freeAddr(t)
	err = New(fullBoard(), testInfo).Serve(ctx, grpcAddr, busy.Addr().String())
	require.ErrorContains(t, err, "api.rest_address")
	ln, err := net.Listen("tcp", grpcAddr)
	require.NoError(t, err, "gRPC address still bound after Serve failed")
	require.NoError(t, ln.Close())
}
