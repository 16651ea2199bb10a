package types

import "cosmossdk.io/math"

// NewRewardPool is the pool before the first issuance.
func NewRewardPool() RewardPool {
	return RewardPool{
		Index: math.LegacyZeroDec(), Carry: math.LegacyZeroDec(), Minted: math.ZeroInt(), Claimed: math.ZeroInt(),
	}
}

// NewProviderReward is a provider's record before it had any weight,
// starting at the pool's current index.
func NewProviderReward(provider string, index math.LegacyDec) ProviderReward {
	return ProviderReward{
		Provider: provider, IndexSnapshot: index, Accrued: math.LegacyZeroDec(), Claimed: math.ZeroInt(),
	}
}
