package proofcost

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/testutil/bench"
	"github.com/gpumesh/gpumesh/testutil/bench/results"
	"github.com/gpumesh/gpumesh/testutil/fixtures"
	"github.com/gpumesh/gpumesh/x/proofofcompute/challenge"
	pockeeper "github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	"github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// sizes are what one mode measures.
type sizes struct {
	verifyN []uint32
	verifyK []uint32
	// m is the products per GPU of the verification points.
	m uint32
	// Each timing repeats until it has minRuns runs and minTime of timed
	// work, and stops at maxRuns.
	minRuns, maxRuns int
	minTime          time.Duration
	gemmN            uint32
	gemmRuns         int
}

// The smoke run adds k = 8 to k = 4 only to check that gas grows with k.
var (
	quickSizes = sizes{
		verifyN: []uint32{256}, verifyK: []uint32{4, 8}, m: 2,
		minRuns: 1, maxRuns: 1, gemmN: 256, gemmRuns: 1,
	}
	fullSizes = sizes{
		verifyN: []uint32{4096, 16384, 65536}, verifyK: []uint32{16, 32}, m: 2,
		minRuns: 9, maxRuns: 1000, minTime: 500 * time.Millisecond, gemmN: 1024, gemmRuns: 3,
	}
)

// Limits for measuring the production profile's proof.
const (
	productionMaxTime  = 60 * time.Second
	productionMaxTrees = 2 << 30 // bytes of Merkle trees Prove keeps
)

// verifyDescriptor is the gas descriptor of keeper.Reveal's verification
// charge.
const verifyDescriptor = "proof-of-compute verification"

// TestProofCosts measures the on-chain verification of a GPU's reveal and
// the CPU prover; see the package comment.
func TestProofCosts(t *testing.T) {
	sz := quickSizes
	if bench.Full() {
		sz = fullSizes
	}
	start := time.Now()
	e := newEnv(t)
	setup := time.Since(start)

	res := results.Proofs{CUDA: results.CUDA{Measured: false, Reason: "no NVIDIA GPU on the benchmark machine"}}
	kmax := slices.Max(sz.verifyK)
	rng := rand.NewChaCha8([32]byte{'p', 'r', 'o', 'o', 'f', 'c', 'o', 's', 't'})
	for ni, n := range sz.verifyN {
		built := time.Now()
		r := e.buildReveal(challenge.Params{N: n, M: sz.m, K: kmax}, rng, false)
		t.Logf("n=%d: built a %d-opening reveal in %s", n, kmax, time.Since(built).Round(time.Millisecond))
		var prev results.VerifyPoint
		for ki, k := range sz.verifyK {
			v := e.measureVerify(t, r, k, sz)
			t.Logf("n=%-6d m=%d k=%-3d gas %8d (verification %8d, state %6d)  handler %8.3f ms  library %8.3f ms  %7.1f µs/opening  %6d B  (%d runs)",
				v.N, v.M, v.K, v.Gas, v.GasVerification, v.GasState, v.VerifyMs, v.LibraryVerifyMs, v.PerOpeningUs, v.RevealBytes, v.Runs)
			require.Positive(t, v.Gas)
			require.Positive(t, v.GasVerification, "no %q charge: has keeper.Reveal's gas descriptor changed?", verifyDescriptor)
			if ki > 0 {
				require.Greater(t, v.Gas, prev.Gas, "n=%d: gas must grow with k (%d → %d)", n, prev.K, k)
			}
			prev = v
			res.Verify = append(res.Verify, v)
		}
		if ni == 0 {
			res.LastGPU = e.measureLastGPU(t, r, sz.verifyK[0], res.Verify[0].Gas)
			e.requireRejected(t, r, kmax, rng)
		}
	}

	res.Prover = measureProver(t, sz)
	res.Notes = notes(e, sz, res, setup)
	for _, n := range res.Notes {
		t.Log(n)
	}
	bench.WriteResult(t, "proofs.json", res)
}

