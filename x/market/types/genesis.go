package types

import (
	"fmt"
	"time"

	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis returns the genesis state of x/market on a new chain.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// genesisErr is an ErrInvalidGenesis naming the path of the bad value,
// e.g. "orders[3].spec: …".
func genesisErr(format string, args ...any) error {
	return errorsmod.Wrapf(ErrInvalidGenesis, format, args...)
}

// Validate checks the genesis state before it is imported: every record is
// well formed, and the records agree with one another the way the state
// machine keeps them (bids and leases belong to existing orders in the
// right state, open_bids and the active-lease counter match, every tenant
// with orders has a sequence at least its highest order, an active GPU is
// leased once). The time queues and per-provider lease counts are not in
// the genesis: InitGenesis rebuilds them. Escrow accounts and GPU
// allocations belong to x/escrow and x/provider; the invariants check that
// they agree with the leases.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return genesisErr("params: %s", err)
	}

	orders := make(map[string]*genOrderCheck, len(gs.Orders))
	inOrder := make([]*genOrderCheck, 0, len(gs.Orders))
	maxSeq := make(map[string]uint64) // canonical tenant → highest order seq
	for i, o := range gs.Orders {
		if err := o.validateGenesis(); err != nil {
			return genesisErr("orders[%d]%s", i, err)
		}
		id := genCanonicalID(o.Id)
		if _, dup := orders[id]; dup {
			return genesisErr("orders[%d].id: order %s is listed twice", i, id)
		}
		oc := &genOrderCheck{order: o, index: i, bidNumbers: make(map[uint32]bool)}
		orders[id] = oc
		inOrder = append(inOrder, oc)
		tenant := genCanonicalAddr(o.Id.Tenant)
		maxSeq[tenant] = max(maxSeq[tenant], o.Id.Seq)
	}

	type bidKey struct{ order, provider string }
	bids := make(map[bidKey]bool, len(gs.Bids))
	for i, b := range gs.Bids {
		if err := b.validateGenesis(); err != nil {
			return genesisErr("bids[%d]%s", i, err)
		}
		id := genCanonicalID(b.OrderId)
		oc, ok := orders[id]
		if !ok {
			return genesisErr("bids[%d].order_id: order %s is not in the genesis", i, id)
		}
		key := bidKey{id, genCanonicalAddr(b.Provider)}
		if bids[key] {
			return genesisErr("bids[%d]: provider %s has two bids on order %s", i, b.Provider, id)
		}
		bids[key] = true
		o := oc.order
		if err := genCheckPrice("price_per_gpu_hour", b.PricePerGpuHour, o); err != nil {
			return genesisErr("bids[%d].%s", i, err)
		}
		if b.Number > o.BidsReceived {
			return genesisErr("bids[%d].number %d is above order %s's bids_received %d", i, b.Number, id, o.BidsReceived)
		}
		if oc.bidNumbers[b.Number] {
			return genesisErr("bids[%d].number %d is used twice on order %s", i, b.Number, id)
		}
		oc.bidNumbers[b.Number] = true
		switch b.State {
		case BID_STATE_OPEN:
			if o.State != ORDER_STATE_OPEN {
				return genesisErr("bids[%d]: an OPEN bid on order %s, which is %s", i, id, o.State)
			}
			oc.openBids++
		case BID_STATE_WON:
			if oc.wonBy != "" {
				return genesisErr("bids[%d]: order %s has a second WON bid (first by %s)", i, id, oc.wonBy)
			}
			oc.wonBy = genCanonicalAddr(b.Provider)
		}
	}

	activeGPUs := make(map[string]string) // GPU UUID → active lease id
	activeLeases := uint64(0)
	for i, l := range gs.Leases {
		if err := l.validateGenesis(); err != nil {
			return genesisErr("leases[%d]%s", i, err)
		}
		id := genCanonicalID(l.Id)
		oc, ok := orders[id]
		if !ok {
			return genesisErr("leases[%d].id: order %s is not in the genesis", i, id)
		}
		if oc.hasLease {
			return genesisErr("leases[%d].id: lease %s is listed twice", i, id)
		}
		oc.hasLease = true
		o := oc.order
		if o.State != ORDER_STATE_MATCHED {
			return genesisErr("leases[%d]: order %s is %s, want ORDER_STATE_MATCHED", i, id, o.State)
		}
		if err := genCheckPrice("price_per_gpu_hour", l.PricePerGpuHour, o); err != nil {
			return genesisErr("leases[%d].%s", i, err)
		}
		wantEnd := time.Time{}
		if o.DurationSeconds > 0 {
			wantEnd = l.StartTime.Add(time.Duration(o.DurationSeconds) * time.Second) //nolint:gosec // bounded by max_duration_seconds
		}
		if !l.EndTime.Equal(wantEnd) {
			return genesisErr("leases[%d].end_time %s: want start_time + duration_seconds %d = %s",
				i, l.EndTime.UTC().Format(time.RFC3339), o.DurationSeconds, wantEnd.UTC().Format(time.RFC3339))
		}
		provider := genCanonicalAddr(l.Provider)
		if l.State == LEASE_STATE_ACTIVE {
			activeLeases++
			if oc.wonBy != provider {
				return genesisErr("leases[%d]: active lease %s has no WON bid of its provider %s", i, id, l.Provider)
			}
			for _, g := range l.Gpus {
				if other, dup := activeGPUs[g]; dup {
					return genesisErr("leases[%d].gpus: GPU %s is also leased by active lease %s", i, g, other)
				}
				activeGPUs[g] = id
			}
		} else if oc.wonBy != "" {
			return genesisErr("leases[%d]: lease %s is %s but its bid by %s is still WON", i, id, l.State, oc.wonBy)
		}
	}

	for _, oc := range inOrder {
		o := oc.order
		if o.OpenBids != oc.openBids {
			return genesisErr("orders[%d].open_bids %d: the genesis has %d OPEN bids for order %s",
				oc.index, o.OpenBids, oc.openBids, genCanonicalID(o.Id))
		}
		if o.State == ORDER_STATE_MATCHED && !oc.hasLease {
			return genesisErr("orders[%d]: order %s is MATCHED but has no lease", oc.index, genCanonicalID(o.Id))
		}
		if oc.wonBy != "" && !oc.hasLease {
			return genesisErr("orders[%d]: order %s has a WON bid but no lease", oc.index, genCanonicalID(o.Id))
		}
	}

	seqs := make(map[string]bool, len(gs.TenantSeqs))
	for i, ts := range gs.TenantSeqs {
		if _, err := sdk.AccAddressFromBech32(ts.Tenant); err != nil {
			return genesisErr("tenant_seqs[%d].tenant %q: %s", i, ts.Tenant, err)
		}
		tenant := genCanonicalAddr(ts.Tenant)
		if seqs[tenant] {
			return genesisErr("tenant_seqs[%d].tenant: %s is listed twice", i, ts.Tenant)
		}
		seqs[tenant] = true
		if ts.Seq == 0 {
			return genesisErr("tenant_seqs[%d].seq must be at least 1, got 0", i)
		}
		if ts.Seq < maxSeq[tenant] {
			return genesisErr("tenant_seqs[%d].seq %d is below tenant %s's order seq %d", i, ts.Seq, ts.Tenant, maxSeq[tenant])
		}
	}
	for _, o := range gs.Orders {
		if !seqs[genCanonicalAddr(o.Id.Tenant)] {
			return genesisErr("tenant_seqs: tenant %s has orders but no sequence", o.Id.Tenant)
		}
	}

	if gs.Counters.ActiveLeases != activeLeases {
		return genesisErr("counters.active_leases %d: the genesis has %d ACTIVE leases", gs.Counters.ActiveLeases, activeLeases)
	}

	type priceKey struct{ class, denom string }
	prices := make(map[priceKey]bool, len(gs.PriceIndex))
	for i, e := range gs.PriceIndex {
		if err := e.validateGenesis(); err != nil {
			return genesisErr("price_index[%d].%s", i, err)
		}
		k := priceKey{e.GpuClass, e.Denom}
		if prices[k] {
			return genesisErr("price_index[%d]: (%s, %s) is listed twice", i, e.GpuClass, e.Denom)
		}
		prices[k] = true
	}
	return nil
}

