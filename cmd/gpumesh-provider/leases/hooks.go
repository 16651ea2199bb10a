package leases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

// HookEnv is what a provisioning hook is told about a lease.
type HookEnv struct {
	LeaseID     string
	Tenant      string
	Seq         uint64
	Provider    string
	GPUs        []string
	SSHPubKey   string
	CloseReason string
	// Extra are the operator's variables (leases.hook_env); they cannot
	// replace the lease's variables.
	Extra map[string]string
}

// defaultPath is the hooks' PATH when the sidecar has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// environ is the hook's whole environment: PATH (the sidecar's), LANG,
// the operator's variables, then the lease's. Nothing else of the
// sidecar's environment is passed: it holds secrets such as
// GPUMESH_KEYRING_PASSPHRASE.
func (e HookEnv) environ() []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = defaultPath
	}
	vars := map[string]string{"PATH": path, "LANG": "C.UTF-8"}
	for k, v := range e.Extra {
		vars[k] = v
	}
	lease := map[string]string{
		"GPUMESH_LEASE_ID":     e.LeaseID,
		"GPUMESH_TENANT":       e.Tenant,
		"GPUMESH_LEASE_SEQ":    strconv.FormatUint(e.Seq, 10),
		"GPUMESH_PROVIDER":     e.Provider,
		"GPUMESH_GPU_UUIDS":    strings.Join(e.GPUs, ","),
		"GPUMESH_SSH_PUBKEY":   e.SSHPubKey,
		"GPUMESH_CLOSE_REASON": e.CloseReason,
	}
	for k, v := range lease {
		vars[k] = v
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// CheckHooks checks that the configured hooks can run: both or neither
// set, and each program an existing, executable regular file. It logs a
// warning (when log is not nil) for a program others may rewrite: writable
// by group or others, or not owned by root while the sidecar runs as root.
func CheckHooks(cfg config.Leases, log *slog.Logger) error {
	if (cfg.OnLeaseStart == "") != (cfg.OnLeaseEnd == "") {
		return fmt.Errorf("leases.on_lease_start %q and leases.on_lease_end %q: set both or neither",
			cfg.OnLeaseStart, cfg.OnLeaseEnd)
	}
	for _, hook := range []struct{ field, command string }{
		{"leases.on_lease_start", cfg.OnLeaseStart}, {"leases.on_lease_end", cfg.OnLeaseEnd},
	} {
		fields := strings.Fields(hook.command)
		if len(fields) == 0 {
			continue
		}
		program := fields[0]
		info, err := os.Stat(program)
		if err != nil {
			return fmt.Errorf("%s: program %s: %w", hook.field, program, err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s: program %s is not a regular file (%s)", hook.field, program, info.Mode().Type())
		}
		if info.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s: program %s is not executable (mode %s)", hook.field, program, info.Mode().Perm())
		}
		if log == nil {
			continue
		}
		if info.Mode().Perm()&0o022 != 0 {
			log.Warn("a hook program is writable by group or others: whoever can write it runs as the sidecar",
				"field", hook.field, "program", program, "mode", info.Mode().Perm().String())
		}
		if owner, ok := fileOwner(info); ok && owner != 0 && os.Geteuid() == 0 {
			log.Warn("the sidecar runs as root and a hook program is not owned by root", "field", hook.field,
				"program", program, "uid", owner)
		}
	}
	return nil
}

// maxHookOutput bounds what is kept of a hook's output.
const maxHookOutput = 64 << 10

// RunHook runs a hook command line (program and arguments, split on
// spaces) with the lease in its environment, killing it and its children
// after timeout. It
// returns the last non-empty line of standard output: for on_lease_start,
// the access endpoint. Standard error is returned in the error when the
// hook fails.
func RunHook(ctx context.Context, command string, env HookEnv, timeout time.Duration) (string, error) {
	fields := strings.Fields(command)
	if len(fields) == 0 {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, fields[0], fields[1:]...) //nolint:gosec // the operator's configured hook
	cmd.Env = env.environ()
	killGroupOnCancel(cmd)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &limited{buf: &stdout}, &limited{buf: &stderr}
	err := cmd.Run()
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "", fmt.Errorf("hook %s timed out after %s", fields[0], timeout)
	}
	if err != nil {
		return "", fmt.Errorf("hook %s: %w: %s", fields[0], err, strings.TrimSpace(lastLines(stderr.String(), 5)))
	}
	return lastLine(stdout.String()), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// limited keeps at most maxHookOutput bytes, dropping the oldest.
type limited struct{ buf *bytes.Buffer }

func (l *limited) Write(p []byte) (int, error) {
	l.buf.Write(p)
	if over := l.buf.Len() - maxHookOutput; over > 0 {
		l.buf.Next(over)
	}
	return len(p), nil
}
