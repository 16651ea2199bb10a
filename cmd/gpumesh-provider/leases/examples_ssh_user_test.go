//go:build linux

package leases

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The Unix-account hooks run for real (useradd, setpriv, kill, userdel)
// in a user and mount namespace: the namespace's root is an unused host
// uid, /etc and /home are scratch copies bound over the real ones, and the
// hooks' state directory is scratch too. Nothing they do reaches the host's
// accounts or files. The processes the tests start "as the tenant" run
// outside the namespace with the host uid the account's uid maps to.

const (
	helperEnv = "GPUMESH_EXAMPLES_HELPER"
	nsBaseEnv = "GPUMESH_EXAMPLES_NS_BASE"
	resuidEnv = "GPUMESH_EXAMPLES_RESUID"
	// nsSize uids are mapped, host base.. to namespace 0..; the lease
	// accounts get nsUIDMin..nsUIDMax.
	nsSize   = 200000
	nsUIDMin = 100000
	nsUIDMax = 100999
)

// TestExamplesHelperProcess is not a test: the harness below runs the test
// binary with only this test selected and helperEnv set, to start a
// command in a fresh namespace ("namespace") or to hold mixed uids
// ("survivor"). Run normally, it returns at once.
func TestExamplesHelperProcess(_ *testing.T) {
	switch os.Getenv(helperEnv) {
	case "namespace":
		os.Exit(runInNamespace())
	case "survivor":
		os.Exit(survive())
	}
}

// runInNamespace runs the command after "--" (scratch /etc, scratch /home,
// program, arguments) as root of a new user and mount namespace with the
// scratch directories bound over /etc and /home, and returns its exit
// code.
func runInNamespace() int {
	base, err := strconv.Atoi(os.Getenv(nsBaseEnv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", nsBaseEnv, err)
		return 1
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c",
		`mount --bind "$1" /etc && mount --bind "$2" /home && shift 2 && exec "$@"`, "sh"}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = nsAttr(base)
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return max(exit.ExitCode(), 1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func nsAttr(base int) *syscall.SysProcAttr {
	idMap := []syscall.SysProcIDMap{{ContainerID: 0, HostID: base, Size: nsSize}}
	return &syscall.SysProcAttr{
		Cloneflags:                 syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings:                idMap,
		GidMappings:                idMap,
		GidMappingsEnableSetgroups: true,
		Credential:                 &syscall.Credential{Uid: 0, Gid: 0},
	}
}

// survive takes the real, effective and saved uids in resuidEnv without
// an exec (which would copy the effective uid to the saved one), says
// "ready" and sleeps.
func survive() int {
	var r, e, s int
	if _, err := fmt.Sscan(os.Getenv(resuidEnv), &r, &e, &s); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", resuidEnv, err)
		return 1
	}
	if err := syscall.Setresgid(r, r, r); err != nil {
		fmt.Fprintln(os.Stderr, "setresgid:", err)
		return 1
	}
	if err := syscall.Setresuid(r, e, s); err != nil {
		fmt.Fprintln(os.Stderr, "setresuid:", err)
		return 1
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
	return 0
}

// nsHarness is a scratch root (etc, home, hooks, state, target) owned by
// the namespace's root, and the ssh-user hooks wrapped to run in the
// namespace through the sidecar's hook runner.
type nsHarness struct {
	t          *testing.T
	root       string
	base       int
	exe        string
	env        []string
	start, end string
}

func newNSHarness(t *testing.T) *nsHarness {
	t.Helper()
	requireNamespaces(t)
	exe, err := os.Executable()
	require.NoError(t, err)
	// Under /tmp itself: t.TempDir's parent is closed to other uids.
	root, err := os.MkdirTemp("", "gpumesh-hooks-ns-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	// A random block of host uids above those of people and containers,
	// so that parallel runs do not meet.
	base := 3_000_000_000 + rand.IntN(5000)*nsSize //nolint:gosec // not a secret

	out, err := exec.Command("cp", "-a", "/etc", filepath.Join(root, "etc")).CombinedOutput()
	require.NoError(t, err, string(out))
	// A subordinate range over the first two lease uids: the hooks skip them.
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "subuid"), []byte(fmt.Sprintf("someone:%d:2\n", nsUIDMin)), 0o644)) //nolint:gosec // as /etc/subuid
	for _, d := range []string{"home", "hooks", "target/keys"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755)) //nolint:gosec // read by the namespace
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "target", "passwd"), []byte("root:x:0:0:root:/root:/bin/bash\n"), 0o644)) //nolint:gosec // a stand-in for /etc/passwd
	for _, f := range []string{"hooklib.sh", "ssh-user-lib.sh", "ssh-user-start.sh", "ssh-user-end.sh"} {
		bz, err := os.ReadFile(filepath.Join(hooksDir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "hooks", f), bz, 0o755)) //nolint:gosec // scripts
	}
	require.NoError(t, os.Chmod(root, 0o755)) //nolint:gosec // the namespace's root must reach it
	require.NoError(t, filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, base, base)
	}))

	h := &nsHarness{t: t, root: root, base: base, exe: exe}
	settings := map[string]string{
		helperEnv: "namespace", nsBaseEnv: strconv.Itoa(base),
		"PATH":                   "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"GPUMESH_PUBLIC_HOST":    "gpu1.example.com",
		"GPUMESH_HOOK_STATE_DIR": filepath.Join(root, "state"),
		"GPUMESH_UID_MIN":        strconv.Itoa(nsUIDMin),
		"GPUMESH_UID_MAX":        strconv.Itoa(nsUIDMax),
		"GPUMESH_KILL_ATTEMPTS":  "5",
	}
	for k, v := range settings {
		h.env = append(h.env, k+"="+v)
	}
	prefix := h.helperArgs()
	wrappers := t.TempDir()
	h.start = hookWrapper(t, wrappers, "start", settings, prefix, filepath.Join(root, "hooks", "ssh-user-start.sh"))
	h.end = hookWrapper(t, wrappers, "end", settings, prefix, filepath.Join(root, "hooks", "ssh-user-end.sh"))
	return h
}

