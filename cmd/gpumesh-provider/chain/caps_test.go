package chain

import (
	"context"
	"errors"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// A node that forges its simulation's gas_used gets no signature: at
// 7·10^10 gas (a 1,750 MESH fee at the default 0.025umesh), at
// MaxUint64 (which overflowed the conversion and panicked), and just over
// a bid's cap, the send fails naming the gas and chain.max_gas's cap, the
// key signs nothing, nothing is broadcast and the failure is counted at
// stage gas_cap.
func TestForgedSimulationGasIsNotSigned(t *testing.T) {
	kr, addr := testKey(t)
	node := startFakeNode(t, "gpumesh-test", addr)
	var mu sync.Mutex
	var stages []string
	c := dialFake(t, node, kr, func(o *Options) {
		o.OnTxFailure = func(stage, _ string) {
			mu.Lock()
			defer mu.Unlock()
			stages = append(stages, stage)
		}
	})
	bid := &markettypes.MsgCreateBid{Provider: addr.String(), OrderId: markettypes.OrderID{Tenant: addr.String(), Seq: 1},
		PricePerGpuHour: sdk.NewInt64Coin("uusdc", 1), Deposit: sdk.NewInt64Coin("umesh", 1)}
	for _, gas := range []uint64{70_000_000_000, math.MaxUint64, DefaultMaxGas[KindBid] + 1} {
		node.mu.Lock()
		node.gasUsed = gas
		node.mu.Unlock()
		_, err := c.Send(context.Background(), SendOptions{}, bid)
		require.Error(t, err, "gas_used %d", gas)
		require.True(t, errors.Is(err, ErrOverCap), "gas_used %d: %v", gas, err)
		require.ErrorContains(t, err, "uses "+uintString(gas)+" gas, chain.max_gas allows 500000")
	}
	require.Zero(t, kr.signs.Load(), "nothing was signed")
	_, broadcasts := node.snapshot()
	require.Empty(t, broadcasts)
	require.Equal(t, []string{"gas_cap", "gas_cap", "gas_cap"}, stages)
}

// A fee over chain.max_fee is refused before signing, naming the fee and
// the cap; the same gas under a higher max_fee is signed and included.
func TestFeeOverMaxFeeIsNotSigned(t *testing.T) {
	kr, addr := testKey(t)
	node := startFakeNode(t, "gpumesh-test", addr)
	node.gasUsed = 100_000 // × 1.4 = 140000 gas, 3500umesh at 0.025umesh
	go node.produce(t.Context(), 10*time.Millisecond)
	withdraw := &escrowtypes.MsgWithdraw{Provider: addr.String()}

	low := dialFake(t, node, kr, func(o *Options) { o.MaxFee = "3499umesh" })
	_, err := low.Send(context.Background(), SendOptions{}, withdraw)
	require.True(t, errors.Is(err, ErrOverCap), "%v", err)
	require.ErrorContains(t, err, "a fee of 3500umesh for 140000 gas")
	require.ErrorContains(t, err, "chain.max_fee allows 3499umesh")
	require.Zero(t, kr.signs.Load())
	require.NoError(t, low.Close())

	ok := dialFake(t, node, kr, func(o *Options) { o.MaxFee = "3500umesh" })
	res, err := ok.Send(context.Background(), SendOptions{}, withdraw)
	require.NoError(t, err)
	require.NotZero(t, res.Height)
	_, broadcasts := node.snapshot()
	require.Len(t, broadcasts, 1)
	require.Equal(t, uint64(140_000), broadcasts[0].gasLimit)
	require.Equal(t, "3500umesh", broadcasts[0].fee.String())
}

// The gas limit is the adjusted simulation, at most the sum of the
// messages' caps; a simulation over the cap is refused.
func TestGasLimit(t *testing.T) {
	caps := Caps{MaxGas: map[string]uint64{KindReveal: 1_000_000}}
	reveals := []sdk.Msg{&poctypes.MsgRevealProof{}, &poctypes.MsgRevealProof{}, &poctypes.MsgCommitProof{}}
	capped := caps.gasCap(reveals)
	require.Equal(t, 2_000_000+DefaultMaxGas[KindCommit], capped)
	require.Equal(t, "1 commit + 2 reveal", kindsOf(reveals))
	for _, tc := range []struct {
		used, want uint64
		err        string
	}{
		{used: 1_000_000, want: 1_400_000},
		{used: 1_700_000, want: capped},
		{used: capped, want: capped},
		{used: capped + 1, err: "uses 2250001 gas, chain.max_gas allows 2250000"},
		{used: math.MaxUint64, err: "uses 18446744073709551615 gas"},
	} {
		got, err := gasLimit(tc.used, 1.4, capped, kindsOf(reveals))
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			require.ErrorContains(t, err, "1 commit + 2 reveal")
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "used %d", tc.used)
	}
	_, err := gasLimit(1, math.NaN(), capped, "")
	require.ErrorContains(t, err, "chain.gas_adjustment NaN")
}

// Configured caps name an unknown kind, a zero and an oversized cap;
// Dial refuses gas prices in a denom max_fee lacks.
func TestCapsValidation(t *testing.T) {
	require.NoError(t, ValidateMaxGas(map[string]uint64{KindBid: 1}))
	require.ErrorContains(t, ValidateMaxGas(map[string]uint64{"bids": 1}), "chain.max_gas.bids: unknown message kind")
	require.ErrorContains(t, ValidateMaxGas(map[string]uint64{KindBid: 0}), "chain.max_gas.bid: 0 must be within")
	require.ErrorContains(t, ValidateMaxGas(map[string]uint64{KindBid: MaxGasLimit + 1}), "chain.max_gas.bid")
	_, _, err := parseCaps(Options{GasPrices: "0.1uatom", MaxFee: "5umesh"})
	require.ErrorContains(t, err, `chain.max_fee "5umesh" has no uatom`)
}

func uintString(v uint64) string { return strconv.FormatUint(v, 10) }
