//go:build !unix

package leases

import (
	"os"
	"os/exec"
)

// killGroupOnCancel leaves exec.CommandContext's default (kill the hook
// process only) where there are no Unix process groups.
func killGroupOnCancel(*exec.Cmd) {}

// fileOwner is unknown without Unix file ownership.
func fileOwner(os.FileInfo) (uint32, bool) { return 0, false }
