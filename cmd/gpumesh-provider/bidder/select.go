package bidder

import (
	"sort"
	"strconv"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Offer is what the bidder would offer for an order.
type Offer struct {
	Class string
	GPUs  []string
	Price sdk.Coin
}

// Usable says whether a GPU may be offered now: healthy and named by
// fewer live bids than the overcommit allows.
type Usable func(uuid string) bool

// SelectGPUs picks GPUs of one class for the order's spec from the
// provider's nodes, mirroring the chain's checks so that a bid it makes is
// accepted: the provider's region and reputation, every GPU free, usable,
// of an accepted class and with enough memory; spec.nodes nodes with
// gpus_per_node GPUs each, every node meeting the CPU, memory, storage and
// interconnect requirements, and a cluster's nodes sharing one
// interconnect. It returns the candidate offer for each class that fits
// (price not set), in class-name order; none when nothing fits.
func SelectGPUs(spec markettypes.ResourceSpec, p providertypes.Provider, nodes []providertypes.Node,
	classes []providertypes.GPUClass, usable Usable,
) []Offer {
	if !spec.AcceptsRegion(p.Region) || p.Reputation < spec.MinReputation || spec.Nodes == 0 || spec.GpusPerNode == 0 {
		return nil
	}
	var offers []Offer
	for _, class := range classes {
		if !spec.AcceptsClass(class) {
			continue
		}
		// Candidate nodes: those with enough usable GPUs of the class.
		type candidate struct {
			node providertypes.Node
			gpus []string
		}
		var cands []candidate
		for _, n := range nodes {
			if n.CpuCores < spec.CpuCoresPerNode || n.MemoryMib < spec.MemoryMibPerNode ||
				n.StorageGib < spec.StorageGibPerNode ||
				(spec.Interconnect != "" && n.Interconnect != spec.Interconnect) {
				continue
			}
			var picked []string
			for _, g := range n.Gpus {
				if g.Class != class.Name || g.AllocatedTo != "" || g.VramMib < spec.MinVramMib || !usable(g.Uuid) {
					continue
				}
				picked = append(picked, g.Uuid)
			}
			if uint32(len(picked)) < spec.GpusPerNode { //nolint:gosec // a node lists few GPUs
				continue
			}
			sort.Strings(picked)
			cands = append(cands, candidate{node: n, gpus: picked[:spec.GpusPerNode]})
		}
		if uint32(len(cands)) < spec.Nodes { //nolint:gosec // few nodes
			continue
		}
		var chosen []candidate
		if spec.Nodes == 1 {
			chosen = cands[:1]
		} else {
			// A cluster: nodes sharing one non-empty interconnect.
			groups := map[string][]candidate{}
			var fabrics []string
			for _, c := range cands {
				ic := c.node.Interconnect
				if ic == "" {
					continue
				}
				if _, ok := groups[ic]; !ok {
					fabrics = append(fabrics, ic)
				}
				groups[ic] = append(groups[ic], c)
			}
			sort.Strings(fabrics)
			for _, ic := range fabrics {
				if uint32(len(groups[ic])) >= spec.Nodes { //nolint:gosec // few nodes
					chosen = groups[ic][:spec.Nodes]
					break
				}
			}
			if chosen == nil {
				continue
			}
		}
		offer := Offer{Class: class.Name}
		for _, c := range chosen {
			offer.GPUs = append(offer.GPUs, c.gpus...)
		}
		offers = append(offers, offer)
	}
	sort.Slice(offers, func(i, j int) bool { return offers[i].Class < offers[j].Class })
	return offers
}

// Price is the bid price per GPU-hour for a class in the order's denom:
// max(floor, index × multiplier) capped at the order's maximum. ok is
// false when the class has no floor in that denom or the maximum is below
// the floor.
func Price(pricing config.Pricing, class string, maxPrice sdk.Coin, index map[string]sdkmath.LegacyDec) (sdk.Coin, bool) {
	floor, ok := pricing.FloorFor(class, maxPrice.Denom)
	if !ok || maxPrice.Amount.LT(floor.Amount) {
		return sdk.Coin{}, false
	}
	price := floor.Amount
	if mult := pricing.Classes[class].IndexMultiplier; mult > 0 {
		if idx, ok := index[class+"/"+maxPrice.Denom]; ok && idx.IsPositive() {
			m, err := sdkmath.LegacyNewDecFromStr(formatFloat(mult))
			if err == nil {
				if v := idx.Mul(m).TruncateInt(); v.GT(price) {
					price = v
				}
			}
		}
	}
	if price.GT(maxPrice.Amount) {
		price = maxPrice.Amount
	}
	return sdk.NewCoin(maxPrice.Denom, price), true
}

// Cheapest prices each offer and returns the cheapest one that can be
// priced (ties: class name).
func Cheapest(offers []Offer, pricing config.Pricing, maxPrice sdk.Coin, index map[string]sdkmath.LegacyDec) (Offer, bool) {
	var best Offer
	found := false
	for _, o := range offers {
		price, ok := Price(pricing, o.Class, maxPrice, index)
		if !ok {
			continue
		}
		o.Price = price
		if !found || price.Amount.LT(best.Price.Amount) {
			best, found = o, true
		}
	}
	return best, found
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
