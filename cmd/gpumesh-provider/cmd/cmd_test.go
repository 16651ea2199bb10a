package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"

	"github.com/cosmos/cosmos-sdk/client/grpc/cmtservice"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/hd"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

const testChainID = "gpumesh-test-1"

// execute runs the command line in process and returns stdout, stderr
// and the error.
func execute(ctx context.Context, args ...string) (string, string, error) {
	root := NewRoot()
	var stdout, stderr bytes.Buffer
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return stdout.String(), stderr.String(), err
}

// freeAddr returns a loopback address where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// testHome writes a config pointing at nodeAddr, with a test keyring
// holding the provider key, mock GPUs, metrics on metricsAddr ("" = off)
// and the API off.
func testHome(t *testing.T, nodeAddr, metricsAddr string) string {
	t.Helper()
	h := t.TempDir()
	cfg := config.Default()
	cfg.Chain.GRPC, cfg.Chain.ChainID = nodeAddr, testChainID
	cfg.Key.KeyringBackend, cfg.Key.KeyringDir = "test", h
	cfg.NVML.Mode = "mock:dgx-h100"
	cfg.Prover.Backend = "cpu"
	cfg.Metrics.Address = metricsAddr
	cfg.API.GRPCAddress, cfg.API.RESTAddress = "", ""
	_, err := config.Write(h, cfg, false)
	require.NoError(t, err)
	kr, err := keyring.New(sdk.KeyringServiceName(), "test", h, nil, chain.Encoding().Codec)
	require.NoError(t, err)
	_, _, err = kr.NewMnemonic(cfg.Key.Name, keyring.English, sdk.FullFundraiserPath, keyring.DefaultBIP39Passphrase, hd.Secp256k1)
	require.NoError(t, err)
	return h
}

// fakeNode answers GetLatestBlock for another chain.
type fakeNode struct {
	cmtservice.UnimplementedServiceServer
	chainID string
}

func (n *fakeNode) GetLatestBlock(context.Context, *cmtservice.GetLatestBlockRequest) (*cmtservice.GetLatestBlockResponse, error) {
	return &cmtservice.GetLatestBlockResponse{SdkBlock: &cmtservice.Block{Header: cmtservice.Header{ChainID: n.chainID, Height: 7}}}, nil
}

