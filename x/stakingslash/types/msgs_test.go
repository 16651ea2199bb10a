package types_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/x/stakingslash/types"
)

var (
	provider = sdk.AccAddress([]byte("provider-address-20b")).String()
	umesh    = func(n int64) sdk.Coin { return sdk.NewCoin("umesh", math.NewInt(n)) }
)

func TestMsgValidateBasic(t *testing.T) {
	badParams := types.DefaultParams()
	badParams.MaxUnbondingEntries = 0

	for _, tc := range []struct {
		name    string
		msg     sdk.HasValidateBasic
		wantErr error
		want    []string // substrings naming the field and the value
	}{
		{"bond ok", &types.MsgBond{Provider: provider, Amount: umesh(1)}, nil, nil},
		{"bond bad provider", &types.MsgBond{Provider: "mesh1nope", Amount: umesh(1)},
			sdkerrors.ErrInvalidAddress, []string{"provider", `"mesh1nope"`}},
		{"bond empty provider", &types.MsgBond{Provider: "", Amount: umesh(1)},
			sdkerrors.ErrInvalidAddress, []string{`provider ""`}},
		{"bond zero amount", &types.MsgBond{Provider: provider, Amount: umesh(0)},
			types.ErrInvalidAmount, []string{"amount", `"0umesh"`}},
		{"bond negative amount", &types.MsgBond{Provider: provider, Amount: sdk.Coin{Denom: "umesh", Amount: math.NewInt(-5)}},
			types.ErrInvalidAmount, []string{"amount", `"-5umesh"`}},
		{"bond bad denom", &types.MsgBond{Provider: provider, Amount: sdk.Coin{Denom: "1x", Amount: math.NewInt(5)}},
			types.ErrInvalidAmount, []string{"amount", `"51x"`}},
		{"bond nil amount", &types.MsgBond{Provider: provider, Amount: sdk.Coin{Denom: "umesh"}},
			types.ErrInvalidAmount, []string{"amount must be set", `"umesh"`}},

		{"unbond ok", &types.MsgUnbond{Provider: provider, Amount: umesh(1)}, nil, nil},
		{"unbond bad provider", &types.MsgUnbond{Provider: "cosmos1xyz", Amount: umesh(1)},
			sdkerrors.ErrInvalidAddress, []string{"provider", `"cosmos1xyz"`}},
		{"unbond zero amount", &types.MsgUnbond{Provider: provider, Amount: umesh(0)},
			types.ErrInvalidAmount, []string{"amount must be positive", `"0umesh"`}},
		{"unbond empty denom", &types.MsgUnbond{Provider: provider, Amount: sdk.Coin{Amount: math.NewInt(5)}},
			types.ErrInvalidAmount, []string{"amount", `"5"`}},

		{"unjail ok", &types.MsgUnjail{Provider: provider}, nil, nil},
		{"unjail bad provider", &types.MsgUnjail{Provider: "garbage"},
			sdkerrors.ErrInvalidAddress, []string{"provider", `"garbage"`}},

		{"update params ok", &types.MsgUpdateParams{Authority: provider, Params: types.DefaultParams()}, nil, nil},
		{"update params bad authority", &types.MsgUpdateParams{Authority: "gov", Params: types.DefaultParams()},
			sdkerrors.ErrInvalidAddress, []string{"authority", `"gov"`}},
		{"update params bad params", &types.MsgUpdateParams{Authority: provider, Params: badParams},
			types.ErrInvalidParams, []string{"max_unbonding_entries must be >= 1, got 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.msg.ValidateBasic()
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// Every Msg of the service is registered with the interface registry and
// with amino under its proto amino.name.
func TestMsgsRegistered(t *testing.T) {
	msgs := []sdk.Msg{&types.MsgBond{}, &types.MsgUnbond{}, &types.MsgUnjail{}, &types.MsgUpdateParams{}}
	names := []string{
		"gpumesh/stakingslash/MsgBond", "gpumesh/stakingslash/MsgUnbond",
		"gpumesh/stakingslash/MsgUnjail", "gpumesh/stakingslash/MsgUpdateParams",
	}
	cdc := codec.NewLegacyAmino()
	types.RegisterLegacyAminoCodec(cdc)
	registry := codectypes.NewInterfaceRegistry()
	types.RegisterInterfaces(registry)
	for i, m := range msgs {
		bz, err := cdc.MarshalJSON(m)
		require.NoError(t, err)
		require.Contains(t, string(bz), `"type":"`+names[i]+`"`)
		resolved, err := registry.Resolve(sdk.MsgTypeURL(m))
		require.NoError(t, err, sdk.MsgTypeURL(m))
		require.IsType(t, m, resolved)
	}
}
