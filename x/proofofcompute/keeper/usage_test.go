package keeper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Usage reports accumulate per lease (latest report, totals, the
// utilization-weighted GPU-seconds) and are refused, naming the numbers,
// when they come from another provider, do not move forward in time, lie
// in the future or claim more GPU-seconds than the lease's GPUs had.
func TestUsageReports(t *testing.T) {
	f := newPoC(t)
	p1, p2, alice := f.a.Account("provider1"), f.a.Account("provider2"), f.a.Account("alice")
	node := f.onboard("provider1", "poc-usage")
	id := f.lease(alice, p1, node.Gpus[0].Uuid, node.Gpus[1].Uuid)
	lease, err := f.a.MarketKeeper.GetLease(f.a.Ctx(), id)
	require.NoError(t, err)
	f.advanceTo(f.height() + 4) // 20 s after the start
	hash := make([]byte, 32)
	report := func(end time.Time, gpuSeconds uint64, util uint32) *types.MsgReportUsage {
		return &types.MsgReportUsage{Provider: p1.Address.String(), LeaseId: id, PeriodEnd: end,
			GpuSeconds: gpuSeconds, MeanUtilPct: util, EnergyMj: 1_000 * gpuSeconds, SamplesHash: hash}
	}
	start := lease.StartTime
	f.deliver(p1, report(start.Add(10*time.Second), 20, 50))

	res := f.a.DeliverTx(p1, report(start.Add(20*time.Second), 21, 80))
	require.Equal(t, types.ErrInvalidUsage.ABCICode(), res.Code)
	require.Contains(t, res.Log, "gpu_seconds 21 exceed 2 GPUs × 10 s = 20")
	res = f.a.DeliverTx(p1, report(start.Add(10*time.Second), 1, 80))
	require.Equal(t, types.ErrInvalidUsage.ABCICode(), res.Code)
	require.Contains(t, res.Log, "must be after the previous period's end")
	res = f.a.DeliverTx(p1, report(f.a.BlockTime.Add(time.Hour), 1, 80))
	require.Equal(t, types.ErrInvalidUsage.ABCICode(), res.Code)
	require.Contains(t, res.Log, "is after the block time")
	wrong := report(start.Add(20*time.Second), 1, 80)
	wrong.Provider = p2.Address.String()
	res = f.a.DeliverTx(p2, wrong)
	require.Equal(t, types.ErrInvalidUsage.ABCICode(), res.Code)
	require.Contains(t, res.Log, "is served by "+p1.Address.String())
	bad := report(start.Add(20*time.Second), 1, 101)
	require.ErrorContains(t, bad.ValidateBasic(), "mean_util_pct must be in [0, 100], got 101")

	f.deliver(p1, report(start.Add(20*time.Second), 10, 80))
	got, err := keeper.NewQueryServer(f.a.ProofOfComputeKeeper).Usage(f.a.Ctx(),
		&types.QueryUsageRequest{Tenant: id.Tenant, Seq: id.Seq})
	require.NoError(t, err)
	u := got.Usage
	require.Equal(t, uint64(2), u.Reports)
	require.Equal(t, uint64(30), u.TotalGpuSeconds)
	require.Equal(t, uint64(30_000), u.TotalEnergyMj)
	require.Equal(t, uint64(20*50+10*80), u.UtilGpuSeconds)
	require.Equal(t, uint32(80), u.Latest.MeanUtilPct)
	require.Equal(t, start.Add(20*time.Second), u.Latest.PeriodEnd)
	f.invariants()
}
