package leases

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// writeScript writes an executable shell script into dir and returns its path.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o700)) //nolint:gosec // an executable script
	return path
}

// readEnvFile parses KEY=VALUE lines written by `env` into a map.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	bz, err := os.ReadFile(path) //nolint:gosec // a test file
	require.NoError(t, err)
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(bz)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "line %q", line)
		out[k] = v
	}
	return out
}

// The hook gets the lease in GPUMESH_* variables (and none of the
// sidecar's) and its arguments split on spaces; the last non-empty line of its standard output is the endpoint.
func TestRunHookEnvironmentArgsAndEndpoint(t *testing.T) {
	dir := t.TempDir()
	envFile, argsFile := filepath.Join(dir, "env"), filepath.Join(dir, "args")
	t.Setenv("GPUMESH_TEST_INHERITED", "dropped")
	script := writeScript(t, dir, "start.sh", `env | grep '^GPUMESH_' > "`+envFile+`"
printf '%s\n' "$@" > "`+argsFile+`"
echo "provisioning GPUs"
echo "first candidate"
echo "  ssh://gpumesh@gpu1.example.com:2201  "
echo ""
echo "   "
`)
	env := HookEnv{LeaseID: "mesh1tenant/7", Tenant: "mesh1tenant", Seq: 7, Provider: "mesh1prov",
		GPUs: []string{"GPU-aaaa", "GPU-bbbb", "GPU-cccc"}, SSHPubKey: "ssh-ed25519 AAAAC3Nza user@host",
		CloseReason: "expired"}

	endpoint, err := RunHook(context.Background(), script+" --mode  docker", env, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ssh://gpumesh@gpu1.example.com:2201", endpoint)

	got := readEnvFile(t, envFile)
	require.Equal(t, map[string]string{
		"GPUMESH_LEASE_ID":     "mesh1tenant/7",
		"GPUMESH_TENANT":       "mesh1tenant",
		"GPUMESH_LEASE_SEQ":    "7",
		"GPUMESH_PROVIDER":     "mesh1prov",
		"GPUMESH_GPU_UUIDS":    "GPU-aaaa,GPU-bbbb,GPU-cccc",
		"GPUMESH_SSH_PUBKEY":   "ssh-ed25519 AAAAC3Nza user@host",
		"GPUMESH_CLOSE_REASON": "expired",
	}, got, "the sidecar's own environment is not passed on")

	args, err := os.ReadFile(argsFile) //nolint:gosec // a test file
	require.NoError(t, err)
	require.Equal(t, "--mode\ndocker\n", string(args))
}

// A hook that prints nothing returns an empty endpoint, and an empty
// command line runs nothing.
func TestRunHookNoOutputAndEmptyCommand(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "quiet.sh", "exit 0\n")
	endpoint, err := RunHook(context.Background(), script, HookEnv{}, 5*time.Second)
	require.NoError(t, err)
	require.Empty(t, endpoint)

	endpoint, err = RunHook(context.Background(), "   ", HookEnv{}, time.Nanosecond)
	require.NoError(t, err, "no hook configured is not an error, even with a timeout that would expire")
	require.Empty(t, endpoint)
}

// A failing hook's error names the hook, its exit status and the last
// lines of its standard error.
func TestRunHookFailureReportsStderr(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "fail.sh", `echo "ssh://not-an-endpoint"
for i in 1 2 3 4 5 6 7; do echo "stderr line $i" >&2; done
echo "docker: no such image" >&2
exit 3
`)
	endpoint, err := RunHook(context.Background(), script, HookEnv{LeaseID: "t/1"}, 5*time.Second)
	require.Error(t, err)
	require.Empty(t, endpoint, "a failed hook yields no endpoint")
	msg := err.Error()
	require.Contains(t, msg, "hook "+script)
	require.Contains(t, msg, "exit status 3")
	require.Contains(t, msg, "docker: no such image")
	require.Contains(t, msg, "stderr line 7 | docker: no such image")
	require.NotContains(t, msg, "stderr line 3", "only the last five lines of standard error are kept")
	require.NotContains(t, msg, "timed out")

	_, err = RunHook(context.Background(), filepath.Join(dir, "missing.sh"), HookEnv{}, 5*time.Second)
	require.ErrorContains(t, err, "missing.sh")
}

// A hook that outlives its timeout is killed and reported as timed out.
func TestRunHookTimeout(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "finished")
	// Not exec: the sleep is the shell's child, and is killed with it (a
	// child left behind would hold the output open until WaitDelay, 2 s,
	// and run on).
	script := writeScript(t, dir, "slow.sh", "echo started\nsleep 5\ntouch \""+marker+"\"\n")
	slowThenMark := writeScript(t, dir, "slow2.sh", "sleep 5; touch \""+marker+"\"\n")

	start := time.Now()
	endpoint, err := RunHook(context.Background(), script, HookEnv{}, 150*time.Millisecond)
	elapsed := time.Since(start)
	require.Error(t, err)
	require.Empty(t, endpoint)
	require.Contains(t, err.Error(), "hook "+script+" timed out after 150ms")
	require.Less(t, elapsed, 4*time.Second, "the hook was killed, not waited for (it sleeps 5 s)")
	require.GreaterOrEqual(t, elapsed, 150*time.Millisecond)
	require.NoFileExists(t, marker)

	// A child in the background dies with the hook too: were only the
	// shell killed, the subshell would touch its marker a second later.
	child := filepath.Join(dir, "child-finished")
	bg := writeScript(t, dir, "bg.sh", "(sleep 1; touch \""+child+"\") &\nwait\n")
	_, err = RunHook(context.Background(), bg, HookEnv{}, 100*time.Millisecond)
	require.ErrorContains(t, err, "timed out")
	time.Sleep(1300 * time.Millisecond)
	require.NoFileExists(t, child, "the hook's background child was killed with it")

	// The parent's cancellation also stops the hook (reported as a failure).
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = RunHook(ctx, slowThenMark, HookEnv{}, 5*time.Second)
	require.ErrorContains(t, err, "context canceled")
	require.NotContains(t, err.Error(), "timed out")
	require.NoFileExists(t, marker)
}

// The output buffers keep the newest bytes, so a chatty hook's endpoint
// (its last line) survives.
func TestLimitedKeepsTheTail(t *testing.T) {
	var buf bytes.Buffer
	w := &limited{buf: &buf}
	chunk := bytes.Repeat([]byte("x"), 10_000)
	for range 10 {
		n, err := w.Write(chunk)
		require.NoError(t, err)
		require.Equal(t, len(chunk), n, "writes always report the full length")
	}
	n, err := w.Write([]byte("\nssh://end\n"))
	require.NoError(t, err)
	require.Equal(t, 11, n)
	require.Equal(t, maxHookOutput, buf.Len())
	require.True(t, strings.HasSuffix(buf.String(), "x\nssh://end\n"))
	require.Equal(t, "ssh://end", lastLine(buf.String()))

	dir := t.TempDir()
	script := writeScript(t, dir, "chatty.sh", `i=0
while [ $i -lt 2000 ]; do echo "progress line number $i of the provisioning log"; i=$((i+1)); done
echo "ssh://gpumesh@host:2222"
`)
	endpoint, err := RunHook(context.Background(), script, HookEnv{}, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ssh://gpumesh@host:2222", endpoint)
}
