package cli_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/client/cli"
	"github.com/gpumesh/gpumesh/x/market/types"
)

const sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHy6+8mRbB0b8tQ4vYx7B5Q2XxqQf0mI7zF5yZ9mI1Qm alice@laptop"

func uusdc(n int64) sdk.Coin { return sdk.NewCoin("uusdc", math.NewInt(n)) }

// Every field of the order file lands in its place in MsgCreateOrder.
func TestParseOrderYAMLFull(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "id.pub"), []byte(sshKey+"\n"), 0o600))
	msg, err := cli.ParseOrderYAML([]byte(`
gpu_classes: [h100-sxm-80g, h200]
gpus_per_node: 8
nodes: 2
min_vram_mib: 81000
cpu_cores_per_node: 96
memory_mib_per_node: 1048576
storage_gib_per_node: 7000
interconnect: infiniband
regions: [US, EU, DE-fra1]
min_reputation: 7000
max_price_per_gpu_hour: 2500000uusdc
duration: 2h30m
bid_window: 45s
ssh_pubkey_file: id.pub
`), dir)
	require.NoError(t, err)
	require.Equal(t, types.MsgCreateOrder{
		Spec: types.ResourceSpec{
			GpuClasses: []string{"h100-sxm-80g", "h200"}, GpusPerNode: 8, Nodes: 2, MinVramMib: 81000,
			CpuCoresPerNode: 96, MemoryMibPerNode: 1048576, StorageGibPerNode: 7000, Interconnect: "infiniband",
			Regions: []string{"US", "EU", "DE-fra1"}, MinReputation: 7000,
		},
		MaxPricePerGpuHour: uusdc(2_500_000),
		DurationSeconds:    9000,
		BidWindowSeconds:   45,
		SshPubkey:          sshKey,
	}, msg)
}

// The smallest order: defaults for everything optional (one node,
// open-ended, no key), and an instant order written with a bare 0.
func TestParseOrderYAMLDefaults(t *testing.T) {
	msg, err := cli.ParseOrderYAML([]byte(`gpu_classes: [rtx4090-24g]
gpus_per_node: 1
max_price_per_gpu_hour: 400000umesh
bid_window: 0
ssh_pubkey: "`+sshKey+`"
`), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, types.MsgCreateOrder{
		Spec:               types.ResourceSpec{GpuClasses: []string{"rtx4090-24g"}, GpusPerNode: 1, Nodes: 1},
		MaxPricePerGpuHour: sdk.NewCoin("umesh", math.NewInt(400_000)),
		SshPubkey:          sshKey,
	}, msg)
}

// The example in docs/examples parses to the order the README describes,
// so the example cannot rot.
func TestExampleOrderFile(t *testing.T) {
	path := filepath.Join("..", "..", "..", "..", "docs", "examples", "order-2xh100.yaml")
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	msg, err := cli.ParseOrderYAML(bz, filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, types.MsgCreateOrder{
		Spec: types.ResourceSpec{
			GpuClasses: []string{"h100-sxm-80g"}, GpusPerNode: 2, Nodes: 1, Regions: []string{"US", "EU"},
		},
		MaxPricePerGpuHour: uusdc(2_500_000),
		DurationSeconds:    0,
		BidWindowSeconds:   30,
	}, msg)
	msg.Tenant = sdk.AccAddress(make([]byte, 20)).String()
	msg.Deposit = uusdc(18_000_000)
	require.NoError(t, msg.ValidateBasic())
}

