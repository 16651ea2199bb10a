package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Self-dealing: a provider leases its GPUs to its own second account at
// the lowest price and closes each lease seconds later. Before the fix
// every such close counted as a completed lease and raised its reputation
// by a full step (ten of them took it from 5000 to 5475) for almost
// no fee. A completed lease now moves the score by lease_completed_bps ×
// min(1, paid / reputation_lease_value) × min(1, duration /
// reputation_lease_seconds): the dust leases move nothing, a lease that
// paid the full value for the full duration moves it a whole step, and one
// that paid half for half the time a quarter step.
func TestReputationWeighsCompletedLeasesByValueAndDuration(t *testing.T) {
	f := newMarket(t)
	f.onboard(f.p1, "US", fixtures.H100x8("p1"))
	params, err := f.k.GetParams(f.ctx)
	require.NoError(t, err)
	value := params.ReputationLeaseValue.AmountOf(testUSDC)
	require.True(t, value.IsPositive(), "the test app weighs uusdc leases")
	require.Equal(t, uint64(3600), params.ReputationLeaseSeconds)
	start := f.reputation(f.p1)
	require.Equal(t, uint32(5000), start)

	// Ten dust leases from the provider's second account (alice stands for
	// it), each closed by its tenant after ten seconds.
	for range 10 {
		id, _ := f.instantLease(f.p1, 1, func(m *types.MsgCreateOrder) {
			m.MaxPricePerGpuHour = sdk.NewInt64Coin(testUSDC, 1)
			m.Deposit = sdk.NewInt64Coin(testUSDC, 1_000_000)
		})
		f.advance(10)
		_, err := f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.tenant.String(), LeaseId: id})
		require.NoError(t, err)
	}
	require.Equal(t, start, f.reputation(f.p1), "dust leases earn no reputation")

	// A real lease: 2 GPUs at 50 USDC per GPU-hour for an hour pays 100
	// USDC, the full reputation_lease_value, over the full
	// reputation_lease_seconds.
	real := func(secs int64) {
		t.Helper()
		id, _ := f.instantLease(f.p1, 50_000_000, func(m *types.MsgCreateOrder) {
			m.MaxPricePerGpuHour = sdk.NewInt64Coin(testUSDC, 50_000_000)
			m.Deposit = sdk.NewCoin(testUSDC, value)
		})
		f.advance(secs)
		_, err := f.msgs.CloseLease(f.ctx, &types.MsgCloseLease{Sender: f.tenant.String(), LeaseId: id})
		require.NoError(t, err)
	}
	real(3600)
	full := start + (10_000-start)*100/10_000 // lease_completed_bps = 100
	require.Equal(t, full, f.reputation(f.p1))

	// Half the value over half the time: a quarter step (25 bps).
	real(1800)
	require.Equal(t, full+(10_000-full)*25/10_000, f.reputation(f.p1))
	require.Equal(t, uint64(12), f.providerStats(f.p1).LeasesCompleted, "every completed lease is counted")
}

// providerStats returns a provider's running totals.
func (f *marketFixture) providerStats(p sdk.AccAddress) providertypes.ProviderStats {
	f.t.Helper()
	pr, err := f.app.ProviderKeeper.GetProvider(f.ctx, p)
	require.NoError(f.t, err)
	return pr.Stats
}
