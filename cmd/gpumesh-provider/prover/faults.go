//go:build gpumesh_faults

package prover

import (
	"log/slog"

	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Faults are the fault injections of the test build (-tags
// gpumesh_faults), with which the e2e tests and the demo show a wrong
// proof slashed. The production build's Faults is empty (nofaults.go).
type Faults struct {
	// CorruptOpening reveals only the first GPU, with a byte of its first
	// opened leaf flipped; the chain fails the challenge.
	CorruptOpening bool
}

// reveals corrupts the reveals when CorruptOpening is set.
func (f Faults) reveals(msgs []*poctypes.MsgRevealProof, log *slog.Logger, challengeID uint64) []*poctypes.MsgRevealProof {
	if !f.CorruptOpening {
		return msgs
	}
	log.Warn("fault injection: revealing a corrupted opening", "challenge", challengeID)
	return prove.CorruptReveals(msgs)
}
