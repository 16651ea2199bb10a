// Package apptest runs a whole gpumesh App in memory for integration tests:
// a real genesis with one validator and funded accounts, blocks driven
// through FinalizeBlock and Commit, and transactions signed like a wallet
// signs them. Nothing is mocked.
package apptest

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	cryptotypes "github.com/cosmos/cosmos-sdk/crypto/types"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	"github.com/gpumesh/gpumesh/app"
)

// ChainID is the chain id of every test app.
const ChainID = "gpumesh-test-1"

// BlockInterval is the block time step between two NextBlock calls.
const BlockInterval = 5 * time.Second

// Account is a funded test account with its private key.
type Account struct {
	Name    string
	PrivKey cryptotypes.PrivKey
	Address sdk.AccAddress
}

// AccountNames are the accounts funded at genesis, as on a local network.
var AccountNames = []string{"alice", "bob", "provider1", "provider2", "provider3"}

// StartingBalance is every test account's genesis balance.
var StartingBalance = sdk.NewCoins(
	sdk.NewCoin(app.BondDenom, math.NewInt(1_000_000_000_000)),
	sdk.NewCoin(app.StableDenom, math.NewInt(1_000_000_000_000)),
)

// App is an in-memory gpumesh app at some height.
type App struct {
	*app.App
	t        testing.TB
	DB       dbm.DB
	Accounts map[string]Account
	valSet   *cmttypes.ValidatorSet
	// BlockTime is the time of the last finalized block.
	BlockTime time.Time
	// rng draws SignTx's memos; it has the same seed in every app, so two
	// apps that sign the same transactions produce the same bytes.
	rng *rand.Rand
}

// NewAccount derives a deterministic account from its name.
func NewAccount(name string) Account {
	priv := secp256k1.GenPrivKeyFromSecret([]byte("gpumesh-test/" + name))
	return Account{Name: name, PrivKey: priv, Address: sdk.AccAddress(priv.PubKey().Address())}
}

// Option changes how New builds the test app.
type Option func(*options)

type options struct {
	genesis      []func(codec.JSONCodec, app.GenesisState) error
	minGasPrices string
	appOpts      map[string]any
	authority    string
}

// WithGenesis changes the genesis state before the chain starts.
func WithGenesis(fn func(cdc codec.JSONCodec, state app.GenesisState) error) Option {
	return func(o *options) { o.genesis = append(o.genesis, fn) }
}

// WithMinGasPrices sets the validator's minimum gas prices, which CheckTx
// enforces (e.g. "0.025umesh").
func WithMinGasPrices(prices string) Option {
	return func(o *options) { o.minGasPrices = prices }
}

// WithAppOption sets an app.toml option that app.New reads (e.g.
// app.FlagInvariantsEvery).
func WithAppOption(key string, value any) Option {
	return func(o *options) {
		if o.appOpts == nil {
			o.appOpts = make(map[string]any)
		}
		o.appOpts[key] = value
	}
}

// WithConsensusAuthority sets the authority of the consensus params, which
// sdk.ValidateAuthority accepts in place of a module's governance account:
// a test account named here can sign every MsgUpdateParams in a
// transaction (the governance account itself cannot sign).
func WithConsensusAuthority(addr sdk.AccAddress) Option {
	return func(o *options) { o.authority = addr.String() }
}

// New starts an app at genesis with one validator and the test accounts,
// and finalizes block 1.
func New(t testing.TB, opts ...Option) *App {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	db := dbm.NewMemDB()
	// A temporary home keeps the upgrade keeper's files out of the package
	// directory.
	appOpts := simtestutil.AppOptionsMap{flags.FlagHome: t.TempDir()}
	for k, v := range o.appOpts {
		appOpts[k] = v
	}
	gapp := app.New(log.NewNopLogger(), db, true, appOpts, baseapp.SetChainID(ChainID),
		baseapp.SetMinGasPrices(o.minGasPrices))

	valSet := validatorSet()

	accounts := make(map[string]Account, len(AccountNames))
	genAccs := make([]authtypes.GenesisAccount, 0, len(AccountNames))
	balances := make([]banktypes.Balance, 0, len(AccountNames))
	for i, name := range AccountNames {
		acc := NewAccount(name)
		accounts[name] = acc
		genAccs = append(genAccs, authtypes.NewBaseAccount(acc.Address, acc.PrivKey.PubKey(), uint64(i), 0))
		balances = append(balances, banktypes.Balance{Address: acc.Address.String(), Coins: StartingBalance})
	}
	genesis, err := simtestutil.GenesisStateWithValSet(gapp.AppCodec(), gapp.DefaultGenesis(), valSet, genAccs, balances...)
	require.NoError(t, err)
	// As on a local network, orders may be paid in uusdc too.
	require.NoError(t, app.AllowStablePayments(gapp.AppCodec(), genesis))
	// As on a local network, challenges use the spec's test profile.
	require.NoError(t, app.SetChallengeProfile(gapp.AppCodec(), genesis, TestChallengeN, TestChallengeM))
	for _, fn := range o.genesis {
		require.NoError(t, fn(gapp.AppCodec(), genesis))
	}
	stateBytes, err := json.Marshal(genesis)
	require.NoError(t, err)

	consensusParams := *simtestutil.DefaultConsensusParams
	if o.authority != "" {
		consensusParams.Authority = &cmtproto.AuthorityParams{Authority: o.authority}
	}
	genesisTime := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = gapp.InitChain(&abci.RequestInitChain{
		ChainId:         ChainID,
		Time:            genesisTime,
		ConsensusParams: &consensusParams,
		AppStateBytes:   stateBytes,
		InitialHeight:   1,
	})
	require.NoError(t, err)

	a := &App{
		App: gapp, t: t, DB: db, Accounts: accounts, valSet: valSet,
		BlockTime: genesisTime, rng: rand.New(rand.NewSource(1)),
	}
	a.NextBlock()
	return a
}

