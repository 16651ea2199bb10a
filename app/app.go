// Package app wires the gpumesh application: the SDK's proof-of-stake modules
// and the gpumesh market modules on one BaseApp, with explicit keepers (no
// depinject, which v0.54 is phasing out).
package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	abci "github.com/cometbft/cometbft/abci/types"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/cast"

	autocliv1 "cosmossdk.io/api/cosmos/autocli/v1"
	reflectionv1 "cosmossdk.io/api/cosmos/reflection/v1"
	"cosmossdk.io/client/v2/autocli"
	"cosmossdk.io/core/appmodule"
	corestore "cosmossdk.io/core/store"
	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	"github.com/cosmos/cosmos-sdk/baseapp/blockexec"
	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	nodeservice "github.com/cosmos/cosmos-sdk/client/grpc/node"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/runtime"
	runtimeservices "github.com/cosmos/cosmos-sdk/runtime/services"
	"github.com/cosmos/cosmos-sdk/server"
	"github.com/cosmos/cosmos-sdk/server/api"
	"github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	"github.com/cosmos/cosmos-sdk/version"
	"github.com/cosmos/cosmos-sdk/x/auth"
	"github.com/cosmos/cosmos-sdk/x/auth/ante"
	authkeeper "github.com/cosmos/cosmos-sdk/x/auth/keeper"
	authsims "github.com/cosmos/cosmos-sdk/x/auth/simulation"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/auth/vesting"
	vestingtypes "github.com/cosmos/cosmos-sdk/x/auth/vesting/types"
	"github.com/cosmos/cosmos-sdk/x/authz"
	authzkeeper "github.com/cosmos/cosmos-sdk/x/authz/keeper"
	authzmodule "github.com/cosmos/cosmos-sdk/x/authz/module"
	"github.com/cosmos/cosmos-sdk/x/bank"
	bankkeeper "github.com/cosmos/cosmos-sdk/x/bank/keeper"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	"github.com/cosmos/cosmos-sdk/x/consensus"
	consensuskeeper "github.com/cosmos/cosmos-sdk/x/consensus/keeper"
	consensustypes "github.com/cosmos/cosmos-sdk/x/consensus/types"
	distr "github.com/cosmos/cosmos-sdk/x/distribution"
	distrkeeper "github.com/cosmos/cosmos-sdk/x/distribution/keeper"
	distrtypes "github.com/cosmos/cosmos-sdk/x/distribution/types"
	"github.com/cosmos/cosmos-sdk/x/epochs"
	epochskeeper "github.com/cosmos/cosmos-sdk/x/epochs/keeper"
	epochstypes "github.com/cosmos/cosmos-sdk/x/epochs/types"
	"github.com/cosmos/cosmos-sdk/x/evidence"
	evidencekeeper "github.com/cosmos/cosmos-sdk/x/evidence/keeper"
	evidencetypes "github.com/cosmos/cosmos-sdk/x/evidence/types"
	"github.com/cosmos/cosmos-sdk/x/feegrant"
	feegrantkeeper "github.com/cosmos/cosmos-sdk/x/feegrant/keeper"
	feegrantmodule "github.com/cosmos/cosmos-sdk/x/feegrant/module"
	"github.com/cosmos/cosmos-sdk/x/genutil"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"
	"github.com/cosmos/cosmos-sdk/x/gov"
	govclient "github.com/cosmos/cosmos-sdk/x/gov/client"
	govkeeper "github.com/cosmos/cosmos-sdk/x/gov/keeper"
	govtypes "github.com/cosmos/cosmos-sdk/x/gov/types"
	govv1beta1 "github.com/cosmos/cosmos-sdk/x/gov/types/v1beta1"
	"github.com/cosmos/cosmos-sdk/x/mint"
	mintkeeper "github.com/cosmos/cosmos-sdk/x/mint/keeper"
	minttypes "github.com/cosmos/cosmos-sdk/x/mint/types"
	"github.com/cosmos/cosmos-sdk/x/slashing"
	slashingkeeper "github.com/cosmos/cosmos-sdk/x/slashing/keeper"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingkeeper "github.com/cosmos/cosmos-sdk/x/staking/keeper"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
	"github.com/cosmos/cosmos-sdk/x/upgrade"
	upgradekeeper "github.com/cosmos/cosmos-sdk/x/upgrade/keeper"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"

	"github.com/gpumesh/gpumesh/x/escrow"
	escrowkeeper "github.com/gpumesh/gpumesh/x/escrow/keeper"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	"github.com/gpumesh/gpumesh/x/market"
	marketkeeper "github.com/gpumesh/gpumesh/x/market/keeper"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	"github.com/gpumesh/gpumesh/x/proofofcompute"
	proofofcomputekeeper "github.com/gpumesh/gpumesh/x/proofofcompute/keeper"
	proofofcomputetypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	"github.com/gpumesh/gpumesh/x/provider"
	providerkeeper "github.com/gpumesh/gpumesh/x/provider/keeper"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	"github.com/gpumesh/gpumesh/x/stakingslash"
	stakingslashkeeper "github.com/gpumesh/gpumesh/x/stakingslash/keeper"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// DefaultNodeHome is the default home directory of gpumeshd.
