package types

import (
	"time"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Beneficiary is an account that receives a share of a slash: the tenant
// harmed by the infraction or whoever reported it.
type Beneficiary struct {
	Address sdk.AccAddress
	Role    BeneficiaryRole
}

// SlashResult says what a call to Keeper.Slash did.
type SlashResult struct {
	// FromBonded is the amount taken from the bonded stake.
	FromBonded math.Int
	// FromUnbonding is the amount taken from unbonding entries that started
	// at or after the infraction height.
	FromUnbonding math.Int
	// Total is FromBonded + FromUnbonding; it equals the sum of Payouts.
	Total math.Int
	// Payouts are the transfers made, the reserve's share last. Zero
	// transfers are left out.
	Payouts []SlashPayout
	// JailedUntil is the end of the jail the provider is in after the
	// slash, or the zero time when the infraction does not jail.
	JailedUntil time.Time
	// Escalated is true when a missed commit reached missed_commit_limit
	// within the window and was slashed. A missed commit below the limit
	// is only counted: zero amounts and Escalated false.
	Escalated bool
}

// ZeroSlashResult is a result with zero amounts and no payouts.
func ZeroSlashResult() SlashResult {
	return SlashResult{FromBonded: math.ZeroInt(), FromUnbonding: math.ZeroInt(), Total: math.ZeroInt()}
}