// validatorSet is the single validator of every test app. Its key is
// derived from a fixed secret, so two apps started with the same options
// have byte-identical genesis states and app hashes (the determinism test
// compares two apps block by block).
func validatorSet() *cmttypes.ValidatorSet {
	priv := ed25519.GenPrivKeyFromSecret([]byte("gpumesh-test/validator"))
	return cmttypes.NewValidatorSet([]*cmttypes.Validator{cmttypes.NewValidator(priv.PubKey(), 1)})
}

// Account returns the named test account.
func (a *App) Account(name string) Account {
	acc, ok := a.Accounts[name]
	if !ok {
		a.t.Fatalf("apptest: no account %q", name)
	}
	return acc
}

// Challenge sizes of every GPU class in test apps (the spec's test
// profile).
const (
	TestChallengeN = 256
	TestChallengeM = 1
)

// BlockHash is the header hash the test app gives block height: distinct
// per height and fixed across runs, as x/proofofcompute binds challenge
// seeds to block hashes.
func BlockHash(height int64) []byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("apptest block %d", height)))
	return h[:]
}

// NextBlock finalizes and commits a block holding txs, BlockInterval after
// the previous one, and returns the block's result.
func (a *App) NextBlock(txs ...[]byte) *abci.ResponseFinalizeBlock {
	a.t.Helper()
	a.BlockTime = a.BlockTime.Add(BlockInterval)
	height := a.LastBlockHeight() + 1
	res, err := a.FinalizeBlock(&abci.RequestFinalizeBlock{
		Height:             height,
		Hash:               BlockHash(height),
		Time:               a.BlockTime,
		Txs:                txs,
		NextValidatorsHash: a.valSet.Hash(),
		ProposerAddress:    a.valSet.Proposer.Address,
	})
	require.NoError(a.t, err)
	_, err = a.Commit()
	require.NoError(a.t, err)
	return res
}

// Ctx returns a read context over the last committed state.
func (a *App) Ctx() sdk.Context {
	return a.NewContextLegacy(true, cmtproto.Header{
		ChainID: ChainID, Height: a.LastBlockHeight(), Time: a.BlockTime,
	})
}

// SignTx signs msgs by signer with its current account number and sequence
// (SIGN_MODE_DIRECT, zero fee) and returns the encoded tx.
func (a *App) SignTx(signer Account, msgs ...sdk.Msg) []byte {
	a.t.Helper()
	acc := a.AccountKeeper.GetAccount(a.Ctx(), signer.Address)
	require.NotNil(a.t, acc, "account %s does not exist", signer.Name)
	tx, err := simtestutil.GenSignedMockTx(a.rng, a.TxConfig(), msgs, sdk.NewCoins(), 2_000_000, ChainID,
		[]uint64{acc.GetAccountNumber()}, []uint64{acc.GetSequence()}, signer.PrivKey)
	require.NoError(a.t, err)
	bz, err := a.TxConfig().TxEncoder()(tx)
	require.NoError(a.t, err)
	return bz
}

// DeliverTx signs msgs by signer, includes them in the next block and
// returns the tx result.
func (a *App) DeliverTx(signer Account, msgs ...sdk.Msg) *abci.ExecTxResult {
	a.t.Helper()
	res := a.NextBlock(a.SignTx(signer, msgs...))
	require.Len(a.t, res.TxResults, 1)
	return res.TxResults[0]
}

// KeeperCtx returns a writable context over a private cache of the last
// committed state, for keeper tests that call keepers directly with the
// real bank and account keepers behind them. Its block is the next one
// (height + 1, BlockTime + BlockInterval). Writes stay in the cache: they are
// never committed and do not affect blocks driven through NextBlock.
func (a *App) KeeperCtx() sdk.Context {
	header := cmtproto.Header{
		ChainID: ChainID, Height: a.LastBlockHeight() + 1, Time: a.BlockTime.Add(BlockInterval),
	}
	return sdk.NewContext(a.CommitMultiStore().CacheMultiStore(), header, false, log.NewNopLogger()).
		WithEventManager(sdk.NewEventManager())
}
