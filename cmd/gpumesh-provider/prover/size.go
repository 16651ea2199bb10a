package prover

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// Reasons a challenge is refused (the reason label of
// gpumesh_provider_challenges_refused_total).
const (
	// RefusedProtocol: a size outside the protocol's limits
	// (challenge.Params.Validate), or more GPUs than a node may list.
	RefusedProtocol = "protocol"
	// RefusedClass: a GPU whose class is not in the chain's class table,
	// or whose n, m are not the class's challenge_n, challenge_m.
	RefusedClass = "class"
	// RefusedMemory: the proofs would need more than the memory cap.
	RefusedMemory = "memory"
)

// SizeError is a challenge the prover will not compute: the chain's rules
// would not produce it, or it does not fit the memory cap.
type SizeError struct {
	Reason string // one of the Refused* constants
	Err    error
}

func (e *SizeError) Error() string { return e.Err.Error() }
func (e *SizeError) Unwrap() error { return e.Err }

// errRefused marks a challenge already refused: skipped without error.
var errRefused = errors.New("challenge refused")

// rowBlock is the rows of C the prover computes at a time
// (challenge.Prove).
const rowBlock = 64

// ProofMemory is the memory, in bytes, proving c takes: per GPU, m Merkle
// trees of 2·(n²/16) hashes of 32 bytes (4·n² bytes each), kept from the
// commitment to the reveal; plus, while one product is computed, B (n²
// bytes, in the CPU backend) and a block of 64 rows of C (256·n bytes).
// It assumes sizes within the protocol's limits (n ≤ 65536, m ≤ 16), for
// which it cannot overflow.
func ProofMemory(c poctypes.Challenge) uint64 {
	var kept, work uint64
	for _, g := range c.Gpus {
		n := uint64(g.N)
		kept += 4 * n * n * uint64(g.M)
		work = max(work, n*n+rowBlock*4*n)
	}
	return kept + work
}

// checkSize refuses (a *SizeError) a challenge the chain's rules would not
// produce, or one whose proofs, with those already held, would need more
// than MaxMemoryBytes; it returns the memory the proofs will hold.
func (p *Prover) checkSize(ctx context.Context, c poctypes.Challenge) (uint64, error) {
	params, err := p.chain.ProviderParams(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the GPU classes to check challenge %d's size: %w", c.Id, err)
	}
	if uint64(len(c.Gpus)) > uint64(params.MaxGpusPerNode) {
		return 0, &SizeError{Reason: RefusedProtocol, Err: fmt.Errorf(
			"challenge %d names %d GPUs, more than max_gpus_per_node %d", c.Id, len(c.Gpus), params.MaxGpusPerNode)}
	}
	for i, g := range c.Gpus {
		if err := g.ChallengeParams(c.Openings).Validate(); err != nil {
			return 0, &SizeError{Reason: RefusedProtocol, Err: fmt.Errorf("challenge %d, gpus[%d] (%s): %w",
				c.Id, i, g.Uuid, err)}
		}
		class, ok := params.Class(g.Class)
		if !ok {
			return 0, &SizeError{Reason: RefusedClass, Err: fmt.Errorf(
				"challenge %d, gpus[%d] (%s): class %q is not a GPU class on chain", c.Id, i, g.Uuid, g.Class)}
		}
		if g.N != class.ChallengeN || g.M != class.ChallengeM {
			return 0, &SizeError{Reason: RefusedClass, Err: fmt.Errorf(
				"challenge %d, gpus[%d] (%s): n %d, m %d, but class %s challenges with challenge_n %d, challenge_m %d",
				c.Id, i, g.Uuid, g.N, g.M, g.Class, class.ChallengeN, class.ChallengeM)}
		}
	}
	need := ProofMemory(c)
	var held uint64
	for _, b := range p.held {
		held += b
	}
	if limit := p.opts.MaxMemoryBytes; limit > 0 && held+need > limit {
		return 0, &SizeError{Reason: RefusedMemory, Err: fmt.Errorf(
			"challenge %d needs %d MiB for its proofs, %d MiB are held for other challenges, and the cap is %d MiB "+
				"(prover.max_memory_mib)", c.Id, need>>20, held>>20, limit>>20)}
	}
	return need, nil
}

// MemoryLimit is the prover's memory cap in bytes: maxMiB when set, else
// the machine's total memory (MemTotal in /proc/meminfo); 0 (no cap) when
// neither is known.
func MemoryLimit(maxMiB uint64) uint64 {
	if maxMiB > 0 {
		return maxMiB << 20
	}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	return memTotal(bufio.NewScanner(f))
}

// memTotal reads "MemTotal: <n> kB" from a /proc/meminfo scanner.
func memTotal(sc *bufio.Scanner) uint64 {
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" {
			kib, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kib << 10
		}
	}
	return 0
}
