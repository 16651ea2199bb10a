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
	pockeeper "github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/prove"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// marketRun drives the whole market through blocks and times each phase:
// bank send (the baseline), create-order, create-bid, accept-bid, deposit,
// withdraw, open-dispute, commit-proof and reveal-proof. Every transaction
// must succeed; blocks are timed from FinalizeBlock to Commit only
// (signing happens before).
//
// Layout: account i < T is provider i, with one node of 8 H100; account
// T+i is tenant i. The phases run in sz.Blocks rounds of one block each.
// In round b, tenant i creates its order b+1, provider i bids GPU b on it,
// tenant i accepts, tops the lease up, provider i withdraws from it, tenant
// i disputes the lease and provider i commits and reveals the challenged
// GPU's proof. No two transactions of a block touch the same order, lease
// or account, as a busy market would look.
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

	// The phases run in rounds: round b runs one block of every phase in
	// turn, so that each message type is timed across the same stretch of
	// the run as bank send, and a burst of load from elsewhere on a shared
	// machine slows one block of each rather than a whole phase.
	phases := map[string]*phaseRun{}
	var names []string
	// block signs T transactions with fn(i), runs them as one block of the
	// named phase and records it.
	block := func(name string, fn func(i int) []byte) {
		t.Helper()
		r := phases[name]
		if r == nil {
			r = &phaseRun{Phase: results.Phase{Name: name}}
			phases[name] = r
			names = append(names, name)
		}
		txs := batch(fn)
		before := int64(0)
		if cfg.BlockSTM {
			before, err = stmExecutions()
			require.NoError(t, err)
		}
		stop := profile(t, fmt.Sprintf("%s-%s-%d", executorName(cfg), name, r.Blocks))
		res, d := c.Block(txs...)
		stop()
		RequireOK(t, res)
		if cfg.BlockSTM {
			after, err := stmExecutions()
			require.NoError(t, err)
			r.Executions += after - before
		}
		if cfg.CountWrites {
			r.writes += int64(c.Writes())
		}
		for _, tx := range res.TxResults {
			r.gas += tx.GasUsed
			for _, e := range tx.Events {
				if strings.HasPrefix(e.Type, "gpumesh.") {
					r.events++
				}
			}
		}
		r.Txs += len(txs)
		r.Blocks++
		r.durs = append(r.durs, d)
	}

	usdc := func(n int64) sdk.Coin { return sdk.NewCoin(app.StableDenom, math.NewInt(n)) }
	orderID := func(i, b int) markettypes.OrderID { return markettypes.NewOrderID(tenant(i).Address, uint64(b+1)) }

	for b := range sz.Blocks {
		block("bank send", func(i int) []byte {
			return c.Sign(T+i, banktypes.NewMsgSend(tenant(i).Address, provider((i+1)%T).Address, sdk.NewCoins(usdc(1))))
		})
		block("create-order", func(i int) []byte {
			return c.Sign(T+i, &markettypes.MsgCreateOrder{Tenant: tenant(i).Address.String(),
				Spec:               markettypes.ResourceSpec{GpuClasses: []string{"h100"}, GpusPerNode: 1, Nodes: 1},
				MaxPricePerGpuHour: usdc(2_500_000), Deposit: usdc(10_000_000), BidWindowSeconds: 3600})
		})
		block("create-bid", func(i int) []byte {
			return c.Sign(i, &markettypes.MsgCreateBid{Provider: provider(i).Address.String(), OrderId: orderID(i, b),
				PricePerGpuHour: usdc(2_000_000), Gpus: []string{inventory(i)[0].Gpus[b].Uuid}, Deposit: marketParams.BidDeposit})
		})
		block("accept-bid", func(i int) []byte {
			return c.Sign(T+i, &markettypes.MsgAcceptBid{Tenant: tenant(i).Address.String(), Seq: uint64(b + 1),
				Provider: provider(i).Address.String()})
		})
		block("deposit", func(i int) []byte {
			return c.Sign(T+i, &escrowtypes.MsgDeposit{Sender: tenant(i).Address.String(),
				Id: escrowtypes.AccountID{Tenant: tenant(i).Address.String(), Seq: uint64(b + 1)}, Amount: usdc(1_000_000)})
		})
		block("withdraw", func(i int) []byte {
			return c.Sign(i, &escrowtypes.MsgWithdraw{Provider: provider(i).Address.String(),
				LeaseIds: []escrowtypes.AccountID{{Tenant: tenant(i).Address.String(), Seq: uint64(b + 1)}}})
		})
		// Each tenant disputes the lease of this round, which challenges
		// its one GPU; the provider proves it (not measured), commits,
		// and reveals once the opening height is reached.
		block("open-dispute", func(i int) []byte {
			return c.Sign(T+i, &poctypes.MsgOpenDispute{Tenant: tenant(i).Address.String(), LeaseId: orderID(i, b),
				Fee: pocParams.DisputeFee})
		})
		challenges := make([]poctypes.Challenge, T)
		proofs := make([][]*challenge.GPUProof, T)
		for i := range T {
			challenges[i] = providerChallenge(t, c, provider(i).Address)
			proofs[i], err = prove.Challenge(context.Background(), ChainID, challenges[i], 0)
			require.NoError(t, err)
		}
		block("commit-proof", func(i int) []byte {
			return c.Sign(i, prove.CommitMsg(challenges[i], proofs[i]))
		})
		for i := range T {
			challenges[i], err = c.ProofOfComputeKeeper.GetChallenge(c.Ctx(), challenges[i].Id)
			require.NoError(t, err)
		}
		for c.LastBlockHeight() < challenges[0].OpenedHeight() {
			c.MustBlock()
		}
		for i := range T {
			challenges[i], err = c.ProofOfComputeKeeper.GetChallenge(c.Ctx(), challenges[i].Id)
			require.NoError(t, err)
			require.Equal(t, poctypes.CHALLENGE_STATE_OPENED, challenges[i].State, "challenge %d", challenges[i].Id)
		}
		block("reveal-proof", func(i int) []byte {
			msgs, err := prove.RevealMsgs(challenges[i], pockeeper.Openings(challenges[i]), proofs[i], nil)
			require.NoError(t, err)
			require.Len(t, msgs, 1, "a dispute challenges the lease's one GPU")
			return c.Sign(i, msgs[0])
		})
		for i := range T {
			ch, err := c.ProofOfComputeKeeper.GetChallenge(c.Ctx(), challenges[i].Id)
			require.NoError(t, err)
			require.Equal(t, poctypes.CHALLENGE_STATE_PASSED, ch.State, "challenge %d after its reveal", ch.Id)
		}
	}
	require.NoError(t, c.CheckInvariants(c.Ctx()))
	out := make([]results.Phase, len(names))
	for n, name := range names {
		out[n] = phases[name].finish()
	}
	return out
}

// phaseRun accumulates one phase's blocks across the rounds.
type phaseRun struct {
	results.Phase
	gas, events, writes int64
	durs                []time.Duration
}

// finish derives the phase's rates from its blocks. TPS is a block's
// transactions over the median block time, so that one block slowed by
// something else on the machine does not move it.
func (r *phaseRun) finish() results.Phase {
	p := r.Phase
	for _, d := range r.durs {
		p.BlockSeconds = append(p.BlockSeconds, d.Seconds())
		p.Seconds += d.Seconds()
	}
	p.TPS = float64(p.Txs) / float64(p.Blocks) / median(r.durs).Seconds()
	p.GasPerTx = float64(r.gas) / float64(p.Txs)
	p.TypedEventsPerTx = float64(r.events) / float64(p.Txs)
	p.WritesPerTx = float64(r.writes) / float64(p.Txs)
	if p.Executions > 0 {
		p.ExecRatio = float64(p.Executions) / float64(p.Txs)
	}
	return p
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
// market workload (<executor>-<phase>-<round>.pprof) and each size of the
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
