//go:build unix

package leases

import (
	"os"
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

// fileOwner is the uid owning the file.
func fileOwner(info os.FileInfo) (uint32, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