// env is an app with a real OPENED challenge of an 8-GPU node.
type env struct {
	a         *apptest.App
	c         types.Challenge
	provider  apptest.Account
	key       [2]uint32
	openSeeds [][32]byte
	server    types.MsgServer
	// txSizeCost is auth's gas per transaction byte.
	txSizeCost uint64
}

// epochBlocks is the test schedule: 20-block epochs in which every idle
// node is challenged.
const epochBlocks = 20

// newEnv gets a challenge the way the chain makes one: provider1 registers,
// lists one 8×H100 node and bonds by signed transactions; the epoch
// schedule challenges the node; the provider commits placeholder
// commitments by the deadline; and the opening height fixes the chain's
// open seed. Each measurement then replaces GPU 0's sizes and commitment
// (newCtx).
func newEnv(t *testing.T) *env {
	t.Helper()
	a := apptest.New(t, apptest.WithGenesis(func(cdc codec.JSONCodec, state app.GenesisState) error {
		return app.SetChallengeSchedule(cdc, state, epochBlocks, math.LegacyOneDec())
	}))
	p := a.Account("provider1")
	deliver := func(msg sdk.Msg) {
		t.Helper()
		res := a.DeliverTx(p, msg)
		require.Equal(t, uint32(0), res.Code, res.Log)
	}
	inv := fixtures.H100x8("proofcost")
	deliver(fixtures.Register(p.Address, "provider1", "US-east1"))
	deliver(&providertypes.MsgSetInventory{Owner: p.Address.String(), Nodes: inv})
	ssParams, err := a.StakingSlashKeeper.GetParams(a.Ctx())
	require.NoError(t, err)
	deliver(&stakingslashtypes.MsgBond{Provider: p.Address.String(),
		Amount: sdk.NewCoin(app.BondDenom, ssParams.MinBondPerGpu.MulRaw(int64(len(inv[0].Gpus))))})

	k := a.ProofOfComputeKeeper
	var c types.Challenge
	for i := 0; c.Id == 0; i++ {
		require.Less(t, i, 2*epochBlocks+2, "no challenge issued to provider1 within two epochs")
		err := k.Challenges.Walk(a.Ctx(), nil, func(_ uint64, ch types.Challenge) (bool, error) {
			if ch.Provider == p.Address.String() && ch.State == types.CHALLENGE_STATE_ISSUED {
				c = ch
				return true, nil
			}
			return false, nil
		})
		require.NoError(t, err)
		if c.Id == 0 {
			a.NextBlock()
		}
	}
	require.Len(t, c.Gpus, 8)
	commit := &types.MsgCommitProof{Provider: c.Provider, ChallengeId: c.Id}
	for g := range c.Gpus {
		h := sha256.Sum256(fmt.Appendf(nil, "placeholder %d", g))
		commit.Commitments = append(commit.Commitments, h[:])
	}
	deliver(commit)
	for a.LastBlockHeight() < c.OpenedHeight() {
		a.NextBlock()
	}
	c, err = k.GetChallenge(a.Ctx(), c.Id)
	require.NoError(t, err)
	require.Equal(t, types.CHALLENGE_STATE_OPENED, c.State)
	require.Len(t, c.OpenSeeds, int(c.OpeningBlocks))

	e := &env{a: a, c: c, provider: p, server: pockeeper.NewMsgServerImpl(k)}
	e.key, err = c.GPUKey(apptest.ChainID, 0)
	require.NoError(t, err)
	e.openSeeds = pockeeper.OpenSeeds(c)
	e.txSizeCost = a.AccountKeeper.GetParams(a.Ctx()).TxSizeCostPerByte
	return e
}

