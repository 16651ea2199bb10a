package keeper

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
)

// bidKey is the store key of the provider's bid on an order.
func bidKey(order types.OrderKey, provider sdk.AccAddress) types.BidKey {
	return collections.Join3(order.K1(), order.K2(), provider)
}

// orderBids returns every stored bid of an order, in provider-address
// order. An OPEN order has at most max_bids_per_order of them (withdrawn
// bids are deleted).
func (k *Keeper) orderBids(ctx context.Context, key types.OrderKey) ([]types.Bid, error) {
	iter, err := k.Bids.Iterate(ctx, collections.NewSuperPrefixedTripleRange[sdk.AccAddress, uint64, sdk.AccAddress](key.K1(), key.K2()))
	if err != nil {
		return nil, err
	}
	return iter.Values()
}

// GetBid returns the provider's bid on an order.
func (k *Keeper) GetBid(ctx context.Context, id types.OrderID, provider sdk.AccAddress) (types.Bid, error) {
	key, err := id.Key()
	if err != nil {
		return types.Bid{}, err
	}
	b, err := k.Bids.Get(ctx, bidKey(key, provider))
	if errors.Is(err, collections.ErrNotFound) {
		return b, errorsmod.Wrapf(types.ErrBidNotFound, "provider %s has no bid on order %s", provider, id)
	}
	return b, err
}

// CreateBid records a provider's offer for an OPEN order, after checking,
// in this order: the order is OPEN and its window has not ended, the
// provider is not the tenant and may bid, the price is in the order's
// denom and at most its maximum, the deposit covers bid_deposit, the
// provider has no bid on the order yet, the order has room for one more,
// and the GPUs satisfy the spec. The deposit is held in escrow. On an
// instant order the bid becomes the lease at once: leaseStarted is true.
func (k *Keeper) CreateBid(ctx context.Context, msg *types.MsgCreateBid) (leaseStarted bool, err error) {
	providerAddr, err := k.addressCodec.StringToBytes(msg.Provider)
	if err != nil {
		return false, errorsmod.Wrapf(types.ErrInvalidBid, "provider %q: %s", msg.Provider, err)
	}
	provider := sdk.AccAddress(providerAddr)
	key, err := msg.OrderId.Key()
	if err != nil {
		return false, err
	}
	order, err := k.getOpenOrder(ctx, key)
	if err != nil {
		return false, err
	}
	if now := blockTime(ctx); !now.Before(order.WindowEnd) {
		return false, errorsmod.Wrapf(types.ErrWindowClosed, "order %s took bids until %s; block time is %s",
			order.Id, order.WindowEnd.Format(timeFormat), now.Format(timeFormat))
	}
	if provider.Equals(key.K1()) {
		return false, errorsmod.Wrapf(types.ErrInvalidBid, "provider %s is the tenant of order %s: no bids on one's own order",
			msg.Provider, order.Id)
	}
	p, err := k.checkEligible(ctx, provider)
	if err != nil {
		return false, err
	}
	if err := checkPrice(order, msg.PricePerGpuHour); err != nil {
		return false, err
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return false, err
	}
	if msg.Deposit.Denom != params.BidDeposit.Denom || msg.Deposit.Amount.LT(params.BidDeposit.Amount) {
		return false, errorsmod.Wrapf(types.ErrInvalidBid, "deposit %s must be at least the bid_deposit %s",
			msg.Deposit, params.BidDeposit)
	}
	bk := bidKey(key, provider)
	if has, err := k.Bids.Has(ctx, bk); err != nil {
		return false, err
	} else if has {
		return false, errorsmod.Wrapf(types.ErrBidExists, "provider %s already bid on order %s (close that bid to bid again)",
			msg.Provider, order.Id)
	}
	if order.OpenBids >= params.MaxBidsPerOrder {
		return false, errorsmod.Wrapf(types.ErrTooManyBids, "order %s has %d open bids, max_bids_per_order is %d",
			order.Id, order.OpenBids, params.MaxBidsPerOrder)
	}
	class, err := k.checkOffer(ctx, order, p, msg.Gpus)
	if err != nil {
		return false, err
	}
	if err := k.escrow.HoldBidDeposit(ctx, key.K1(), key.K2(), provider, msg.Deposit); err != nil {
		return false, err
	}

	order.BidsReceived++
	order.OpenBids++
	bid := types.Bid{
		OrderId:         order.Id,
		Provider:        msg.Provider,
		PricePerGpuHour: msg.PricePerGpuHour,
		Gpus:            msg.Gpus,
		GpuClass:        class,
		Deposit:         msg.Deposit,
		State:           types.BID_STATE_OPEN,
		Number:          order.BidsReceived,
		CreatedAt:       blockTime(ctx),
	}
	if err := k.Bids.Set(ctx, bk, bid); err != nil {
		return false, err
	}
	if err := k.updateCounters(ctx, func(c *types.Counters) { c.BidsCreated++ }); err != nil {
		return false, err
	}
	if err := sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBidCreated{
		OrderId: bid.OrderId, Provider: bid.Provider, PricePerGpuHour: bid.PricePerGpuHour, Gpus: bid.Gpus, GpuClass: class,
	}); err != nil {
		return false, err
	}
	if order.BidWindowSeconds == 0 {
		// An instant order: the first valid bid is the lease. There are no
		// other bids (an invalid one is refused above).
		if err := k.startLease(ctx, key, &order, bid, class, types.LeaseStartedInstant); err != nil {
			return false, err
		}
		leaseStarted = true
	}
	return leaseStarted, k.Orders.Set(ctx, key, order)
}

