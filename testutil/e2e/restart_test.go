//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// marketSnapshot is the stored market and escrow state of the tests'
// leases and orders, over REST: what must survive restarts and exports.
type marketSnapshot struct {
	Leases   string
	Orders   string
	Accounts map[string]string
	Stats    string
	Provider string
}

func (ln *Localnet) marketSnapshot(t *testing.T, tenant, provider string, seqs ...string) marketSnapshot {
	t.Helper()
	get := func(path string) []byte {
		var raw json.RawMessage
		require.NoError(t, GetJSON(ln.REST(0)+path, &raw), path)
		return raw
	}
	s := marketSnapshot{
		Leases:   string(get("/gpumesh/market/v1/leases?tenant=" + tenant)),
		Orders:   string(get("/gpumesh/market/v1/orders?tenant=" + tenant)),
		Stats:    string(get("/gpumesh/market/v1/stats")),
		Provider: string(get("/gpumesh/provider/v1/providers/" + provider)),
		Accounts: map[string]string{},
	}
	for _, seq := range seqs {
		// The stored account only: unsettled and available are computed
		// from the time of the query.
		var acct struct {
			Account json.RawMessage `json:"account"`
		}
		require.NoError(t, json.Unmarshal(get("/gpumesh/escrow/v1/accounts/"+tenant+"/"+seq), &acct))
		s.Accounts[seq] = string(acct.Account)
	}
	return s
}

// A single-validator network with an active lease is stopped and
// restarted: the lease, its escrow account and the market's counters are
// unchanged, and the provider's next withdrawal pays exactly the seconds
// elapsed since the stream started, the downtime included. Then the state
// is exported, the node's data wiped, and the chain restarted from the
// exported genesis: the market state read back is identical.
func TestLeaseAcrossRestartAndGenesisExport(t *testing.T) {
	ln := NewLocalnet(t, 17000)
	ln.Env = append(ln.Env, "LOCALNET_MIN_DEPOSIT_SECONDS=20")
	ln.MustScript("start")
	alice, p1 := ln.Address("alice"), ln.Address("provider1")
	gpus := onboard(t, ln, "provider1", "r-p1", "US-east1", "e2e-restart-p1")

	// alice/1: an instant order, leased by provider1's first bid.
	order := writeOrder(t, "o.yaml", `gpu_classes: [h100-sxm-80g]
gpus_per_node: 2
max_price_per_gpu_hour: 2500000uusdc
bid_window: 0s
`)
	res := ln.Tx("market", "create-order", order, "--deposit", "5000000uusdc", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	res = ln.Tx("market", "create-bid", alice+"/1", "1800000uusdc", "--gpus", gpus[0]+","+gpus[1], "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var l leaseView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/market/v1/leases/"+alice+"/1", &l))
	require.Equal(t, "LEASE_STATE_ACTIVE", l.Lease.State)

	// Stop the node for a few seconds and start it again.
	before := ln.marketSnapshot(t, alice, p1, "1")
	h0, err := ln.Height(0)
	require.NoError(t, err)
	ln.MustScript("stop-node", "0")
	time.Sleep(3 * time.Second)
	ln.MustScript("start-node", "0")
	ln.WaitHeight(0, h0+2, 60*time.Second)
	require.Equal(t, before, ln.marketSnapshot(t, alice, p1, "1"), "state intact across the restart")

	// The withdrawal pays exactly floor(price × gpus × seconds / 3600).
	res = ln.Tx("escrow", "withdraw", alice+"/1", "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var acct escrowView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/escrow/v1/accounts/"+alice+"/1", &acct))
	secs := int64(acct.Account.SettledAt.Sub(acct.Account.StreamStart) / time.Second)
	require.GreaterOrEqual(t, secs, int64(3), "the seconds while the node was down count")
	require.Equal(t, 1800000*2*secs/3600, atoi(t, acct.Account.Paid), "paid for %d s", secs)

	// Export, wipe, restart from the exported genesis.
	before = ln.marketSnapshot(t, alice, p1, "1")
	ln.MustScript("stop-node", "0")
	exported := filepath.Join(t.TempDir(), "exported.json")
	out, err := exec.Command(ln.Bin, "export", "--home", ln.Home(0), "--output-document", exported).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var gen struct {
		InitialHeight json.Number                `json:"initial_height"`
		AppState      map[string]json.RawMessage `json:"app_state"`
	}
	bz, err := os.ReadFile(exported)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(bz, &gen))
	for _, m := range []string{"market", "escrow", "provider", "stakingslash", "proofofcompute"} {
		require.Contains(t, gen.AppState, m)
	}
	out, err = exec.Command(ln.Bin, "comet", "unsafe-reset-all", "--home", ln.Home(0)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.NoError(t, os.WriteFile(filepath.Join(ln.Home(0), "config", "genesis.json"), bz, 0o600))
	ln.MustScript("start-node", "0")
	initial, err := gen.InitialHeight.Int64()
	require.NoError(t, err)
	require.Greater(t, initial, h0, "the exported genesis starts after the blocks already made")
	ln.WaitHeight(0, initial+1, 60*time.Second) // the chain goes on from the exported height
	require.Equal(t, before, ln.marketSnapshot(t, alice, p1, "1"), "market state identical after re-import")

	// And it still works: alice closes the lease and gets her refund.
	res = ln.Tx("market", "close-lease", alice+"/1", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/escrow/v1/accounts/"+alice+"/1", &acct))
	require.Positive(t, atoi(t, acct.Account.Refunded))
}