// newCtx returns a context of the block after the opening height, over a
// private cache of the committed state, in which GPU 0 of the challenge has
// params p (k as the challenge's openings) and commitment cm; with
// lastGPU the other seven GPUs are marked revealed, so that this reveal
// resolves the challenge. The challenge is written directly into the
// keeper's Challenges collection: this is a benchmark of verification, not
// of scheduling, and the chain has no message that sets a GPU's n or a
// challenge's k. The context's gas meter is fresh, and records what each
// descriptor consumed.
func (e *env) newCtx(t *testing.T, p challenge.Params, cm [32]byte, lastGPU bool) (sdk.Context, *recordingMeter) {
	t.Helper()
	ctx := e.a.KeeperCtx()
	c := e.c
	c.Openings = p.K
	c.Gpus = slices.Clone(e.c.Gpus)
	c.Gpus[0].N, c.Gpus[0].M, c.Gpus[0].Commitment = p.N, p.M, cm[:]
	if lastGPU {
		for g := 1; g < len(c.Gpus); g++ {
			c.Gpus[g].Revealed = true
		}
	}
	require.NoError(t, e.a.ProofOfComputeKeeper.Challenges.Set(ctx, c.Id, c))
	meter := &recordingMeter{GasMeter: storetypes.NewInfiniteGasMeter(), by: map[string]uint64{}}
	return ctx.WithGasMeter(meter), meter
}

// recordingMeter is a gas meter that also sums the gas per descriptor.
type recordingMeter struct {
	storetypes.GasMeter
	by map[string]uint64
}

func (m *recordingMeter) ConsumeGas(amount storetypes.Gas, descriptor string) {
	m.GasMeter.ConsumeGas(amount, descriptor)
	m.by[descriptor] += amount
}

// gpuReveal is a valid reveal of GPU 0 with kmax openings; its first k
// are the valid reveal for k openings (the chain's opening t does not
// depend on k), under the same roots.
type gpuReveal struct {
	p          challenge.Params
	idx        []challenge.Index
	roots      [][32]byte
	commitment [32]byte
	openings   []challenge.Opening
}

// buildReveal builds GPU 0's reveal at params p for the entries the chain
// derives from the challenge's open seed, without computing the products:
// it generalises the challenge package's singleOpening to k openings over
// m products. Each opened leaf is true (its 16 entries recomputed from the
// seed); per product, the opened leaves and random siblings make a sparse
// Merkle tree in which a sibling is random unless it lies on another
// opening's path, so every path reaches the same root; a product that no
// opening falls in gets a random root; the commitment hashes the m roots.
// The cost is 17·n/16 Philox calls and 16·n multiply-adds per opening.
// With lie, opening 0's entry is one too high before hashing: its path is
// consistent and only the entry check can catch it.
func (e *env) buildReveal(p challenge.Params, rng *rand.ChaCha8, lie bool) gpuReveal {
	idx := challenge.Openings(e.openSeeds, 0, p)
	leaves := make([]map[uint64][]byte, p.M)
	for b := range leaves {
		leaves[b] = map[uint64][]byte{}
	}
	for t, x := range idx {
		l := challenge.LeafIndex(p.N, x.I, x.J)
		if _, ok := leaves[x.B][l]; ok {
			continue
		}
		leaves[x.B][l] = trueLeaf(e.key, p.N, x, lie && t == 0)
	}
	r := gpuReveal{p: p, idx: idx, roots: make([][32]byte, p.M)}
	trees := make([]sparseTree, p.M)
	for b := range leaves {
		if len(leaves[b]) == 0 {
			_, _ = rng.Read(r.roots[b][:])
			continue
		}
		trees[b] = newSparseTree(p.Depth(), leaves[b], rng)
		r.roots[b] = trees[b].root()
	}
	r.commitment = challenge.Commitment(r.roots)
	for _, x := range idx {
		l := challenge.LeafIndex(p.N, x.I, x.J)
		r.openings = append(r.openings, challenge.Opening{Leaf: leaves[x.B][l], Siblings: trees[x.B].path(l)})
	}
	return r
}

