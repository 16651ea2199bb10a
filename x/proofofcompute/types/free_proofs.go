package types

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/cosmos/gogoproto/proto"
	"google.golang.org/protobuf/encoding/protowire"

	sdk "github.com/cosmos/cosmos-sdk/types"

	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// A transaction whose messages are all the signer's own acceptable proofs
// is admitted without a fee (Keeper.FreeProofTx). It may carry nothing
// else: no unknown fields, no extension options, a memo of at most
// FreeMemoMaxBytes, at most FreeEnvelopeBytes besides its messages, and a
// gas limit of at most FreeGas.Cap. The allowances below were measured
// from commits and reveals delivered through FinalizeBlock
// (keeper/fees_test.go checks that honest proofs stay within the cap and
// that the cap stays within 1.5 × what they use).
const (
	// FreeMemoMaxBytes is the longest memo of a free transaction. The
	// sidecar and the CLI send none.
	FreeMemoMaxBytes = 64

	// FreeEnvelopeBytes bounds the bytes of a free transaction outside its
	// messages' entries in the body: the TxRaw framing, a memo of
	// FreeMemoMaxBytes, the timeout height, unordered flag and timeout
	// timestamp, and an AuthInfo with one secp256k1 signer (public key,
	// sign mode, sequence) and a fee of no coins with its gas limit, plus
	// the 64-byte signature. A maximal honest envelope (every number at
	// its widest varint) measures MeasuredFreeEnvelopeBytes; the
	// allowance adds FreeEnvelopeMarginBytes.
	FreeEnvelopeBytes = MeasuredFreeEnvelopeBytes + FreeEnvelopeMarginBytes
	// MeasuredFreeEnvelopeBytes is the envelope of the widest honest free
	// transaction (keeper/fees_test.go measures it).
	MeasuredFreeEnvelopeBytes = 271
	// FreeEnvelopeMarginBytes is the slack over the measured envelope.
	FreeEnvelopeMarginBytes = 16

	// FreeGasMarginPercent is the margin of the gas cap over the computed
	// cost.
	FreeGasMarginPercent = 25

	// FreeTxGas is the ante handler's store I/O for a transaction with
	// one signer (account, public key, sequence): measured 24 900.
	FreeTxGas = 25_000
	// FreeCommitGas + FreeCommitGasPerGPU × GPUs is a commit's store I/O:
	// measured 7 050 + 3 230 per GPU for capacity challenges, 1 000 more
	// for a dispute's larger record.
	FreeCommitGas       = 9_000
	FreeCommitGasPerGPU = 3_300
	// FreeRevealGas + FreeRevealGasPerGPU × GPUs is a reveal's store I/O
	// (measured 17 700 + 3 330 per GPU); the verification gas
	// (Params.Gas.RevealCost) comes on top.
	FreeRevealGas       = 18_000
	FreeRevealGasPerGPU = 3_400
	// The reveal that completes a challenge also passes it (GPUs verified,
	// their node records rewritten, expiry queued, reputation, reward
	// weight; for a dispute, the dispute closed and its fee paid): it adds
	// FreePassGas + FreePassGasPerGPU × the challenge's GPUs +
	// FreePassGasPerNodeGPU × the GPUs on the nodes that hold them
	// (measured 99 700 + 7 100 + 5 000; a dispute's pass costs less).
	FreePassGas           = 100_000
	FreePassGasPerGPU     = 7_200
	FreePassGasPerNodeGPU = 5_000
)

// TxGasCosts are x/auth's gas prices of a transaction's bytes and of one
// secp256k1 signature (params tx_size_cost_per_byte and
// sig_verify_cost_secp256k1).
type TxGasCosts struct {
	PerByte   uint64
	SigVerify uint64
}

// FreeGas adds up the gas a free transaction's proofs may use. Add each
// message with its challenge as stored before the transaction, in the
// transaction's order; Cap then gives the largest gas limit the
// transaction may ask for. The chain (Keeper.FreeProofTx) and the sidecar
// compute it with the same code.
type FreeGas struct {
	verification VerificationGas
	total        uint64
	// unrevealed counts the GPUs of each challenge seen so far that are
	// not revealed yet, counting this transaction's reveals.
	unrevealed map[uint64]int
}

// NewFreeGas starts a sum with the chain's verification gas params.
func NewFreeGas(verification VerificationGas) *FreeGas {
	return &FreeGas{verification: verification, total: FreeTxGas, unrevealed: map[uint64]int{}}
}