// requireNamespaces skips the test when this machine cannot run it.
func requireNamespaces(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mapping the range of uids the lease accounts use into a user namespace takes CAP_SETUID (unshare -r maps one uid)")
	}
	for _, tool := range []string{"useradd", "usermod", "userdel", "groupadd", "groupdel", "getent", "setpriv", "ps", "pkill", "flock", "mount", "sha256sum", "od", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	probe := exec.Command("/bin/true")
	probe.SysProcAttr = nsAttr(3_000_000_000)
	if err := probe.Run(); err != nil {
		t.Skipf("cannot create a user and mount namespace: %v", err)
	}
}

// helperArgs runs the test binary as the namespace launcher; scratch /etc
// and /home come first, then the command.
func (h *nsHarness) helperArgs() []string {
	return []string{h.exe, "-test.run=^TestExamplesHelperProcess$", "--", filepath.Join(h.root, "etc"), filepath.Join(h.root, "home")}
}

func (h *nsHarness) run(hook string, env HookEnv) (string, error) {
	return RunHook(context.Background(), hook, env, time.Minute)
}

// inNS runs a command in a namespace like the hooks'.
func (h *nsHarness) inNS(args ...string) {
	h.t.Helper()
	all := append(h.helperArgs(), args...)
	cmd := exec.Command(all[0], all[1:]...) //nolint:gosec // test commands
	cmd.Env = append(os.Environ(), h.env...)
	out, err := cmd.CombinedOutput()
	require.NoError(h.t, err, string(out))
}

// account returns the uid of user in the scratch /etc/passwd, or -1.
func (h *nsHarness) account(user string) int {
	h.t.Helper()
	for _, line := range strings.Split(h.read("etc/passwd"), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[0] == user {
			uid, err := strconv.Atoi(f[2])
			require.NoError(h.t, err)
			require.Equal(h.t, "/home/"+user, f[5])
			return uid
		}
	}
	return -1
}

func (h *nsHarness) hasGroup(name string) bool {
	return strings.Contains("\n"+h.read("etc/group"), "\n"+name+":")
}

func (h *nsHarness) path(rel string) string { return filepath.Join(h.root, rel) }

