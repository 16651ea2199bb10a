package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/escrow. Codes start at 2 (1 is reserved for
// internal errors) and never change once released.
var (
	ErrInvalidParams      = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrAccountNotFound    = errorsmod.Register(ModuleName, 3, "escrow account not found")
	ErrAccountExists      = errorsmod.Register(ModuleName, 4, "escrow account already exists")
	ErrAccountClosed      = errorsmod.Register(ModuleName, 5, "escrow account is closed")
	ErrAccountDepleted    = errorsmod.Register(ModuleName, 6, "escrow account has run dry")
	ErrWrongDenom         = errorsmod.Register(ModuleName, 7, "wrong denom")
	ErrDenomNotAllowed    = errorsmod.Register(ModuleName, 8, "payment denom not allowed")
	ErrInvalidAmount      = errorsmod.Register(ModuleName, 9, "invalid amount")
	ErrNotStreaming       = errorsmod.Register(ModuleName, 10, "escrow account is not streaming")
	ErrAlreadyStreaming   = errorsmod.Register(ModuleName, 11, "escrow account is already streaming")
	ErrNotPayee           = errorsmod.Register(ModuleName, 12, "not the provider of this lease")
	ErrBidDepositExists   = errorsmod.Register(ModuleName, 13, "bid deposit already held")
	ErrBidDepositNotFound = errorsmod.Register(ModuleName, 14, "bid deposit not found")
	ErrInvalidAccountID   = errorsmod.Register(ModuleName, 15, "invalid escrow account id")
	ErrInvalidWithdraw    = errorsmod.Register(ModuleName, 16, "invalid withdraw")
	ErrInvalidStream      = errorsmod.Register(ModuleName, 17, "invalid stream")
	ErrInvalidGenesis     = errorsmod.Register(ModuleName, 18, "invalid genesis")
	ErrDepositTooSmall    = errorsmod.Register(ModuleName, 19, "deposit below the minimum")
	ErrInvalidSpend       = errorsmod.Register(ModuleName, 20, "invalid reserve spend")
	ErrReserveTooLow      = errorsmod.Register(ModuleName, 21, "market reserve balance too low")
)
