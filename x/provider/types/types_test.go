package types_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/provider/types"
)

var owner = sdk.AccAddress(make([]byte, 20)).String()

func TestDefaultParamsValid(t *testing.T) {
	p := types.DefaultParams()
	require.NoError(t, p.Validate())
	for _, name := range []string{"h100-sxm-80g", "h100-pcie-80g", "h200-sxm-141g", "a100-sxm-80g", "a100-sxm-40g",
		"a100-pcie-80g", "l40s-48g", "rtx4090-24g", "rtx3090-24g"} {
		_, ok := p.Class(name)
		require.True(t, ok, name)
	}
	// No class a CPU answers: every default class is checked at a
	// production size (the tests' and local networks' small profile is set
	// in their genesis, app.SetChallengeProfile).
	for _, c := range p.GpuClasses {
		require.GreaterOrEqual(t, c.ChallengeN, uint32(32768), c.Name)
	}
	require.Equal(t, "h100-sxm-80g", p.ClassForPCIDeviceID("0x2330"))
	require.Equal(t, types.UnknownClass, p.ClassForPCIDeviceID("0x1eb8"))
	// Every fixture product is accepted by its class.
	for _, m := range []fixtures.GPUModel{fixtures.H100SXM, fixtures.H200SXM, fixtures.A100SXM, fixtures.RTX4090} {
		c, ok := p.Class(m.Class)
		require.True(t, ok)
		require.GreaterOrEqual(t, uint64(m.VRAMMiB), c.MinVRAMMiB(), m.Class)
	}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name string
		mut  func(p *types.Params)
		msg  string
	}{
		{"no classes", func(p *types.Params) { p.GpuClasses = nil }, "gpu_classes: at least one class"},
		{"bad name", func(p *types.Params) { p.GpuClasses[0].Name = "H100" }, `gpu_classes[0]: name "H100"`},
		{"reserved name", func(p *types.Params) { p.GpuClasses[1].Name = "unknown" }, `gpu_classes[1]: name "unknown" is reserved`},
		{"duplicate name", func(p *types.Params) { p.GpuClasses[1].Name = p.GpuClasses[0].Name },
			`gpu_classes[1].name: duplicate class "h100-sxm-80g"`},
		{"shared pci id", func(p *types.Params) { p.GpuClasses[1].PciDeviceIds = []string{"0x2330"} },
			`0x2330 is already mapped to class "h100-sxm-80g"`},
		{"bad pci id", func(p *types.Params) { p.GpuClasses[0].PciDeviceIds = []string{"0x2330", "0X2331"} },
			`pci_device_ids: "0X2331"`},
		{"no vram", func(p *types.Params) { p.GpuClasses[0].VramGib = 0 }, "gpu_classes[0]: vram_gib must be positive"},
		{"n not a power of two", func(p *types.Params) { p.GpuClasses[2].ChallengeN = 1000 },
			"gpu_classes[2]: challenge_n must be a power of two in [64, 65536], got 1000"},
		{"n too big", func(p *types.Params) { p.GpuClasses[2].ChallengeN = 131072 }, "got 131072"},
		{"m zero", func(p *types.Params) { p.GpuClasses[0].ChallengeM = 0 }, "challenge_m must be in [1, 16], got 0"},
		{"no nodes allowed", func(p *types.Params) { p.MaxNodesPerProvider = 0 }, "max_nodes_per_provider must be in [1, 1024], got 0"},
		{"too many gpus", func(p *types.Params) { p.MaxGpusPerNode = 65 }, "max_gpus_per_node must be in [1, 64], got 65"},
		{"reputation initial", func(p *types.Params) { p.Reputation.Initial = 10001 }, "reputation.initial must be at most 10000, got 10001"},
		{"reputation bps", func(p *types.Params) { p.Reputation.DisputeLostBps = 20000 },
			"reputation.dispute_lost_bps must be at most 10000, got 20000"},
		// Governance cannot allow a scheme a browser runs as code or reads
		// from the viewer's disk.
		{"host schemes javascript", func(p *types.Params) { p.HostUriSchemes = []string{"https", "javascript"} },
			`host_uri_schemes[1]: scheme "javascript" is never allowed`},
		{"host schemes data", func(p *types.Params) { p.HostUriSchemes = []string{"data"} }, `host_uri_schemes[0]: scheme "data" is never allowed`},
		{"host schemes file", func(p *types.Params) { p.HostUriSchemes = []string{"file"} }, `scheme "file" is never allowed`},
		{"host schemes vbscript", func(p *types.Params) { p.HostUriSchemes = []string{"vbscript"} }, `scheme "vbscript" is never allowed`},
		{"host schemes upper case", func(p *types.Params) { p.HostUriSchemes = []string{"JAVASCRIPT"} },
			`host_uri_schemes[0] "JAVASCRIPT" must be a lowercase URI scheme`},
		{"host schemes none", func(p *types.Params) { p.HostUriSchemes = nil }, "host_uri_schemes: want 1-16 schemes, got 0"},
		{"host schemes too many", func(p *types.Params) {
			p.HostUriSchemes = strings.Split("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", ",")
		}, "host_uri_schemes: want 1-16 schemes, got 17"},
		{"host schemes duplicate", func(p *types.Params) { p.HostUriSchemes = []string{"https", "https"} },
			`host_uri_schemes[1] "https" is listed twice`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := types.DefaultParams()
			tc.mut(&p)
			err := p.Validate()
			require.ErrorContains(t, err, tc.msg)
			msg := types.MsgUpdateParams{Authority: owner, Params: p}
			require.ErrorIs(t, msg.ValidateBasic(), types.ErrInvalidParams)
		})
	}
}

