package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Signed transactions in blocks that put markup, script URLs or bidi
// characters into strings a console renders fail with the module's code
// and a log naming the field; the state keeps nothing of them.
func TestHostileStringsRefusedInBlocks(t *testing.T) {
	a := apptest.New(t)
	p1, alice := a.Account("provider1"), a.Account("alice")

	for _, tc := range []struct {
		mut  func(m *providertypes.MsgRegisterProvider)
		text string
	}{
		{func(m *providertypes.MsgRegisterProvider) { m.Moniker = "<script>alert(1)</script>" }, `moniker "<script>alert(1)</script>": contains '<'`},
		{func(m *providertypes.MsgRegisterProvider) { m.HostUri = "JaVaScRiPt:alert(1)" }, `scheme "javascript" is never allowed`},
		{func(m *providertypes.MsgRegisterProvider) { m.Contact = "ops\u202e@p1.example" }, "contains U+202E"},
	} {
		m := fixtures.Register(p1.Address, "p1", "US")
		tc.mut(m)
		res := a.DeliverTx(p1, m)
		require.Equal(t, providertypes.ErrInvalidProvider.ABCICode(), res.Code, res.Log)
		require.Equal(t, providertypes.ModuleName, res.Codespace)
		require.Contains(t, res.Log, tc.text)
	}
	_, err := a.ProviderKeeper.GetProvider(a.Ctx(), p1.Address)
	require.ErrorIs(t, err, providertypes.ErrProviderNotFound)

	order := &markettypes.MsgCreateOrder{
		Tenant:             alice.Address.String(),
		Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1},
		MaxPricePerGpuHour: sdk.NewInt64Coin("uusdc", 2_500_000),
		Deposit:            sdk.NewInt64Coin("uusdc", 5_000_000),
		BidWindowSeconds:   60,
		SshPubkey:          fixtures.SSHPubkey("ssh-ed25519", "alice", `<img src=x onerror="alert(1)">`),
	}
	res := a.DeliverTx(alice, order)
	require.Equal(t, markettypes.ErrInvalidOrder.ABCICode(), res.Code, res.Log)
	require.Contains(t, res.Log, "ssh_pubkey ")
	require.Contains(t, res.Log, "contains '<'")
}
