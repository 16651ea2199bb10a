package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/bench/results"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// TestEndBlockScaling measures EndBlock and whole blocks as the number of
// active leases grows, with a fixed set of providers. Nothing per block
// may grow with the leases (time-keyed queues, lazy settlement), so both
// stay flat apart from the store's logarithmic depth.
//
// Smoke run: 40 providers, 20 then 200 leases. Full run: 10 000 providers
// with 100 000 GPUs, 1 000, 10 000 and 100 000 leases.
func TestEndBlockScaling(t *testing.T) {
	providers, tenants, sizes, reps, blocks, blockTxs := 40, 20, []int{20, 200}, 3, 3, 10
	if Full() {
		providers, tenants, sizes, reps, blocks, blockTxs = 10_000, 2_000, []int{1_000, 10_000, 100_000}, 200, 30, 100
	}
	start := time.Now()
	m := NewMarket(t, providers, tenants)
	res := results.Scaling{Providers: providers, GPUs: providers * GPUsPerProvider, BlockTxs: blockTxs}
	for _, size := range sizes {
		m.AddLeases(size-m.Leases, longLease)
		m.Settle()
		for range 5 {
			m.MustBlock()
		}
		stats, err := m.MarketKeeper.Counters.Get(m.Ctx())
		require.NoError(t, err)
		require.Equal(t, uint64(size), stats.ActiveLeases)

		stop := profile(t, fmt.Sprintf("endblock-%d", size))
		p := results.ScalingPoint{Leases: size}
		ds := make([]time.Duration, blocks)
		for b := range ds {
			txs := make([][]byte, blockTxs)
			for i := range txs {
				from := m.Providers + (b*blockTxs+i)%m.Tenants
				txs[i] = m.Sign(from, banktypes.NewMsgSend(m.Accounts[from].Address, m.provider(i).Address,
					sdk.NewCoins(sdk.NewCoin(app.StableDenom, math.NewInt(1)))))
			}
			_, ds[b] = m.MustBlock(txs...)
		}
		p.BlockMs = ms(median(ds))
		cost := m.EndBlockTime(reps)
		stop()
		p.EndBlockMs, p.EndBlockModulesMs = ms(cost.Total), map[string]float64{}
		for name, d := range cost.Modules {
			p.EndBlockModulesMs[name] = ms(d)
		}
		p.EndBlockGas, p.EndBlockModulesGas, p.DBTables = cost.Gas, cost.ModuleGas, m.DBTables()
		// Nothing ran dry or expired while measuring.
		stats, err = m.MarketKeeper.Counters.Get(m.Ctx())
		require.NoError(t, err)
		require.Equal(t, uint64(size), stats.ActiveLeases)
		t.Logf("%7d leases: EndBlock %.3f ms %v gas %v, block of %d txs %.1f ms, db tables %v",
			size, p.EndBlockMs, p.EndBlockModulesMs, p.EndBlockModulesGas, blockTxs, p.BlockMs, p.DBTables)
		res.Points = append(res.Points, p)
	}
	require.NoError(t, m.CheckInvariants(m.Ctx()))
	// EndBlock does the same store work at every size: each module's gas
	// is equal to the smallest size's, except x/proofofcompute's, whose
	// epoch counters (GPU-seconds leased and idle) are encoded in more
	// bytes as they grow.
	for _, p := range res.Points[1:] {
		for name, gas := range p.EndBlockModulesGas {
			want := res.Points[0].EndBlockModulesGas[name]
			if name == poctypes.ModuleName {
				require.InEpsilon(t, want, gas, 0.05, "EndBlock gas of %s at %d leases", name, p.Leases)
				continue
			}
			require.Equal(t, want, gas, "EndBlock gas of %s at %d leases", name, p.Leases)
		}
	}
	res.SetupSeconds = time.Since(start).Seconds()
	minE, maxE, minB, maxB := res.Points[0].EndBlockMs, res.Points[0].EndBlockMs, res.Points[0].BlockMs, res.Points[0].BlockMs
	for _, p := range res.Points {
		minE, maxE, minB, maxB = min(minE, p.EndBlockMs), max(maxE, p.EndBlockMs), min(minB, p.BlockMs), max(maxB, p.BlockMs)
	}
	res.EndBlockRatio, res.BlockRatio = maxE/minE, maxB/minB
	WriteResult(t, "endblock.json", res)
}

