package app

import (
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// Identity of the chain. Everything that names an address prefix or a denom
// reads it from here.
const (
	// Name is the application name reported over ABCI.
	Name = "gpumesh"

	// AccountAddressPrefix is the bech32 prefix of account addresses.
	AccountAddressPrefix = "mesh"

	// BondDenom is the staking, bond and fee denom.
	BondDenom = "umesh"
	// DisplayDenom is the human unit of BondDenom (10^6 umesh).
	DisplayDenom = "MESH"
	// BondDenomExponent is the number of decimals between umesh and MESH.
	BondDenomExponent = 6

	// MarketReserveAccount is the module account of the market reserve: it
	// receives the part of a slash not paid to beneficiaries and compensates
	// tenants when a slash does not cover their loss.
	MarketReserveAccount = "market_reserve"
	// StableDenom is the stable payment denom funded on local networks.
	StableDenom = "uusdc"

	// CoinType is the BIP-44 coin type used for key derivation (the Cosmos
	// default, so standard wallets derive the same keys).
	CoinType = 118
)

var (
	ValidatorAddressPrefix = AccountAddressPrefix + sdk.PrefixValidator + sdk.PrefixOperator
	ConsensusAddressPrefix = AccountAddressPrefix + sdk.PrefixValidator + sdk.PrefixConsensus
	AccountPubKeyPrefix    = AccountAddressPrefix + sdk.PrefixPublic
	ValidatorPubKeyPrefix  = ValidatorAddressPrefix + sdk.PrefixPublic
	ConsensusPubKeyPrefix  = ConsensusAddressPrefix + sdk.PrefixPublic
)

var configOnce sync.Once

// SetSDKConfig installs the gpumesh address prefixes and bond denom in the
// SDK's process-wide configuration and seals it. It is safe to call more
// than once; only the first call has an effect.
func SetSDKConfig() {
	configOnce.Do(func() {
		cfg := sdk.GetConfig()
		cfg.SetBech32PrefixForAccount(AccountAddressPrefix, AccountPubKeyPrefix)
		cfg.SetBech32PrefixForValidator(ValidatorAddressPrefix, ValidatorPubKeyPrefix)
		cfg.SetBech32PrefixForConsensusNode(ConsensusAddressPrefix, ConsensusPubKeyPrefix)
		cfg.SetCoinType(CoinType)
		cfg.Seal()
		sdk.DefaultBondDenom = BondDenom
	})
}

func init() {
	SetSDKConfig()
}
