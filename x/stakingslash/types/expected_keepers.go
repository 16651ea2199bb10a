package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// AccountKeeper is the part of x/auth that x/stakingslash uses.
type AccountKeeper interface {
	GetModuleAddress(name string) sdk.AccAddress
	// GetModuleAccount returns the module account, creating it if needed.
	GetModuleAccount(ctx context.Context, name string) sdk.ModuleAccountI
}

// BankKeeper is the part of x/bank that x/stakingslash uses.
type BankKeeper interface {
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	SendCoinsFromModuleToModule(ctx context.Context, senderModule, recipientModule string, amt sdk.Coins) error
	BlockedAddr(addr sdk.AccAddress) bool
}
