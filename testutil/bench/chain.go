// Package bench measures gpumesh in process: a whole App on an on-disk
// database driven block by block through FinalizeBlock and Commit, with
// transactions signed beforehand like a wallet signs them, so that what is
// timed is the chain's own execution (ante handler, messages, EndBlock,
// commit) and nothing else.
//
// The suites are tests: by default they run at tiny sizes as a smoke test
// inside `make test` (asserting that every transaction succeeds and every
// measurement is sane, never a speed); with GPUMESH_BENCH_OUT set to a
// directory they run at full size and write their results there as JSON,
// which `make bench` turns into docs/benchmarks.md. See docs/benchmarks.md
// for what each suite measures and how.
package bench

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	"github.com/cosmos/cosmos-sdk/server"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	pruningtypes "github.com/cosmos/cosmos-sdk/store/v2/pruning/types"
	"github.com/cosmos/cosmos-sdk/store/v2/rootmulti"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/tx/signing"
	authsigning "github.com/cosmos/cosmos-sdk/x/auth/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
)

// ChainID is the chain id of every benchmark chain.
const ChainID = "gpumesh-bench-1"

// BlockInterval is the block time step between two blocks.
const BlockInterval = 5 * time.Second

// OutEnv names the directory full-size runs write their JSON into. Unset,
// the suites run at smoke sizes and write nothing.
const OutEnv = "GPUMESH_BENCH_OUT"

// Full reports whether this run is a full-size benchmark run.
func Full() bool { return os.Getenv(OutEnv) != "" }

// WriteResult writes v as indented JSON to $GPUMESH_BENCH_OUT/name in a
// full-size run; it does nothing otherwise.
func WriteResult(t testing.TB, name string, v any) {
	t.Helper()
	dir := os.Getenv(OutEnv)
	if dir == "" {
		return
	}
	bz, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), append(bz, '\n'), 0o644))
	t.Logf("wrote %s", filepath.Join(dir, name))
}

// Account is a funded account with its key and the sequence its next
// transaction must carry.
type Account struct {
	PrivKey cryptotypes.PrivKey
	Address sdk.AccAddress
	Number  uint64
	Seq     uint64
}

// Config describes a benchmark chain.
type Config struct {
	// Accounts is how many funded accounts genesis holds.
	Accounts int
	// BlockSTM runs transactions with the SDK's Block-STM executor
	// instead of sequentially.
	BlockSTM bool
	// Workers is Block-STM's worker count (0: one per CPU).
	Workers int
	// Genesis edits the genesis state before the chain starts.
	Genesis func(cdc codec.JSONCodec, state app.GenesisState) error
	// CountWrites records the store writes of every block (see
	// Chain.Writes). It costs time: timed runs leave it off.
	CountWrites bool
}

// Chain is a gpumesh App on a goleveldb database in a temporary directory.
type Chain struct {
	*app.App
	t         testing.TB
	db        *dbm.GoLevelDB
	writes    *writeCounter
	Accounts  []*Account
	valSet    *cmttypes.ValidatorSet
	BlockTime time.Time
	rng       *rand.Rand
}

// accountKey derives account i's key deterministically.
func accountKey(i int) cryptotypes.PrivKey {
	return secp256k1.GenPrivKeyFromSecret(fmt.Appendf(nil, "gpumesh-bench/%d", i))
}

// accountBalance is every account's genesis balance: enough MESH for bonds
// and bid deposits, enough USDC for orders.
var accountBalance = sdk.NewCoins(
	sdk.NewCoin(app.BondDenom, math.NewInt(1_000_000_000_000)),
	sdk.NewCoin(app.StableDenom, math.NewInt(1_000_000_000_000)),
)

