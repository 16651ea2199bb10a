package service

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/gpus"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Registrar is what registration needs from the chain client.
type Registrar interface {
	Address() sdk.AccAddress
	ProviderState(ctx context.Context) (chain.ProviderState, error)
	BondParams(ctx context.Context) (stakingslashtypes.Params, error)
	Send(ctx context.Context, opts chain.SendOptions, msgs ...sdk.Msg) (*chain.TxResult, error)
}

// NodeInfo converts the configured node.
func NodeInfo(n config.Node) gpus.NodeInfo {
	return gpus.NodeInfo{ID: n.ID, CPUCores: n.CPUCores, MemoryMiB: n.MemoryMiB, StorageGiB: n.StorageGiB,
		BandwidthMbps: n.BandwidthMbps, Interconnect: n.Interconnect}
}

// SyncResult says what Sync changed.
type SyncResult struct {
	Registered, Updated, InventorySet bool
	Bonded                            sdk.Coin
	GPUs                              int
	// Deregistered is set when Sync found the provider deregistered on
	// chain and, not asked to reregister, left everything as it was.
	Deregistered bool
	// BondHeld says why auto-bonding bonded nothing although the bond is
	// short; zero when it was not held.
	BondHeld AutoBondHold
	// BondErr is the failed bond of a running sidecar's sync (the
	// operator's register returns it as Sync's error instead).
	BondErr error
}

// Sync makes the chain match the config and NVML: it registers the
// provider (or updates its details), sets this node's inventory from the
// healthy GPUs (other nodes of the provider are kept; a GPU allocated to a
// lease stays listed even when unhealthy, since the chain refuses to
// remove it) and, with autoBond, bonds up to the required collateral.
//
// A provider that deregistered is registered again only with reregister
// (the operator's `register` command): a running sidecar must not undo a
// deliberate deregistration. Without it Sync changes nothing and says so
// in SyncResult.Deregistered. Auto-bonding follows the same rule for an
// unbond the operator made (see bond).
func Sync(ctx context.Context, c Registrar, p config.Provider, list []gpus.GPU, autoBond, reregister bool,
	log *slog.Logger,
) (SyncResult, error) {
	var res SyncResult
	owner := c.Address().String()
	st, err := c.ProviderState(ctx)
	if err != nil {
		return res, err
	}
	if st.Registered && st.Provider.Status == providertypes.PROVIDER_STATUS_DEREGISTERED && !reregister {
		res.Deregistered = true
		return res, nil
	}
	var msgs []sdk.Msg
	switch {
	case !st.Registered || st.Provider.Status != providertypes.PROVIDER_STATUS_ACTIVE:
		msgs = append(msgs, &providertypes.MsgRegisterProvider{Owner: owner, Moniker: p.Moniker, HostUri: p.HostURI,
			Region: p.Region, Contact: p.Contact})
		res.Registered = true
	case st.Provider.Moniker != p.Moniker || st.Provider.HostUri != p.HostURI || st.Provider.Region != p.Region ||
		st.Provider.Contact != p.Contact:
		msgs = append(msgs, &providertypes.MsgUpdateProvider{Owner: owner, Moniker: p.Moniker, HostUri: p.HostURI,
			Region: p.Region, Contact: p.Contact})
		res.Updated = true
	}
	want := desiredNodes(st.Nodes, NodeInfo(p.Node), list)
	if res.Registered || !sameNodes(st.Nodes, want) {
		msgs = append(msgs, &providertypes.MsgSetInventory{Owner: owner, Nodes: want})
		res.InventorySet = true
	}
	for _, n := range want {
		if n.Id == p.Node.ID {
			res.GPUs = len(n.Gpus)
		}
	}
	if len(msgs) > 0 {
		if _, err := c.Send(ctx, chain.SendOptions{}, msgs...); err != nil {
			return res, err
		}
		log.Info("provider synced", "registered", res.Registered, "updated", res.Updated, "inventory_set", res.InventorySet,
			"gpus", res.GPUs)
	}
	if !autoBond {
		return res, nil
	}
	if len(msgs) > 0 {
		if st, err = c.ProviderState(ctx); err != nil {
			return res, err
		}
	}
	bonded, hold, err := bond(ctx, c, p, st, reregister)
	res.Bonded, res.BondHeld = bonded, hold
	switch {
	case err != nil && reregister:
		return res, err
	case err != nil:
		res.BondErr = err
	case bonded.IsValid() && bonded.IsPositive():
		log.Info("collateral bonded", "amount", bonded.String())
	}
	if hold.Reason != "" && reregister {
		return res, fmt.Errorf("not bonding: %s", hold.Detail)
	}
	return res, nil
}

// desiredNodes is the provider's node list with this node's entry built
// from NVML: healthy GPUs, plus allocated GPUs the chain still lists.
func desiredNodes(current []providertypes.Node, info gpus.NodeInfo, list []gpus.GPU) []providertypes.Node {
	healthy := make([]gpus.GPU, 0, len(list))
	for _, g := range list {
		if g.Healthy {
			healthy = append(healthy, g)
		}
	}
	inv := gpus.Inventory(info, healthy)
	var mine providertypes.Node
	if len(inv.Nodes) > 0 {
		mine = inv.Nodes[0]
	}
	listed := map[string]bool{}
	for _, g := range mine.Gpus {
		listed[g.Uuid] = true
	}
	var out []providertypes.Node
	for _, n := range current {
		if n.Id != info.ID {
			out = append(out, withoutChainFields(n))
			continue
		}
		for _, g := range n.Gpus {
			if g.AllocatedTo != "" && !listed[g.Uuid] {
				mine.Gpus = append(mine.Gpus, withoutChainFieldsGPU(g))
			}
		}
	}
	sort.Slice(mine.Gpus, func(i, j int) bool { return mine.Gpus[i].Uuid < mine.Gpus[j].Uuid })
	if len(mine.Gpus) > 0 {
		out = append(out, mine)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return out
}

// withoutChainFields is a copy of n as an inventory message may carry it:
// every GPU without the fields only the chain sets (allocated_to,
// verified, verified_height; see GPU in proto/gpumesh/provider/v1), which
// MsgSetInventory refuses. The chain keeps them for GPUs listed unchanged.
func withoutChainFields(n providertypes.Node) providertypes.Node {
	gs := make([]providertypes.GPU, len(n.Gpus))
	for i, g := range n.Gpus {
		gs[i] = withoutChainFieldsGPU(g)
	}
	n.Gpus = gs
	return n
}

func withoutChainFieldsGPU(g providertypes.GPU) providertypes.GPU {
	g.AllocatedTo, g.Verified, g.VerifiedHeight = "", false, 0
	return g
}

// sameNodes compares node lists ignoring the chain-set fields and order.
func sameNodes(a, b []providertypes.Node) bool {
	norm := func(ns []providertypes.Node) map[string]string {
		out := map[string]string{}
		for _, n := range ns {
			n = withoutChainFields(n)
			sort.Slice(n.Gpus, func(i, j int) bool { return n.Gpus[i].Uuid < n.Gpus[j].Uuid })
			out[n.Id] = n.String()
		}
		return out
	}
	na, nb := norm(a), norm(b)
	if len(na) != len(nb) {
		return false
	}
	for id, s := range na {
		if nb[id] != s {
			return false
		}
	}
	return true
}
