// Command demo is `make demo`: the whole gpumesh market on a local
// single-validator chain with mock GPUs, driven only through the CLI, REST
// and three real gpumesh-provider sidecars.
//
//  1. start the chain (1 s blocks, 24-block proof epochs, every idle node
//     sampled) and three sidecars: provider1 (mock dgx-h100, 2.00 USDC per
//     H100-hour), provider2 (mock rtx4090x4) and provider3 (mock dgx-h100,
//     2.20 USDC, started with the test-only corrupt-opening fault);
//  2. alice orders 2× H100 in uusdc; the sidecars that can bid do; the
//     auction picks the cheaper; the demo hook's endpoint is posted;
//  3. payment streams and provider1's sidecar withdraws; a capacity
//     challenge round passes; alice disputes her lease and provider1's
//     sidecar answers it;
//  4. provider3's corrupted proof gets it slashed and jailed;
//  5. alice closes the lease and gets the rest of her deposit back;
//  6. a summary table, where to look next, and every process stopped.
//
// It expects build/gpumeshd and build/gpumesh-provider (make demo builds
// them) and runs from the repository root. DEMO_DIR overrides .demo/.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

const (
	chainID = "gpumesh-local-1"
	rest    = "http://127.0.0.1:1317"
	grpc    = "127.0.0.1:9090"
)

// demo holds what the steps share.
type demo struct {
	root, dir, home string
	gpumeshd, side  string
	faulty          string // the sidecar built with -tags gpumesh_faults (--fault)
	step            int
	started         time.Time
	sidecars        []*sidecar
	addr            map[string]string // key name → address
}

// failure ends the demo at the current step.
type failure struct{ msg string }

func main() {
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	dir := os.Getenv("DEMO_DIR")
	if dir == "" {
		dir = filepath.Join(root, ".demo")
	}
	d := &demo{root: root, dir: dir, home: filepath.Join(dir, "node0"), started: time.Now(),
		gpumeshd: filepath.Join(root, "build", "gpumeshd"), side: filepath.Join(root, "build", "gpumesh-provider"),
		faulty: filepath.Join(root, "build", "gpumesh-provider-faulty"),
		addr:   map[string]string{}}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "\ndemo: interrupted; stopping everything")
		d.cleanup()
		os.Exit(130)
	}()

	code := 0
	func() {
		defer func() {
			if r := recover(); r != nil {
				f, ok := r.(failure)
				if !ok {
					panic(r)
				}
				fmt.Fprintf(os.Stderr, "\n\033[1;31mdemo: FAILED at step %d: %s\033[0m\n", d.step, f.msg)
				for _, s := range d.sidecars {
					s.tail(15)
				}
				code = 1
			}
		}()
		d.run()
	}()
	d.cleanup()
	os.Exit(code)
}

func (d *demo) failf(format string, a ...any) { panic(failure{fmt.Sprintf(format, a...)}) }

func (d *demo) say(format string, a ...any) {
	d.step++
	fmt.Printf("\n\033[1m[%d] %s\033[0m  (%s)\n", d.step, fmt.Sprintf(format, a...),
		time.Since(d.started).Round(time.Second))
}

func info(format string, a ...any) { fmt.Printf("    "+format+"\n", a...) }

func (d *demo) cleanup() {
	for _, s := range d.sidecars {
		s.stop()
	}
	cmd := exec.Command(filepath.Join(d.root, "scripts", "localnet.sh"), "stop")
	cmd.Env = append(os.Environ(), "LOCALNET_DIR="+d.dir, "GPUMESHD="+d.gpumeshd)
	_ = cmd.Run()
}

