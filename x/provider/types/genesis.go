package types

import (
	"fmt"

	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis returns the genesis state of x/provider on a new chain.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state before it is imported: every record is
// well formed, inventories belong to active providers, GPU UUIDs are unique
// on chain, and each provider's stats match its inventory.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(err, "params")
	}
	providers := make(map[string]Provider, len(gs.Providers))
	for i, p := range gs.Providers {
		if err := p.validate(); err != nil {
			return fmt.Errorf("providers[%d]: %w", i, err)
		}
		if _, dup := providers[p.Owner]; dup {
			return fmt.Errorf("providers[%d]: owner %s is listed twice", i, p.Owner)
		}
		providers[p.Owner] = p
	}
	stats := make(map[string]ProviderStats, len(gs.Inventories))
	uuids := make(map[string]string)
	for i, inv := range gs.Inventories {
		p, ok := providers[inv.Owner]
		if !ok {
			return fmt.Errorf("inventories[%d]: owner %s is not a provider", i, inv.Owner)
		}
		if p.Status != PROVIDER_STATUS_ACTIVE {
			return fmt.Errorf("inventories[%d]: owner %s is %s and may not list nodes", i, inv.Owner, p.Status)
		}
		if _, dup := stats[inv.Owner]; dup {
			return fmt.Errorf("inventories[%d]: owner %s is listed twice", i, inv.Owner)
		}
		if err := validateNodes(inv.Nodes, true); err != nil {
			return fmt.Errorf("inventories[%d]: %w", i, err)
		}
		for _, n := range inv.Nodes {
			for _, g := range n.Gpus {
				if other, dup := uuids[g.Uuid]; dup {
					return fmt.Errorf("inventories[%d]: GPU %s is also listed by %s", i, g.Uuid, other)
				}
				uuids[g.Uuid] = inv.Owner
				if _, known := gs.Params.Class(g.Class); !known && g.Class != UnknownClass {
					return fmt.Errorf("inventories[%d]: GPU %s has unknown class %q", i, g.Uuid, g.Class)
				}
			}
		}
		stats[inv.Owner] = InventoryStats(inv.Nodes)
	}
	for i, p := range gs.Providers {
		want := stats[p.Owner]
		got := p.Stats
		if !got.InventoryCountsEqual(want) {
			return fmt.Errorf("providers[%d]: stats of %s (nodes %d, gpus %d, billable %d, allocated %d, verified %d) "+
				"do not match its inventory (nodes %d, gpus %d, billable %d, allocated %d, verified %d)",
				i, p.Owner, got.Nodes, got.Gpus, got.BillableGpus, got.AllocatedGpus, got.VerifiedGpus,
				want.Nodes, want.Gpus, want.BillableGpus, want.AllocatedGpus, want.VerifiedGpus)
		}
	}
	return nil
}

func (p Provider) validate() error {
	if _, err := sdk.AccAddressFromBech32(p.Owner); err != nil {
		return fmt.Errorf("owner %q: %w", p.Owner, err)
	}
	if err := ValidateMoniker(p.Moniker); err != nil {
		return err
	}
	if err := ValidateHostURI(p.HostUri); err != nil {
		return err
	}
	if err := ValidateRegion(p.Region); err != nil {
		return err
	}
	if err := ValidateContact(p.Contact); err != nil {
		return err
	}
	if p.Status != PROVIDER_STATUS_ACTIVE && p.Status != PROVIDER_STATUS_DEREGISTERED {
		return fmt.Errorf("status %s is not a provider status", p.Status)
	}
	if p.Reputation > MaxReputation {
		return fmt.Errorf("reputation must be at most %d, got %d", MaxReputation, p.Reputation)
	}
	return nil
}

// InventoryStats counts the nodes and GPUs of an inventory. GPUs of the
// unknown class are listed but not billable.
func InventoryStats(nodes []Node) ProviderStats {
	var s ProviderStats
	s.Nodes = uint32(len(nodes)) //nolint:gosec // bounded by MaxNodesPerProviderLimit
	for _, n := range nodes {
		for _, g := range n.Gpus {
			s.Gpus++
			if g.Class != UnknownClass {
				s.BillableGpus++
			}
			if g.AllocatedTo != "" {
				s.AllocatedGpus++
			}
			if g.Verified {
				s.VerifiedGpus++
			}
		}
	}
	return s
}

// InventoryCountsEqual reports whether two stats agree on the counts that
// derive from an inventory (nodes, GPUs, billable, allocated, verified).
func (s ProviderStats) InventoryCountsEqual(o ProviderStats) bool {
	return s.Nodes == o.Nodes && s.Gpus == o.Gpus && s.BillableGpus == o.BillableGpus &&
		s.AllocatedGpus == o.AllocatedGpus && s.VerifiedGpus == o.VerifiedGpus
}
