package leases

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeDocker is a docker CLI stand-in. It logs its arguments (one call a
// line) in calls.log and keeps containers and networks as files
// state/<kind>/<id> holding "<name> <gpumesh.lease label>". With a file
// daemon-down beside it, every call fails the way docker does when the
// daemon is unreachable.
const fakeDocker = `#!/usr/bin/env bash
set -euo pipefail
dir=$(dirname "$0")
echo "$*" >>"$dir/calls.log"
if [[ -e $dir/daemon-down ]]; then
  echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
  exit 1
fi
state=$dir/state
mkdir -p "$state/container" "$state/network"
# opt NAME ARGS...: the value after the first NAME in ARGS.
opt() {
  local want=$1 prev=""; shift
  for a in "$@"; do if [[ $prev == "$want" ]]; then echo "$a"; return; fi; prev=$a; done
}
case "$1 ${2-}" in
"container ls" | "network ls")
  want=$(opt --filter "$@"); want=${want#label=}
  for f in "$state/$1"/*; do
    [[ -e $f ]] || continue
    read -r _ label <"$f"
    if [[ $label == "$want" ]]; then basename "$f"; fi
  done ;;
"network create")
  name=${*: -1}
  echo "$name $(opt --label "$@")" >"$state/network/n-$name"
  echo "n-$name" ;;
"network rm")
  [[ -e $state/network/$3 ]] || { echo "Error: No such network: $3" >&2; exit 1; }
  rm "$state/network/$3" ;;
"container rm")
  id=${*: -1}
  [[ -e $state/container/$id ]] || { echo "Error: No such container: $id" >&2; exit 1; }
  rm "$state/container/$id" ;;
run*)
  name=$(opt --name "$@") net=$(opt --network "$@")
  [[ -z $net || -e $state/network/n-$net ]] || { echo "Error: network $net not found" >&2; exit 1; }
  [[ ! -e $state/container/c-$name ]] || { echo "Error: Conflict. The container name /$name is already in use" >&2; exit 1; }
  echo "$name $(opt --label "$@")" >"$state/container/c-$name"
  echo "c-$name" ;;
"container inspect")
  [[ -e $state/container/c-$3 ]] || { echo "Error: No such container: $3" >&2; exit 1; } ;;
"rm --force")
  [[ -e $state/container/c-$3 ]] || { echo "Error: No such container: $3" >&2; exit 1; }
  rm "$state/container/c-$3" ;;
start*) echo "$2" ;;
port*) echo "0.0.0.0:49153"; echo "[::]:49153" ;;
*) echo "fake docker: unexpected $*" >&2; exit 2 ;;
esac
`

// Test fixtures: a well-formed ed25519 public key (32 bytes 0..31) and
// bech32 addresses.
const (
	exampleSSHKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
	exampleTenant   = "mesh1tenant"
	exampleProvider = "mesh1prqvdr"
)

// hooksDir is docs/hooks, where the example hooks live.
var hooksDir = filepath.Join("..", "..", "..", "docs", "hooks")

// hookWrapper writes an executable script into dir that exports env
// (operator settings, as leases.hook_env gives them) and runs prefix and
// then hook with its arguments: settings reach the hook whatever the
// sidecar's own environment holds.
func hookWrapper(t *testing.T, dir, name string, env map[string]string, prefix []string, hook string) string {
	t.Helper()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "export %s='%s'\n", k, env[k])
	}
	b.WriteString("exec")
	for _, p := range append(prefix, hook) {
		fmt.Fprintf(&b, " '%s'", p)
	}
	b.WriteString(` "$@"` + "\n")
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o700)) //nolint:gosec // an executable script
	return path
}

// dockerHarness runs the Docker example hooks through the sidecar's hook
// runner against fakeDocker.
type dockerHarness struct {
	t          *testing.T
	bin        string
	start, end string
}

