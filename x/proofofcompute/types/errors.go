package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/proofofcompute. Codes start at 2 (1 is reserved for
// internal errors) and never change once released.
var (
	ErrInvalidParams      = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrChallengeNotFound  = errorsmod.Register(ModuleName, 3, "challenge not found")
	ErrNotChallenged      = errorsmod.Register(ModuleName, 4, "not the challenged provider")
	ErrWrongState         = errorsmod.Register(ModuleName, 5, "challenge is not in the state this message needs")
	ErrDeadlinePassed     = errorsmod.Register(ModuleName, 6, "deadline passed")
	ErrInvalidCommitment  = errorsmod.Register(ModuleName, 7, "invalid commitment")
	ErrInvalidReveal      = errorsmod.Register(ModuleName, 8, "invalid reveal")
	ErrDuplicateReveal    = errorsmod.Register(ModuleName, 9, "GPU already revealed")
	ErrLeaseNotDisputable = errorsmod.Register(ModuleName, 10, "lease cannot be disputed")
	ErrDisputeOpen        = errorsmod.Register(ModuleName, 11, "a dispute is already open for this lease")
	ErrInvalidFee         = errorsmod.Register(ModuleName, 12, "invalid dispute fee")
	ErrInvalidUsage       = errorsmod.Register(ModuleName, 13, "invalid usage report")
	ErrNothingToClaim     = errorsmod.Register(ModuleName, 14, "no rewards to claim")
	ErrInvalidGenesis     = errorsmod.Register(ModuleName, 15, "invalid genesis state")
	ErrNoGPUsToChallenge  = errorsmod.Register(ModuleName, 16, "no GPU can be challenged")
)
