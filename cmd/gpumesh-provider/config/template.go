package config

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"text/template"
)

// fileTemplate is the commented config file. Every value is rendered as
// JSON, which is valid YAML, so strings are always quoted correctly.
var fileTemplate = template.Must(template.New("config").Funcs(template.FuncMap{"q": quote}).Parse(`# gpumesh-provider configuration. Durations are written like "5s", "1m30s".
# Check it with: gpumesh-provider inventory; then register and run.

chain:
  # gRPC address of a gpumesh full node you trust (your own, ideally).
  grpc: {{q .Chain.GRPC}}
  chain_id: {{q .Chain.ChainID}}
  # Gas prices offered for every transaction ("" = no fee). Must meet the
  # node's minimum-gas-prices.
  gas_prices: {{q .Chain.GasPrices}}
  # Simulated gas is multiplied by this.
  gas_adjustment: {{q .Chain.GasAdjustment}}
  # Send proof commits and reveals without a fee: the chain waives the
  # minimum gas price for a provider's own, currently acceptable proofs.
  free_proofs: {{q .Chain.FreeProofs}}
  # How often the latest block is polled, and how long to wait for a
  # transaction to be included.
  poll_interval: {{q .Chain.PollInterval}}
  tx_timeout: {{q .Chain.TxTimeout}}

key:
  # The provider account's key, created with
  #   gpumeshd keys add <name> --keyring-backend <backend> --keyring-dir <dir>
  name: {{q .Key.Name}}
  # os, file, kwallet, pass or test (test keeps keys unencrypted: local
  # networks only). The file backend reads its passphrase from
  # GPUMESH_KEYRING_PASSPHRASE.
  keyring_backend: {{q .Key.KeyringBackend}}
  # Directory of the keyring ("" = this home directory).
  keyring_dir: {{q .Key.KeyringDir}}

provider:
  moniker: {{q .Provider.Moniker}}
  # Where tenants and dashboards reach this sidecar's API: the public URL of
  # the TLS proxy in front of api.rest_address.
  host_uri: {{q .Provider.HostURI}}
  # ISO 3166-1 alpha-2 country code, optionally with a zone: US, DE-fra1.
  region: {{q .Provider.Region}}
  contact: {{q .Provider.Contact}}
  # This machine. GPUs are read from NVML; the rest is declared here.
  node:
    id: {{q .Provider.Node.ID}}
    cpu_cores: {{q .Provider.Node.CPUCores}}
    memory_mib: {{q .Provider.Node.MemoryMiB}}
    storage_gib: {{q .Provider.Node.StorageGiB}}
    bandwidth_mbps: {{q .Provider.Node.BandwidthMbps}}
    # Node-to-node fabric for cluster orders: infiniband, roce, ethernet.
    interconnect: {{q .Provider.Node.Interconnect}}
  # register bonds up to the collateral the listed GPUs require.
  auto_bond: {{q .Provider.AutoBond}}
  # Auto-bonding never brings the bond above this (required with auto_bond).
  # A bond you take back yourself (unbond) stops auto-bonding until you run
  # "gpumesh-provider register --bond".
  max_auto_bond: {{q .Provider.MaxAutoBond}}
  # How often the on-chain inventory is compared with NVML; a lost or
  # unhealthy GPU is withdrawn from the inventory (and from bidding).
  sync_interval: {{q .Provider.SyncInterval}}

nvml:
  # auto or real: this machine's NVIDIA driver (libnvidia-ml.so.1).
  # mock:<profile>: simulated GPUs for machines without any
  # (dgx-h100, dgx-a100, rtx4090x4, mixed).
  mode: {{q .NVML.Mode}}
  telemetry_interval: {{q .NVML.TelemetryInterval}}

pricing:
  # Per GPU class: the lowest price per GPU-hour accepted in each denom,
  # and optionally a multiplier of the chain's price index for the class.
  # A bid is max(floor, index × multiplier), capped at the order's maximum;
  # orders whose maximum is below the floor, or in a denom without a floor,
  # are not bid on.
  classes:
{{- range $name, $p := .Pricing.Classes}}
    {{$name}}:
      floor: {{q $p.Floor}}
      index_multiplier: {{q $p.IndexMultiplier}}
{{- end}}

bidding:
  enabled: {{q .Bidding.Enabled}}
  # How many live bids may name the same GPU (1 = never offer a GPU twice).
  overcommit: {{q .Bidding.Overcommit}}
  max_open_bids: {{q .Bidding.MaxOpenBids}}
  # Withdraw an open bid on an order still open this long after its window.
  stale_after: {{q .Bidding.StaleAfter}}

prover:
  # auto (cuda when libcuda.so.1 and a GPU are present, else cpu), cpu, cuda.
  backend: {{q .Prover.Backend}}
  # Goroutines for the CPU backend and for hashing (0 = one per core).
  workers: {{q .Prover.Workers}}
  cuda_device: {{q .Prover.CUDADevice}}
  # A challenge needing more memory than this (MiB) is refused, not
  # computed (0 = this machine's total memory).
  max_memory_mib: {{q .Prover.MaxMemoryMiB}}

leases:
  # Provisioning hooks: absolute paths of programs run with GPUMESH_LEASE_ID,
  # GPUMESH_TENANT, GPUMESH_GPU_UUIDS (comma separated), GPUMESH_SSH_PUBKEY
  # and GPUMESH_PROVIDER in the environment. on_lease_start's last line of
  # output is the access endpoint posted on chain. Set both or neither; they
  # must exist and be executable when the sidecar starts. on_lease_end runs
  # for every start that ran, even one that failed, until it exits 0.
  # Examples: docs/hooks/ in the gpumesh repository.
  on_lease_start: {{q .Leases.OnLeaseStart}}
  on_lease_end: {{q .Leases.OnLeaseEnd}}
  hook_timeout: {{q .Leases.HookTimeout}}
  # Hooks get PATH, LANG, the GPUMESH_* lease variables and these
  # variables, nothing else of the sidecar's environment.
{{- if .Leases.HookEnv}}
  hook_env:
{{- range $name, $v := .Leases.HookEnv}}
    {{$name}}: {{q $v}}
{{- end}}
{{- else}}
  # hook_env:
  #   GPUMESH_PUBLIC_HOST: gpu1.example.com
{{- end}}
  # Hooks of different leases run in parallel, at most this many at once.
  max_concurrent_hooks: {{q .Leases.MaxConcurrentHooks}}
  # How often usage is reported and earnings withdrawn.
  usage_interval: {{q .Leases.UsageInterval}}
  withdraw_interval: {{q .Leases.WithdrawInterval}}
  # How often capacity rewards are claimed ("0s" = never).
  claim_interval: {{q .Leases.ClaimInterval}}

metrics:
  # Prometheus /metrics and /healthz ("" = off). No TLS, no authentication:
  # keep it on loopback, or on a private network with allow_remote: true.
  address: {{q .Metrics.Address}}
  allow_remote: {{q .Metrics.AllowRemote}}
  # Open connections beyond this are refused.
  max_connections: {{q .Metrics.MaxConnections}}

api:
  # The read-only sidecar API: gRPC and REST (/v1/status, /v1/gpus, ...).
  # "" turns either off. It has no TLS and no authentication, so it listens
  # on loopback; reach it through a TLS proxy with authentication, or an SSH
  # tunnel (docs/provider.md). A non-loopback address needs allow_remote: true.
  grpc_address: {{q .API.GRPCAddress}}
  rest_address: {{q .API.RESTAddress}}
  allow_remote: {{q .API.AllowRemote}}
  # Open connections per listener beyond this are refused.
  max_connections: {{q .API.MaxConnections}}
  # Browser origins allowed to call the REST API, e.g.
  # ["https://dash.example.com"]; [] = none.
  cors_origins: {{q .API.CORSOrigins}}
`))

func quote(v any) (string, error) {
	bz, err := json.Marshal(v)
	return string(bz), err
}

// Render writes cfg as the commented config file.
func Render(cfg Config) ([]byte, error) {
	var buf bytes.Buffer
	if err := fileTemplate.Execute(&buf, cfg); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write renders cfg into home/config.yaml, creating home (mode 0700). It
// refuses to overwrite an existing file unless overwrite is set.
func Write(home string, cfg Config, overwrite bool) (string, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(home, FileName)
	if _, err := os.Stat(path); err == nil && !overwrite {
		return path, &os.PathError{Op: "init", Path: path, Err: os.ErrExist}
	}
	bz, err := Render(cfg)
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, bz, 0o600)
}

// ClassNames are the priced classes, sorted.
func (p Pricing) ClassNames() []string {
	names := make([]string, 0, len(p.Classes))
	for n := range p.Classes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
