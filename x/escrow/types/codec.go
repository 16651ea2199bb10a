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
	legacy.RegisterAminoMsg(cdc, &MsgDeposit{}, "gpumesh/escrow/MsgDeposit")
	legacy.RegisterAminoMsg(cdc, &MsgWithdraw{}, "gpumesh/escrow/MsgWithdraw")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "gpumesh/escrow/MsgUpdateParams")
	legacy.RegisterAminoMsg(cdc, &MsgSpendReserve{}, "gpumesh/escrow/MsgSpendReserve")
	cdc.RegisterConcrete(&Params{}, "gpumesh/escrow/Params", nil)
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgDeposit{},
		&MsgWithdraw{},
		&MsgUpdateParams{},
		&MsgSpendReserve{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
