package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/api/sidecarv1"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

// closeWait bounds how long a test waits for the server to close a
// connection; the limits under test are far shorter, so only a server
// that never closes it reaches this.
const closeWait = 10 * time.Second

// startAPI serves the full board with limits and CORS origins on
// loopback and returns the gRPC and REST addresses.
func startAPI(t *testing.T, limits Limits, origins []string) (grpcAddr, restAddr string) {
	t.Helper()
	grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	restLn, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := New(fullBoard(), testInfo)
	s.limits, s.corsOrigins = limits, origins
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, grpcLn, restLn) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return grpcLn.Addr().String(), restLn.Addr().String()
}

// requireClosedByServer reads conn until the server closes it.
func requireClosedByServer(t *testing.T, conn net.Conn) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(closeWait)))
	_, err := io.Copy(io.Discard, conn) // an error response may come first
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		require.Fail(t, "the server kept the connection open", "still open after %s", closeWait)
	}
	// io.Copy returns nil at EOF; a reset is a close too.
}

func dialTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// getOn sends one keep-alive request on conn and reads the response:
// its status, and whether the server will close the connection.
func getOn(t *testing.T, conn net.Conn, br *bufio.Reader, path string) (int, bool) {
	t.Helper()
	_, err := io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: sidecar\r\n\r\n")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(closeWait)))
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode, resp.Close
}

func shortHTTP(l Limits) Limits {
	l.HTTP.ReadHeaderTimeout = 200 * time.Millisecond
	l.HTTP.IdleTimeout = 200 * time.Millisecond
	return l
}

// A keep-alive connection left idle after a request is closed by the
// server after the idle timeout.
func TestRESTIdleKeepAliveIsClosed(t *testing.T) {
	_, restAddr := startAPI(t, shortHTTP(DefaultLimits()), nil)
	conn := dialTCP(t, restAddr)
	code, closing := getOn(t, conn, bufio.NewReader(conn), "/v1/status")
	require.Equal(t, http.StatusOK, code)
	require.False(t, closing, "the server keeps the connection alive between requests")
	requireClosedByServer(t, conn)
}

// A client that sends its headers a line at a time, never finishing
// them (slowloris), is cut after the header timeout.
func TestRESTSlowHeadersAreCut(t *testing.T) {
	_, restAddr := startAPI(t, shortHTTP(DefaultLimits()), nil)
	conn := dialTCP(t, restAddr)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		if _, err := io.WriteString(conn, "GET /v1/status HTTP/1.1\r\nHost: sidecar\r\n"); err != nil {
			return
		}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := io.WriteString(conn, "X-Slow: still-sending\r\n"); err != nil {
					return
				}
			}
		}
	}()
	requireClosedByServer(t, conn)
}

// Headers over the limit are refused with 431.
func TestRESTHeaderSizeIsBounded(t *testing.T) {
	_, restAddr := startAPI(t, DefaultLimits(), nil)
	conn := dialTCP(t, restAddr)
	br := bufio.NewReader(conn)
	_, err := io.WriteString(conn, "GET /v1/status HTTP/1.1\r\nHost: sidecar\r\nX-Big: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	require.NoError(t, resp.Body.Close())
}

// Connections beyond api.max_connections are refused; a freed slot
// takes a new connection.
func TestConnectionsBeyondTheLimitAreRefused(t *testing.T) {
	limits := DefaultLimits()
	limits.MaxConnections = 2
	grpcAddr, restAddr := startAPI(t, limits, nil)

	held := make([]net.Conn, 2)
	for i := range held {
		held[i] = dialTCP(t, restAddr)
		code, _ := getOn(t, held[i], bufio.NewReader(held[i]), "/v1/status")
		require.Equal(t, http.StatusOK, code)
	}
	extra := dialTCP(t, restAddr)
	_, _ = io.WriteString(extra, "GET /v1/status HTTP/1.1\r\nHost: sidecar\r\n\r\n")
	requireClosedByServer(t, extra)

	// The gRPC listener has its own limit of two.
	g1, g2, g3 := dialTCP(t, grpcAddr), dialTCP(t, grpcAddr), dialTCP(t, grpcAddr)
	_ = g1
	_ = g2
	requireClosedByServer(t, g3)

	require.NoError(t, held[0].Close())
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", restAddr)
		if err != nil {
			return false
		}
		defer func() { _ = conn.Close() }()
		if _, err := io.WriteString(conn, "GET /v1/status HTTP/1.1\r\nHost: sidecar\r\n\r\n"); err != nil {
			return false
		}
		_ = conn.SetReadDeadline(time.Now().Add(closeWait))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return false // refused: the server has not seen the close yet
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, closeWait, 20*time.Millisecond)
}

