// Package params holds the chain's address prefixes and bond denom and
// installs them in the SDK's process-wide configuration. It imports only
// the SDK's types, so that clients (the provider sidecar) can encode
// gpumesh addresses without linking the app and its keepers; package app
// re-exports everything here.
package params

import (
	"os"
	"sync"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

const (
	// AccountAddressPrefix is the bech32 prefix of account addresses.
	AccountAddressPrefix = "mesh"
	// BondDenom is the staking, bond and fee denom.
	BondDenom = "umesh"
	// CoinType is the BIP-44 coin type used for key derivation (the Cosmos
	// default, so standard wallets derive the same keys).
	CoinType = 118
	// ConfigScope is the SDK configuration scope gpumesh processes use
	// unless COSMOS_SDK_CONFIG_SCOPE is already set.
	ConfigScope = "gpumesh"
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
//
// It first fixes the SDK's configuration scope. Without one, every
// sdk.GetConfig call (made by every bech32 encoding and decoding of an
// address) derives the scope from os.Executable and os.Hostname, two
// system calls and a formatted string: about a sixth of the execution time
// of a market transaction (docs/benchmarks.md, "Execution throughput").
// With the scope set, the same lookup is an environment read.
func SetSDKConfig() {
	configOnce.Do(func() {
		if os.Getenv(sdk.EnvConfigScope) == "" {
			if err := os.Setenv(sdk.EnvConfigScope, ConfigScope); err != nil {
				panic(err)
			}
		}
		cfg := sdk.GetConfig()
		cfg.SetBech32PrefixForAccount(AccountAddressPrefix, AccountPubKeyPrefix)
		cfg.SetBech32PrefixForValidator(ValidatorAddressPrefix, ValidatorPubKeyPrefix)
		cfg.SetBech32PrefixForConsensusNode(ConsensusAddressPrefix, ConsensusPubKeyPrefix)
		cfg.SetCoinType(CoinType)
		cfg.Seal()
		sdk.DefaultBondDenom = BondDenom
	})
}
