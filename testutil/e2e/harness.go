//go:build e2e

// Package e2e drives real gpumeshd processes on loopback through the same
// scripts, CLI and REST a user has. Run with `make test-e2e` (or
// `go test -tags e2e ./testutil/e2e/...`).
package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root (two levels above this file).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// binary is a command under test: the path in its environment variable
// (set by `make test-e2e`), or one built once for this test process.
type binary struct {
	env, pkg string
	tags     string // build tags, for a binary built here

	once sync.Once
	path string
	err  error
}

var (
	gpumeshdBin = &binary{env: "GPUMESHD", pkg: "./cmd/gpumeshd"}
	providerBin = &binary{env: "GPUMESH_PROVIDER", pkg: "./cmd/gpumesh-provider"}
	// faultyBin is the sidecar built with the test-only fault injection
	// (--fault), which the production binary does not have.
	faultyBin = &binary{env: "GPUMESH_PROVIDER_FAULTY", pkg: "./cmd/gpumesh-provider", tags: "gpumesh_faults"}
)

func (b *binary) get(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv(b.env); bin != "" {
		return bin
	}
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "gpumesh-e2e-bin")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, filepath.Base(b.pkg))
		cmd := exec.Command("go", "build", "-tags", b.tags, "-o", b.path, b.pkg)
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
		}
	})
	require.NoError(t, b.err)
	return b.path
}

// gpumeshd returns the chain binary under test ($GPUMESHD or built).
func gpumeshd(t *testing.T) string { return gpumeshdBin.get(t) }

// gpumeshProvider returns the sidecar binary under test ($GPUMESH_PROVIDER
// or built).
func gpumeshProvider(t *testing.T) string { return providerBin.get(t) }

// gpumeshProviderFaulty returns the sidecar built with -tags
// gpumesh_faults ($GPUMESH_PROVIDER_FAULTY or built), the only one with
// --fault.
func gpumeshProviderFaulty(t *testing.T) string { return faultyBin.get(t) }

// Localnet is one local network started by scripts/localnet.sh.
type Localnet struct {
	t      *testing.T
	Dir    string
	Offset int
	Bin    string
	// Env holds extra environment for scripts/localnet.sh (LOCALNET_*).
	Env []string
}

// NewLocalnet prepares (does not start) a network in a fresh directory with
// all ports shifted by offset; it is stopped when the test ends.
func NewLocalnet(t *testing.T, offset int) *Localnet {
	t.Helper()
	ln := &Localnet{t: t, Dir: filepath.Join(t.TempDir(), "localnet"), Offset: offset, Bin: gpumeshd(t)}
	t.Cleanup(func() {
		if out, err := ln.Script("stop"); err != nil {
			t.Logf("localnet stop: %v\n%s", err, out)
		}
	})
	return ln
}