// trueLeaf is the leaf holding C[b][i][j]: entries j0 … j0+15 of row i,
// j0 = 16·⌊j/16⌋, each a dot product of row i of A[b] with a row of B[b]
// generated from the seed's key. With lie, entry j is one too high.
func trueLeaf(key [2]uint32, n uint32, x challenge.Index, lie bool) []byte {
	a := make([]int8, n)
	row := make([]int8, n)
	challenge.GenRow(key, x.B, challenge.TagA, x.I, a)
	leaf := make([]byte, challenge.LeafBytes)
	j0 := x.J / challenge.LeafEntries * challenge.LeafEntries
	for e := uint32(0); e < challenge.LeafEntries; e++ {
		challenge.GenRow(key, x.B, challenge.TagB, j0+e, row)
		var s int32
		for l, v := range a {
			s += int32(v) * int32(row[l])
		}
		if lie && j0+e == x.J {
			s++
		}
		binary.LittleEndian.PutUint32(leaf[4*e:], uint32(s))
	}
	return leaf
}

// sparseTree holds, per level (0 = leaves), the nodes of a perfect Merkle
// tree that the opened leaves' paths need.
type sparseTree struct {
	levels []map[uint64][32]byte
}

// newSparseTree climbs from the opened leaves to the root: at each level a
// node's sibling is the computed node when it is on another path, random
// otherwise; parents are hashed from their two children.
func newSparseTree(depth int, leaves map[uint64][]byte, rng *rand.ChaCha8) sparseTree {
	st := sparseTree{levels: make([]map[uint64][32]byte, depth+1)}
	st.levels[0] = make(map[uint64][32]byte, len(leaves))
	for l, leaf := range leaves {
		st.levels[0][l] = challenge.HashLeaf(leaf)
	}
	for d := 0; d < depth; d++ {
		level := st.levels[d]
		// Sorted, so that the random siblings are the same on every run.
		onPath := slices.Sorted(maps.Keys(level))
		for _, x := range onPath {
			if _, ok := level[x^1]; !ok {
				var h [32]byte
				_, _ = rng.Read(h[:])
				level[x^1] = h
			}
		}
		up := make(map[uint64][32]byte, len(onPath))
		for _, x := range onPath {
			up[x>>1] = challenge.HashNode(level[x&^1], level[x|1])
		}
		st.levels[d+1] = up
	}
	return st
}

func (st sparseTree) root() [32]byte { return st.levels[len(st.levels)-1][0] }

// path returns leaf l's siblings, leaf level first.
func (st sparseTree) path(l uint64) [][]byte {
	out := make([][]byte, len(st.levels)-1)
	for d := range out {
		s := st.levels[d][(l>>uint(d))^1]
		out[d] = s[:]
	}
	return out
}

// msg is the MsgRevealProof of GPU 0 with the first k openings.
func (r gpuReveal) msg(c types.Challenge, k uint32) *types.MsgRevealProof {
	m := &types.MsgRevealProof{Provider: c.Provider, ChallengeId: c.Id, GpuIndex: 0}
	for _, root := range r.roots {
		m.Roots = append(m.Roots, bytes.Clone(root[:]))
	}
	for _, o := range r.openings[:k] {
		m.Openings = append(m.Openings, types.Opening{Leaf: o.Leaf, Siblings: o.Siblings})
	}
	return m
}

