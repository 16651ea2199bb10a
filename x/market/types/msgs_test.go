package types_test

import (
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
)

var (
	tenant   = sdk.AccAddress(make([]byte, 20)).String()
	provider = sdk.AccAddress(append(make([]byte, 19), 1)).String()
	orderID  = types.OrderID{Tenant: tenant, Seq: 7}
	sshKey   = fixtures.TenantSSHKey
)

func usdc(n int64) sdk.Coin { return sdk.NewInt64Coin("uusdc", n) }

func validOrder() *types.MsgCreateOrder {
	return &types.MsgCreateOrder{
		Tenant: tenant, Spec: spec2xH100(), MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(5_000_000),
		DurationSeconds: 3600, BidWindowSeconds: 60, SshPubkey: sshKey,
	}
}

func validBid() *types.MsgCreateBid {
	return &types.MsgCreateBid{
		Provider: provider, OrderId: orderID, PricePerGpuHour: usdc(2_000_000),
		Gpus: []string{fixtures.GPUUUID("p", 0), fixtures.GPUUUID("p", 1)}, Deposit: sdk.NewInt64Coin("umesh", 5_000_000),
	}
}

func TestMsgCreateOrderValidateBasic(t *testing.T) {
	require.NoError(t, validOrder().ValidateBasic())
	noKey := validOrder()
	noKey.SshPubkey = ""
	require.NoError(t, noKey.ValidateBasic(), "the SSH key is optional")
	for _, key := range []string{fixtures.SSHPubkey("ecdsa-sha2-nistp256", "a", "x"), fixtures.SSHPubkey("sk-ssh-ed25519@openssh.com", "a", ""),
		fixtures.SSHPubkey("ssh-rsa", "a", "x")} {
		m := validOrder()
		m.SshPubkey = key
		require.NoError(t, m.ValidateBasic(), key)
	}

	// 2^128, the first price amount refused.
	huge := sdk.Coin{Denom: "uusdc", Amount: math.NewIntFromBigInt(new(big.Int).Lsh(big.NewInt(1), types.MaxPriceBits))}
	tests := []struct {
		name string
		mut  func(m *types.MsgCreateOrder)
		err  error
		msg  string
	}{
		{"tenant", func(m *types.MsgCreateOrder) { m.Tenant = "mesh1bad" }, sdkerrors.ErrInvalidAddress, `tenant "mesh1bad"`},
		{"spec", func(m *types.MsgCreateOrder) { m.Spec.Nodes = 0 }, types.ErrInvalidSpec, "nodes must be at least 1"},
		{"zero price", func(m *types.MsgCreateOrder) { m.MaxPricePerGpuHour = usdc(0) }, types.ErrInvalidOrder,
			"max_price_per_gpu_hour must be positive, got 0uusdc"},
		{"bad price denom", func(m *types.MsgCreateOrder) { m.MaxPricePerGpuHour = sdk.Coin{Denom: "1x", Amount: math.OneInt()} },
			types.ErrInvalidOrder, "max_price_per_gpu_hour 11x"},
		{"huge price", func(m *types.MsgCreateOrder) { m.MaxPricePerGpuHour = huge }, types.ErrInvalidOrder, "must be below 2^128"},
		{"zero deposit", func(m *types.MsgCreateOrder) { m.Deposit = usdc(0) }, types.ErrInvalidOrder, "deposit must be positive, got 0uusdc"},
		{"negative deposit", func(m *types.MsgCreateOrder) { m.Deposit = sdk.Coin{Denom: "uusdc", Amount: math.NewInt(-5)} },
			types.ErrInvalidOrder, "deposit -5uusdc"},
		{"deposit denom", func(m *types.MsgCreateOrder) { m.Deposit = sdk.NewInt64Coin("umesh", 5_000_000) }, types.ErrInvalidOrder,
			`deposit denom "umesh" must be the denom of max_price_per_gpu_hour "uusdc"`},
		{"ssh key type", func(m *types.MsgCreateOrder) { m.SshPubkey = "AAAAC3NzaC1lZDI1NTE5" }, types.ErrInvalidOrder,
			`ssh_pubkey "AAAAC3NzaC1lZDI1NTE5": key type "AAAAC3NzaC1lZDI1NTE5" is not one of ssh-ed25519, ssh-rsa`},
		{"ssh key lines", func(m *types.MsgCreateOrder) { m.SshPubkey = sshKey + "\nssh-rsa AAAA" }, types.ErrInvalidOrder,
			"contains U+000A"},
		{"ssh key long", func(m *types.MsgCreateOrder) {
			m.SshPubkey = "ssh-rsa " + strings.Repeat("A", types.MaxSSHPubkeyLength)
		},
			types.ErrInvalidOrder, "is 8200 bytes, at most 8192"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validOrder()
			tc.mut(m)
			err := m.ValidateBasic()
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestMsgCreateBidValidateBasic(t *testing.T) {
	require.NoError(t, validBid().ValidateBasic())
	tests := []struct {
		name string
		mut  func(m *types.MsgCreateBid)
		err  error
		msg  string
	}{
		{"provider", func(m *types.MsgCreateBid) { m.Provider = "" }, sdkerrors.ErrInvalidAddress, `provider ""`},
		{"order tenant", func(m *types.MsgCreateBid) { m.OrderId.Tenant = "x" }, types.ErrInvalidID, `tenant "x"`},
		{"order seq", func(m *types.MsgCreateBid) { m.OrderId.Seq = 0 }, types.ErrInvalidID, "seq must be at least 1, got 0"},
		{"zero price", func(m *types.MsgCreateBid) { m.PricePerGpuHour = usdc(0) }, types.ErrInvalidBid,
			"price_per_gpu_hour must be positive, got 0uusdc"},
		{"no gpus", func(m *types.MsgCreateBid) { m.Gpus = nil }, types.ErrInvalidBid, "gpus: want 1-1024 GPU UUIDs, got 0"},
		{"too many gpus", func(m *types.MsgCreateBid) {
			m.Gpus = nil
			for i := range types.MaxGPUsPerBid + 1 {
				m.Gpus = append(m.Gpus, fixtures.GPUUUID("p", i))
			}
		}, types.ErrInvalidBid, "gpus: want 1-1024 GPU UUIDs, got 1025"},
		{"empty gpu", func(m *types.MsgCreateBid) { m.Gpus[1] = "" }, types.ErrInvalidBid, `gpus[1] "" must be a GPU UUID`},
		{"long gpu", func(m *types.MsgCreateBid) { m.Gpus[0] = strings.Repeat("g", 65) }, types.ErrInvalidBid, "must be a GPU UUID of 1-64 bytes"},
		{"duplicate gpu", func(m *types.MsgCreateBid) { m.Gpus[1] = m.Gpus[0] }, types.ErrInvalidBid,
			"gpus[1] " + fixtures.GPUUUID("p", 0) + " is listed twice"},
		{"zero deposit", func(m *types.MsgCreateBid) { m.Deposit = sdk.NewInt64Coin("umesh", 0) }, types.ErrInvalidBid,
			"deposit must be positive, got 0umesh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := validBid()
			tc.mut(m)
			err := m.ValidateBasic()
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestOtherMsgsValidateBasic(t *testing.T) {
	tests := []struct {
		name string
		msg  sdk.HasValidateBasic
		err  error
		text string
	}{
		{"close order", &types.MsgCloseOrder{Tenant: tenant, Seq: 1}, nil, ""},
		{"close order tenant", &types.MsgCloseOrder{Tenant: "t", Seq: 1}, sdkerrors.ErrInvalidAddress, `tenant "t"`},
		{"close order seq", &types.MsgCloseOrder{Tenant: tenant}, types.ErrInvalidID, "seq must be at least 1, got 0"},
		{"close bid", &types.MsgCloseBid{Provider: provider, OrderId: orderID}, nil, ""},
		{"close bid provider", &types.MsgCloseBid{Provider: "p", OrderId: orderID}, sdkerrors.ErrInvalidAddress, `provider "p"`},
		{"close bid order", &types.MsgCloseBid{Provider: provider}, types.ErrInvalidID, `tenant ""`},
		{"accept bid", &types.MsgAcceptBid{Tenant: tenant, Seq: 3, Provider: provider}, nil, ""},
		{"accept bid seq", &types.MsgAcceptBid{Tenant: tenant, Provider: provider}, types.ErrInvalidID, "seq must be at least 1"},
		{"accept bid provider", &types.MsgAcceptBid{Tenant: tenant, Seq: 3, Provider: "p"}, sdkerrors.ErrInvalidAddress, `provider "p"`},
		{"close lease", &types.MsgCloseLease{Sender: provider, LeaseId: orderID}, nil, ""},
		{"close lease sender", &types.MsgCloseLease{Sender: "s", LeaseId: orderID}, sdkerrors.ErrInvalidAddress, `sender "s"`},
		{"close lease id", &types.MsgCloseLease{Sender: provider, LeaseId: types.OrderID{Tenant: tenant}}, types.ErrInvalidID, "seq must be"},
		{"lease access", &types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID, Endpoint: "ssh://ubuntu@203.0.113.7:2222"}, nil, ""},
		{"lease access https", &types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID, Endpoint: "https://jupyter.example.com/?t=x"}, nil, ""},
		{"lease access empty", &types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID}, types.ErrInvalidEndpoint,
			`endpoint "" must be 1-512 bytes`},
		{"lease access long", &types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID, Endpoint: strings.Repeat("e", 513)},
			types.ErrInvalidEndpoint, "must be 1-512 bytes"},
		{"lease access space", &types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID, Endpoint: "ssh host"},
			types.ErrInvalidEndpoint, `endpoint "ssh host": contains ' '`},
		{"lease access newline", &types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID, Endpoint: "ssh://h\nx"},
			types.ErrInvalidEndpoint, "contains U+000A"},
		{"lease access control", &types.MsgSetLeaseAccess{Provider: provider, LeaseId: orderID, Endpoint: "ssh://h\x00"},
			types.ErrInvalidEndpoint, "contains U+0000"},
		{"lease access provider", &types.MsgSetLeaseAccess{Provider: "", LeaseId: orderID, Endpoint: "ssh://h"},
			sdkerrors.ErrInvalidAddress, `provider ""`},
		{"update params", &types.MsgUpdateParams{Authority: tenant, Params: types.DefaultParams()}, nil, ""},
		{"update params authority", &types.MsgUpdateParams{Authority: "gov", Params: types.DefaultParams()},
			sdkerrors.ErrInvalidAddress, `authority "gov"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.msg.ValidateBasic()
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
			require.ErrorContains(t, err, tc.text)
		})
	}
}
