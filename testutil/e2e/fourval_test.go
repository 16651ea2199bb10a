//go:build e2e

package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// supply is the bank's total supply of denom.
func (ln *Localnet) supply(t *testing.T, denom string) int64 {
	t.Helper()
	var res struct {
		Amount struct {
			Amount string `json:"amount"`
		} `json:"amount"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/cosmos/bank/v1beta1/supply/by_denom?denom="+denom, &res))
	n, err := strconv.ParseInt(res.Amount.Amount, 10, 64)
	require.NoError(t, err)
	return n
}

// The market on four validators with two sidecars: alice's instant orders
// are leased by the sidecar whose GPUs fit; with one validator stopped the
// market keeps working (a third order is leased); the stopped validator
// catches up and serves the same state. When every lease is closed, the
// USDC moved adds up exactly: nothing is created or lost — alice's loss is
// what the escrows paid, the providers got that minus the fees, the fees
// are what the market's stats say, and the USDC supply did not change.
func TestMarketOnFourValidators(t *testing.T) {
	ln := NewLocalnet(t, 18000)
	ln.Env = append(ln.Env, "LOCALNET_MIN_DEPOSIT_SECONDS=20")
	ln.MustScript("start", "--validators", "4")
	alice, p1, p2 := ln.Address("alice"), ln.Address("provider1"), ln.Address("provider2")
	a := NewSidecar(t, ln, "fv-a", "provider1", "dgx-h100", "e2e-fv-a", 0, nil)
	b := NewSidecar(t, ln, "fv-b", "provider2", "rtx4090x4", "e2e-fv-b", 1, nil)
	for _, s := range []*Sidecar{a, b} {
		s.Run("register")
		s.Start()
	}
	supply0 := ln.supply(t, "uusdc")
	bal0 := map[string]int64{alice: ln.balance(alice, "uusdc"), p1: ln.balance(p1, "uusdc"), p2: ln.balance(p2, "uusdc")}

	order := func(name, class string, gpus int) {
		t.Helper()
		path := writeOrder(t, name, fmt.Sprintf(`gpu_classes: [%s]
gpus_per_node: %d
max_price_per_gpu_hour: 2500000uusdc
bid_window: 0s
`, class, gpus))
		res := ln.Tx("market", "create-order", path, "--deposit", "3000000uusdc", "--from", "alice")
		require.Equal(t, uint32(0), res.Code, res.RawLog)
	}
	leased := func(seq int, provider string) {
		t.Helper()
		require.Eventually(t, func() bool {
			l, ok := ln.lease(alice, seq)
			return ok && l.Lease.Provider == provider
		}, 20*time.Second, 200*time.Millisecond, "alice/%d leased by %s", seq, provider)
	}
	order("h100.yaml", "h100-sxm-80g", 1)
	leased(1, p1)
	order("rtx.yaml", "rtx4090-24g", 2)
	leased(2, p2)

	// One validator down: 3 of 4 keep making blocks, the market goes on.
	ln.MustScript("stop-node", "3")
	order("h100b.yaml", "h100-sxm-80g", 2)
	leased(3, p1)
	ln.MustScript("start-node", "3") // waits until node3 has caught up
	var l3 leaseView
	require.NoError(t, GetJSON(ln.REST(3)+"/gpumesh/market/v1/leases/"+alice+"/3", &l3))
	require.Equal(t, p1, l3.Lease.Provider, "the restarted validator serves the lease made while it was down")

	time.Sleep(3 * time.Second) // let the streams run
	for seq := 1; seq <= 3; seq++ {
		res := ln.Tx("market", "close-lease", fmt.Sprintf("%s/%d", alice, seq), "--from", "alice")
		require.Equal(t, uint32(0), res.Code, res.RawLog)
	}

	var paid, fees int64
	byProvider := map[string]int64{}
	for seq, provider := range map[int]string{1: p1, 2: p2, 3: p1} {
		var acct struct {
			Account struct {
				State    string `json:"state"`
				Paid     string `json:"paid"`
				Fees     string `json:"fees"`
				Refunded string `json:"refunded"`
				Balance  string `json:"balance"`
			} `json:"account"`
		}
		require.NoError(t, GetJSON(fmt.Sprintf("%s/gpumesh/escrow/v1/accounts/%s/%d", ln.REST(0), alice, seq), &acct))
		require.Equal(t, "0", acct.Account.Balance, "alice/%d: closed with nothing left in escrow", seq)
		require.Positive(t, atoi(t, acct.Account.Paid), "alice/%d paid its provider", seq)
		paid += atoi(t, acct.Account.Paid)
		fees += atoi(t, acct.Account.Fees)
		byProvider[provider] += atoi(t, acct.Account.Paid) - atoi(t, acct.Account.Fees)
	}
	var stats statsView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/market/v1/stats", &stats))
	var statFees int64
	for _, d := range stats.Denoms {
		if d.Denom == "uusdc" {
			statFees = atoi(t, d.TakeFees) + atoi(t, d.ReserveFees)
		}
	}
	require.Equal(t, fees, statFees, "the escrows' fees are the market's fee totals")
	require.Equal(t, -paid, ln.balance(alice, "uusdc")-bal0[alice], "alice lost exactly what her escrows paid")
	require.Equal(t, byProvider[p1], ln.balance(p1, "uusdc")-bal0[p1], "provider1 got its leases' pay minus fees")
	require.Equal(t, byProvider[p2], ln.balance(p2, "uusdc")-bal0[p2], "provider2 got its lease's pay minus fees")
	require.Equal(t, supply0, ln.supply(t, "uusdc"), "no USDC created or destroyed")
}
