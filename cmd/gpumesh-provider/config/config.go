// Package config is the sidecar's configuration: a commented YAML file
// written by `gpumesh-provider init`, its defaults and its validation.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/listen"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// FileName is the config file inside the sidecar's home.
const FileName = "config.yaml"

// DefaultHome is ~/.gpumesh-provider.
func DefaultHome() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".gpumesh-provider")
	}
	return ".gpumesh-provider"
}

// Duration is a time.Duration written as "6s", "1m30s" in the file.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "6s" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration %s: want a string such as \"6s\"", b)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// Config is the whole file.
type Config struct {
	Chain    Chain    `json:"chain"`
	Key      Key      `json:"key"`
	Provider Provider `json:"provider"`
	NVML     NVML     `json:"nvml"`
	Pricing  Pricing  `json:"pricing"`
	Bidding  Bidding  `json:"bidding"`
	Prover   Prover   `json:"prover"`
	Leases   Leases   `json:"leases"`
	Metrics  Metrics  `json:"metrics"`
	API      API      `json:"api"`
}

// Chain says how to reach the chain.
type Chain struct {
	// GRPC is the node's gRPC address (host:port).
	GRPC    string `json:"grpc"`
	ChainID string `json:"chain_id"`
	// GasPrices pay for transactions, e.g. "0.025umesh"; empty = no fee.
	GasPrices string `json:"gas_prices"`
	// GasAdjustment multiplies the simulated gas.
	GasAdjustment float64 `json:"gas_adjustment"`
	// FreeProofs sends commit/reveal transactions without a fee (the chain
	// waives the minimum gas price for a provider's own proofs).
	FreeProofs bool `json:"free_proofs"`
	// PollInterval is how often the latest block is polled.
	PollInterval Duration `json:"poll_interval"`
	// TxTimeout bounds the wait for a transaction's inclusion.
	TxTimeout Duration `json:"tx_timeout"`
	// MaxGas caps the gas the sidecar signs per message kind (commit,
	// reveal, lease, bid, withdraw, claim, register, bond, other); kinds
	// not set take chain.DefaultMaxGas. A simulation over the cap is
	// refused, not signed.
	MaxGas map[string]uint64 `json:"max_gas,omitempty"`
	// MaxFee caps the fee of one transaction, e.g. "1000000umesh"; empty
	// = chain.DefaultMaxFee.
	MaxFee string `json:"max_fee,omitempty"`
}

// Key is the provider's signing key.
type Key struct {
	Name           string `json:"name"`
	KeyringBackend string `json:"keyring_backend"`
	// KeyringDir holds the keyring; empty = the sidecar's home.
	KeyringDir string `json:"keyring_dir"`
}

// Provider is what gets registered on chain.
type Provider struct {
	Moniker string `json:"moniker"`
	HostURI string `json:"host_uri"`
	Region  string `json:"region"`
	Contact string `json:"contact"`
	// Node describes this machine; its GPUs come from NVML.
	Node Node `json:"node"`
	// AutoBond bonds up to the required collateral on register.
	AutoBond bool `json:"auto_bond"`
	// MaxAutoBond caps auto-bonding: the sidecar never bonds when the
	// required bond is above it, e.g. "2000000000umesh". Required with
	// AutoBond.
	MaxAutoBond string `json:"max_auto_bond"`
	// StateDir is where the sidecar keeps what it remembers between runs
	// (<home>/data); set by Load, not read from the file.
	StateDir string `json:"-"`
	// SyncInterval is how often the on-chain inventory is compared with
	// NVML and updated when they differ (lost GPUs are withdrawn).
	SyncInterval Duration `json:"sync_interval"`
}

// Node is the machine's resources besides its GPUs.
type Node struct {
	ID            string `json:"id"`
	CPUCores      uint32 `json:"cpu_cores"`
	MemoryMiB     uint32 `json:"memory_mib"`
	StorageGiB    uint32 `json:"storage_gib"`
	BandwidthMbps uint32 `json:"bandwidth_mbps"`
	Interconnect  string `json:"interconnect"`
}

// NVML says where GPUs come from.
type NVML struct {
	// Mode is auto, real or mock:<profile>.
	Mode string `json:"mode"`
	// TelemetryInterval is how often utilization, power and health are read.
	TelemetryInterval Duration `json:"telemetry_interval"`
}

