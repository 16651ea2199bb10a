package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Hole 6: x/provider accepted challenge_m up to 64 while the challenge
// library and MsgRevealProof accept at most 16, so a class governance
// could vote in made every honest provider's reveal fail and be slashed.
// The protocol's bounds now come from one place (the challenge package)
// and every module agrees with it: the largest challenge a class may ask
// for is one every module accepts, and one step past any bound is refused
// by the first module it reaches, naming the field.
func TestProtocolBoundsAgree(t *testing.T) {
	class := providertypes.DefaultGPUClasses()[0]
	// The largest class governance may set.
	class.ChallengeN, class.ChallengeM = challenge.MaxN, challenge.MaxM
	params := providertypes.DefaultParams()
	params.GpuClasses[0] = class
	require.NoError(t, params.Validate())

	poc := poctypes.DefaultParams()
	poc.Openings = challenge.MaxK
	require.NoError(t, poc.Validate())

	// An honest reveal of that challenge has the shape the library and the
	// message both accept.
	gpu := poctypes.ChallengedGPU{Uuid: "GPU-0", N: class.ChallengeN, M: class.ChallengeM}
	p := gpu.ChallengeParams(poc.Openings)
	require.NoError(t, p.Validate())
	msg := &poctypes.MsgRevealProof{Provider: sdk.AccAddress(make([]byte, 20)).String(), ChallengeId: 1}
	for range p.M {
		msg.Roots = append(msg.Roots, make([]byte, challenge.HashSize))
	}
	for range p.K {
		o := poctypes.Opening{Leaf: make([]byte, challenge.LeafBytes)}
		for range p.Depth() {
			o.Siblings = append(o.Siblings, make([]byte, challenge.HashSize))
		}
		msg.Openings = append(msg.Openings, o)
	}
	require.NoError(t, msg.ValidateBasic())
	require.NoError(t, challenge.CheckShape(p, msg.Reveal()))
	require.Equal(t, challenge.MaxDepth, p.Depth())

	// One past each bound is refused where governance would set it.
	over := class
	over.ChallengeM = challenge.MaxM + 1
	require.ErrorContains(t, over.Validate(), "challenge_m must be in [1, 16], got 17")
	over = class
	over.ChallengeN = 2 * challenge.MaxN
	require.ErrorContains(t, over.Validate(), "challenge_n must be a power of two in [64, 65536], got 131072")
	poc.Openings = challenge.MaxK + 1
	require.ErrorContains(t, poc.Validate(), "openings must be in [1, 64], got 65")

	// A challenge names at most MaxChallengeGPUs GPUs: enough for the
	// largest node and for a dispute of the largest lease.
	require.GreaterOrEqual(t, poctypes.MaxChallengeGPUs, providertypes.MaxGPUsPerNodeLimit)
	require.GreaterOrEqual(t, poctypes.MaxChallengeGPUs, markettypes.MaxGPUsPerBid)
}
