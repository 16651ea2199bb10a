package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/provider. Codes start at 2 (1 is reserved for
// internal errors) and never change once released.
var (
	ErrInvalidParams = errorsmod.Register(ModuleName, 2, "invalid params")
)
