package keeper

import (
	"context"
	"errors"
	"math/bits"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// ReportUsage records the provider's report of one period of a lease. The
// period runs from the previous report's period_end (or the lease start)
// to period_end, which must be later and not in the future (and not past
// the lease's close); gpu_seconds cannot exceed the lease's GPUs times the
// period. The chain keeps the latest report and running totals.
func (k *Keeper) ReportUsage(ctx context.Context, msg *types.MsgReportUsage) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	lease, err := k.market.GetLease(ctx, msg.LeaseId)
	if err != nil {
		return err
	}
	if lease.Provider != msg.Provider {
		return errorsmod.Wrapf(types.ErrInvalidUsage, "lease %s is served by %s, not %s", msg.LeaseId, lease.Provider, msg.Provider)
	}
	key, err := msg.LeaseId.Key()
	if err != nil {
		return err
	}
	u, err := k.Usage.Get(ctx, key)
	if errors.Is(err, collections.ErrNotFound) {
		u = types.LeaseUsage{LeaseId: lease.Id, Provider: lease.Provider}
		u.Latest.PeriodEnd = lease.StartTime
	} else if err != nil {
		return err
	}
	start, end := u.Latest.PeriodEnd, msg.PeriodEnd.UTC()
	if !end.After(start) {
		return errorsmod.Wrapf(types.ErrInvalidUsage, "period_end %s must be after the previous period's end %s",
			end.Format("2006-01-02T15:04:05Z"), start.Format("2006-01-02T15:04:05Z"))
	}
	if now := sdkCtx.BlockTime().UTC(); end.After(now) {
		return errorsmod.Wrapf(types.ErrInvalidUsage, "period_end %s is after the block time %s",
			end.Format("2006-01-02T15:04:05Z"), now.Format("2006-01-02T15:04:05Z"))
	}
	if lease.State != markettypes.LEASE_STATE_ACTIVE && end.After(lease.ClosedAt) {
		return errorsmod.Wrapf(types.ErrInvalidUsage, "period_end %s is after the lease closed at %s",
			end.Format("2006-01-02T15:04:05Z"), lease.ClosedAt.Format("2006-01-02T15:04:05Z"))
	}
	seconds := uint64(end.Sub(start) / time.Second) //nolint:gosec // positive: end is after start
	hi, most := bits.Mul64(seconds, uint64(len(lease.Gpus)))
	if hi == 0 && msg.GpuSeconds > most {
		return errorsmod.Wrapf(types.ErrInvalidUsage, "gpu_seconds %d exceed %d GPUs × %d s = %d",
			msg.GpuSeconds, len(lease.Gpus), seconds, most)
	}
	u.Latest = types.UsageReport{
		PeriodEnd: end, GpuSeconds: msg.GpuSeconds, MeanUtilPct: msg.MeanUtilPct, EnergyMj: msg.EnergyMj,
		SamplesHash: msg.SamplesHash, Height: sdkCtx.BlockHeight(),
	}
	u.Reports++
	var carry uint64
	if u.TotalGpuSeconds, carry = bits.Add64(u.TotalGpuSeconds, msg.GpuSeconds, 0); carry != 0 {
		return errorsmod.Wrap(types.ErrInvalidUsage, "total_gpu_seconds overflows")
	}
	if u.TotalEnergyMj, carry = bits.Add64(u.TotalEnergyMj, msg.EnergyMj, 0); carry != 0 {
		return errorsmod.Wrapf(types.ErrInvalidUsage, "energy_mj %d overflows the lease's total", msg.EnergyMj)
	}
	// mean_util_pct ≤ 100 and gpu_seconds is bounded by the period, so the
	// product fits; the sum is checked like the others.
	if u.UtilGpuSeconds, carry = bits.Add64(u.UtilGpuSeconds, uint64(msg.MeanUtilPct)*msg.GpuSeconds, 0); carry != 0 {
		return errorsmod.Wrap(types.ErrInvalidUsage, "util_gpu_seconds overflows")
	}
	if err := k.Usage.Set(ctx, key, u); err != nil {
		return err
	}
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventUsageReported{
		LeaseId: lease.Id, Provider: lease.Provider, PeriodEnd: end, GpuSeconds: msg.GpuSeconds,
		MeanUtilPct: msg.MeanUtilPct, EnergyMj: msg.EnergyMj,
	})
}
