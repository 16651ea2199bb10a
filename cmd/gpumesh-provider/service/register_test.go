package service

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"cosmossdk.io/math"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// fakeRegistrar answers ProviderState from st and records what is sent.
type fakeRegistrar struct {
	addr sdk.AccAddress
	st   chain.ProviderState
	sent []sdk.Msg
}

func (f *fakeRegistrar) Address() sdk.AccAddress { return f.addr }

func (f *fakeRegistrar) ProviderState(context.Context) (chain.ProviderState, error) { return f.st, nil }

func (f *fakeRegistrar) Send(_ context.Context, _ chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error) {
	f.sent = append(f.sent, msgs...)
	return &chain.TxResult{}, nil
}

func syncFixture(status providertypes.ProviderStatus, registered bool) (*fakeRegistrar, config.Provider, []gpus.GPU) {
	addr := sdk.AccAddress([]byte("provider-sync-test-1"))
	p := config.Provider{Moniker: "m", HostURI: "https://m.example.com", Region: "US-east1",
		Node: config.Node{ID: "n1", CPUCores: 32, MemoryMiB: 65536, StorageGiB: 100}}
	list := []gpus.GPU{
		{UUID: "GPU-a", Class: "h100-sxm-80g", VramMiB: 81559, Healthy: true},
		{UUID: "GPU-b", Class: "h100-sxm-80g", VramMiB: 81559, Healthy: true},
	}
	f := &fakeRegistrar{addr: addr, st: chain.ProviderState{
		Registered: registered,
		Provider: providertypes.Provider{Owner: addr.String(), Status: status, Moniker: p.Moniker,
			HostUri: p.HostURI, Region: p.Region},
		Bond: stakingslashtypes.QueryBondResponse{Denom: "umesh", Bonded: math.ZeroInt(),
			Required: math.NewInt(200_000_000)},
	}}
	return f, p, list
}

func msgTypes(msgs []sdk.Msg) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = sdk.MsgTypeURL(m)
	}
	return out
}

// A running sidecar (reregister false) leaves a deregistered provider
// alone: no registration, no inventory, no bond. The operator's register
// command (reregister true) brings it back.
func TestSyncLeavesADeregisteredProviderAlone(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, p, list := syncFixture(providertypes.PROVIDER_STATUS_DEREGISTERED, true)
	res, err := Sync(context.Background(), f, p, list, true, false, log)
	require.NoError(t, err)
	require.True(t, res.Deregistered)
	require.False(t, res.Registered || res.InventorySet)
	require.Empty(t, f.sent, "nothing sent for a deregistered provider")

	res, err = Sync(context.Background(), f, p, list, true, true, log)
	require.NoError(t, err)
	require.False(t, res.Deregistered)
	require.True(t, res.Registered && res.InventorySet)
	require.Equal(t, []string{
		sdk.MsgTypeURL(&providertypes.MsgRegisterProvider{}),
		sdk.MsgTypeURL(&providertypes.MsgSetInventory{}),
		sdk.MsgTypeURL(&stakingslashtypes.MsgBond{}),
	}, msgTypes(f.sent))
	require.Equal(t, "200000000umesh", res.Bonded.String())
}

// A provider that never registered is registered by a running sidecar
// too (first start), and an active one with the same details and GPUs
// gets nothing sent.
func TestSyncRegistersNewAndKeepsActive(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, p, list := syncFixture(providertypes.PROVIDER_STATUS_UNSPECIFIED, false)
	res, err := Sync(context.Background(), f, p, list, false, false, log)
	require.NoError(t, err)
	require.True(t, res.Registered && res.InventorySet)
	require.Equal(t, 2, res.GPUs)
	require.Len(t, f.sent, 2, "register and inventory; no bond without auto-bond")
	inv, ok := f.sent[1].(*providertypes.MsgSetInventory)
	require.True(t, ok)
	require.Len(t, inv.Nodes, 1)
	require.Equal(t, "n1", inv.Nodes[0].Id)

	active, p, list := syncFixture(providertypes.PROVIDER_STATUS_ACTIVE, true)
	active.st.Nodes = inv.Nodes
	active.st.Bond.Bonded = active.st.Bond.Required
	res, err = Sync(context.Background(), active, p, list, true, false, log)
	require.NoError(t, err)
	require.Equal(t, SyncResult{GPUs: 2}, res)
	require.Empty(t, active.sent)
}
