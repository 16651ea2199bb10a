package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/provider. Codes start at 2 (1 is reserved for
// internal errors) and never change once released.
var (
	ErrInvalidParams         = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidProvider       = errorsmod.Register(ModuleName, 3, "invalid provider details")
	ErrProviderExists        = errorsmod.Register(ModuleName, 4, "provider already registered")
	ErrProviderNotFound      = errorsmod.Register(ModuleName, 5, "provider not found")
	ErrProviderNotActive     = errorsmod.Register(ModuleName, 6, "provider is not active")
	ErrInvalidInventory      = errorsmod.Register(ModuleName, 7, "invalid inventory")
	ErrBelowBaseline         = errorsmod.Register(ModuleName, 8, "inventory below the baseline requirements")
	ErrUnknownGPUClass       = errorsmod.Register(ModuleName, 9, "unknown GPU class")
	ErrGPUOwnedByOther       = errorsmod.Register(ModuleName, 10, "GPU registered to another provider")
	ErrGPUAllocated          = errorsmod.Register(ModuleName, 11, "GPU is allocated to a lease")
	ErrGPUNotFound           = errorsmod.Register(ModuleName, 12, "GPU not found")
	ErrGPUNotAllocatable     = errorsmod.Register(ModuleName, 13, "GPU cannot be allocated")
	ErrInvalidReputation     = errorsmod.Register(ModuleName, 14, "invalid reputation event")
	ErrDeregistrationRefused = errorsmod.Register(ModuleName, 15, "deregistration refused")
)
