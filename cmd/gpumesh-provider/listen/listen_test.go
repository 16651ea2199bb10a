package listen

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:9470": true, "127.3.4.5:1": true, "[::1]:9470": true, "localhost:9471": true, "LOCALHOST:1": true,
		"0.0.0.0:9470": false, ":9471": false, "[::]:9470": false, "10.0.0.5:9464": false,
		"sidecar.example.com:9471": false, "127.0.0.1": false, "": false,
	} {
		require.Equal(t, want, IsLoopback(addr), addr)
	}
}

// Closing a connection twice gives its slot back once.
func TestLimitReleasesOnce(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := Limit(inner, 2).(*limitListener)
	defer func() { _ = ln.Close() }()
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer func() { _ = c.Close() }()
	}
	a, err := ln.Accept()
	require.NoError(t, err)
	_, err = ln.Accept()
	require.NoError(t, err)
	require.Equal(t, 2, ln.open)
	require.NoError(t, a.Close())
	_ = a.Close()
	require.Equal(t, 1, ln.open)
	require.Same(t, inner, Limit(inner, 0), "0 = no limit")
}
