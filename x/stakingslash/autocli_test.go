package stakingslash_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/gpumesh/gpumesh/cmd/gpumeshd/cmd"
	"github.com/gpumesh/gpumesh/testutil/apptest"
)

// The generated CLI has the documented command shapes: positional
// arguments, a short description and an example on each, and no command
// for the governance-only MsgUpdateParams.
func TestAutoCLICommands(t *testing.T) {
	root := cmd.NewRootCmd()
	for _, tc := range []struct {
		path string
		use  string
		args int
	}{
		{"tx stakingslash bond", "bond [amount]", 1},
		{"tx stakingslash unbond", "unbond [amount]", 1},
		{"tx stakingslash unjail", "unjail", 0},
		{"query stakingslash bond", "bond [provider]", 1},
		{"query stakingslash params", "params", 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c, rest, err := root.Find(strings.Fields(tc.path))
			require.NoError(t, err)
			require.Empty(t, rest)
			require.Equal(t, tc.use, c.Use)
			require.NotEmpty(t, c.Short)
			require.NotEmpty(t, c.Example)
			require.NoError(t, c.Args(c, make([]string, tc.args)))
			require.Error(t, c.Args(c, make([]string, tc.args+1)))
		})
	}
	txCmd, _, err := root.Find([]string{"tx", "stakingslash"})
	require.NoError(t, err)
	for _, sub := range txCmd.Commands() {
		require.NotEqual(t, "update-params", sub.Name(), "MsgUpdateParams is governance only")
	}
}

// `tx stakingslash bond` parses its positional coin into MsgBond and signs
// for --from.
func TestAutoCLIBondGeneratesMsg(t *testing.T) {
	from := apptest.NewAccount("provider1").Address.String()
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{
		"tx", "stakingslash", "bond", "800000000umesh",
		"--from", from, "--generate-only", "--chain-id", apptest.ChainID,
	})
	// Execute as gpumeshd does, with a throwaway home for the client config.
	require.NoError(t, svrcmd.Execute(root, "GPUMESHD", t.TempDir()), out.String())
	require.Contains(t, out.String(), `"@type":"/gpumesh.stakingslash.v1.MsgBond"`)
	require.Contains(t, out.String(), `"provider":"`+from+`"`)
	require.Contains(t, out.String(), `"amount":{"denom":"umesh","amount":"800000000"}`)
}