// Pricing is the per-class price policy.
type Pricing struct {
	// Classes maps a GPU class to its price policy.
	Classes map[string]ClassPrice `json:"classes"`
}

// ClassPrice prices one class per GPU-hour: the floor in each denom the
// provider accepts, and optionally a multiplier of the chain's price index
// (the bid is max(floor, index × multiplier), capped by the order's max;
// no bid when the order's max is below the floor).
type ClassPrice struct {
	Floor           []string `json:"floor"`
	IndexMultiplier float64  `json:"index_multiplier"`
}

// Bidding limits the bidder.
type Bidding struct {
	Enabled bool `json:"enabled"`
	// Overcommit is how many live bids may name the same GPU.
	Overcommit int `json:"overcommit"`
	// MaxOpenBids bounds the provider's open bids.
	MaxOpenBids int `json:"max_open_bids"`
	// StaleAfter closes an open bid on an order still open after this long
	// past its bid window (instant orders: after the order's TTL).
	StaleAfter Duration `json:"stale_after"`
}

// Prover answers challenges.
type Prover struct {
	// Backend is auto, cpu or cuda.
	Backend string `json:"backend"`
	// Workers for the CPU backend and hashing (0 = one per core).
	Workers    int `json:"workers"`
	CUDADevice int `json:"cuda_device"`
	// MaxMemoryMiB refuses challenges needing more memory than this (0 =
	// the machine's total memory).
	MaxMemoryMiB uint64 `json:"max_memory_mib"`
}

// Leases provisions leases.
type Leases struct {
	// OnLeaseStart runs when a lease starts; its last printed line is the
	// access endpoint posted on chain. Empty = no provisioning.
	OnLeaseStart string `json:"on_lease_start"`
	// OnLeaseEnd runs when a lease ends.
	OnLeaseEnd       string   `json:"on_lease_end"`
	HookTimeout      Duration `json:"hook_timeout"`
	UsageInterval    Duration `json:"usage_interval"`
	WithdrawInterval Duration `json:"withdraw_interval"`
	// ClaimInterval is how often capacity rewards are claimed (0 = never).
	ClaimInterval Duration `json:"claim_interval"`
	// HookEnv are variables the operator passes to the hooks, by name; the
	// hooks get these, PATH, LANG and the lease's GPUMESH_* variables, and
	// nothing else of the sidecar's environment.
	HookEnv map[string]string `json:"hook_env"`
	// MaxConcurrentHooks bounds the hooks running at once (each lease's
	// hooks run one at a time).
	MaxConcurrentHooks int `json:"max_concurrent_hooks"`
}

// LeaseHookVariables are the variables the sidecar sets for a hook; they
// cannot be set in leases.hook_env.
var LeaseHookVariables = []string{"GPUMESH_LEASE_ID", "GPUMESH_TENANT", "GPUMESH_LEASE_SEQ", "GPUMESH_PROVIDER",
	"GPUMESH_GPU_UUIDS", "GPUMESH_SSH_PUBKEY", "GPUMESH_CLOSE_REASON"}

// validEnvName matches a portable environment variable name.
var validEnvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Metrics serves Prometheus metrics and /healthz.
type Metrics struct {
	Address string `json:"address"`
	// AllowRemote permits a non-loopback address (the endpoint has no TLS
	// and no authentication: scrape it over a private network).
	AllowRemote bool `json:"allow_remote"`
	// MaxConnections bounds the open connections; more are refused.
	MaxConnections int `json:"max_connections"`
}

// API serves the sidecar's read-only API.
type API struct {
	GRPCAddress string `json:"grpc_address"`
	RESTAddress string `json:"rest_address"`
	// AllowRemote permits non-loopback addresses (the API has no TLS and
	// no authentication: put a TLS proxy with authentication in front).
	AllowRemote bool `json:"allow_remote"`
	// MaxConnections bounds the open connections of each listener; more
	// are refused.
	MaxConnections int `json:"max_connections"`
	// CORSOrigins are the browser origins (scheme://host[:port], or "*")
	// allowed to call the REST API; empty = none.
	CORSOrigins []string `json:"cors_origins"`
}