// CloseBid withdraws the provider's OPEN bid: its deposit is refunded and
// the record deleted (the event keeps the trace), so the provider may bid
// again.
func (k *Keeper) CloseBid(ctx context.Context, provider sdk.AccAddress, id types.OrderID) error {
	key, err := id.Key()
	if err != nil {
		return err
	}
	bid, err := k.GetBid(ctx, id, provider)
	if err != nil {
		return err
	}
	if bid.State != types.BID_STATE_OPEN {
		return errorsmod.Wrapf(types.ErrBidNotOpen, "bid of %s on order %s is %s; only an OPEN bid can be withdrawn",
			provider, id, bid.State)
	}
	order, err := k.getOrder(ctx, key)
	if err != nil {
		return err
	}
	if _, err := k.escrow.ReleaseBidDeposit(ctx, key.K1(), key.K2(), provider); err != nil {
		return err
	}
	if err := k.Bids.Remove(ctx, bidKey(key, provider)); err != nil {
		return err
	}
	order.OpenBids--
	if err := k.Orders.Set(ctx, key, order); err != nil {
		return err
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBidClosed{
		OrderId: id, Provider: bid.Provider, Reason: types.BID_CLOSE_REASON_WITHDRAWN,
	})
}

// closeBid closes an OPEN bid of order with reason and refunds its
// deposit. It counts the bid out of order.OpenBids; the caller stores the
// order.
func (k *Keeper) closeBid(ctx context.Context, order *types.Order, bid types.Bid, reason types.BidCloseReason) error {
	key, err := order.Id.Key()
	if err != nil {
		return err
	}
	provider, err := k.addressCodec.StringToBytes(bid.Provider)
	if err != nil {
		return err
	}
	if _, err := k.escrow.ReleaseBidDeposit(ctx, key.K1(), key.K2(), provider); err != nil {
		return err
	}
	bid.State = types.BID_STATE_CLOSED
	bid.CloseReason = reason
	if err := k.Bids.Set(ctx, bidKey(key, provider), bid); err != nil {
		return err
	}
	order.OpenBids--
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventBidClosed{
		OrderId: order.Id, Provider: bid.Provider, Reason: reason,
	})
}

