package keeper_test

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// BenchmarkDueDry reads the accounts due in a block with 10 and with
// 100 000 streaming accounts in the dry queue, 5 of them due: the cost
// follows the entries due, not the accounts streaming.
//
//	go test ./x/escrow/keeper -run '^$' -bench DueDry
func BenchmarkDueDry(b *testing.B) {
	for _, n := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("streaming=%d", n), func(b *testing.B) {
			a := apptest.New(b)
			k := a.EscrowKeeper
			ctx := a.KeeperCtx()
			now := ctx.BlockTime().Unix()
			for i := range n {
				tenant := make([]byte, 20)
				binary.BigEndian.PutUint64(tenant[12:], uint64(i))
				at := now + 100_000 + int64(i) // not due
				if i < 5 {
					at = now + 1000 + int64(i) // due at the benchmark's block time
				}
				require.NoError(b, k.DryQueue.Set(ctx, collections.Join3(at, sdk.AccAddress(tenant), uint64(1))))
			}
			// Flush the writes below the context's cache and commit them with
			// the next block (nothing is due in it), so that DueDry reads a
			// committed store as in a real block.
			ctx.MultiStore().(storetypes.CacheMultiStore).Write()
			a.NextBlock()
			ctx = a.KeeperCtx().WithBlockTime(types.UnixTime(now + 1004))
			for b.Loop() {
				due, err := k.DueDry(ctx, 100)
				if err != nil || len(due) != 5 {
					b.Fatalf("DueDry: %d due, %v", len(due), err)
				}
			}
		})
	}
}
