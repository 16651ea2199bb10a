package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	rpcclient "github.com/cometbft/cometbft/rpc/client"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/spf13/viper"
	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/server"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
)

// abciNode is a node's RPC as the CLI sees it: abci_query goes to the
// app's Query through the wrapper CometBFT uses, as CometBFT's RPC does.
// The CLI calls nothing else (the embedded interface is nil).
type abciNode struct {
	client.CometRPC
	app abci.Application
}

func (n abciNode) ABCIQueryWithOptions(ctx context.Context, path string, data cmtbytes.HexBytes,
	opts rpcclient.ABCIQueryOptions,
) (*coretypes.ResultABCIQuery, error) {
	res, err := n.app.Query(ctx, &abci.RequestQuery{Path: path, Data: data, Height: opts.Height, Prove: opts.Prove})
	if err != nil {
		return nil, err
	}
	return &coretypes.ResultABCIQuery{Response: *res}, nil
}

// runInvariants runs `gpumeshd query invariants args…` against a.
func runInvariants(t *testing.T, a *apptest.App, args ...string) (string, error) {
	t.Helper()
	clientCtx := client.Context{}.WithClient(abciNode{app: server.NewCometABCIWrapper(a.App)})
	cmd := InvariantsCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.WithValue(context.Background(), client.ClientContextKey, &clientCtx))
	return out.String(), err
}

func TestQueryInvariants(t *testing.T) {
	a := apptest.New(t, apptest.WithAppOption(app.FlagInvariantsQuery, true))
	healthy := a.LastBlockHeight()

	out, err := runInvariants(t, a)
	require.NoError(t, err, out)
	require.Equal(t, `invariants at height `+strconv.FormatInt(healthy, 10)+`
  x/provider         ok
  x/stakingslash     ok
  x/escrow           ok
  x/market           ok
  x/proofofcompute   ok
all 5 modules' invariants hold
`, out)

	// Coins arrive in the escrow module account outside its books.
	ctx := a.KeeperCtx()
	coins := sdk.NewCoins(sdk.NewCoin(app.BondDenom, math.NewInt(3)))
	require.NoError(t, a.BankKeeper.SendCoinsFromAccountToModule(ctx, a.Account("alice").Address, escrowtypes.ModuleName, coins))
	ctx.MultiStore().(storetypes.CacheMultiStore).Write()
	a.NextBlock()
	broken := a.LastBlockHeight()

	out, err = runInvariants(t, a)
	require.ErrorContains(t, err, "1 invariant violation(s) at height "+strconv.FormatInt(broken, 10)+": x/escrow module-account")
	require.Contains(t, out, "  x/escrow           BROKEN\n    module-account: module account holds \"3umesh\"")
	require.Contains(t, out, "  x/market           ok\n")
	require.NotContains(t, out, "hold\n")

	out, err = runInvariants(t, a, "-o", "json")
	require.Error(t, err, "a broken invariant exits non-zero in JSON too")
	var report app.InvariantsReport
	require.NoError(t, json.Unmarshal([]byte(out), &report), out)
	require.Equal(t, broken, report.Height)
	require.False(t, report.OK)
	require.Len(t, report.Broken, 1)
	require.Equal(t, app.BrokenInvariant{Module: "escrow", Invariant: "module-account", Message: report.Broken[0].Message}, report.Broken[0])

	// --height asks for the state before the coins arrived.
	out, err = runInvariants(t, a, "--height", strconv.FormatInt(healthy, 10))
	require.NoError(t, err, out)
	require.Contains(t, out, "invariants at height "+strconv.FormatInt(healthy, 10)+"\n")
}

// A node that has not enabled the query refuses it, and the CLI says why.
func TestQueryInvariantsRefused(t *testing.T) {
	a := apptest.New(t)
	out, err := runInvariants(t, a)
	require.ErrorContains(t, err, "refused /gpumesh/invariants (sdk code 4)")
	require.ErrorContains(t, err, "set [gpumesh] invariants-query = true in app.toml")
	require.Empty(t, out)
}

// gpumeshSection reads app.toml at path as a node does (viper) and returns
// the [gpumesh] options app.New reads.
func gpumeshSection(t *testing.T, path string) map[string]any {
	t.Helper()
	v := viper.New()
	v.SetConfigFile(path)
	require.NoError(t, v.ReadInConfig())
	return map[string]any{"invariants-every": v.Get(app.FlagInvariantsEvery), "invariants-query": v.Get(app.FlagInvariantsQuery)}
}

// `gpumeshd init` writes the [gpumesh] section with both checks off, and
// `gpumeshd config set` can turn them on.
func TestInitWritesInvariantOptions(t *testing.T) {
	home := t.TempDir()
	_, err := runRoot(t, "init", "node0", "--home", home, "--chain-id", "gpumesh-t-1")
	require.NoError(t, err)
	path := filepath.Join(home, "config", "app.toml")
	require.Equal(t, map[string]any{"invariants-every": int64(0), "invariants-query": false}, gpumeshSection(t, path))

	_, err = runRoot(t, "config", "set", "app", "gpumesh.invariants-every", "100", "gpumesh.invariants-query", "true", "--home", home)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"invariants-every": int64(100), "invariants-query": true}, gpumeshSection(t, path))
}

// `testnet init-files --invariants-every` sets how often local networks
// check.
func TestTestnetInvariantsEvery(t *testing.T) {
	dir := t.TempDir()
	_, err := runInitFiles(t, "--output-dir", dir, "--invariants-every", "0")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"invariants-every": int64(0), "invariants-query": true},
		gpumeshSection(t, filepath.Join(dir, "node0", "config", "app.toml")))
}
