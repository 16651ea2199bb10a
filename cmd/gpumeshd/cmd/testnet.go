package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	clientconfig "github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/tx"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	signingtypes "github.com/cosmos/cosmos-sdk/types/tx/signing"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"

	govv1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"

	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"

	"github.com/gpumesh/gpumesh/app"
)

// TestAccount is a well-known local-network account. Its mnemonic is public:
// never use these keys on a real network.
type TestAccount struct {
	Name     string
	Mnemonic string
}

// TestAccounts are funded on every local network, in this order, with the
// same addresses every time, so scripts and docs can name them.
var TestAccounts = []TestAccount{
	{"alice", "differ solve tomorrow series umbrella shadow sketch dinosaur certain virus grace online dinosaur gain tool hazard liquid hazard mistake search label tenant defy deny"},
	{"bob", "oppose canal area glance warrior funny battle wagon creek pumpkin park window expire strong mobile provide time ridge spoon oppose faculty buyer hire spy"},
	{"provider1", "input win upset section elite entire eyebrow employ kit leopard owner valve sail dismiss illegal impact tag visit wall mother magic battle lake alone"},
	{"provider2", "radio fresh come light happy topple column pig half cushion leaf horn access illness fault load prepare swear spice custom medal worry maid veteran"},
	{"provider3", "spider assist curious dash beyond unaware bus amateur horror win balance salute denial remain robot note minimum educate toward way student deliver track label"},
}

// Local network ports of node 0; node i adds PortStep×i, and the whole
// network adds --port-offset.
const (
	PortP2P      = 26656
	PortRPC      = 26657
	PortProxyApp = 26658
	PortMetrics  = 26660
	PortGRPC     = 9090
	PortAPI      = 1317
	PortStep     = 100
)

// testnetConfig is what `testnet init-files` builds.
type testnetConfig struct {
	validators     int
	outputDir      string
	chainID        string
	portOffset     int
	blockTime      time.Duration
	keyringBackend string
	accountCoins   sdk.Coins
	validatorCoins sdk.Coins
	selfBond       sdk.Coin
	votingPeriod   time.Duration
	// providerUnbonding is x/stakingslash's unbonding_time: short on local
	// networks so that unbonding can be tried in seconds.
	providerUnbonding time.Duration
	// minDepositSeconds is x/market's min_deposit_seconds: short on local
	// networks so that a lease can run dry within a demo.
	minDepositSeconds uint64
	// Proof-of-compute test profile and schedule.
	challengeN, challengeM uint32
	pocEpochBlocks         uint64
	pocSampleRate          string
	// invariantsEvery is app.toml's [gpumesh] invariants-every: local
	// networks check every invariant every block and stop at a broken one.
	invariantsEvery uint64
}

func (c testnetConfig) validate() error {
	switch {
	case c.validators < 1 || c.validators > 50:
		return fmt.Errorf("--validators %d: want 1 to 50", c.validators)
	case c.outputDir == "":
		return errors.New("--output-dir is empty")
	case c.chainID == "":
		return errors.New("--chain-id is empty")
	case c.portOffset < 0 || PortP2P+c.portOffset+PortStep*(c.validators-1)+4 > 65535 ||
		PortAPI+c.portOffset < 1024:
		return fmt.Errorf("--port-offset %d: ports would leave 1024-65535", c.portOffset)
	case c.blockTime <= 0:
		return fmt.Errorf("--block-time %s: must be positive", c.blockTime)
	case c.votingPeriod <= 0:
		return fmt.Errorf("--voting-period %s: must be positive", c.votingPeriod)
	case c.providerUnbonding <= 0:
		return fmt.Errorf("--provider-unbonding-time %s: must be positive", c.providerUnbonding)
	case c.minDepositSeconds < 1:
		return fmt.Errorf("--min-deposit-seconds %d: must be at least 1", c.minDepositSeconds)
	case c.challengeN == 0 || c.challengeM == 0:
		return fmt.Errorf("--challenge-n %d --challenge-m %d: both must be positive", c.challengeN, c.challengeM)
	case c.pocEpochBlocks == 0:
		return errors.New("--poc-epoch-blocks must be positive")
	}
	if _, err := math.LegacyNewDecFromStr(c.pocSampleRate); err != nil {
		return fmt.Errorf("--poc-sample-rate %q: %w", c.pocSampleRate, err)
	}
	return nil
}

