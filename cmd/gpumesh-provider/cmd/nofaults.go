//go:build !gpumesh_faults

package cmd

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
)

// addFaultFlags adds nothing: the production binary has no fault
// injection (faults.go, built with -tags gpumesh_faults, adds --fault).
func addFaultFlags(*cobra.Command) {}

// faultsFromFlags returns no faults.
func faultsFromFlags(*cobra.Command, *slog.Logger) (prover.Faults, error) {
	return prover.Faults{}, nil
}
