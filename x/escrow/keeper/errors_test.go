package keeper_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// Every bad input of the keeper API and the messages fails with its
// registered error, naming the field and the value, and changes nothing.
func TestBadInputs(t *testing.T) {
	// Each case starts from: alice/1 OPEN (umesh), alice/2 STREAMING to
	// provider1 (uusdc), alice/3 CLOSED.
	setup := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.open(f.tenant, 1, coin(umesh, 1000))
		f.open(f.tenant, 2, coin(uusdc, 1_000_000))
		f.start(f.tenant, 2, f.provider, 3_600_000, 1, 0)
		f.open(f.tenant, 3, coin(umesh, 1000))
		f.close(f.tenant, 3)
		f.advance(10)
		return f
	}
	poor := sdk.AccAddress(make([]byte, 20)) // no funds
	huge := sdk.NewCoin(umesh, math.NewInt(2_000_000_000_000))
	for _, tc := range []struct {
		name string
		run  func(f *fixture) error
		err  error
		want []string
	}{
		// OpenAccount
		{"open: denom not allowed", func(f *fixture) error {
			_, err := f.k.OpenAccount(f.ctx, f.tenant, 9, coin("uatom", 1))
			return err
		}, types.ErrDenomNotAllowed, []string{`deposit denom "uatom"`, "allowed_denoms"}},
		{"open: zero deposit", func(f *fixture) error {
			_, err := f.k.OpenAccount(f.ctx, f.tenant, 9, coin(umesh, 0))
			return err
		}, types.ErrInvalidAmount, []string{"deposit must be positive", `"0umesh"`}},
		{"open: seq 0", func(f *fixture) error {
			_, err := f.k.OpenAccount(f.ctx, f.tenant, 0, coin(umesh, 1))
			return err
		}, types.ErrInvalidAccountID, []string{"seq must be at least 1, got 0"}},
		{"open: exists", func(f *fixture) error {
			_, err := f.k.OpenAccount(f.ctx, f.tenant, 1, coin(umesh, 1))
			return err
		}, types.ErrAccountExists, []string{idOf(alice(), 1).String()}},
		{"open: closed account exists too", func(f *fixture) error {
			_, err := f.k.OpenAccount(f.ctx, f.tenant, 3, coin(umesh, 1))
			return err
		}, types.ErrAccountExists, nil},
		{"open: insufficient funds", func(f *fixture) error {
			_, err := f.k.OpenAccount(f.ctx, f.tenant, 9, huge)
			return err
		}, sdkerrors.ErrInsufficientFunds, []string{"deposit 2000000000000umesh into account"}},
		// Deposit
		{"deposit: unknown account", func(f *fixture) error {
			_, err := f.k.Deposit(f.ctx, f.payer, f.tenant, 9, coin(umesh, 1))
			return err
		}, types.ErrAccountNotFound, []string{"/9"}},
		{"deposit: wrong denom", func(f *fixture) error {
			_, err := f.k.Deposit(f.ctx, f.payer, f.tenant, 2, coin(umesh, 1))
			return err
		}, types.ErrWrongDenom, []string{`amount denom "umesh"`, "is in uusdc"}},
		{"deposit: zero", func(f *fixture) error {
			_, err := f.k.Deposit(f.ctx, f.payer, f.tenant, 1, coin(umesh, 0))
			return err
		}, types.ErrInvalidAmount, []string{"amount must be positive"}},
		{"deposit: closed", func(f *fixture) error {
			_, err := f.k.Deposit(f.ctx, f.payer, f.tenant, 3, coin(umesh, 1))
			return err
		}, types.ErrAccountClosed, []string{"/3 was closed at"}},
		{"deposit: payer without funds", func(f *fixture) error {
			_, err := f.k.Deposit(f.ctx, poor, f.tenant, 1, coin(umesh, 1))
			return err
		}, sdkerrors.ErrInsufficientFunds, []string{"deposit 1umesh into account"}},
		// StartStream
		{"start: unknown account", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 9, f.provider, math.NewInt(1), 1, 0)
			return err
		}, types.ErrAccountNotFound, nil},
		{"start: already streaming", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 2, f.provider2, math.NewInt(1), 1, 0)
			return err
		}, types.ErrAlreadyStreaming, []string{"/2 streams to"}},
		{"start: closed", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 3, f.provider, math.NewInt(1), 1, 0)
			return err
		}, types.ErrAccountClosed, nil},
		{"start: zero price", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 1, f.provider, math.ZeroInt(), 1, 0)
			return err
		}, types.ErrInvalidStream, []string{"price_per_gpu_hour must be > 0, got 0"}},
		{"start: nil price", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 1, f.provider, math.Int{}, 1, 0)
			return err
		}, types.ErrInvalidStream, []string{"price_per_gpu_hour must be > 0, got nil"}},
		{"start: zero gpus", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 1, f.provider, math.NewInt(1), 0, 0)
			return err
		}, types.ErrInvalidStream, []string{"gpus must be > 0, got 0"}},
		{"start: no provider", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 1, nil, math.NewInt(1), 1, 0)
			return err
		}, types.ErrInvalidStream, []string{"provider must be set"}},
		{"start: endless duration", func(f *fixture) error {
			_, err := f.k.StartStream(f.ctx, f.tenant, 1, f.provider, math.NewInt(1), 1, 1<<63)
			return err
		}, types.ErrInvalidStream, []string{"duration_seconds 9223372036854775808 ends after 9999-12-31"}},
		// Settle and Withdraw
		{"settle: open", func(f *fixture) error {
			_, err := f.k.Settle(f.ctx, f.tenant, 1)
			return err
		}, types.ErrNotStreaming, []string{"/1 is ACCOUNT_STATE_OPEN"}},
		{"settle: closed", func(f *fixture) error {
			_, err := f.k.Settle(f.ctx, f.tenant, 3)
			return err
		}, types.ErrAccountClosed, nil},
		{"withdraw: not the payee", func(f *fixture) error {
			_, _, err := f.k.Withdraw(f.ctx, f.provider2, []types.AccountID{idOf(f.tenant, 2)})
			return err
		}, types.ErrNotPayee, []string{"lease_ids[0]", "is paid to " + provider1().String()}},
		{"withdraw: an open order", func(f *fixture) error {
			_, _, err := f.k.Withdraw(f.ctx, f.provider, []types.AccountID{idOf(f.tenant, 2), idOf(f.tenant, 1)})
			return err
		}, types.ErrNotStreaming, []string{"lease_ids[1]"}},
		{"withdraw: closed", func(f *fixture) error {
			_, _, err := f.k.Withdraw(f.ctx, f.provider, []types.AccountID{idOf(f.tenant, 3)})
			return err
		}, types.ErrAccountClosed, []string{"lease_ids[0]"}},
		{"withdraw: unknown", func(f *fixture) error {
			_, _, err := f.k.Withdraw(f.ctx, f.provider, []types.AccountID{idOf(f.tenant, 2), idOf(f.tenant2, 5)})
			return err
		}, types.ErrAccountNotFound, []string{"lease_ids[1]"}},
		{"withdraw: duplicate", func(f *fixture) error {
			_, _, err := f.k.Withdraw(f.ctx, f.provider, []types.AccountID{idOf(f.tenant, 2), idOf(f.tenant, 2)})
			return err
		}, types.ErrInvalidWithdraw, []string{"lease_ids[1]", "duplicate of lease_ids[0]"}},
		{"withdraw: none", func(f *fixture) error {
			_, _, err := f.k.Withdraw(f.ctx, f.provider, nil)
			return err
		}, types.ErrInvalidWithdraw, []string{"at least one lease"}},
		{"withdraw msg: bad provider", func(f *fixture) error {
			_, err := f.msgs.Withdraw(f.ctx, &types.MsgWithdraw{Provider: "x", LeaseIds: []types.AccountID{idOf(f.tenant, 2)}})
			return err
		}, sdkerrors.ErrInvalidAddress, []string{`provider "x"`}},
		{"deposit msg: bad id", func(f *fixture) error {
			_, err := f.msgs.Deposit(f.ctx, &types.MsgDeposit{Sender: f.payer.String(), Id: types.AccountID{Tenant: f.tenant.String()}, Amount: coin(umesh, 1)})
			return err
		}, types.ErrInvalidAccountID, []string{"seq must be at least 1"}},
		// CloseAccount
		{"close: unknown", func(f *fixture) error {
			_, err := f.k.CloseAccount(f.ctx, f.tenant2, 1)
			return err
		}, types.ErrAccountNotFound, []string{bob().String() + "/1"}},
		{"close: closed", func(f *fixture) error {
			_, err := f.k.CloseAccount(f.ctx, f.tenant, 3)
			return err
		}, types.ErrAccountClosed, nil},
		// Bid deposits
		{"hold: zero", func(f *fixture) error {
			return f.k.HoldBidDeposit(f.ctx, f.tenant, 1, f.provider, coin(umesh, 0))
		}, types.ErrInvalidAmount, []string{"deposit must be positive"}},
		{"hold: twice", func(f *fixture) error {
			if err := f.k.HoldBidDeposit(f.ctx, f.tenant, 1, f.provider, coin(umesh, 5)); err != nil {
				return err
			}
			return f.k.HoldBidDeposit(f.ctx, f.tenant, 1, f.provider, coin(umesh, 5))
		}, types.ErrBidDepositExists, []string{provider1().String(), "order " + idOf(alice(), 1).String()}},
		{"hold: no funds", func(f *fixture) error {
			return f.k.HoldBidDeposit(f.ctx, f.tenant, 1, poor, coin(umesh, 5))
		}, sdkerrors.ErrInsufficientFunds, []string{"bid deposit 5umesh"}},
		{"release: none held", func(f *fixture) error {
			_, err := f.k.ReleaseBidDeposit(f.ctx, f.tenant, 1, f.provider)
			return err
		}, types.ErrBidDepositNotFound, []string{provider1().String(), "order " + idOf(alice(), 1).String()}},
		// UpdateParams
		{"update params: not the authority", func(f *fixture) error {
			_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.tenant.String(), Params: types.DefaultParams()})
			return err
		}, sdkerrors.ErrUnauthorized, []string{alice().String()}},
		{"update params: invalid", func(f *fixture) error {
			p := types.DefaultParams()
			p.ReserveRate = math.LegacyOneDec()
			_, err := f.msgs.UpdateParams(f.ctx, &types.MsgUpdateParams{Authority: f.k.Authority(), Params: p})
			return err
		}, types.ErrInvalidParams, []string{"reserve_rate 1: must be in [0, 1)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t)
			before, err := f.k.ExportGenesis(f.ctx)
			require.NoError(t, err)
			balances := f.app.BankKeeper.GetAllBalances(f.ctx, f.moduleAddr)
			// Run in a cache, as a tx would, to see what the failure wrote.
			cache, _ := f.ctx.CacheContext()
			g := *f
			g.ctx = cache
			err = tc.run(&g)
			require.ErrorIs(t, err, tc.err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			// Keeper calls check before they write: even uncommitted, the
			// failed call changed nothing except bid deposit "hold: twice".
			if tc.name != "hold: twice" {
				after, err := f.k.ExportGenesis(cache)
				require.NoError(t, err)
				require.Equal(t, before, after)
				require.Equal(t, balances, f.app.BankKeeper.GetAllBalances(cache, f.moduleAddr))
			}
		})
	}
}

// alice, provider1 and bob are the fixture's tenant, provider and second
// tenant, for the expected messages written before the fixture exists.
func alice() sdk.AccAddress     { return testAccount("alice") }
func provider1() sdk.AccAddress { return testAccount("provider1") }
func bob() sdk.AccAddress       { return testAccount("bob") }