// DefaultMaxAutoBond is the default provider.max_auto_bond: the bond of
// 20 GPUs at the chain's default min_bond_per_gpu (100 MESH).
const DefaultMaxAutoBond = "2000000000umesh"

// Default returns the defaults `init` writes.
func Default() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "node-1"
	}
	return Config{
		Chain: Chain{GRPC: "localhost:9090", ChainID: "gpumesh-1", GasPrices: "0.025umesh", GasAdjustment: 1.4,
			FreeProofs: true, PollInterval: Duration(time.Second), TxTimeout: Duration(30 * time.Second)},
		Key: Key{Name: "provider", KeyringBackend: "file"},
		Provider: Provider{Moniker: host, HostURI: "https://" + host + ":9471", Region: "US",
			Node: Node{ID: strings.ToLower(host), CPUCores: 32, MemoryMiB: 262144, StorageGiB: 2000, BandwidthMbps: 10000,
				Interconnect: "ethernet"},
			AutoBond: true, MaxAutoBond: DefaultMaxAutoBond, SyncInterval: Duration(time.Minute)},
		NVML: NVML{Mode: "auto", TelemetryInterval: Duration(5 * time.Second)},
		Pricing: Pricing{Classes: map[string]ClassPrice{
			"h100-sxm-80g": {Floor: []string{"2000000uusdc"}, IndexMultiplier: 0.95},
			"rtx4090-24g":  {Floor: []string{"350000uusdc"}},
		}},
		Bidding: Bidding{Enabled: true, Overcommit: 1, MaxOpenBids: 50, StaleAfter: Duration(time.Minute)},
		Prover:  Prover{Backend: "auto"},
		Leases: Leases{HookTimeout: Duration(2 * time.Minute), UsageInterval: Duration(5 * time.Minute),
			WithdrawInterval: Duration(30 * time.Minute), ClaimInterval: Duration(6 * time.Hour), MaxConcurrentHooks: 8},
		Metrics: Metrics{Address: "127.0.0.1:9464", MaxConnections: 32},
		API: API{GRPCAddress: "127.0.0.1:9470", RESTAddress: "127.0.0.1:9471", MaxConnections: 256,
			CORSOrigins: []string{}},
	}
}

// Load reads and validates the config file in home.
func Load(home string) (Config, error) {
	path := filepath.Join(home, FileName)
	bz, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Config{}, fmt.Errorf("no config at %s: run `gpumesh-provider init --home %s` first", path, home)
		}
		return Config{}, err
	}
	cfg, err := Parse(bz)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if cfg.Key.KeyringDir == "" {
		cfg.Key.KeyringDir = home
	}
	cfg.Provider.StateDir = filepath.Join(home, "data")
	return cfg, nil
}

