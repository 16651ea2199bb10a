package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"cosmossdk.io/core/appmodule"

	"github.com/cosmos/cosmos-sdk/codec"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	marketkeeper "github.com/gpumesh/gpumesh/x/market/keeper"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providerkeeper "github.com/gpumesh/gpumesh/x/provider/keeper"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashkeeper "github.com/gpumesh/gpumesh/x/stakingslash/keeper"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// GPUsPerProvider is the size of every provider's one node in the large
// states: 10 000 providers list 100 000 GPUs.
const GPUsPerProvider = 10

// Market is a large live market built directly through the message
// servers (no ante handler, no signatures: building 100 000 leases by
// transactions would take longer than the benchmark), committed block by
// block so that the state is the one a chain would have.
type Market struct {
	*Chain
	t         testing.TB
	Providers int
	Tenants   int
	// Leases is how many leases are active.
	Leases int
	// leasesOf counts the leases of each tenant (its next order seq - 1).
	leasesOf []int
}

// marketAccounts is the account layout of a Market: providers first, then
// tenants.
func (m *Market) provider(i int) *Account { return m.Accounts[i] }
func (m *Market) tenant(i int) *Account   { return m.Accounts[m.Providers+i] }

// NewMarket starts a chain with providers registered, listed (one node of
// GPUsPerProvider H100 each) and bonded, and tenants funded. Capacity
// challenges are off (sample rate 0) so that no provider is checked, and
// slashed for not answering, during the measurement.
func NewMarket(t testing.TB, providers, tenants int) *Market {
	t.Helper()
	c := NewChain(t, Config{Accounts: providers + tenants, Genesis: func(cdc codec.JSONCodec, state app.GenesisState) error {
		return app.SetChallengeSchedule(cdc, state, poctypes.DefaultEpochBlocks, math.LegacyZeroDec())
	}})
	m := &Market{Chain: c, t: t, Providers: providers, Tenants: tenants, leasesOf: make([]int, tenants)}
	params, err := c.StakingSlashKeeper.GetParams(c.Ctx())
	require.NoError(t, err)
	provSrv := providerkeeper.NewMsgServerImpl(c.ProviderKeeper)
	slashSrv := stakingslashkeeper.NewMsgServerImpl(c.StakingSlashKeeper)
	const batch = 2_000
	for lo := 0; lo < providers; lo += batch {
		ctx := c.SetupCtx()
		for i := lo; i < min(lo+batch, providers); i++ {
			p := m.provider(i)
			_, err := provSrv.RegisterProvider(ctx, fixtures.Register(p.Address, fmt.Sprintf("p%d", i), "US-east1"))
			require.NoError(t, err)
			_, err = provSrv.SetInventory(ctx, &providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: m.inventory(i)})
			require.NoError(t, err)
			_, err = slashSrv.Bond(ctx, &stakingslashtypes.MsgBond{Provider: p.Address.String(),
				Amount: sdk.NewCoin(app.BondDenom, params.MinBondPerGpu.MulRaw(GPUsPerProvider))})
			require.NoError(t, err)
		}
		c.CommitSetup(ctx)
	}
	return m
}

// inventory is provider i's node.
func (m *Market) inventory(i int) []providertypes.Node {
	return []providertypes.Node{fixtures.Node("n0", fixtures.GPUs(fmt.Sprintf("bench-%d", i), fixtures.H100SXM, 0, GPUsPerProvider)...)}
}

// LeaseOpts shape the leases AddLeases starts.
type LeaseOpts struct {
	// Deposit is each order's deposit in uusdc.
	Deposit int64
	// PricePerGPUHour is each winning bid's price in uusdc.
	PricePerGPUHour int64
}

// longLease pays for 31 days: no lease of the scaling benchmark runs dry
// while it is measured.
var longLease = LeaseOpts{Deposit: 1_500_000_000, PricePerGPUHour: 2_000_000}

