package service

import (
	"context"
	"fmt"
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

// fakeRegistrar answers ProviderState from st and records what is sent;
// an inventory it accepts becomes st's nodes, a registration makes the
// provider active, and a bond adds to the bonded amount, as on chain.
type fakeRegistrar struct {
	addr sdk.AccAddress
	st   chain.ProviderState
	sent []sdk.Msg
	// refuse, when set, fails a message before it is applied.
	refuse func(sdk.Msg) error
}

func (f *fakeRegistrar) BondParams(context.Context) (stakingslashtypes.Params, error) {
	return stakingslashtypes.DefaultParams(), nil
}

func (f *fakeRegistrar) Address() sdk.AccAddress { return f.addr }

func (f *fakeRegistrar) ProviderState(context.Context) (chain.ProviderState, error) { return f.st, nil }

func (f *fakeRegistrar) Send(_ context.Context, _ chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error) {
	for _, m := range msgs {
		if f.refuse != nil {
			if err := f.refuse(m); err != nil {
				return nil, err
			}
		}
	}
	f.sent = append(f.sent, msgs...)
	for _, m := range msgs {
		switch m := m.(type) {
		case *providertypes.MsgRegisterProvider:
			f.st.Registered, f.st.Provider.Status = true, providertypes.PROVIDER_STATUS_ACTIVE
		case *providertypes.MsgSetInventory:
			f.st.Nodes = m.Nodes
		case *stakingslashtypes.MsgBond:
			f.st.Bond.Bonded = f.st.Bond.Bonded.Add(m.Amount.Amount)
		}
	}
	return &chain.TxResult{}, nil
}

func syncFixture(status providertypes.ProviderStatus, registered bool) (*fakeRegistrar, config.Provider, []gpus.GPU) {
	addr := sdk.AccAddress([]byte("provider-sync-test-1"))
	p := config.Provider{Moniker: "m", HostURI: "https://m.example.com", Region: "US-east1",
		MaxAutoBond: config.DefaultMaxAutoBond,
		Node:        config.Node{ID: "n1", CPUCores: 32, MemoryMiB: 65536, StorageGiB: 100}}
	list := []gpus.GPU{
		{UUID: "GPU-a", Class: "h100-sxm-80g", VramMiB: 81559, Healthy: true},
		{UUID: "GPU-b", Class: "h100-sxm-80g", VramMiB: 81559, Healthy: true},
	}
	f := &fakeRegistrar{addr: addr, st: chain.ProviderState{
		Registered: registered,
		Provider: providertypes.Provider{Owner: addr.String(), Status: status, Moniker: p.Moniker,
			HostUri: p.HostURI, Region: p.Region},
		Bond: stakingslashtypes.QueryBondResponse{Provider: addr.String(), Denom: "umesh", Bonded: math.ZeroInt(),
			Required: math.NewInt(200_000_000), BillableGpus: 2},
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

// twoMachineFixture is a provider with two machines: node n0 (another
// sidecar's) has a verified GPU and one allocated to a lease; this
// sidecar's node n1 is listed with GPU-a verified and GPU-b allocated.
func twoMachineFixture() (*fakeRegistrar, config.Provider, []gpus.GPU) {
	f, p, list := syncFixture(providertypes.PROVIDER_STATUS_ACTIVE, true)
	p.Node.Interconnect = "ethernet"
	for i := range list {
		list[i].UUID = fmt.Sprintf("GPU-%08d-0000-4000-8000-000000000001", i+1)
		list[i].PCIDeviceID, list[i].ComputeCapability, list[i].DriverVersion = "0x2330", "9.0", "550.54.15"
	}
	other := providertypes.Node{Id: "n0", CpuCores: 16, MemoryMib: 65536, StorageGib: 100, Interconnect: "ethernet",
		Gpus: []providertypes.GPU{
			{Uuid: "GPU-00000000-0000-4000-8000-00000000000a", Class: "h100-sxm-80g", VramMib: 81559,
				PciDeviceId: "0x2330", ComputeCapability: "9.0", DriverVersion: "550.54.15", Verified: true, VerifiedHeight: 40},
			{Uuid: "GPU-00000000-0000-4000-8000-00000000000b", Class: "h100-sxm-80g", VramMib: 81559,
				PciDeviceId: "0x2330", ComputeCapability: "9.0", DriverVersion: "550.54.15", AllocatedTo: "tenant/1",
				Verified: true, VerifiedHeight: 41},
		}}
	mine := gpus.Inventory(NodeInfo(p.Node), list).Nodes[0]
	mine.Gpus[0].Verified, mine.Gpus[0].VerifiedHeight = true, 42
	mine.Gpus[1].AllocatedTo, mine.Gpus[1].Verified, mine.Gpus[1].VerifiedHeight = "tenant/2", true, 43
	f.st.Nodes = []providertypes.Node{other, mine}
	f.st.Bond.Bonded = f.st.Bond.Required
	return f, p, list
}

// sentInventory returns the one MsgSetInventory sent, checked as the
// chain checks it.
func sentInventory(t *testing.T, f *fakeRegistrar) *providertypes.MsgSetInventory {
	t.Helper()
	var inv *providertypes.MsgSetInventory
	for _, m := range f.sent {
		if msg, ok := m.(*providertypes.MsgSetInventory); ok {
			require.Nil(t, inv, "one inventory message")
			inv = msg
		}
	}
	require.NotNil(t, inv, "an inventory message was sent: %v", msgTypes(f.sent))
	require.NoError(t, inv.ValidateBasic(), "the chain accepts the inventory")
	return inv
}

// Another machine's node is sent back without the fields only the chain
// sets (allocated_to, verified, verified_height), which MsgSetInventory
// refuses: a provider with a verified or leased GPU elsewhere can still
// change this node.
func TestSyncStripsChainFieldsOfOtherNodes(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, p, list := twoMachineFixture()
	chainNodes := f.st.Nodes // the fake replaces the slice on a set inventory
	list = append(list, gpus.GPU{UUID: "GPU-00000003-0000-4000-8000-000000000001", Class: "h100-sxm-80g", VramMiB: 81559,
		PCIDeviceID: "0x2330", ComputeCapability: "9.0", DriverVersion: "550.54.15", Healthy: true})
	res, err := Sync(context.Background(), f, p, list, false, false, log)
	require.NoError(t, err)
	require.True(t, res.InventorySet)
	require.Equal(t, 3, res.GPUs)
	inv := sentInventory(t, f)
	require.Len(t, inv.Nodes, 2, "both machines stay listed")
	require.Equal(t, "n0", inv.Nodes[0].Id)
	require.Len(t, inv.Nodes[0].Gpus, 2, "the other machine's GPUs are all kept")
	require.Equal(t, "n1", inv.Nodes[1].Id)
	require.Len(t, inv.Nodes[1].Gpus, 3)
	require.Equal(t, "GPU-00000000-0000-4000-8000-00000000000b", inv.Nodes[0].Gpus[1].Uuid)
	// The fixture's chain state is not changed through shared slices.
	require.Equal(t, "tenant/1", chainNodes[0].Gpus[1].AllocatedTo)
	require.Equal(t, int64(40), chainNodes[0].Gpus[0].VerifiedHeight)
}

// A verified or allocated GPU this node lost is listed again (the chain
// refuses to drop an allocated GPU) without its chain-set fields.
func TestSyncKeepsLostAllocatedGPUWithoutChainFields(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, p, list := twoMachineFixture()
	list[1].Healthy = false // GPU-…2, allocated to tenant/2
	res, err := Sync(context.Background(), f, p, list, false, false, log)
	require.NoError(t, err)
	require.False(t, res.InventorySet, "the allocated GPU stays listed: nothing changed")
	require.Empty(t, f.sent)

	list = list[:1] // GPU-…2 is gone from NVML altogether: still nothing to change
	f.sent = nil
	res, err = Sync(context.Background(), f, p, list, false, false, log)
	require.NoError(t, err)
	require.False(t, res.InventorySet)

	// Node details change: the inventory is sent, with the lost allocated
	// GPU kept and no chain-set field anywhere.
	p.Node.CPUCores = 64
	res, err = Sync(context.Background(), f, p, list, false, false, log)
	require.NoError(t, err)
	require.True(t, res.InventorySet)
	inv := sentInventory(t, f)
	require.Len(t, inv.Nodes[1].Gpus, 2)
}

// A verified GPU differs from what this node would list only in the
// chain-set fields: no inventory is sent every sync.
func TestSyncIgnoresVerifiedHeight(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, p, list := twoMachineFixture()
	res, err := Sync(context.Background(), f, p, list, false, false, log)
	require.NoError(t, err)
	require.False(t, res.InventorySet)
	require.Empty(t, f.sent)
}