var DefaultNodeHome string

func init() {
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	DefaultNodeHome = filepath.Join(home, ".gpumesh")
}

// moduleAccountPermissions lists every module account and what it may do
// with coins. Market module accounts are added here as their modules land.
var moduleAccountPermissions = map[string][]string{
	authtypes.FeeCollectorName:     nil,
	distrtypes.ModuleName:          nil,
	minttypes.ModuleName:           {authtypes.Minter},
	stakingtypes.BondedPoolName:    {authtypes.Burner, authtypes.Staking},
	stakingtypes.NotBondedPoolName: {authtypes.Burner, authtypes.Staking},
	govtypes.ModuleName:            {authtypes.Burner},
	// x/stakingslash holds every provider's bonded and unbonding collateral.
	stakingslashtypes.ModuleName: nil,
	// The market reserve receives slashed collateral not paid to
	// beneficiaries and the reserve fee of every escrow settlement.
	MarketReserveAccount: nil,
	// x/escrow holds every order's and lease's escrow and the bid deposits.
	escrowtypes.ModuleName: nil,
	// x/proofofcompute mints capacity rewards and holds them until claimed,
	// with the fees of open disputes.
	proofofcomputetypes.ModuleName: {authtypes.Minter},
}

var (
	_ runtime.AppI            = (*App)(nil)
	_ servertypes.Application = (*App)(nil)
)

// App is the gpumesh application.
type App struct {
	*baseapp.BaseApp

	legacyAmino       *codec.LegacyAmino
	appCodec          codec.Codec
	txConfig          client.TxConfig
	interfaceRegistry codectypes.InterfaceRegistry

	keys    map[string]*storetypes.KVStoreKey
	objKeys map[string]*storetypes.ObjectStoreKey

	AccountKeeper         authkeeper.AccountKeeper
	BankKeeper            bankkeeper.BaseKeeper
	StakingKeeper         *stakingkeeper.Keeper
	SlashingKeeper        slashingkeeper.Keeper
	MintKeeper            mintkeeper.Keeper
	DistrKeeper           distrkeeper.Keeper
	GovKeeper             *govkeeper.Keeper
	UpgradeKeeper         *upgradekeeper.Keeper
	EvidenceKeeper        evidencekeeper.Keeper
	FeeGrantKeeper        feegrantkeeper.Keeper
	AuthzKeeper           authzkeeper.Keeper
	ConsensusParamsKeeper consensuskeeper.Keeper
	EpochsKeeper          epochskeeper.Keeper

	// gpumesh market modules. Dependencies point one way: market → escrow,
	// provider, stakingslash; proofofcompute → provider, stakingslash,
	// market, escrow; calls the other way go through hooks.
	ProviderKeeper       *providerkeeper.Keeper
	StakingSlashKeeper   *stakingslashkeeper.Keeper
	EscrowKeeper         *escrowkeeper.Keeper
	MarketKeeper         *marketkeeper.Keeper
	ProofOfComputeKeeper *proofofcomputekeeper.Keeper

	ModuleManager      *module.Manager
	BasicModuleManager module.BasicManager
	sm                 *module.SimulationManager
	configurator       module.Configurator

	// invariants: app.toml's [gpumesh] invariant options (invariants.go).
	invariants invariantsConfig
}