// AddLeases starts n more one-GPU leases: tenants take turns ordering
// instantly, and the provider with a free GPU bids; the bid becomes the
// lease in the same call. It returns the ids of the new leases.
func (m *Market) AddLeases(n int, opts LeaseOpts) []markettypes.OrderID {
	m.t.Helper()
	require.LessOrEqual(m.t, m.Leases+n, m.Providers*GPUsPerProvider, "not enough GPUs")
	srv := marketkeeper.NewMsgServerImpl(m.MarketKeeper)
	params, err := m.MarketKeeper.GetParams(m.Ctx())
	require.NoError(m.t, err)
	usdc := func(v int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, math.NewInt(v)) }
	ids := make([]markettypes.OrderID, 0, n)
	const batch = 5_000
	for lo := 0; lo < n; lo += batch {
		ctx := m.SetupCtx()
		for range min(batch, n-lo) {
			k := m.Leases
			ti, pi, gpu := k%m.Tenants, k%m.Providers, k/m.Providers
			tenant := m.tenant(ti)
			_, err := srv.CreateOrder(ctx, &markettypes.MsgCreateOrder{Tenant: tenant.Address.String(),
				Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1},
				MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(opts.Deposit)})
			require.NoError(m.t, err)
			m.leasesOf[ti]++
			id := markettypes.NewOrderID(tenant.Address, uint64(m.leasesOf[ti]))
			_, err = srv.CreateBid(ctx, &markettypes.MsgCreateBid{Provider: m.provider(pi).Address.String(), OrderId: id,
				PricePerGpuHour: usdc(opts.PricePerGPUHour), Gpus: []string{m.inventory(pi)[0].Gpus[gpu].Uuid},
				Deposit: params.BidDeposit})
			require.NoError(m.t, err)
			ids = append(ids, id)
			m.Leases++
		}
		m.CommitSetup(ctx)
	}
	return ids
}

// EndBlockCost is what the app's EndBlock costs with nothing due: the
// median time of the whole EndBlock and of each module's, and the gas each
// module's store accesses consume (the KV gas schedule charges every read,
// write and iterator step by the bytes it touches, so equal gas means equal
// store work).
type EndBlockCost struct {
	Total     time.Duration
	Modules   map[string]time.Duration
	Gas       uint64
	ModuleGas map[string]uint64
}

// EndBlockTime runs the app's EndBlock (every module, in the app's order)
// on a private copy of the next block's state, reps times. Nothing is
// committed. Every rep must consume the same gas.
func (m *Market) EndBlockTime(reps int) EndBlockCost {
	m.t.Helper()
	totals := make([]time.Duration, reps)
	per := map[string][]time.Duration{}
	cost := EndBlockCost{Modules: map[string]time.Duration{}, ModuleGas: map[string]uint64{}}
	for i := range totals {
		ctx := m.SetupCtx().WithBlockTime(m.BlockTime.Add(BlockInterval)).WithBlockHeight(m.LastBlockHeight() + 1)
		for _, name := range m.ModuleManager.OrderEndBlockers {
			meter := storetypes.NewInfiniteGasMeter()
			ctx := ctx.WithGasMeter(meter)
			start := time.Now()
			var err error
			switch mod := m.ModuleManager.Modules[name].(type) {
			case appmodule.HasEndBlocker:
				err = mod.EndBlock(ctx)
			case module.HasABCIEndBlock:
				_, err = mod.EndBlock(ctx)
			default:
				continue
			}
			d := time.Since(start)
			require.NoError(m.t, err, "EndBlock of %s", name)
			per[name] = append(per[name], d)
			totals[i] += d
			if i == 0 {
				cost.ModuleGas[name] = meter.GasConsumed()
			} else {
				require.Equal(m.t, cost.ModuleGas[name], meter.GasConsumed(), "EndBlock gas of %s, rep %d", name, i)
			}
		}
	}
	for name, ds := range per {
		cost.Modules[name] = median(ds)
		cost.Gas += cost.ModuleGas[name]
	}
	cost.Total = median(totals)
	return cost
}

// median is the middle of ds (the mean of the two middles for even
// lengths).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