func (d *demo) run() {
	d.say("Starting a single-validator chain (1 s blocks, 24-block proof epochs) in %s", rel(d.root, d.dir))
	_ = os.RemoveAll(d.dir)
	cmd := exec.Command(filepath.Join(d.root, "scripts", "localnet.sh"), "start", "--validators", "1")
	cmd.Env = append(os.Environ(), "LOCALNET_DIR="+d.dir, "GPUMESHD="+d.gpumeshd,
		"LOCALNET_POC_EPOCH_BLOCKS=24", "LOCALNET_POC_SAMPLE_RATE=1", "LOCALNET_MIN_DEPOSIT_SECONDS=20")
	if out, err := cmd.CombinedOutput(); err != nil {
		d.failf("the local network did not start: %v\n%s", err, out)
	}
	for _, k := range []string{"alice", "provider1", "provider2", "provider3"} {
		d.addr[k] = strings.TrimSpace(d.cli("keys", "show", k, "-a", "--keyring-backend", "test"))
	}
	alice, p1, p3 := d.addr["alice"], d.addr["provider1"], d.addr["provider3"]
	info("validator up; REST %s, gRPC %s", rest, grpc)

	d.say("Three provider sidecars register their mock GPUs, bond, and start")
	hook := d.writeHook()
	d.sidecars = []*sidecar{
		d.newSidecar("provider1", "acme-h100", "dgx-h100", 0, hook, func(c *config.Config) {}),
		d.newSidecar("provider2", "bolt-4090", "rtx4090x4", 1, hook, func(c *config.Config) {}),
		d.newSidecar("provider3", "shady-h100", "dgx-h100", 2, hook, func(c *config.Config) {
			c.Pricing.Classes["h100-sxm-80g"] = config.ClassPrice{Floor: []string{"2200000uusdc"}}
		}),
	}
	d.sidecars[2].bin, d.sidecars[2].args = d.faulty, []string{"--fault", "corrupt-opening"}
	var wg sync.WaitGroup
	errs := make([]error, len(d.sidecars))
	for i, s := range d.sidecars {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.oneShot("register") }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			d.failf("%s: gpumesh-provider register: %v", d.sidecars[i].key, err)
		}
	}
	bonds := map[string]int64{}
	for _, s := range d.sidecars {
		if err := s.start(); err != nil {
			d.failf("%s: %v", s.key, err)
		}
		var bond struct {
			Bonded   string `json:"bonded"`
			Eligible bool   `json:"eligible"`
		}
		d.get("/gpumesh/stakingslash/v1/bonds/"+d.addr[s.key], &bond)
		bonds[s.key] = atoi(bond.Bonded)
		var st struct {
			NVML string `json:"nvml"`
		}
		d.getURL(s.rest+"/v1/status", &st)
		info("%-9s %-10s %-44s bonded %s MESH, eligible %v", s.key, s.moniker, st.NVML, mesh(bond.Bonded), bond.Eligible)
	}
	info("provider3 runs with --fault corrupt-opening: its proofs will carry one wrong entry")
	start := map[string][2]int64{}
	for _, k := range []string{"alice", "provider1", "provider2", "provider3"} {
		start[k] = [2]int64{d.balance(d.addr[k], "uusdc"), d.balance(d.addr[k], "umesh")}
	}
	// Slashed collateral of a capacity failure goes to the market reserve
	// (no tenant is named): its MESH balance shows what was slashed, even
	// after a sidecar bonds the difference again.
	reserve := authtypes.NewModuleAddress(app.MarketReserveAccount).String()
	reserveStart := d.balance(reserve, "umesh")
	slashed := map[string]int64{}

	d.say("alice orders 2× H100 SXM in uusdc (max 2.50 USDC per GPU-hour, 6 s auction, 5 USDC deposit)")
	order := filepath.Join(d.dir, "order.yaml")
	d.writeFile(order, "gpu_classes: [h100-sxm-80g]\ngpus_per_node: 2\nregions: [US]\n"+
		"max_price_per_gpu_hour: 2500000uusdc\nbid_window: 6s\n")
	d.tx("market", "create-order", order, "--deposit", "5000000uusdc", "--from", "alice")
	lease := alice + "/1"
	var bids struct {
		Bids []struct {
			Provider string `json:"provider"`
			Price    coin   `json:"price_per_gpu_hour"`
		} `json:"bids"`
	}
	d.eventually(15*time.Second, "two bids on "+lease, func() bool {
		d.get("/gpumesh/market/v1/orders/"+lease+"/bids", &bids)
		return len(bids.Bids) == 2
	})
	for _, b := range bids.Bids {
		info("bid from %-9s %s per GPU-hour", d.name(b.Provider), b.Price.usdc())
	}
	info("provider2 has no H100: its sidecar does not bid")
	var l leaseView
	d.eventually(20*time.Second, "the auction's lease with an endpoint", func() bool {
		return d.try("/gpumesh/market/v1/leases/"+lease, &l) && l.Lease.AccessEndpoint != ""
	})
	if l.Lease.Provider != p1 {
		d.failf("the lease went to %s, not to provider1's cheaper bid", d.name(l.Lease.Provider))
	}
	info("the window closed: %s won at %s per GPU-hour on %s", d.name(l.Lease.Provider), l.Lease.Price.usdc(),
		strings.Join(l.Lease.GPUs, ", "))
	info("provider1's on_lease_start hook ran; endpoint on chain: %q", l.Lease.AccessEndpoint)

	d.say("Payment streams by the second; provider1's sidecar withdraws on its own")
	p1USDC0 := d.balance(p1, "uusdc")
	var acct escrowView
	d.eventually(30*time.Second, "a withdrawal by provider1's sidecar", func() bool {
		d.get("/gpumesh/escrow/v1/accounts/"+lease, &acct)
		return atoi(acct.Account.Paid) > 0 && d.balance(p1, "uusdc") > p1USDC0
	})
	info("escrow paid %s so far (2 GPUs × 2.00 USDC/h = 1111 uusdc/s); provider1 received %s after fees",
		usdc(acct.Account.Paid), usdc(strconv.FormatInt(d.balance(p1, "uusdc")-p1USDC0, 10)))

	d.say("A capacity challenge round: idle GPUs prove they compute")
	var passed challengeView
	d.eventually(60*time.Second, "a passed capacity challenge", func() bool {
		for _, k := range []string{"provider1", "provider2"} {
			for _, c := range d.challenges(d.addr[k]) {
				if c.Kind == "CHALLENGE_KIND_CAPACITY" && c.State == "CHALLENGE_STATE_PASSED" {
					passed = c
					return true
				}
			}
		}
		return false
	})
	info("challenge %s of %s (epoch %s) passed: committed, opened at height %s, verified on chain",
		passed.ID, d.name(passed.Provider), passed.Epoch, passed.OpenHeight)

	d.say("alice disputes her lease: the chain challenges the leased GPUs")
	var params struct {
		Params struct {
			DisputeFee coin `json:"dispute_fee"`
		} `json:"params"`
	}
	d.get("/gpumesh/proofofcompute/v1/params", &params)
	fee := params.Params.DisputeFee.Amount + params.Params.DisputeFee.Denom
	d.tx("proofofcompute", "open-dispute", lease, fee, "--from", "alice")
	var dispute struct {
		State       string `json:"state"`
		ChallengeID string `json:"challenge_id"`
	}
	d.eventually(60*time.Second, "the dispute resolved", func() bool {
		var res struct {
			Disputes []struct {
				State       string `json:"state"`
				ChallengeID string `json:"challenge_id"`
			} `json:"disputes"`
		}
		d.get("/gpumesh/proofofcompute/v1/disputes/"+lease, &res)
		if len(res.Disputes) == 0 {
			return false
		}
		dispute = res.Disputes[0]
		return dispute.State != "DISPUTE_STATE_OPEN"
	})
	var dc struct {
		Challenge challengeView `json:"challenge"`
	}
	d.get("/gpumesh/proofofcompute/v1/challenges/"+dispute.ChallengeID, &dc)
	if dc.Challenge.State != "CHALLENGE_STATE_PASSED" {
		d.failf("the dispute's challenge %s ended %s: %s", dispute.ChallengeID, dc.Challenge.State, dc.Challenge.Failure)
	}
	info("dispute challenge %s passed (%s): provider1's sidecar proved the leased GPUs; the %s MESH fee goes to it",
		dispute.ChallengeID, dispute.State, mesh(params.Params.DisputeFee.Amount))

	d.say("provider3's corrupted proof: slashed and jailed")
	var bond3 struct {
		Bonded string `json:"bonded"`
		Jailed bool   `json:"jailed"`
	}
	d.eventually(60*time.Second, "provider3 jailed", func() bool {
		d.get("/gpumesh/stakingslash/v1/bonds/"+p3, &bond3)
		return bond3.Jailed
	})
	var failed challengeView
	for _, c := range d.challenges(p3) {
		if c.State == "CHALLENGE_STATE_FAILED" {
			failed = c
		}
	}
	info("challenge %s failed: %s", failed.ID, failed.Failure)
	slashed["provider3"] = d.balance(reserve, "umesh") - reserveStart
	info("slashed %s of its %s MESH bond (to the market reserve) and jailed; its bids are closed and it is not challenged again",
		mesh(strconv.FormatInt(slashed["provider3"], 10)), mesh(strconv.FormatInt(bonds["provider3"], 10)))
	if atoi(bond3.Bonded) >= bonds["provider3"] {
		info("its sidecar bonded the difference again (auto_bond): %s MESH bonded, jailed", mesh(bond3.Bonded))
	}

	d.say("An epoch ends: verified idle GPUs earn capacity rewards")
	p2 := d.addr["provider2"]
	before := start["provider2"][1]
	d.eventually(90*time.Second, "capacity rewards claimed by provider2's sidecar", func() bool {
		return d.balance(p2, "umesh") > before
	})
	info("provider2's 4 verified RTX 4090s earned capacity rewards; its sidecar claimed them: +%s MESH",
		mesh(strconv.FormatInt(d.balance(p2, "umesh")-before, 10)))

	d.say("alice closes the lease: the rest of her deposit comes back")
	d.tx("market", "close-lease", lease, "--from", "alice", "--gas", "auto", "--gas-adjustment", "1.5")
	d.get("/gpumesh/escrow/v1/accounts/"+lease, &acct)
	d.get("/gpumesh/market/v1/leases/"+lease, &l)
	info("lease %s, %s; escrow paid %s in all, refunded %s", lease, strings.ToLower(strings.TrimPrefix(l.Lease.State,
		"LEASE_STATE_")), usdc(acct.Account.Paid), usdc(acct.Account.Refunded))
	d.eventually(20*time.Second, "provider1's on_lease_end hook", func() bool {
		bz, _ := os.ReadFile(filepath.Join(d.dir, "hooks.log"))
		return strings.Contains(string(bz), "end "+lease)
	})
	info("provider1's on_lease_end hook ran (reason %s)", d.lastEndReason(lease))

	d.say("Summary")
	d.summary(start, bonds, slashed, lease)
	fmt.Printf(`
Where to look next (while it runs, or after make localnet-start):
  curl %[1]s/gpumesh/market/v1/leases?tenant=<addr>        leases, with endpoints
  curl %[1]s/gpumesh/escrow/v1/accounts/<tenant>/<seq>     what a lease has paid
  curl %[1]s/gpumesh/proofofcompute/v1/challenges?provider=<addr>
  curl %[1]s/gpumesh/market/v1/stats                       volume and fees
  curl http://127.0.0.1:19462/v1/gpus                       a sidecar's GPUs (its API; 19472, 19482 for the others)
  build/gpumeshd q market leases --tenant <addr> --home .localnet/node0
  build/gpumesh-provider inventory --nvml mock:dgx-h100
Docs: README.md, cmd/gpumesh-provider/README.md, docs/hooks/README.md, x/*/README.md
Sidecar logs of this run: %[2]s/sidecars/*/run.log
Every process this demo started is being stopped now.
`, rest, rel(d.root, d.dir))
}