// nodePorts are the listen ports of one node.
type nodePorts struct{ P2P, RPC, ProxyApp, Metrics, GRPC, API int }

func portsOf(offset, i int) nodePorts {
	d := offset + PortStep*i
	return nodePorts{PortP2P + d, PortRPC + d, PortProxyApp + d, PortMetrics + d, PortGRPC + d, PortAPI + d}
}

// TestnetCmd groups the local network helpers.
func TestnetCmd(basics module.BasicManager, encoding app.EncodingConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Local test network helpers",
		RunE:  client.ValidateCmd,
	}
	cmd.AddCommand(testnetInitFilesCmd(basics, encoding))
	return cmd
}

func testnetInitFilesCmd(basics module.BasicManager, encoding app.EncodingConfig) *cobra.Command {
	var (
		cfg                                testnetConfig
		accountCoins, validatorCoins, bond string
	)
	cmd := &cobra.Command{
		Use:   "init-files",
		Short: "Create the homes, keys and shared genesis of a local network",
		Long: `Create <output-dir>/node0 … node{N-1}: one validator each, on loopback, with
ports shifted by 100 per node (node0: P2P 26656, RPC 26657, gRPC 9090, REST 1317),
REST and gRPC enabled, zero minimum gas prices and short block times. Every
node checks the gpumesh invariants every block (--invariants-every) and
answers 'gpumeshd query invariants'.

The test accounts alice, bob, provider1, provider2 and provider3 are created
from fixed, public mnemonics in node0's keyring and funded with umesh and uusdc.
Never use them on a real network. scripts/localnet.sh drives this command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.accountCoins, err = sdk.ParseCoinsNormalized(accountCoins); err != nil {
				return fmt.Errorf("--account-coins %q: %w", accountCoins, err)
			}
			if cfg.validatorCoins, err = sdk.ParseCoinsNormalized(validatorCoins); err != nil {
				return fmt.Errorf("--validator-coins %q: %w", validatorCoins, err)
			}
			if cfg.selfBond, err = sdk.ParseCoinNormalized(bond); err != nil {
				return fmt.Errorf("--self-bond %q: %w", bond, err)
			}
			if cfg.selfBond.Denom != app.BondDenom {
				return fmt.Errorf("--self-bond %q: must be in %s", bond, app.BondDenom)
			}
			if !cfg.validatorCoins.IsAllGTE(sdk.NewCoins(cfg.selfBond)) {
				return fmt.Errorf("--self-bond %s exceeds --validator-coins %s", cfg.selfBond, cfg.validatorCoins)
			}
			if err := cfg.validate(); err != nil {
				return err
			}
			if err := initTestnetFiles(cfg, basics, encoding); err != nil {
				return err
			}
			cmd.Printf("initialised %d validator home(s) under %s (chain %s)\n", cfg.validators, cfg.outputDir, cfg.chainID)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.validators, "validators", 1, "number of validators")
	f.StringVar(&cfg.outputDir, "output-dir", ".localnet", "parent directory of the node homes")
	f.StringVar(&cfg.chainID, "chain-id", "gpumesh-local-1", "chain id")
	f.IntVar(&cfg.portOffset, "port-offset", 0, "added to every port of every node")
	f.DurationVar(&cfg.blockTime, "block-time", time.Second, "CometBFT timeout_commit (about the block time)")
	f.StringVar(&cfg.keyringBackend, "keyring-backend", keyring.BackendTest, "keyring backend of the created keys")
	f.StringVar(&accountCoins, "account-coins", "1000000000000umesh,1000000000000uusdc", "balance of each test account")
	f.StringVar(&validatorCoins, "validator-coins", "1000000000000umesh", "balance of each validator account")
	f.StringVar(&bond, "self-bond", "10000000000umesh", "self-delegation of each validator")
	f.DurationVar(&cfg.votingPeriod, "voting-period", 60*time.Second, "governance voting period (expedited: half)")
	f.DurationVar(&cfg.providerUnbonding, "provider-unbonding-time", 30*time.Second,
		"x/stakingslash unbonding_time: how long unbonded provider collateral waits")
	f.Uint64Var(&cfg.minDepositSeconds, "min-deposit-seconds", 60,
		"x/market min_deposit_seconds: the least time an order's deposit must pay for at its maximum price")
	f.Uint32Var(&cfg.challengeN, "challenge-n", 256,
		"proof-of-compute matrix size n of every GPU class (the spec's test profile: 256)")
	f.Uint32Var(&cfg.challengeM, "challenge-m", 1, "proof-of-compute products per GPU m of every GPU class")
	f.Uint64Var(&cfg.pocEpochBlocks, "poc-epoch-blocks", 600, "x/proofofcompute epoch_blocks")
	f.StringVar(&cfg.pocSampleRate, "poc-sample-rate", "0.25",
		"x/proofofcompute sample_rate: the chance an idle node is challenged per epoch")
	f.Uint64Var(&cfg.invariantsEvery, "invariants-every", 1,
		"app.toml [gpumesh] invariants-every: check the gpumesh invariants every N blocks, stopping at a broken one (0: never)")
	return cmd
}

type testnetNode struct {
	home   string
	nodeID string
	ports  nodePorts
	addr   sdk.AccAddress
	gentx  json.RawMessage
	comet  *cmtcfg.Config
}

func initTestnetFiles(cfg testnetConfig, basics module.BasicManager, encoding app.EncodingConfig) error {
	if err := os.MkdirAll(cfg.outputDir, 0o755); err != nil {
		return err
	}
	nodes := make([]*testnetNode, cfg.validators)
	for i := range nodes {
		n, err := initTestnetNode(cfg, encoding, i)
		if err != nil {
			return fmt.Errorf("node%d: %w", i, err)
		}
		nodes[i] = n
	}

	// Test accounts live in node0's keyring.
	kr0, err := keyring.New(sdk.KeyringServiceName(), cfg.keyringBackend, nodes[0].home, os.Stdin, encoding.Codec)
	if err != nil {
		return err
	}
	var balances []banktypes.Balance
	for _, acc := range TestAccounts {
		rec, err := kr0.NewAccount(acc.Name, acc.Mnemonic, "", sdk.FullFundraiserPath, hd.Secp256k1)
		if err != nil {
			return fmt.Errorf("key %s: %w", acc.Name, err)
		}
		addr, err := rec.GetAddress()
		if err != nil {
			return err
		}
		balances = append(balances, banktypes.Balance{Address: addr.String(), Coins: cfg.accountCoins})
	}
	for _, n := range nodes {
		balances = append(balances, banktypes.Balance{Address: n.addr.String(), Coins: cfg.validatorCoins})
	}

	appState, err := testnetAppState(cfg, basics, encoding, nodes, balances)
	if err != nil {
		return err
	}
	if err := basics.ValidateGenesis(encoding.Codec, encoding.TxConfig, appState); err != nil {
		return fmt.Errorf("generated genesis is invalid: %w", err)
	}
	stateJSON, err := json.MarshalIndent(appState, "", "  ")
	if err != nil {
		return err
	}
	genesis := genutiltypes.NewAppGenesisWithVersion(cfg.chainID, stateJSON)
	genesis.GenesisTime = time.Now().UTC().Truncate(time.Second)
	if err := genesis.ValidateAndComplete(); err != nil {
		return err
	}

	peers := make([]string, len(nodes))
	for i, n := range nodes {
		peers[i] = fmt.Sprintf("%s@127.0.0.1:%d", n.nodeID, n.ports.P2P)
	}
	for i, n := range nodes {
		if err := genesis.SaveAs(n.comet.GenesisFile()); err != nil {
			return err
		}
		others := append(append([]string{}, peers[:i]...), peers[i+1:]...)
		n.comet.P2P.PersistentPeers = strings.Join(others, ",")
		cmtcfg.WriteConfigFile(filepath.Join(n.home, "config", "config.toml"), n.comet)
	}
	return nil
}

// initTestnetNode creates one validator home: CometBFT and app config, node
// and consensus keys, a validator account key, and its signed gentx.
func initTestnetNode(cfg testnetConfig, encoding app.EncodingConfig, i int) (*testnetNode, error) {
	home := filepath.Join(cfg.outputDir, fmt.Sprintf("node%d", i))
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(home, "data"), 0o755); err != nil {
		return nil, err
	}
	ports := portsOf(cfg.portOffset, i)

	comet := cmtcfg.DefaultConfig()
	comet.SetRoot(home)
	comet.Moniker = fmt.Sprintf("node%d", i)
	comet.ProxyApp = fmt.Sprintf("tcp://127.0.0.1:%d", ports.ProxyApp)
	comet.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", ports.RPC)
	comet.RPC.PprofListenAddress = ""
	comet.RPC.CORSAllowedOrigins = []string{"*"}
	comet.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", ports.P2P)
	comet.P2P.ExternalAddress = fmt.Sprintf("127.0.0.1:%d", ports.P2P)
	comet.P2P.AddrBookStrict = false
	comet.P2P.AllowDuplicateIP = true
	comet.Instrumentation.PrometheusListenAddr = fmt.Sprintf("127.0.0.1:%d", ports.Metrics)
	comet.Consensus.TimeoutCommit = cfg.blockTime
	comet.Consensus.TimeoutPropose = cfg.blockTime

	nodeID, valPubKey, err := genutil.InitializeNodeValidatorFiles(comet)
	if err != nil {
		return nil, err
	}

	appCfg := serverconfig.DefaultConfig()
	appCfg.MinGasPrices = "0" + app.BondDenom
	appCfg.API.Enable = true
	appCfg.API.Swagger = false
	appCfg.API.EnableUnsafeCORS = true
	appCfg.API.Address = fmt.Sprintf("tcp://127.0.0.1:%d", ports.API)
	appCfg.GRPC.Enable = true
	appCfg.GRPC.Address = fmt.Sprintf("127.0.0.1:%d", ports.GRPC)
	// Local networks check the invariants (every block by default) and
	// answer `gpumeshd query invariants`: their RPC is on loopback.
	if err := writeAppConfig(filepath.Join(home, "config", "app.toml"), AppConfig{
		Config:  *appCfg,
		Gpumesh: GpumeshConfig{InvariantsEvery: cfg.invariantsEvery, InvariantsQuery: true},
	}); err != nil {
		return nil, err
	}

	if err := writeClientConfig(home, cfg.chainID, cfg.keyringBackend, ports.RPC); err != nil {
		return nil, err
	}

	kr, err := keyring.New(sdk.KeyringServiceName(), cfg.keyringBackend, home, os.Stdin, encoding.Codec)
	if err != nil {
		return nil, err
	}
	rec, mnemonic, err := kr.NewMnemonic("validator", keyring.English, sdk.FullFundraiserPath, "", hd.Secp256k1)
	if err != nil {
		return nil, err
	}
	addr, err := rec.GetAddress()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(home, "validator_mnemonic.txt"), []byte(mnemonic+"\n"), 0o600); err != nil {
		return nil, err
	}

	valAddr, err := encoding.InterfaceRegistry.SigningContext().ValidatorAddressCodec().BytesToString(addr)
	if err != nil {
		return nil, err
	}
	msg, err := stakingtypes.NewMsgCreateValidator(valAddr, valPubKey, cfg.selfBond,
		stakingtypes.NewDescription(comet.Moniker, "", "", "", ""),
		stakingtypes.NewCommissionRates(math.LegacyNewDecWithPrec(1, 1), math.LegacyNewDecWithPrec(2, 1), math.LegacyNewDecWithPrec(1, 2)),
		math.OneInt())
	if err != nil {
		return nil, err
	}
	builder := encoding.TxConfig.NewTxBuilder()
	if err := builder.SetMsgs(msg); err != nil {
		return nil, err
	}
	builder.SetGasLimit(1_000_000)
	builder.SetMemo(fmt.Sprintf("%s@127.0.0.1:%d", nodeID, ports.P2P))
	factory := tx.Factory{}.
		WithChainID(cfg.chainID).
		WithKeybase(kr).
		WithTxConfig(encoding.TxConfig).
		WithSignMode(signingtypes.SignMode_SIGN_MODE_DIRECT)
	if err := tx.Sign(context.Background(), factory, "validator", builder, true); err != nil {
		return nil, fmt.Errorf("sign gentx: %w", err)
	}
	gentx, err := encoding.TxConfig.TxJSONEncoder()(builder.GetTx())
	if err != nil {
		return nil, err
	}
	return &testnetNode{home: home, nodeID: nodeID, ports: ports, addr: addr, gentx: gentx, comet: comet}, nil
}

// testnetAppState is the default genesis plus the accounts, balances,
// gentxs and local-network parameters.
func testnetAppState(cfg testnetConfig, basics module.BasicManager, encoding app.EncodingConfig,
	nodes []*testnetNode, balances []banktypes.Balance,
) (app.GenesisState, error) {
	cdc := encoding.Codec
	state := basics.DefaultGenesis(cdc)

	accounts := make([]authtypes.GenesisAccount, len(balances))
	supply := sdk.NewCoins()
	for i, b := range balances {
		addr, err := sdk.AccAddressFromBech32(b.Address)
		if err != nil {
			return nil, err
		}
		accounts[i] = authtypes.NewBaseAccount(addr, nil, uint64(i), 0)
		supply = supply.Add(b.Coins...)
	}
	authGen := authtypes.GetGenesisStateFromAppState(cdc, state)
	packed, err := authtypes.PackAccounts(accounts)
	if err != nil {
		return nil, err
	}
	authGen.Accounts = packed
	if state[authtypes.ModuleName], err = cdc.MarshalJSON(&authGen); err != nil {
		return nil, err
	}

	bankGen := banktypes.GetGenesisStateFromAppState(cdc, state)
	bankGen.Balances = banktypes.SanitizeGenesisBalances(balances)
	bankGen.Supply = supply
	bankGen.DenomMetadata = append(bankGen.DenomMetadata, stableDenomMetadata())
	if state[banktypes.ModuleName], err = cdc.MarshalJSON(bankGen); err != nil {
		return nil, err
	}

	var govGen govv1.GenesisState
	if err := cdc.UnmarshalJSON(state[govtypes.ModuleName], &govGen); err != nil {
		return nil, err
	}
	voting, expedited := cfg.votingPeriod, cfg.votingPeriod/2
	govGen.Params.VotingPeriod = &voting
	govGen.Params.ExpeditedVotingPeriod = &expedited
	govGen.Params.MaxDepositPeriod = &voting
	if state[govtypes.ModuleName], err = cdc.MarshalJSON(&govGen); err != nil {
		return nil, err
	}

	var collateralGen stakingslashtypes.GenesisState
	if err := cdc.UnmarshalJSON(state[stakingslashtypes.ModuleName], &collateralGen); err != nil {
		return nil, err
	}
	collateralGen.Params.UnbondingTime = cfg.providerUnbonding
	if state[stakingslashtypes.ModuleName], err = cdc.MarshalJSON(&collateralGen); err != nil {
		return nil, err
	}

	if err := app.AllowStablePayments(cdc, state); err != nil {
		return nil, err
	}
	var marketGen markettypes.GenesisState
	if err := cdc.UnmarshalJSON(state[markettypes.ModuleName], &marketGen); err != nil {
		return nil, err
	}
	marketGen.Params.MinDepositSeconds = cfg.minDepositSeconds
	if state[markettypes.ModuleName], err = cdc.MarshalJSON(&marketGen); err != nil {
		return nil, err
	}
	if err := app.SetChallengeProfile(cdc, state, cfg.challengeN, cfg.challengeM); err != nil {
		return nil, err
	}
	if err := app.SetChallengeSchedule(cdc, state, cfg.pocEpochBlocks, math.LegacyMustNewDecFromStr(cfg.pocSampleRate)); err != nil {
		return nil, err
	}

	txs := make([]json.RawMessage, len(nodes))
	for i, n := range nodes {
		txs[i] = n.gentx
	}
	genutilGen := genutiltypes.NewGenesisState(txs)
	if state[genutiltypes.ModuleName], err = cdc.MarshalJSON(genutilGen); err != nil {
		return nil, err
	}
	return state, nil
}

// stableDenomMetadata describes the local networks' stable payment denom.
func stableDenomMetadata() banktypes.Metadata {
	return banktypes.Metadata{
		Description: "Local-network stand-in for USDC (an IBC denom on real networks).",
		DenomUnits: []*banktypes.DenomUnit{
			{Denom: app.StableDenom, Exponent: 0},
			{Denom: "USDC", Exponent: 6},
		},
		Base:    app.StableDenom,
		Display: "USDC",
		Name:    "USD Coin (local)",
		Symbol:  "USDC",
	}
}

// writeClientConfig writes client.toml: chain id, keyring backend and this
// node's RPC, so CLI commands with --home need no other flags.
func writeClientConfig(home, chainID, keyringBackend string, rpcPort int) error {
	ctx := client.Context{HomeDir: home, ChainID: chainID, Viper: viper.New()}
	if _, err := clientconfig.ReadFromClientConfig(ctx); err != nil {
		return err
	}
	path := filepath.Join(home, "config", "client.toml")
	bz, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := string(bz)
	for _, kv := range [][2]string{
		{"keyring-backend", keyringBackend},
		{"node", fmt.Sprintf("tcp://127.0.0.1:%d", rpcPort)},
	} {
		if doc, err = setTOMLValue(doc, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return os.WriteFile(path, []byte(doc), 0o600)
}
