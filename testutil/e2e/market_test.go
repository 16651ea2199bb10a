//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
)

type leaseView struct {
	Lease struct {
		Provider       string    `json:"provider"`
		Gpus           []string  `json:"gpus"`
		State          string    `json:"state"`
		CloseReason    string    `json:"close_reason"`
		StartTime      time.Time `json:"start_time"`
		ClosedAt       time.Time `json:"closed_at"`
		AccessEndpoint string    `json:"access_endpoint"`
		Price          struct {
			Denom  string `json:"denom"`
			Amount string `json:"amount"`
		} `json:"price_per_gpu_hour"`
	} `json:"lease"`
}

type escrowView struct {
	Account struct {
		State       string    `json:"state"`
		Deposited   string    `json:"deposited"`
		Paid        string    `json:"paid"`
		Refunded    string    `json:"refunded"`
		Balance     string    `json:"balance"`
		StreamStart time.Time `json:"stream_start"`
		SettledAt   time.Time `json:"settled_at"`
		RunsDryAt   time.Time `json:"runs_dry_at"`
	} `json:"account"`
}

type statsView struct {
	Counters struct {
		OrdersCreated string `json:"orders_created"`
		LeasesStarted string `json:"leases_started"`
		ActiveLeases  string `json:"active_leases"`
	} `json:"counters"`
	Denoms []struct {
		Denom       string `json:"denom"`
		Settled     string `json:"settled"`
		TakeFees    string `json:"take_fees"`
		ReserveFees string `json:"reserve_fees"`
	} `json:"denoms"`
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, s)
	return n
}

// writeOrder writes an order file in the CLI's YAML format.
func writeOrder(t *testing.T, name, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(yaml), 0o600))
	return path
}

// onboard registers a provider with one 8×H100 node and bonds what it must.
func onboard(t *testing.T, ln *Localnet, key, moniker, region, seed string) []string {
	t.Helper()
	res := ln.Tx("provider", "register", "--moniker", moniker, "--host-uri", "https://"+moniker+".example.com",
		"--region", region, "--from", key)
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	inv := fixtures.H100x8(seed)
	res = ln.Tx("provider", "set-inventory", writeInventory(t, inv), "--from", key)
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var bond bondView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+ln.Address(key), &bond))
	res = ln.Tx("stakingslash", "bond", bond.Required+"umesh", "--from", key)
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	uuids := make([]string, 0, len(inv[0].Gpus))
	for _, g := range inv[0].Gpus {
		uuids = append(uuids, g.Uuid)
	}
	return uuids
}