// summary prints who paid and got what: balance changes since the
// providers bonded, rewards owed, reputation and bonds.
func (d *demo) summary(start map[string][2]int64, bonds, slashed map[string]int64, lease string) {
	var acct escrowView
	d.get("/gpumesh/escrow/v1/accounts/"+lease, &acct)
	var stats struct {
		Denoms []struct {
			Denom       string `json:"denom"`
			TakeFees    string `json:"take_fees"`
			ReserveFees string `json:"reserve_fees"`
		} `json:"denoms"`
	}
	d.get("/gpumesh/market/v1/stats", &stats)
	var take, reserve string
	for _, s := range stats.Denoms {
		if s.Denom == "uusdc" {
			take, reserve = s.TakeFees, s.ReserveFees
		}
	}
	row := "    %-10s %-16s %-17s %-14s %-11s %s\n"
	fmt.Printf(row, "account", "USDC", "MESH", "rewards owed", "reputation", "bond")
	for _, k := range []string{"alice", "provider1", "provider2", "provider3"} {
		a := d.addr[k]
		dUSDC := signed(d.balance(a, "uusdc")-start[k][0], "uusdc")
		dMESH := signed(d.balance(a, "umesh")-start[k][1], "umesh")
		if k == "alice" {
			fmt.Printf(row, k, dUSDC, dMESH, "", "", "")
			continue
		}
		var p struct {
			Provider struct {
				Reputation uint32 `json:"reputation"`
			} `json:"provider"`
		}
		d.get("/gpumesh/provider/v1/providers/"+a, &p)
		var rw struct {
			Claimable coin `json:"claimable"`
		}
		d.get("/gpumesh/proofofcompute/v1/rewards/"+a, &rw)
		var b struct {
			Bonded string `json:"bonded"`
			Jailed bool   `json:"jailed"`
		}
		d.get("/gpumesh/stakingslash/v1/bonds/"+a, &b)
		bond := mesh(b.Bonded) + " MESH"
		if s := slashed[k]; s > 0 {
			bond += fmt.Sprintf(" (slashed %s)", mesh(strconv.FormatInt(s, 10)))
		} else if diff := atoi(b.Bonded) - bonds[k]; diff != 0 {
			bond += fmt.Sprintf(" (slashed %s)", mesh(strconv.FormatInt(-diff, 10)))
		}
		if b.Jailed {
			bond += ", jailed"
		}
		fmt.Printf(row, k, dUSDC, dMESH, mesh(rw.Claimable.Amount)+" MESH",
			fmt.Sprintf("%d.%02d%%", p.Provider.Reputation/100, p.Provider.Reputation%100), bond)
	}
	fmt.Printf("\n    lease %s: deposited %s, paid %s, refunded %s.\n", lease, usdc(acct.Account.Deposited),
		usdc(acct.Account.Paid), usdc(acct.Account.Refunded))
	fmt.Printf("    Of the payment, the market kept %s (take) and %s (reserve); provider1 got the rest.\n",
		usdc(take), usdc(reserve))
	fmt.Println("    alice's MESH is the dispute fee, paid to provider1 when its proof passed (gas is free here).")
	fmt.Println("    Providers' MESH includes capacity rewards their sidecars claimed; rewards owed are not claimed yet.")
}

