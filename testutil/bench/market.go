package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/bench/results"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	"github.com/gpumesh/gpumesh/x/proofofcompute/client/cli"
	pockeeper "github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// marketRun drives the whole market through blocks and times each phase:
// bank send (the baseline), create-order, create-bid, accept-bid, deposit,
// withdraw, open-dispute, commit-proof and reveal-proof. Every transaction
// must succeed; the phases are timed from FinalizeBlock to Commit only
// (signing happens before).
//
// Layout: account i < T is provider i, with one node of 8 H100; account
// T+i is tenant i. In block b of a phase, tenant i creates its order b+1,
// provider i bids GPU b on it, tenant i accepts, tops the lease up, and
// provider i withdraws from it. Tenant i then disputes its first lease and
// provider i answers the challenge. No two transactions of a block touch
// the same order, lease or account, as a busy market would look.
func marketRun(t testing.TB, cfg Config, sz results.Sizes) []results.Phase {
	require.LessOrEqual(t, sz.Blocks, 8, "Blocks: each provider has 8 GPUs")
	T := sz.TxsPerBlock
	cfg.Accounts = 2 * T
	userGenesis := cfg.Genesis
	cfg.Genesis = func(cdc codec.JSONCodec, state app.GenesisState) error {
		// No capacity challenges: the proof phases use disputes, which
		// challenge exactly the GPUs they name.
		if err := app.SetChallengeSchedule(cdc, state, poctypes.DefaultEpochBlocks, math.LegacyZeroDec()); err != nil {
			return err
		}
		if userGenesis != nil {
			return userGenesis(cdc, state)
		}
		return nil
	}
	c := NewChain(t, cfg)
	ctx := c.Ctx()
	slashParams, err := c.StakingSlashKeeper.GetParams(ctx)
	require.NoError(t, err)
	marketParams, err := c.MarketKeeper.GetParams(ctx)
	require.NoError(t, err)
	pocParams, err := c.ProofOfComputeKeeper.GetParams(ctx)
	require.NoError(t, err)
	provider := func(i int) *Account { return c.Accounts[i] }
	tenant := func(i int) *Account { return c.Accounts[T+i] }
	inventory := func(i int) []providertypes.Node { return fixtures.H100x8(fmt.Sprintf("bench-%d", i)) }

	// Onboarding is setup, not measured.
	batch := func(fn func(i int) []byte) [][]byte {
		txs := make([][]byte, T)
		for i := range T {
			txs[i] = fn(i)
		}
		return txs
	}
	c.MustBlock(batch(func(i int) []byte {
		return c.Sign(i, fixtures.Register(provider(i).Address, fmt.Sprintf("p%d", i), "US-east1"))
	})...)
	c.MustBlock(batch(func(i int) []byte {
		return c.Sign(i, &providertypes.MsgSetInventory{Owner: provider(i).Address.String(), Nodes: inventory(i)})
	})...)
	c.MustBlock(batch(func(i int) []byte {
		return c.Sign(i, &stakingslashtypes.MsgBond{Provider: provider(i).Address.String(),
			Amount: sdk.NewCoin(app.BondDenom, slashParams.MinBondPerGpu.MulRaw(8))})
	})...)

	var phases []results.Phase
	// phase signs Blocks blocks of T transactions with fn(block, i), runs
	// them and records the timings.
	phase := func(name string, blocks int, fn func(b, i int) []byte) {
		t.Helper()
		signed := make([][][]byte, blocks)
		for b := range blocks {
			signed[b] = batch(func(i int) []byte { return fn(b, i) })
		}
		p := results.Phase{Name: name, Blocks: blocks}
		before := int64(0)
		if cfg.BlockSTM {
			before, err = stmExecutions()
			require.NoError(t, err)
		}
		var gas, events, writes int64
		var took time.Duration
		stop := profile(t, executorName(cfg)+"-"+name)
		for _, txs := range signed {
			res, d := c.Block(txs...)
			RequireOK(t, res)
			took += d
			if cfg.CountWrites {
				writes += int64(c.Writes())
			}
			for _, r := range res.TxResults {
				gas += r.GasUsed
				for _, e := range r.Events {
					if strings.HasPrefix(e.Type, "gpumesh.") {
						events++
					}
				}
			}
			p.Txs += len(txs)
		}
		stop()
		if cfg.BlockSTM {
			after, err := stmExecutions()
			require.NoError(t, err)
			p.Executions = after - before
			p.ExecRatio = float64(p.Executions) / float64(p.Txs)
		}
		p.Seconds = took.Seconds()
		p.TPS = float64(p.Txs) / p.Seconds
		p.GasPerTx = float64(gas) / float64(p.Txs)
		p.TypedEventsPerTx = float64(events) / float64(p.Txs)
		p.WritesPerTx = float64(writes) / float64(p.Txs)
		phases = append(phases, p)
	}

	usdc := func(n int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, math.NewInt(n)) }
	orderID := func(i, b int) markettypes.OrderID { return markettypes.NewOrderID(tenant(i).Address, uint64(b+1)) }

	phase("bank send", sz.Blocks, func(_, i int) []byte {
		return c.Sign(T+i, banktypes.NewMsgSend(tenant(i).Address, provider((i+1)%T).Address, sdk.NewCoins(usdc(1))))
	})
	phase("create-order", sz.Blocks, func(_, i int) []byte {
		return c.Sign(T+i, &markettypes.MsgCreateOrder{Tenant: tenant(i).Address.String(),
			Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1},
			MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(10_000_000), BidWindowSeconds: 3600})
	})
	phase("create-bid", sz.Blocks, func(b, i int) []byte {
		return c.Sign(i, &markettypes.MsgCreateBid{Provider: provider(i).Address.String(), OrderId: orderID(i, b),
			PricePerGpuHour: usdc(2_000_000), Gpus: []string{inventory(i)[0].Gpus[b].Uuid}, Deposit: marketParams.BidDeposit})
	})
	phase("accept-bid", sz.Blocks, func(b, i int) []byte {
		return c.Sign(T+i, &markettypes.MsgAcceptBid{Tenant: tenant(i).Address.String(), Seq: uint64(b + 1),
			Provider: provider(i).Address.String()})
	})
	phase("deposit", sz.Blocks, func(b, i int) []byte {
		return c.Sign(T+i, &escrowtypes.MsgDeposit{Sender: tenant(i).Address.String(),
			Id: escrowtypes.AccountID{Tenant: tenant(i).Address.String(), Seq: uint64(b + 1)}, Amount: usdc(1_000_000)})
	})
	phase("withdraw", sz.Blocks, func(b, i int) []byte {
		return c.Sign(i, &escrowtypes.MsgWithdraw{Provider: provider(i).Address.String(),
			LeaseIds: []escrowtypes.AccountID{{Tenant: tenant(i).Address.String(), Seq: uint64(b + 1)}}})
	})
	phase("open-dispute", 1, func(_, i int) []byte {
		return c.Sign(T+i, &poctypes.MsgOpenDispute{Tenant: tenant(i).Address.String(), LeaseId: orderID(i, 0),
			Fee: pocParams.DisputeFee})
	})

	// Each provider now has one dispute challenge on its first lease's GPU:
	// prove them all (not measured), then commit and reveal.
	challenges := make([]poctypes.Challenge, T)
	proofs := make([][]*challenge.GPUProof, T)
	for i := range T {
		challenges[i] = providerChallenge(t, c, provider(i).Address)
		proofs[i], err = cli.ProveChallenge(context.Background(), ChainID, challenges[i], 0)
		require.NoError(t, err)
	}
	phase("commit-proof", 1, func(_, i int) []byte {
		return c.Sign(i, cli.CommitMsg(challenges[i], proofs[i]))
	})
	for i := range T {
		challenges[i], err = c.ProofOfComputeKeeper.GetChallenge(c.Ctx(), challenges[i].Id)
		require.NoError(t, err)
	}
	for c.LastBlockHeight() < challenges[0].OpenHeight {
		c.MustBlock()
	}
	for i := range T {
		challenges[i], err = c.ProofOfComputeKeeper.GetChallenge(c.Ctx(), challenges[i].Id)
		require.NoError(t, err)
		require.Equal(t, poctypes.CHALLENGE_STATE_OPENED, challenges[i].State, "challenge %d", challenges[i].Id)
	}
	phase("reveal-proof", 1, func(_, i int) []byte {
		msgs, err := cli.RevealMsgs(challenges[i], pockeeper.Openings(challenges[i]), proofs[i], nil, false)
		require.NoError(t, err)
		require.Len(t, msgs, 1, "a dispute challenges the lease's one GPU")
		return c.Sign(i, msgs[0])
	})
	for i := range T {
		ch, err := c.ProofOfComputeKeeper.GetChallenge(c.Ctx(), challenges[i].Id)
		require.NoError(t, err)
		require.Equal(t, poctypes.CHALLENGE_STATE_PASSED, ch.State, "challenge %d after its reveal", ch.Id)
	}
	require.NoError(t, c.CheckInvariants(c.Ctx()))
	return phases
}

