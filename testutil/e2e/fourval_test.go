//go:build e2e

package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

// book is the money on a network as of one height: supplies, the balances
// of the test accounts and of the module accounts, the providers' bonds
// and the capacity-reward totals.
type book struct {
	height  int64
	supply  map[string]int64            // denom → total supply
	bal     map[string]map[string]int64 // account or module name → denom → balance
	bonded  map[string]int64            // provider name → bonded collateral
	claimed map[string]int64            // provider name → capacity rewards claimed since genesis
	minted  int64                       // capacity rewards minted since genesis
	poolOut int64                       // capacity rewards claimed since genesis, all providers
}

// bookModules are the module accounts whose balances the book keeps.
var bookModules = []string{"escrow", "market_reserve", "distribution", "proofofcompute", "stakingslash"}

// bookAt reads the book as of height through the REST gateway's height
// header, so every number is from the same state.
func (ln *Localnet) bookAt(t *testing.T, height int64, accounts map[string]string, providers []string) book {
	t.Helper()
	get := func(path string, out any) {
		t.Helper()
		require.NoError(t, GetJSONAt(ln.REST(0)+path, height, out), path)
	}
	b := book{height: height, supply: map[string]int64{}, bal: map[string]map[string]int64{},
		bonded: map[string]int64{}, claimed: map[string]int64{}}
	addrs := map[string]string{}
	for name, addr := range accounts {
		addrs[name] = addr
	}
	for _, m := range bookModules {
		var acc struct {
			Account struct {
				Value struct {
					Address string `json:"address"`
				} `json:"value"`
				BaseAccount struct {
					Address string `json:"address"`
				} `json:"base_account"`
			} `json:"account"`
		}
		get("/cosmos/auth/v1beta1/module_accounts/"+m, &acc)
		addrs[m] = acc.Account.Value.Address
		if addrs[m] == "" {
			addrs[m] = acc.Account.BaseAccount.Address
		}
		require.NotEmpty(t, addrs[m], "module account %s", m)
	}
	for _, denom := range []string{"umesh", "uusdc"} {
		var s struct {
			Amount struct {
				Amount string `json:"amount"`
			} `json:"amount"`
		}
		get("/cosmos/bank/v1beta1/supply/by_denom?denom="+denom, &s)
		b.supply[denom] = atoi(t, s.Amount.Amount)
		for name, addr := range addrs {
			var res struct {
				Balance struct {
					Amount string `json:"amount"`
				} `json:"balance"`
			}
			get("/cosmos/bank/v1beta1/balances/"+addr+"/by_denom?denom="+denom, &res)
			if b.bal[name] == nil {
				b.bal[name] = map[string]int64{}
			}
			b.bal[name][denom] = atoi(t, res.Balance.Amount)
		}
	}
	for _, p := range providers {
		var bond bondView
		get("/gpumesh/stakingslash/v1/bonds/"+accounts[p], &bond)
		require.Empty(t, bond.Unbonding, "%s has no unbonding collateral in this test", p)
		b.bonded[p] = atoi(t, bond.Bonded)
		var rw struct {
			Reward struct {
				Claimed string `json:"claimed"`
			} `json:"reward"`
		}
		// A provider with no reward record yet has claimed nothing.
		if GetJSONAt(ln.REST(0)+"/gpumesh/proofofcompute/v1/rewards/"+accounts[p], height, &rw) == nil &&
			rw.Reward.Claimed != "" {
			b.claimed[p] = atoi(t, rw.Reward.Claimed)
		}
	}
	var pool struct {
		Pool struct {
			Minted  string `json:"minted"`
			Claimed string `json:"claimed"`
		} `json:"pool"`
	}
	get("/gpumesh/proofofcompute/v1/reward_pool", &pool)
	b.minted, b.poolOut = atoi(t, pool.Pool.Minted), atoi(t, pool.Pool.Claimed)
	return b
}

// inflationMinted sums x/mint's block inflation over the blocks after
// from up to to: the amount of each "mint" event in node0's block results.
func (ln *Localnet) inflationMinted(t *testing.T, from, to int64) int64 {
	t.Helper()
	var sum int64
	for h := from + 1; h <= to; h++ {
		var res struct {
			Result struct {
				Events []struct {
					Type       string `json:"type"`
					Attributes []struct {
						Key   string `json:"key"`
						Value string `json:"value"`
					} `json:"attributes"`
				} `json:"finalize_block_events"`
			} `json:"result"`
		}
		require.NoError(t, GetJSON(fmt.Sprintf("%s/block_results?height=%d", ln.RPC(0), h), &res))
		for _, e := range res.Result.Events {
			if e.Type != "mint" {
				continue
			}
			for _, a := range e.Attributes {
				if a.Key == "amount" {
					sum += atoi(t, a.Value)
				}
			}
		}
	}
	return sum
}