// ---- chain access ----

// cli runs gpumeshd against node0's home and returns stdout.
func (d *demo) cli(args ...string) string {
	cmd := exec.Command(d.gpumeshd, append(args, "--home", d.home)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		d.failf("gpumeshd %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out)
}

// tx signs args (a `gpumeshd tx` command line without "tx") with the test
// keyring and waits until it is in a block with code 0.
func (d *demo) tx(args ...string) {
	full := append([]string{"tx"}, args...)
	full = append(full, "--keyring-backend", "test", "--chain-id", chainID, "--yes", "-o", "json")
	if !contains(args, "--gas") {
		full = append(full, "--gas", "400000")
	}
	var res struct {
		Code   uint32 `json:"code"`
		RawLog string `json:"raw_log"`
		TxHash string `json:"txhash"`
	}
	out := d.cli(full...)
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		d.failf("gpumeshd %s: %v: %s", strings.Join(full, " "), err, out)
	}
	if res.Code != 0 {
		d.failf("gpumeshd %s refused: %s", strings.Join(args, " "), res.RawLog)
	}
	var included struct {
		TxResponse struct {
			Code   uint32 `json:"code"`
			RawLog string `json:"raw_log"`
		} `json:"tx_response"`
	}
	d.eventually(30*time.Second, "tx "+res.TxHash+" in a block", func() bool {
		return d.try("/cosmos/tx/v1beta1/txs/"+res.TxHash, &included)
	})
	if included.TxResponse.Code != 0 {
		d.failf("gpumeshd %s failed in the block: %s", strings.Join(args, " "), included.TxResponse.RawLog)
	}
}

var client = &http.Client{Timeout: 5 * time.Second}

// try GETs a REST path into out and reports whether it answered 200.
func (d *demo) try(path string, out any) bool { return getJSON(rest+path, out) == nil }

func (d *demo) get(path string, out any) { d.getURL(rest+path, out) }

func (d *demo) getURL(url string, out any) {
	if err := getJSON(url, out); err != nil {
		d.failf("%v", err)
	}
}

func getJSON(url string, out any) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return json.Unmarshal(body, out)
}

