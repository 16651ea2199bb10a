package keeper

import (
	"context"
	"errors"
	"time"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/x/market/types"
)

// timeFormat writes times in error messages.
const timeFormat = time.RFC3339

// blockTime is the block time in whole seconds, UTC: every time the module
// stores or compares.
func blockTime(ctx context.Context) time.Time {
	return time.Unix(sdk.UnwrapSDKContext(ctx).BlockTime().Unix(), 0).UTC()
}

// timeKey is the queue key of an order or lease due at t.
func timeKey(t time.Time, key types.OrderKey) types.TimeKey {
	return collections.Join3(t.Unix(), key.K1(), key.K2())
}

// GetOrder returns an order by id.
func (k *Keeper) GetOrder(ctx context.Context, id types.OrderID) (types.Order, error) {
	key, err := id.Key()
	if err != nil {
		return types.Order{}, err
	}
	return k.getOrder(ctx, key)
}

func (k *Keeper) getOrder(ctx context.Context, key types.OrderKey) (types.Order, error) {
	o, err := k.Orders.Get(ctx, key)
	if errors.Is(err, collections.ErrNotFound) {
		return o, errorsmod.Wrapf(types.ErrOrderNotFound, "order %s", types.OrderIDFromKey(key))
	}
	return o, err
}

// getOpenOrder returns an order that is OPEN.
func (k *Keeper) getOpenOrder(ctx context.Context, key types.OrderKey) (types.Order, error) {
	o, err := k.getOrder(ctx, key)
	if err != nil {
		return o, err
	}
	if o.State != types.ORDER_STATE_OPEN {
		return o, errorsmod.Wrapf(types.ErrOrderNotOpen, "order %s is %s", o.Id, o.State)
	}
	return o, nil
}

// counters returns the running totals (zero before the first change).
func (k *Keeper) counters(ctx context.Context) (types.Counters, error) {
	c, err := k.Counters.Get(ctx)
	if errors.Is(err, collections.ErrNotFound) {
		return types.Counters{}, nil
	}
	return c, err
}

// updateCounters applies fn to the running totals.
func (k *Keeper) updateCounters(ctx context.Context, fn func(c *types.Counters)) error {
	c, err := k.counters(ctx)
	if err != nil {
		return err
	}
	fn(&c)
	return k.Counters.Set(ctx, c)
}

// CreateOrder posts an order: it checks the order against the params and
// the known GPU classes, moves the deposit into a new escrow account and
// queues the order at the end of its bid window (for an instant order, at
// the end of its time to live). The id is the tenant's next sequence.
func (k *Keeper) CreateOrder(ctx context.Context, msg *types.MsgCreateOrder) (types.OrderID, error) {
	tenant, err := k.addressCodec.StringToBytes(msg.Tenant)
	if err != nil {
		return types.OrderID{}, errorsmod.Wrapf(types.ErrInvalidOrder, "tenant %q: %s", msg.Tenant, err)
	}
	params, err := k.Params.Get(ctx)
	if err != nil {
		return types.OrderID{}, err
	}
	if err := k.checkOrder(ctx, msg, params); err != nil {
		return types.OrderID{}, err
	}

	last, err := k.TenantSeqs.Get(ctx, tenant)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return types.OrderID{}, err
	}
	seq := last + 1
	if _, err := k.escrow.OpenAccount(ctx, tenant, seq, msg.Deposit); err != nil {
		return types.OrderID{}, err
	}
	if err := k.TenantSeqs.Set(ctx, tenant, seq); err != nil {
		return types.OrderID{}, err
	}

	now := blockTime(ctx)
	window := msg.BidWindowSeconds
	if window == 0 {
		window = params.InstantOrderTtlSeconds
	}
	id := types.NewOrderID(tenant, seq)
	key := collections.Join(sdk.AccAddress(tenant), seq)
	order := types.Order{
		Id:                 id,
		Spec:               msg.Spec,
		MaxPricePerGpuHour: msg.MaxPricePerGpuHour,
		Deposit:            msg.Deposit,
		DurationSeconds:    msg.DurationSeconds,
		BidWindowSeconds:   msg.BidWindowSeconds,
		SshPubkey:          msg.SshPubkey,
		State:              types.ORDER_STATE_OPEN,
		CreatedAt:          now,
		WindowEnd:          now.Add(time.Duration(window) * time.Second), //nolint:gosec // window ≤ MaxSecondsLimit
	}
	if err := k.Orders.Set(ctx, key, order); err != nil {
		return id, err
	}
	if err := k.WindowQueue.Set(ctx, timeKey(order.WindowEnd, key)); err != nil {
		return id, err
	}
	if err := k.updateCounters(ctx, func(c *types.Counters) { c.OrdersCreated++ }); err != nil {
		return id, err
	}
	return id, sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventOrderCreated{
		Id:                 id,
		Spec:               order.Spec,
		MaxPricePerGpuHour: order.MaxPricePerGpuHour,
		Deposit:            order.Deposit,
		BidWindowSeconds:   order.BidWindowSeconds,
		WindowEnd:          order.WindowEnd,
	})
}

