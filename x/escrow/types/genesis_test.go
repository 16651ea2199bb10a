package types_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// validGenesis holds an open, a streaming and a closed account (closed
// after streaming), a bid deposit and matching totals.
func validGenesis() types.GenesisState {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ints := math.NewInt
	open := types.Account{
		Id: id(1, 1), Denom: "umesh", State: types.ACCOUNT_STATE_OPEN,
		Deposited: ints(1000), Paid: ints(0), Refunded: ints(0), Balance: ints(1000), Fees: ints(0),
		PricePerGpuHour: ints(0), CreatedAt: start,
	}
	// 1000 per second, 1 hour settled of 5 funded.
	streaming := types.Account{
		Id: id(1, 2), Denom: "uusdc", State: types.ACCOUNT_STATE_STREAMING,
		Deposited: ints(18_000_000), Paid: ints(3_600_000), Refunded: ints(0), Balance: ints(14_400_000), Fees: ints(369_000),
		Provider: testAddr(2), PricePerGpuHour: ints(1_800_000), Gpus: 2,
		StreamStart: start, SettledAt: start.Add(time.Hour), RunsDryAt: start.Add(5 * time.Hour), CreatedAt: start,
	}
	closed := types.Account{
		Id: id(3, 1), Denom: "uusdc", State: types.ACCOUNT_STATE_CLOSED,
		Deposited: ints(100), Paid: ints(10), Refunded: ints(90), Balance: ints(0), Fees: ints(1),
		Provider: testAddr(2), PricePerGpuHour: ints(3600), Gpus: 1,
		StreamStart: start, SettledAt: start.Add(10 * time.Second), StreamEnd: start.Add(10 * time.Second),
		CreatedAt: start, ClosedAt: start.Add(20 * time.Second),
	}
	return types.GenesisState{
		Params:      types.DefaultParams(),
		Accounts:    []types.Account{open, streaming, closed},
		BidDeposits: []types.BidDeposit{{OrderId: id(1, 1), Provider: testAddr(2), Amount: sdk.NewCoin("umesh", ints(5))}},
		Totals: []types.DenomTotals{{
			Denom: "uusdc", Settled: ints(3_600_010), TakeFees: ints(360_001), ReserveFees: ints(9000),
			Refunded: ints(90), GpuSeconds: 7210,
		}},
	}
}

