package app

import (
	"github.com/gpumesh/gpumesh/app/params"
)

// Identity of the chain. Everything that names an address prefix or a denom
// reads it from here.
const (
	// Name is the application name reported over ABCI.
	Name = "gpumesh"

	// AccountAddressPrefix is the bech32 prefix of account addresses.
	AccountAddressPrefix = params.AccountAddressPrefix

	// BondDenom is the staking, bond and fee denom.
	BondDenom = params.BondDenom
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
	CoinType = params.CoinType
)

var (
	ValidatorAddressPrefix = params.ValidatorAddressPrefix
	ConsensusAddressPrefix = params.ConsensusAddressPrefix
	AccountPubKeyPrefix    = params.AccountPubKeyPrefix
	ValidatorPubKeyPrefix  = params.ValidatorPubKeyPrefix
	ConsensusPubKeyPrefix  = params.ConsensusPubKeyPrefix
)

// ConfigScope is the SDK configuration scope gpumesh processes use unless
// COSMOS_SDK_CONFIG_SCOPE is already set.
const ConfigScope = params.ConfigScope

// SetSDKConfig installs the gpumesh address prefixes and bond denom in the
// SDK's process-wide configuration and seals it (params.SetSDKConfig, which
// clients call without linking the app). It is safe to call more than
// once; only the first call has an effect.
func SetSDKConfig() { params.SetSDKConfig() }

func init() {
	SetSDKConfig()
}
