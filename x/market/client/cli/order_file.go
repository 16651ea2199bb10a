package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// orderFile is an order as written in YAML (see x/market/README.md and
// docs/examples/order-2xh100.yaml). Field names are snake_case and exact.
type orderFile struct {
	GPUClasses         []string `json:"gpu_classes"`
	GPUsPerNode        uint32   `json:"gpus_per_node"`
	Nodes              *uint32  `json:"nodes"`
	MinVRAMMiB         uint32   `json:"min_vram_mib"`
	CPUCoresPerNode    uint32   `json:"cpu_cores_per_node"`
	MemoryMiBPerNode   uint32   `json:"memory_mib_per_node"`
	StorageGiBPerNode  uint32   `json:"storage_gib_per_node"`
	Interconnect       string   `json:"interconnect"`
	Regions            []string `json:"regions"`
	MinReputation      uint32   `json:"min_reputation"`
	MaxPricePerGPUHour string   `json:"max_price_per_gpu_hour"`
	Duration           *string  `json:"duration"`
	BidWindow          *string  `json:"bid_window"`
	SSHPubkey          string   `json:"ssh_pubkey"`
	SSHPubkeyFile      string   `json:"ssh_pubkey_file"`
}

// orderFields are the field names of an order file, in the order the
// README lists them.
var orderFields = []string{
	"gpu_classes", "gpus_per_node", "nodes", "min_vram_mib", "cpu_cores_per_node", "memory_mib_per_node",
	"storage_gib_per_node", "interconnect", "regions", "min_reputation", "max_price_per_gpu_hour", "duration",
	"bid_window", "ssh_pubkey", "ssh_pubkey_file",
}

// ParseOrderYAML reads an order file into a MsgCreateOrder without its
// tenant and deposit, which the command fills in. Unknown or misspelled
// fields are errors; errors name the field and the value. A relative
// ssh_pubkey_file is read from baseDir (the order file's directory); a
// leading ~/ is the user's home directory. The message is not validated
// here: MsgCreateOrder.ValidateBasic checks the spec.
func ParseOrderYAML(bz []byte, baseDir string) (types.MsgCreateOrder, error) {
	var msg types.MsgCreateOrder
	if len(bytes.TrimSpace(bz)) == 0 {
		return msg, errors.New("the order file is empty")
	}
	if err := checkOrderFields(bz); err != nil {
		return msg, err
	}
	var f orderFile
	if err := yaml.UnmarshalStrict(bz, &f); err != nil {
		return msg, fmt.Errorf("read order: %s", cleanYAMLError(err))
	}

	if len(f.GPUClasses) == 0 {
		return msg, errors.New("gpu_classes is required: a list of GPU classes (h100-sxm-80g) or models (h100)")
	}
	if f.GPUsPerNode == 0 {
		return msg, errors.New("gpus_per_node is required and must be at least 1")
	}
	nodes := uint32(1)
	if f.Nodes != nil {
		if *f.Nodes == 0 {
			return msg, errors.New("nodes must be at least 1, got 0 (leave it out for one node)")
		}
		nodes = *f.Nodes
	}
	if err := checkNotBoolean("gpu_classes", f.GPUClasses); err != nil {
		return msg, err
	}
	if err := checkNotBoolean("regions", f.Regions); err != nil {
		return msg, err
	}
	if err := checkNotBoolean("interconnect", []string{f.Interconnect}); err != nil {
		return msg, err
	}
	if f.MaxPricePerGPUHour == "" {
		return msg, errors.New("max_price_per_gpu_hour is required: a coin in base units per GPU-hour, e.g. 2500000uusdc")
	}
	maxPrice, err := ParseCoin("max_price_per_gpu_hour", f.MaxPricePerGPUHour)
	if err != nil {
		return msg, err
	}
	var duration uint64
	if f.Duration != nil {
		if duration, err = parseSeconds("duration", *f.Duration); err != nil {
			return msg, err
		}
	}
	if f.BidWindow == nil {
		return msg, errors.New("bid_window is required: a duration such as 30s, or 0s for an instant order")
	}
	window, err := parseSeconds("bid_window", *f.BidWindow)
	if err != nil {
		return msg, err
	}
	sshKey := strings.TrimSpace(f.SSHPubkey)
	if f.SSHPubkeyFile != "" {
		if sshKey != "" {
			return msg, errors.New("set ssh_pubkey or ssh_pubkey_file, not both")
		}
		if sshKey, err = readPubkeyFile(f.SSHPubkeyFile, baseDir); err != nil {
			return msg, err
		}
	}

	msg = types.MsgCreateOrder{
		Spec: types.ResourceSpec{
			GpuClasses:        f.GPUClasses,
			GpusPerNode:       f.GPUsPerNode,
			Nodes:             nodes,
			MinVramMib:        f.MinVRAMMiB,
			CpuCoresPerNode:   f.CPUCoresPerNode,
			MemoryMibPerNode:  f.MemoryMiBPerNode,
			StorageGibPerNode: f.StorageGiBPerNode,
			Interconnect:      f.Interconnect,
			Regions:           f.Regions,
			MinReputation:     f.MinReputation,
		},
		MaxPricePerGpuHour: maxPrice,
		DurationSeconds:    duration,
		BidWindowSeconds:   window,
		SshPubkey:          sshKey,
	}
	return msg, nil
}

