package leases

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeDocker is a docker CLI stand-in that logs its arguments (one call a
// line) and keeps which containers exist in files beside it.
const fakeDocker = `#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/calls.log"
case "$1" in
container) [ -f "$dir/$3.exists" ] ;;
run)
  name=""; prev=""
  for a in "$@"; do [ "$prev" = "--name" ] && name=$a; prev=$a; done
  touch "$dir/$name.exists"; echo "c0ffee" ;;
start) echo "$2" ;;
port) echo "0.0.0.0:49153"; echo "[::]:49153" ;;
rm) rm -f "$dir/$3.exists" ;;
*) echo "fake docker: unexpected $*" >&2; exit 2 ;;
esac
`

// The Docker example hooks in docs/hooks, run the way the sidecar runs
// hooks, against a fake docker CLI: the container gets exactly the leased
// GPUs by UUID, the endpoint is the published SSH port, a second run reuses
// the container, a lease without an SSH key is refused, and the end hook
// removes the container (twice is harmless).
func TestDockerExampleHooks(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker"), []byte(fakeDocker), 0o700)) //nolint:gosec // an executable script
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("GPUMESH_PUBLIC_HOST", "gpu1.example.com")
	hooks := filepath.Join("..", "..", "..", "docs", "hooks")
	start, end := filepath.Join(hooks, "docker-start.sh"), filepath.Join(hooks, "docker-end.sh")
	env := HookEnv{LeaseID: "mesh1tenant/3", Tenant: "mesh1tenant", Seq: 3, Provider: "mesh1prov",
		GPUs: []string{"GPU-1111", "GPU-2222"}, SSHPubKey: "ssh-ed25519 AAAAexample t@x"}
	calls := func() []string {
		bz, err := os.ReadFile(filepath.Join(bin, "calls.log"))
		require.NoError(t, err)
		return strings.Split(strings.TrimSpace(string(bz)), "\n")
	}
	ctx := context.Background()

	endpoint, err := RunHook(ctx, start, env, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ssh://gpumesh@gpu1.example.com:49153", endpoint)
	var run string
	for _, c := range calls() {
		if strings.HasPrefix(c, "run ") {
			run = c
		}
	}
	require.Contains(t, run, "--name gpumesh-mesh1tenant-3")
	require.Contains(t, run, `--gpus "device=GPU-1111,GPU-2222"`)
	require.Contains(t, run, "--env SSH_PUBLIC_KEY=ssh-ed25519 AAAAexample t@x")
	require.FileExists(t, filepath.Join(bin, "gpumesh-mesh1tenant-3.exists"))

	// Run again (the sidecar restarted mid-hook): same endpoint, no second run.
	endpoint, err = RunHook(ctx, start, env, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "ssh://gpumesh@gpu1.example.com:49153", endpoint)
	runs := 0
	for _, c := range calls() {
		if strings.HasPrefix(c, "run ") {
			runs++
		}
	}
	require.Equal(t, 1, runs)

	noKey := env
	noKey.SSHPubKey = ""
	_, err = RunHook(ctx, start, noKey, 10*time.Second)
	require.ErrorContains(t, err, "has no SSH public key")

	env.CloseReason = "tenant"
	_, err = RunHook(ctx, end, env, 10*time.Second)
	require.NoError(t, err)
	require.NoFileExists(t, filepath.Join(bin, "gpumesh-mesh1tenant-3.exists"))
	_, err = RunHook(ctx, end, env, 10*time.Second)
	require.NoError(t, err, "a second teardown is harmless")
}
