//go:build unix

package leases

import (
	"os/exec"
	"syscall"
)

// killGroupOnCancel runs the hook in its own process group and, when its
// context ends (timeout or shutdown), kills the whole group: a shell
// hook's children (a sleep, a docker run) die with it instead of holding
// its output open.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
