package bidder

import (
	"fmt"
	"sort"
	"strings"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// Reasons a GPU can never be offered, the reason label of
// gpumesh_provider_gpus_unbiddable.
const (
	// ReasonUnknownClass: the GPU's class is not in the chain's class
	// table (NVML reported a PCI device id no class lists).
	ReasonUnknownClass = "unknown_class"
	// ReasonNoPrice: the class has no entry in pricing.classes.
	ReasonNoPrice = "no_price"
	// ReasonUnhealthy: NVML marks the GPU unhealthy.
	ReasonUnhealthy = "unhealthy"
)

// CheckPricing refuses a pricing policy naming a class the chain does not
// have: a typo there would leave the provider's GPUs unpriced and the
// sidecar never bidding. The error names the unknown classes and the
// chain's classes.
func CheckPricing(pricing config.Pricing, classes []providertypes.GPUClass) error {
	known := make(map[string]bool, len(classes))
	names := make([]string, 0, len(classes))
	for _, c := range classes {
		known[c.Name] = true
		names = append(names, c.Name)
	}
	sort.Strings(names)
	var unknown []string
	for name := range pricing.Classes {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("pricing.classes: %s not a GPU class on chain (the chain's classes: %s)",
		quoteList(unknown), strings.Join(names, ", "))
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	if len(q) == 1 {
		return q[0] + " is"
	}
	return strings.Join(q, ", ") + " are"
}

// Unbiddable lists the GPUs among list that no order can ever get a bid
// for, and why (ReasonUnhealthy, ReasonUnknownClass, ReasonNoPrice), in
// list order. A GPU listed here is never offered, whatever the orders.
func Unbiddable(pricing config.Pricing, classes []providertypes.GPUClass, list []state.GPU) []state.UnbiddableGPU {
	known := make(map[string]bool, len(classes))
	for _, c := range classes {
		known[c.Name] = true
	}
	var out []state.UnbiddableGPU
	for _, g := range list {
		u := state.UnbiddableGPU{UUID: g.UUID, Class: g.Class}
		switch _, priced := pricing.Classes[g.Class]; {
		case !g.Healthy:
			u.Reason, u.Detail = ReasonUnhealthy, "NVML marks it unhealthy: "+g.Health
		case g.Class == providertypes.UnknownClass || !known[g.Class]:
			u.Reason = ReasonUnknownClass
			u.Detail = fmt.Sprintf("PCI device id %s is not in any GPU class on chain", g.PCIDeviceID)
		case !priced:
			u.Reason = ReasonNoPrice
			u.Detail = fmt.Sprintf("no price for class %s in pricing.classes", g.Class)
		default:
			continue
		}
		out = append(out, u)
	}
	return out
}