// The market through the CLI on a real network: alice orders 2×H100 SXM
// paying up to 2.50 USDC per GPU-hour; two providers bid; the cheaper wins
// when the window ends; an instant order becomes a lease in the block of
// its first bid; the winner publishes the access endpoint and withdraws
// exactly what the elapsed seconds are worth, minus the fees shown in the
// stats; a lease with a small deposit is closed by the chain when it runs
// dry, and its GPUs are free again.
func TestMarketAuctionLeaseAndPayment(t *testing.T) {
	ln := NewLocalnet(t, 14000)
	ln.Env = append(ln.Env, "LOCALNET_MIN_DEPOSIT_SECONDS=20")
	ln.MustScript("start")
	alice, p1, p2 := ln.Address("alice"), ln.Address("provider1"), ln.Address("provider2")
	gpus1 := onboard(t, ln, "provider1", "m-p1", "US-east1", "e2e-market-p1")
	gpus2 := onboard(t, ln, "provider2", "m-p2", "DE-fra1", "e2e-market-p2")

	// Order alice/1: 2×H100 SXM in the US or the EU, a 15 s auction and a
	// deposit covering one hour at the maximum price.
	order := writeOrder(t, "order.yaml", `gpu_classes: [h100-sxm-80g]
gpus_per_node: 2
regions: [US, EU]
max_price_per_gpu_hour: 2500000uusdc
bid_window: 15s
`)
	res := ln.Tx("market", "create-order", order, "--deposit", "5000000uusdc", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	id1 := alice + "/1"

	// A bid above the maximum is refused, naming the price.
	res = ln.Tx("market", "create-bid", id1, "2600000uusdc", "--gpus", gpus1[0]+","+gpus1[1], "--from", "provider1")
	require.Equal(t, markettypes.ErrPriceTooHigh.ABCICode(), res.Code, res.RawLog)
	require.Contains(t, res.RawLog, "2600000")

	p1Mesh := ln.balance(p1, "umesh")
	res = ln.Tx("market", "create-bid", id1, "2000000uusdc", "--gpus", gpus1[0]+","+gpus1[1], "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	res = ln.Tx("market", "create-bid", id1, "1500000uusdc", "--gpus", gpus2[0]+","+gpus2[1], "--from", "provider2")
	require.Equal(t, uint32(0), res.Code, res.RawLog)

	var bids struct {
		Bids []struct {
			Provider    string `json:"provider"`
			State       string `json:"state"`
			CloseReason string `json:"close_reason"`
		} `json:"bids"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/market/v1/orders/"+alice+"/1/bids", &bids))
	require.Len(t, bids.Bids, 2)
	// The CLI agrees: alice's order is open and has two bids.
	out, err := ln.CLI("q", "market", "orders", "--state", "open", "-o", "json")
	require.NoError(t, err)
	require.Contains(t, out, alice)
	out, err = ln.CLI("q", "market", "order-bids", id1, "-o", "json")
	require.NoError(t, err)
	require.Contains(t, out, p1)
	require.Contains(t, out, p2)

	// The window ends; the chain picks provider2's cheaper bid.
	var lease leaseView
	require.Eventually(t, func() bool {
		return GetJSON(ln.REST(0)+"/gpumesh/market/v1/leases/"+alice+"/1", &lease) == nil
	}, 40*time.Second, 500*time.Millisecond, "no lease after the bid window")
	require.Equal(t, p2, lease.Lease.Provider)
	require.Equal(t, "1500000", lease.Lease.Price.Amount)
	require.Equal(t, "uusdc", lease.Lease.Price.Denom)
	require.ElementsMatch(t, []string{gpus2[0], gpus2[1]}, lease.Lease.Gpus)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/market/v1/orders/"+alice+"/1/bids", &bids))
	for _, b := range bids.Bids {
		if b.Provider == p1 {
			require.Equal(t, "BID_STATE_CLOSED", b.State)
			require.Equal(t, "BID_CLOSE_REASON_LOST", b.CloseReason)
		} else {
			require.Equal(t, "BID_STATE_WON", b.State)
		}
	}
	require.Equal(t, p1Mesh, ln.balance(p1, "umesh"), "the losing bid's deposit came back in full")
	var gpu struct {
		Gpu struct {
			AllocatedTo string `json:"allocated_to"`
		} `json:"gpu"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/gpus/"+gpus2[0], &gpu))
	require.Equal(t, id1, gpu.Gpu.AllocatedTo)

	// An instant order (window 0): the first valid bid is the lease, in the
	// block of the bid.
	instant := writeOrder(t, "instant.yaml", `gpu_classes: [h100]
gpus_per_node: 2
max_price_per_gpu_hour: 2500000uusdc
bid_window: 0s
`)
	res = ln.Tx("market", "create-order", instant, "--deposit", "5000000uusdc", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	id2 := alice + "/2"
	res = ln.Tx("market", "create-bid", id2, "2200000uusdc", "--gpus", gpus1[2]+","+gpus1[3], "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/market/v1/leases/"+alice+"/2", &lease))
	require.Equal(t, p1, lease.Lease.Provider)
	var block struct {
		Block struct {
			Header struct {
				Time time.Time `json:"time"`
			} `json:"header"`
		} `json:"block"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/cosmos/base/tendermint/v1beta1/blocks/"+res.Height, &block))
	require.Equal(t, block.Block.Header.Time.Unix(), lease.Lease.StartTime.Unix(),
		"the instant lease starts in the block of its bid (height %s)", res.Height)

	// The winner publishes the endpoint.
	res = ln.Tx("market", "set-lease-access", id1, "ssh://tenant@m-p2.example.com:2222", "--from", "provider2")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/market/v1/leases/"+alice+"/1", &lease))
	require.Equal(t, "ssh://tenant@m-p2.example.com:2222", lease.Lease.AccessEndpoint)
	out, err = ln.CLI("q", "market", "lease", id1, "-o", "json")
	require.NoError(t, err)
	require.Contains(t, out, "ssh://tenant@m-p2.example.com:2222")

	// provider2 withdraws: exactly floor(price × 2 × N / 3600) for the N
	// seconds settled, minus 10% take and 0.25% reserve on uusdc.
	time.Sleep(3 * time.Second)
	p2USDC := ln.balance(p2, "uusdc")
	res = ln.Tx("escrow", "withdraw", id1, "--from", "provider2")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var acct escrowView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/escrow/v1/accounts/"+alice+"/1", &acct))
	n := acct.Account.SettledAt.Unix() - acct.Account.StreamStart.Unix()
	require.Positive(t, n)
	paid := atoi(t, acct.Account.Paid)
	require.Equal(t, 1500000*2*n/3600, paid, "owed for %d s", n)
	take, reserve := paid/10, paid*25/10000
	require.Equal(t, p2USDC+paid-take-reserve, ln.balance(p2, "uusdc"))
	var stats statsView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/market/v1/stats", &stats))
	require.Equal(t, "2", stats.Counters.OrdersCreated)
	require.Equal(t, "2", stats.Counters.LeasesStarted)
	found := false
	for _, d := range stats.Denoms {
		if d.Denom == "uusdc" {
			found = true
			require.Equal(t, strconv.FormatInt(take, 10), d.TakeFees)
			require.Equal(t, strconv.FormatInt(reserve, 10), d.ReserveFees)
			require.Equal(t, strconv.FormatInt(paid, 10), d.Settled)
		}
	}
	require.True(t, found, "uusdc in the stats: %+v", stats.Denoms)

	// A lease with the smallest deposit x/escrow accepts, 1 USDC
	// (min_deposits): 1 GPU at 144 USDC/h (40000 uusdc per second) runs
	// dry 25 s after it starts (x/market's 20 s minimum is 800000 uusdc);
	// the chain closes it in the first block at or after that second.
	small := writeOrder(t, "small.yaml", `gpu_classes: [h100-sxm-80g]
gpus_per_node: 1
max_price_per_gpu_hour: 144000000uusdc
bid_window: 0s
`)
	res = ln.Tx("market", "create-order", small, "--deposit", "1000000uusdc", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	res = ln.Tx("market", "create-bid", alice+"/3", "144000000uusdc", "--gpus", gpus1[4], "--from", "provider1")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.Eventually(t, func() bool {
		return GetJSON(ln.REST(0)+"/gpumesh/market/v1/leases/"+alice+"/3", &lease) == nil &&
			lease.Lease.State == "LEASE_STATE_CLOSED"
	}, 60*time.Second, 500*time.Millisecond, "the dry lease was never closed")
	require.Equal(t, "LEASE_CLOSE_REASON_INSUFFICIENT_FUNDS", lease.Lease.CloseReason)
	dry := lease.Lease.StartTime.Unix() + 25
	closed := lease.Lease.ClosedAt.Unix()
	require.GreaterOrEqual(t, closed, dry, "closed before it ran dry")
	require.LessOrEqual(t, closed, dry+2, "closed more than a block after it ran dry (block time 1 s)")
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/escrow/v1/accounts/"+alice+"/3", &acct))
	require.Equal(t, "1000000", acct.Account.Paid)
	require.Equal(t, "0", acct.Account.Refunded)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/provider/v1/gpus/"+gpus1[4], &gpu))
	require.Empty(t, gpu.Gpu.AllocatedTo, "the GPU is free again")

	// alice closes the instant lease and gets the rest of its deposit back.
	aliceUSDC := ln.balance(alice, "uusdc")
	res = ln.Tx("market", "close-lease", id2, "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/escrow/v1/accounts/"+alice+"/2", &acct))
	require.Equal(t, "ACCOUNT_STATE_CLOSED", acct.Account.State)
	owed := 2200000 * 2 * (acct.Account.SettledAt.Unix() - acct.Account.StreamStart.Unix()) / 3600
	require.Equal(t, strconv.FormatInt(owed, 10), acct.Account.Paid)
	require.Equal(t, 5000000-owed, atoi(t, acct.Account.Refunded))
	require.Equal(t, aliceUSDC+atoi(t, acct.Account.Refunded), ln.balance(alice, "uusdc"))

	out, err = ln.CLI("q", "market", "leases", "--tenant", alice, "-o", "json")
	require.NoError(t, err)
	require.Equal(t, 3, strings.Count(out, `"provider"`), "alice's three leases: %s", out)

	requireInvariantsHold(t, ln)
}

// requireInvariantsHold checks that the local network, which checks every
// invariant at the end of every block (invariants-every = 1) and would
// have stopped at a broken one, still makes blocks, and that node0 reports
// every invariant holding (`gpumeshd query invariants`).
func requireInvariantsHold(t *testing.T, ln *Localnet) {
	t.Helper()
	h, err := ln.Height(0)
	require.NoError(t, err)
	ln.WaitHeight(0, h+2, 20*time.Second)
	out, err := ln.CLI("q", "invariants", "-o", "json")
	require.NoError(t, err, out)
	var report struct {
		Height  int64    `json:"height"`
		OK      bool     `json:"ok"`
		Modules []string `json:"modules"`
		Broken  []any    `json:"broken"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &report), out)
	require.True(t, report.OK, "broken invariants: %v", report.Broken)
	require.Empty(t, report.Broken)
	require.Equal(t, []string{"provider", "stakingslash", "escrow", "market", "proofofcompute"}, report.Modules)
	require.GreaterOrEqual(t, report.Height, h+2)
	out, err = ln.CLI("q", "invariants")
	require.NoError(t, err, out)
	require.Contains(t, out, "all 5 modules' invariants hold")
}
