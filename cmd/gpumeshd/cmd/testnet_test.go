package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	dbm "github.com/cosmos/cosmos-db"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"
	genutiltypes "github.com/cosmos/cosmos-sdk/x/genutil/types"

	"github.com/gpumesh/gpumesh/app"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

func runInitFiles(t *testing.T, args ...string) (string, error) {
	t.Helper()
	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	enc := app.EncodingConfig{InterfaceRegistry: a.InterfaceRegistry(), Codec: a.AppCodec(), TxConfig: a.TxConfig(), Amino: a.LegacyAmino()}
	cmd := TestnetCmd(a.BasicModuleManager, enc)
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"init-files"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

func TestTestnetInitFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := runInitFiles(t, "--validators", "3", "--output-dir", dir, "--port-offset", "1000", "--chain-id", "gpumesh-t-9",
		"--provider-unbonding-time", "45s", "--min-deposit-seconds", "90")
	require.NoError(t, err)

	var genesisBytes []byte
	for i := 0; i < 3; i++ {
		home := filepath.Join(dir, fmt.Sprintf("node%d", i))
		bz, err := os.ReadFile(filepath.Join(home, "config", "genesis.json"))
		require.NoError(t, err)
		if i == 0 {
			genesisBytes = bz
		} else {
			require.Equal(t, genesisBytes, bz, "node%d has a different genesis", i)
		}

		cometCfg, err := os.ReadFile(filepath.Join(home, "config", "config.toml"))
		require.NoError(t, err)
		p := portsOf(1000, i)
		require.Contains(t, string(cometCfg), fmt.Sprintf(`laddr = "tcp://127.0.0.1:%d"`, p.RPC))
		require.Contains(t, string(cometCfg), fmt.Sprintf(`laddr = "tcp://127.0.0.1:%d"`, p.P2P))
		require.Contains(t, string(cometCfg), `pprof_laddr = ""`)
		appCfg, err := os.ReadFile(filepath.Join(home, "config", "app.toml"))
		require.NoError(t, err)
		require.Contains(t, string(appCfg), fmt.Sprintf(`address = "tcp://127.0.0.1:%d"`, p.API))
		require.Contains(t, string(appCfg), fmt.Sprintf(`address = "127.0.0.1:%d"`, p.GRPC))
		require.Contains(t, string(appCfg), `minimum-gas-prices = "0umesh"`)
		// Local networks check every invariant every block and answer
		// `gpumeshd query invariants`.
		require.Equal(t, map[string]any{"invariants-every": int64(1), "invariants-query": true},
			gpumeshSection(t, filepath.Join(home, "config", "app.toml")))
		clientCfg, err := os.ReadFile(filepath.Join(home, "config", "client.toml"))
		require.NoError(t, err)
		require.Contains(t, string(clientCfg), `chain-id = "gpumesh-t-9"`)
		require.Contains(t, string(clientCfg), `keyring-backend = "test"`)
		require.Contains(t, string(clientCfg), fmt.Sprintf(`node = "tcp://127.0.0.1:%d"`, p.RPC))
	}

	gen, err := genutiltypes.AppGenesisFromFile(filepath.Join(dir, "node0", "config", "genesis.json"))
	require.NoError(t, err)
	require.Equal(t, "gpumesh-t-9", gen.ChainID)
	var state map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(gen.AppState, &state))

	a := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.EmptyAppOptions{})
	cdc := a.AppCodec()
	require.NoError(t, a.BasicModuleManager.ValidateGenesis(cdc, a.TxConfig(), state))

	var collateralGen stakingslashtypes.GenesisState
	cdc.MustUnmarshalJSON(state[stakingslashtypes.ModuleName], &collateralGen)
	require.Equal(t, 45*time.Second, collateralGen.Params.UnbondingTime, "--provider-unbonding-time")

	var marketGen markettypes.GenesisState
	cdc.MustUnmarshalJSON(state[markettypes.ModuleName], &marketGen)
	require.Equal(t, uint64(90), marketGen.Params.MinDepositSeconds, "--min-deposit-seconds")
	var escrowGen escrowtypes.GenesisState
	cdc.MustUnmarshalJSON(state[escrowtypes.ModuleName], &escrowGen)
	require.Contains(t, escrowGen.Params.AllowedDenoms, app.StableDenom, "orders may be paid in uusdc on a localnet")

	var genutilGen genutiltypes.GenesisState
	cdc.MustUnmarshalJSON(state[genutiltypes.ModuleName], &genutilGen)
	require.Len(t, genutilGen.GenTxs, 3)

	// The test accounts are in node0's keyring with their well-known
	// addresses and are funded; supply is the sum of all balances.
	kr, err := keyring.New(sdk.KeyringServiceName(), keyring.BackendTest, filepath.Join(dir, "node0"), nil, cdc)
	require.NoError(t, err)
	var bankGen banktypes.GenesisState
	cdc.MustUnmarshalJSON(state[banktypes.ModuleName], &bankGen)
	balances := map[string]sdk.Coins{}
	total := sdk.NewCoins()
	for _, b := range bankGen.Balances {
		balances[b.Address] = b.Coins
		total = total.Add(b.Coins...)
	}
	require.Equal(t, total.String(), bankGen.Supply.String())
	require.Len(t, bankGen.Balances, len(TestAccounts)+3)
	for _, acc := range TestAccounts {
		rec, err := kr.Key(acc.Name)
		require.NoError(t, err, acc.Name)
		addr, err := rec.GetAddress()
		require.NoError(t, err)
		require.Equal(t, "1000000000000umesh,1000000000000uusdc", balances[addr.String()].String(), acc.Name)
	}
	alice, err := kr.Key("alice")
	require.NoError(t, err)
	aliceAddr, err := alice.GetAddress()
	require.NoError(t, err)
	require.Equal(t, "mesh1qsy9dmc59rt99pk9c42y02ky89c3artk48dwln", aliceAddr.String(), "alice's address must be stable")
}

func TestTestnetInitFilesRejectsBadInput(t *testing.T) {
	cases := map[string]struct {
		args    []string
		wantErr string
	}{
		"zero validators":    {[]string{"--validators", "0"}, "--validators 0"},
		"port overflow":      {[]string{"--port-offset", "60000"}, "--port-offset 60000"},
		"negative offset":    {[]string{"--port-offset", "-5"}, "--port-offset -5"},
		"bond in usdc":       {[]string{"--self-bond", "100uusdc"}, `--self-bond "100uusdc": must be in umesh`},
		"bond over balance":  {[]string{"--self-bond", "2000umesh", "--validator-coins", "1000umesh"}, "exceeds --validator-coins"},
		"bad coins":          {[]string{"--account-coins", "lots"}, `--account-coins "lots"`},
		"zero block time":    {[]string{"--block-time", "0s"}, "--block-time 0s"},
		"negative unbonding": {[]string{"--provider-unbonding-time", "-1s"}, "--provider-unbonding-time -1s"},
		"zero min deposit":   {[]string{"--min-deposit-seconds", "0"}, "--min-deposit-seconds 0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := runInitFiles(t, append([]string{"--output-dir", dir}, tc.args...)...)
			require.ErrorContains(t, err, tc.wantErr)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "a rejected run must not write files")
		})
	}
}
