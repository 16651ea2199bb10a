package keeper_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cosmos/gogoproto/proto"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec/address"
	"github.com/cosmos/cosmos-sdk/runtime"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/stakingslash/keeper"
	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

const denom = types.DefaultBondDenom

// fixture is a whole app in memory with a writable keeper context over its
// committed state: real bank and account keepers behind the keeper.
type fixture struct {
	t     *testing.T
	app   *apptest.App
	k     *keeper.Keeper
	ctx   sdk.Context
	msgs  types.MsgServer
	query types.QueryServer

	provider, provider2, tenant, tenant2, reporter sdk.AccAddress
	moduleAddr, reserveAddr                        sdk.AccAddress
	// hooks records the StakingSlashHooks calls; set only by newHookedFixture.
	hooks *recordingHooks
	// corrupted is set by tests that break the state on purpose; the
	// end-of-test invariant check is skipped for them.
	corrupted bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	a := apptest.New(t)
	return newFixtureWith(t, a, a.StakingSlashKeeper)
}

// newHookedFixture runs a second keeper over the app's store with
// recording hooks, so that hooks can be observed whatever the app wires.
func newHookedFixture(t *testing.T) *fixture {
	t.Helper()
	a := apptest.New(t)
	k := keeper.NewKeeper(a.AppCodec(), runtime.NewKVStoreService(a.GetKey(types.StoreKey)),
		address.NewBech32Codec(app.AccountAddressPrefix), authtypes.NewModuleAddress(govtypes.ModuleName).String(),
		a.AccountKeeper, a.BankKeeper, app.MarketReserveAccount)
	h := &recordingHooks{}
	k.SetHooks(h)
	f := newFixtureWith(t, a, k)
	f.hooks = h
	return f
}

// newFixtureWith builds the fixture; every scenario ends with the
// invariants of all gpumesh modules checked.
func newFixtureWith(t *testing.T, a *apptest.App, k *keeper.Keeper) *fixture {
	t.Helper()
	f := &fixture{
		t: t, app: a, k: k, ctx: a.KeeperCtx(),
		msgs:        keeper.NewMsgServerImpl(k),
		query:       keeper.NewQueryServer(k),
		provider:    a.Account("provider1").Address,
		provider2:   a.Account("provider2").Address,
		tenant:      a.Account("alice").Address,
		tenant2:     a.Account("provider3").Address,
		reporter:    a.Account("bob").Address,
		moduleAddr:  authtypes.NewModuleAddress(types.ModuleName),
		reserveAddr: authtypes.NewModuleAddress(app.MarketReserveAccount),
	}
	t.Cleanup(func() {
		if !f.corrupted {
			require.NoError(t, a.CheckInvariants(f.ctx), "invariants at the end of the scenario")
		}
	})
	return f
}

// register simulates x/provider: the provider registers and lists gpus
// billable GPUs.
func (f *fixture) register(p sdk.AccAddress, gpus uint32) {
	f.t.Helper()
	require.NoError(f.t, f.k.ProviderHooks().AfterProviderRegistered(f.ctx, p))
	require.NoError(f.t, f.k.ProviderHooks().AfterInventoryChanged(f.ctx, p, gpus))
}

func (f *fixture) bond(p sdk.AccAddress, amount int64) {
	f.t.Helper()
	_, err := f.msgs.Bond(f.ctx, &types.MsgBond{Provider: p.String(), Amount: coin(amount)})
	require.NoError(f.t, err)
}

func (f *fixture) unbond(p sdk.AccAddress, amount int64) *types.MsgUnbondResponse {
	f.t.Helper()
	res, err := f.msgs.Unbond(f.ctx, &types.MsgUnbond{Provider: p.String(), Amount: coin(amount)})
	require.NoError(f.t, err)
	return res
}

// balance is an account's bond-denom balance.
func (f *fixture) balance(addr sdk.AccAddress) math.Int {
	return f.app.BankKeeper.GetBalance(f.ctx, addr, denom).Amount
}

func (f *fixture) bonded(p sdk.AccAddress) math.Int {
	f.t.Helper()
	b, err := f.k.Bonded(f.ctx, p)
	require.NoError(f.t, err)
	return b
}

func (f *fixture) eligible(p sdk.AccAddress) bool {
	f.t.Helper()
	ok, err := f.k.IsEligible(f.ctx, p)
	require.NoError(f.t, err)
	return ok
}

func (f *fixture) entries(p sdk.AccAddress) []types.UnbondingEntry {
	f.t.Helper()
	es, err := f.k.UnbondingEntriesOf(f.ctx, p)
	require.NoError(f.t, err)
	return es
}

// at moves the context to the given block time and height, with a fresh
// event manager.
func (f *fixture) at(height int64, blockTime time.Time) {
	f.ctx = f.ctx.WithBlockHeight(height).WithBlockTime(blockTime).WithEventManager(sdk.NewEventManager())
}

// advance moves the context d later and one block higher.
func (f *fixture) advance(d time.Duration) {
	f.at(f.ctx.BlockHeight()+1, f.ctx.BlockTime().Add(d))
}

// newEvents starts collecting events afresh.
func (f *fixture) newEvents() { f.ctx = f.ctx.WithEventManager(sdk.NewEventManager()) }

func (f *fixture) checkInvariants() {
	f.t.Helper()
	require.NoError(f.t, f.k.CheckInvariants(f.ctx))
}

func coin(n int64) sdk.Coin { return sdk.NewCoin(denom, math.NewInt(n)) }

func ints(n int64) math.Int { return math.NewInt(n) }

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

// recordingHooks records StakingSlashHooks calls; err, when set, is
// returned by AfterProviderSlashed.
type recordingHooks struct {
	calls []string
	jails []time.Time
	total []math.Int
	err   error
}

func (h *recordingHooks) AfterProviderSlashed(_ context.Context, p sdk.AccAddress, i types.Infraction, slashed math.Int) error {
	h.calls = append(h.calls, "slashed "+p.String()+" "+i.String())
	h.total = append(h.total, slashed)
	return h.err
}

func (h *recordingHooks) AfterEligibilityChanged(_ context.Context, p sdk.AccAddress, eligible bool) error {
	h.calls = append(h.calls, fmt.Sprintf("eligible %s %t", p, eligible))
	return nil
}

func (h *recordingHooks) AfterProviderJailed(_ context.Context, p sdk.AccAddress, until time.Time) error {
	h.calls = append(h.calls, "jailed "+p.String())
	h.jails = append(h.jails, until)
	return nil
}

var errHook = errors.New("hook refuses")