// NewChain starts a chain at genesis with cfg.Accounts funded accounts and
// one validator, and finalizes block 1.
func NewChain(t testing.TB, cfg Config) *Chain {
	t.Helper()
	home := t.TempDir()
	db, err := dbm.NewGoLevelDB("application", home, nil)
	require.NoError(t, err)
	// The options a node gets from a default app.toml (server.DefaultConfig):
	// the IAVL node cache and the inter-block cache sized as on a
	// validator, default pruning, and no app-side mempool.
	appOpts := simtestutil.AppOptionsMap{
		flags.FlagHome:             home,
		flags.FlagChainID:          ChainID,
		server.FlagPruning:         pruningtypes.PruningOptionDefault,
		server.FlagIAVLCacheSize:   serverconfig.DefaultConfig().IAVLCacheSize,
		server.FlagInterBlockCache: true,
		server.FlagMempoolMaxTxs:   -1,
	}
	if cfg.BlockSTM {
		appOpts[server.FlagBlockExecutor] = "block-stm"
		if cfg.Workers > 0 {
			appOpts[server.FlagBlockSTMWorkers] = cfg.Workers
		}
	}
	gapp := app.New(log.NewNopLogger(), db, true, appOpts, server.DefaultBaseappOptions(appOpts)...)
	// Closes the database and the snapshot store. The SDK never closes
	// the IAVL trees: their pruning goroutines keep each tree's node cache
	// (hundreds of MiB on a large state) alive for the rest of the
	// process, which is why `make bench` runs every suite in a process of
	// its own.
	t.Cleanup(func() { _ = gapp.Close() })
	var writes *writeCounter
	if cfg.CountWrites {
		writes = &writeCounter{}
		cms := gapp.CommitMultiStore()
		keys := slices.Collect(maps.Values(cms.(*rootmulti.Store).StoreKeysByName()))
		cms.AddListeners(keys)
		gapp.SetStreamingManager(storetypes.StreamingManager{ABCIListeners: []storetypes.ABCIListener{writes}})
	}

	valSet, err := simtestutil.CreateRandomValidatorSet()
	require.NoError(t, err)
	accounts := make([]*Account, cfg.Accounts)
	genAccs := make([]authtypes.GenesisAccount, cfg.Accounts)
	balances := make([]banktypes.Balance, cfg.Accounts)
	for i := range accounts {
		priv := accountKey(i)
		acc := &Account{PrivKey: priv, Address: sdk.AccAddress(priv.PubKey().Address())}
		accounts[i] = acc
		genAccs[i] = authtypes.NewBaseAccount(acc.Address, priv.PubKey(), uint64(i), 0)
		balances[i] = banktypes.Balance{Address: acc.Address.String(), Coins: accountBalance}
	}
	genesis, err := simtestutil.GenesisStateWithValSet(gapp.AppCodec(), gapp.DefaultGenesis(), valSet, genAccs, balances...)
	require.NoError(t, err)
	require.NoError(t, app.AllowStablePayments(gapp.AppCodec(), genesis))
	require.NoError(t, app.SetChallengeProfile(gapp.AppCodec(), genesis, ChallengeN, ChallengeM))
	if cfg.Genesis != nil {
		require.NoError(t, cfg.Genesis(gapp.AppCodec(), genesis))
	}
	stateBytes, err := json.Marshal(genesis)
	require.NoError(t, err)

	cp := simtestutil.DefaultConsensusParams
	cp.Block.MaxGas = -1
	cp.Block.MaxBytes = 1 << 30
	genesisTime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = gapp.InitChain(&abci.RequestInitChain{
		ChainId: ChainID, Time: genesisTime, ConsensusParams: cp, AppStateBytes: stateBytes, InitialHeight: 1,
	})
	require.NoError(t, err)
	c := &Chain{App: gapp, t: t, db: db, writes: writes, Accounts: accounts, valSet: valSet, BlockTime: genesisTime, rng: rand.New(rand.NewSource(1))}
	c.Block()
	// Account numbers are assigned at genesis in address order, not in
	// the order above: read them back.
	ctx := c.Ctx()
	for _, acc := range accounts {
		a := gapp.AccountKeeper.GetAccount(ctx, acc.Address)
		require.NotNil(t, a)
		acc.Number = a.GetAccountNumber()
	}
	return c
}

// Challenge sizes of every GPU class on benchmark chains: the spec's test
// profile, so that proofs are computed quickly; the verification cost at
// production sizes is measured separately (testutil/bench/proofcost).
const (
	ChallengeN = 256
	ChallengeM = 1
)

// blockHash is the header hash of a height: distinct per height and fixed
// across runs, as challenge seeds are bound to block hashes.
func blockHash(height int64) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "bench block %d", height))
	return h[:]
}

// Block finalizes and commits a block holding txs, BlockInterval after the
// previous one. It returns the result and the time FinalizeBlock and Commit
// took together.
func (c *Chain) Block(txs ...[]byte) (*abci.ResponseFinalizeBlock, time.Duration) {
	c.t.Helper()
	c.BlockTime = c.BlockTime.Add(BlockInterval)
	return c.BlockAt(c.BlockTime, txs...)
}

// BlockAt is Block at a chosen block time (not before the last block's).
func (c *Chain) BlockAt(at time.Time, txs ...[]byte) (*abci.ResponseFinalizeBlock, time.Duration) {
	c.t.Helper()
	c.BlockTime = at
	height := c.LastBlockHeight() + 1
	start := time.Now()
	res, err := c.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height: height, Hash: blockHash(height), Time: at, Txs: txs,
		NextValidatorsHash: c.valSet.Hash(), ProposerAddress: c.valSet.Proposer.Address,
	})
	require.NoError(c.t, err)
	_, err = c.Commit()
	require.NoError(c.t, err)
	return res, time.Since(start)
}

// MustBlock runs Block and requires every transaction to succeed.
func (c *Chain) MustBlock(txs ...[]byte) (*abci.ResponseFinalizeBlock, time.Duration) {
	c.t.Helper()
	res, d := c.Block(txs...)
	RequireOK(c.t, res)
	return res, d
}

// RequireOK fails unless every transaction of a block succeeded.
func RequireOK(t testing.TB, res *abci.ResponseFinalizeBlock) {
	t.Helper()
	for i, r := range res.TxResults {
		require.Equal(t, uint32(0), r.Code, "tx %d: %s", i, r.Log)
	}
}

