package chain

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Message kinds: the keys of chain.max_gas, and the broadcaster's
// priority classes (kindPriority).
const (
	KindCommit   = "commit"
	KindReveal   = "reveal"
	KindLease    = "lease"
	KindBid      = "bid"
	KindWithdraw = "withdraw"
	KindClaim    = "claim"
	KindRegister = "register"
	KindBond     = "bond"
	KindOther    = "other"
)

// DefaultMaxGas is the most gas the sidecar signs for one message of each
// kind (a transaction's cap is the sum over its messages). The node's
// simulation is believed only up to it. Each is a few times the chain's
// measured cost (docs/benchmarks.md, ante handler included): commit 40787
// (×6); one GPU's reveal at the largest measured size (n = 65536, k = 32)
// 1015749 in the handler + 330660 for its bytes + 194873 when it passes
// the challenge + the ante handler ≈ 1.6 M (×2.5); create-bid 101988,
// withdraw 104524 (×5); lease access and usage reports, claims and bonds
// write fewer keys than a withdrawal; registration and inventory grow with
// the listed GPUs (×20 a withdrawal).
var DefaultMaxGas = map[string]uint64{
	KindCommit:   250_000,
	KindReveal:   4_000_000,
	KindLease:    500_000,
	KindBid:      500_000,
	KindWithdraw: 500_000,
	KindClaim:    500_000,
	KindRegister: 2_000_000,
	KindBond:     500_000,
	KindOther:    1_000_000,
}

// DefaultMaxFee is the most fee the sidecar pays for one transaction: at
// the default gas price 0.025umesh, 40 M gas, more than four reveals at
// their cap.
const DefaultMaxFee = "1000000umesh"

// MaxGasLimit bounds any configured cap: a cap times a gas adjustment of
// at most 10 stays far below 2^63, so no conversion can overflow.
const MaxGasLimit uint64 = 1 << 40

// ErrOverCap is a transaction the sidecar refuses to sign: the node's
// simulation asks for more gas, or the fee comes to more, than the
// configured caps.
var ErrOverCap = errors.New("over the configured cap")

// msgKind is the kind of a message the sidecar sends.
func msgKind(m sdk.Msg) string {
	switch m.(type) {
	case *poctypes.MsgCommitProof:
		return KindCommit
	case *poctypes.MsgRevealProof:
		return KindReveal
	case *markettypes.MsgSetLeaseAccess, *poctypes.MsgReportUsage:
		return KindLease
	case *markettypes.MsgCreateBid, *markettypes.MsgCloseBid:
		return KindBid
	case *escrowtypes.MsgWithdraw:
		return KindWithdraw
	case *poctypes.MsgClaimRewards:
		return KindClaim
	case *providertypes.MsgRegisterProvider, *providertypes.MsgUpdateProvider, *providertypes.MsgSetInventory:
		return KindRegister
	case *stakingslashtypes.MsgBond:
		return KindBond
	default:
		return KindOther
	}
}

// Caps bound what the sidecar signs.
type Caps struct {
	// MaxGas is the gas cap per message kind; kinds not set take
	// DefaultMaxGas.
	MaxGas map[string]uint64
	// MaxFee is the most fee per transaction, per denom: a fee in a
	// denom not listed is refused.
	MaxFee sdk.Coins
}

// ValidateMaxGas checks configured caps: known kinds, positive, at most
// MaxGasLimit.
func ValidateMaxGas(m map[string]uint64) error {
	for _, k := range sortedKeys(m) {
		if _, ok := DefaultMaxGas[k]; !ok {
			return fmt.Errorf("chain.max_gas.%s: unknown message kind, want one of %s", k,
				strings.Join(sortedKeys(DefaultMaxGas), ", "))
		}
		if m[k] == 0 || m[k] > MaxGasLimit {
			return fmt.Errorf("chain.max_gas.%s: %d must be within [1, %d]", k, m[k], MaxGasLimit)
		}
	}
	return nil
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// gasCap is the most gas the sidecar signs for msgs: the sum of their
// kinds' caps.
func (c Caps) gasCap(msgs []sdk.Msg) uint64 {
	var sum uint64
	for _, m := range msgs {
		g, ok := c.MaxGas[msgKind(m)]
		if !ok {
			g = DefaultMaxGas[msgKind(m)]
		}
		// Each cap is at most MaxGasLimit (2^40), so a sum over fewer
		// than 2^23 messages cannot overflow; saturate anyway.
		if sum > math.MaxUint64-g {
			return math.MaxUint64
		}
		sum += g
	}
	return sum
}

// gasLimit is the gas limit for a simulation's gas used: gasUsed ×
// adjustment rounded up, at most the cap. A simulation over the cap is
// refused with an error naming both; nothing is converted unchecked.
func gasLimit(gasUsed uint64, adjustment float64, capped uint64, kinds string) (uint64, error) {
	if gasUsed > capped {
		return 0, fmt.Errorf("%w: the node's simulation of %s uses %d gas, chain.max_gas allows %d", ErrOverCap,
			kinds, gasUsed, capped)
	}
	if !(adjustment >= 1 && adjustment <= 10) {
		return 0, fmt.Errorf("chain.gas_adjustment %v must be within [1, 10]", adjustment)
	}
	// adjusted is below float64(capped) ≤ 2^64 when converted: exact
	// enough, and in range.
	adjusted := math.Ceil(float64(gasUsed) * adjustment)
	if adjusted >= float64(capped) {
		return capped, nil
	}
	return uint64(adjusted), nil
}

// fee is gas × prices, rounded up per denom, refused when a denom's
// amount is over the max fee (or the denom is not in it).
func (c Caps) fee(gas uint64, prices sdk.DecCoins) (sdk.Coins, error) {
	fees := make(sdk.Coins, 0, len(prices))
	g := sdkmath.LegacyNewDecFromInt(sdkmath.NewIntFromUint64(gas))
	for _, p := range prices {
		amt := p.Amount.Mul(g).Ceil().TruncateInt()
		if amt.IsZero() {
			continue
		}
		most := c.MaxFee.AmountOf(p.Denom)
		if amt.GT(most) {
			return nil, fmt.Errorf("%w: a fee of %s%s for %d gas at %s, chain.max_fee allows %s%s", ErrOverCap,
				amt, p.Denom, gas, p, most, p.Denom)
		}
		fees = append(fees, sdk.NewCoin(p.Denom, amt))
	}
	return sdk.NewCoins(fees...), nil
}

// kindsOf names msgs' kinds for errors: "2 reveal + 1 commit".
func kindsOf(msgs []sdk.Msg) string {
	n := map[string]uint64{}
	for _, m := range msgs {
		n[msgKind(m)]++
	}
	parts := make([]string, 0, len(n))
	for _, k := range sortedKeys(n) {
		if n[k] == 1 {
			parts = append(parts, "1 "+k)
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
		}
	}
	return strings.Join(parts, " + ")
}
