package chain

import (
	"context"

	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// BondParams returns x/stakingslash's params (min_bond_per_gpu, the bond
// denom), against which auto-bonding checks the required bond a node
// reports.
func (c *Client) BondParams(ctx context.Context) (stakingslashtypes.Params, error) {
	res, err := c.Stakingslash.Params(ctx, &stakingslashtypes.QueryParamsRequest{})
	if err != nil {
		return stakingslashtypes.Params{}, err
	}
	return res.Params, nil
}