// A TCP connection that never starts the HTTP/2 handshake is closed.
func TestGRPCHandshakeTimesOut(t *testing.T) {
	limits := DefaultLimits()
	limits.GRPCHandshakeTimeout = 200 * time.Millisecond
	grpcAddr, _ := startAPI(t, limits, nil)
	requireClosedByServer(t, dialTCP(t, grpcAddr))
}

// A gRPC connection without calls is closed (GOAWAY) after
// MaxConnectionIdle: the client leaves READY.
func TestGRPCIdleConnectionIsClosed(t *testing.T) {
	limits := DefaultLimits()
	limits.GRPCMaxConnectionIdle = 200 * time.Millisecond
	grpcAddr, _ := startAPI(t, limits, nil)
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	_, err = sidecarv1.NewSidecarClient(conn).Status(ctx, &sidecarv1.StatusRequest{}, grpc.WaitForReady(true))
	require.NoError(t, err)
	require.Equal(t, connectivity.Ready, conn.GetState())
	require.True(t, conn.WaitForStateChange(ctx, connectivity.Ready), "the connection stayed READY for %s", closeWait)
}

// The sidecar service is listed by gRPC reflection.
func TestGRPCReflectionListsTheSidecar(t *testing.T) {
	grpcAddr, _ := startAPI(t, DefaultLimits(), nil)
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), closeWait)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx, grpc.WaitForReady(true))
	require.NoError(t, err)
	require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}))
	resp, err := stream.Recv()
	require.NoError(t, err)
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	require.Contains(t, names, sidecarv1.Sidecar_ServiceDesc.ServiceName)
}

// Listed origins may read the REST API from a browser; others get no
// CORS headers and their preflight is refused.
func TestRESTCORS(t *testing.T) {
	_, restAddr := startAPI(t, DefaultLimits(), []string{"https://dash.example.com"})
	do := func(method, origin string, hdr map[string]string) (int, http.Header) {
		req, err := http.NewRequest(method, "http://"+restAddr+"/v1/status", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := (&http.Client{Timeout: closeWait}).Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		return resp.StatusCode, resp.Header
	}
	code, hdr := do(http.MethodGet, "https://dash.example.com", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "https://dash.example.com", hdr.Get("Access-Control-Allow-Origin"))

	code, hdr = do(http.MethodGet, "https://evil.example.com", nil)
	require.Equal(t, http.StatusOK, code) // same-origin rules are the browser's
	require.Empty(t, hdr.Get("Access-Control-Allow-Origin"))

	preflight := map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
	code, hdr = do(http.MethodOptions, "https://dash.example.com", preflight)
	require.Equal(t, http.StatusNoContent, code)
	require.Equal(t, "https://dash.example.com", hdr.Get("Access-Control-Allow-Origin"))
	require.Contains(t, hdr.Get("Access-Control-Allow-Methods"), "GET")
	require.Equal(t, "authorization", hdr.Get("Access-Control-Allow-Headers"))

	code, hdr = do(http.MethodOptions, "https://evil.example.com", preflight)
	require.Equal(t, http.StatusForbidden, code)
	require.Empty(t, hdr.Get("Access-Control-Allow-Origin"))
}

// WithConfig takes the connection limit and origins from the config.
func TestWithConfig(t *testing.T) {
	s := New(fullBoard(), testInfo).WithConfig(config.API{MaxConnections: 7, CORSOrigins: []string{"*"}})
	require.Equal(t, 7, s.limits.MaxConnections)
	require.Equal(t, []string{"*"}, s.corsOrigins)
	require.Equal(t, DefaultLimits().HTTP, s.limits.HTTP)
}