// The demo's flow on four validators with the two market sidecars and the
// demo's misconfigured third one (--fault corrupt-opening), with one
// validator stopped through the middle of it:
//
//   - alice's 2×H100 auction is won by provider1's cheaper bid and the
//     hook's endpoint is posted; instant orders are leased by the sidecar
//     whose GPUs fit, one of them while a validator is down;
//   - payment streams and the sidecars withdraw; capacity challenges pass;
//     alice's dispute is answered and its fee goes to provider1;
//   - provider3's corrupted proof is slashed by exactly the wrong-opening
//     fraction, all of it to the market reserve, and it is jailed;
//   - capacity rewards are minted and claimed by the sidecars;
//   - the stopped validator catches up and serves the same state;
//   - alice closes her leases and gets the rest of her deposits back.
//
// Then every coin is accounted for between a height before the sidecars
// started and one after they stopped: USDC supply is unchanged and every
// USDC balance moved by exactly what the escrows and the market's fees
// say; MESH supply grew by exactly x/mint's inflation plus the capacity
// rewards minted (slashes are not burned), and every MESH balance moved by
// the dispute fee, the rewards claimed and the slash.
func TestMarketOnFourValidators(t *testing.T) {
	ln := NewLocalnet(t, 18000)
	ln.Env = append(ln.Env, "LOCALNET_MIN_DEPOSIT_SECONDS=20", "LOCALNET_POC_EPOCH_BLOCKS=16",
		"LOCALNET_POC_SAMPLE_RATE=1")
	ln.MustScript("start", "--validators", "4")
	acct := map[string]string{}
	for _, k := range []string{"alice", "provider1", "provider2", "provider3"} {
		acct[k] = ln.Address(k)
	}
	alice, p1, p2, p3 := acct["alice"], acct["provider1"], acct["provider2"], acct["provider3"]
	providers := []string{"provider1", "provider2", "provider3"}

	hooks := t.TempDir()
	onStart, onEnd := hookScripts(t, hooks)
	sidecar := func(name, key, profile string, slot int, edit func(*config.Config)) *Sidecar {
		return NewSidecar(t, ln, name, key, profile, "e2e-"+name, slot, func(c *config.Config) {
			c.Leases.OnLeaseStart, c.Leases.OnLeaseEnd = onStart, onEnd
			c.Leases.ClaimInterval = config.Duration(4 * time.Second)
			if edit != nil {
				edit(c)
			}
		})
	}
	a := sidecar("fv-a", "provider1", "dgx-h100", 0, nil)
	b := sidecar("fv-b", "provider2", "rtx4090x4", 1, nil)
	// The demo's misconfigured provider: dearer H100s in Germany, and
	// every proof it opens carries one wrong entry.
	c := sidecar("fv-c", "provider3", "dgx-h100", 2, func(c *config.Config) {
		c.Provider.Region = "DE-fra1"
		c.Pricing.Classes["h100-sxm-80g"] = config.ClassPrice{Floor: []string{"2200000uusdc"}}
	})
	c.Bin, c.Args = gpumeshProviderFaulty(t), []string{"--fault", "corrupt-opening"}
	var wg sync.WaitGroup
	for _, s := range []*Sidecar{a, b, c} {
		wg.Add(1)
		go func() { defer wg.Done(); s.Run("register") }()
	}
	wg.Wait()

	h, err := ln.Height(0)
	require.NoError(t, err)
	h0 := ln.WaitHeight(0, h+1, 10*time.Second)
	before := ln.bookAt(t, h0, acct, providers)
	for _, p := range providers {
		require.Positive(t, before.bonded[p], "%s bonded at registration", p)
	}
	for _, s := range []*Sidecar{a, b, c} {
		s.Start()
	}

	order := func(name, spec, deposit string) {
		t.Helper()
		res := ln.Tx("market", "create-order", writeOrder(t, name, spec+"max_price_per_gpu_hour: 2500000uusdc\n"),
			"--deposit", deposit, "--from", "alice")
		require.Equal(t, uint32(0), res.Code, res.RawLog)
	}
	leased := func(seq int, provider string) leaseView {
		t.Helper()
		var l leaseView
		require.Eventually(t, func() bool {
			var ok bool
			l, ok = ln.lease(alice, seq)
			return ok && l.Lease.AccessEndpoint != ""
		}, 30*time.Second, 200*time.Millisecond, "alice/%d leased and its endpoint posted", seq)
		require.Equal(t, provider, l.Lease.Provider, "alice/%d", seq)
		require.Equal(t, fmt.Sprintf("ssh://lease%d@127.0.0.1:2222", seq), l.Lease.AccessEndpoint, "the hook's endpoint")
		return l
	}

	// alice/1: the demo's auction. provider1 offers its H100s at 2.00
	// USDC, provider3 (if it bids before it is jailed) at 2.20.
	order("auction.yaml", "gpu_classes: [h100-sxm-80g]\ngpus_per_node: 2\nbid_window: 6s\n", "5000000uusdc")
	l1 := leased(1, p1)
	require.Equal(t, "2000000", l1.Lease.Price.Amount, "the cheaper bid won")
	// alice/2: instant, 2 RTX 4090s in the US: only provider2 fits.
	order("rtx.yaml", "gpu_classes: [rtx4090-24g]\ngpus_per_node: 2\nregions: [US]\nbid_window: 0s\n", "3000000uusdc")
	leased(2, p2)

	// One validator down: 3 of 4 keep making blocks and the market goes
	// on through everything below until it is back.
	ln.MustScript("stop-node", "3")
	order("h100.yaml", "gpu_classes: [h100]\ngpus_per_node: 2\nregions: [US]\nbid_window: 0s\n", "3000000uusdc")
	leased(3, p1)
	require.Eventually(t, func() bool {
		var acct escrowView
		return GetJSON(ln.REST(0)+"/gpumesh/escrow/v1/accounts/"+alice+"/1", &acct) == nil &&
			acct.Account.Paid != "" && atoi(t, acct.Account.Paid) > 0
	}, 30*time.Second, 300*time.Millisecond, "provider1 withdrew from alice/1")

	// Capacity challenges: the honest sidecars pass, provider3 fails and
	// is jailed.
	require.Eventually(t, func() bool {
		for _, addr := range []string{p1, p2} {
			for _, ch := range ln.challengesOf(addr) {
				if ch.Kind == "CHALLENGE_KIND_CAPACITY" && ch.State == "CHALLENGE_STATE_PASSED" {
					return true
				}
			}
		}
		return false
	}, 90*time.Second, 500*time.Millisecond, "a capacity challenge passed")
	var bond3 struct {
		Jailed bool `json:"jailed"`
	}
	require.Eventually(t, func() bool {
		return GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p3, &bond3) == nil && bond3.Jailed
	}, 90*time.Second, 500*time.Millisecond, "provider3 jailed")
	failed := 0
	for _, ch := range ln.challengesOf(p3) {
		if ch.State == "CHALLENGE_STATE_FAILED" {
			failed++
			require.Contains(t, ch.Failure, "Merkle path does not lead to the root")
		}
	}
	require.Equal(t, 1, failed, "provider3 failed one challenge and was not challenged again")

	// alice disputes alice/1: the chain challenges the leased GPUs and
	// provider1's sidecar proves them.
	var params struct {
		Params struct {
			DisputeFee struct {
				Denom  string `json:"denom"`
				Amount string `json:"amount"`
			} `json:"dispute_fee"`
		} `json:"params"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/params", &params))
	fee := atoi(t, params.Params.DisputeFee.Amount)
	require.Equal(t, "umesh", params.Params.DisputeFee.Denom)
	res := ln.Tx("proofofcompute", "open-dispute", alice+"/1", params.Params.DisputeFee.Amount+"umesh", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var dispute struct {
		State       string `json:"state"`
		ChallengeID string `json:"challenge_id"`
	}
	require.Eventually(t, func() bool {
		var r struct {
			Disputes []struct {
				State       string `json:"state"`
				ChallengeID string `json:"challenge_id"`
			} `json:"disputes"`
		}
		if GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/disputes/"+alice+"/1", &r) != nil || len(r.Disputes) != 1 {
			return false
		}
		dispute = r.Disputes[0]
		return dispute.State != "DISPUTE_STATE_OPEN"
	}, 60*time.Second, 500*time.Millisecond, "alice's dispute resolved")
	var dc struct {
		Challenge challengeView `json:"challenge"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/challenges/"+dispute.ChallengeID, &dc))
	require.Equal(t, "CHALLENGE_STATE_PASSED", dc.Challenge.State, dc.Challenge.Failure)
	require.Equal(t, "CHALLENGE_KIND_DISPUTE", dc.Challenge.Kind)
	require.Equal(t, p1, dc.Challenge.Provider)

	// An epoch ends with verified GPUs: rewards are minted and both honest
	// sidecars claim theirs.
	require.Eventually(t, func() bool {
		for _, addr := range []string{p1, p2} {
			var rw struct {
				Reward struct {
					Claimed string `json:"claimed"`
				} `json:"reward"`
			}
			if GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/rewards/"+addr, &rw) != nil ||
				rw.Reward.Claimed == "" || atoi(t, rw.Reward.Claimed) == 0 {
				return false
			}
		}
		return true
	}, 120*time.Second, time.Second, "provider1 and provider2 claimed capacity rewards")

	// The stopped validator comes back, catches up and serves the state
	// made while it was down.
	ln.MustScript("start-node", "3") // waits until node3 has caught up
	var l3 leaseView
	require.NoError(t, GetJSON(ln.REST(3)+"/gpumesh/market/v1/leases/"+alice+"/3", &l3))
	require.Equal(t, p1, l3.Lease.Provider, "node3 serves the lease made while it was down")
	require.NoError(t, GetJSON(ln.REST(3)+"/gpumesh/stakingslash/v1/bonds/"+p3, &bond3))
	require.True(t, bond3.Jailed, "node3 has provider3 jailed")

	// alice closes her leases; the providers' on_lease_end hooks run.
	for seq := 1; seq <= 3; seq++ {
		res := ln.Tx("market", "close-lease", fmt.Sprintf("%s/%d", alice, seq), "--from", "alice")
		require.Equal(t, uint32(0), res.Code, res.RawLog)
	}
	require.Eventually(t, func() bool {
		return strings.Count(strings.Join(readLines(filepath.Join(hooks, "end.log")), "\n"), "reason=tenant") == 3
	}, 30*time.Second, 300*time.Millisecond, "on_lease_end ran for the three leases: %v", readLines(filepath.Join(hooks, "end.log")))
	for _, s := range []*Sidecar{a, b, c} {
		s.Stop(syscall.SIGTERM)
	}
	h, err = ln.Height(0)
	require.NoError(t, err)
	h1 := ln.WaitHeight(0, h+2, 10*time.Second)
	after := ln.bookAt(t, h1, acct, providers)
	delta := func(name, denom string) int64 { return after.bal[name][denom] - before.bal[name][denom] }

	// USDC: what each escrow paid, less the fees, reached its provider;
	// the fees reached the community pool and the reserve; the rest came
	// back to alice; nothing was created or destroyed.
	var paid, take, reserve int64
	toProvider := map[string]int64{}
	for seq, provider := range map[int]string{1: "provider1", 2: "provider2", 3: "provider1"} {
		var e struct {
			Account struct {
				State     string `json:"state"`
				Deposited string `json:"deposited"`
				Paid      string `json:"paid"`
				Fees      string `json:"fees"`
				Refunded  string `json:"refunded"`
				Balance   string `json:"balance"`
			} `json:"account"`
		}
		require.NoError(t, GetJSONAt(fmt.Sprintf("%s/gpumesh/escrow/v1/accounts/%s/%d", ln.REST(0), alice, seq), h1, &e))
		require.Equal(t, "ACCOUNT_STATE_CLOSED", e.Account.State, "alice/%d", seq)
		require.Equal(t, "0", e.Account.Balance, "alice/%d: nothing left in escrow", seq)
		require.Positive(t, atoi(t, e.Account.Paid), "alice/%d paid its provider", seq)
		require.Equal(t, atoi(t, e.Account.Deposited), atoi(t, e.Account.Paid)+atoi(t, e.Account.Refunded),
			"alice/%d: paid + refunded = deposited", seq)
		paid += atoi(t, e.Account.Paid)
		toProvider[provider] += atoi(t, e.Account.Paid) - atoi(t, e.Account.Fees)
	}
	var stats statsView
	require.NoError(t, GetJSONAt(ln.REST(0)+"/gpumesh/market/v1/stats", h1, &stats))
	for _, d := range stats.Denoms {
		if d.Denom == "uusdc" {
			take, reserve = atoi(t, d.TakeFees), atoi(t, d.ReserveFees)
			require.Equal(t, paid, atoi(t, d.Settled), "the market's settled USDC is what the escrows paid")
		}
	}
	require.Positive(t, take)
	require.Positive(t, reserve)
	require.Equal(t, paid-take-reserve, toProvider["provider1"]+toProvider["provider2"], "the escrows' fees are the stats' fees")
	require.Equal(t, -paid, delta("alice", "uusdc"), "alice lost exactly what her escrows paid")
	require.Equal(t, toProvider["provider1"], delta("provider1", "uusdc"), "provider1: its leases' pay minus fees")
	require.Equal(t, toProvider["provider2"], delta("provider2", "uusdc"), "provider2: its lease's pay minus fees")
	require.Zero(t, delta("provider3", "uusdc"), "provider3 earned nothing")
	require.Equal(t, take, delta("distribution", "uusdc"), "the take fees are in the community pool")
	require.Equal(t, reserve, delta("market_reserve", "uusdc"), "the reserve fees are in the market reserve")
	require.Zero(t, delta("escrow", "uusdc"), "no USDC left in escrow")
	require.Equal(t, before.supply["uusdc"], after.supply["uusdc"], "no USDC created or destroyed")

	// MESH: supply grew by x/mint's inflation and the capacity rewards
	// minted, nothing else.
	inflation := ln.inflationMinted(t, h0, h1)
	rewards := after.minted - before.minted
	require.Positive(t, inflation)
	require.Positive(t, rewards, "capacity rewards were minted")
	require.Equal(t, inflation+rewards, after.supply["umesh"]-before.supply["umesh"],
		"MESH supply changed by exactly x/mint's inflation (%d) and the capacity rewards (%d)", inflation, rewards)
	// The slash: exactly the wrong-opening fraction (10%) of provider3's
	// bond, all of it to the reserve (a capacity challenge has no tenant).
	slash := math.LegacyNewDecWithPrec(10, 2).MulInt(math.NewInt(before.bonded["provider3"])).TruncateInt().Int64()
	require.Positive(t, slash)
	require.Equal(t, slash, delta("market_reserve", "umesh"), "the slash went to the market reserve")
	require.Equal(t, -slash, delta("provider3", "umesh")+after.bonded["provider3"]-before.bonded["provider3"],
		"provider3 lost exactly the slash (a top-up bond moves MESH from its balance to its bond)")
	require.Zero(t, after.claimed["provider3"]-before.claimed["provider3"], "provider3 earned no rewards")
	// The dispute fee went from alice to provider1; the sidecars' claims
	// reached their accounts; the honest bonds are untouched.
	claimed1 := after.claimed["provider1"] - before.claimed["provider1"]
	claimed2 := after.claimed["provider2"] - before.claimed["provider2"]
	require.Positive(t, claimed1)
	require.Positive(t, claimed2)
	require.Equal(t, -fee, delta("alice", "umesh"), "alice paid the dispute fee (gas is free on the localnet)")
	require.Equal(t, fee+claimed1, delta("provider1", "umesh"), "provider1: the dispute fee and its claimed rewards")
	require.Equal(t, claimed2, delta("provider2", "umesh"), "provider2: its claimed rewards")
	for _, p := range []string{"provider1", "provider2"} {
		require.Equal(t, before.bonded[p], after.bonded[p], "%s's bond untouched", p)
	}
	require.Equal(t, claimed1+claimed2, after.poolOut-before.poolOut, "the pool's claimed total is the providers' claims")
	var bondSum int64
	for _, p := range providers {
		bondSum += after.bonded[p] - before.bonded[p]
	}
	require.Equal(t, bondSum, delta("stakingslash", "umesh"), "the collateral module holds exactly the bonds")
	require.Equal(t, after.minted-after.poolOut, after.bal["proofofcompute"]["umesh"],
		"the proof module holds the rewards minted and not claimed (no dispute open)")
	require.Zero(t, delta("escrow", "umesh"), "every bid deposit was returned")
	t.Logf("blocks %d–%d: USDC paid %d, take %d, reserve %d; MESH inflation %d, rewards %d (claimed %d + %d), "+
		"slash %d, dispute fee %d", h0, h1, paid, take, reserve,
		inflation, rewards, claimed1, claimed2, slash, fee)
}
