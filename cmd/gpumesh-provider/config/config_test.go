package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
)

// The file init writes parses back to the same config.
func TestRenderedFileRoundTrips(t *testing.T) {
	h := t.TempDir()
	cfg := config.Default()
	cfg.Leases.OnLeaseStart, cfg.Leases.OnLeaseEnd = "/usr/local/bin/start-lease --docker", "/usr/local/bin/end-lease"
	path, err := config.Write(h, cfg, false)
	require.NoError(t, err)
	bz, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(bz), "# gpumesh-provider configuration")
	back, err := config.Load(h)
	require.NoError(t, err)
	cfg.Key.KeyringDir = h // Load defaults it to the home
	// Load sets the state dir under the home.
	cfg.Provider.StateDir = filepath.Join(h, "data")
	require.Equal(t, cfg, back)
	_, err = config.Write(h, cfg, false)
	require.ErrorIs(t, err, os.ErrExist)
	_, err = config.Write(h, cfg, true)
	require.NoError(t, err)
}

func TestValidationNamesTheField(t *testing.T) {
	cases := []struct {
		mutate func(*config.Config)
		want   string
	}{
		{func(c *config.Config) { c.Chain.GRPC = "localhost" }, `chain.grpc: "localhost" is not host:port`},
		{func(c *config.Config) { c.Chain.PollInterval = 0 }, "chain.poll_interval: 0s must be positive"},
		{func(c *config.Config) { c.Chain.GasPrices = "cheap" }, `chain.gas_prices: "cheap"`},
		{func(c *config.Config) { c.Key.KeyringBackend = "vault" }, `key.keyring_backend: "vault"`},
		{func(c *config.Config) { c.Provider.Region = "usa" }, `provider.region: "usa"`},
		{func(c *config.Config) { c.Provider.Moniker = "<b>gpu</b>" }, `provider.moniker: moniker "<b>gpu</b>": contains '<'`},
		{func(c *config.Config) { c.Provider.HostURI = "javascript:alert(1)" }, `provider.host_uri: host_uri "javascript:alert(1)": scheme "javascript"`},
		{func(c *config.Config) { c.Provider.Contact = "ops\u202e" }, `provider.contact: contact "ops\u202e": contains U+202E`},
		{func(c *config.Config) { c.NVML.Mode = "mock:dgx-b300" }, `nvml.mode`},
		{func(c *config.Config) {
			c.Pricing.Classes["h100-sxm-80g"] = config.ClassPrice{Floor: []string{"-1uusdc"}}
		}, `pricing.classes.h100-sxm-80g.floor[0]: "-1uusdc"`},
		{func(c *config.Config) { c.Bidding.Overcommit = 0 }, "bidding.overcommit: 0 must be at least 1"},
		{func(c *config.Config) { c.Prover.Backend = "tpu" }, `prover.backend: "tpu"`},
		{func(c *config.Config) { c.Leases.OnLeaseStart = "start.sh" }, `leases.on_lease_start: "start.sh" must start with an absolute path`},
		{func(c *config.Config) { c.Leases.UsageInterval = config.Duration(-time.Second) }, "leases.usage_interval"},
		{func(c *config.Config) { c.API.RESTAddress = ":::" }, "api.rest_address"},
	}
	for _, tc := range cases {
		cfg := config.Default()
		tc.mutate(&cfg)
		err := cfg.Validate()
		require.Error(t, err, tc.want)
		require.Contains(t, err.Error(), tc.want)
	}
	require.NoError(t, config.Default().Validate())
}

func TestUnknownFieldsAreRefused(t *testing.T) {
	h := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(h, config.FileName), []byte("chain:\n  grpcc: localhost:9090\n"), 0o600))
	_, err := config.Load(h)
	require.Error(t, err)
	require.Contains(t, err.Error(), "grpcc")
}

// provider.max_auto_bond is required with auto_bond and must be a positive
// coin; prover.max_memory_mib is 0 or at least the smallest challenge.
func TestAutoBondCapAndProverMemoryValidated(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{"provider:\n  max_auto_bond: \"\"\n", `provider.max_auto_bond: "" is not a positive coin`},
		{"provider:\n  max_auto_bond: \"0umesh\"\n", `provider.max_auto_bond: "0umesh" is not a positive coin`},
		{"provider:\n  max_auto_bond: \"lots\"\n", `provider.max_auto_bond: "lots" is not a positive coin`},
		{"prover:\n  max_memory_mib: 10\n", "prover.max_memory_mib: 10 is below the smallest challenge"},
	} {
		_, err := config.Parse([]byte(tc.edit))
		require.ErrorContains(t, err, tc.want, tc.edit)
	}
	_, err := config.Parse([]byte("provider:\n  auto_bond: false\n  max_auto_bond: \"\"\n"))
	require.NotContains(t, errString(err), "max_auto_bond", "not required without auto_bond")
	_, err = config.Parse([]byte("prover:\n  max_memory_mib: 4096\n"))
	require.NotContains(t, errString(err), "max_memory_mib")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