// measureVerify times the msg server's RevealProof of GPU 0 with the first
// k openings of r, each run on a fresh context and gas meter, and then
// challenge.VerifyReveal alone.
func (e *env) measureVerify(t *testing.T, r gpuReveal, k uint32, sz sizes) results.VerifyPoint {
	t.Helper()
	p := r.p
	p.K = k
	require.Equal(t, challenge.Openings(e.openSeeds, 0, p), r.idx[:k], "the chain's first k openings")
	msg := r.msg(e.c, k)
	v := results.VerifyPoint{N: int(p.N), M: int(p.M), K: int(k), RevealBytes: msg.Size()}
	v.TxBytes = len(e.a.SignTx(e.provider, msg))
	v.TxBytesGas = uint64(v.TxBytes) * e.txSizeCost

	var gas uint64
	handler := repeat(sz, func(run int) time.Duration {
		ctx, meter := e.newCtx(t, p, r.commitment, false)
		start := time.Now()
		resp, err := e.server.RevealProof(ctx, msg)
		d := time.Since(start)
		require.NoError(t, err)
		require.True(t, resp.Correct, "n=%d k=%d: a valid reveal must verify", p.N, k)
		require.Equal(t, types.CHALLENGE_STATE_OPENED, resp.State, "GPU 0 of 8 does not resolve the challenge")
		if run == 0 {
			gas = meter.GasConsumed()
			v.GasVerification = meter.by[verifyDescriptor]
		} else {
			require.Equal(t, gas, meter.GasConsumed(), "gas must not change between runs")
		}
		return d
	})
	v.Gas, v.GasState, v.Runs = gas, gas-v.GasVerification, len(handler)
	v.VerifyMs = ms(median(handler))
	v.PerOpeningUs = float64(median(handler).Nanoseconds()) / 1e3 / float64(k)

	rev := challenge.Reveal{Roots: msg.Roots}
	for _, o := range msg.Openings {
		rev.Openings = append(rev.Openings, challenge.Opening{Leaf: o.Leaf, Siblings: o.Siblings})
	}
	library := repeat(sz, func(int) time.Duration {
		start := time.Now()
		err := challenge.VerifyReveal(e.key, p, r.commitment[:], r.idx[:k], rev)
		d := time.Since(start)
		require.NoError(t, err)
		return d
	})
	v.LibraryVerifyMs = ms(median(library))
	return v
}

// measureLastGPU is the gas of GPU 0's reveal when the other seven are
// already revealed: it also passes the challenge.
func (e *env) measureLastGPU(t *testing.T, r gpuReveal, k uint32, firstGas uint64) results.LastGPU {
	t.Helper()
	p := r.p
	p.K = k
	ctx, meter := e.newCtx(t, p, r.commitment, true)
	resp, err := e.server.RevealProof(ctx, r.msg(e.c, k))
	require.NoError(t, err)
	require.True(t, resp.Correct)
	require.Equal(t, types.CHALLENGE_STATE_PASSED, resp.State)
	require.Greater(t, meter.GasConsumed(), firstGas, "resolving the challenge costs gas")
	return results.LastGPU{N: int(p.N), M: int(p.M), K: int(k), Gas: meter.GasConsumed(), ExtraGas: meter.GasConsumed() - firstGas}
}

// requireRejected checks that the harness cannot pass a wrong proof: a
// flipped byte in an opened leaf breaks its path, and a wrong entry under
// consistent paths fails the entry check. Either fails the challenge.
func (e *env) requireRejected(t *testing.T, r gpuReveal, k uint32, rng *rand.ChaCha8) {
	t.Helper()
	p := r.p
	p.K = k
	flipped := r.msg(e.c, k)
	flipped.Openings[0].Leaf = bytes.Clone(flipped.Openings[0].Leaf)
	flipped.Openings[0].Leaf[4*(r.idx[0].J%challenge.LeafEntries)]++
	lying := e.buildReveal(p, rng, true)
	cases := []struct {
		name string
		cm   [32]byte
		msg  *types.MsgRevealProof
		want error
	}{
		{"flipped leaf byte", r.commitment, flipped, challenge.ErrWrongPath},
		{"wrong entry, consistent path", lying.commitment, lying.msg(e.c, k), challenge.ErrWrongEntry},
	}
	for _, tc := range cases {
		ctx, _ := e.newCtx(t, p, tc.cm, false)
		resp, err := e.server.RevealProof(ctx, tc.msg)
		require.NoError(t, err, tc.name)
		require.False(t, resp.Correct, "%s: a corrupted opening must be rejected", tc.name)
		require.Equal(t, types.CHALLENGE_STATE_FAILED, resp.State, tc.name)
		c, err := e.a.ProofOfComputeKeeper.GetChallenge(ctx, e.c.Id)
		require.NoError(t, err)
		require.Contains(t, c.Failure, tc.want.Error(), tc.name)
	}
}

