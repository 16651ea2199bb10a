package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"cosmossdk.io/math"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/metrics"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// bondFixture is an active provider listing its two GPUs, bonded 200 MESH
// as required, with a state dir.
func bondFixture(t *testing.T) *fakeRegistrarEnv {
	f, p, list := syncFixture(providertypes.PROVIDER_STATUS_ACTIVE, true)
	p.StateDir = t.TempDir()
	e := &fakeRegistrarEnv{f: f, p: p, list: list, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, err := Sync(context.Background(), f, p, list, true, true, e.log) // the operator's register
	require.NoError(t, err)
	require.Equal(t, "200000000", f.st.Bond.Bonded.String())
	f.sent = nil
	return e
}

type fakeRegistrarEnv struct {
	f    *fakeRegistrar
	p    config.Provider
	list []gpus.GPU
	log  *slog.Logger
}

// run is one sync of the running sidecar (auto-bond on).
func (e *fakeRegistrarEnv) run(t *testing.T) SyncResult {
	t.Helper()
	res, err := Sync(context.Background(), e.f, e.p, e.list, true, false, e.log)
	require.NoError(t, err)
	return res
}

// unbond is the operator's `gpumeshd tx stakingslash unbond`: an
// unbonding entry and a smaller bond.
func (e *fakeRegistrarEnv) unbond(id uint64, amount int64) {
	e.f.st.Bond.Bonded = e.f.st.Bond.Bonded.Sub(math.NewInt(amount))
	e.f.st.Bond.Unbonding = append(e.f.st.Bond.Unbonding, stakingslashtypes.UnbondingEntry{Id: id,
		CreationHeight: 50, CompletionTime: time.Unix(1_700_000_000, 0), InitialBalance: math.NewInt(amount),
		Balance: math.NewInt(amount)})
}

func bonds(msgs []sdk.Msg) int {
	n := 0
	for _, m := range msgs {
		if _, ok := m.(*stakingslashtypes.MsgBond); ok {
			n++
		}
	}
	return n
}

// The operator unbonds by hand: the running sidecar does not bond it back,
// not even after the unbonding completed or a restart, until the operator
// runs register with bonding; a later unbond holds it again.
func TestAutoBondRespectsOperatorUnbond(t *testing.T) {
	e := bondFixture(t)
	e.unbond(3, 150_000_000)
	res := e.run(t)
	require.Zero(t, bonds(e.f.sent), "no bond after the operator's unbond")
	require.Equal(t, HoldOperatorUnbond, res.BondHeld.Reason)
	require.Contains(t, res.BondHeld.Detail, "unbonding entry 3")

	e.f.st.Bond.Unbonding = nil // the unbonding completed
	res = e.run(t)
	require.Zero(t, bonds(e.f.sent), "still held once the entry is gone (remembered in the state dir)")
	require.Equal(t, HoldOperatorUnbond, res.BondHeld.Reason)

	_, err := Sync(context.Background(), e.f, e.p, e.list, true, true, e.log) // register --bond
	require.NoError(t, err)
	require.Equal(t, 1, bonds(e.f.sent), "the operator's register bonds")
	require.Equal(t, "200000000", e.f.st.Bond.Bonded.String())

	e.unbond(4, 50_000_000)
	e.unbond(5, 10_000_000)
	_, err = Sync(context.Background(), e.f, e.p, e.list, true, true, e.log) // register again: acknowledges 4 and 5
	require.NoError(t, err)
	require.Equal(t, 2, bonds(e.f.sent))
	e.f.st.Bond.Bonded = e.f.st.Bond.Bonded.Sub(math.NewInt(30_000_000)) // a slash, not an unbond
	res = e.run(t)
	require.Empty(t, res.BondHeld.Reason, "acknowledged entries do not hold")
	require.Equal(t, 3, bonds(e.f.sent), "the slash is bonded back")

	e.unbond(6, 20_000_000)
	res = e.run(t)
	require.Equal(t, HoldOperatorUnbond, res.BondHeld.Reason, "a newer unbond holds again")
	require.Equal(t, 3, bonds(e.f.sent))
}

// The required bond is bonded only up to provider.max_auto_bond, and only
// when it is what the chain's params imply for the listed GPUs.
func TestAutoBondCapAndRequiredCheck(t *testing.T) {
	for name, tc := range map[string]struct {
		edit   func(e *fakeRegistrarEnv)
		reason string
	}{
		"above the cap":        {func(e *fakeRegistrarEnv) { e.p.MaxAutoBond = "150000000umesh" }, HoldAboveMax},
		"cap in another denom": {func(e *fakeRegistrarEnv) { e.p.MaxAutoBond = "1000000000uusdc" }, HoldAboveMax},
		"inflated required bond": {func(e *fakeRegistrarEnv) {
			e.f.st.Bond.Required = math.NewInt(1_500_000_000)
		}, HoldRequiredMismatch},
		"more billable GPUs than listed": {func(e *fakeRegistrarEnv) {
			e.f.st.Bond.BillableGpus, e.f.st.Bond.Required = 5, math.NewInt(500_000_000)
		}, HoldRequiredMismatch},
	} {
		t.Run(name, func(t *testing.T) {
			e := bondFixture(t)
			e.f.st.Bond.Bonded = math.NewInt(10_000_000) // slashed: the sidecar bonds the difference
			tc.edit(e)
			res := e.run(t)
			require.Equal(t, tc.reason, res.BondHeld.Reason, res.BondHeld.Detail)
			require.Zero(t, bonds(e.f.sent))
			_, err := Sync(context.Background(), e.f, e.p, e.list, true, true, e.log)
			require.ErrorContains(t, err, "not bonding", "the operator's register says why")
			require.Zero(t, bonds(e.f.sent))
		})
	}
	e := bondFixture(t)
	e.f.st.Bond.Bonded = math.NewInt(10_000_000)
	res := e.run(t)
	require.Empty(t, res.BondHeld.Reason)
	require.Equal(t, "190000000umesh", res.Bonded.String(), "a slash is bonded back")
}

// A bond the account cannot pay does not fail the running sidecar's sync
// (the inventory is still kept in step) and is logged once per change,
// counted every time.
func TestAutoBondFailureLoggedOnce(t *testing.T) {
	e := bondFixture(t)
	e.f.st.Bond.Bonded = math.NewInt(10_000_000)
	insufficient := errors.New("spendable balance 5umesh is smaller than 190000000umesh: insufficient funds")
	e.f.refuse = func(m sdk.Msg) error {
		if _, ok := m.(*stakingslashtypes.MsgBond); ok {
			return insufficient
		}
		return nil
	}
	logs := &countingHandler{counts: map[string]int{}}
	s := &Service{Metrics: metrics.New(prometheus.NewRegistry()), Board: state.NewBoard()}
	for range 3 {
		res := e.run(t)
		require.ErrorIs(t, res.BondErr, insufficient)
		s.noteAutoBond(res, slog.New(logs))
	}
	require.Equal(t, 1, logs.counts["WARN auto-bonding failed; retried every sync, logged again only when the error "+
		"changes (gpumesh_provider_auto_bond_failures_total counts the tries)"])
	require.InDelta(t, 3, testutil.ToFloat64(s.Metrics.AutoBondFailures), 0)
	require.Contains(t, s.Board.AutoBond().LastError, "insufficient funds")

	e.f.refuse = nil
	res := e.run(t)
	s.noteAutoBond(res, slog.New(logs))
	require.Equal(t, 1, logs.counts["INFO auto-bonding resumed"])
	require.Empty(t, s.Board.AutoBond().LastError)

	e.unbond(9, 100_000_000)
	for range 2 {
		s.noteAutoBond(e.run(t), slog.New(logs))
	}
	require.Equal(t, 1, logs.counts["WARN auto-bonding held"])
	require.InDelta(t, 1, testutil.ToFloat64(s.Metrics.AutoBondHeld.WithLabelValues(HoldOperatorUnbond)), 0)
	require.True(t, s.Board.AutoBond().Held)
}

// countingHandler counts log records by level and message.
type countingHandler struct{ counts map[string]int }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.counts[r.Level.String()+" "+r.Message]++
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