func TestGenesisValidate(t *testing.T) {
	require.NoError(t, types.DefaultGenesis().Validate())
	for _, tc := range []struct {
		name   string
		mutate func(*types.GenesisState)
		want   string // substring naming the index, field and value; "" = valid
	}{
		{"valid", func(*types.GenesisState) {}, ""},
		{"a denom no longer allowed", func(gs *types.GenesisState) {
			gs.Accounts[0].Denom = "uatom"
		}, ""},
		{"bad params", func(gs *types.GenesisState) { gs.Params.ReserveRate = math.LegacyOneDec() }, "params: reserve_rate 1"},
		{"bad account id", func(gs *types.GenesisState) { gs.Accounts[1].Id.Seq = 0 }, "accounts[1].id: seq must be at least 1"},
		{"bad denom", func(gs *types.GenesisState) { gs.Accounts[0].Denom = "!" }, `accounts[0].denom "!"`},
		{"no state", func(gs *types.GenesisState) { gs.Accounts[0].State = types.ACCOUNT_STATE_UNSPECIFIED }, "accounts[0].state ACCOUNT_STATE_UNSPECIFIED"},
		{"negative balance", func(gs *types.GenesisState) { gs.Accounts[0].Balance = math.NewInt(-1) }, "accounts[0].balance must be >= 0, got -1"},
		{"nil fees", func(gs *types.GenesisState) { gs.Accounts[2].Fees = math.Int{} }, "accounts[2].fees must be >= 0, got nil"},
		{"books do not balance", func(gs *types.GenesisState) { gs.Accounts[1].Balance = math.NewInt(14_400_001) },
			"accounts[1].balance: deposited 18000000 != paid 3600000 + refunded 0 + balance 14400001"},
		{"fees above paid", func(gs *types.GenesisState) { gs.Accounts[2].Fees = math.NewInt(11) }, "accounts[2].fees 11: more than paid 10"},
		{"closed with a balance", func(gs *types.GenesisState) {
			gs.Accounts[2].Balance, gs.Accounts[2].Refunded = math.NewInt(1), math.NewInt(89)
		}, "accounts[2].balance 1: a closed account holds nothing"},
		{"open with a provider", func(gs *types.GenesisState) { gs.Accounts[0].Provider = testAddr(2) }, "accounts[0].state: an open account"},
		{"streaming without provider", func(gs *types.GenesisState) { gs.Accounts[1].Provider = "" }, "accounts[1].provider: a streaming account needs a provider"},
		{"streaming with a refund", func(gs *types.GenesisState) {
			gs.Accounts[1].Refunded, gs.Accounts[1].Balance = math.NewInt(1), math.NewInt(14_399_999)
		}, "accounts[1].refunded 1"},
		{"bad provider", func(gs *types.GenesisState) { gs.Accounts[1].Provider = "mesh1x" }, `accounts[1].provider "mesh1x"`},
		{"zero price", func(gs *types.GenesisState) { gs.Accounts[1].PricePerGpuHour = math.ZeroInt() }, "accounts[1].price_per_gpu_hour must be > 0, got 0"},
		{"zero gpus", func(gs *types.GenesisState) { gs.Accounts[1].Gpus = 0 }, "accounts[1].gpus must be > 0"},
		{"no stream start", func(gs *types.GenesisState) { gs.Accounts[1].StreamStart = time.Time{} }, "accounts[1].stream_start"},
		{"settled before start", func(gs *types.GenesisState) {
			gs.Accounts[1].SettledAt = gs.Accounts[1].StreamStart.Add(-time.Second)
		}, "accounts[1].settled_at"},
		{"settled after the stream end", func(gs *types.GenesisState) {
			gs.Accounts[2].SettledAt = gs.Accounts[2].SettledAt.Add(time.Second)
		}, "accounts[2].settled_at 2026-01-01 00:00:11 +0000 UTC: after stream_end"},
		{"stream end at start", func(gs *types.GenesisState) { gs.Accounts[2].StreamEnd = gs.Accounts[2].StreamStart }, "accounts[2].stream_end"},
		{"paid off by one", func(gs *types.GenesisState) {
			gs.Accounts[1].Paid, gs.Accounts[1].Balance = math.NewInt(3_599_999), math.NewInt(14_400_001)
			gs.Totals[0].Settled = math.NewInt(3_600_009)
		}, "accounts[1].paid 3599999: must be min(owed at settled_at, deposited) = 3600000"},
		{"wrong runs_dry_at", func(gs *types.GenesisState) {
			gs.Accounts[1].RunsDryAt = gs.Accounts[1].RunsDryAt.Add(time.Second)
		}, "accounts[1].runs_dry_at 2026-01-01 05:00:01 +0000 UTC: must be 2026-01-01 05:00:00 +0000 UTC"},
		{"duplicate account", func(gs *types.GenesisState) { gs.Accounts = append(gs.Accounts, gs.Accounts[0]) }, "accounts[3].id " + id(1, 1).String() + ": duplicate account"},
		{"bad bid deposit order", func(gs *types.GenesisState) { gs.BidDeposits[0].OrderId.Tenant = "t" }, "bid_deposits[0].order_id"},
		{"bad bid deposit provider", func(gs *types.GenesisState) { gs.BidDeposits[0].Provider = "p" }, `bid_deposits[0].provider "p"`},
		{"zero bid deposit", func(gs *types.GenesisState) { gs.BidDeposits[0].Amount.Amount = math.ZeroInt() }, "bid_deposits[0].amount must be positive"},
		{"duplicate bid deposit", func(gs *types.GenesisState) { gs.BidDeposits = append(gs.BidDeposits, gs.BidDeposits[0]) }, "bid_deposits[1]: duplicate deposit"},
		{"bad totals denom", func(gs *types.GenesisState) { gs.Totals[0].Denom = "" }, `totals[0].denom ""`},
		{"duplicate totals", func(gs *types.GenesisState) { gs.Totals = append(gs.Totals, gs.Totals[0]) }, `totals[1].denom "uusdc": duplicate denom`},
		{"negative totals", func(gs *types.GenesisState) { gs.Totals[0].Refunded = math.NewInt(-1) }, "totals[0].refunded must be >= 0, got -1"},
		{"totals do not match", func(gs *types.GenesisState) { gs.Totals[0].TakeFees = math.NewInt(1) }, "totals[0] (uusdc): settled 3600010, fees 1 + 9000"},
		{"totals missing", func(gs *types.GenesisState) { gs.Totals = nil }, "totals: no entry for uusdc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs := validGenesis()
			tc.mutate(&gs)
			err := gs.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, types.ErrInvalidGenesis)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
