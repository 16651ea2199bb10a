package types

import errorsmod "cosmossdk.io/errors"

// DefaultGenesis returns the genesis state of x/proofofcompute on a new chain.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams()}
}

// Validate checks the genesis state before it is imported.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(err, "params")
	}
	return nil
}
