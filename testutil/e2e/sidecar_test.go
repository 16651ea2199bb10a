//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

// Sidecar is one gpumesh-provider process with its own home.
type Sidecar struct {
	t       *testing.T
	Name    string
	Home    string
	Bin     string
	Metrics string // metrics base URL
	REST    string // sidecar API REST base URL
	Args    []string

	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
	n   int // starts
}

// NewSidecar writes a config for key (a localnet node0 test key) with the
// given mock profile and node id, and edits it with edit. Ports are
// derived from the localnet's offset and slot.
func NewSidecar(t *testing.T, ln *Localnet, name, key, profile, nodeID string, slot int, edit func(*config.Config)) *Sidecar {
	t.Helper()
	home := filepath.Join(t.TempDir(), name)
	cfg := config.Default()
	cfg.Chain.GRPC = fmt.Sprintf("127.0.0.1:%d", 9090+ln.Offset)
	cfg.Chain.ChainID = "gpumesh-local-1"
	cfg.Chain.GasPrices = ""
	cfg.Chain.PollInterval = config.Duration(300 * time.Millisecond)
	cfg.Key = config.Key{Name: key, KeyringBackend: "test", KeyringDir: ln.Home(0)}
	cfg.Provider.Moniker = name
	cfg.Provider.HostURI = "https://" + name + ".example.com"
	cfg.Provider.Region = "US-east1"
	cfg.Provider.Node.ID = nodeID
	cfg.NVML.Mode = "mock:" + profile
	cfg.NVML.TelemetryInterval = config.Duration(time.Second)
	cfg.Prover.Backend = "cpu"
	cfg.Prover.Workers = 1
	cfg.Leases.UsageInterval = config.Duration(3 * time.Second)
	cfg.Leases.WithdrawInterval = config.Duration(4 * time.Second)
	cfg.Leases.HookTimeout = config.Duration(10 * time.Second)
	cfg.Leases.ClaimInterval = 0
	base := 9400 + ln.Offset + 10*slot
	cfg.Metrics.Address = fmt.Sprintf("127.0.0.1:%d", base)
	cfg.API.GRPCAddress = fmt.Sprintf("127.0.0.1:%d", base+1)
	cfg.API.RESTAddress = fmt.Sprintf("127.0.0.1:%d", base+2)
	if edit != nil {
		edit(&cfg)
	}
	_, err := config.Write(home, cfg, false)
	require.NoError(t, err)
	s := &Sidecar{t: t, Name: name, Home: home, Bin: gpumeshProvider(t),
		Metrics: "http://" + cfg.Metrics.Address, REST: "http://" + cfg.API.RESTAddress}
	t.Cleanup(func() {
		s.Stop(syscall.SIGKILL)
		if t.Failed() {
			s.DumpLog(60)
		}
	})
	return s
}

// Run runs a one-shot sidecar command (register, inventory…) and returns
// its combined output, failing the test on error.
func (s *Sidecar) Run(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(s.Bin, append(args, "--home", s.Home)...)
	out, err := cmd.CombinedOutput()
	require.NoError(s.t, err, "gpumesh-provider %s (%s):\n%s", strings.Join(args, " "), s.Name, out)
	return string(out)
}

