//go:build e2e

package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

// inventoryView is a provider's inventory over REST, with the fields the
// chain sets.
type inventoryView struct {
	Nodes []struct {
		ID       string `json:"id"`
		CPUCores uint32 `json:"cpu_cores"`
		Gpus     []struct {
			UUID           string `json:"uuid"`
			AllocatedTo    string `json:"allocated_to"`
			Verified       bool   `json:"verified"`
			VerifiedHeight string `json:"verified_height"`
		} `json:"gpus"`
	} `json:"nodes"`
}

func (ln *Localnet) inventory(t *testing.T, addr string) inventoryView {
	t.Helper()
	var inv inventoryView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/providers/"+addr+"/inventory", &inv))
	return inv
}

// One provider account, two machines: a sidecar per machine (its own
// home, node id and mock GPUs, the same key). Machine A's GPUs are verified
// by a challenge and one is leased; then machine B's sidecar registers its
// node, runs, and later updates it. Every inventory either sidecar sends
// carries the other machine's node, which the chain refuses if it still
// holds the fields only the chain sets (allocated_to, verified,
// verified_height). At the end the chain lists both nodes with A's
// verified and leased GPUs unchanged.
//
// Mock GPU UUIDs are derived from the profile, the node id and the index
// (gpus.Options.Seed is the node id), so the two machines' GPUs differ even
// with the same profile; B uses another profile as well (rtx4090x4).
func TestOneProviderTwoMachines(t *testing.T) {
	ln := NewLocalnet(t, 23000)
	ln.Env = append(ln.Env, "LOCALNET_POC_EPOCH_BLOCKS=16", "LOCALNET_POC_SAMPLE_RATE=1")
	ln.MustScript("start")
	alice, p1 := ln.Address("alice"), ln.Address("provider1")

	fastSync := func(c *config.Config) { c.Provider.SyncInterval = config.Duration(3 * time.Second) }
	a := NewSidecar(t, ln, "mm-a", "provider1", "dgx-h100", "mm-node-a", 0, fastSync)
	a.Run("register")
	a.Start()

	// A GPU of machine A is verified by a capacity challenge.
	require.Eventually(t, func() bool {
		for _, n := range ln.inventory(t, p1).Nodes {
			for _, g := range n.Gpus {
				if n.ID == "mm-node-a" && g.Verified {
					return true
				}
			}
		}
		return false
	}, 120*time.Second, time.Second, "a GPU of machine A verified")

	// alice leases one H100: only machine A has any.
	order := writeOrder(t, "mm.yaml", `gpu_classes: [h100]
gpus_per_node: 1
max_price_per_gpu_hour: 2500000uusdc
bid_window: 0s
`)
	res := ln.Tx("market", "create-order", order, "--deposit", "3000000uusdc", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var lease leaseView
	require.Eventually(t, func() bool {
		var ok bool
		lease, ok = ln.lease(alice, 1)
		return ok
	}, 20*time.Second, 200*time.Millisecond, "alice/1 leased")
	require.Equal(t, p1, lease.Lease.Provider)
	require.Len(t, lease.Lease.Gpus, 1)
	leased := lease.Lease.Gpus[0]

	before := ln.inventory(t, p1)
	require.Len(t, before.Nodes, 1)
	verifiedA := map[string]string{}
	for _, g := range before.Nodes[0].Gpus {
		if g.Verified {
			verifiedA[g.UUID] = g.VerifiedHeight
		}
		if g.UUID == leased {
			require.Equal(t, alice+"/1", g.AllocatedTo)
		}
	}
	require.NotEmpty(t, verifiedA)

	// Machine B joins: the operator's register on B sends both nodes.
	b := NewSidecar(t, ln, "mm-b", "provider1", "rtx4090x4", "mm-node-b", 1, func(c *config.Config) {
		fastSync(c)
		c.Provider.Moniker = "mm-a" // the same provider record as A's config
		c.Provider.HostURI = "https://mm-a.example.com"
	})
	out := b.Run("register")
	require.Contains(t, out, `node "mm-node-b" listed with 4 GPUs`)
	b.Start()

	// B's node changes (more CPU cores): B's running sidecar updates it
	// while A's GPUs stay verified and leased.
	b.Stop(syscall.SIGTERM)
	require.NoError(t, editConfig(b.Home, func(c *config.Config) { c.Provider.Node.CPUCores = 48 }))
	b.Start()
	require.Eventually(t, func() bool {
		for _, n := range ln.inventory(t, p1).Nodes {
			if n.ID == "mm-node-b" && n.CPUCores == 48 {
				return true
			}
		}
		return false
	}, 60*time.Second, 500*time.Millisecond, "machine B's running sidecar updated its node")

	after := ln.inventory(t, p1)
	height, err := ln.Height(0)
	require.NoError(t, err)
	var pocParams struct {
		Params struct {
			VerificationTTLBlocks string `json:"verification_ttl_blocks"`
		} `json:"params"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/params", &pocParams))
	ttl := atoi(t, pocParams.Params.VerificationTTLBlocks)
	require.Len(t, after.Nodes, 2, "both machines listed: %+v", after)
	require.Equal(t, "mm-node-a", after.Nodes[0].ID)
	require.Equal(t, "mm-node-b", after.Nodes[1].ID)
	require.Len(t, after.Nodes[0].Gpus, 8)
	require.Len(t, after.Nodes[1].Gpus, 4)
	for _, g := range after.Nodes[1].Gpus {
		require.False(t, strings.HasPrefix(g.AllocatedTo, alice), "B's GPUs are not leased")
	}
	for _, g := range after.Nodes[0].Gpus {
		if g.UUID == leased {
			require.Equal(t, alice+"/1", g.AllocatedTo, "A's leased GPU is still allocated")
		}
		h, ok := verifiedA[g.UUID]
		if !ok || g.UUID == leased {
			continue
		}
		// A later challenge may verify it again (a newer height), and a
		// verification expires after verification_ttl_blocks; neither
		// machine's inventory clears it.
		if g.Verified {
			require.GreaterOrEqual(t, atoi(t, g.VerifiedHeight), atoi(t, h))
		} else {
			require.Greater(t, height, atoi(t, h)+ttl, "%s unverified only by expiry (verified at %s, ttl %d, now %d)",
				g.UUID, h, ttl, height)
		}
	}
	require.Zero(t, a.MetricSum("gpumesh_provider_tx_failures_total", `codespace="provider"`),
		"A's syncs sent no inventory the chain refused")
	require.Zero(t, b.MetricSum("gpumesh_provider_tx_failures_total", `codespace="provider"`),
		"B's syncs sent no inventory the chain refused")
}

// editConfig rewrites the config in home through edit.
func editConfig(home string, edit func(*config.Config)) error {
	cfg, err := config.Load(home)
	if err != nil {
		return err
	}
	edit(&cfg)
	_, err = config.Write(home, cfg, true)
	return err
}
