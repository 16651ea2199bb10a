package metrics

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	sdkmath "cosmossdk.io/math"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/listen"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
)

// The metrics server closes a keep-alive connection left idle, like the
// API's REST server.
func TestMetricsIdleKeepAliveIsClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	limits := listen.DefaultHTTPLimits()
	limits.IdleTimeout = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, limits, Handler(prometheus.NewRegistry(), state.NewBoard())) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	_, err = io.WriteString(conn, "GET /metrics HTTP/1.1\r\nHost: sidecar\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.False(t, resp.Close)
	_, err = io.Copy(io.Discard, conn)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server kept the idle connection open")
}

// Amounts beyond uint64 keep their magnitude instead of panicking.
func TestCoinAmount(t *testing.T) {
	require.Equal(t, 0.0, CoinAmount(sdkmath.Int{}))
	require.Equal(t, 0.0, CoinAmount(sdkmath.ZeroInt()))
	require.Equal(t, 1234567.0, CoinAmount(sdkmath.NewInt(1234567)))
	require.Equal(t, float64(math.MaxUint64), CoinAmount(sdkmath.NewIntFromUint64(math.MaxUint64)))
	big70 := new(big.Int).Lsh(big.NewInt(1), 70) // 2^70
	require.Panics(t, func() { sdkmath.NewIntFromBigInt(big70).Uint64() }, "what the earnings metric used to call")
	require.Equal(t, math.Ldexp(1, 70), CoinAmount(sdkmath.NewIntFromBigInt(big70)))
	big200 := new(big.Int).Lsh(big.NewInt(3), 200)
	require.InEpsilon(t, 3*math.Ldexp(1, 200), CoinAmount(sdkmath.NewIntFromBigInt(big200)), 1e-15)
}
