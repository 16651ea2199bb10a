// Package network runs in-process multi-validator gpumesh networks for
// integration tests, on the SDK's testutil/network: real CometBFT nodes,
// gRPC and REST servers, in one test process.
package network

import (
	"fmt"
	"testing"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/baseapp"
	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	pruningtypes "github.com/cosmos/cosmos-sdk/store/v2/pruning/types"
	sdknetwork "github.com/cosmos/cosmos-sdk/testutil/network"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	moduletestutil "github.com/cosmos/cosmos-sdk/types/module/testutil"

	"github.com/gpumesh/gpumesh/app"
)

// Network is a running in-process network.
type Network = sdknetwork.Network

// DefaultConfig returns a gpumesh network configuration: numValidators
// validators on chainID, in umesh, with the gpumesh default genesis.
func DefaultConfig(chainID string, numValidators int) sdknetwork.Config {
	tmp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	enc := moduletestutil.TestEncodingConfig{
		InterfaceRegistry: tmp.InterfaceRegistry(),
		Codec:             tmp.AppCodec(),
		TxConfig:          tmp.TxConfig(),
		Amino:             tmp.LegacyAmino(),
	}
	cfg := sdknetwork.DefaultConfig(func() sdknetwork.TestFixture {
		return sdknetwork.TestFixture{
			AppConstructor: func(val sdknetwork.ValidatorI) servertypes.Application {
				return app.New(val.GetCtx().Logger, dbm.NewMemDB(), true, simtestutil.EmptyAppOptions{},
					baseapp.SetPruning(pruningtypes.NewPruningOptionsFromString(val.GetAppConfig().Pruning)),
					baseapp.SetMinGasPrices(val.GetAppConfig().MinGasPrices),
					baseapp.SetChainID(chainID),
				)
			},
			GenesisState:   tmp.DefaultGenesis(),
			EncodingConfig: enc,
		}
	})
	cfg.ChainID = chainID
	cfg.NumValidators = numValidators
	cfg.BondDenom = app.BondDenom
	cfg.MinGasPrices = fmt.Sprintf("0%s", app.BondDenom)
	return cfg
}

// New starts a network and stops it when the test ends. It skips under
// -short: starting real nodes takes seconds.
func New(t *testing.T, cfg sdknetwork.Config) *Network {
	t.Helper()
	if testing.Short() {
		t.Skip("in-process network skipped under -short")
	}
	net, err := sdknetwork.New(t, t.TempDir(), cfg)
	require.NoError(t, err)
	t.Cleanup(net.Cleanup)
	return net
}