// checkOrder checks an order against the params, the known GPU classes and
// the allowed denoms. msg has passed ValidateBasic.
func (k *Keeper) checkOrder(ctx context.Context, msg *types.MsgCreateOrder, params types.Params) error {
	if err := checkSpecLimits(msg.Spec, params); err != nil {
		return err
	}
	denom := msg.MaxPricePerGpuHour.Denom
	allowed, err := k.escrow.IsAllowedDenom(ctx, denom)
	if err != nil {
		return err
	}
	if !allowed {
		return errorsmod.Wrapf(types.ErrDenomNotAllowed, "max_price_per_gpu_hour denom %q is not an allowed payment denom", denom)
	}
	providerParams, err := k.provider.GetParams(ctx)
	if err != nil {
		return err
	}
	if err := types.CheckClassEntries(msg.Spec, providerParams.GpuClasses); err != nil {
		return err
	}
	if msg.Spec.GpusPerNode > providerParams.MaxGpusPerNode {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "gpus_per_node %d is above the providers' max_gpus_per_node %d",
			msg.Spec.GpusPerNode, providerParams.MaxGpusPerNode)
	}
	if msg.BidWindowSeconds > params.MaxBidWindowSeconds {
		return errorsmod.Wrapf(types.ErrInvalidOrder, "bid_window_seconds %d is above max_bid_window_seconds %d",
			msg.BidWindowSeconds, params.MaxBidWindowSeconds)
	}
	if msg.DurationSeconds > params.MaxDurationSeconds {
		return errorsmod.Wrapf(types.ErrInvalidOrder, "duration_seconds %d is above max_duration_seconds %d",
			msg.DurationSeconds, params.MaxDurationSeconds)
	}
	// ceil(max price × GPUs × min_deposit_seconds / 3600): below 2^128 ×
	// 2^10 × 2^29, far inside math.Int.
	minDeposit := msg.MaxPricePerGpuHour.Amount.
		MulRaw(int64(msg.Spec.TotalGPUs())).     //nolint:gosec // at most MaxGPUsPerBid
		MulRaw(int64(params.MinDepositSeconds)). //nolint:gosec // at most MaxSecondsLimit
		AddRaw(types.SecondsPerHour - 1).QuoRaw(types.SecondsPerHour)
	if msg.Deposit.Amount.LT(minDeposit) {
		return errorsmod.Wrapf(types.ErrDepositTooSmall,
			"deposit %s is below %s%s: %d s (min_deposit_seconds) of %d GPUs at %s per GPU-hour",
			msg.Deposit, minDeposit, denom, params.MinDepositSeconds, msg.Spec.TotalGPUs(), msg.MaxPricePerGpuHour)
	}
	return nil
}

// checkSpecLimits checks a spec against the params that bound an order's
// size: nodes, GPUs in all, regions and GPU classes. ValidateBasic has
// checked the protocol's hard limits (MaxGPUsPerBid, MaxRegionsPerSpec,
// MaxGPUClassesPerSpec), which bound these params.
func checkSpecLimits(spec types.ResourceSpec, params types.Params) error {
	if spec.Nodes > params.MaxNodesPerOrder {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "nodes %d is above max_nodes_per_order %d", spec.Nodes, params.MaxNodesPerOrder)
	}
	if total := spec.TotalGPUs(); total > uint64(params.MaxGpusPerOrder) {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "nodes %d × gpus_per_node %d = %d GPUs is above max_gpus_per_order %d",
			spec.Nodes, spec.GpusPerNode, total, params.MaxGpusPerOrder)
	}
	if n := len(spec.Regions); n > int(params.MaxRegionsPerOrder) {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "regions: %d is above max_regions_per_order %d", n, params.MaxRegionsPerOrder)
	}
	if n := len(spec.GpuClasses); n > int(params.MaxClassesPerOrder) {
		return errorsmod.Wrapf(types.ErrInvalidSpec, "gpu_classes: %d is above max_classes_per_order %d", n, params.MaxClassesPerOrder)
	}
	return nil
}

// CloseOrder withdraws the tenant's OPEN order: every open bid is closed
// and refunded, the escrow account closed and the deposit refunded.
func (k *Keeper) CloseOrder(ctx context.Context, tenant sdk.AccAddress, seq uint64) error {
	key := collections.Join(tenant, seq)
	order, err := k.getOpenOrder(ctx, key)
	if err != nil {
		return err
	}
	bids, err := k.orderBids(ctx, key)
	if err != nil {
		return err
	}
	for _, b := range bids {
		if b.State != types.BID_STATE_OPEN {
			continue
		}
		if err := k.closeBid(ctx, &order, b, types.BID_CLOSE_REASON_ORDER_CLOSED); err != nil {
			return err
		}
	}
	return k.endOrder(ctx, key, &order, types.ORDER_STATE_CLOSED)
}

// endOrder ends an OPEN order without a lease (closed by the tenant or
// expired): its escrow account is closed and refunded, its queue entry
// removed and the order stored. Its bids must be closed already.
func (k *Keeper) endOrder(ctx context.Context, key types.OrderKey, order *types.Order, state types.OrderState) error {
	if _, err := k.escrow.CloseAccount(ctx, key.K1(), key.K2()); err != nil {
		return err
	}
	if err := k.WindowQueue.Remove(ctx, timeKey(order.WindowEnd, key)); err != nil {
		return err
	}
	order.State = state
	order.ClosedAt = blockTime(ctx)
	if err := k.Orders.Set(ctx, key, *order); err != nil {
		return err
	}
	if state == types.ORDER_STATE_EXPIRED {
		if err := k.updateCounters(ctx, func(c *types.Counters) { c.OrdersExpired++ }); err != nil {
			return err
		}
	}
	return sdk.UnwrapSDKContext(ctx).EventManager().EmitTypedEvent(&types.EventOrderClosed{
		Id: order.Id, State: state,
	})
}
