package keeper_test

import (
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/escrow/keeper"
	"github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
)

// x/market drives x/escrow through this interface.
var _ markettypes.EscrowKeeper = (*keeper.Keeper)(nil)

const (
	umesh = "umesh"
	uusdc = "uusdc"
)

// fixture is a whole app in memory with a writable keeper context over its
// committed state: real bank, distribution and account keepers behind the
// escrow keeper.
type fixture struct {
	t     *testing.T
	app   *apptest.App
	k     *keeper.Keeper
	ctx   sdk.Context
	msgs  types.MsgServer
	query types.QueryServer

	tenant, tenant2, provider, provider2, payer sdk.AccAddress
	moduleAddr, reserveAddr, distrAddr          sdk.AccAddress
	// corrupted is set by tests that break the state on purpose; the
	// end-of-test invariant check is skipped for them.
	corrupted bool
}

// newFixture builds the fixture; every scenario ends with the invariants of
// all gpumesh modules checked. Its min_deposits are one base unit of each
// denom: these tests check the settlement arithmetic on small, round
// amounts (3600 units an hour…). TestOpenAccountMinDeposit checks the
// minimum with the params of a local network (newLocalnetFixture).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, apptest.New(t, withEscrowParams(func(p *types.Params) {
		p.MinDeposits = sdk.NewCoins(sdk.NewInt64Coin(umesh, 1), sdk.NewInt64Coin(uusdc, 1))
	})))
}

// newLocalnetFixture is the fixture over the genesis a local network and
// every other test app uses: the default params with uusdc allowed
// (app.AllowStablePayments).
func newLocalnetFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, apptest.New(t))
}

// withEscrowParams changes x/escrow's genesis params.
func withEscrowParams(mut func(p *types.Params)) apptest.Option {
	return apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
		var gen types.GenesisState
		if err := cdc.UnmarshalJSON(state[types.ModuleName], &gen); err != nil {
			return err
		}
		mut(&gen.Params)
		bz, err := cdc.MarshalJSON(&gen)
		state[types.ModuleName] = bz
		return err
	})
}

func newFixtureWith(t *testing.T, a *apptest.App) *fixture {
	t.Helper()
	f := &fixture{
		t: t, app: a, k: a.EscrowKeeper, ctx: a.KeeperCtx(),
		msgs:        keeper.NewMsgServerImpl(a.EscrowKeeper),
		query:       keeper.NewQueryServer(a.EscrowKeeper),
		tenant:      a.Account("alice").Address,
		tenant2:     a.Account("bob").Address,
		provider:    a.Account("provider1").Address,
		provider2:   a.Account("provider2").Address,
		payer:       a.Account("provider3").Address,
		moduleAddr:  authtypes.NewModuleAddress(types.ModuleName),
		reserveAddr: authtypes.NewModuleAddress(app.MarketReserveAccount),
		distrAddr:   authtypes.NewModuleAddress(distrtypes.ModuleName),
	}
	t.Cleanup(func() {
		if !f.corrupted {
			require.NoError(t, a.CheckInvariants(f.ctx), "invariants at the end of the scenario")
		}
	})
	return f
}

// now is the block time in unix seconds.
func (f *fixture) now() int64 { return f.ctx.BlockTime().Unix() }

// at moves the context to the given unix second, one block higher, with a
// fresh event manager.
func (f *fixture) at(unix int64) {
	f.ctx = f.ctx.WithBlockHeight(f.ctx.BlockHeight() + 1).WithBlockTime(time.Unix(unix, 0).UTC()).
		WithEventManager(sdk.NewEventManager())
}

// advance moves the block time forward by secs seconds.
func (f *fixture) advance(secs int64) { f.at(f.now() + secs) }

// newEvents starts collecting events afresh.
func (f *fixture) newEvents() { f.ctx = f.ctx.WithEventManager(sdk.NewEventManager()) }

func (f *fixture) open(tenant sdk.AccAddress, seq uint64, deposit sdk.Coin) types.Account {
	f.t.Helper()
	acc, err := f.k.OpenAccount(f.ctx, tenant, seq, deposit)
	require.NoError(f.t, err)
	return acc
}