func (d *demo) balance(addr, denom string) int64 {
	var b struct {
		Balance coin `json:"balance"`
	}
	d.get("/cosmos/bank/v1beta1/balances/"+addr+"/by_denom?denom="+denom, &b)
	return atoi(b.Balance.Amount)
}

type challengeView struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Provider   string `json:"provider"`
	State      string `json:"state"`
	OpenHeight string `json:"open_height"`
	Failure    string `json:"failure"`
	Epoch      string `json:"epoch"`
}

func (d *demo) challenges(addr string) []challengeView {
	var res struct {
		Challenges []challengeView `json:"challenges"`
	}
	d.get("/gpumesh/proofofcompute/v1/challenges?provider="+addr, &res)
	return res.Challenges
}

type leaseView struct {
	Lease struct {
		Provider       string   `json:"provider"`
		GPUs           []string `json:"gpus"`
		State          string   `json:"state"`
		AccessEndpoint string   `json:"access_endpoint"`
		Price          coin     `json:"price_per_gpu_hour"`
	} `json:"lease"`
}

type escrowView struct {
	Account struct {
		Deposited string `json:"deposited"`
		Paid      string `json:"paid"`
		Refunded  string `json:"refunded"`
	} `json:"account"`
}

type coin struct {
	Denom  string `json:"denom"`
	Amount string `json:"amount"`
}