func TestMsgValidateBasic(t *testing.T) {
	reg := func(mut func(m *types.MsgRegisterProvider)) *types.MsgRegisterProvider {
		m := &types.MsgRegisterProvider{Owner: owner, Moniker: "acme", HostUri: "https://gpu.acme.example:8443", Region: "US"}
		mut(m)
		return m
	}
	tests := []struct {
		name string
		msg  sdk.HasValidateBasic
		err  error
		text string
	}{
		{"register ok", reg(func(*types.MsgRegisterProvider) {}), nil, ""},
		{"register zone ok", reg(func(m *types.MsgRegisterProvider) { m.Region = "DE-fra1" }), nil, ""},
		{"bad owner", reg(func(m *types.MsgRegisterProvider) { m.Owner = "cosmos1xyz" }), sdkerrors.ErrInvalidAddress, `owner "cosmos1xyz"`},
		{"empty moniker", reg(func(m *types.MsgRegisterProvider) { m.Moniker = "" }), types.ErrInvalidProvider, `moniker ""`},
		{"long moniker", reg(func(m *types.MsgRegisterProvider) { m.Moniker = strings.Repeat("a", 65) }), types.ErrInvalidProvider, "moniker"},
		{"moniker control char", reg(func(m *types.MsgRegisterProvider) { m.Moniker = "a\nb" }), types.ErrInvalidProvider, "contains U+000A"},
		{"host not a url", reg(func(m *types.MsgRegisterProvider) { m.HostUri = "gpu.acme.example" }), types.ErrInvalidProvider,
			`host_uri "gpu.acme.example": must be absolute`},
		{"host credentials", reg(func(m *types.MsgRegisterProvider) { m.HostUri = "https://u:p@x.example" }), types.ErrInvalidProvider, "must not carry a password"},
		{"host user name", reg(func(m *types.MsgRegisterProvider) { m.HostUri = "https://u@x.example" }), types.ErrInvalidProvider,
			"no credentials or user name"},
		{"region lowercase", reg(func(m *types.MsgRegisterProvider) { m.Region = "us" }), types.ErrInvalidProvider, `region "us"`},
		{"region three letters", reg(func(m *types.MsgRegisterProvider) { m.Region = "USA" }), types.ErrInvalidProvider, `region "USA"`},
		{"long contact", reg(func(m *types.MsgRegisterProvider) { m.Contact = strings.Repeat("c", 129) }), types.ErrInvalidProvider, "contact"},
		{"update nothing", &types.MsgUpdateProvider{Owner: owner}, types.ErrInvalidProvider, "nothing to update"},
		{"update bad region", &types.MsgUpdateProvider{Owner: owner, Region: "Mars"}, types.ErrInvalidProvider, `region "Mars"`},
		{"update ok", &types.MsgUpdateProvider{Owner: owner, Contact: "ops@acme.example"}, nil, ""},
		{"inventory ok", &types.MsgSetInventory{Owner: owner, Nodes: fixtures.Mixed("x")}, nil, ""},
		{"inventory empty ok", &types.MsgSetInventory{Owner: owner}, nil, ""},
		{"inventory bad node id", &types.MsgSetInventory{Owner: owner, Nodes: []types.Node{fixtures.Node("a b")}},
			types.ErrInvalidInventory, `nodes[0].id "a b"`},
		{"inventory upper-case uuid", &types.MsgSetInventory{Owner: owner, Nodes: func() []types.Node {
			n := fixtures.H100x8("x")
			n[0].Gpus[7].Uuid = strings.ToUpper(n[0].Gpus[7].Uuid)
			return n
		}()}, types.ErrInvalidInventory, "nodes[0].gpus[7].uuid"},
		{"inventory verified set", &types.MsgSetInventory{Owner: owner, Nodes: func() []types.Node {
			n := fixtures.H100x8("x")
			n[0].Gpus[2].Verified = true
			return n
		}()}, types.ErrInvalidInventory, "nodes[0].gpus[2].verified"},
		{"deregister bad owner", &types.MsgDeregisterProvider{Owner: ""}, sdkerrors.ErrInvalidAddress, `owner ""`},
		{"params bad authority", &types.MsgUpdateParams{Authority: "gov", Params: types.DefaultParams()},
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
			require.Contains(t, err.Error(), tc.text)
		})
	}
}

