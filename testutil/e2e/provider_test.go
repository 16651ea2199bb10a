//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

type bondView struct {
	Bonded    string `json:"bonded"`
	Required  string `json:"required"`
	Eligible  bool   `json:"eligible"`
	Unbonding []struct {
		Balance        string    `json:"balance"`
		CompletionTime time.Time `json:"completion_time"`
	} `json:"unbonding"`
}

func writeInventory(t *testing.T, nodes []providertypes.Node) string {
	t.Helper()
	bz, err := providertypes.MarshalInventoryJSON(providertypes.Inventory{Nodes: nodes})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "inventory.json")
	require.NoError(t, os.WriteFile(path, bz, 0o600))
	return path
}

// A provider onboards through the CLI on a real network: register, list an
// 8×H100 node from a JSON file, bond the required collateral, show up over
// REST by GPU class and in the supply; a second provider reusing one of the
// UUIDs is refused; unbonded collateral comes back after the (short
// localnet) unbonding time and not before.
func TestProviderOnboardingAndUnbonding(t *testing.T) {
	ln := NewLocalnet(t, 13000)
	ln.Env = append(ln.Env, "LOCALNET_PROVIDER_UNBONDING=12s")
	ln.MustScript("start")
	p1 := ln.Address("provider1")

	res := ln.Tx("provider", "register", "--moniker", "acme-h100", "--host-uri", "https://p1.example.com:8443",
		"--region", "US-east1", "--contact", "ops@p1.example.com", "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	inv := fixtures.H100x8("e2e-p1")
	res = ln.Tx("provider", "set-inventory", writeInventory(t, inv), "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)

	var bond bondView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p1, &bond))
	require.False(t, bond.Eligible, "8 GPUs listed, nothing bonded")
	required := bond.Required
	require.NotEqual(t, "0", required)
	res = ln.Tx("stakingslash", "bond", required+"umesh", "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p1, &bond))
	require.True(t, bond.Eligible)
	require.Equal(t, required, bond.Bonded)

	var providers struct {
		Providers []struct {
			Owner   string `json:"owner"`
			Moniker string `json:"moniker"`
		} `json:"providers"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers?gpu_class=h100-sxm-80g", &providers))
	require.Len(t, providers.Providers, 1)
	require.Equal(t, p1, providers.Providers[0].Owner)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers?gpu_class=rtx4090-24g", &providers))
	require.Empty(t, providers.Providers)

	var supply struct {
		Classes []struct {
			Class     string `json:"class"`
			Total     string `json:"total"`
			Available string `json:"available"`
		} `json:"classes"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/supply", &supply))
	require.Equal(t, "h100-sxm-80g", supply.Classes[0].Class)
	require.Equal(t, "8", supply.Classes[0].Total)
	require.Equal(t, "8", supply.Classes[0].Available)

	var inventory struct {
		Nodes []struct {
			Gpus []struct {
				UUID string `json:"uuid"`
			} `json:"gpus"`
		} `json:"nodes"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers/"+p1+"/inventory", &inventory))
	require.Len(t, inventory.Nodes[0].Gpus, 8)
	require.Equal(t, inv[0].Gpus[0].Uuid, inventory.Nodes[0].Gpus[0].UUID)

	// The CLI query agrees with REST.
	out, err := ln.CLI("q", "provider", "providers", "--gpu-class", "h100-sxm-80g", "-o", "json")
	require.NoError(t, err)
	require.Contains(t, out, p1)

	// provider2 reuses one of provider1's UUIDs: refused, naming both.
	res = ln.Tx("provider", "register", "--moniker", "copycat", "--host-uri", "https://p2.example.com",
		"--region", "DE", "--from", "provider2")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	stolen := fixtures.RTX4090x4("e2e-p2")
	stolen[0].Gpus[2] = inv[0].Gpus[6]
	res = ln.Tx("provider", "set-inventory", writeInventory(t, stolen), "--from", "provider2")
	require.Equal(t, providertypes.ErrGPUOwnedByOther.ABCICode(), res.Code, res.RawLog)
	require.Contains(t, res.RawLog, inv[0].Gpus[6].Uuid)
	require.Contains(t, res.RawLog, p1)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/supply", &supply))
	require.Equal(t, "8", supply.Classes[0].Total, "the refused inventory added nothing")

	// Unbonding a quarter is refused while the 8 GPUs that bond backs are
	// listed; after delisting two of them it leaves the bond at once, and
	// the account only after the unbonding time.
	bonded, err := strconv.ParseInt(required, 10, 64)
	require.NoError(t, err)
	part := bonded / 4
	before := ln.balance(p1, "umesh")
	res = ln.Tx("stakingslash", "unbond", fmt.Sprintf("%dumesh", part), "--from", "provider1")
	require.Equal(t, stakingslashtypes.ErrBondLocked.ABCICode(), res.Code, res.RawLog)
	require.Contains(t, res.RawLog, "8 listed GPUs require")
	six := fixtures.H100x8("e2e-p1")
	six[0].Gpus = six[0].Gpus[:6]
	res = ln.Tx("provider", "set-inventory", writeInventory(t, six), "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	res = ln.Tx("stakingslash", "unbond", fmt.Sprintf("%dumesh", part), "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p1, &bond))
	require.Equal(t, strconv.FormatInt(bonded-part, 10), bond.Bonded)
	require.True(t, bond.Eligible, "bonded exactly what 6 GPUs require")
	require.Len(t, bond.Unbonding, 1)
	completion := bond.Unbonding[0].CompletionTime
	require.Equal(t, before, ln.balance(p1, "umesh"), "nothing is paid before the unbonding time")

	require.Eventually(t, func() bool { return ln.balance(p1, "umesh") != before },
		40*time.Second, 500*time.Millisecond, "the unbonding entry was never paid")
	require.Equal(t, before+part, ln.balance(p1, "umesh"), "exactly the unbonded amount comes back")
	require.False(t, time.Now().Before(completion), "paid before its completion time %s", completion)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p1, &bond))
	require.Empty(t, bond.Unbonding)

	// Every query answers on the CLI too.
	for _, q := range [][]string{
		{"q", "provider", "provider", p1}, {"q", "provider", "inventory", p1}, {"q", "provider", "supply"},
		{"q", "provider", "gpu", inv[0].Gpus[1].Uuid}, {"q", "provider", "params"},
		{"q", "stakingslash", "bond", p1}, {"q", "stakingslash", "params"},
	} {
		out, err := ln.CLI(append(q, "-o", "json")...)
		require.NoError(t, err, strings.Join(q, " "))
		require.NotEmpty(t, strings.TrimSpace(out), strings.Join(q, " "))
	}
	out, err = ln.CLI("q", "provider", "gpu", inv[0].Gpus[1].Uuid, "-o", "json")
	require.NoError(t, err)
	require.Contains(t, out, p1)

	// Update and deregister through the CLI: the details change, then the
	// GPUs leave the supply and the remaining bond starts unbonding.
	res = ln.Tx("provider", "update", "--host-uri", "https://p1-new.example.com", "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var one struct {
		Provider struct {
			HostURI string `json:"host_uri"`
			Moniker string `json:"moniker"`
			Status  string `json:"status"`
		} `json:"provider"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers/"+p1, &one))
	require.Equal(t, "https://p1-new.example.com", one.Provider.HostURI)
	require.Equal(t, "acme-h100", one.Provider.Moniker, "fields left out keep their value")
	res = ln.Tx("provider", "deregister", "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers/"+p1, &one))
	require.Equal(t, "PROVIDER_STATUS_DEREGISTERED", one.Provider.Status)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/supply", &supply))
	require.Equal(t, "0", supply.Classes[0].Total)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p1, &bond))
	require.Equal(t, "0", bond.Bonded)
	require.Len(t, bond.Unbonding, 1)
	require.Equal(t, strconv.FormatInt(bonded-part, 10), bond.Unbonding[0].Balance)

	// Bad input through the CLI is refused before broadcasting, naming the
	// field.
	bad := writeInventory(t, nil)
	require.NoError(t, os.WriteFile(bad, []byte(`{"nodes":[{"id":"n 1"}]}`), 0o600))
	_, err = ln.CLI("tx", "provider", "set-inventory", bad, "--from", "provider1", "--keyring-backend", "test", "--yes")
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), `nodes[0].id "n 1"`), err.Error())
}