// Parse reads a config from YAML over the defaults and validates it.
func Parse(bz []byte) (Config, error) {
	cfg := Default()
	cfg.Pricing.Classes = nil
	if err := yaml.UnmarshalStrict(bz, &cfg); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Validate checks every field and names the offending one.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Chain.GRPC); err != nil {
		bad("chain.grpc", "%q is not host:port", c.Chain.GRPC)
	}
	if strings.TrimSpace(c.Chain.ChainID) == "" {
		bad("chain.chain_id", "must be set")
	}
	if c.Chain.GasPrices != "" {
		if _, err := sdk.ParseDecCoins(c.Chain.GasPrices); err != nil {
			bad("chain.gas_prices", "%q: %v", c.Chain.GasPrices, err)
		}
	}
	if err := chain.ValidateMaxGas(c.Chain.MaxGas); err != nil {
		errs = append(errs, err)
	}
	if c.Chain.MaxFee != "" {
		if _, err := sdk.ParseCoinsNormalized(c.Chain.MaxFee); err != nil {
			bad("chain.max_fee", "%q: %v", c.Chain.MaxFee, err)
		}
	}
	if c.Chain.GasAdjustment < 1 || c.Chain.GasAdjustment > 10 {
		bad("chain.gas_adjustment", "%v must be within [1, 10]", c.Chain.GasAdjustment)
	}
	positive := func(field string, d Duration) {
		if d <= 0 {
			bad(field, "%v must be positive", d.D())
		}
	}
	positive("chain.poll_interval", c.Chain.PollInterval)
	positive("chain.tx_timeout", c.Chain.TxTimeout)
	if c.Key.Name == "" {
		bad("key.name", "must be set")
	}
	switch c.Key.KeyringBackend {
	case "os", "file", "kwallet", "pass", "test", "memory":
	default:
		bad("key.keyring_backend", "%q: want os, file, kwallet, pass, test or memory", c.Key.KeyringBackend)
	}
	if c.Provider.Moniker == "" {
		bad("provider.moniker", "must be set")
	} else if err := providertypes.ValidateMoniker(c.Provider.Moniker); err != nil {
		bad("provider.moniker", "%v", err) // the chain's own rules, before a transaction is refused
	}
	if err := providertypes.ValidateHostURI(c.Provider.HostURI); err != nil {
		bad("provider.host_uri", "%v", err)
	}
	if err := providertypes.ValidateContact(c.Provider.Contact); err != nil {
		bad("provider.contact", "%v", err)
	}
	if err := providertypes.ValidateRegion(c.Provider.Region); err != nil {
		bad("provider.region", "%q: %v", c.Provider.Region, err)
	}
	if c.Provider.Node.ID == "" {
		bad("provider.node.id", "must be set")
	}
	positive("provider.sync_interval", c.Provider.SyncInterval)
	if c.Provider.MaxAutoBond != "" || c.Provider.AutoBond {
		if coin, err := sdk.ParseCoinNormalized(c.Provider.MaxAutoBond); err != nil || !coin.IsPositive() {
			bad("provider.max_auto_bond", "%q is not a positive coin such as %s (required with auto_bond)",
				c.Provider.MaxAutoBond, DefaultMaxAutoBond)
		}
	}
	if _, err := gpus.ParseMode(c.NVML.Mode); err != nil {
		bad("nvml.mode", "%v", err)
	}
	positive("nvml.telemetry_interval", c.NVML.TelemetryInterval)
	names := make([]string, 0, len(c.Pricing.Classes))
	for name := range c.Pricing.Classes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := c.Pricing.Classes[name]
		field := "pricing.classes." + name
		if len(p.Floor) == 0 {
			bad(field+".floor", "list at least one price per GPU-hour, e.g. [2000000uusdc]")
		}
		seen := map[string]bool{}
		for i, f := range p.Floor {
			coin, err := sdk.ParseCoinNormalized(f)
			if err != nil || !coin.IsPositive() {
				bad(fmt.Sprintf("%s.floor[%d]", field, i), "%q is not a positive coin such as 2000000uusdc", f)
				continue
			}
			if seen[coin.Denom] {
				bad(fmt.Sprintf("%s.floor[%d]", field, i), "denom %s is listed twice", coin.Denom)
			}
			seen[coin.Denom] = true
		}
		if p.IndexMultiplier < 0 || p.IndexMultiplier > 100 {
			bad(field+".index_multiplier", "%v must be within [0, 100] (0 = floor only)", p.IndexMultiplier)
		}
	}
	if c.Bidding.Overcommit < 1 {
		bad("bidding.overcommit", "%d must be at least 1", c.Bidding.Overcommit)
	}
	if c.Bidding.MaxOpenBids < 1 {
		bad("bidding.max_open_bids", "%d must be at least 1", c.Bidding.MaxOpenBids)
	}
	positive("bidding.stale_after", c.Bidding.StaleAfter)
	switch c.Prover.Backend {
	case "auto", "cpu", "cuda":
	default:
		bad("prover.backend", "%q: want auto, cpu or cuda", c.Prover.Backend)
	}
	if c.Prover.Workers < 0 {
		bad("prover.workers", "%d must be 0 (one per core) or more", c.Prover.Workers)
	}
	if c.Prover.MaxMemoryMiB > 0 && c.Prover.MaxMemoryMiB < 64 {
		bad("prover.max_memory_mib", "%d is below the smallest challenge (64 MiB); 0 = this machine's memory",
			c.Prover.MaxMemoryMiB)
	}
	if c.Prover.CUDADevice < 0 {
		bad("prover.cuda_device", "%d must be 0 or more", c.Prover.CUDADevice)
	}
	for field, hook := range map[string]string{"leases.on_lease_start": c.Leases.OnLeaseStart, "leases.on_lease_end": c.Leases.OnLeaseEnd} {
		if hook != "" && !filepath.IsAbs(strings.Fields(hook)[0]) {
			bad(field, "%q must start with an absolute path to the program", hook)
		}
	}
	if (c.Leases.OnLeaseStart == "") != (c.Leases.OnLeaseEnd == "") {
		bad("leases.on_lease_end", "set both on_lease_start and on_lease_end, or neither (on_lease_start %q, on_lease_end %q)",
			c.Leases.OnLeaseStart, c.Leases.OnLeaseEnd)
	}
	envNames := make([]string, 0, len(c.Leases.HookEnv))
	for name := range c.Leases.HookEnv {
		envNames = append(envNames, name)
	}
	sort.Strings(envNames)
	for _, name := range envNames {
		switch {
		case !validEnvName.MatchString(name):
			bad("leases.hook_env", "%q is not a variable name (letters, digits and _, not starting with a digit, at most 128)", name)
		case slices.Contains(LeaseHookVariables, name):
			bad("leases.hook_env."+name, "is set by the sidecar for each lease; choose another name")
		case strings.ContainsRune(c.Leases.HookEnv[name], 0) || len(c.Leases.HookEnv[name]) > 4096:
			bad("leases.hook_env."+name, "must be at most 4096 bytes without NUL")
		}
	}
	if c.Leases.MaxConcurrentHooks < 1 || c.Leases.MaxConcurrentHooks > 256 {
		bad("leases.max_concurrent_hooks", "%d must be within [1, 256]", c.Leases.MaxConcurrentHooks)
	}
	positive("leases.hook_timeout", c.Leases.HookTimeout)
	positive("leases.usage_interval", c.Leases.UsageInterval)
	positive("leases.withdraw_interval", c.Leases.WithdrawInterval)
	if c.Leases.ClaimInterval < 0 {
		bad("leases.claim_interval", "%v must be 0 (never) or positive", c.Leases.ClaimInterval.D())
	}
	for field, addr := range map[string]string{"metrics.address": c.Metrics.Address,
		"api.grpc_address": c.API.GRPCAddress, "api.rest_address": c.API.RESTAddress} {
		if addr == "" {
			continue // disabled
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			bad(field, "%q is not host:port (empty disables it)", addr)
		}
	}
	errs = append(errs, c.validateListeners()...)
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

