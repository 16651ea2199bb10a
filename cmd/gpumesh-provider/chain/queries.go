package chain

import (
	"context"
	"encoding/hex"
	"fmt"

	gogoproto "github.com/cosmos/gogoproto/proto"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/state"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// ProviderState is the signing provider's record, inventory and bond.
type ProviderState struct {
	// Registered is false when the account has no provider record.
	Registered bool
	Provider   providertypes.Provider
	Nodes      []providertypes.Node
	Bond       stakingslashtypes.QueryBondResponse
}

// Active reports whether the provider may bid: registered and active,
// eligible in x/stakingslash (bonded enough, not jailed).
func (s ProviderState) Active() bool {
	return s.Registered && s.Provider.Status == providertypes.PROVIDER_STATUS_ACTIVE && s.Bond.Eligible
}

// Snapshot is the state.Provider the API and the GPU watcher show for
// the provider at addr.
func (s ProviderState) Snapshot(addr string) state.Provider {
	p := state.Provider{Address: addr, Registered: s.Registered, Active: s.Active(), Jailed: s.Bond.Jailed,
		Eligible: s.Bond.Eligible, Reputation: s.Provider.Reputation, Listed: map[string]state.ListedGPU{}}
	for _, n := range s.Nodes {
		for _, g := range n.Gpus {
			p.Listed[g.Uuid] = state.ListedGPU{NodeID: n.Id, AllocatedTo: g.AllocatedTo, Verified: g.Verified}
		}
	}
	return p
}

// ProviderState reads the signing account's provider record, inventory
// and bond.
func (c *Client) ProviderState(ctx context.Context) (ProviderState, error) {
	owner := c.Address().String()
	var st ProviderState
	p, err := c.Provider.Provider(ctx, &providertypes.QueryProviderRequest{Owner: owner})
	switch {
	case IsNotFound(err):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("provider %s: %w", owner, err)
	}
	st.Registered, st.Provider = true, p.Provider
	inv, err := c.Provider.Inventory(ctx, &providertypes.QueryInventoryRequest{Owner: owner})
	if err != nil {
		return st, fmt.Errorf("inventory of %s: %w", owner, err)
	}
	st.Nodes = inv.Nodes
	bond, err := c.Stakingslash.Bond(ctx, &stakingslashtypes.QueryBondRequest{Provider: owner})
	if err != nil {
		return st, fmt.Errorf("bond of %s: %w", owner, err)
	}
	st.Bond = *bond
	return st, nil
}

// MarketParams returns x/market's params.
func (c *Client) MarketParams(ctx context.Context) (markettypes.Params, error) {
	res, err := c.Market.Params(ctx, &markettypes.QueryParamsRequest{})
	if err != nil {
		return markettypes.Params{}, err
	}
	return res.Params, nil
}

// ProviderParams returns x/provider's params (the GPU classes).
func (c *Client) ProviderParams(ctx context.Context) (providertypes.Params, error) {
	res, err := c.Provider.Params(ctx, &providertypes.QueryParamsRequest{})
	if err != nil {
		return providertypes.Params{}, err
	}
	return res.Params, nil
}

// PriceIndex returns every price index entry.
func (c *Client) PriceIndex(ctx context.Context) ([]markettypes.PriceIndexEntry, error) {
	res, err := c.Market.PriceIndex(ctx, &markettypes.QueryPriceIndexRequest{})
	if err != nil {
		return nil, err
	}
	return res.Entries, nil
}

// OrderBids returns an order's bids.
func (c *Client) OrderBids(ctx context.Context, id markettypes.OrderID) ([]markettypes.Bid, error) {
	res, err := c.Market.OrderBids(ctx, &markettypes.QueryOrderBidsRequest{Tenant: id.Tenant, Seq: id.Seq})
	if err != nil {
		return nil, err
	}
	return res.Bids, nil
}

// Order returns one order.
func (c *Client) Order(ctx context.Context, id markettypes.OrderID) (markettypes.Order, error) {
	res, err := c.Market.Order(ctx, &markettypes.QueryOrderRequest{Tenant: id.Tenant, Seq: id.Seq})
	if err != nil {
		return markettypes.Order{}, err
	}
	return res.Order, nil
}

// Lease returns one lease.
func (c *Client) Lease(ctx context.Context, id markettypes.OrderID) (markettypes.Lease, error) {
	res, err := c.Market.Lease(ctx, &markettypes.QueryLeaseRequest{Tenant: id.Tenant, Seq: id.Seq})
	if err != nil {
		return markettypes.Lease{}, err
	}
	return res.Lease, nil
}

// Challenge returns a challenge and, once opened, its openings.
func (c *Client) Challenge(ctx context.Context, id uint64) (poctypes.Challenge, []poctypes.GPUOpenings, error) {
	res, err := c.PoC.Challenge(ctx, &poctypes.QueryChallengeRequest{Id: id})
	if err != nil {
		return poctypes.Challenge{}, nil, err
	}
	return res.Challenge, res.Openings, nil
}

// Usage returns a lease's usage record; found is false before the first
// report.
func (c *Client) Usage(ctx context.Context, id markettypes.OrderID) (u poctypes.LeaseUsage, found bool, err error) {
	res, err := c.PoC.Usage(ctx, &poctypes.QueryUsageRequest{Tenant: id.Tenant, Seq: id.Seq})
	if IsNotFound(err) {
		return u, false, nil
	}
	if err != nil {
		return u, false, err
	}
	return res.Usage, true, nil
}

// Claimable returns the provider's claimable capacity rewards.
func (c *Client) Claimable(ctx context.Context) (sdk.Coin, error) {
	res, err := c.PoC.Rewards(ctx, &poctypes.QueryRewardsRequest{Provider: c.Address().String()})
	if IsNotFound(err) {
		return sdk.Coin{}, nil
	}
	if err != nil {
		return sdk.Coin{}, err
	}
	return res.Claimable, nil
}

// MsgResponses decodes the included transaction's message responses into
// out (one pointer per message, in order; nil entries are skipped).
func (r *TxResult) MsgResponses(out ...gogoproto.Message) error {
	if r == nil || r.Response == nil {
		return fmt.Errorf("no transaction response")
	}
	bz, err := hex.DecodeString(r.Response.Data)
	if err != nil {
		return fmt.Errorf("tx data: %w", err)
	}
	var data sdk.TxMsgData
	if err := data.Unmarshal(bz); err != nil {
		return fmt.Errorf("tx data: %w", err)
	}
	for i, o := range out {
		if o == nil {
			continue
		}
		if i >= len(data.MsgResponses) {
			return fmt.Errorf("tx has %d message responses, wanted %d", len(data.MsgResponses), len(out))
		}
		if err := gogoproto.Unmarshal(data.MsgResponses[i].Value, o); err != nil {
			return fmt.Errorf("message response %d: %w", i, err)
		}
	}
	return nil
}