// measureProver measures the CPU multiplier's multiply-adds per second at
// sz.gemmN with one worker and with one per CPU, and one GPU's whole proof
// at the test profile and, when it fits, the smallest production profile.
func measureProver(t *testing.T, sz sizes) results.Prover {
	t.Helper()
	workers := runtime.NumCPU()
	pr := results.Prover{N: int(sz.gemmN), Workers: workers, Runs: sz.gemmRuns}
	pr.MACsPerS1Worker = gemmRate(t, 1, sz.gemmN, sz.gemmRuns)
	pr.MACsPerSAll = gemmRate(t, workers, sz.gemmN, sz.gemmRuns)
	pr.PerCore = pr.MACsPerSAll / float64(workers)
	t.Logf("CPU GEMM n=%d: %.3g MAC/s with 1 worker, %.3g MAC/s with %d (%.3g per core)",
		sz.gemmN, pr.MACsPerS1Worker, pr.MACsPerSAll, workers, pr.PerCore)

	test, production := profiles(t)
	pr.TestProfile = test
	tp := challenge.Params{N: uint32(test.N), M: uint32(test.M), K: uint32(test.K)}
	proofs := repeat(sz, func(int) time.Duration { return proveOnce(t, tp) })
	pr.TestProfileProofS = median(proofs).Seconds()
	t.Logf("whole proof of one GPU at the test profile (n=%d m=%d k=%d): %.4f s", test.N, test.M, test.K, pr.TestProfileProofS)

	pr.Production = production
	n := float64(production.N)
	macs := float64(production.M) * n * n * n
	pr.Production.EstimatedS = macs / pr.MACsPerSAll
	estimate := time.Duration(pr.Production.EstimatedS * float64(time.Second))
	trees := float64(production.M) * 4 * n * n
	pr.Production.TreeGiB = trees / (1 << 30)
	switch {
	case estimate > productionMaxTime:
		pr.Production.Why = fmt.Sprintf("m·n³ = %.3g multiply-adds would take ≈ %.0f s (%.1f h) at the measured %.3g MAC/s "+
			"with %d workers, over the %s limit; its Merkle trees would hold %.0f GiB",
			macs, pr.Production.EstimatedS, pr.Production.EstimatedS/3600, pr.MACsPerSAll, workers, productionMaxTime, pr.Production.TreeGiB)
	case trees > productionMaxTrees:
		pr.Production.Why = fmt.Sprintf("its Merkle trees would hold %.1f GiB, over the %d GiB limit", pr.Production.TreeGiB, productionMaxTrees>>30)
	default:
		pp := challenge.Params{N: uint32(production.N), M: uint32(production.M), K: types.DefaultOpenings}
		pr.Production.ProofS = proveOnce(t, pp).Seconds()
		pr.Production.Measured = true
	}
	t.Logf("smallest production profile %s (n=%d m=%d): measured %v %s", production.Class, production.N, production.M,
		pr.Production.Measured, pr.Production.Why)
	return pr
}

// gemmRate is the CPU multiplier's multiply-adds per second on whole n×n
// products with workers goroutines, from the median of runs. Each run is a
// new product, so B is generated every time as in a real proof.
func gemmRate(t *testing.T, workers int, n uint32, runs int) float64 {
	t.Helper()
	mul := challenge.CPUMultiplier(workers)
	dst := make([]int32, int(n)*int(n))
	key := [2]uint32{7, 8}
	var times []time.Duration
	for r := 0; r < runs; r++ {
		start := time.Now()
		require.NoError(t, mul.MultiplyRows(context.Background(), key, n, uint32(r), 0, n, dst))
		times = append(times, time.Since(start))
		i, j := (uint32(r)*37+5)%n, (uint32(r)*101+3)%n
		require.Equal(t, challenge.Entry(key, n, uint32(r), i, j), dst[int(i)*int(n)+int(j)], "C[%d][%d][%d]", r, i, j)
	}
	return float64(n) * float64(n) * float64(n) / median(times).Seconds()
}