// TestSettlementStorm starts leases that all run dry at the same second
// and measures the blocks that close them. Every one settles exactly (its
// whole deposit paid, even when the cap defers its close to a later block)
// and frees its GPU; each block closes at most x/market's
// max_dry_closes_per_block (its default here).
//
// Smoke run: the cap plus 50 leases (two blocks). Full run: 5 000.
func TestSettlementStorm(t *testing.T) {
	perBlock := int(markettypes.DefaultMaxDryClosesPerBlock)
	leases, providers := perBlock+50, perBlock/GPUsPerProvider+5
	if Full() {
		leases, providers = 5_000, 500
	}
	m := NewMarket(t, providers, leases)
	params, err := m.MarketKeeper.GetParams(m.Ctx())
	require.NoError(t, err)
	require.Equal(t, perBlock, int(params.MaxDryClosesPerBlock), "the bench chain runs the default cap")
	// 1 USDC at 2 USDC per GPU-hour lasts 1 800 s.
	const deposit = 1_000_000
	ids := m.AddLeases(leases, LeaseOpts{Deposit: deposit, PricePerGPUHour: 2_000_000})
	account := func(id markettypes.OrderID) escrowAccount {
		a, err := m.EscrowKeeper.GetAccount(m.Ctx(), sdk.MustAccAddressFromBech32(id.Tenant), id.Seq)
		require.NoError(t, err)
		return escrowAccount{dry: a.RunsDryAt, paid: a.Paid}
	}
	dry := account(ids[0]).dry
	for _, id := range ids {
		require.True(t, account(id).dry.Equal(dry), "lease %s runs dry at %s, not %s", id, account(id).dry, dry)
	}
	activeLeases := func() int {
		stats, err := m.MarketKeeper.Counters.Get(m.Ctx())
		require.NoError(t, err)
		return int(stats.ActiveLeases)
	}

	// The last quiet block, one second before.
	_, quiet := m.BlockAt(dry.Add(-time.Second))
	require.Equal(t, leases, activeLeases())
	res := results.Storm{Leases: leases, Cap: perBlock, QuietBlockMs: ms(quiet)}
	var total time.Duration
	for at := dry; activeLeases() > 0; at = at.Add(time.Second) {
		require.Less(t, len(res.Blocks), leases/perBlock+1, "the storm takes ⌈leases / cap⌉ blocks")
		endCtx := m.SetupCtx().WithBlockTime(at).WithBlockHeight(m.LastBlockHeight() + 1)
		start := time.Now()
		_, err := m.ModuleManager.EndBlock(endCtx)
		eb := time.Since(start)
		require.NoError(t, err)
		before := activeLeases()
		_, d := m.BlockAt(at)
		b := results.StormBlock{Closed: before - activeLeases(), EndBlockMs: ms(eb), BlockMs: ms(d)}
		require.Equal(t, min(before, perBlock), b.Closed, "block %d of the storm", len(res.Blocks)+1)
		res.Blocks = append(res.Blocks, b)
		total += d
	}
	res.PerLeaseUs = float64(total.Microseconds()) / float64(leases)
	for _, id := range ids {
		l, err := m.MarketKeeper.GetLease(m.Ctx(), id)
		require.NoError(t, err)
		require.Equal(t, markettypes.LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS, l.CloseReason, "lease %s", id)
		require.Equal(t, math.NewInt(deposit), account(id).paid, "lease %s paid exactly its deposit", id)
	}
	require.NoError(t, m.CheckInvariants(m.Ctx()))
	t.Logf("%d leases run dry together: quiet block %.1f ms, storm blocks %+v (%.0f µs per lease)",
		leases, res.QuietBlockMs, res.Blocks, res.PerLeaseUs)
	WriteResult(t, "storm.json", res)
}

type escrowAccount struct {
	dry  time.Time
	paid math.Int
}
