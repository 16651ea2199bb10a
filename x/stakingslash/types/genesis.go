package types

import (
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis returns the genesis state of x/stakingslash on a new chain.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state before it is imported: valid params,
// one collateral per valid provider address, non-negative amounts, and
// unbonding entries that belong to an existing collateral, are unique per
// (provider, id), were numbered by it (id < next_unbonding_id) and hold no
// more than they started with. The module account balance is checked by
// the invariants, not here: bank's genesis is a different module.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "params: %s", err)
	}
	nextID := make(map[string]uint64, len(gs.Collaterals))
	for i, c := range gs.Collaterals {
		addr, err := sdk.AccAddressFromBech32(c.Provider)
		if err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "collaterals[%d].provider %q: %s", i, c.Provider, err)
		}
		key := addr.String()
		if _, dup := nextID[key]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "collaterals[%d].provider %q: duplicate collateral", i, c.Provider)
		}
		nextID[key] = c.NextUnbondingId
		if c.Bonded.IsNil() || c.Bonded.IsNegative() {
			return errorsmod.Wrapf(ErrInvalidGenesis, "collaterals[%d].bonded must be >= 0, got %s", i, intString(c.Bonded))
		}
	}
	type entryKey struct {
		provider string
		id       uint64
	}
	seen := make(map[entryKey]bool, len(gs.UnbondingEntries))
	for i, e := range gs.UnbondingEntries {
		addr, err := sdk.AccAddressFromBech32(e.Provider)
		if err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding_entries[%d].provider %q: %s", i, e.Provider, err)
		}
		next, ok := nextID[addr.String()]
		if !ok {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding_entries[%d].provider %q: no collateral for this provider", i, e.Provider)
		}
		k := entryKey{addr.String(), e.Id}
		if seen[k] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding_entries[%d]: duplicate entry %d of provider %s", i, e.Id, e.Provider)
		}
		seen[k] = true
		if e.Id >= next {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding_entries[%d].id must be < the provider's next_unbonding_id %d, got %d",
				i, next, e.Id)
		}
		if e.CreationHeight < 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding_entries[%d].creation_height must be >= 0, got %d", i, e.CreationHeight)
		}
		if e.InitialBalance.IsNil() || !e.InitialBalance.IsPositive() {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding_entries[%d].initial_balance must be > 0, got %s",
				i, intString(e.InitialBalance))
		}
		if e.Balance.IsNil() || e.Balance.IsNegative() || e.Balance.GT(e.InitialBalance) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unbonding_entries[%d].balance must be in [0, initial_balance %s], got %s",
				i, e.InitialBalance, intString(e.Balance))
		}
	}
	return nil
}

// intString prints an Int that may be nil.
func intString(i math.Int) string {
	if i.IsNil() {
		return "nil"
	}
	return i.String()
}
