// Package cmd holds the gpumeshd command tree.
package cmd

import (
	"errors"
	"os"

	cmtcfg "github.com/cometbft/cometbft/config"
	dbm "github.com/cosmos/cosmos-db"
	"github.com/spf13/cobra"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/config"
	"github.com/cosmos/cosmos-sdk/client/debug"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/keys"
	"github.com/cosmos/cosmos-sdk/client/pruning"
	"github.com/cosmos/cosmos-sdk/client/rpc"
	"github.com/cosmos/cosmos-sdk/client/snapshot"
	"github.com/cosmos/cosmos-sdk/server"
	serverconfig "github.com/cosmos/cosmos-sdk/server/config"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	authcli "github.com/cosmos/cosmos-sdk/x/auth/client/cli"
	"github.com/cosmos/cosmos-sdk/x/auth/types"
	genutilcli "github.com/cosmos/cosmos-sdk/x/genutil/client/cli"

	"github.com/gpumesh/gpumesh/app"
)

// NewRootCmd builds the gpumeshd root command.
func NewRootCmd() *cobra.Command {
	// A throwaway app provides the module basics, codecs and autocli options;
	// it never opens a real database.
	tempApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, emptyAppOptions{})
	encoding := app.EncodingConfig{
		InterfaceRegistry: tempApp.InterfaceRegistry(),
		Codec:             tempApp.AppCodec(),
		TxConfig:          tempApp.TxConfig(),
		Amino:             tempApp.LegacyAmino(),
	}

	initClientCtx := client.Context{}.
		WithCodec(encoding.Codec).
		WithInterfaceRegistry(encoding.InterfaceRegistry).
		WithTxConfig(encoding.TxConfig).
		WithLegacyAmino(encoding.Amino).
		WithInput(os.Stdin).
		WithAccountRetriever(types.AccountRetriever{}).
		WithHomeDir(app.DefaultNodeHome).
		WithViper("GPUMESHD")

	rootCmd := &cobra.Command{
		Use:           "gpumeshd",
		Short:         "gpumesh node: a decentralized GPU compute market on Cosmos SDK",
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SetOut(cmd.OutOrStdout())
			cmd.SetErr(cmd.ErrOrStderr())

			clientCtx, err := client.ReadPersistentCommandFlags(initClientCtx, cmd.Flags())
			if err != nil {
				return err
			}
			clientCtx, err = config.ReadFromClientConfig(clientCtx)
			if err != nil {
				return err
			}
			if err := client.SetCmdClientContextHandler(clientCtx, cmd); err != nil {
				return err
			}
			if clientOnly(cmd) {
				return nil
			}
			appTemplate, appConfig := initAppConfig()
			return server.InterceptConfigsPreRunHandler(cmd, appTemplate, appConfig, initCometConfig())
		},
	}

	initRootCmd(rootCmd, tempApp.BasicModuleManager, encoding)

	autoCliOpts := tempApp.AutoCliOpts()
	autoCliOpts.ClientCtx = initClientCtx
	if err := autoCliOpts.EnhanceRootCommand(rootCmd); err != nil {
		panic(err)
	}
	return rootCmd
}

// clientOnly reports whether cmd is under `tx` or `query`. Those commands
// read client.toml only: the node's config files are not bound to their
// flags, because a config key that shares a flag's name would silently fill
// an omitted flag (config.toml's moniker would become `tx provider update`'s
// --moniker).
func clientOnly(cmd *cobra.Command) bool {
	for c := cmd; c != nil && c.Parent() != nil; c = c.Parent() {
		if c.Parent().Parent() == nil {
			return c.Name() == "tx" || c.Name() == "query"
		}
	}
	return false
}

func initRootCmd(rootCmd *cobra.Command, basics module.BasicManager, encoding app.EncodingConfig) {
	rootCmd.AddCommand(
		genutilcli.InitCmd(basics, app.DefaultNodeHome),
		debug.Cmd(),
		pruning.Cmd(newApp, app.DefaultNodeHome),
		snapshot.Cmd(newApp),
		ConfigCmd(),
		TestnetCmd(basics, encoding),
	)

	server.AddCommands(rootCmd, app.DefaultNodeHome, newApp, appExport, addStartFlags)

	rootCmd.AddCommand(
		server.StatusCommand(),
		genutilcli.Commands(encoding.TxConfig, basics, app.DefaultNodeHome),
		queryCommand(),
		txCommand(),
		keys.Commands(),
	)
}

func queryCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "query",
		Aliases:                    []string{"q"},
		Short:                      "Querying subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		rpc.QueryEventForTxCmd(),
		rpc.ValidatorCommand(),
		server.QueryBlockCmd(),
		server.QueryBlocksCmd(),
		server.QueryBlockResultsCmd(),
		authcli.QueryTxsByEventsCmd(),
		authcli.QueryTxCmd(),
		InvariantsCmd(),
	)
	return cmd
}

func txCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "tx",
		Short:                      "Transactions subcommands",
		DisableFlagParsing:         false,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(
		authcli.GetSignCommand(),
		authcli.GetSignBatchCommand(),
		authcli.GetMultiSignCommand(),
		authcli.GetMultiSignBatchCmd(),
		authcli.GetValidateSignaturesCommand(),
		authcli.GetBroadcastCommand(),
		authcli.GetEncodeCommand(),
		authcli.GetDecodeCommand(),
		authcli.GetSimulateCmd(),
	)
	return cmd
}

// newApp is the server's AppCreator: it opens the node's app over db with
// the options from app.toml and the command line.
func newApp(logger log.Logger, db dbm.DB, appOpts servertypes.AppOptions) servertypes.Application {
	return app.New(logger, db, true, appOpts, server.DefaultBaseappOptions(appOpts)...)
}

// appExport exports state at height (or the latest, if -1) for a genesis
// file.
func appExport(
	logger log.Logger, db dbm.DB, height int64, forZeroHeight bool, jailAllowedAddrs []string,
	appOpts servertypes.AppOptions, modulesToExport []string,
) (servertypes.ExportedApp, error) {
	homePath, ok := appOpts.Get(flags.FlagHome).(string)
	if !ok || homePath == "" {
		return servertypes.ExportedApp{}, errors.New("application home is not set")
	}
	// Exporting an older height loads that version instead of the latest.
	a := app.New(logger, db, height == -1, appOpts, server.DefaultBaseappOptions(appOpts)...)
	if height != -1 {
		if err := a.LoadHeight(height); err != nil {
			return servertypes.ExportedApp{}, err
		}
	}
	return a.ExportAppStateAndValidators(forZeroHeight, jailAllowedAddrs, modulesToExport)
}

// initAppConfig returns app.toml's template and defaults: gRPC on, REST on,
// a non-zero minimum gas price so a public node does not accept free
// transactions, and the [gpumesh] invariant checks off (a real node pays
// for them on every checked block or query; local networks turn them on).
func initAppConfig() (string, any) {
	cfg := serverconfig.DefaultConfig()
	cfg.MinGasPrices = "0.0025" + app.BondDenom
	cfg.API.Enable = true
	cfg.GRPC.Enable = true
	return appConfigTemplate, AppConfig{Config: *cfg}
}

// addStartFlags adds gpumesh's app.toml options to `gpumeshd start`; a flag
// given overrides app.toml.
func addStartFlags(cmd *cobra.Command) {
	cmd.Flags().Uint64(app.FlagInvariantsEvery, 0,
		"check the gpumesh invariants at the end of every N-th block and stop at a broken one (0: never)")
	cmd.Flags().Bool(app.FlagInvariantsQuery, false,
		"answer 'gpumeshd query invariants' (walks whole stores; not for public RPC nodes)")
}

type emptyAppOptions struct{}

func (emptyAppOptions) Get(string) any { return nil }

// initCometConfig returns CometBFT's defaults for a new node's config.toml.
// The SDK raises the commit timeout of a new config.toml to 5 s, a safe
// block time for public networks; local networks use 1 s (testnet
// init-files).
func initCometConfig() *cmtcfg.Config {
	return cmtcfg.DefaultConfig()
}