// New builds the gpumesh application over db.
func New(
	logger log.Logger,
	db dbm.DB,
	loadLatest bool,
	appOpts servertypes.AppOptions,
	baseAppOptions ...func(*baseapp.BaseApp),
) *App {
	enc := MakeEncodingConfig()

	bApp := baseapp.NewBaseApp(Name, logger, db, enc.TxConfig.TxDecoder(), baseAppOptions...)
	bApp.SetVersion(version.Version)
	bApp.SetInterfaceRegistry(enc.InterfaceRegistry)
	bApp.SetTxEncoder(enc.TxConfig.TxEncoder())

	keys := storetypes.NewKVStoreKeys(
		authtypes.StoreKey, banktypes.StoreKey, stakingtypes.StoreKey, minttypes.StoreKey,
		distrtypes.StoreKey, slashingtypes.StoreKey, govtypes.StoreKey, consensustypes.StoreKey,
		upgradetypes.StoreKey, feegrant.StoreKey, evidencetypes.StoreKey, authzkeeper.StoreKey,
		epochstypes.StoreKey,
		providertypes.StoreKey, stakingslashtypes.StoreKey, markettypes.StoreKey, escrowtypes.StoreKey,
		proofofcomputetypes.StoreKey,
	)
	objKeys := storetypes.NewObjectStoreKeys(banktypes.ObjectStoreKey)

	if err := bApp.RegisterStreamingServices(appOpts, keys); err != nil {
		panic(err)
	}

	app := &App{
		BaseApp:           bApp,
		legacyAmino:       enc.Amino,
		appCodec:          enc.Codec,
		txConfig:          enc.TxConfig,
		interfaceRegistry: enc.InterfaceRegistry,
		keys:              keys,
		objKeys:           objKeys,
		invariants:        readInvariantsConfig(appOpts),
	}

	cdc := enc.Codec
	govAuthority := authtypes.NewModuleAddress(govtypes.ModuleName).String()
	accCodec := address.NewBech32Codec(AccountAddressPrefix)
	valCodec := address.NewBech32Codec(ValidatorAddressPrefix)
	consCodec := address.NewBech32Codec(ConsensusAddressPrefix)
	kv := func(name string) corestore.KVStoreService { return runtime.NewKVStoreService(keys[name]) }

	app.ConsensusParamsKeeper = consensuskeeper.NewKeeper(cdc, kv(consensustypes.StoreKey), govAuthority, runtime.EventService{})
	bApp.SetParamStore(app.ConsensusParamsKeeper.ParamsStore)

	app.AccountKeeper = authkeeper.NewAccountKeeper(cdc, kv(authtypes.StoreKey), authtypes.ProtoBaseAccount,
		moduleAccountPermissions, accCodec, AccountAddressPrefix, govAuthority)

	app.BankKeeper = bankkeeper.NewBaseKeeper(cdc, kv(banktypes.StoreKey), app.AccountKeeper,
		BlockedAddresses(), govAuthority, logger).WithObjStoreKey(objKeys[banktypes.ObjectStoreKey])

	app.StakingKeeper = stakingkeeper.NewKeeper(cdc, kv(stakingtypes.StoreKey), app.AccountKeeper, app.BankKeeper,
		govAuthority, valCodec, consCodec)

	app.MintKeeper = mintkeeper.NewKeeper(cdc, kv(minttypes.StoreKey), app.StakingKeeper, app.AccountKeeper,
		app.BankKeeper, authtypes.FeeCollectorName, govAuthority)

	app.DistrKeeper = distrkeeper.NewKeeper(cdc, kv(distrtypes.StoreKey), app.AccountKeeper, app.BankKeeper,
		app.StakingKeeper, authtypes.FeeCollectorName, govAuthority)

	app.SlashingKeeper = slashingkeeper.NewKeeper(cdc, app.legacyAmino, kv(slashingtypes.StoreKey),
		app.StakingKeeper, govAuthority)

	app.FeeGrantKeeper = feegrantkeeper.NewKeeper(cdc, kv(feegrant.StoreKey), app.AccountKeeper)

	app.StakingKeeper.SetHooks(stakingtypes.NewMultiStakingHooks(app.DistrKeeper.Hooks(), app.SlashingKeeper.Hooks()))

	app.AuthzKeeper = authzkeeper.NewKeeper(kv(authzkeeper.StoreKey), cdc, app.MsgServiceRouter(), app.AccountKeeper)

	skipUpgradeHeights := map[int64]bool{}
	for _, h := range cast.ToIntSlice(appOpts.Get(server.FlagUnsafeSkipUpgrades)) {
		skipUpgradeHeights[int64(h)] = true
	}
	homePath := cast.ToString(appOpts.Get(flags.FlagHome))
	app.UpgradeKeeper = upgradekeeper.NewKeeper(skipUpgradeHeights, kv(upgradetypes.StoreKey), cdc, homePath,
		app.BaseApp, govAuthority)

	app.GovKeeper = govkeeper.NewKeeper(cdc, kv(govtypes.StoreKey), app.AccountKeeper, app.BankKeeper,
		app.DistrKeeper, app.MsgServiceRouter(), govtypes.DefaultConfig(), govAuthority,
		govkeeper.NewDefaultCalculateVoteResultsAndVotingPower(app.StakingKeeper))
	// The legacy v1beta1 router keeps text proposals working (and gov sims
	// need it); new proposals carry messages executed with gov authority.
	app.GovKeeper.SetLegacyRouter(govv1beta1.NewRouter().AddRoute(govtypes.RouterKey, govv1beta1.ProposalHandler))

	evidenceKeeper := evidencekeeper.NewKeeper(cdc, kv(evidencetypes.StoreKey), app.StakingKeeper,
		app.SlashingKeeper, accCodec, runtime.ProvideCometInfoService())
	app.EvidenceKeeper = *evidenceKeeper

	app.EpochsKeeper = epochskeeper.NewKeeper(kv(epochstypes.StoreKey), cdc)

	app.ProviderKeeper = providerkeeper.NewKeeper(cdc, kv(providertypes.StoreKey), accCodec, govAuthority)
	app.StakingSlashKeeper = stakingslashkeeper.NewKeeper(cdc, kv(stakingslashtypes.StoreKey), accCodec, govAuthority,
		app.AccountKeeper, app.BankKeeper, MarketReserveAccount)
	app.EscrowKeeper = escrowkeeper.NewKeeper(cdc, kv(escrowtypes.StoreKey), accCodec, govAuthority,
		app.AccountKeeper, app.BankKeeper, app.DistrKeeper, MarketReserveAccount)
	app.MarketKeeper = marketkeeper.NewKeeper(cdc, kv(markettypes.StoreKey), accCodec, govAuthority,
		app.ProviderKeeper, app.StakingSlashKeeper, app.EscrowKeeper)
	app.ProofOfComputeKeeper = proofofcomputekeeper.NewKeeper(cdc, kv(proofofcomputetypes.StoreKey), accCodec, govAuthority,
		app.AccountKeeper, app.BankKeeper, app.ProviderKeeper, app.StakingSlashKeeper, app.MarketKeeper)
	// x/stakingslash mirrors each provider's registration and billable GPU
	// count (for the required bond) and unbonds on deregistration; x/market
	// refuses a deregistration while the provider has active leases;
	// x/proofofcompute keeps the provider's reward weight in step with its
	// verified, idle GPUs.
	app.ProviderKeeper.SetHooks(providertypes.MultiProviderHooks{
		app.StakingSlashKeeper.ProviderHooks(), app.MarketKeeper.ProviderHooks(),
		app.ProofOfComputeKeeper.ProviderHooks(),
	})
	// x/proofofcompute follows each provider's collateral: a jail, a slash
	// or a bond change that makes a provider ineligible (or eligible again)
	// changes its reward weight in the same block.
	app.StakingSlashKeeper.SetHooks(stakingslashtypes.MultiStakingSlashHooks{
		app.ProofOfComputeKeeper.StakingSlashHooks(),
	})

	app.ModuleManager = module.NewManager(
		genutil.NewAppModule(app.AccountKeeper, app.StakingKeeper, app, enc.TxConfig),
		auth.NewAppModule(cdc, app.AccountKeeper, authsims.RandomGenesisAccounts, nil),
		vesting.NewAppModule(app.AccountKeeper, app.BankKeeper),
		bank.NewAppModule(cdc, app.BankKeeper, app.AccountKeeper, nil),
		feegrantmodule.NewAppModule(cdc, app.AccountKeeper, app.BankKeeper, app.FeeGrantKeeper, app.interfaceRegistry),
		gov.NewAppModule(cdc, app.GovKeeper, app.AccountKeeper, app.BankKeeper, nil),
		mint.NewAppModule(cdc, app.MintKeeper, app.AccountKeeper, nil, nil),
		slashing.NewAppModule(cdc, app.SlashingKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil, app.interfaceRegistry),
		distr.NewAppModule(cdc, app.DistrKeeper, app.AccountKeeper, app.BankKeeper, app.StakingKeeper, nil),
		staking.NewAppModule(cdc, app.StakingKeeper, app.AccountKeeper, app.BankKeeper, nil),
		upgrade.NewAppModule(app.UpgradeKeeper, accCodec),
		evidence.NewAppModule(app.EvidenceKeeper),
		authzmodule.NewAppModule(cdc, app.AuthzKeeper, app.AccountKeeper, app.BankKeeper, app.interfaceRegistry),
		consensus.NewAppModule(cdc, app.ConsensusParamsKeeper),
		epochs.NewAppModule(&app.EpochsKeeper),

		provider.NewAppModule(cdc, app.ProviderKeeper),
		stakingslash.NewAppModule(cdc, app.StakingSlashKeeper),
		escrow.NewAppModule(cdc, app.EscrowKeeper),
		market.NewAppModule(cdc, app.MarketKeeper),
		proofofcompute.NewAppModule(cdc, app.ProofOfComputeKeeper),
	)

	app.BasicModuleManager = module.NewBasicManagerFromManager(app.ModuleManager, map[string]module.AppModuleBasic{
		genutiltypes.ModuleName: genutil.NewAppModuleBasic(genutiltypes.DefaultMessageValidator),
		govtypes.ModuleName:     gov.NewAppModuleBasic([]govclient.ProposalHandler{}),
		banktypes.ModuleName:    bankBasic{},
	})
	app.BasicModuleManager.RegisterLegacyAminoCodec(app.legacyAmino)
	app.BasicModuleManager.RegisterInterfaces(app.interfaceRegistry)

	app.ModuleManager.SetOrderPreBlockers(upgradetypes.ModuleName, authtypes.ModuleName)
	app.ModuleManager.SetOrderBeginBlockers(orderBeginBlockers()...)
	app.ModuleManager.SetOrderEndBlockers(orderEndBlockers()...)
	app.ModuleManager.SetOrderInitGenesis(orderInitGenesis()...)
	app.ModuleManager.SetOrderExportGenesis(orderInitGenesis()...)

	app.configurator = module.NewConfigurator(app.appCodec, app.MsgServiceRouter(), app.GRPCQueryRouter())
	if err := app.ModuleManager.RegisterServices(app.configurator); err != nil {
		panic(err)
	}

	autocliv1.RegisterQueryServer(app.GRPCQueryRouter(), runtimeservices.NewAutoCLIQueryService(app.ModuleManager.Modules))
	reflectionSvc, err := runtimeservices.NewReflectionService()
	if err != nil {
		panic(err)
	}
	reflectionv1.RegisterReflectionServiceServer(app.GRPCQueryRouter(), reflectionSvc)

	app.registerUpgradeHandlers()

	app.sm = module.NewSimulationManagerFromAppModules(app.ModuleManager.Modules, nil)
	app.sm.RegisterStoreDecoders()

	app.MountKVStores(keys)
	app.MountObjectStores(objKeys)

	app.SetInitChainer(app.InitChainer)
	app.SetPreBlocker(app.PreBlocker)
	app.SetBeginBlocker(app.BeginBlocker)
	app.SetEndBlocker(app.EndBlocker)
	app.setAnteHandler(enc.TxConfig)

	// Sequential execution unless app.toml (or --block-executor) selects
	// block-stm. Every non-transient store takes part in conflict tracking.
	blockexec.Apply(bApp, appOpts, app.allStoreKeys(), enc.TxConfig.TxDecoder(),
		func(storetypes.MultiStore) string { return BondDenom })

	if loadLatest {
		app.setUpgradeStoreLoader()
		if err := app.LoadLatestVersion(); err != nil {
			panic(fmt.Errorf("load latest version: %w", err))
		}
	}
	return app
}