func validGenesis() types.GenesisState {
	a := sdk.AccAddress(make([]byte, 20))
	b := sdk.AccAddress(append(make([]byte, 19), 1))
	nodes := fixtures.H100x8("a")
	nodes[0].Gpus[0].AllocatedTo = "mesh1t/1"
	pa := types.Provider{Owner: a.String(), Moniker: "a", HostUri: "https://a.example", Region: "US",
		Status: types.PROVIDER_STATUS_ACTIVE, Reputation: 5000, RegisteredAt: time.Unix(0, 0).UTC(),
		Stats: types.InventoryStats(nodes)}
	pb := types.Provider{Owner: b.String(), Moniker: "b", HostUri: "https://b.example", Region: "FR",
		Status: types.PROVIDER_STATUS_DEREGISTERED, Reputation: 100, RegisteredAt: time.Unix(0, 0).UTC()}
	return types.GenesisState{
		Params:      types.DefaultParams(),
		Providers:   []types.Provider{pa, pb},
		Inventories: []types.GenesisInventory{{Owner: a.String(), Nodes: nodes}},
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate())
	require.NoError(t, validGenesis().Validate())
	tests := []struct {
		name string
		mut  func(gs *types.GenesisState)
		msg  string
	}{
		{"bad params", func(gs *types.GenesisState) { gs.Params.MaxGpusPerNode = 0 }, "params"},
		{"duplicate provider", func(gs *types.GenesisState) { gs.Providers[1].Owner = gs.Providers[0].Owner },
			"providers[1]: owner " + owner + " is listed twice"},
		{"bad status", func(gs *types.GenesisState) { gs.Providers[0].Status = 0 }, "providers[0]: status"},
		{"reputation too high", func(gs *types.GenesisState) { gs.Providers[1].Reputation = 10001 },
			"providers[1]: reputation must be at most 10000, got 10001"},
		{"inventory without provider", func(gs *types.GenesisState) { gs.Providers = gs.Providers[1:] },
			"inventories[0]: owner " + owner + " is not a provider"},
		{"inventory of a deregistered provider", func(gs *types.GenesisState) {
			gs.Inventories = append(gs.Inventories, types.GenesisInventory{Owner: gs.Providers[1].Owner, Nodes: fixtures.RTX4090x4("b")})
		}, "inventories[1]: owner " + sdk.AccAddress(append(make([]byte, 19), 1)).String() + " is PROVIDER_STATUS_DEREGISTERED"},
		{"uuid listed twice", func(gs *types.GenesisState) {
			gs.Providers[1].Status = types.PROVIDER_STATUS_ACTIVE
			nodes := fixtures.H100x8("a")[:1]
			nodes[0].Gpus = nodes[0].Gpus[3:4]
			gs.Providers[1].Stats = types.InventoryStats(nodes)
			gs.Inventories = append(gs.Inventories, types.GenesisInventory{Owner: gs.Providers[1].Owner, Nodes: nodes})
		}, "inventories[1]: GPU " + fixtures.GPUUUID("a", 3) + " is also listed by " + owner},
		{"unknown class", func(gs *types.GenesisState) { gs.Inventories[0].Nodes[0].Gpus[1].Class = "b200" },
			`has unknown class "b200"`},
		{"stats drift", func(gs *types.GenesisState) { gs.Providers[0].Stats.AllocatedGpus = 0 },
			"providers[0]: stats of " + owner},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis()
			tc.mut(&gs)
			require.ErrorContains(t, gs.Validate(), tc.msg)
		})
	}
}

