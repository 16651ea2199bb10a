package cmd

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"
	sdk "github.com/cosmos/cosmos-sdk/types"
)

// runRoot runs gpumeshd with args and returns stdout.
func runRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := NewRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := svrcmd.Execute(root, "GPUMESHD", t.TempDir())
	return out.String(), err
}

// A tx command takes only the flags the user gave: the node's config keys
// (config.toml has moniker = "node0") must not fill an omitted --moniker.
func TestTxFlagsIgnoreNodeConfig(t *testing.T) {
	home := t.TempDir()
	_, err := runRoot(t, "init", "node0", "--home", home, "--chain-id", "gpumesh-t-1")
	require.NoError(t, err)

	owner := sdk.AccAddress(make([]byte, 20)).String()
	out, err := runRoot(t, "tx", "provider", "update", "--host-uri", "https://p1.example.com",
		"--from", owner, "--generate-only", "--home", home, "--chain-id", "gpumesh-t-1")
	require.NoError(t, err, out)

	var tx struct {
		Body struct {
			Messages []map[string]any `json:"messages"`
		} `json:"body"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &tx), out)
	require.Len(t, tx.Body.Messages, 1)
	msg := tx.Body.Messages[0]
	require.Equal(t, "/gpumesh.provider.v1.MsgUpdateProvider", msg["@type"])
	require.Equal(t, "https://p1.example.com", msg["host_uri"])
	require.Empty(t, msg["moniker"], "the node's moniker leaked into the message")
}
