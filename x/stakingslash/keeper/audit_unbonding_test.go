package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Audit after the security round (issue 20): max_unbonding_entries bounds
// only what MsgUnbond creates. Deregistration always starts one more
// entry ("one extra entry per deregistration"), and a provider may
// register again at once, so four signed transactions of (register, bond
// 1umesh, deregister) × 10 leave 40 open entries, against a limit of 7,
// for the price of the gas. Every later Slash of that provider loads all
// of them (UnbondingEntriesOf) — in EndBlock too, for a missed or unopened
// capacity check, where no gas meter bounds it — and every MsgUnbond
// counts them. Safe: a provider never holds more than
// max_unbonding_entries + 1 open entries.
func TestAuditDeregistrationCyclesBypassTheEntryLimit(t *testing.T) {
	a := apptest.New(t)
	p := a.Account("provider1")
	const cycles, perTx = 40, 10
	var gas int64
	for range cycles / perTx {
		var msgs []sdk.Msg
		for range perTx {
			msgs = append(msgs,
				fixtures.Register(p.Address, "cycler", "US-east1"),
				&types.MsgBond{Provider: p.Address.String(), Amount: coin(1)},
				&providertypes.MsgDeregisterProvider{Owner: p.Address.String()})
		}
		res := a.DeliverTx(p, msgs...)
		require.Equal(t, uint32(0), res.Code, res.Log)
		gas += res.GasUsed
	}

	params, err := a.StakingSlashKeeper.GetParams(a.Ctx())
	require.NoError(t, err)
	entries, err := a.StakingSlashKeeper.UnbondingEntriesOf(a.Ctx(), p.Address)
	require.NoError(t, err)
	t.Logf("%d open unbonding entries after %d register/bond/deregister cycles (gas used %d, %d per cycle); max_unbonding_entries %d",
		len(entries), cycles, gas, gas/cycles, params.MaxUnbondingEntries)
	require.LessOrEqual(t, len(entries), int(params.MaxUnbondingEntries)+1,
		"open unbonding entries stay bounded by max_unbonding_entries (+1 for a deregistration)")
	require.NoError(t, a.CheckInvariants(a.Ctx()))
}