func newDockerHarness(t *testing.T, settings map[string]string) *dockerHarness {
	t.Helper()
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker"), []byte(fakeDocker), 0o700)) //nolint:gosec // an executable script
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	env := map[string]string{"PATH": os.Getenv("PATH"), "GPUMESH_PUBLIC_HOST": "gpu1.example.com"}
	for k, v := range settings {
		env[k] = v
	}
	hooks, err := filepath.Abs(hooksDir)
	require.NoError(t, err)
	return &dockerHarness{
		t:     t,
		bin:   bin,
		start: hookWrapper(t, bin, "start", env, nil, filepath.Join(hooks, "docker-start.sh")),
		end:   hookWrapper(t, bin, "end", env, nil, filepath.Join(hooks, "docker-end.sh")),
	}
}

func (h *dockerHarness) run(hook string, env HookEnv) (string, error) {
	return RunHook(context.Background(), hook, env, 20*time.Second)
}

// calls returns the fake docker's calls whose arguments start with prefix.
func (h *dockerHarness) calls(prefix string) []string {
	bz, err := os.ReadFile(filepath.Join(h.bin, "calls.log"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(h.t, err)
	var out []string
	for _, c := range strings.Split(strings.TrimSpace(string(bz)), "\n") {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// objects returns the names of the fake docker's containers or networks.
func (h *dockerHarness) objects(kind string) []string {
	entries, err := os.ReadDir(filepath.Join(h.bin, "state", kind))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(h.t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func exampleLease(tenant string, seq uint64) HookEnv {
	return HookEnv{LeaseID: fmt.Sprintf("%s/%d", tenant, seq), Tenant: tenant, Seq: seq, Provider: exampleProvider,
		GPUs: []string{"GPU-1111", "GPU-2222"}, SSHPubKey: exampleSSHKey + " t@x"}
}

// The Docker example hooks in docs/hooks, run the way the sidecar runs
// hooks, against a fake docker CLI: the lease gets its own network with
// inter-container traffic off, and a container with exactly the leased
// GPUs by UUID, resource limits, no capabilities beyond sshd's and no new
// privileges; the endpoint is the published SSH port; a second start for
// the same lease is refused (create fresh or fail), and the end hook
// removes the container and the network (twice is harmless).
func TestDockerExampleHooks(t *testing.T) {
	h := newDockerHarness(t, nil)
	env := exampleLease(exampleTenant, 3)

	endpoint, err := h.run(h.start, env)
	require.NoError(t, err)
	require.Equal(t, "ssh://gpumesh@gpu1.example.com:49153", endpoint)

	nets := h.calls("network create ")
	require.Len(t, nets, 1)
	require.Contains(t, nets[0], "--driver bridge")
	require.Contains(t, nets[0], "--opt com.docker.network.bridge.enable_icc=false")
	// The bridge interface the firewall rules in README.md match: gml and
	// 12 hex digits of sha256("mesh1tenant/3").
	require.Contains(t, nets[0], "--opt com.docker.network.bridge.name=gml"+leaseUser("mesh1tenant/3")[2:14])
	require.Contains(t, nets[0], "--label gpumesh.lease=mesh1tenant/3")
	require.True(t, strings.HasSuffix(nets[0], " gpumesh-mesh1tenant-3"), nets[0])

	runs := h.calls("run ")
	require.Len(t, runs, 1)
	run := runs[0]
	require.Contains(t, run, "--name gpumesh-mesh1tenant-3")
	require.Contains(t, run, "--network gpumesh-mesh1tenant-3")
	require.Contains(t, run, `--gpus "device=GPU-1111,GPU-2222"`)
	// Defaults for two GPUs: 64g of memory each, no swap, 8 CPUs each
	// (at most the host's).
	require.Contains(t, run, "--memory 128g --memory-swap 128g")
	require.Contains(t, run, fmt.Sprintf("--cpus %d ", min(16, runtime.NumCPU())))
	require.Contains(t, run, "--pids-limit 4096")
	require.Contains(t, run, "--shm-size 8g")
	require.Contains(t, run, "--cap-drop ALL --cap-add AUDIT_WRITE --cap-add CHOWN --cap-add DAC_OVERRIDE --cap-add FOWNER --cap-add KILL "+
		"--cap-add NET_BIND_SERVICE --cap-add SETGID --cap-add SETUID --cap-add SYS_CHROOT --security-opt")
	require.Contains(t, run, "--security-opt no-new-privileges")
	require.Contains(t, run, "--label gpumesh.lease=mesh1tenant/3")
	require.Contains(t, run, "--label gpumesh.provider="+exampleProvider)
	// The comment is dropped: the container gets "<type> <base64>" only.
	require.Contains(t, run, "--env SSH_PUBLIC_KEY="+exampleSSHKey+" registry.example.com/gpumesh/cuda-sshd:12.4")
	require.Equal(t, []string{"c-gpumesh-mesh1tenant-3"}, h.objects("container"))
	require.Equal(t, []string{"n-gpumesh-mesh1tenant-3"}, h.objects("network"))

	// A second start for the same lease is refused, and makes nothing.
	_, err = h.run(h.start, env)
	require.ErrorContains(t, err, "already has a container")
	require.Len(t, h.calls("run "), 1)
	require.Len(t, h.calls("network create "), 1)

	noKey := env
	noKey.SSHPubKey = ""
	_, err = h.run(h.start, noKey)
	require.ErrorContains(t, err, "has no SSH public key")

	env.CloseReason = "tenant"
	_, err = h.run(h.end, env)
	require.NoError(t, err)
	require.Empty(t, h.objects("container"))
	require.Empty(t, h.objects("network"))
	require.Len(t, h.calls("container rm --force --volumes c-gpumesh-mesh1tenant-3"), 1)
	require.Len(t, h.calls("network rm n-gpumesh-mesh1tenant-3"), 1)
	_, err = h.run(h.end, env)
	require.NoError(t, err, "a second teardown is harmless")
}

// The limits come from the operator's settings (leases.hook_env), and a
// setting that is not a valid value stops the hook before Docker is asked
// for anything.
func TestDockerExampleHookSettings(t *testing.T) {
	h := newDockerHarness(t, map[string]string{
		"GPUMESH_CPUS": "3.5", "GPUMESH_MEMORY": "20g", "GPUMESH_PIDS_LIMIT": "512", "GPUMESH_SHM_SIZE": "1g",
		"GPUMESH_CAP_ADD": "SETUID,SETGID", "GPUMESH_IMAGE": "registry.example.com/me/sshd:1", "GPUMESH_SSH_USER": "ml",
	})
	endpoint, err := h.run(h.start, exampleLease(exampleTenant, 4))
	require.NoError(t, err)
	require.Equal(t, "ssh://ml@gpu1.example.com:49153", endpoint)
	run := h.calls("run ")[0]
	require.Contains(t, run, "--memory 20g --memory-swap 20g --cpus 3.5 --pids-limit 512 --shm-size 1g")
	require.Contains(t, run, "--cap-drop ALL --cap-add SETUID --cap-add SETGID --security-opt")
	require.True(t, strings.HasSuffix(run, " registry.example.com/me/sshd:1"), run)

	bad := newDockerHarness(t, map[string]string{"GPUMESH_MEMORY": "20g --privileged"})
	_, err = bad.run(bad.start, exampleLease(exampleTenant, 5))
	require.ErrorContains(t, err, "GPUMESH_MEMORY")
	require.Empty(t, bad.calls(""))
}

// Teardown is "gone or fail": while the Docker daemon is unreachable the
// end hook fails with Docker's reason (the sidecar keeps the lease and
// retries) instead of reporting a container as removed; once the daemon is
// back it removes the container and network, and then finds them gone.
func TestDockerExampleEndHookFailsWhileDaemonDown(t *testing.T) {
	h := newDockerHarness(t, nil)
	env := exampleLease(exampleTenant, 6)
	_, err := h.run(h.start, env)
	require.NoError(t, err)

	down := filepath.Join(h.bin, "daemon-down")
	require.NoError(t, os.WriteFile(down, nil, 0o600))
	env.CloseReason = "expired"
	_, err = h.run(h.end, env)
	require.ErrorContains(t, err, "Cannot connect to the Docker daemon")
	require.ErrorContains(t, err, "cannot list the containers of lease mesh1tenant/6")

	require.NoError(t, os.Remove(down))
	require.Len(t, h.objects("container"), 1, "the container outlived the failed teardown")
	_, err = h.run(h.end, env)
	require.NoError(t, err)
	require.Empty(t, h.objects("container"))
	require.Empty(t, h.objects("network"))
	_, err = h.run(h.end, env)
	require.NoError(t, err, "already gone")
}

// badLeaseInputs are lease values a start hook must refuse before it makes
// anything, each with the variable its error names.
func badLeaseInputs() []struct {
	name  string
	edit  func(*HookEnv)
	field string
} {
	return []struct {
		name  string
		edit  func(*HookEnv)
		field string
	}{
		{"options before the key", func(e *HookEnv) { e.SSHPubKey = `command="sh" ` + exampleSSHKey }, "GPUMESH_SSH_PUBKEY"},
		{"second key on a new line", func(e *HookEnv) { e.SSHPubKey = exampleSSHKey + "\n" + exampleSSHKey }, "GPUMESH_SSH_PUBKEY"},
		{"DSA key", func(e *HookEnv) {
			e.SSHPubKey = "ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq"
		}, "GPUMESH_SSH_PUBKEY"},
		{"blob of another key type", func(e *HookEnv) { e.SSHPubKey = "ssh-rsa" + strings.TrimPrefix(exampleSSHKey, "ssh-ed25519") }, "GPUMESH_SSH_PUBKEY"},
		{"padding inside the blob", func(e *HookEnv) { e.SSHPubKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAB=gMEBQYH" }, "GPUMESH_SSH_PUBKEY"},
		{"blob not base64", func(e *HookEnv) { e.SSHPubKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCA" }, "GPUMESH_SSH_PUBKEY"},
		{"shell in a GPU UUID", func(e *HookEnv) { e.GPUs = []string{"GPU-1111;touch${IFS}/tmp/x"} }, "GPUMESH_GPU_UUIDS"},
		{"newline in a GPU UUID", func(e *HookEnv) { e.GPUs = []string{"GPU-1111\nexport LD_PRELOAD=/tmp/x.so"} }, "GPUMESH_GPU_UUIDS"},
		{"no GPUs", func(e *HookEnv) { e.GPUs = nil }, "GPUMESH_GPU_UUIDS"},
		{"tenant not bech32", func(e *HookEnv) { e.Tenant = "mesh1../../etc"; e.LeaseID = e.Tenant + "/1" }, "GPUMESH_TENANT"},
		{"tenant in upper case", func(e *HookEnv) { e.Tenant = "MESH1TENANT"; e.LeaseID = e.Tenant + "/1" }, "GPUMESH_TENANT"},
		{"lease id of another lease", func(e *HookEnv) { e.LeaseID = exampleTenant + "/2" }, "GPUMESH_LEASE_ID"},
		{"sequence 0", func(e *HookEnv) { e.Seq = 0; e.LeaseID = exampleTenant + "/0" }, "GPUMESH_LEASE_SEQ"},
	}
}

// A start hook refuses malformed lease values (an authorized_keys options
// prefix or a second line, unknown key types, shell or newlines in GPU
// UUIDs, addresses outside the bech32 charset) with an error that names
// the variable, before Docker is asked for anything.
func TestDockerExampleHookRefusesBadInput(t *testing.T) {
	for _, tc := range badLeaseInputs() {
		t.Run(tc.name, func(t *testing.T) {
			h := newDockerHarness(t, nil)
			env := exampleLease(exampleTenant, 1)
			tc.edit(&env)
			_, err := h.run(h.start, env)
			require.ErrorContains(t, err, tc.field)
			require.Empty(t, h.calls(""), "docker was called")
		})
	}
}
