package keeper_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// fundReserve moves coins from the payer into the market reserve, as
// reserve fees and slashes do.
func (f *fixture) fundReserve(coins sdk.Coins) {
	f.t.Helper()
	require.NoError(f.t, f.app.BankKeeper.SendCoinsFromAccountToModule(f.ctx, f.payer, app.MarketReserveAccount, coins))
}

// reserveBalances are every balance of the market reserve and of addr.
func (f *fixture) reserveBalances(addr sdk.AccAddress) (reserve, other sdk.Coins) {
	return f.app.BankKeeper.GetAllBalances(f.ctx, f.reserveAddr), f.app.BankKeeper.GetAllBalances(f.ctx, addr)
}

// Governance spends the market reserve: MsgSpendReserve from the
// authority moves exactly the amount from the reserve to the recipient
// and emits EventReserveSpent; the message router knows the message.
func TestSpendReserve(t *testing.T) {
	f := newFixture(t)
	f.fundReserve(sdk.NewCoins(coin(umesh, 7_000_000), coin(uusdc, 500_000)))
	reserveBefore, tenantBefore := f.reserveBalances(f.tenant)
	amount := sdk.NewCoins(coin(umesh, 2_500_000), coin(uusdc, 500_000))
	msg := &types.MsgSpendReserve{
		Authority: f.k.Authority(), Recipient: f.tenant.String(), Amount: amount,
		Reason: "compensate the tenant of lease alice/7 (provider slashed at height 1234)",
	}

	handler := f.app.MsgServiceRouter().Handler(msg)
	require.NotNil(t, handler, "MsgSpendReserve is routed")
	res, err := handler(f.ctx, msg)
	require.NoError(t, err)

	reserveAfter, tenantAfter := f.reserveBalances(f.tenant)
	require.Equal(t, reserveBefore.Sub(amount...), reserveAfter)
	require.Equal(t, tenantBefore.Add(amount...), tenantAfter)
	require.Equal(t, "4500000umesh", reserveAfter.String(), "the whole uusdc balance may be spent; 4.5 MESH stay")
	var events []*types.EventReserveSpent
	for _, e := range res.Events {
		if ev, err := sdk.ParseTypedEvent(e); err == nil {
			if spent, ok := ev.(*types.EventReserveSpent); ok {
				events = append(events, spent)
			}
		}
	}
	require.Len(t, events, 1)
	require.Equal(t, types.EventReserveSpent{
		Authority: f.k.Authority(), Recipient: f.tenant.String(), Amount: amount, Reason: msg.Reason,
	}, *events[0])
}

// Every refused spend names what is wrong and moves nothing.
func TestSpendReserveRefused(t *testing.T) {
	alice := apptest.NewAccount("alice").Address.String()
	for _, tc := range []struct {
		name string
		mut  func(f *fixture, m *types.MsgSpendReserve)
		err  error
		want []string
	}{
		{"not the authority", func(f *fixture, m *types.MsgSpendReserve) { m.Authority = f.tenant.String() },
			sdkerrors.ErrUnauthorized, []string{"invalid authority", "got " + alice}},
		{"above the balance", func(_ *fixture, m *types.MsgSpendReserve) {
			m.Amount = sdk.NewCoins(coin(umesh, 1_000_000), coin(uusdc, 300_001))
		}, types.ErrReserveTooLow, []string{"amount 300001uusdc", "the market reserve holds 300000uusdc"}},
		{"a denom the reserve lacks", func(_ *fixture, m *types.MsgSpendReserve) {
			m.Amount = sdk.NewCoins(coin("uatom", 1))
		}, types.ErrReserveTooLow, []string{"amount 1uatom", "the market reserve holds 0uatom"}},
		{"to a module account", func(f *fixture, m *types.MsgSpendReserve) { m.Recipient = f.moduleAddr.String() },
			types.ErrInvalidSpend, []string{"recipient", "may not receive coins"}},
		{"to the reserve itself", func(f *fixture, m *types.MsgSpendReserve) { m.Recipient = f.reserveAddr.String() },
			types.ErrInvalidSpend, []string{"recipient", "may not receive coins"}},
		{"bad recipient", func(_ *fixture, m *types.MsgSpendReserve) { m.Recipient = "mesh1nope" },
			sdkerrors.ErrInvalidAddress, []string{`recipient "mesh1nope"`}},
		{"zero amount", func(_ *fixture, m *types.MsgSpendReserve) { m.Amount = sdk.Coins{coin(umesh, 0)} },
			types.ErrInvalidAmount, []string{"amount", "0umesh"}},
		{"no amount", func(_ *fixture, m *types.MsgSpendReserve) { m.Amount = nil },
			types.ErrInvalidAmount, []string{"amount must name at least one coin"}},
		{"reason too long", func(_ *fixture, m *types.MsgSpendReserve) { m.Reason = strings.Repeat("x", 257) },
			types.ErrInvalidSpend, []string{"reason is 257 bytes, at most 256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.fundReserve(sdk.NewCoins(coin(umesh, 1_000_000), coin(uusdc, 300_000)))
			m := &types.MsgSpendReserve{
				Authority: f.k.Authority(), Recipient: f.tenant.String(),
				Amount: sdk.NewCoins(coin(umesh, 1_000_000)), Reason: "test",
			}
			tc.mut(f, m)
			reserveBefore, tenantBefore := f.reserveBalances(f.tenant)
			_, err := f.msgs.SpendReserve(f.ctx, m)
			require.ErrorIs(t, err, tc.err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			reserveAfter, tenantAfter := f.reserveBalances(f.tenant)
			require.Equal(t, reserveBefore, reserveAfter, "the reserve is unchanged")
			require.Equal(t, tenantBefore, tenantAfter)
			require.Empty(t, eventsOf[*types.EventReserveSpent](t, f.ctx))
		})
	}
}