func TestParseOrderYAMLErrors(t *testing.T) {
	const base = "gpu_classes: [h100-sxm-80g]\ngpus_per_node: 2\nmax_price_per_gpu_hour: 2500000uusdc\nbid_window: 30s\n"
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty.pub"), []byte("\n"), 0o600))
	for _, tc := range []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"empty file", "  \n", []string{"empty"}},
		{"not a mapping", "- gpu_classes\n", []string{"mapping"}},
		{"unknown field", base + "gpu_count: 2\n", []string{`unknown field "gpu_count"`, "gpus_per_node"}},
		{"field in the wrong case", base + "Regions: [US]\n", []string{`unknown field "Regions"`}},
		{"duplicate field", base + "gpus_per_node: 4\n", []string{"gpus_per_node", "already set"}},
		{"number as text", "gpu_classes: [h100]\ngpus_per_node: two\nmax_price_per_gpu_hour: 1uusdc\nbid_window: 30s\n",
			[]string{"gpus_per_node", "string"}},
		{"negative number", base + "nodes: -1\n", []string{"nodes", "-1"}},
		{"no classes", "gpus_per_node: 2\nmax_price_per_gpu_hour: 1uusdc\nbid_window: 30s\n", []string{"gpu_classes is required"}},
		{"no gpus per node", "gpu_classes: [h100]\nmax_price_per_gpu_hour: 1uusdc\nbid_window: 30s\n",
			[]string{"gpus_per_node is required"}},
		{"zero nodes", base + "nodes: 0\n", []string{"nodes must be at least 1, got 0"}},
		{"no max price", "gpu_classes: [h100]\ngpus_per_node: 2\nbid_window: 30s\n", []string{"max_price_per_gpu_hour is required"}},
		{"price without denom", "gpu_classes: [h100]\ngpus_per_node: 2\nmax_price_per_gpu_hour: 2500000\nbid_window: 30s\n",
			[]string{`max_price_per_gpu_hour "2500000" is not a coin`}},
		{"price in whole units", "gpu_classes: [h100]\ngpus_per_node: 2\nmax_price_per_gpu_hour: 2.5uusdc\nbid_window: 30s\n",
			[]string{`max_price_per_gpu_hour "2.5uusdc"`, "whole base units"}},
		{"zero price", "gpu_classes: [h100]\ngpus_per_node: 2\nmax_price_per_gpu_hour: 0uusdc\nbid_window: 30s\n",
			[]string{`max_price_per_gpu_hour "0uusdc"`, "positive"}},
		{"duration in days", base + "duration: 2d\n", []string{`duration "2d" is not a duration`, "168h"}},
		{"negative duration", base + "duration: -1h\n", []string{`duration "-1h" must not be negative`}},
		{"fractional seconds", base + "duration: 1500ms\n", []string{`duration "1500ms" must be whole seconds`}},
		{"bare seconds", base + "duration: 7200\n", []string{`duration "7200" is not a duration`}},
		{"no bid window", "gpu_classes: [h100]\ngpus_per_node: 2\nmax_price_per_gpu_hour: 1uusdc\n",
			[]string{"bid_window is required", "0s for an instant order"}},
		{"bad bid window", "gpu_classes: [h100]\ngpus_per_node: 2\nmax_price_per_gpu_hour: 1uusdc\nbid_window: soon\n",
			[]string{`bid_window "soon" is not a duration`}},
		{"Norway unquoted", base + "regions: [DE, NO]\n", []string{`regions[1] is "false"`, `"NO"`}},
		{"boolean class", "gpu_classes: [yes]\ngpus_per_node: 2\nmax_price_per_gpu_hour: 1uusdc\nbid_window: 30s\n",
			[]string{`gpu_classes[0] is "true"`}},
		{"both keys", base + "ssh_pubkey: \"" + sshKey + "\"\nssh_pubkey_file: id.pub\n", []string{"ssh_pubkey or ssh_pubkey_file, not both"}},
		{"missing key file", base + "ssh_pubkey_file: nope.pub\n", []string{`ssh_pubkey_file "nope.pub"`, "no such file"}},
		{"empty key file", base + "ssh_pubkey_file: empty.pub\n", []string{`ssh_pubkey_file "empty.pub" is empty`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cli.ParseOrderYAML([]byte(tc.yaml), dir)
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// A quoted NO is Norway.
func TestParseOrderYAMLQuotedCountry(t *testing.T) {
	msg, err := cli.ParseOrderYAML([]byte(`gpu_classes: [h100]
gpus_per_node: 1
regions: ["NO", "SE"]
max_price_per_gpu_hour: 1uusdc
bid_window: 30s
`), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, []string{"NO", "SE"}, msg.Spec.Regions)
}

// ~/ in ssh_pubkey_file is the home directory.
func TestParseOrderYAMLHomeKeyFile(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".ssh"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".ssh", "id.pub"), []byte(sshKey), 0o600))
	msg, err := cli.ParseOrderYAML([]byte(`gpu_classes: [h100]
gpus_per_node: 1
max_price_per_gpu_hour: 1uusdc
bid_window: 30s
ssh_pubkey_file: ~/.ssh/id.pub
`), t.TempDir())
	require.NoError(t, err)
	require.Equal(t, sshKey, msg.SshPubkey)
}

func TestParseCoin(t *testing.T) {
	c, err := cli.ParseCoin("--deposit", "5000000umesh")
	require.NoError(t, err)
	require.Equal(t, sdk.NewCoin("umesh", math.NewInt(5_000_000)), c)
	for _, s := range []string{"", "umesh", "5", "1.5umesh", "0umesh", "-3umesh", "5 000umesh"} {
		_, err := cli.ParseCoin("--deposit", s)
		require.Error(t, err, s)
		require.Contains(t, err.Error(), "--deposit")
	}
}

func TestParseOrderID(t *testing.T) {
	tenant := sdk.AccAddress(make([]byte, 20)).String()
	id, err := types.ParseOrderID(tenant + "/7")
	require.NoError(t, err)
	require.Equal(t, types.OrderID{Tenant: tenant, Seq: 7}, id)
	require.Equal(t, tenant+"/7", id.String())
	id, err = types.ParseOrderID(" " + tenant + "/12 ")
	require.NoError(t, err)
	require.Equal(t, uint64(12), id.Seq)

	for _, tc := range []struct{ in, want string }{
		{tenant, "want <tenant>/<seq>"},
		{tenant + "/", `seq "" is not a number`},
		{tenant + "/seven", `seq "seven" is not a number`},
		{tenant + "/-1", `seq "-1" is not a number`},
		{tenant + "/0", "seq must be at least 1"},
		{"alice/1", `tenant "alice"`},
		{"/1", `tenant ""`},
		{tenant + "/1/2", `seq "1/2" is not a number`},
	} {
		_, err := types.ParseOrderID(tc.in)
		require.ErrorIs(t, err, types.ErrInvalidID, tc.in)
		require.Contains(t, err.Error(), tc.want, tc.in)
	}
}