// genOrderCheck gathers what the bids and leases say about one order.
type genOrderCheck struct {
	order      Order
	index      int
	openBids   uint32
	wonBy      string // canonical provider of the WON bid
	hasLease   bool
	bidNumbers map[uint32]bool
}

// genCanonicalAddr writes a valid bech32 address in its canonical form, so
// that two spellings of one address compare equal.
func genCanonicalAddr(s string) string {
	addr, err := sdk.AccAddressFromBech32(s)
	if err != nil {
		return s
	}
	return addr.String()
}

func genCanonicalID(id OrderID) string {
	return NewOrderID(sdk.MustAccAddressFromBech32(genCanonicalAddr(id.Tenant)), id.Seq).String()
}

// validateGenesis checks one order on its own; the error starts with the field
// path below orders[i] (".spec: …").
func (o Order) validateGenesis() error {
	if err := o.Id.Validate(); err != nil {
		return fmt.Errorf(".id: %w", err)
	}
	if err := ValidateSpec(o.Spec); err != nil {
		return fmt.Errorf(".spec: %w", err)
	}
	if !genKnownState(OrderState_name, int32(o.State)) {
		return fmt.Errorf(".state %d is not an order state", o.State)
	}
	if err := genPositiveCoin(o.MaxPricePerGpuHour); err != nil {
		return fmt.Errorf(".max_price_per_gpu_hour: %w", err)
	}
	if err := genPositiveCoin(o.Deposit); err != nil {
		return fmt.Errorf(".deposit: %w", err)
	}
	if o.Deposit.Denom != o.MaxPricePerGpuHour.Denom {
		return fmt.Errorf(".deposit denom %q differs from max_price_per_gpu_hour denom %q",
			o.Deposit.Denom, o.MaxPricePerGpuHour.Denom)
	}
	if err := ValidateSSHPubkey(o.SshPubkey); err != nil {
		return fmt.Errorf(".%w", err)
	}
	if o.WindowEnd.Before(o.CreatedAt) {
		return fmt.Errorf(".window_end %s is before created_at %s",
			o.WindowEnd.UTC().Format(time.RFC3339), o.CreatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func (b Bid) validateGenesis() error {
	if err := b.OrderId.Validate(); err != nil {
		return fmt.Errorf(".order_id: %w", err)
	}
	if _, err := sdk.AccAddressFromBech32(b.Provider); err != nil {
		return fmt.Errorf(".provider %q: %w", b.Provider, err)
	}
	if !genKnownState(BidState_name, int32(b.State)) {
		return fmt.Errorf(".state %d is not a bid state", b.State)
	}
	if !genKnownReason(BidCloseReason_name, int32(b.CloseReason)) {
		return fmt.Errorf(".close_reason %d is not a bid close reason", b.CloseReason)
	}
	if closed, reason := b.State == BID_STATE_CLOSED, b.CloseReason != BID_CLOSE_REASON_UNSPECIFIED; closed != reason {
		return fmt.Errorf(".close_reason %s with state %s: a reason is set exactly when the bid is CLOSED", b.CloseReason, b.State)
	}
	if b.Number == 0 {
		return fmt.Errorf(".number must be at least 1, got 0")
	}
	if err := genValidateGPUs(b.Gpus); err != nil {
		return fmt.Errorf(".gpus: %w", err)
	}
	if b.GpuClass == "" {
		return fmt.Errorf(".gpu_class must not be empty")
	}
	if err := genPositiveCoin(b.Deposit); err != nil {
		return fmt.Errorf(".deposit: %w", err)
	}
	return nil
}

func (l Lease) validateGenesis() error {
	if err := l.Id.Validate(); err != nil {
		return fmt.Errorf(".id: %w", err)
	}
	if _, err := sdk.AccAddressFromBech32(l.Provider); err != nil {
		return fmt.Errorf(".provider %q: %w", l.Provider, err)
	}
	if !genKnownState(LeaseState_name, int32(l.State)) {
		return fmt.Errorf(".state %d is not a lease state", l.State)
	}
	if !genKnownReason(LeaseCloseReason_name, int32(l.CloseReason)) {
		return fmt.Errorf(".close_reason %d is not a lease close reason", l.CloseReason)
	}
	if closed, reason := l.State == LEASE_STATE_CLOSED, l.CloseReason != LEASE_CLOSE_REASON_UNSPECIFIED; closed != reason {
		return fmt.Errorf(".close_reason %s with state %s: a reason is set exactly when the lease is CLOSED",
			l.CloseReason, l.State)
	}
	if err := genValidateGPUs(l.Gpus); err != nil {
		return fmt.Errorf(".gpus: %w", err)
	}
	if l.GpuClass == "" {
		return fmt.Errorf(".gpu_class must not be empty")
	}
	// The scheme is not checked against access_endpoint_schemes: governance
	// may have dropped a scheme that a running lease's endpoint uses, and
	// an export must still import.
	if l.AccessEndpoint != "" {
		if err := ValidateEndpoint(l.AccessEndpoint); err != nil {
			return fmt.Errorf(".access_%w", err)
		}
	}
	return nil
}

func (e PriceIndexEntry) validateGenesis() error {
	if e.GpuClass == "" {
		return fmt.Errorf("gpu_class must not be empty")
	}
	if err := sdk.ValidateDenom(e.Denom); err != nil {
		return fmt.Errorf("denom %q: %w", e.Denom, err)
	}
	if e.Price.IsNil() || e.Price.IsNegative() {
		return fmt.Errorf("price must be >= 0, got %s", genDecString(e.Price))
	}
	if e.LastPrice.IsNil() || e.LastPrice.IsNegative() {
		return fmt.Errorf("last_price must be >= 0, got %s", genIntString(e.LastPrice))
	}
	return nil
}

// genCheckPrice checks a bid's or lease's price against its order: a valid
// positive coin in the order's denom, at most its maximum.
func genCheckPrice(field string, price sdk.Coin, o Order) error {
	if err := genPositiveCoin(price); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	if price.Denom != o.MaxPricePerGpuHour.Denom {
		return fmt.Errorf("%s denom %q differs from order %s's denom %q", field, price.Denom, o.Id, o.MaxPricePerGpuHour.Denom)
	}
	if price.Amount.GT(o.MaxPricePerGpuHour.Amount) {
		return fmt.Errorf("%s %s is above order %s's max %s", field, price, o.Id, o.MaxPricePerGpuHour)
	}
	return nil
}

func genPositiveCoin(c sdk.Coin) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if !c.Amount.IsPositive() {
		return fmt.Errorf("amount must be > 0, got %s", c)
	}
	return nil
}

func genValidateGPUs(gpus []string) error {
	if len(gpus) == 0 {
		return fmt.Errorf("at least one GPU")
	}
	seen := make(map[string]bool, len(gpus))
	for j, g := range gpus {
		if g == "" {
			return fmt.Errorf("[%d] is empty", j)
		}
		if seen[g] {
			return fmt.Errorf("GPU %s is listed twice", g)
		}
		seen[g] = true
	}
	return nil
}

// genKnownState: a named value other than the UNSPECIFIED zero.
func genKnownState(names map[int32]string, v int32) bool {
	_, ok := names[v]
	return ok && v != 0
}

// genKnownReason: a named value, UNSPECIFIED included.
func genKnownReason(names map[int32]string, v int32) bool {
	_, ok := names[v]
	return ok
}

func genIntString(i math.Int) string {
	if i.IsNil() {
		return "nil"
	}
	return i.String()
}

func genDecString(d math.LegacyDec) string {
	if d.IsNil() {
		return "nil"
	}
	return d.String()
}
