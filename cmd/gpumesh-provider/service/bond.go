package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/chain"
	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/config"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

// Reasons auto-bonding is held (the reason label of
// gpumesh_provider_auto_bond_held).
const (
	// HoldOperatorUnbond: the bond has unbonding entries the sidecar did
	// not make (it never unbonds), so the operator took collateral back.
	HoldOperatorUnbond = "operator_unbond"
	// HoldAboveMax: the required bond is above provider.max_auto_bond.
	HoldAboveMax = "above_max_auto_bond"
	// HoldRequiredMismatch: the required bond the node reports is not
	// min_bond_per_gpu × billable GPUs, or counts more GPUs than listed.
	HoldRequiredMismatch = "required_mismatch"
)

// AutoBondHold says why auto-bonding bonded nothing.
type AutoBondHold struct {
	Reason string // one of the Hold* constants; "" = not held
	Detail string
}

// bondStateFile, in the sidecar's state dir, remembers the unbonds the
// operator has acknowledged, so that a restart does not forget a hold and
// a later unbond is told from an acknowledged one.
const bondStateFile = "bond.json"

// bondState is the content of bondStateFile.
type bondState struct {
	// AckedUnbondingID is the newest unbonding entry id the operator
	// acknowledged by running `register` with bonding on; entries with a
	// larger id hold auto-bonding.
	AckedUnbondingID uint64 `json:"acked_unbonding_id"`
	// Held is set once an unacknowledged unbonding was seen; it stays set
	// after the entry completes, until the operator's register clears it.
	Held bool `json:"held"`
	// HeldEntry is the entry that set Held.
	HeldEntry uint64 `json:"held_entry,omitempty"`
}

func loadBondState(dir string) (bondState, error) {
	var s bondState
	if dir == "" {
		return s, nil
	}
	bz, err := os.ReadFile(filepath.Join(dir, bondStateFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(bz, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(dir, bondStateFile), err)
	}
	return s, nil
}

func saveBondState(dir string, s bondState) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	bz, err := json.Marshal(s)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, bondStateFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, bz, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// bond brings the bond up to the required collateral, when it is short,
// unless
//   - the operator unbonded (an unbonding entry the sidecar did not make,
//     not acknowledged by the operator's register: operator is true there,
//     and acknowledges every current entry);
//   - the required bond is above provider.max_auto_bond (or in another
//     denom);
//   - the required bond is not what the chain's params imply:
//     min_bond_per_gpu × billable GPUs, with no more billable GPUs than the
//     inventory lists.
//
// A hold returns no error; a failed bond does.
func bond(ctx context.Context, c Registrar, p config.Provider, st chain.ProviderState, operator bool,
) (sdk.Coin, AutoBondHold, error) {
	mem, err := loadBondState(p.StateDir)
	if err != nil {
		return sdk.Coin{}, AutoBondHold{}, err
	}
	var newest uint64
	for _, e := range st.Bond.Unbonding {
		newest = max(newest, e.Id)
	}
	switch {
	case operator && (mem.Held || newest > mem.AckedUnbondingID):
		mem = bondState{AckedUnbondingID: max(newest, mem.AckedUnbondingID)}
		if err := saveBondState(p.StateDir, mem); err != nil {
			return sdk.Coin{}, AutoBondHold{}, err
		}
	case !mem.Held && newest > mem.AckedUnbondingID:
		mem.Held, mem.HeldEntry = true, newest
		if err := saveBondState(p.StateDir, mem); err != nil {
			return sdk.Coin{}, AutoBondHold{}, err
		}
	}
	missing := st.Bond.Required.Sub(st.Bond.Bonded)
	if !missing.IsPositive() {
		return sdk.Coin{}, AutoBondHold{}, nil
	}
	if mem.Held {
		return sdk.Coin{}, AutoBondHold{Reason: HoldOperatorUnbond, Detail: fmt.Sprintf(
			"the bond was unbonded outside the sidecar (unbonding entry %d): auto-bonding waits until you run "+
				"`gpumesh-provider register --bond`", mem.HeldEntry)}, nil
	}
	if hold, err := checkRequired(ctx, c, p, st); err != nil || hold.Reason != "" {
		return sdk.Coin{}, hold, err
	}
	amount := sdk.NewCoin(st.Bond.Denom, missing)
	if _, err := c.Send(ctx, chain.SendOptions{}, &stakingslashtypes.MsgBond{Provider: c.Address().String(),
		Amount: amount}); err != nil {
		return sdk.Coin{}, AutoBondHold{}, fmt.Errorf("bonding %s (required %s, bonded %s): %w", amount, st.Bond.Required,
			st.Bond.Bonded, err)
	}
	return amount, AutoBondHold{}, nil
}

// checkRequired holds auto-bonding when the required bond is above the
// operator's cap or not what the chain's params imply.
func checkRequired(ctx context.Context, c Registrar, p config.Provider, st chain.ProviderState) (AutoBondHold, error) {
	limit, err := sdk.ParseCoinNormalized(p.MaxAutoBond)
	if err != nil || !limit.IsPositive() {
		return AutoBondHold{Reason: HoldAboveMax, Detail: fmt.Sprintf(
			"provider.max_auto_bond %q is not a positive coin: set the most auto-bonding may bond", p.MaxAutoBond)}, nil
	}
	required := sdk.Coin{Denom: st.Bond.Denom, Amount: st.Bond.Required}
	if limit.Denom != required.Denom || required.Amount.GT(limit.Amount) {
		return AutoBondHold{Reason: HoldAboveMax, Detail: fmt.Sprintf(
			"the required bond %s%s is above provider.max_auto_bond %s: raise it or bond by hand",
			required.Amount, required.Denom, limit)}, nil
	}
	params, err := c.BondParams(ctx)
	if err != nil {
		return AutoBondHold{}, fmt.Errorf("reading the bond params to check the required bond: %w", err)
	}
	var listed uint32
	for _, n := range st.Nodes {
		for _, g := range n.Gpus {
			if g.Class != providertypes.UnknownClass {
				listed++
			}
		}
	}
	want := params.RequiredBond(st.Bond.BillableGpus)
	if st.Bond.Denom != params.BondDenom || !st.Bond.Required.Equal(want) || st.Bond.BillableGpus > listed {
		return AutoBondHold{Reason: HoldRequiredMismatch, Detail: fmt.Sprintf(
			"the node reports a required bond of %s%s for %d billable GPUs, but min_bond_per_gpu %s%s × %d = %s and "+
				"the inventory lists %d GPUs of known classes: not bonding",
			st.Bond.Required, st.Bond.Denom, st.Bond.BillableGpus, params.MinBondPerGpu, params.BondDenom,
			st.Bond.BillableGpus, want, listed)}, nil
	}
	return AutoBondHold{}, nil
}