func (c coin) usdc() string { return usdc(c.Amount) }

// eventually polls cond every 300 ms until it holds or the timeout passes.
func (d *demo) eventually(timeout time.Duration, what string, cond func() bool) {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			d.failf("no %s within %s", what, timeout)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// name is the key name of an address.
func (d *demo) name(addr string) string {
	for k, a := range d.addr {
		if a == addr {
			return k
		}
	}
	return addr
}

// ---- sidecars ----

type sidecar struct {
	key, moniker, home string
	bin                string
	args               []string
	rest, metrics      string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
}

func (d *demo) newSidecar(key, moniker, profile string, slot int, hook string, edit func(*config.Config)) *sidecar {
	home := filepath.Join(d.dir, "sidecars", key)
	cfg := config.Default()
	cfg.Chain.GRPC, cfg.Chain.ChainID, cfg.Chain.GasPrices = grpc, chainID, ""
	cfg.Chain.PollInterval = config.Duration(300 * time.Millisecond)
	cfg.Key = config.Key{Name: key, KeyringBackend: "test", KeyringDir: d.home}
	cfg.Provider.Moniker, cfg.Provider.Region = moniker, "US-east1"
	cfg.Provider.HostURI = "https://" + moniker + ".demo.gpumesh"
	cfg.Provider.Node.ID = moniker + "-node1"
	cfg.NVML.Mode = "mock:" + profile
	cfg.NVML.TelemetryInterval = config.Duration(time.Second)
	cfg.Prover.Backend = "cpu"
	cfg.Leases.OnLeaseStart, cfg.Leases.OnLeaseEnd = hook+" start", hook+" end"
	cfg.Leases.UsageInterval = config.Duration(5 * time.Second)
	cfg.Leases.WithdrawInterval = config.Duration(5 * time.Second)
	cfg.Leases.ClaimInterval = config.Duration(5 * time.Second)
	base := 19460 + 10*slot
	cfg.Metrics.Address = fmt.Sprintf("127.0.0.1:%d", base)
	cfg.API.GRPCAddress = fmt.Sprintf("127.0.0.1:%d", base+1)
	cfg.API.RESTAddress = fmt.Sprintf("127.0.0.1:%d", base+2)
	edit(&cfg)
	if _, err := config.Write(home, cfg, true); err != nil {
		d.failf("%s config: %v", key, err)
	}
	return &sidecar{key: key, moniker: moniker, home: home, bin: d.side,
		rest: "http://" + cfg.API.RESTAddress, metrics: "http://" + cfg.Metrics.Address}
}

func (s *sidecar) oneShot(args ...string) error {
	out, err := exec.Command(s.bin, append(args, "--home", s.home)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

func (s *sidecar) start() error {
	f, err := os.Create(filepath.Join(s.home, "run.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, append([]string{"run", "--home", s.home}, s.args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return err
	}
	s.mu.Lock()
	s.cmd, s.log = cmd, f
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if resp, err := client.Get(s.metrics + "/healthz"); err == nil {
			_ = resp.Body.Close()
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("the sidecar's metrics server did not come up in 30 s (see " + f.Name() + ")")
}

func (s *sidecar) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
	_ = s.log.Close()
}

func (s *sidecar) tail(n int) {
	bz, err := os.ReadFile(filepath.Join(s.home, "run.log"))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(bz), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Fprintf(os.Stderr, "---- %s sidecar log (last %d lines) ----\n%s\n", s.key, len(lines), strings.Join(lines, "\n"))
}

// writeHook writes the demo's lease hook: it logs the call and, on start,
// prints an endpoint (a real provider would start a container; see
// docs/hooks/).
func (d *demo) writeHook() string {
	path := filepath.Join(d.dir, "demo-hook.sh")
	d.writeFile(path, `#!/bin/sh
# gpumesh demo hook: $1 is start or end.
echo "$1 $GPUMESH_LEASE_ID gpus=$GPUMESH_GPU_UUIDS reason=$GPUMESH_CLOSE_REASON" >> "$(dirname "$0")/hooks.log"
if [ "$1" = start ]; then
  echo "ssh://tenant@$(echo "$GPUMESH_PROVIDER" | cut -c1-12).demo.gpumesh:2222"
fi
`)
	if err := os.Chmod(path, 0o755); err != nil { //nolint:gosec // the hook must be executable
		d.failf("%v", err)
	}
	return path
}

func (d *demo) lastEndReason(lease string) string {
	bz, _ := os.ReadFile(filepath.Join(d.dir, "hooks.log"))
	reason := "?"
	for _, line := range strings.Split(string(bz), "\n") {
		if strings.HasPrefix(line, "end "+lease+" ") {
			if i := strings.Index(line, "reason="); i >= 0 {
				reason = line[i+len("reason="):]
			}
		}
	}
	return reason
}

func (d *demo) writeFile(path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // a demo directory
		d.failf("%v", err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		d.failf("%v", err)
	}
}

// ---- formatting ----

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// usdc formats base units of uusdc as USDC.
func usdc(amount string) string { return decimal(atoi(amount)) + " USDC" }

// mesh formats base units of umesh as MESH, without the unit.
func mesh(amount string) string { return decimal(atoi(amount)) }

func decimal(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	s := fmt.Sprintf("%s%d.%06d", sign, n/1_000_000, n%1_000_000)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func signed(n int64, denom string) string {
	unit := map[string]string{"uusdc": " USDC", "umesh": " MESH"}[denom]
	if n >= 0 {
		return "+" + decimal(n) + unit
	}
	return decimal(n) + unit
}

func rel(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
