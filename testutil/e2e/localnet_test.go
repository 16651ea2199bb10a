//go:build e2e

package e2e

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The smoke test of the chain: a real single-validator network produces
// blocks, REST answers, a CLI transfer signed with the test keyring moves
// exactly 1000uusdc from alice to bob, and stop leaves no process behind.
func TestLocalnetSmoke(t *testing.T) {
	ln := NewLocalnet(t, 10000)
	out := ln.MustScript("start")
	require.Contains(t, out, "node0")

	ln.WaitHeight(0, 3, 30*time.Second)

	var latest struct {
		Block struct {
			Header struct {
				ChainID string `json:"chain_id"`
				Height  string `json:"height"`
			} `json:"header"`
		} `json:"block"`
	}
	require.NoError(t, GetJSON(ln.REST(0)+"/cosmos/base/tendermint/v1beta1/blocks/latest", &latest))
	require.Equal(t, "gpumesh-local-1", latest.Block.Header.ChainID)

	bobOut, err := ln.CLI("keys", "show", "bob", "-a", "--keyring-backend", "test")
	require.NoError(t, err)
	bob := strings.TrimSpace(bobOut)
	require.True(t, strings.HasPrefix(bob, "mesh1"), bob)

	before := ln.balance(bob, "uusdc")
	txOut, err := ln.CLI("tx", "bank", "send", "alice", bob, "1000uusdc",
		"--keyring-backend", "test", "--chain-id", "gpumesh-local-1", "--yes", "-o", "json")
	require.NoError(t, err)
	require.Contains(t, txOut, `"code":0`)

	require.Eventually(t, func() bool { return ln.balance(bob, "uusdc") != before },
		20*time.Second, 250*time.Millisecond, "bob's balance did not change")
	require.Equal(t, before+1000, ln.balance(bob, "uusdc"), "bob must receive exactly 1000uusdc")

	// The market modules are served over REST.
	for _, m := range []string{"provider", "stakingslash", "market", "escrow", "proofofcompute"} {
		var params map[string]any
		require.NoError(t, GetJSON(ln.REST(0)+"/gpumesh/"+m+"/v1/params", &params), m)
		require.Contains(t, params, "params", m)
	}

	pid := ln.Pid(0)
	require.True(t, Alive(pid))
	ln.MustScript("stop")
	require.Eventually(t, func() bool { return !Alive(pid) }, 5*time.Second, 100*time.Millisecond)
	status := ln.MustScript("status")
	require.Contains(t, status, "stopped")
}

// balance reads addr's balance of denom over REST.
func (ln *Localnet) balance(addr, denom string) int64 {
	ln.t.Helper()
	var res struct {
		Balance struct {
			Amount string `json:"amount"`
		} `json:"balance"`
	}
	require.NoError(ln.t, GetJSON(ln.REST(0)+"/cosmos/bank/v1beta1/balances/"+addr+"/by_denom?denom="+denom, &res))
	n, err := strconv.ParseInt(res.Balance.Amount, 10, 64)
	require.NoError(ln.t, err)
	return n
}

// Four validators keep producing blocks with one of them stopped (3 of 4
// is more than two thirds of the power), and the stopped one catches up
// when restarted.
func TestLocalnetFourValidatorsToleratesOneDown(t *testing.T) {
	ln := NewLocalnet(t, 11000)
	ln.MustScript("start", "--validators", "4")
	for i := 0; i < 4; i++ {
		require.True(t, Alive(ln.Pid(i)), "node%d not running", i)
	}
	ln.WaitHeight(0, 3, 60*time.Second)

	stopped := ln.Pid(3)
	ln.MustScript("stop-node", "3")
	require.Eventually(t, func() bool { return !Alive(stopped) }, 10*time.Second, 100*time.Millisecond)

	h, err := ln.Height(0)
	require.NoError(t, err)
	ln.WaitHeight(0, h+3, 60*time.Second)

	ln.MustScript("start-node", "3")
	target, err := ln.Height(0)
	require.NoError(t, err)
	ln.WaitHeight(3, target, 60*time.Second)
}

func TestLocalnetRejectsBadInput(t *testing.T) {
	ln := NewLocalnet(t, 12000)

	for _, args := range [][]string{
		{"start", "--bogus"},
		{"start", "--validators", "zero"},
		{"start", "--validators"},
		{"frobnicate"},
		{"stop-node", "x"},
	} {
		out, err := ln.Script(args...)
		require.Error(t, err, "localnet.sh %v must fail", args)
		require.Contains(t, out, "localnet:", "localnet.sh %v must explain the failure", args)
	}

	// A busy port: nothing is started, and the message names the port.
	busy := 9090 + ln.Offset
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(busy))
	require.NoError(t, err)
	defer func() { _ = l.Close() }()
	out, err := ln.Script("start")
	require.Error(t, err)
	require.Contains(t, out, "port "+strconv.Itoa(busy))
	require.Zero(t, ln.Pid(0), "no node may be left behind")
}
