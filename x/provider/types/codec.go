package types

import (
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/codec/legacy"
	codectypes "github.com/cosmos/cosmos-sdk/codec/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/msgservice"
)

// RegisterLegacyAminoCodec registers the amino names used for ledger
// (legacy amino JSON) signing. Names match the amino.name proto options.
func RegisterLegacyAminoCodec(cdc *codec.LegacyAmino) {
	legacy.RegisterAminoMsg(cdc, &MsgRegisterProvider{}, "gpumesh/provider/MsgRegister")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateProvider{}, "gpumesh/provider/MsgUpdate")
	legacy.RegisterAminoMsg(cdc, &MsgSetInventory{}, "gpumesh/provider/MsgSetInventory")
	legacy.RegisterAminoMsg(cdc, &MsgDeregisterProvider{}, "gpumesh/provider/MsgDeregister")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "gpumesh/provider/MsgUpdateParams")
	cdc.RegisterConcrete(&Params{}, "gpumesh/provider/Params", nil)
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgRegisterProvider{},
		&MsgUpdateProvider{},
		&MsgSetInventory{},
		&MsgDeregisterProvider{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