// Start starts `gpumesh-provider run` (plus s.Args), logging to a file in
// its home, and waits until its /healthz answers.
func (s *Sidecar) Start() {
	s.t.Helper()
	s.mu.Lock()
	s.n++
	f, err := os.OpenFile(filepath.Join(s.Home, "run.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(s.t, err)
	_, _ = fmt.Fprintf(f, "\n==== start %d ====\n", s.n)
	cmd := exec.Command(s.Bin, append([]string{"run", "--home", s.Home}, s.Args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(s.t, cmd.Start())
	s.cmd, s.log = cmd, f
	s.mu.Unlock()
	require.Eventually(s.t, func() bool {
		resp, err := httpClient.Get(s.Metrics + "/healthz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return true
	}, 30*time.Second, 200*time.Millisecond, "%s: metrics server did not come up", s.Name)
}

// Stop sends sig and waits for the process to exit.
func (s *Sidecar) Stop(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
	_ = s.log.Close()
}

// DumpLog logs the last lines of the sidecar's log.
func (s *Sidecar) DumpLog(lines int) {
	bz, err := os.ReadFile(filepath.Join(s.Home, "run.log"))
	if err != nil {
		return
	}
	all := strings.Split(strings.TrimRight(string(bz), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	s.t.Logf("---- %s run.log (last %d lines) ----\n%s", s.Name, len(all), strings.Join(all, "\n"))
}

var httpClient = &http.Client{Timeout: 3 * time.Second}

// getText fetches url and returns its body.
func getText(url string) (string, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), nil
}

// MetricSum scrapes /metrics and sums the samples of name whose labels
// contain every labels substring (e.g. `outcome="passed"`).
func (s *Sidecar) MetricSum(name string, labels ...string) float64 {
	s.t.Helper()
	body, err := getText(s.Metrics + "/metrics")
	require.NoError(s.t, err)
	sum := 0.0
	sc := bufio.NewScanner(strings.NewReader(body))
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(m[1], l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		require.NoError(s.t, err, sc.Text())
		sum += v
	}
	return sum
}

// hookScript writes the test hooks: on_lease_start appends its environment
// to start.log in dir and prints an endpoint; on_lease_end appends to
// end.log.
func hookScripts(t *testing.T, dir string) (start, end string) {
	t.Helper()
	start = filepath.Join(dir, "on-start.sh")
	end = filepath.Join(dir, "on-end.sh")
	require.NoError(t, os.WriteFile(start, []byte(`#!/bin/sh
set -e
echo "lease=$GPUMESH_LEASE_ID tenant=$GPUMESH_TENANT seq=$GPUMESH_LEASE_SEQ provider=$GPUMESH_PROVIDER gpus=$GPUMESH_GPU_UUIDS" >> "$(dirname "$0")/start.log"
echo "provisioning $GPUMESH_LEASE_ID" >&2
echo "some progress line"
echo "ssh://lease$GPUMESH_LEASE_SEQ@127.0.0.1:2222"
`), 0o700))
	require.NoError(t, os.WriteFile(end, []byte(`#!/bin/sh
echo "lease=$GPUMESH_LEASE_ID reason=$GPUMESH_CLOSE_REASON gpus=$GPUMESH_GPU_UUIDS" >> "$(dirname "$0")/end.log"
`), 0o700))
	return start, end
}

func readLines(path string) []string {
	bz, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(bz)), "\n")
}

// lease returns the lease tenant/seq, or ok false while there is none.
func (ln *Localnet) lease(tenant string, seq int) (leaseView, bool) {
	var l leaseView
	if err := GetJSON(fmt.Sprintf("%s/gpumesh/market/v1/leases/%s/%d", ln.REST(0), tenant, seq), &l); err != nil {
		return l, false
	}
	return l, true
}

// Three sidecars run against a real network, with nothing driving them but
// their config: provider1 (mock dgx-h100) and provider2 (mock rtx4090x4)
// bid on alice's orders by their pricing policies, and the cheaper offer
// wins the auction; an instant order becomes a lease within a couple of
// blocks; the winners' hooks provision the leases and their endpoints are
// posted; usage is reported and earnings withdrawn; idle GPUs pass
// challenges epoch after epoch. provider1 is killed after committing to a
// challenge and restarted: it reveals from chain state without sending the
// commitment again and without provisioning its lease twice. provider3
// runs with the test-only corrupt-opening fault: it is slashed and jailed,
// the honest two are not. Closing a lease runs on_lease_end.
func TestSidecarsRunTheMarket(t *testing.T) {
	ln := NewLocalnet(t, 16000)
	ln.Env = append(ln.Env, "LOCALNET_POC_EPOCH_BLOCKS=16", "LOCALNET_POC_SAMPLE_RATE=1",
		"LOCALNET_MIN_DEPOSIT_SECONDS=20")
	ln.MustScript("start")
	alice := ln.Address("alice")
	p1, p2, p3 := ln.Address("provider1"), ln.Address("provider2"), ln.Address("provider3")

	hooks := t.TempDir()
	onStart, onEnd := hookScripts(t, hooks)
	withHooks := func(c *config.Config) { c.Leases.OnLeaseStart, c.Leases.OnLeaseEnd = onStart, onEnd }
	a := NewSidecar(t, ln, "sc-a", "provider1", "dgx-h100", "e2e-sc-a", 0, withHooks)
	b := NewSidecar(t, ln, "sc-b", "provider2", "rtx4090x4", "e2e-sc-b", 1, withHooks)
	c := NewSidecar(t, ln, "sc-c", "provider3", "dgx-h100", "e2e-sc-c", 2, func(c *config.Config) {
		c.Bidding.Enabled = false
	})
	c.Bin, c.Args = gpumeshProviderFaulty(t), []string{"--fault", "corrupt-opening"}

	// Register (provider, inventory, bond) the way an operator does.
	var wg sync.WaitGroup
	for _, s := range []*Sidecar{a, b, c} {
		wg.Add(1)
		go func() { defer wg.Done(); s.Run("register") }()
	}
	wg.Wait()
	for _, addr := range []string{p1, p2, p3} {
		var bond bondView
		require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+addr, &bond))
		require.True(t, bond.Eligible, "%s bonded what its GPUs require: %+v", addr, bond)
	}
	var c3bond bondView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p3, &c3bond))
	for _, s := range []*Sidecar{a, b, c} {
		s.Start()
	}

	// alice/1: 2 GPUs of either class, a 6 s auction. provider1 offers H100s
	// at its 2.00 USDC floor, provider2 RTX 4090s at 0.35 USDC: provider2 wins.
	order := writeOrder(t, "o1.yaml", `gpu_classes: [h100-sxm-80g, rtx4090-24g]
gpus_per_node: 2
max_price_per_gpu_hour: 2500000uusdc
bid_window: 6s
`)
	res := ln.Tx("market", "create-order", order, "--deposit", "5000000uusdc", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	var bids struct {
		Bids []struct {
			Provider string `json:"provider"`
			Price    struct {
				Amount string `json:"amount"`
			} `json:"price_per_gpu_hour"`
		} `json:"bids"`
	}
	require.Eventually(t, func() bool {
		return GetJSON(ln.REST(0)+"/gpumesh/market/v1/orders/"+alice+"/1/bids", &bids) == nil && len(bids.Bids) == 2
	}, 15*time.Second, 200*time.Millisecond, "both sidecars bid on alice/1: %+v", bids)
	prices := map[string]string{}
	for _, bid := range bids.Bids {
		prices[bid.Provider] = bid.Price.Amount
	}
	require.Equal(t, map[string]string{p1: "2000000", p2: "350000"}, prices)

	var l1 leaseView
	require.Eventually(t, func() bool {
		var ok bool
		l1, ok = ln.lease(alice, 1)
		return ok && l1.Lease.AccessEndpoint != ""
	}, 30*time.Second, 200*time.Millisecond, "alice/1 leased and its endpoint posted")
	require.Equal(t, p2, l1.Lease.Provider, "the cheaper bid wins")
	require.Equal(t, "ssh://lease1@127.0.0.1:2222", l1.Lease.AccessEndpoint, "the hook's last stdout line")
	require.Len(t, l1.Lease.Gpus, 2)
	// provider2's own API shows the lease's GPUs as allocated.
	var status struct {
		Provider   string `json:"provider"`
		Registered bool   `json:"registered"`
		Connected  bool   `json:"connected"`
		Nvml       string `json:"nvml"`
	}
	require.NoError(t, GetJSON(b.REST+"/v1/status", &status))
	require.Equal(t, p2, status.Provider)
	require.True(t, status.Registered && status.Connected, "%+v", status)
	require.Contains(t, status.Nvml, "mock:rtx4090x4")
	var gpusBody string
	gpusOK := func() bool {
		var list struct {
			Gpus []struct {
				UUID        string `json:"uuid"`
				Class       string `json:"class"`
				Healthy     bool   `json:"healthy"`
				AllocatedTo string `json:"allocated_to"`
			} `json:"gpus"`
		}
		body, err := getText(b.REST + "/v1/gpus")
		gpusBody = body
		if err != nil {
			gpusBody = err.Error()
		}
		if err != nil || json.Unmarshal([]byte(body), &list) != nil || len(list.Gpus) != 4 {
			return false
		}
		var allocated []string
		for _, g := range list.Gpus {
			if g.Class != "rtx4090-24g" || !g.Healthy {
				return false
			}
			if g.AllocatedTo == alice+"/1" {
				allocated = append(allocated, g.UUID)
			}
		}
		want := slices.Clone(l1.Lease.Gpus)
		slices.Sort(want)
		slices.Sort(allocated)
		return slices.Equal(want, allocated)
	}
	for deadline := time.Now().Add(10 * time.Second); !gpusOK() && time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
	}
	inv, _ := getText(ln.REST(0) + "/gpumesh/provider/v1/providers/" + p2 + "/inventory")
	require.True(t, gpusOK(), "provider2's /v1/gpus lists its 4 healthy GPUs, 2 allocated to alice/1:\n%s\nchain: %s", gpusBody, inv)
	require.Eventually(t, func() bool {
		return b.MetricSum("gpumesh_provider_bids_won_total") == 1 && a.MetricSum("gpumesh_provider_bids_lost_total") == 1
	}, 10*time.Second, 200*time.Millisecond, "provider2 counted alice/1 won, provider1 lost")

	// alice/2: an instant order for one H100: only provider1 fits.
	order2 := writeOrder(t, "o2.yaml", `gpu_classes: [h100]
gpus_per_node: 1
max_price_per_gpu_hour: 2500000uusdc
bid_window: 0s
`)
	res = ln.Tx("market", "create-order", order2, "--deposit", "3000000uusdc", "--from", "alice")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	orderHeight := atoi(t, res.Height)
	var l2 leaseView
	require.Eventually(t, func() bool {
		var ok bool
		l2, ok = ln.lease(alice, 2)
		return ok
	}, 15*time.Second, 100*time.Millisecond, "the instant order became a lease")
	require.Equal(t, p1, l2.Lease.Provider)
	// The order landed in block h; the sidecar's bid, and with it the
	// lease, in block h+1 or h+2.
	ln.WaitHeight(0, orderHeight+3, 10*time.Second)
	require.False(t, ln.leaseAt(t, alice, 2, orderHeight), "no lease in the order's own block")
	require.True(t, ln.leaseAt(t, alice, 2, orderHeight+2), "a lease within two blocks of the order (block %d)", orderHeight)
	require.Eventually(t, func() bool {
		l2, _ = ln.lease(alice, 2)
		return l2.Lease.AccessEndpoint == "ssh://lease2@127.0.0.1:2222"
	}, 20*time.Second, 200*time.Millisecond, "provider1 posted alice/2's endpoint")

	// The start hook saw the lease: one line per lease, with its GPUs.
	starts := readLines(filepath.Join(hooks, "start.log"))
	require.Len(t, starts, 2, "%v", starts)
	require.Contains(t, starts, fmt.Sprintf("lease=%s/1 tenant=%s seq=1 provider=%s gpus=%s", alice, alice, p2,
		strings.Join(l1.Lease.Gpus, ",")))
	require.Contains(t, starts, fmt.Sprintf("lease=%s/2 tenant=%s seq=2 provider=%s gpus=%s", alice, alice, p1,
		strings.Join(l2.Lease.Gpus, ",")))

	// Usage reports and withdrawals come on their own.
	p2usdc := ln.balance(p2, "uusdc")
	require.Eventually(t, func() bool {
		var u struct {
			Usage struct {
				Reports         string `json:"reports"`
				TotalGpuSeconds string `json:"total_gpu_seconds"`
			} `json:"usage"`
		}
		if GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/usage/"+alice+"/1", &u) != nil || u.Usage.Reports == "" {
			return false
		}
		return atoi(t, u.Usage.Reports) >= 1 && atoi(t, u.Usage.TotalGpuSeconds) > 0
	}, 20*time.Second, 300*time.Millisecond, "provider2 reported usage of alice/1")
	require.Eventually(t, func() bool {
		var acct escrowView
		return GetJSON(ln.REST(0)+"/gpumesh/escrow/v1/accounts/"+alice+"/1", &acct) == nil &&
			acct.Account.Paid != "" && atoi(t, acct.Account.Paid) > 0 && ln.balance(p2, "uusdc") > p2usdc
	}, 20*time.Second, 300*time.Millisecond, "provider2 withdrew earnings from alice/1")

	// provider1 commits to a challenge, is killed before the opening
	// height, and restarts: the challenge passes without a second commit.
	var killed challengeView
	deadline := time.Now().Add(90 * time.Second)
	for killed.ID == "" && time.Now().Before(deadline) {
		for _, ch := range ln.challengesOf(p1) {
			if ch.State == "CHALLENGE_STATE_COMMITTED" {
				a.Stop(syscall.SIGKILL)
				killed = ch
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NotEmpty(t, killed.ID, "provider1 committed to a challenge within 90 s")
	a.Start()
	var after challengeView
	require.Eventually(t, func() bool {
		var res struct {
			Challenge challengeView `json:"challenge"`
		}
		if GetJSON(ln.REST(0)+"/gpumesh/proofofcompute/v1/challenges/"+killed.ID, &res) != nil {
			return false
		}
		after = res.Challenge
		return after.State == "CHALLENGE_STATE_PASSED" || after.State == "CHALLENGE_STATE_FAILED" ||
			after.State == "CHALLENGE_STATE_MISSED"
	}, 60*time.Second, 300*time.Millisecond, "challenge %s resolved after the restart", killed.ID)
	require.Equal(t, "CHALLENGE_STATE_PASSED", after.State, after.Failure)
	require.Zero(t, a.MetricSum("gpumesh_provider_tx_failures_total", `codespace="proofofcompute"`),
		"the restarted prover sent nothing the chain refused (no second commitment, no repeated reveal)")
	require.Len(t, readLines(filepath.Join(hooks, "start.log")), 2, "the restart did not provision alice/2 again")

	// Someone else signs with provider1's key (the operator, from the
	// CLI): the sidecar's next transaction meets a changed account
	// sequence, re-reads it and goes through.
	before := a.MetricSum("gpumesh_provider_earnings_total")
	for try := 0; try < 5; try++ {
		// The CLI can lose the race too (the sidecar's transaction took
		// the sequence first); an operator would send again.
		if res = ln.Tx("bank", "send", "provider1", alice, "1umesh", "--from", "provider1"); res.Code != 32 {
			break
		}
		time.Sleep(time.Second)
	}
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.Eventually(t, func() bool {
		return a.MetricSum("gpumesh_provider_tx_retries_total", `reason="sequence"`) >= 1 &&
			a.MetricSum("gpumesh_provider_earnings_total") > before
	}, 30*time.Second, 300*time.Millisecond, "provider1's sidecar retried with the new sequence and withdrew again")
	require.Zero(t, a.MetricSum("gpumesh_provider_tx_failures_total", `stage="sequence"`), "no send gave up on the sequence")

	// provider3 is slashed and jailed; the honest two keep passing
	// challenges in later epochs.
	require.Eventually(t, func() bool {
		var st struct {
			Bonded string `json:"bonded"`
			Jailed bool   `json:"jailed"`
		}
		return GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p3, &st) == nil && st.Jailed
	}, 90*time.Second, 500*time.Millisecond, "provider3 (corrupt openings) jailed")
	var failed3 int
	for _, ch := range ln.challengesOf(p3) {
		if ch.State == "CHALLENGE_STATE_FAILED" {
			failed3++
			require.Contains(t, ch.Failure, "Merkle path does not lead to the root")
		}
	}
	require.Equal(t, 1, failed3)
	var after3 bondView
	require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+p3, &after3))
	require.Less(t, atoi(t, after3.Bonded), atoi(t, c3bond.Bonded), "provider3's bond was slashed")

	epochsPassed := func(addr string) (map[string]bool, int) {
		epochs, bad := map[string]bool{}, 0
		for _, ch := range ln.challengesOf(addr) {
			switch ch.State {
			case "CHALLENGE_STATE_PASSED":
				epochs[ch.Epoch] = true
			case "CHALLENGE_STATE_FAILED", "CHALLENGE_STATE_MISSED":
				bad++
			}
		}
		return epochs, bad
	}
	require.Eventually(t, func() bool {
		e1, _ := epochsPassed(p1)
		e2, _ := epochsPassed(p2)
		return len(e1) >= 2 && len(e2) >= 2
	}, 90*time.Second, time.Second, "both honest providers passed challenges in two epochs or more")
	for _, addr := range []string{p1, p2} {
		_, bad := epochsPassed(addr)
		require.Zero(t, bad, "%s failed or missed no challenge", addr)
		var st struct {
			Jailed bool `json:"jailed"`
		}
		require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/stakingslash/v1/bonds/"+addr, &st))
		require.False(t, st.Jailed, addr)
	}
	require.Positive(t, a.MetricSum("gpumesh_provider_challenges_total", `outcome="passed"`))

	// alice closes alice/1: provider2's on_lease_end runs with the reason.
	res = ln.Tx("market", "close-lease", alice+"/1", "--from", "alice", "--gas", "auto", "--gas-adjustment", "1.5")
	require.Equal(t, uint32(0), res.Code, res.RawLog)
	require.Eventually(t, func() bool {
		for _, l := range readLines(filepath.Join(hooks, "end.log")) {
			if l == fmt.Sprintf("lease=%s/1 reason=tenant gpus=%s", alice, strings.Join(l1.Lease.Gpus, ",")) {
				return true
			}
		}
		return false
	}, 20*time.Second, 200*time.Millisecond, "on_lease_end ran for alice/1: %v", readLines(filepath.Join(hooks, "end.log")))

	// SIGTERM stops a sidecar promptly.
	stopped := time.Now()
	b.Stop(syscall.SIGTERM)
	require.Less(t, time.Since(stopped), 15*time.Second)
}

// leaseAt reports whether lease tenant/seq exists in the state as of
// height (a historical query through the REST gateway's height header).
func (ln *Localnet) leaseAt(t *testing.T, tenant string, seq int, height int64) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/gpumesh/market/v1/leases/%s/%d", ln.REST(0), tenant, seq), nil)
	require.NoError(t, err)
	req.Header.Set("x-cosmos-block-height", strconv.FormatInt(height, 10))
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	return resp.StatusCode == http.StatusOK
}