func (h *nsHarness) read(rel string) string {
	h.t.Helper()
	bz, err := os.ReadFile(h.path(rel))
	require.NoError(h.t, err)
	return string(bz)
}

// owner returns the namespace uid owning rel (not following a link) and
// its permission bits.
func (h *nsHarness) owner(rel string) (int, fs.FileMode) {
	h.t.Helper()
	fi, err := os.Lstat(h.path(rel))
	require.NoError(h.t, err)
	return int(fi.Sys().(*syscall.Stat_t).Uid) - h.base, fi.Mode().Perm()
}

// tenantProcess starts a process as the account's uid, as a tenant's
// login would.
func (h *nsHarness) tenantProcess(uid int) *exec.Cmd {
	h.t.Helper()
	cmd := exec.Command("sleep", "1000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(h.base + uid), Gid: uint32(h.base + uid)}} //nolint:gosec // in range
	require.NoError(h.t, cmd.Start())
	h.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// survivor starts a process with the account's uid as effective uid only,
// and another uid as real and saved uid, outside the hooks' namespace:
// neither the account's uid nor the namespace's root may signal it, so
// the end hook cannot kill it (as a process stuck in the kernel).
func (h *nsHarness) survivor(uid, other int) *exec.Cmd {
	h.t.Helper()
	cmd := exec.Command(h.exe, "-test.run=^TestExamplesHelperProcess$") //nolint:gosec // the test binary
	cmd.Env = append(os.Environ(), helperEnv+"=survivor",
		fmt.Sprintf("%s=%d %d %d", resuidEnv, h.base+other, h.base+uid, h.base+other))
	stdout, err := cmd.StdoutPipe()
	require.NoError(h.t, err)
	require.NoError(h.t, cmd.Start())
	h.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(h.t, err)
	require.Equal(h.t, "ready\n", line)
	return cmd
}

// procState is the state letter of a child process not yet waited for.
func procState(t *testing.T, pid int) string {
	t.Helper()
	bz, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	require.NoError(t, err)
	s := string(bz)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
}

// leaseUser is the account name the hooks give a lease.
func leaseUser(leaseID string) string {
	sum := sha256.Sum256([]byte(leaseID))
	return "gm" + hex.EncodeToString(sum[:])[:30]
}

// endpointUser is the user of an ssh://user@host:port endpoint.
func endpointUser(t *testing.T, endpoint string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(endpoint, "ssh://")
	require.True(t, ok, endpoint)
	user, hostPort, ok := strings.Cut(rest, "@")
	require.True(t, ok, endpoint)
	require.Equal(t, "gpu1.example.com:22", hostPort)
	return user
}

// Two tenants whose addresses share the first 40 bits of their sha256 (the
// old account name's hash) and a third lease get three accounts: names
// from the whole lease id, uids counted up from the range (skipping a
// subordinate range), each with its key, GPUs and nothing else.
func TestSSHUserExampleHooksAccountPerLease(t *testing.T) {
	a, b := "mesh182grjvkfkz5lrkwkegm5gcuq727uuup73hvwmy", "mesh1rfzrfrsc07fxg4q2mecwxwukuplxlvymz5rpaa"
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	require.Equal(t, hex.EncodeToString(ha[:])[:10], hex.EncodeToString(hb[:])[:10], "the fixture is a 40-bit collision")

	h := newNSHarness(t)
	subuid := h.read("etc/subuid")
	leases := []HookEnv{exampleLease(a, 1), exampleLease(b, 1), exampleLease(a, 2)}
	users := make([]string, len(leases))
	for i, env := range leases {
		endpoint, err := h.run(h.start, env)
		require.NoError(t, err)
		users[i] = endpointUser(t, endpoint)
	}
	require.NotEqual(t, users[0], users[1], "two tenants share an account")
	require.NotEqual(t, users[0], users[2], "two leases of a tenant share an account")
	require.Equal(t, []string{leaseUser(a + "/1"), leaseUser(b + "/1"), leaseUser(a + "/2")}, users)

	for i, user := range users {
		uid := h.account(user)
		require.Equal(t, nsUIDMin+2+i, uid, "uids count up from the range, past the subordinate ones")
		home := filepath.Join("home", user)
		for rel, want := range map[string]fs.FileMode{home: 0o700, home + "/.ssh": 0o700, home + "/.ssh/authorized_keys": 0o600, home + "/.gpumesh-env": 0o600} {
			owner, mode := h.owner(rel)
			require.Equal(t, uid, owner, rel)
			require.Equal(t, want, mode, rel)
		}
		require.Equal(t, exampleSSHKey+"\n", h.read(home+"/.ssh/authorized_keys"), "the key, without its comment")
		require.Equal(t, "export CUDA_VISIBLE_DEVICES=GPU-1111,GPU-2222\nexport NVIDIA_VISIBLE_DEVICES=GPU-1111,GPU-2222\n"+
			"export GPUMESH_LEASE_ID="+leases[i].LeaseID+"\n", h.read(home+"/.gpumesh-env"))
		require.True(t, strings.HasSuffix(h.read(home+"/.profile"), "\n. \"$HOME/.gpumesh-env\"\n"))
	}
	require.Equal(t, subuid, h.read("etc/subuid"), "accounts get no subordinate uids")
}

// Start is create-fresh-or-fail: a lease whose account, home, or home
// link already exists is refused and nothing is changed; the end hook
// removes only what a start made.
func TestSSHUserExampleHooksRefuseExisting(t *testing.T) {
	h := newNSHarness(t)
	env := exampleLease(exampleTenant, 1)
	endpoint, err := h.run(h.start, env)
	require.NoError(t, err)
	user := endpointUser(t, endpoint)
	uid := h.account(user)
	_, err = h.run(h.start, env)
	require.ErrorContains(t, err, "account "+user+" already exists")
	require.Equal(t, uid, h.account(user))

	// Someone else's account with the name of lease 2.
	env2 := exampleLease(exampleTenant, 2)
	user2 := leaseUser(env2.LeaseID)
	h.inNS("useradd", "--no-create-home", "--uid", "60000", user2)
	_, err = h.run(h.start, env2)
	require.ErrorContains(t, err, "account "+user2+" already exists")
	require.Equal(t, 60000, h.account(user2))

	// A home with no account, and a link where a home would go.
	env3, env4 := exampleLease(exampleTenant, 3), exampleLease(exampleTenant, 4)
	require.NoError(t, os.Mkdir(h.path("home/"+leaseUser(env3.LeaseID)), 0o700))
	require.NoError(t, os.Symlink(h.path("target"), h.path("home/"+leaseUser(env4.LeaseID))))
	for _, e := range []HookEnv{env3, env4} {
		_, err = h.run(h.start, e)
		require.ErrorContains(t, err, "home "+filepath.Join("/home", leaseUser(e.LeaseID))+" already exists")
		require.Equal(t, -1, h.account(leaseUser(e.LeaseID)))
	}
	owner, mode := h.owner("target")
	require.Equal(t, 0, owner)
	require.Equal(t, fs.FileMode(0o755), mode)

	// The end hook the sidecar runs after each refusal leaves what start
	// did not make alone, and has nothing of the lease to remove.
	for _, e := range []HookEnv{env2, env3, env4} {
		_, err = h.run(h.end, e)
		require.NoError(t, err)
	}
	require.Equal(t, 60000, h.account(user2))
	require.DirExists(t, h.path("home/"+leaseUser(env3.LeaseID)))
	_, err = os.Lstat(h.path("home/" + leaseUser(env4.LeaseID)))
	require.NoError(t, err)
}

// Links a tenant plants in its home (.profile to a passwd file, .ssh to
// another directory, a link to a directory) are never followed: a second
// start is refused without touching them, and the end hook removes the
// home without reaching through them.
func TestSSHUserExampleHooksFollowNoLink(t *testing.T) {
	h := newNSHarness(t)
	env := exampleLease(exampleTenant, 1)
	endpoint, err := h.run(h.start, env)
	require.NoError(t, err)
	user := endpointUser(t, endpoint)
	uid := h.account(user)
	home := "home/" + user

	// What the tenant plants, owned by the tenant.
	require.NoError(t, os.Remove(h.path(home+"/.profile")))
	require.NoError(t, os.Rename(h.path(home+"/.ssh"), h.path(home+"/.ssh-old")))
	for link, target := range map[string]string{".profile": "target/passwd", ".ssh": "target/keys", "escape": "target"} {
		require.NoError(t, os.Symlink(h.path(target), h.path(home+"/"+link)))
		require.NoError(t, os.Lchown(h.path(home+"/"+link), h.base+uid, h.base+uid))
	}
	unchanged := func() {
		t.Helper()
		require.Equal(t, "root:x:0:0:root:/root:/bin/bash\n", h.read("target/passwd"))
		for rel, want := range map[string]fs.FileMode{"target/passwd": 0o644, "target/keys": 0o755} {
			owner, mode := h.owner(rel)
			require.Equal(t, 0, owner, rel)
			require.Equal(t, want, mode, rel)
		}
		entries, err := os.ReadDir(h.path("target/keys"))
		require.NoError(t, err)
		require.Empty(t, entries)
	}

	_, err = h.run(h.start, env)
	require.Error(t, err, "a second start must be refused")
	unchanged()

	env.CloseReason = "tenant"
	_, err = h.run(h.end, env)
	require.NoError(t, err)
	require.NoFileExists(t, h.path(home))
	unchanged()
}

// The end hook kills the account's processes, then removes the account,
// its group, its home and its record; a second run finds it gone. A uid is
// never handed out again.
func TestSSHUserExampleEndHookKillsProcesses(t *testing.T) {
	h := newNSHarness(t)
	env := exampleLease(exampleTenant, 1)
	endpoint, err := h.run(h.start, env)
	require.NoError(t, err)
	user := endpointUser(t, endpoint)
	uid := h.account(user)
	proc := h.tenantProcess(uid)

	env.CloseReason = "expired"
	_, err = h.run(h.end, env)
	require.NoError(t, err)
	require.Equal(t, "Z", procState(t, proc.Process.Pid), "the tenant's process is dead (not yet reaped)")
	require.EqualError(t, proc.Wait(), "signal: killed")
	require.Equal(t, -1, h.account(user))
	require.False(t, h.hasGroup(user))
	require.NoFileExists(t, h.path("home/"+user))
	require.NoFileExists(t, h.path("state/accounts/"+user))

	_, err = h.run(h.end, env)
	require.NoError(t, err, "already gone")

	endpoint, err = h.run(h.start, exampleLease(exampleTenant, 2))
	require.NoError(t, err)
	require.Equal(t, uid+1, h.account(endpointUser(t, endpoint)), "the freed uid is not reused")
}

// The end hook fails (and keeps the account) while a process of the
// account survives every kill, and succeeds once it is gone.
func TestSSHUserExampleEndHookFailsOnSurvivor(t *testing.T) {
	h := newNSHarness(t)
	env := exampleLease(exampleTenant, 1)
	endpoint, err := h.run(h.start, env)
	require.NoError(t, err)
	user := endpointUser(t, endpoint)
	uid := h.account(user)
	proc := h.survivor(uid, nsUIDMax+1000)

	env.CloseReason = "tenant"
	_, err = h.run(h.end, env)
	require.ErrorContains(t, err, fmt.Sprintf("processes of uid %d survive 5 rounds of SIGKILL", uid))
	require.Equal(t, uid, h.account(user), "the account stays while its processes do")
	require.DirExists(t, h.path("home/"+user))

	require.NoError(t, proc.Process.Kill())
	require.Error(t, proc.Wait())
	_, err = h.run(h.end, env)
	require.NoError(t, err)
	require.Equal(t, -1, h.account(user))
	_, err = h.run(h.end, env)
	require.NoError(t, err, "already gone")
}

// The start hook refuses malformed lease values before it makes anything.
func TestSSHUserExampleStartHookRefusesBadInput(t *testing.T) {
	h := newNSHarness(t)
	passwd := h.read("etc/passwd")
	for _, tc := range badLeaseInputs() {
		env := exampleLease(exampleTenant, 1)
		tc.edit(&env)
		_, err := h.run(h.start, env)
		require.ErrorContains(t, err, tc.field, tc.name)
		require.Equal(t, passwd, h.read("etc/passwd"), tc.name)
		entries, err := os.ReadDir(h.path("home"))
		require.NoError(t, err)
		require.Empty(t, entries, tc.name)
	}
}
