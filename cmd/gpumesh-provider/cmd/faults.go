//go:build gpumesh_faults

package cmd

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
)

const flagFault = "fault"

// addFaultFlags adds run's --fault flag, in the test build only (make
// build's build/gpumesh-provider-faulty): the e2e tests and the demo run
// one sidecar that sends a wrong proof, to show it slashed.
func addFaultFlags(cmd *cobra.Command) {
	cmd.Flags().String(flagFault, "", "test build only: inject a fault (corrupt-opening)")
}

// faultsFromFlags reads --fault and warns when a fault is on.
func faultsFromFlags(cmd *cobra.Command, log *slog.Logger) (prover.Faults, error) {
	fault, _ := cmd.Flags().GetString(flagFault)
	switch fault {
	case "":
		return prover.Faults{}, nil
	case "corrupt-opening":
		log.Warn("FAULT INJECTION: reveals will carry a corrupted opening; this provider will be slashed")
		return prover.Faults{CorruptOpening: true}, nil
	default:
		return prover.Faults{}, fmt.Errorf("--%s %q: the only fault is corrupt-opening", flagFault, fault)
	}
}