// writeCounter counts the store writes of each block, as the SDK's state
// listeners see them when the block's state is committed: the distinct
// keys the block set or deleted (a key written by several transactions of
// the block counts once). These are what IAVL hashes and saves.
type writeCounter struct{ last int }

func (w *writeCounter) ListenFinalizeBlock(context.Context, abci.RequestFinalizeBlock, abci.ResponseFinalizeBlock) error {
	return nil
}

func (w *writeCounter) ListenCommit(_ context.Context, _ abci.ResponseCommit, changeSet []*storetypes.StoreKVPair) error {
	w.last = len(changeSet)
	return nil
}

// Writes is the number of store writes (sets and deletes) the last block
// made. The chain must have been started with Config.CountWrites.
func (c *Chain) Writes() int {
	c.t.Helper()
	require.NotNil(c.t, c.writes, "Config.CountWrites is off")
	return c.writes.last
}

// Settle brings the process and the database to the steady state of a
// node that has run for a while, after a setup that wrote in minutes what
// a chain writes in months: it compacts the whole database (goleveldb
// would otherwise spend the measurement compacting the setup's burst in
// the background, and every read and iterator would look through the
// pile of level-0 tables) and collects the setup's garbage.
func (c *Chain) Settle() {
	c.t.Helper()
	require.NoError(c.t, c.db.ForceCompact(nil, nil))
	runtime.GC()
}

// DBTables is the number of goleveldb tables at each level of the app's
// database, up to the deepest non-empty level: a read or an iterator looks
// through level 0's tables and one table per deeper level.
func (c *Chain) DBTables() []int {
	c.t.Helper()
	var levels []int
	for l := range 7 {
		v, err := c.db.DB().GetProperty(fmt.Sprintf("leveldb.num-files-at-level%d", l))
		require.NoError(c.t, err)
		n, err := strconv.Atoi(v)
		require.NoError(c.t, err)
		levels = append(levels, n)
	}
	for len(levels) > 1 && levels[len(levels)-1] == 0 {
		levels = levels[:len(levels)-1]
	}
	return levels
}

// Ctx is a read context over the last committed state.
func (c *Chain) Ctx() sdk.Context {
	return c.NewContextLegacy(true, cmtproto.Header{ChainID: ChainID, Height: c.LastBlockHeight(), Time: c.BlockTime})
}

// SetupCtx is a writable context over the state the next block starts
// from, for writing large benchmark states directly through the keepers
// (far faster than transactions). Commit its writes with CommitSetup.
func (c *Chain) SetupCtx() sdk.Context {
	header := cmtproto.Header{ChainID: ChainID, Height: c.LastBlockHeight() + 1, Time: c.BlockTime}
	return sdk.NewContext(c.CommitMultiStore().CacheMultiStore(), header, false, log.NewNopLogger()).
		WithEventManager(sdk.NewEventManager())
}

// CommitSetup writes a SetupCtx's changes into the committed store with
// the next (empty) block.
func (c *Chain) CommitSetup(ctx sdk.Context) {
	c.t.Helper()
	ctx.MultiStore().(interface{ Write() }).Write()
	c.MustBlock()
}

// Sign signs msgs by account i with its next sequence (SIGN_MODE_DIRECT,
// no fee) and returns the encoded transaction. Sequences are tracked
// locally, so a batch of transactions for later blocks can be signed
// before any of them runs.
func (c *Chain) Sign(i int, msgs ...sdk.Msg) []byte {
	c.t.Helper()
	acc := c.Accounts[i]
	txCfg := c.TxConfig()
	b := txCfg.NewTxBuilder()
	require.NoError(c.t, b.SetMsgs(msgs...))
	b.SetGasLimit(50_000_000)
	mode := signing.SignMode_SIGN_MODE_DIRECT
	sig := signing.SignatureV2{PubKey: acc.PrivKey.PubKey(), Data: &signing.SingleSignatureData{SignMode: mode}, Sequence: acc.Seq}
	require.NoError(c.t, b.SetSignatures(sig))
	signerData := authsigning.SignerData{
		Address: acc.Address.String(), ChainID: ChainID, AccountNumber: acc.Number, Sequence: acc.Seq,
		PubKey: acc.PrivKey.PubKey(),
	}
	bytesToSign, err := authsigning.GetSignBytesAdapter(c.Ctx(), txCfg.SignModeHandler(), mode, signerData, b.GetTx())
	require.NoError(c.t, err)
	sigBytes, err := acc.PrivKey.Sign(bytesToSign)
	require.NoError(c.t, err)
	sig.Data = &signing.SingleSignatureData{SignMode: mode, Signature: sigBytes}
	require.NoError(c.t, b.SetSignatures(sig))
	bz, err := txCfg.TxEncoder()(b.GetTx())
	require.NoError(c.t, err)
	acc.Seq++
	return bz
}
