//go:build e2e

package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The production sidecar has no fault injection: its run takes no --fault
// and the binary holds none of the code that corrupts a reveal; the test build
// (-tags gpumesh_faults) has both, which shows the checks can fail.
func TestProviderBinaryHasNoFault(t *testing.T) {
	for _, tc := range []struct {
		bin       string
		wantFault bool
	}{
		{bin: gpumeshProvider(t), wantFault: false},
		{bin: gpumeshProviderFaulty(t), wantFault: true},
	} {
		help, err := exec.Command(tc.bin, "run", "--help").CombinedOutput()
		require.NoError(t, err, "%s run --help: %s", tc.bin, help)
		require.Equal(t, tc.wantFault, strings.Contains(string(help), "--fault"), "%s run --help:\n%s", tc.bin, help)

		// The messages the fault paths log are string constants: the linker
		// keeps them exactly when the code using them is in the binary.
		bin, err := os.ReadFile(tc.bin)
		require.NoError(t, err)
		for _, msg := range []string{"fault injection: revealing a corrupted opening", "FAULT INJECTION: reveals will carry"} {
			require.Equal(t, tc.wantFault, bytes.Contains(bin, []byte(msg)), "%s holds %q", tc.bin, msg)
		}
	}
}