func TestInventoryJSON(t *testing.T) {
	inv := types.Inventory{Nodes: fixtures.Mixed("json")}
	bz, err := types.MarshalInventoryJSON(inv)
	require.NoError(t, err)
	require.Contains(t, string(bz), `"pci_device_id": "0x2335"`, "snake_case field names")
	require.Contains(t, string(bz), `"memory_mib": 2097152`, "sizes are JSON numbers")
	back, err := types.ParseInventoryJSON(bz)
	require.NoError(t, err)
	require.Equal(t, inv, back)

	_, err = types.ParseInventoryJSON([]byte(`{"nodes":[{"id":"n","cpu_core":4}]}`))
	require.ErrorContains(t, err, "cpu_core", "a misspelt field is refused, not dropped")
	_, err = types.ParseInventoryJSON([]byte(`{"nodes":`))
	require.Error(t, err)
}

func FuzzInventoryValidation(f *testing.F) {
	bz, err := types.MarshalInventoryJSON(types.Inventory{Nodes: fixtures.Mixed("fuzz")})
	require.NoError(f, err)
	f.Add(bz)
	f.Add([]byte(`{"nodes":[{"id":"n","gpus":[{"uuid":"GPU-"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := types.ParseInventoryJSON(data)
		if err != nil {
			return
		}
		msg := types.MsgSetInventory{Owner: owner, Nodes: inv.Nodes}
		if err := msg.ValidateBasic(); err != nil {
			require.ErrorIs(t, err, types.ErrInvalidInventory)
			return
		}
		// Whatever passes is well-formed enough to be counted.
		st := types.InventoryStats(inv.Nodes)
		require.LessOrEqual(t, st.BillableGpus, st.Gpus)
	})
}

// docs/examples/inventory-dgx-h100.json (used by `make demo` and the docs)
// is exactly what MarshalInventoryJSON prints for the DGX H100 fixture, and
// a valid inventory message.
func TestExampleInventoryFile(t *testing.T) {
	want, err := types.MarshalInventoryJSON(types.Inventory{Nodes: fixtures.H100x8("example-dgx-h100")})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "examples", "inventory-dgx-h100.json"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "regenerate the example from fixtures.H100x8(\"example-dgx-h100\")")
	inv, err := types.ParseInventoryJSON(got)
	require.NoError(t, err)
	require.NoError(t, (&types.MsgSetInventory{Owner: owner, Nodes: inv.Nodes}).ValidateBasic())
}
