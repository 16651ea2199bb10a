//go:build !unix

package leases

import "os/exec"

// killGroupOnCancel leaves exec.CommandContext's default (kill the hook
// process only) where there are no Unix process groups.
func killGroupOnCancel(*exec.Cmd) {}
