//go:build !gpumesh_faults

package prover

import (
	"log/slog"

	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Faults is empty in the production build: the sidecar cannot be told to
// send a wrong proof. The test build (-tags gpumesh_faults, make build's
// build/gpumesh-provider-faulty) defines the fault switches in faults.go.
type Faults struct{}

// reveals returns the reveals as built.
func (Faults) reveals(msgs []*poctypes.MsgRevealProof, _ *slog.Logger, _ uint64) []*poctypes.MsgRevealProof {
	return msgs
}