// checkOrderFields refuses a top-level key that is not exactly one of the
// order fields (the JSON decoder alone would accept GPU_CLASSES for
// gpu_classes).
func checkOrderFields(bz []byte) error {
	j, err := yaml.YAMLToJSONStrict(bz)
	if err != nil {
		return fmt.Errorf("read order: %s", cleanYAMLError(err))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(j, &top); err != nil {
		return errors.New("read order: the file must be a YAML mapping of order fields (gpu_classes: …)")
	}
	var unknown []string
	for k := range top {
		if !slices.Contains(orderFields, k) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("unknown field %s; the fields are %s", strings.Join(unknown, ", "), strings.Join(orderFields, ", "))
	}
	return nil
}

// cleanYAMLError drops the conversion layers from sigs.k8s.io/yaml's
// messages ("error unmarshaling JSON: while decoding JSON: json: …").
func cleanYAMLError(err error) string {
	s := err.Error()
	for _, p := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: ", "json: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return strings.ReplaceAll(s, "Go struct field orderFile.", "field ")
}

// checkNotBoolean catches YAML 1.1 booleans that became "true"/"false" in a
// string list: an unquoted NO (Norway) is read as false.
func checkNotBoolean(field string, values []string) error {
	for i, v := range values {
		if v == "true" || v == "false" {
			return fmt.Errorf("%s[%d] is %q: YAML reads an unquoted yes, no, on, off, y or n (any case) "+
				"as a boolean; quote the value, e.g. \"NO\"", field, i, v)
		}
	}
	return nil
}

// ParseCoin reads a coin in whole base units (2500000uusdc) with a positive
// amount; errors name the field.
func ParseCoin(field, s string) (sdk.Coin, error) {
	dc, err := sdk.ParseDecCoin(s)
	if err != nil {
		return sdk.Coin{}, fmt.Errorf("%s %q is not a coin: write an amount in base units and a denom, e.g. 2500000uusdc", field, s)
	}
	if !dc.Amount.IsInteger() {
		return sdk.Coin{}, fmt.Errorf("%s %q: the amount must be whole base units (2.50 USDC is 2500000uusdc)", field, s)
	}
	c := sdk.NewCoin(dc.Denom, dc.Amount.TruncateInt())
	if !c.Amount.IsPositive() {
		return sdk.Coin{}, fmt.Errorf("%s %q: the amount must be positive", field, s)
	}
	return c, nil
}

// parseSeconds reads a Go duration (2h, 90m, 30s, 0s) as whole seconds.
func parseSeconds(field, s string) (uint64, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a duration: write e.g. 30s, 90m or 2h (no days: 168h is a week)", field, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%s %q must not be negative", field, s)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%s %q must be whole seconds", field, s)
	}
	return uint64(d / time.Second), nil
}

// readPubkeyFile reads an SSH public key file: ~/ is the home directory, a
// relative path is relative to baseDir.
func readPubkeyFile(path, baseDir string) (string, error) {
	p := path
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("ssh_pubkey_file %q: %w", path, err)
		}
		p = filepath.Join(home, strings.TrimPrefix(p, "~"))
	} else if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	bz, err := os.ReadFile(p) //nolint:gosec // the user names the file to read
	if err != nil {
		return "", fmt.Errorf("ssh_pubkey_file %q: %w", path, err)
	}
	key := strings.TrimSpace(string(bz))
	if key == "" {
		return "", fmt.Errorf("ssh_pubkey_file %q is empty", path)
	}
	return key, nil
}