func (f *fixture) start(tenant sdk.AccAddress, seq uint64, provider sdk.AccAddress, price int64, gpus uint32, duration uint64) types.Account {
	f.t.Helper()
	acc, err := f.k.StartStream(f.ctx, tenant, seq, provider, math.NewInt(price), gpus, duration)
	require.NoError(f.t, err)
	return acc
}

func (f *fixture) account(tenant sdk.AccAddress, seq uint64) types.Account {
	f.t.Helper()
	acc, err := f.k.GetAccount(f.ctx, tenant, seq)
	require.NoError(f.t, err)
	return acc
}

func (f *fixture) withdraw(provider sdk.AccAddress, ids ...types.AccountID) (paid, fees sdk.Coins) {
	f.t.Helper()
	paid, fees, err := f.k.Withdraw(f.ctx, provider, ids)
	require.NoError(f.t, err)
	return paid, fees
}

func (f *fixture) close(tenant sdk.AccAddress, seq uint64) types.Account {
	f.t.Helper()
	acc, err := f.k.CloseAccount(f.ctx, tenant, seq)
	require.NoError(f.t, err)
	return acc
}

// balance is an address's bank balance in denom.
func (f *fixture) balance(addr sdk.AccAddress, denom string) math.Int {
	return f.app.BankKeeper.GetBalance(f.ctx, addr, denom).Amount
}

// communityPool is the community pool's amount of denom (whole units).
func (f *fixture) communityPool(denom string) math.Int {
	fp, err := f.app.DistrKeeper.FeePool.Get(f.ctx)
	require.NoError(f.t, err)
	return fp.CommunityPool.AmountOf(denom).TruncateInt()
}

// books is a snapshot of every balance a settlement can move.
type books struct {
	tenant, provider, module, reserve, pool, payer math.Int
}

func (f *fixture) books(tenant, provider sdk.AccAddress, denom string) books {
	return books{
		tenant:   f.balance(tenant, denom),
		provider: f.balance(provider, denom),
		module:   f.balance(f.moduleAddr, denom),
		reserve:  f.balance(f.reserveAddr, denom),
		pool:     f.communityPool(denom),
		payer:    f.balance(f.payer, denom),
	}
}

// requireMoved checks the exact change of every balance between two
// snapshots, and that the changes sum to zero: nothing created or lost.
func (f *fixture) requireMoved(before, after books, tenant, provider, module, reserve, pool, payer int64) {
	f.t.Helper()
	diff := func(name string, b, a math.Int, want int64) {
		f.t.Helper()
		require.Equal(f.t, math.NewInt(want).String(), a.Sub(b).String(), name)
	}
	diff("tenant", before.tenant, after.tenant, tenant)
	diff("provider", before.provider, after.provider, provider)
	diff("escrow module", before.module, after.module, module)
	diff("market reserve", before.reserve, after.reserve, reserve)
	diff("community pool", before.pool, after.pool, pool)
	diff("payer", before.payer, after.payer, payer)
	require.Zero(f.t, tenant+provider+module+reserve+pool+payer, "nothing is created or lost")
}

func (f *fixture) checkInvariants() {
	f.t.Helper()
	require.NoError(f.t, f.k.CheckInvariants(f.ctx))
}

func coin(denom string, n int64) sdk.Coin { return sdk.NewCoin(denom, math.NewInt(n)) }

func idOf(tenant sdk.AccAddress, seq uint64) types.AccountID { return types.NewAccountID(tenant, seq) }

// requireInt compares an Int with an int64 by value.
func requireInt(t *testing.T, want int64, got math.Int, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, math.NewInt(want).String(), got.String(), msgAndArgs...)
}

// eventsOf returns the typed events of type T emitted on ctx, in order.
func eventsOf[T proto.Message](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	for _, e := range ctx.EventManager().ABCIEvents() {
		msg, err := sdk.ParseTypedEvent(e)
		if err != nil {
			continue // an untyped event (bank's coin_spent, …)
		}
		if m, ok := msg.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

func coins(denom string, n int64) sdk.Coins { return sdk.NewCoins(coin(denom, n)) }

func testAccount(name string) sdk.AccAddress { return apptest.NewAccount(name).Address }