// Script runs scripts/localnet.sh with args and returns its combined output.
func (ln *Localnet) Script(args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(repoRoot(), "scripts", "localnet.sh"), args...)
	cmd.Env = append(os.Environ(),
		"LOCALNET_DIR="+ln.Dir,
		"LOCALNET_PORT_OFFSET="+strconv.Itoa(ln.Offset),
		"GPUMESHD="+ln.Bin,
	)
	cmd.Env = append(cmd.Env, ln.Env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustScript runs the script and fails the test on error.
func (ln *Localnet) MustScript(args ...string) string {
	ln.t.Helper()
	out, err := ln.Script(args...)
	// The nodes' ports lie in Linux's ephemeral range (32768-60999): a
	// client socket of another process can take one between the script's
	// check and the node's bind. A start that failed that way starts
	// afresh once (start recreates the network directory).
	if err != nil && len(args) > 0 && args[0] == "start" && strings.Contains(out, "address already in use") {
		ln.t.Logf("localnet.sh start lost a port to another process; starting again:\n%s", out)
		time.Sleep(2 * time.Second)
		out, err = ln.Script(args...)
	}
	require.NoError(ln.t, err, "localnet.sh %s:\n%s", strings.Join(args, " "), out)
	return out
}

// Home is node i's home directory.
func (ln *Localnet) Home(i int) string { return filepath.Join(ln.Dir, fmt.Sprintf("node%d", i)) }

// RPC, REST and GRPC are node i's endpoints.
func (ln *Localnet) RPC(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d", 26657+ln.Offset+100*i)
}
func (ln *Localnet) REST(i int) string {
	return fmt.Sprintf("http://127.0.0.1:%d", 1317+ln.Offset+100*i)
}

// CLI runs gpumeshd against node0's home (keyring, client.toml) and returns
// stdout.
func (ln *Localnet) CLI(args ...string) (string, error) {
	cmd := exec.Command(ln.Bin, append(args, "--home", ln.Home(0))...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("gpumeshd %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// Pid returns node i's pid from its pid file, or 0.
func (ln *Localnet) Pid(i int) int {
	bz, err := os.ReadFile(filepath.Join(ln.Home(i), "gpumeshd.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(bz)))
	return pid
}

// Alive reports whether a process with pid exists.
func Alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// GetJSON fetches url and decodes the JSON body into out.
func GetJSON(url string, out any) error { return GetJSONAt(url, 0, out) }

// GetJSONAt is GetJSON of the state as of height (0: the latest), asked
// for with the REST gateway's x-cosmos-block-height header.
func GetJSONAt(url string, height int64, out any) error {
	client := http.Client{Timeout: 3 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if height > 0 {
		req.Header.Set("x-cosmos-block-height", strconv.FormatInt(height, 10))
	}
	resp, err := client.Do(req)
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

// Height is node i's latest block height from CometBFT RPC.
func (ln *Localnet) Height(i int) (int64, error) {
	var st struct {
		Result struct {
			SyncInfo struct {
				LatestBlockHeight string `json:"latest_block_height"`
			} `json:"sync_info"`
		} `json:"result"`
	}
	if err := GetJSON(ln.RPC(i)+"/status", &st); err != nil {
		return 0, err
	}
	return strconv.ParseInt(st.Result.SyncInfo.LatestBlockHeight, 10, 64)
}

// WaitHeight waits until node i reports at least height h.
func (ln *Localnet) WaitHeight(i int, h int64, timeout time.Duration) int64 {
	ln.t.Helper()
	var last int64
	require.Eventually(ln.t, func() bool {
		got, err := ln.Height(i)
		last = got
		return err == nil && got >= h
	}, timeout, 200*time.Millisecond, "node%d did not reach height %d (last %d)", i, h, last)
	return last
}

// TxResult is the outcome of a transaction included in a block.
type TxResult struct {
	Code      uint32 `json:"code"`
	Codespace string `json:"codespace"`
	RawLog    string `json:"raw_log"`
	Height    string `json:"height"`
}

// Tx signs args (a `gpumeshd tx …` command line without the leading "tx")
// with node0's test keyring, broadcasts it, waits until it is in a block and
// returns the block's result. A refusal at CheckTx is returned as the
// result too, so tests can assert on codes either way.
func (ln *Localnet) Tx(args ...string) TxResult {
	ln.t.Helper()
	full := append([]string{"tx"}, args...)
	full = append(full, "--keyring-backend", "test", "--yes", "-o", "json", "--gas", "400000")
	out, err := ln.CLI(full...)
	require.NoError(ln.t, err)
	var sync struct {
		TxResult
		TxHash string `json:"txhash"`
	}
	require.NoError(ln.t, json.Unmarshal([]byte(out), &sync), out)
	if sync.Code != 0 {
		return sync.TxResult
	}
	// Poll the indexer rather than `q wait-tx`: wait-tx subscribes to the
	// block's event and then looks the hash up once, so a transaction whose
	// event fired before the subscription but which the indexer had not
	// written yet is never seen and the command times out.
	var res TxResult
	var lastErr error
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err = ln.CLI("q", "tx", sync.TxHash, "-o", "json")
		if err == nil {
			require.NoError(ln.t, json.Unmarshal([]byte(out), &res), out)
			return res
		}
		lastErr = err
		time.Sleep(150 * time.Millisecond)
	}
	require.FailNow(ln.t, "transaction not included", "%s within 30s: %v", sync.TxHash, lastErr)
	return res
}

// Address returns the address of a key in node0's test keyring.
func (ln *Localnet) Address(name string) string {
	ln.t.Helper()
	out, err := ln.CLI("keys", "show", name, "-a", "--keyring-backend", "test")
	require.NoError(ln.t, err)
	return strings.TrimSpace(out)
}