// Add counts msg, a MsgCommitProof or MsgRevealProof for challenge c (as
// stored before the transaction). nodeGPUs is called only for the reveal
// that completes c, and returns the number of GPUs on the nodes holding
// c's GPUs (PassNodeGPUs).
func (f *FreeGas) Add(c Challenge, msg sdk.Msg, nodeGPUs func() (int, error)) error {
	gpus := uint64(len(c.Gpus))
	switch m := msg.(type) {
	case *MsgCommitProof:
		f.total = addGas(f.total, addGas(FreeCommitGas, mulGas(FreeCommitGasPerGPU, gpus)))
	case *MsgRevealProof:
		if int(m.GpuIndex) >= len(c.Gpus) {
			return fmt.Errorf("gpu_index %d: challenge %d has %d GPUs", m.GpuIndex, c.Id, len(c.Gpus))
		}
		p := c.Gpus[m.GpuIndex].ChallengeParams(c.Openings)
		f.total = addGas(f.total, addGas(addGas(FreeRevealGas, mulGas(FreeRevealGasPerGPU, gpus)),
			f.verification.RevealCost(p)))
		left, seen := f.unrevealed[c.Id]
		if !seen {
			for _, g := range c.Gpus {
				if !g.Revealed {
					left++
				}
			}
		}
		left--
		f.unrevealed[c.Id] = left
		if left != 0 {
			return nil
		}
		onNodes, err := nodeGPUs()
		if err != nil {
			return fmt.Errorf("challenge %d: GPUs on its nodes: %w", c.Id, err)
		}
		pass := addGas(addGas(FreePassGas, mulGas(FreePassGasPerGPU, gpus)),
			mulGas(FreePassGasPerNodeGPU, uint64(max(onNodes, 0))))
		f.total = addGas(f.total, pass)
	default:
		return fmt.Errorf("%s is not a proof message", sdk.MsgTypeURL(msg))
	}
	return nil
}

// PassNodeGPUs counts the GPUs listed on the nodes that hold c's GPUs,
// each node once: the node records that passing c rewrites. nodeOf
// returns the provider's node listing GPU g, with found false when the
// provider lists it nowhere.
func PassNodeGPUs(c Challenge, nodeOf func(g ChallengedGPU) (node providertypes.Node, found bool, err error)) (int, error) {
	var nodes []string
	total := 0
	for _, g := range c.Gpus {
		if g.NodeId != "" && slices.Contains(nodes, g.NodeId) {
			continue
		}
		node, found, err := nodeOf(g)
		if err != nil {
			return 0, fmt.Errorf("gpu %s: %w", g.Uuid, err)
		}
		if !found || slices.Contains(nodes, node.Id) {
			continue
		}
		nodes = append(nodes, node.Id)
		total += len(node.Gpus)
	}
	return total, nil
}

// Cost is the computed gas of a transaction of txBytes bytes carrying the
// messages added: their allowances, the size at costs.PerByte and one
// signature verification.
func (f *FreeGas) Cost(txBytes int, costs TxGasCosts) uint64 {
	return addGas(addGas(f.total, mulGas(costs.PerByte, uint64(max(txBytes, 0)))), costs.SigVerify)
}

// Cap is the largest gas limit a free transaction of txBytes bytes may
// ask for: Cost × (100 + FreeGasMarginPercent) / 100, rounded down.
func (f *FreeGas) Cap(txBytes int, costs TxGasCosts) uint64 {
	hi, lo := bits.Mul64(f.Cost(txBytes, costs), 100+FreeGasMarginPercent)
	if hi >= 100 {
		return math.MaxUint64
	}
	q, _ := bits.Div64(hi, lo, 100)
	return q
}

// FreeMaxTxBytes is the largest size of a free transaction carrying msgs:
// the bytes each message takes in the body (its entry in the messages
// field: tag, length and Any, encoded canonically) plus
// FreeEnvelopeBytes. Bytes re-encoded from the decoded messages, so a
// transaction padded with repeated or over-long fields exceeds it.
func FreeMaxTxBytes(msgs []sdk.Msg) int {
	n := FreeEnvelopeBytes
	for _, m := range msgs {
		n += MsgEntryBytes(m)
	}
	return n
}

// MsgEntryBytes is the size of msg's entry in a TxBody's messages field
// (field 1): tag, length and the Any with its type URL and value.
func MsgEntryBytes(msg sdk.Msg) int {
	entry := anyBytes(sdk.MsgTypeURL(msg), proto.Size(msg))
	return protowire.SizeTag(1) + protowire.SizeBytes(entry)
}

// anyBytes is the size of a google.protobuf.Any with the given type URL
// and a value of valueBytes bytes.
func anyBytes(typeURL string, valueBytes int) int {
	n := protowire.SizeTag(1) + protowire.SizeBytes(len(typeURL))
	if valueBytes > 0 {
		n += protowire.SizeTag(2) + protowire.SizeBytes(valueBytes)
	}
	return n
}

// addGas and mulGas saturate at the largest uint64 instead of wrapping.
func addGas(a, b uint64) uint64 {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return math.MaxUint64
	}
	return s
}

func mulGas(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return math.MaxUint64
	}
	return lo
}
