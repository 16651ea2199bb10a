package keeper_test

import (
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/provider/keeper"
	"github.com/gpumesh/gpumesh/x/provider/types"
)

// suite is one in-memory app with the x/provider keeper, its services and
// a writable keeper context; every scenario ends with the invariants.
type suite struct {
	t   *testing.T
	app *apptest.App
	ctx sdk.Context
	k   *keeper.Keeper
	msg types.MsgServer
	q   types.QueryServer
}

// verify marks GPUs of owner verified the way x/proofofcompute does after
// a passed check: verified in x/provider, and their node queued in
// x/proofofcompute for the check to expire.
func (s *suite) verify(owner sdk.AccAddress, uuids ...string) {
	s.t.Helper()
	require.NoError(s.t, s.k.SetGPUsVerified(s.ctx, owner, uuids, true))
	for _, u := range uuids {
		loc, err := s.k.GPUIndex.Get(s.ctx, u)
		require.NoError(s.t, err)
		require.NoError(s.t, s.app.ProofOfComputeKeeper.VerificationExpiry.Set(s.ctx,
			collections.Join3(s.ctx.BlockHeight()+1000, owner, loc.NodeId)))
	}
}

func setup(t *testing.T) *suite {
	t.Helper()
	a := apptest.New(t)
	s := &suite{
		t: t, app: a, ctx: a.KeeperCtx(), k: a.ProviderKeeper,
		msg: keeper.NewMsgServerImpl(a.ProviderKeeper), q: keeper.NewQueryServer(a.ProviderKeeper),
	}
	t.Cleanup(func() {
		require.NoError(t, s.app.CheckInvariants(s.ctx), "module invariants")
	})
	return s
}

func (s *suite) addr(name string) sdk.AccAddress { return s.app.Account(name).Address }

// register registers the named account with fixed details in region.
func (s *suite) register(name, region string) sdk.AccAddress {
	s.t.Helper()
	owner := s.addr(name)
	_, err := s.msg.RegisterProvider(s.ctx, fixtures.Register(owner, name, region))
	require.NoError(s.t, err)
	return owner
}

func (s *suite) setInventory(owner sdk.AccAddress, nodes []types.Node) error {
	_, err := s.msg.SetInventory(s.ctx, &types.MsgSetInventory{Owner: owner.String(), Nodes: nodes})
	return err
}

func (s *suite) supply(class string) types.ClassSupply {
	s.t.Helper()
	sup, err := s.k.ClassSupply(s.ctx, class)
	require.NoError(s.t, err)
	return sup
}

func (s *suite) provider(owner sdk.AccAddress) types.Provider {
	s.t.Helper()
	p, err := s.k.GetProvider(s.ctx, owner)
	require.NoError(s.t, err)
	return p
}

// typedEvents returns the typed events of a type emitted so far.
func typedEvents[T any, PT interface {
	*T
	interface{ ProtoMessage() }
}](t *testing.T, ctx sdk.Context) []T {
	t.Helper()
	var out []T
	for _, ev := range ctx.EventManager().Events() {
		msg, err := sdk.ParseTypedEvent(abci.Event(ev))
		if err != nil {
			continue
		}
		if v, ok := any(msg).(PT); ok {
			out = append(out, *v)
		}
	}
	return out
}
