package cli_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumeshd/cmd"
)

// gpumeshd runs the real root command (hand-written and autocli commands
// merged as in the binary) and returns what it printed.
func gpumeshd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := svrcmd.Execute(root, "GPUMESHD", t.TempDir())
	return out.String(), err
}

// generate runs a tx command with --generate-only (no keyring, no node)
// and returns the single message of the unsigned tx.
func generate(t *testing.T, from string, args ...string) map[string]any {
	t.Helper()
	args = append(append([]string{"tx", "market"}, args...),
		"--from", from, "--generate-only", "--chain-id", "gpumesh-t-1", "--home", t.TempDir())
	out, err := gpumeshd(t, args...)
	require.NoError(t, err, out)
	var tx struct {
		Body struct {
			Messages []map[string]any `json:"messages"`
		} `json:"body"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &tx), out)
	require.Len(t, tx.Body.Messages, 1)
	return tx.Body.Messages[0]
}

func addr(b byte) string { return sdk.AccAddress(bytes.Repeat([]byte{b}, 20)).String() }

func TestTxCommandsBuildMessages(t *testing.T) {
	tenant, provider := addr(1), addr(2)
	id := tenant + "/7"
	idJSON := map[string]any{"tenant": tenant, "seq": "7"}
	coin := func(amount, denom string) map[string]any { return map[string]any{"amount": amount, "denom": denom} }

	example := filepath.Join("..", "..", "..", "..", "docs", "examples", "order-2xh100.yaml")
	msg := generate(t, tenant, "create-order", example, "--deposit", "5000000uusdc")
	require.Equal(t, map[string]any{
		"@type":  "/gpumesh.market.v1.MsgCreateOrder",
		"tenant": tenant,
		"spec": map[string]any{
			"gpu_classes": []any{"h100-sxm-80g"}, "gpus_per_node": float64(2), "nodes": float64(1),
			"min_vram_mib": float64(0), "cpu_cores_per_node": float64(0), "memory_mib_per_node": float64(0),
			"storage_gib_per_node": float64(0), "interconnect": "", "regions": []any{"US", "EU"},
			"min_reputation": float64(0),
		},
		"max_price_per_gpu_hour": coin("2500000", "uusdc"),
		"deposit":                coin("5000000", "uusdc"),
		"duration_seconds":       "0",
		"bid_window_seconds":     "30",
		"ssh_pubkey":             "",
	}, msg)

	msg = generate(t, provider, "create-bid", id, "2000000uusdc", "--gpus", "GPU-a,GPU-b")
	require.Equal(t, map[string]any{
		"@type": "/gpumesh.market.v1.MsgCreateBid", "provider": provider, "order_id": idJSON,
		"price_per_gpu_hour": coin("2000000", "uusdc"), "gpus": []any{"GPU-a", "GPU-b"},
		"deposit": coin("5000000", "umesh"), // the default --deposit
	}, msg)
	msg = generate(t, provider, "create-bid", id, "2000000uusdc", "--gpus", "GPU-a", "--deposit", "7000000umesh")
	require.Equal(t, coin("7000000", "umesh"), msg["deposit"])

	require.Equal(t, map[string]any{"@type": "/gpumesh.market.v1.MsgAcceptBid", "tenant": tenant, "seq": "7", "provider": provider},
		generate(t, tenant, "accept-bid", id, provider))
	require.Equal(t, map[string]any{"@type": "/gpumesh.market.v1.MsgCloseOrder", "tenant": tenant, "seq": "7"},
		generate(t, tenant, "close-order", id))
	require.Equal(t, map[string]any{"@type": "/gpumesh.market.v1.MsgCloseBid", "provider": provider, "order_id": idJSON},
		generate(t, provider, "close-bid", id))
	require.Equal(t, map[string]any{"@type": "/gpumesh.market.v1.MsgCloseLease", "sender": provider, "lease_id": idJSON},
		generate(t, provider, "close-lease", id))
	require.Equal(t, map[string]any{
		"@type": "/gpumesh.market.v1.MsgSetLeaseAccess", "provider": provider, "lease_id": idJSON,
		"endpoint": "ssh://ubuntu@203.0.113.7:2201",
	}, generate(t, provider, "set-lease-access", id, "ssh://ubuntu@203.0.113.7:2201"))
}

func TestTxCommandErrors(t *testing.T) {
	tenant, provider := addr(1), addr(2)
	id := tenant + "/7"
	example := filepath.Join("..", "..", "..", "..", "docs", "examples", "order-2xh100.yaml")
	for _, tc := range []struct {
		name string
		from string
		args []string
		want string
	}{
		{"order without deposit", tenant, []string{"create-order", example}, "--deposit is required"},
		{"order with a bad deposit", tenant, []string{"create-order", example, "--deposit", "18"}, `--deposit "18"`},
		{"order file missing", tenant, []string{"create-order", "nope.yaml", "--deposit", "1uusdc"}, "nope.yaml"},
		{"bid without gpus", provider, []string{"create-bid", id, "1uusdc"}, "--gpus is required"},
		{"bid with a bad price", provider, []string{"create-bid", id, "cheap", "--gpus", "GPU-a"}, `price-per-gpu-hour "cheap"`},
		{"bid on a bad id", provider, []string{"create-bid", tenant + "/x", "1uusdc", "--gpus", "GPU-a"}, `seq "x" is not a number`},
		{"accept someone else's order", provider, []string{"accept-bid", id, provider}, "sign with --from the tenant"},
		{"accept a bad provider", tenant, []string{"accept-bid", id, "bob"}, `provider "bob"`},
		{"close someone else's order", provider, []string{"close-order", id}, "sign with --from the tenant"},
		{"close a bad lease id", tenant, []string{"close-lease", "7"}, "want <tenant>/<seq>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"tx", "market"}, tc.args...),
				"--from", tc.from, "--generate-only", "--chain-id", "gpumesh-t-1", "--home", t.TempDir())
			out, err := gpumeshd(t, args...)
			require.Error(t, err, out)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// Hand-written and generated commands sit side by side under one module
// command; the generated tx commands are all skipped.
func TestCommandTree(t *testing.T) {
	out, err := gpumeshd(t, "query", "market", "--help")
	require.NoError(t, err, out)
	for _, c := range []string{"order ", "order-bids", "lease ", "orders", "bids ", "leases", "price-index", "stats", "params"} {
		require.Contains(t, out, "\n  "+c, "query market %s is missing:\n%s", c, out)
	}

	out, err = gpumeshd(t, "tx", "market", "--help")
	require.NoError(t, err, out)
	for _, c := range []string{"create-order", "close-order", "create-bid", "close-bid", "accept-bid", "close-lease", "set-lease-access"} {
		require.Contains(t, out, "\n  "+c, "tx market %s is missing:\n%s", c, out)
	}
	var subcommands int
	for _, line := range strings.Split(out[strings.Index(out, "Available Commands:"):strings.Index(out, "Flags:")], "\n") {
		if strings.HasPrefix(line, "  ") {
			subcommands++
		}
	}
	require.Equal(t, 7, subcommands, "only the hand-written tx commands:\n%s", out)

	// autocli takes enum flags by the value's short name.
	out, err = gpumeshd(t, "query", "market", "orders", "--help")
	require.NoError(t, err, out)
	require.Contains(t, out, "open | matched | closed | expired")
	out, err = gpumeshd(t, "query", "market", "leases", "--state", "running", "--home", t.TempDir())
	require.Error(t, err, out)
	require.Contains(t, err.Error(), "running is not a valid value")
}