// validateListeners checks what the API and metrics listeners expose.
func (c Config) validateListeners() []error {
	var errs []error
	for _, l := range []struct {
		field, addr string
		allow       bool
		optIn       string
	}{
		{"metrics.address", c.Metrics.Address, c.Metrics.AllowRemote, "metrics.allow_remote"},
		{"api.grpc_address", c.API.GRPCAddress, c.API.AllowRemote, "api.allow_remote"},
		{"api.rest_address", c.API.RESTAddress, c.API.AllowRemote, "api.allow_remote"},
	} {
		if _, _, err := net.SplitHostPort(l.addr); l.addr != "" && err == nil {
			if err := listen.CheckLoopback(l.field, l.addr, l.allow, l.optIn); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if c.Metrics.MaxConnections < 1 {
		errs = append(errs, fmt.Errorf("metrics.max_connections: %d must be at least 1", c.Metrics.MaxConnections))
	}
	if c.API.MaxConnections < 1 {
		errs = append(errs, fmt.Errorf("api.max_connections: %d must be at least 1", c.API.MaxConnections))
	}
	for i, o := range c.API.CORSOrigins {
		if err := ValidateOrigin(o); err != nil {
			errs = append(errs, fmt.Errorf("api.cors_origins[%d]: %q: %w", i, o, err))
		}
	}
	return errs
}

// ValidateOrigin accepts "*" or a browser origin: http(s)://host[:port],
// without a path, query or trailing slash.
func ValidateOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "/") {
		return errors.New(`want "*" or scheme://host[:port], such as https://dash.example.com`)
	}
	return nil
}

// FloorFor returns the class's floor price in denom, if one is set.
func (p Pricing) FloorFor(class, denom string) (sdk.Coin, bool) {
	cp, ok := p.Classes[class]
	if !ok {
		return sdk.Coin{}, false
	}
	for _, f := range cp.Floor {
		if coin, err := sdk.ParseCoinNormalized(f); err == nil && coin.Denom == denom {
			return coin, true
		}
	}
	return sdk.Coin{}, false
}