// proveOnce is one GPU's whole proof as the sidecar makes it (Prove with
// the CPU multiplier and one worker per CPU, then Open at the chain's
// indices); the result is checked, untimed, with VerifyReveal.
func proveOnce(t *testing.T, p challenge.Params) time.Duration {
	t.Helper()
	key := [2]uint32{9, 10}
	openSeed := sha256.Sum256([]byte("proofcost open seed"))
	idx := challenge.Openings([][32]byte{openSeed}, 0, p)
	start := time.Now()
	proof, err := challenge.Prove(context.Background(), key, p, challenge.CPUMultiplier(0), challenge.ProverOptions{})
	require.NoError(t, err)
	rev, err := proof.Open(idx)
	require.NoError(t, err)
	d := time.Since(start)
	cm := proof.Commitment()
	require.NoError(t, challenge.VerifyReveal(key, p, cm[:], idx, rev))
	return d
}

// profiles are the test profile's challenge size (every class on local networks) and the production class
// with the least work per GPU (m·n³), from the default GPU classes, with
// the default k.
func profiles(t *testing.T) (results.Profile, results.ProductionProfile) {
	t.Helper()
	// The test profile is what local networks and tests give every class
	// (apptest.TestChallengeN × TestChallengeM).
	test := results.Profile{Class: "test profile", N: apptest.TestChallengeN, M: apptest.TestChallengeM, K: types.DefaultOpenings}
	var prod results.ProductionProfile
	work := func(n, m uint32) float64 { return float64(m) * float64(n) * float64(n) * float64(n) }
	for _, c := range providertypes.DefaultGPUClasses() {
		if prod.Class == "" || work(c.ChallengeN, c.ChallengeM) < work(uint32(prod.N), uint32(prod.M)) {
			prod = results.ProductionProfile{Class: c.Name, N: int(c.ChallengeN), M: int(c.ChallengeM)}
		}
	}
	require.NotEmpty(t, prod.Class, "no production GPU class")
	return test, prod
}

// repeat runs fn (which returns the time it measured) until sz's run
// count and time limits are met, and returns the times.
func repeat(sz sizes, fn func(run int) time.Duration) []time.Duration {
	var times []time.Duration
	var total time.Duration
	for run := 0; run < sz.maxRuns && (run < sz.minRuns || total < sz.minTime); run++ {
		d := fn(run)
		times = append(times, d)
		total += d
	}
	return times
}