// orderBeginBlockers: mint before distribution so this block's inflation is
// distributed; slashing and evidence after distribution.
func orderBeginBlockers() []string {
	return []string{
		minttypes.ModuleName, distrtypes.ModuleName, slashingtypes.ModuleName, evidencetypes.ModuleName,
		stakingtypes.ModuleName, authz.ModuleName, epochstypes.ModuleName,
	}
}

// orderEndBlockers: bank first (it settles Block-STM virtual accounts), then
// gov and staking.
func orderEndBlockers() []string {
	return []string{
		banktypes.ModuleName, govtypes.ModuleName, stakingtypes.ModuleName, feegrant.ModuleName,
		// After bank, so that coins sent to module accounts during the block
		// (Block-STM virtual accounts) are credited before payouts.
		stakingslashtypes.ModuleName,
		// x/market closes the auction windows, lease ends and dry escrow
		// accounts due at this block time.
		markettypes.ModuleName,
		// x/proofofcompute after x/market, so the GPUs leased or freed in
		// this block are counted when it samples nodes and issues
		// challenges.
		proofofcomputetypes.ModuleName,
	}
}

// orderInitGenesis: genutil after staking and bank so gentxs see funded
// accounts and a staking pool; the market modules after the SDK modules, each
// after the modules it depends on.
func orderInitGenesis() []string {
	return []string{
		consensustypes.ModuleName, authtypes.ModuleName, banktypes.ModuleName, distrtypes.ModuleName,
		stakingtypes.ModuleName, slashingtypes.ModuleName, govtypes.ModuleName, minttypes.ModuleName,
		genutiltypes.ModuleName, evidencetypes.ModuleName, authz.ModuleName, feegrant.ModuleName,
		vestingtypes.ModuleName, upgradetypes.ModuleName, epochstypes.ModuleName,
		providertypes.ModuleName, stakingslashtypes.ModuleName, escrowtypes.ModuleName,
		markettypes.ModuleName, proofofcomputetypes.ModuleName,
	}
}

