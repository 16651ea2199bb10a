package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/stakingslash. Codes start at 2 (1 is reserved for
// internal errors) and never change once released.
var (
	ErrInvalidParams           = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrProviderNotRegistered   = errorsmod.Register(ModuleName, 3, "provider not registered")
	ErrWrongDenom              = errorsmod.Register(ModuleName, 4, "wrong bond denom")
	ErrInsufficientBond        = errorsmod.Register(ModuleName, 5, "insufficient bonded collateral")
	ErrTooManyUnbondingEntries = errorsmod.Register(ModuleName, 6, "too many unbonding entries")
	ErrNotJailed               = errorsmod.Register(ModuleName, 7, "provider not jailed")
	ErrJailPeriodNotOver       = errorsmod.Register(ModuleName, 8, "jail period not over")
	ErrInvalidInfraction       = errorsmod.Register(ModuleName, 9, "invalid infraction")
	ErrInvalidAmount           = errorsmod.Register(ModuleName, 10, "invalid amount")
	ErrInvalidBeneficiary      = errorsmod.Register(ModuleName, 11, "invalid slash beneficiary")
	ErrInvalidGenesis          = errorsmod.Register(ModuleName, 12, "invalid genesis state")
	ErrBondLocked              = errorsmod.Register(ModuleName, 13, "bond locked by listed GPUs")
)
