package app_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	protov2 "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	msgv1 "cosmossdk.io/api/cosmos/msg/v1"
	"cosmossdk.io/math"

	"github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Every gpumesh message is classified, and the class agrees with the
// message's signer field: authority messages are signed by "authority",
// provider messages by the provider ("owner" or "provider").
func TestEveryGpumeshMsgIsClassified(t *testing.T) {
	a := apptest.New(t)
	seen := 0
	for _, url := range a.InterfaceRegistry().ListImplementations(sdk.MsgInterfaceProtoName) {
		if !strings.HasPrefix(url, "/gpumesh.") {
			continue
		}
		seen++
		class, ok := app.GpumeshMsgClasses[url]
		require.True(t, ok, "%s is not classified in app.GpumeshMsgClasses", url)

		desc, err := proto.HybridResolver.FindDescriptorByName(protoreflect.FullName(strings.TrimPrefix(url, "/")))
		require.NoError(t, err, url)
		signers, _ := protov2.GetExtension(desc.Options(), msgv1.E_Signer).([]string)
		require.Len(t, signers, 1, url)
		switch class {
		case app.MsgClassAuthority:
			require.Equal(t, "authority", signers[0], url)
		case app.MsgClassProvider:
			require.Contains(t, []string{"owner", "provider"}, signers[0], url)
		case app.MsgClassUser:
		default:
			t.Fatalf("%s has class %d", url, class)
		}
	}
	require.Equal(t, len(app.GpumeshMsgClasses), seen, "a classified message is not registered")
}

// A provider onboards through signed transactions in blocks: register,
// list 8 H100s, bond the required collateral, and becomes eligible; a second
// provider reusing one of its UUIDs is refused by the chain.
func TestProviderOnboardingThroughFinalizeBlock(t *testing.T) {
	a := apptest.New(t)
	p1, p2 := a.Account("provider1"), a.Account("provider2")

	res := a.DeliverTx(p1, fixtures.Register(p1.Address, "p1", "US"))
	require.Equal(t, uint32(0), res.Code, res.Log)
	inv := fixtures.H100x8("p1")
	res = a.DeliverTx(p1, &providertypes.MsgSetInventory{Owner: p1.Address.String(), Nodes: inv})
	require.Equal(t, uint32(0), res.Code, res.Log)

	ctx := a.Ctx()
	params, err := a.StakingSlashKeeper.GetParams(ctx)
	require.NoError(t, err)
	required := params.MinBondPerGpu.MulRaw(8)
	eligible, err := a.StakingSlashKeeper.IsEligible(ctx, p1.Address)
	require.NoError(t, err)
	require.False(t, eligible, "listed GPUs without collateral")

	res = a.DeliverTx(p1, &stakingslashtypes.MsgBond{Provider: p1.Address.String(), Amount: sdk.NewCoin(app.BondDenom, required)})
	require.Equal(t, uint32(0), res.Code, res.Log)
	ctx = a.Ctx()
	eligible, err = a.StakingSlashKeeper.IsEligible(ctx, p1.Address)
	require.NoError(t, err)
	require.True(t, eligible)
	require.Equal(t, apptest.StartingBalance.AmountOf(app.BondDenom).Sub(required),
		a.BankKeeper.GetBalance(ctx, p1.Address, app.BondDenom).Amount)

	res = a.DeliverTx(p2, fixtures.Register(p2.Address, "p2", "DE"))
	require.Equal(t, uint32(0), res.Code, res.Log)
	stolen := fixtures.RTX4090x4("p2")
	stolen[0].Gpus[0] = inv[0].Gpus[5]
	res = a.DeliverTx(p2, &providertypes.MsgSetInventory{Owner: p2.Address.String(), Nodes: stolen})
	require.Equal(t, providertypes.ErrGPUOwnedByOther.ABCICode(), res.Code, res.Log)
	require.Equal(t, providertypes.ModuleName, res.Codespace)
	require.Contains(t, res.Log, inv[0].Gpus[5].Uuid)
	require.Contains(t, res.Log, p1.Address.String())

	sup, err := a.ProviderKeeper.ClassSupply(a.Ctx(), "h100-sxm-80g")
	require.NoError(t, err)
	require.Equal(t, providertypes.ClassSupply{Class: "h100-sxm-80g", Total: 8, Available: 8}, sup)
	require.True(t, required.GT(math.ZeroInt()))
	require.NoError(t, a.CheckInvariants(a.Ctx()))

	// Deregistering frees the GPUs and starts unbonding the whole bond; it
	// is paid out in EndBlock once the unbonding time has passed.
	res = a.DeliverTx(p1, &providertypes.MsgDeregisterProvider{Owner: p1.Address.String()})
	require.Equal(t, uint32(0), res.Code, res.Log)
	ctx = a.Ctx()
	bonded, err := a.StakingSlashKeeper.Bonded(ctx, p1.Address)
	require.NoError(t, err)
	require.True(t, bonded.IsZero())
	entries, err := a.StakingSlashKeeper.UnbondingEntriesOf(ctx, p1.Address)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, required, entries[0].Balance)
	require.NoError(t, a.CheckInvariants(ctx))

	res = a.DeliverTx(p2, &providertypes.MsgSetInventory{Owner: p2.Address.String(), Nodes: stolen})
	require.Equal(t, uint32(0), res.Code, "the released UUID may now be listed: %s", res.Log)

	// Fast-forward past the unbonding time in one block.
	a.BlockTime = entries[0].CompletionTime
	a.NextBlock()
	require.Equal(t, apptest.StartingBalance.AmountOf(app.BondDenom),
		a.BankKeeper.GetBalance(a.Ctx(), p1.Address, app.BondDenom).Amount, "every coin came back")
	require.NoError(t, a.CheckInvariants(a.Ctx()))
}