// providerChallenge returns the provider's only ISSUED challenge.
func providerChallenge(t testing.TB, c *Chain, provider sdk.AccAddress) poctypes.Challenge {
	t.Helper()
	var found []poctypes.Challenge
	err := c.ProofOfComputeKeeper.Challenges.Walk(c.Ctx(), nil, func(_ uint64, ch poctypes.Challenge) (bool, error) {
		if ch.Provider == provider.String() && ch.State == poctypes.CHALLENGE_STATE_ISSUED {
			found = append(found, ch)
		}
		return false, nil
	})
	require.NoError(t, err)
	require.Len(t, found, 1, "issued challenges of %s", provider)
	return found[0]
}

// ProfileEnv names a directory: when set, the suites write CPU profiles
// of what they measure there, for `go tool pprof`: each phase of the
// market workload (<executor>-<phase>.pprof) and each size of the
// EndBlock scaling run (endblock-<leases>.pprof).
const ProfileEnv = "GPUMESH_BENCH_PPROF"

// profile starts a CPU profile named name when ProfileEnv is set and
// returns the function that stops it.
func profile(t testing.TB, name string) func() {
	t.Helper()
	dir := os.Getenv(ProfileEnv)
	if dir == "" {
		return func() {}
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	f, err := os.Create(filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".pprof"))
	require.NoError(t, err)
	require.NoError(t, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(t, f.Close())
	}
}

// executorName names cfg's transaction executor.
func executorName(cfg Config) string {
	if cfg.BlockSTM {
		return "block-stm"
	}
	return "sequential"
}