func (app *App) setAnteHandler(txConfig client.TxConfig) {
	handler, err := ante.NewAnteHandler(ante.HandlerOptions{
		AccountKeeper:   app.AccountKeeper,
		BankKeeper:      app.BankKeeper,
		FeegrantKeeper:  app.FeeGrantKeeper,
		SignModeHandler: txConfig.SignModeHandler(),
		SigGasConsumer:  ante.DefaultSigVerificationGasConsumer,
		TxFeeChecker:    app.txFeeChecker,
	})
	if err != nil {
		panic(fmt.Errorf("ante handler: %w", err))
	}
	app.SetAnteHandler(handler)
}

// allStoreKeys lists every KV and object store key, in name order.
func (app *App) allStoreKeys() []storetypes.StoreKey {
	out := make([]storetypes.StoreKey, 0, len(app.keys)+len(app.objKeys))
	for _, name := range slices.Sorted(maps.Keys(app.keys)) {
		out = append(out, app.keys[name])
	}
	for _, name := range slices.Sorted(maps.Keys(app.objKeys)) {
		out = append(out, app.objKeys[name])
	}
	return out
}

// Name returns the application name.
func (app *App) Name() string { return app.BaseApp.Name() }

// LegacyAmino returns the amino codec.
func (app *App) LegacyAmino() *codec.LegacyAmino { return app.legacyAmino }

