package types_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

func id(n byte, seq uint64) types.AccountID { return types.AccountID{Tenant: testAddr(n), Seq: seq} }

func TestMsgValidateBasic(t *testing.T) {
	good := sdk.NewCoin("uusdc", math.NewInt(5))
	many := make([]types.AccountID, types.MaxWithdrawLeasesLimit+1)
	for i := range many {
		many[i] = id(1, uint64(i+1))
	}
	for _, tc := range []struct {
		name string
		msg  sdk.HasValidateBasic
		err  error
		want []string // substrings naming the field and the value
	}{
		{"deposit ok", &types.MsgDeposit{Sender: testAddr(9), Id: id(1, 1), Amount: good}, nil, nil},
		{"deposit bad sender", &types.MsgDeposit{Sender: "mesh1nope", Id: id(1, 1), Amount: good},
			sdkerrors.ErrInvalidAddress, []string{"sender", `"mesh1nope"`}},
		{"deposit bad tenant", &types.MsgDeposit{Sender: testAddr(9), Id: types.AccountID{Tenant: "x", Seq: 1}, Amount: good},
			types.ErrInvalidAccountID, []string{"id", `tenant "x"`}},
		{"deposit seq 0", &types.MsgDeposit{Sender: testAddr(9), Id: id(1, 0), Amount: good},
			types.ErrInvalidAccountID, []string{"seq must be at least 1, got 0"}},
		{"deposit zero", &types.MsgDeposit{Sender: testAddr(9), Id: id(1, 1), Amount: sdk.NewCoin("uusdc", math.ZeroInt())},
			types.ErrInvalidAmount, []string{"amount must be positive", `"0uusdc"`}},
		{"deposit no amount", &types.MsgDeposit{Sender: testAddr(9), Id: id(1, 1), Amount: sdk.Coin{Denom: "uusdc"}},
			types.ErrInvalidAmount, []string{"amount must be set", `"uusdc"`}},
		{"deposit negative", &types.MsgDeposit{Sender: testAddr(9), Id: id(1, 1), Amount: sdk.Coin{Denom: "uusdc", Amount: math.NewInt(-1)}},
			types.ErrInvalidAmount, []string{"amount", "-1uusdc"}},
		{"deposit bad denom", &types.MsgDeposit{Sender: testAddr(9), Id: id(1, 1), Amount: sdk.Coin{Denom: "1x", Amount: math.NewInt(1)}},
			types.ErrInvalidAmount, []string{"amount", "1x"}},
		{"withdraw ok", &types.MsgWithdraw{Provider: testAddr(2), LeaseIds: []types.AccountID{id(1, 1), id(1, 2), id(3, 1)}}, nil, nil},
		{"withdraw the maximum", &types.MsgWithdraw{Provider: testAddr(2), LeaseIds: many[:types.MaxWithdrawLeasesLimit]}, nil, nil},
		{"withdraw bad provider", &types.MsgWithdraw{Provider: "", LeaseIds: []types.AccountID{id(1, 1)}},
			sdkerrors.ErrInvalidAddress, []string{`provider ""`}},
		{"withdraw no ids", &types.MsgWithdraw{Provider: testAddr(2)},
			types.ErrInvalidWithdraw, []string{"lease_ids must name at least one lease"}},
		{"withdraw too many", &types.MsgWithdraw{Provider: testAddr(2), LeaseIds: many},
			types.ErrInvalidWithdraw, []string{"lease_ids holds 1001 leases, at most 1000"}},
		{"withdraw duplicate", &types.MsgWithdraw{Provider: testAddr(2), LeaseIds: []types.AccountID{id(1, 1), id(1, 2), id(3, 1), id(1, 2)}},
			types.ErrInvalidWithdraw, []string{"lease_ids[3]", "duplicate of lease_ids[1]", id(1, 2).String()}},
		{"withdraw bad id", &types.MsgWithdraw{Provider: testAddr(2), LeaseIds: []types.AccountID{id(1, 1), id(1, 2), id(3, 1), {Tenant: "bad"}}},
			types.ErrInvalidAccountID, []string{"lease_ids[3]", `tenant "bad"`}},
		{"withdraw seq 0", &types.MsgWithdraw{Provider: testAddr(2), LeaseIds: []types.AccountID{id(1, 0)}},
			types.ErrInvalidAccountID, []string{"lease_ids[0]", "seq must be at least 1"}},
		{"update params bad authority", &types.MsgUpdateParams{Authority: "gov", Params: types.DefaultParams()},
			sdkerrors.ErrInvalidAddress, []string{`authority "gov"`}},
		{"update params bad params", &types.MsgUpdateParams{Authority: testAddr(4), Params: types.Params{}},
			types.ErrInvalidParams, []string{"allowed_denoms"}},
		{"spend reserve ok", spend(nil), nil, nil},
		{"spend reserve longest reason", spend(func(m *types.MsgSpendReserve) { m.Reason = strings.Repeat("r", 256) }), nil, nil},
		{"spend reserve bad authority", spend(func(m *types.MsgSpendReserve) { m.Authority = "gov" }),
			sdkerrors.ErrInvalidAddress, []string{`authority "gov"`}},
		{"spend reserve bad recipient", spend(func(m *types.MsgSpendReserve) { m.Recipient = "mesh1nope" }),
			sdkerrors.ErrInvalidAddress, []string{`recipient "mesh1nope"`}},
		{"spend reserve no amount", spend(func(m *types.MsgSpendReserve) { m.Amount = nil }),
			types.ErrInvalidAmount, []string{"amount must name at least one coin"}},
		{"spend reserve zero", spend(func(m *types.MsgSpendReserve) { m.Amount = sdk.Coins{sdk.NewInt64Coin("umesh", 0)} }),
			types.ErrInvalidAmount, []string{"amount", "0umesh"}},
		{"spend reserve unsorted", spend(func(m *types.MsgSpendReserve) {
			m.Amount = sdk.Coins{sdk.NewInt64Coin("uusdc", 1), sdk.NewInt64Coin("umesh", 1)}
		}), types.ErrInvalidAmount, []string{"amount", "1uusdc,1umesh"}},
		{"spend reserve nil amount", spend(func(m *types.MsgSpendReserve) { m.Amount = sdk.Coins{{Denom: "umesh"}} }),
			types.ErrInvalidAmount, []string{"amount[0]", `"umesh"`, "has no amount"}},
		{"spend reserve reason too long", spend(func(m *types.MsgSpendReserve) { m.Reason = strings.Repeat("r", 257) }),
			types.ErrInvalidSpend, []string{"reason is 257 bytes, at most 256"}},
		{"spend reserve reason markup", spend(func(m *types.MsgSpendReserve) { m.Reason = "<script>alert(1)</script>" }),
			types.ErrInvalidSpend, []string{`reason "<script>alert(1)</script>": contains '<'`}},
		{"spend reserve reason bidi", spend(func(m *types.MsgSpendReserve) { m.Reason = "refund \u202eslashed" }),
			types.ErrInvalidSpend, []string{"contains U+202E"}},
		{"spend reserve reason invalid UTF-8", spend(func(m *types.MsgSpendReserve) { m.Reason = "refund \xff" }),
			types.ErrInvalidSpend, []string{"is not valid UTF-8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.msg.ValidateBasic()
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// spend is a valid MsgSpendReserve changed by mut.
func spend(mut func(m *types.MsgSpendReserve)) *types.MsgSpendReserve {
	m := &types.MsgSpendReserve{
		Authority: testAddr(4), Recipient: testAddr(5),
		Amount: sdk.NewCoins(sdk.NewInt64Coin("umesh", 10), sdk.NewInt64Coin("uusdc", 20)),
		Reason: "compensate the tenants of a slashed provider (proposal 7)",
	}
	if mut != nil {
		mut(m)
	}
	return m
}

func TestParseAccountID(t *testing.T) {
	tenant := testAddr(1)
	got, err := types.ParseAccountID(" " + tenant + "/7 ")
	require.NoError(t, err)
	require.Equal(t, types.AccountID{Tenant: tenant, Seq: 7}, got)
	require.Equal(t, tenant+"/7", got.String())

	for _, tc := range []struct{ in, want string }{
		{tenant, "want <tenant>/<seq>"},
		{tenant + "/x", `seq "x" is not a number`},
		{tenant + "/-1", `seq "-1" is not a number`},
		{tenant + "/0", "seq must be at least 1, got 0"},
		{"mesh1nope/3", `tenant "mesh1nope"`},
		{"", "want <tenant>/<seq>"},
	} {
		_, err := types.ParseAccountID(tc.in)
		require.ErrorIs(t, err, types.ErrInvalidAccountID, tc.in)
		require.Contains(t, err.Error(), tc.want, tc.in)
		require.Contains(t, err.Error(), fmt.Sprintf("%q", tc.in), "the error quotes the argument")
	}
}

// FuzzParseAccountID: parsing never panics, and what parses writes back to
// an id that parses to itself.
func FuzzParseAccountID(f *testing.F) {
	f.Add(testAddr(1) + "/7")
	f.Add("/")
	f.Add("x/18446744073709551615")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := types.ParseAccountID(s)
		if err != nil {
			require.ErrorIs(t, err, types.ErrInvalidAccountID)
			return
		}
		again, err := types.ParseAccountID(got.String())
		require.NoError(t, err)
		require.Equal(t, got, again)
	})
}
