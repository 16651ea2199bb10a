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
	legacy.RegisterAminoMsg(cdc, &MsgCreateOrder{}, "gpumesh/market/MsgCreateOrder")
	legacy.RegisterAminoMsg(cdc, &MsgCloseOrder{}, "gpumesh/market/MsgCloseOrder")
	legacy.RegisterAminoMsg(cdc, &MsgCreateBid{}, "gpumesh/market/MsgCreateBid")
	legacy.RegisterAminoMsg(cdc, &MsgCloseBid{}, "gpumesh/market/MsgCloseBid")
	legacy.RegisterAminoMsg(cdc, &MsgAcceptBid{}, "gpumesh/market/MsgAcceptBid")
	legacy.RegisterAminoMsg(cdc, &MsgCloseLease{}, "gpumesh/market/MsgCloseLease")
	legacy.RegisterAminoMsg(cdc, &MsgSetLeaseAccess{}, "gpumesh/market/MsgSetLeaseAccess")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "gpumesh/market/MsgUpdateParams")
	cdc.RegisterConcrete(&Params{}, "gpumesh/market/Params", nil)
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgCreateOrder{},
		&MsgCloseOrder{},
		&MsgCreateBid{},
		&MsgCloseBid{},
		&MsgAcceptBid{},
		&MsgCloseLease{},
		&MsgSetLeaseAccess{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