// AppCodec returns the proto codec.
func (app *App) AppCodec() codec.Codec { return app.appCodec }

// InterfaceRegistry returns the interface registry.
func (app *App) InterfaceRegistry() codectypes.InterfaceRegistry { return app.interfaceRegistry }

// TxConfig returns the tx config.
func (app *App) TxConfig() client.TxConfig { return app.txConfig }

// PreBlocker runs the pre-blockers (upgrades, auth params).
func (app *App) PreBlocker(ctx sdk.Context, _ *abci.RequestFinalizeBlock) (*sdk.ResponsePreBlock, error) {
	return app.ModuleManager.PreBlock(ctx)
}

// BeginBlocker runs the begin blockers.
func (app *App) BeginBlocker(ctx sdk.Context) (sdk.BeginBlock, error) {
	return app.ModuleManager.BeginBlock(ctx)
}

// EndBlocker runs the end blockers, then the invariants when app.toml's
// invariants-every asks for this block (a broken one stops the node).
func (app *App) EndBlocker(ctx sdk.Context) (sdk.EndBlock, error) {
	res, err := app.ModuleManager.EndBlock(ctx)
	if err != nil {
		return res, err
	}
	return res, app.checkInvariantsAtEndBlock(ctx)
}

// InitChainer initialises every module from the genesis app state.
func (app *App) InitChainer(ctx sdk.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var state map[string]json.RawMessage
	if err := json.Unmarshal(req.AppStateBytes, &state); err != nil {
		return nil, fmt.Errorf("decode genesis app state: %w", err)
	}
	if err := app.UpgradeKeeper.SetModuleVersionMap(ctx, app.ModuleManager.GetVersionMap()); err != nil {
		return nil, err
	}
	return app.ModuleManager.InitGenesis(ctx, app.appCodec, state)
}

