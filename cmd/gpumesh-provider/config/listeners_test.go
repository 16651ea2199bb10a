package config_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/listen"
)

// The defaults, and so the file init writes, bind every listener to
// loopback.
func TestDefaultListenersAreLoopback(t *testing.T) {
	cfg := config.Default()
	for field, addr := range map[string]string{"metrics.address": cfg.Metrics.Address,
		"api.grpc_address": cfg.API.GRPCAddress, "api.rest_address": cfg.API.RESTAddress} {
		require.True(t, listen.IsLoopback(addr), "%s %q", field, addr)
	}
	require.False(t, cfg.API.AllowRemote)
	require.False(t, cfg.Metrics.AllowRemote)
	require.Empty(t, cfg.API.CORSOrigins)

	back, err := config.Parse(mustRender(t, cfg))
	require.NoError(t, err)
	require.Equal(t, cfg.API, back.API)
	require.Equal(t, cfg.Metrics, back.Metrics)
}

func mustRender(t *testing.T, cfg config.Config) []byte {
	t.Helper()
	bz, err := config.Render(cfg)
	require.NoError(t, err)
	return bz
}

// A non-loopback address is refused unless its section opts in.
func TestRemoteListenerNeedsOptIn(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*config.Config)
		want   string // "" = valid
	}{
		{"api grpc on every interface", func(c *config.Config) { c.API.GRPCAddress = "0.0.0.0:9470" },
			`api.grpc_address: "0.0.0.0:9470" is not a loopback address`},
		{"api rest with an empty host", func(c *config.Config) { c.API.RESTAddress = ":9471" },
			`api.rest_address: ":9471" is not a loopback address`},
		{"api rest on a host name", func(c *config.Config) { c.API.RESTAddress = "sidecar.example.com:9471" },
			`set api.allow_remote: true`},
		{"metrics on a LAN address", func(c *config.Config) { c.Metrics.Address = "10.0.0.5:9464" },
			`metrics.address: "10.0.0.5:9464" is not a loopback address`},
		{"api opted in", func(c *config.Config) {
			c.API.GRPCAddress, c.API.RESTAddress, c.API.AllowRemote = "0.0.0.0:9470", "0.0.0.0:9471", true
		}, ""},
		{"metrics opted in", func(c *config.Config) { c.Metrics.Address, c.Metrics.AllowRemote = "10.0.0.5:9464", true }, ""},
		{"the api opt-in does not cover metrics", func(c *config.Config) {
			c.Metrics.Address, c.API.AllowRemote = "10.0.0.5:9464", true
		}, "metrics.address"},
		{"ipv6 loopback", func(c *config.Config) { c.API.GRPCAddress = "[::1]:9470" }, ""},
		{"localhost", func(c *config.Config) { c.API.RESTAddress = "localhost:9471" }, ""},
		{"disabled", func(c *config.Config) { c.API.RESTAddress, c.Metrics.Address = "", "" }, ""},
		{"no connection limit", func(c *config.Config) { c.API.MaxConnections = 0 }, "api.max_connections: 0 must be at least 1"},
		{"no metrics connection limit", func(c *config.Config) { c.Metrics.MaxConnections = -1 },
			"metrics.max_connections: -1 must be at least 1"},
		{"cors origin with a path", func(c *config.Config) { c.API.CORSOrigins = []string{"https://dash.example.com/app"} },
			`api.cors_origins[0]: "https://dash.example.com/app"`},
		{"cors origin without a scheme", func(c *config.Config) {
			c.API.CORSOrigins = []string{"https://ok.example.com", "dash.example.com"}
		}, `api.cors_origins[1]: "dash.example.com"`},
		{"cors origins", func(c *config.Config) {
			c.API.CORSOrigins = []string{"https://dash.example.com", "http://localhost:3000", "*"}
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}
