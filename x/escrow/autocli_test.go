package escrow_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/gpumesh/gpumesh/cmd/gpumeshd/cmd"
	"github.com/gpumesh/gpumesh/testutil/apptest"
	"github.com/gpumesh/gpumesh/x/escrow/types"
)

// The CLI has the documented command shapes: positional arguments, a short
// description and an example on each, and no command for the
// governance-only MsgUpdateParams.
func TestCLICommands(t *testing.T) {
	root := cmd.NewRootCmd()
	for _, tc := range []struct {
		path    string
		use     string
		minArgs int
		maxArgs int
	}{
		{"tx escrow deposit", "deposit [tenant/seq] [amount]", 2, 2},
		{"tx escrow withdraw", "withdraw [tenant/seq]...", 1, types.MaxWithdrawLeasesLimit},
		{"query escrow params", "params", 0, 0},
		{"query escrow account", "account [tenant] [seq]", 2, 2},
		{"query escrow accounts", "accounts [tenant]", 1, 1},
		{"query escrow totals", "totals", 0, 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			c, rest, err := root.Find(strings.Fields(tc.path))
			require.NoError(t, err)
			require.Empty(t, rest)
			require.Equal(t, tc.use, c.Use)
			require.NotEmpty(t, c.Short)
			require.NotEmpty(t, c.Example)
			require.NoError(t, c.Args(c, make([]string, tc.minArgs)))
			require.NoError(t, c.Args(c, make([]string, tc.maxArgs)))
			require.Error(t, c.Args(c, make([]string, tc.maxArgs+1)))
			if tc.minArgs > 0 {
				require.Error(t, c.Args(c, make([]string, tc.minArgs-1)))
			}
		})
	}
	txCmd, _, err := root.Find([]string{"tx", "escrow"})
	require.NoError(t, err)
	var names []string
	for _, sub := range txCmd.Commands() {
		names = append(names, sub.Name())
	}
	require.ElementsMatch(t, []string{"deposit", "withdraw"}, names, "MsgUpdateParams is governance only")
}

// run executes gpumeshd with args as the binary does, with a throwaway
// home for the client config, and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := cmd.NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := svrcmd.Execute(root, "GPUMESHD", t.TempDir())
	return out.String(), err
}

// `tx escrow deposit` and `withdraw` parse tenant/seq ids into the
// messages and sign for --from.
func TestTxCommandsGenerateMsgs(t *testing.T) {
	from := apptest.NewAccount("bob").Address.String()
	tenant := apptest.NewAccount("alice").Address.String()
	gen := []string{"--from", from, "--generate-only", "--chain-id", apptest.ChainID, "--home", t.TempDir()}

	out, err := run(t, append([]string{"tx", "escrow", "deposit", tenant + "/7", "5000000uusdc"}, gen...)...)
	require.NoError(t, err, out)
	require.Contains(t, out, `"@type":"/gpumesh.escrow.v1.MsgDeposit"`)
	require.Contains(t, out, `"sender":"`+from+`"`)
	require.Contains(t, out, `"id":{"tenant":"`+tenant+`","seq":"7"}`)
	require.Contains(t, out, `"amount":{"denom":"uusdc","amount":"5000000"}`)

	out, err = run(t, append([]string{"tx", "escrow", "withdraw", tenant + "/7", tenant + "/9"}, gen...)...)
	require.NoError(t, err, out)
	require.Contains(t, out, `"@type":"/gpumesh.escrow.v1.MsgWithdraw"`)
	require.Contains(t, out, `"provider":"`+from+`"`)
	require.Contains(t, out, `"lease_ids":[{"tenant":"`+tenant+`","seq":"7"},{"tenant":"`+tenant+`","seq":"9"}]`)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deposit", tenant, "1uusdc"}, "argument tenant/seq: \"" + tenant + "\": want <tenant>/<seq>"},
		{[]string{"deposit", tenant + "/1", "lots"}, `argument amount "lots"`},
		{[]string{"deposit", tenant + "/1", "0uusdc"}, "amount must be positive"},
		{[]string{"withdraw", tenant + "/1", tenant + "/x"}, `argument 2: "` + tenant + `/x": seq "x" is not a number`},
		{[]string{"withdraw", tenant + "/1", tenant + "/1"}, "lease_ids[1]"},
	} {
		out, err := run(t, append(append([]string{"tx", "escrow"}, tc.args...), gen...)...)
		require.Error(t, err, out)
		require.Contains(t, err.Error(), tc.want)
	}
}
