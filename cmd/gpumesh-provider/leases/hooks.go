package leases

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
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
}

func (e HookEnv) environ() []string {
	return append(os.Environ(),
		"GPUMESH_LEASE_ID="+e.LeaseID,
		"GPUMESH_TENANT="+e.Tenant,
		fmt.Sprintf("GPUMESH_LEASE_SEQ=%d", e.Seq),
		"GPUMESH_PROVIDER="+e.Provider,
		"GPUMESH_GPU_UUIDS="+strings.Join(e.GPUs, ","),
		"GPUMESH_SSH_PUBKEY="+e.SSHPubKey,
		"GPUMESH_CLOSE_REASON="+e.CloseReason,
	)
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