// checkEligible returns the provider's record if it may bid now: registered
// and active in x/provider, not jailed and bonded at least the required
// bond in x/stakingslash.
func (k *Keeper) checkEligible(ctx context.Context, provider sdk.AccAddress) (providertypes.Provider, error) {
	p, err := k.provider.GetActiveProvider(ctx, provider)
	if err != nil {
		return p, errorsmod.Wrapf(types.ErrProviderIneligible, "provider %s: %s", provider, err)
	}
	ok, err := k.stakingslash.IsEligible(ctx, provider)
	if err != nil {
		return p, err
	}
	if ok {
		return p, nil
	}
	jailed, err := k.stakingslash.IsJailed(ctx, provider)
	if err != nil {
		return p, err
	}
	if jailed {
		return p, errorsmod.Wrapf(types.ErrProviderIneligible, "provider %s is jailed", provider)
	}
	return p, errorsmod.Wrapf(types.ErrProviderIneligible,
		"provider %s has bonded less than the bond its listed GPUs require (x/stakingslash)", provider)
}

// checkPrice checks a bid price against the order: same denom, at most the
// maximum.
func checkPrice(order types.Order, price sdk.Coin) error {
	if price.Denom != order.MaxPricePerGpuHour.Denom {
		return errorsmod.Wrapf(types.ErrInvalidBid, "price_per_gpu_hour denom %q must be the order's denom %q",
			price.Denom, order.MaxPricePerGpuHour.Denom)
	}
	if price.Amount.GT(order.MaxPricePerGpuHour.Amount) {
		return errorsmod.Wrapf(types.ErrPriceTooHigh, "price_per_gpu_hour %s is above the order's max %s",
			price, order.MaxPricePerGpuHour)
	}
	return nil
}

// offeredNode is a node of an offer and how many of its GPUs are offered.
type offeredNode struct {
	node  providertypes.Node
	count uint32
}

// gpu finds a GPU of the node by UUID.
func (n *offeredNode) gpu(uuid string) (providertypes.GPU, bool) {
	for _, g := range n.node.Gpus {
		if g.Uuid == uuid {
			return g, true
		}
	}
	return providertypes.GPU{}, false
}