// LoadHeight loads the state at a given height.
func (app *App) LoadHeight(height int64) error { return app.LoadVersion(height) }

// DefaultGenesis returns the default genesis of every module, in gpumesh
// denoms.
func (app *App) DefaultGenesis() GenesisState {
	return app.BasicModuleManager.DefaultGenesis(app.appCodec)
}

// SimulationManager implements runtime.AppI.
func (app *App) SimulationManager() *module.SimulationManager { return app.sm }

// AutoCliOpts returns the autocli options of every module, for the CLI.
func (app *App) AutoCliOpts() autocli.AppOptions {
	modules := make(map[string]appmodule.AppModule, len(app.ModuleManager.Modules))
	for _, name := range slices.Sorted(maps.Keys(app.ModuleManager.Modules)) {
		if am, ok := app.ModuleManager.Modules[name].(appmodule.AppModule); ok {
			modules[name] = am
		}
	}
	return autocli.AppOptions{
		Modules:               modules,
		ModuleOptions:         runtimeservices.ExtractAutoCLIOptions(app.ModuleManager.Modules),
		AddressCodec:          address.NewBech32Codec(AccountAddressPrefix),
		ValidatorAddressCodec: address.NewBech32Codec(ValidatorAddressPrefix),
		ConsensusAddressCodec: address.NewBech32Codec(ConsensusAddressPrefix),
	}
}

// RegisterAPIRoutes mounts the gRPC-gateway (REST) routes of every module and
// of the SDK's tx, CometBFT and node services on the API server.
func (app *App) RegisterAPIRoutes(apiSvr *api.Server, _ config.APIConfig) {
	clientCtx := apiSvr.ClientCtx
	authtx.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	cmtservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	nodeservice.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
	app.BasicModuleManager.RegisterGRPCGatewayRoutes(clientCtx, apiSvr.GRPCGatewayRouter)
}

// RegisterTxService registers the tx gRPC service (simulate, broadcast, get).
func (app *App) RegisterTxService(clientCtx client.Context) {
	authtx.RegisterTxService(app.GRPCQueryRouter(), clientCtx, app.Simulate, app.interfaceRegistry)
}

// RegisterTendermintService registers the CometBFT gRPC query service.
func (app *App) RegisterTendermintService(clientCtx client.Context) {
	cmtApp := server.NewCometABCIWrapper(app)
	cmtservice.RegisterTendermintService(clientCtx, app.GRPCQueryRouter(), app.interfaceRegistry, cmtApp.Query)
}

// RegisterNodeService registers the node gRPC service.
func (app *App) RegisterNodeService(clientCtx client.Context, cfg config.Config) {
	nodeservice.RegisterNodeService(clientCtx, app.GRPCQueryRouter(), cfg, func() int64 {
		return app.CommitMultiStore().EarliestVersion()
	})
}

// GetKey returns the KV store key of a module (tests).
func (app *App) GetKey(name string) *storetypes.KVStoreKey { return app.keys[name] }

// BlockedAddresses lists the addresses that may not receive coins through
// bank sends: every module account except the governance account, which
// accepts deposits.
func BlockedAddresses() map[string]bool {
	out := make(map[string]bool, len(moduleAccountPermissions))
	for _, name := range slices.Sorted(maps.Keys(moduleAccountPermissions)) {
		out[authtypes.NewModuleAddress(name).String()] = true
	}
	delete(out, authtypes.NewModuleAddress(govtypes.ModuleName).String())
	return out
}

// ModuleAccountPermissions returns a copy of the module account permissions.
func ModuleAccountPermissions() map[string][]string {
	out := make(map[string][]string, len(moduleAccountPermissions))
	for _, name := range slices.Sorted(maps.Keys(moduleAccountPermissions)) {
		out[name] = slices.Clone(moduleAccountPermissions[name])
	}
	return out
}
