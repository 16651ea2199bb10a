package types

import errorsmod "cosmossdk.io/errors"

// Registered errors of x/market. Codes start at 2 (1 is reserved for
// internal errors) and never change once released.
var (
	ErrInvalidParams      = errorsmod.Register(ModuleName, 2, "invalid params")
	ErrInvalidSpec        = errorsmod.Register(ModuleName, 3, "invalid resource spec")
	ErrInvalidOrder       = errorsmod.Register(ModuleName, 4, "invalid order")
	ErrDenomNotAllowed    = errorsmod.Register(ModuleName, 5, "payment denom not allowed")
	ErrDepositTooSmall    = errorsmod.Register(ModuleName, 6, "deposit too small")
	ErrOrderNotFound      = errorsmod.Register(ModuleName, 7, "order not found")
	ErrOrderNotOpen       = errorsmod.Register(ModuleName, 8, "order is not open")
	ErrInvalidBid         = errorsmod.Register(ModuleName, 9, "invalid bid")
	ErrBidNotFound        = errorsmod.Register(ModuleName, 10, "bid not found")
	ErrBidExists          = errorsmod.Register(ModuleName, 11, "provider already has an open bid on this order")
	ErrTooManyBids        = errorsmod.Register(ModuleName, 12, "order has the maximum number of open bids")
	ErrPriceTooHigh       = errorsmod.Register(ModuleName, 13, "price above the order's maximum")
	ErrProviderIneligible = errorsmod.Register(ModuleName, 14, "provider may not bid")
	ErrSpecMismatch       = errorsmod.Register(ModuleName, 15, "offer does not satisfy the order's spec")
	ErrGPUUnavailable     = errorsmod.Register(ModuleName, 16, "GPU not available")
	ErrLeaseNotFound      = errorsmod.Register(ModuleName, 17, "lease not found")
	ErrLeaseNotActive     = errorsmod.Register(ModuleName, 18, "lease is not active")
	ErrUnauthorized       = errorsmod.Register(ModuleName, 19, "not a party to this order or lease")
	ErrInvalidEndpoint    = errorsmod.Register(ModuleName, 20, "invalid access endpoint")
	ErrWindowClosed       = errorsmod.Register(ModuleName, 21, "bid window has ended")
	ErrProviderHasLeases  = errorsmod.Register(ModuleName, 22, "provider has active leases")
	ErrInvalidID          = errorsmod.Register(ModuleName, 23, "invalid order or lease id")
	ErrInvalidCloseReason = errorsmod.Register(ModuleName, 24, "invalid lease close reason")
	ErrBidNotOpen         = errorsmod.Register(ModuleName, 25, "bid is not open")
	ErrInvalidGenesis     = errorsmod.Register(ModuleName, 26, "invalid genesis state")
)
