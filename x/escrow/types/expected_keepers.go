package types

import (
	"context"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// BankKeeper is the part of x/bank that x/escrow uses.
type BankKeeper interface {
	GetBalance(ctx context.Context, addr sdk.AccAddress, denom string) sdk.Coin
	GetAllBalances(ctx context.Context, addr sdk.AccAddress) sdk.Coins
	SendCoinsFromAccountToModule(ctx context.Context, senderAddr sdk.AccAddress, recipientModule string, amt sdk.Coins) error
	SendCoinsFromModuleToAccount(ctx context.Context, senderModule string, recipientAddr sdk.AccAddress, amt sdk.Coins) error
	SendCoinsFromModuleToModule(ctx context.Context, senderModule, recipientModule string, amt sdk.Coins) error
	// BlockedAddr tells whether addr may not receive coins (module accounts).
	BlockedAddr(addr sdk.AccAddress) bool
}

// AccountKeeper is the part of x/auth that x/escrow uses.
type AccountKeeper interface {
	GetModuleAddress(name string) sdk.AccAddress
}

// DistributionKeeper is the part of x/distribution that x/escrow uses: the
// take fee funds the community pool.
type DistributionKeeper interface {
	FundCommunityPool(ctx context.Context, amount sdk.Coins, sender sdk.AccAddress) error
}