// checkOffer checks that provider p may offer gpus for order now and
// returns their class. The provider's region and reputation must satisfy
// the spec; every GPU must be listed by p, free, of one known class the
// spec accepts and with at least min_vram_mib; the GPUs must lie on
// exactly spec.nodes nodes, gpus_per_node on each, every node meeting the
// CPU, memory and storage minimums; the nodes must have the spec's
// interconnect or, for a cluster without one, share one. It is run when a
// bid is made and again when it is chosen.
func (k *Keeper) checkOffer(ctx context.Context, order types.Order, p providertypes.Provider, gpus []string) (string, error) {
	spec := order.Spec
	if !spec.AcceptsRegion(p.Region) {
		return "", errorsmod.Wrapf(types.ErrSpecMismatch, "provider region %s is not among the order's regions [%s]",
			p.Region, strings.Join(spec.Regions, ", "))
	}
	if p.Reputation < spec.MinReputation {
		return "", errorsmod.Wrapf(types.ErrSpecMismatch, "provider reputation %d is below the order's min_reputation %d",
			p.Reputation, spec.MinReputation)
	}
	if uint64(len(gpus)) != spec.TotalGPUs() {
		return "", errorsmod.Wrapf(types.ErrSpecMismatch, "the bid offers %d GPUs; the order wants %d nodes × %d GPUs = %d",
			len(gpus), spec.Nodes, spec.GpusPerNode, spec.TotalGPUs())
	}
	providerParams, err := k.provider.GetParams(ctx)
	if err != nil {
		return "", err
	}
	owner, err := k.addressCodec.StringToBytes(p.Owner)
	if err != nil {
		return "", err
	}
	var class, firstUUID string
	nodes := make(map[string]*offeredNode)
	var nodeOrder []string
	for _, uuid := range gpus {
		loc, err := k.provider.GPULocation(ctx, uuid)
		if errors.Is(err, providertypes.ErrGPUNotFound) {
			return "", errorsmod.Wrapf(types.ErrGPUUnavailable, "GPU %s is not listed by any provider", uuid)
		}
		if err != nil {
			return "", err
		}
		if loc.Owner != p.Owner {
			return "", errorsmod.Wrapf(types.ErrGPUUnavailable, "GPU %s is listed by %s, not by the bidder %s", uuid, loc.Owner, p.Owner)
		}
		// Each offered node is read once, however many of its GPUs the bid
		// names (a bid is re-checked when its auction runs in EndBlock).
		n, ok := nodes[loc.NodeId]
		if !ok {
			node, found, err := k.provider.GetNode(ctx, owner, loc.NodeId)
			if err != nil {
				return "", err
			}
			if !found {
				return "", fmt.Errorf("GPU %s: indexed on node %q of %s, which is not listed", uuid, loc.NodeId, loc.Owner)
			}
			n = &offeredNode{node: node}
			nodes[loc.NodeId] = n
			nodeOrder = append(nodeOrder, loc.NodeId)
		}
		g, found := n.gpu(uuid)
		if !found {
			return "", fmt.Errorf("GPU %s: indexed on node %q of %s but not listed there", uuid, loc.NodeId, loc.Owner)
		}
		if g.AllocatedTo != "" {
			return "", errorsmod.Wrapf(types.ErrGPUUnavailable, "GPU %s is allocated to lease %s", uuid, g.AllocatedTo)
		}
		if g.Class == providertypes.UnknownClass {
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "GPU %s is of class %s", uuid, providertypes.UnknownClass)
		}
		if class == "" {
			class, firstUUID = g.Class, uuid
			c, ok := providerParams.Class(class)
			if !ok || !spec.AcceptsClass(c) {
				return "", errorsmod.Wrapf(types.ErrSpecMismatch, "GPU %s is of class %s, which gpu_classes [%s] does not accept",
					uuid, class, strings.Join(spec.GpuClasses, ", "))
			}
		} else if g.Class != class {
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "GPU %s is of class %s but GPU %s is of class %s: a bid offers one class",
				uuid, g.Class, firstUUID, class)
		}
		if g.VramMib < spec.MinVramMib {
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "GPU %s has %d MiB of memory, the order's min_vram_mib is %d",
				uuid, g.VramMib, spec.MinVramMib)
		}
		n.count++
	}
	if uint32(len(nodes)) != spec.Nodes { //nolint:gosec // at most MaxGPUsPerBid nodes
		return "", errorsmod.Wrapf(types.ErrSpecMismatch, "the GPUs are on %d nodes; the order wants %d nodes × %d GPUs",
			len(nodes), spec.Nodes, spec.GpusPerNode)
	}
	for _, id := range nodeOrder {
		n := nodes[id]
		switch {
		case n.count != spec.GpusPerNode:
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "node %q offers %d GPUs; the order wants %d per node",
				id, n.count, spec.GpusPerNode)
		case n.node.CpuCores < spec.CpuCoresPerNode:
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "node %q has %d CPU cores; the order wants at least %d",
				id, n.node.CpuCores, spec.CpuCoresPerNode)
		case n.node.MemoryMib < spec.MemoryMibPerNode:
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "node %q has %d MiB of memory; the order wants at least %d",
				id, n.node.MemoryMib, spec.MemoryMibPerNode)
		case n.node.StorageGib < spec.StorageGibPerNode:
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "node %q has %d GiB of storage; the order wants at least %d",
				id, n.node.StorageGib, spec.StorageGibPerNode)
		case spec.Interconnect != "" && n.node.Interconnect != spec.Interconnect:
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "node %q has interconnect %q; the order wants %q",
				id, n.node.Interconnect, spec.Interconnect)
		}
	}
	if spec.Interconnect == "" && len(nodeOrder) > 1 {
		first := nodes[nodeOrder[0]].node
		for _, id := range nodeOrder[1:] {
			if ic := nodes[id].node.Interconnect; ic == "" || ic != first.Interconnect {
				return "", errorsmod.Wrapf(types.ErrSpecMismatch,
					"node %q has interconnect %q but node %q has %q: a cluster's nodes share one interconnect",
					id, ic, first.Id, first.Interconnect)
			}
		}
		if first.Interconnect == "" {
			return "", errorsmod.Wrapf(types.ErrSpecMismatch, "node %q reports no interconnect: a cluster's nodes share one", first.Id)
		}
	}
	return class, nil
}
