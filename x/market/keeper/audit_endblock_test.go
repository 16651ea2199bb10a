package keeper_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"

	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Audit after the security round (issue 20): EndBlock work per block.
//
// The window-end cap counted orders (max_window_ends_per_block, 500), not
// the work an auction does: each one re-checks up to max_bids_per_order
// (20) bids of up to 32 nodes × 16 GPUs, and a bid that fails late (on a
// node requirement checked after the GPU walk) costs the whole walk. Bids
// are paid for when they are made, spread over a bid window of up to a
// day, and were all re-checked in the one EndBlock where their windows
// end. Here one provider lists 32 nodes of 16 H100s, bids all 512 GPUs on
// 90 orders that want 100 CPU cores per node, then relists its nodes with
// 64 cores (GPUs unchanged, so nothing else moves). Before the fix one
// EndBlock did more store work, in gas, than a whole block of transactions
// may (the consensus max_gas of the test app, 100 M). Safe: the auctions
// of one EndBlock re-check at most max_auction_checks_per_block GPUs (open
// bids × GPUs per order), the rest wait for the next blocks, and each
// offered node is read once per bid.
func TestAuditWindowEndWorkIsBoundedByOrdersNotWork(t *testing.T) {
	f := newMarket(t)
	const nodesN, perNode, orders = 32, 16, 90
	nodes := make([]providertypes.Node, nodesN)
	for i := range nodes {
		nodes[i] = fixtures.Node(fmt.Sprintf("n%02d", i), fixtures.GPUs("audit-window", fixtures.H100SXM, i*perNode, perNode)...)
	}
	f.onboard(f.p1, "US-east1", nodes)
	all := f.gpusOf(f.p1, 0, nodesN*perNode)

	var bidGas uint64
	for range orders {
		id := f.order(f.tenant, func(m *types.MsgCreateOrder) {
			m.Spec = types.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: perNode, Nodes: nodesN, CpuCoresPerNode: 100}
			m.Deposit.Amount = m.MaxPricePerGpuHour.Amount.MulRaw(nodesN * perNode) // an hour of all GPUs
		})
		ctx := f.ctx
		f.ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
		f.mustBid(f.p1, id, 2_000_000, all)
		bidGas += f.ctx.GasMeter().GasConsumed()
		f.ctx = ctx
	}
	// Same GPUs, fewer cores: every bid now fails after its GPU walk.
	for i := range nodes {
		nodes[i].CpuCores = 64
	}
	_, err := f.providerMsgs.SetInventory(f.ctx, &providertypes.MsgSetInventory{Owner: f.p1.String(), Nodes: nodes})
	require.NoError(t, err)

	f.advance(61)
	maxGas := uint64(simtestutil.DefaultConsensusParams.Block.MaxGas) //nolint:gosec // positive
	for block := 1; int(f.counters().OrdersExpired) < orders; block++ {
		require.LessOrEqual(t, block, 3, "90 auctions of 512 GPU checks each fit in three blocks")
		ctx := f.ctx
		f.ctx = ctx.WithGasMeter(storetypes.NewInfiniteGasMeter())
		start := time.Now()
		before := f.counters().OrdersExpired
		f.endBlock()
		elapsed := time.Since(start)
		endGas := f.ctx.GasMeter().GasConsumed()
		f.ctx = ctx
		t.Logf("block %d: %d window ends, EndBlock store gas %d (%s here); a block may use %d",
			block, f.counters().OrdersExpired-before, endGas, elapsed, maxGas)
		require.LessOrEqual(t, endGas, maxGas, "one EndBlock's window ends stay within a block's gas")
		f.advance(5)
	}
	t.Logf("the %d bids cost %d gas when made", orders, bidGas)
	require.Equal(t, orders, int(f.counters().OrdersExpired), "every auction found no valid bid")
}
