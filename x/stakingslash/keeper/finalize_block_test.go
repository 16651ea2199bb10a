package keeper_test

import (
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// typedEvents decodes the typed events of type T among ABCI events. The
// attributes that baseapp appends ("mode" on block events, "msg_index" on
// tx events) are dropped first: "mode" is not JSON.
func typedEvents[T interface{ ProtoMessage() }](events []abci.Event) []T {
	var out []T
	for _, e := range events {
		attrs := make([]abci.EventAttribute, 0, len(e.Attributes))
		for _, a := range e.Attributes {
			if a.Key != "mode" && a.Key != "msg_index" {
				attrs = append(attrs, a)
			}
		}
		msg, err := sdk.ParseTypedEvent(abci.Event{Type: e.Type, Attributes: attrs})
		if err != nil {
			continue
		}
		if m, ok := msg.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

// The provider's whole collateral life through signed transactions in
// blocks: x/provider registration and inventory set the required bond
// through the hooks; MsgBond makes the provider eligible; a wrong denom is
// refused with the module's code; MsgUnbond starts an entry that the
// module's EndBlock pays out in the first block at or after its completion
// time (only the bond above what the listed GPUs require may leave);
// deregistration unbonds the rest.
func TestCollateralThroughFinalizeBlock(t *testing.T) {
	a := apptest.New(t)
	k := a.StakingSlashKeeper
	p := a.Account("provider1")
	owner := p.Address.String()
	balance := func() math.Int { return a.BankKeeper.GetBalance(a.Ctx(), p.Address, denom).Amount }

	res := a.DeliverTx(p, fixtures.Register(p.Address, "p1", "US"))
	require.Equal(t, uint32(0), res.Code, res.Log)
	res = a.DeliverTx(p, &providertypes.MsgSetInventory{Owner: owner, Nodes: fixtures.H100x8("p1")})
	require.Equal(t, uint32(0), res.Code, res.Log)
	required, err := k.RequiredBond(a.Ctx(), 8)
	require.NoError(t, err)

	res = a.DeliverTx(p, &types.MsgBond{Provider: owner, Amount: sdk.NewCoin("uusdc", required)})
	require.Equal(t, types.ErrWrongDenom.ABCICode(), res.Code, res.Log)
	require.Equal(t, types.ModuleName, res.Codespace)
	require.Contains(t, res.Log, `"uusdc"`)

	excess := required.QuoRaw(4)
	res = a.DeliverTx(p, &types.MsgBond{Provider: owner, Amount: sdk.NewCoin(denom, required.Add(excess))})
	require.Equal(t, uint32(0), res.Code, res.Log)
	require.Len(t, typedEvents[*types.EventBonded](res.Events), 1)
	changed := typedEvents[*types.EventEligibilityChanged](res.Events)
	require.Len(t, changed, 1)
	require.True(t, changed[0].Eligible)
	eligible, err := k.IsEligible(a.Ctx(), p.Address)
	require.NoError(t, err)
	require.True(t, eligible)
	require.Equal(t, apptest.StartingBalance.AmountOf(denom).Sub(required.Add(excess)), balance())

	// The required bond stays: one unit more than the excess is refused.
	res = a.DeliverTx(p, &types.MsgUnbond{Provider: owner, Amount: sdk.NewCoin(denom, excess.AddRaw(1))})
	require.Equal(t, types.ErrBondLocked.ABCICode(), res.Code, res.Log)
	res = a.DeliverTx(p, &types.MsgUnbond{Provider: owner, Amount: sdk.NewCoin(denom, excess)})
	require.Equal(t, uint32(0), res.Code, res.Log)
	var msgData sdk.TxMsgData
	require.NoError(t, msgData.Unmarshal(res.Data))
	require.Len(t, msgData.MsgResponses, 1)
	var unbond types.MsgUnbondResponse
	require.NoError(t, unbond.Unmarshal(msgData.MsgResponses[0].Value))
	require.Equal(t, a.BlockTime.Add(21*24*time.Hour), unbond.CompletionTime)
	require.NoError(t, k.CheckInvariants(a.Ctx()))

	// The last block before the completion time pays nothing…
	before := balance()
	a.BlockTime = unbond.CompletionTime.Add(-apptest.BlockInterval - time.Second)
	block := a.NextBlock()
	require.Empty(t, typedEvents[*types.EventUnbondingCompleted](block.Events))
	require.Equal(t, before, balance())
	// …the next one, past it, pays the entry in EndBlock.
	block = a.NextBlock()
	done := typedEvents[*types.EventUnbondingCompleted](block.Events)
	require.Len(t, done, 1)
	require.Equal(t, unbond.EntryId, done[0].EntryId)
	require.Equal(t, before.Add(excess), balance())
	require.NoError(t, k.CheckInvariants(a.Ctx()))

	// Deregistration unbonds everything left through the provider hooks.
	res = a.DeliverTx(p, &providertypes.MsgDeregisterProvider{Owner: owner})
	require.Equal(t, uint32(0), res.Code, res.Log)
	started := typedEvents[*types.EventUnbondingStarted](res.Events)
	require.Len(t, started, 1)
	require.Equal(t, required, started[0].Amount)
	q, _, err := k.GetCollateral(a.Ctx(), p.Address)
	require.NoError(t, err)
	require.False(t, q.Registered)
	require.True(t, q.Bonded.IsZero())
	require.NoError(t, k.CheckInvariants(a.Ctx()))
}
