package chain

import (
	"github.com/cosmos/gogoproto/proto"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/address"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	"github.com/cosmos/cosmos-sdk/std"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"
	authtypes "github.com/cosmos/cosmos-sdk/x/auth/types"
	"github.com/cosmos/cosmos-sdk/x/tx/signing"

	"github.com/gpumesh/gpumesh/app/params"
	escrowtypes "github.com/gpumesh/gpumesh/x/escrow/types"
	markettypes "github.com/gpumesh/gpumesh/x/market/types"
	poctypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
	providertypes "github.com/gpumesh/gpumesh/x/provider/types"
	stakingslashtypes "github.com/gpumesh/gpumesh/x/stakingslash/types"
)

func init() {
	// Addresses are gpumesh's (mesh1…) in every package that talks to
	// the chain, without linking the app that sets them for the node.
	params.SetSDKConfig()
}

// EncodingConfig bundles the codecs the sidecar signs and decodes with.
type EncodingConfig struct {
	InterfaceRegistry codectypes.InterfaceRegistry
	Codec             codec.Codec
	TxConfig          client.TxConfig
	Amino             *codec.LegacyAmino
}

// Encoding returns the sidecar's codecs: the SDK's crypto and transaction
// types, x/auth's accounts, and the messages and queries of the five
// gpumesh modules. It is built from the modules' types packages alone,
// so the sidecar links neither the app nor any keeper.
func Encoding() EncodingConfig {
	registry, err := codectypes.NewInterfaceRegistryWithOptions(codectypes.InterfaceRegistryOptions{
		ProtoFiles: proto.HybridResolver,
		SigningOptions: signing.Options{
			AddressCodec:          address.NewBech32Codec(params.AccountAddressPrefix),
			ValidatorAddressCodec: address.NewBech32Codec(params.ValidatorAddressPrefix),
		},
	})
	if err != nil {
		// Only a broken proto registration fails here: a build error.
		panic(err)
	}
	std.RegisterInterfaces(registry)
	authtypes.RegisterInterfaces(registry)
	providertypes.RegisterInterfaces(registry)
	stakingslashtypes.RegisterInterfaces(registry)
	markettypes.RegisterInterfaces(registry)
	escrowtypes.RegisterInterfaces(registry)
	poctypes.RegisterInterfaces(registry)
	amino := codec.NewLegacyAmino()
	std.RegisterLegacyAminoCodec(amino)
	cdc := codec.NewProtoCodec(registry)
	return EncodingConfig{InterfaceRegistry: registry, Codec: cdc,
		TxConfig: authtx.NewTxConfig(cdc, authtx.DefaultSignModes), Amino: amino}
}