func startFakeNode(t *testing.T, chainID string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(grpc.ForceServerCodec(codec.NewProtoCodec(chain.Encoding().InterfaceRegistry).GRPCCodec()))
	cmtservice.RegisterServiceServer(srv, &fakeNode{chainID: chainID})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

// While the node does not answer, run serves /healthz with 503 and the
// reason; a stop signal (the context) then ends it cleanly.
func TestRunWaitsForTheNodeWithHealthz(t *testing.T) {
	nodeAddr, metricsAddr := freeAddr(t), freeAddr(t)
	h := testHome(t, nodeAddr, metricsAddr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, err := execute(ctx, "run", "--home", h)
		done <- err
	}()

	var body string
	require.Eventually(t, func() bool {
		resp, err := (&http.Client{Timeout: time.Second}).Get("http://" + metricsAddr + "/healthz")
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		bz, _ := io.ReadAll(resp.Body)
		body = string(bz)
		return resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(body, "waiting for node at "+nodeAddr+": ") &&
			!strings.Contains(body, "starting")
	}, 20*time.Second, 50*time.Millisecond, "last /healthz: %s", body)
	var health struct {
		OK         bool   `json:"ok"`
		ChainError string `json:"chain_error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	require.False(t, health.OK)

	cancel() // what SIGTERM does
	select {
	case err := <-done:
		require.NoError(t, err, "a stop while waiting for the node is a clean stop")
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
}

// A node on another chain stops run at once, with both chain ids.
func TestRunFailsOnAnotherChain(t *testing.T) {
	h := testHome(t, startFakeNode(t, "other-chain-7"), "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _, err := execute(ctx, "run", "--home", h)
	require.Error(t, err)
	require.NoError(t, ctx.Err(), "run kept waiting")
	require.ErrorContains(t, err, `"other-chain-7"`)
	require.ErrorContains(t, err, `chain.chain_id "`+testChainID+`"`)
}

// register checks the chain id before it reports anything.
func TestRegisterFailsOnAnotherChain(t *testing.T) {
	h := testHome(t, startFakeNode(t, "other-chain-7"), "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stdout, _, err := execute(ctx, "register", "--home", h)
	require.Error(t, err)
	require.ErrorContains(t, err, `"other-chain-7"`)
	require.ErrorContains(t, err, `chain.chain_id "`+testChainID+`"`)
	require.Empty(t, stdout)
}

// register against a node that does not answer says which address.
func TestRegisterNodeDown(t *testing.T) {
	addr := freeAddr(t)
	h := testHome(t, addr, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, _, err := execute(ctx, "register", "--home", h)
	require.ErrorContains(t, err, `node at chain.grpc "`+addr+`" does not answer`)
}

// init run twice names the file and how to replace it.
func TestInitTwiceNamesTheFile(t *testing.T) {
	h := t.TempDir()
	_, _, err := execute(context.Background(), "init", "--home", h)
	require.NoError(t, err)
	_, _, err = execute(context.Background(), "init", "--home", h)
	require.ErrorContains(t, err, filepath.Join(h, config.FileName)+" exists")
	require.ErrorContains(t, err, "--overwrite")
	_, _, err = execute(context.Background(), "init", "--home", h, "--overwrite")
	require.NoError(t, err)
}

func TestInitJSON(t *testing.T) {
	h := t.TempDir()
	stdout, _, err := execute(context.Background(), "init", "--home", h, "--chain-id", "gpumesh-9", "-o", "json")
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	require.Equal(t, map[string]any{"config": filepath.Join(h, config.FileName), "home": h, "chain_id": "gpumesh-9",
		"key_name": "provider", "keyring_backend": "file", "keyring_dir": h}, got)
	_, _, err = execute(context.Background(), "init", "--home", t.TempDir(), "-o", "yaml")
	require.ErrorContains(t, err, `--output "yaml": want text or json`)
}

func TestVersionJSON(t *testing.T) {
	stdout, _, err := execute(context.Background(), "version", "-o", "json")
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	for _, k := range []string{"version", "commit", "go", "os", "arch", "nvml_mock_profiles"} {
		require.Contains(t, got, k)
	}
	require.Contains(t, got["nvml_mock_profiles"], "dgx-h100")
}

// A run of days is refused before it starts, with the estimate.
func TestBenchRefusesALongRunWithoutYes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, _, err := execute(ctx, "bench", "--n", "65536", "--m", "2", "--backend", "cpu")
	require.NoError(t, ctx.Err(), "bench started the run")
	require.ErrorContains(t, err, "bench --n 65536 --m 2 --k 16 on cpu")
	require.ErrorContains(t, err, ": estimated ")
	require.ErrorContains(t, err, "days")
	require.ErrorContains(t, err, "pass --yes")
}

// -o json prints only the result on stdout.
func TestBenchJSON(t *testing.T) {
	stdout, _, err := execute(context.Background(), "bench", "--n", "64", "--k", "2", "--backend", "cpu", "-o", "json")
	require.NoError(t, err)
	var got benchResult
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&got))
	require.True(t, strings.HasPrefix(got.Backend, "cpu"), got.Backend)
	require.Equal(t, uint32(64), got.N)
	require.Equal(t, float64(64*64*64), got.MultiplyAdds)
	require.Positive(t, got.MultiplyAddsPerSecond)
	require.Positive(t, got.ChainVerification.Hashes)
}

// Progress is a bar redrawn with \r only on a terminal; elsewhere it is
// plain lines.
func TestBenchProgressWithoutATerminal(t *testing.T) {
	var buf bytes.Buffer
	require.False(t, isTerminal(&buf))
	f, err := os.CreateTemp(t.TempDir(), "log")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	require.False(t, isTerminal(f), "a log file is not a terminal")

	p := &progress{w: &buf, start: time.Now().Add(-2 * time.Second), macs: 1e6}
	for done := uint64(1); done <= 20; done++ {
		p.update(done, 20)
	}
	p.finish()
	require.NotContains(t, buf.String(), "\r")
	require.Equal(t, 10, strings.Count(buf.String(), "\n"), buf.String())
	require.Contains(t, buf.String(), "proving: 100%")

	buf.Reset()
	p = &progress{w: &buf, tty: true, start: time.Now().Add(-2 * time.Second), macs: 1e6}
	p.update(20, 20)
	p.finish()
	require.Contains(t, buf.String(), "\r  [")
}

func TestRunHelpHasExamples(t *testing.T) {
	stdout, _, err := execute(context.Background(), "run", "--help")
	require.NoError(t, err)
	require.Contains(t, stdout, "Examples:")
	require.Contains(t, stdout, "gpumesh-provider run --home ")
	require.Contains(t, stdout, "systemd")
}