// median of a non-empty list of durations.
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// notes say how the numbers were taken and what they show.
func notes(e *env, sz sizes, res results.Proofs, setup time.Duration) []string {
	params, err := e.a.ProofOfComputeKeeper.GetParams(e.a.Ctx())
	gasLine := "x/proofofcompute gas params unreadable"
	if err == nil {
		g := params.Gas
		gasLine = fmt.Sprintf("The verification charge is params.gas.RevealCost(n, k), consumed before verifying in keeper.Reveal "+
			"(x/proofofcompute/keeper/challenge.go, types/params.go): k·2·n/16 Philox calls × %d + ⌈k·n/1024⌉ kilo-multiply-adds × %d "+
			"+ (k·(log2(n²/16) + 1) + 1) hashes × %d; it does not depend on m",
			g.PerPhiloxCall, g.PerKiloMulAdds, g.PerHash)
	}
	out := []string{
		"Gas is measured, not derived: each run calls the real msg server's RevealProof (ValidateBasic, then keeper.Reveal) " +
			"on an apptest KeeperCtx whose gas meter is fresh, and reports everything it consumed. gas_verification is the part " +
			"charged under \"" + verifyDescriptor + "\", gas_state the rest (KV-store reads and writes of the challenge and params, " +
			"at the SDK's KV gas costs).",
		gasLine + ".",
		fmt.Sprintf("Not in gas: the ante handler's charges for the transaction. tx_bytes is a signed transaction carrying only "+
			"the reveal (apptest SignTx) and tx_bytes_gas = tx_bytes × tx_size_cost_per_byte (%d); signature verification "+
			"adds its own fixed cost.", e.txSizeCost),
		fmt.Sprintf("The challenge is real: provider1 onboarded by signed transactions, the epoch schedule challenged its 8-GPU "+
			"node, it committed by the deadline and the opening height fixed the chain's open seed (setup %.1f s). For each size, "+
			"GPU 0's n, m and commitment and the challenge's k are then set directly in the keeper's Challenges collection in a "+
			"KeeperCtx: this measures verification, not scheduling. Every run uses a fresh KeeperCtx (a private cache of "+
			"committed state), so GPU 0 is unrevealed each time.", setup.Seconds()),
		fmt.Sprintf("Reveals are built without the product: each opened leaf is true (16 entries recomputed from the seed), "+
			"at the k indices challenge.Openings derives from the open seed; siblings are random except where two paths meet, "+
			"so all openings of a product reach one root; m = %d products per GPU (a product no opening falls in gets a random "+
			"root); the commitment hashes the m roots. The first k of the k = %d openings are the chain's openings for k.",
			sz.m, slices.Max(sz.verifyK)),
		"verify_ms is the median wall time of the whole handler (per_opening_us = verify_ms / k); library_verify_ms is " +
			"challenge.VerifyReveal alone on the same reveal. Gas is identical on every run (asserted).",
		fmt.Sprintf("Reveals measured are GPU 0's of 8, which leave the challenge open. The last GPU's reveal also passes the "+
			"challenge (GPUs verified, reputation, reward weight): at n=%d k=%d it cost %d gas, %d more (last_gpu).",
			res.LastGPU.N, res.LastGPU.K, res.LastGPU.Gas, res.LastGPU.ExtraGas),
		fmt.Sprintf("Prover: CPUMultiplier.MultiplyRows over a whole n = %d product (B regenerated each run), median of %d "+
			"run(s) per worker count; test_profile_proof_s is Prove + Open for one GPU at the test profile's n = %d, m = %d, "+
			"k = %d with one worker per CPU, median of runs.",
			res.Prover.N, res.Prover.Runs, res.Prover.TestProfile.N, res.Prover.TestProfile.M, res.Prover.TestProfile.K),
		fmt.Sprintf("Machine: %d CPUs (%s/%s), shared with other work while measuring, so times are indicative.",
			runtime.NumCPU(), runtime.GOOS, runtime.GOARCH),
	}
	return append(out, scalingNotes(res.Verify)...)
}

// scalingNotes compare the largest and smallest n at each k: time and gas
// per opening against the ×n growth of the work.
func scalingNotes(vs []results.VerifyPoint) []string {
	var out []string
	byK := map[int][]results.VerifyPoint{}
	for _, v := range vs {
		byK[v.K] = append(byK[v.K], v)
	}
	for _, k := range slices.Sorted(maps.Keys(byK)) {
		pts := byK[k]
		if len(pts) < 2 {
			continue
		}
		lo, hi := pts[0], pts[len(pts)-1]
		out = append(out, fmt.Sprintf("k = %d, n %d → %d (×%d): handler time ×%.1f, library time ×%.1f, gas ×%.1f "+
			"(verification gas ×%.1f, state gas ×%.2f)",
			k, lo.N, hi.N, hi.N/lo.N, hi.VerifyMs/lo.VerifyMs, hi.LibraryVerifyMs/lo.LibraryVerifyMs,
			float64(hi.Gas)/float64(lo.Gas), float64(hi.GasVerification)/float64(lo.GasVerification),
			float64(hi.GasState)/float64(lo.GasState)))
	}
	for _, v := range vs {
		out = append(out, fmt.Sprintf("n = %d, k = %d: %.0f gas per µs of handler time; tx_bytes_gas is %.0f %% of the handler's gas",
			v.N, v.K, float64(v.Gas)/(v.VerifyMs*1e3), 100*float64(v.TxBytesGas)/float64(v.Gas)))
	}
	return out
}
