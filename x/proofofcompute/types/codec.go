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
	legacy.RegisterAminoMsg(cdc, &MsgCommitProof{}, "gpumesh/poc/MsgCommitProof")
	legacy.RegisterAminoMsg(cdc, &MsgRevealProof{}, "gpumesh/poc/MsgRevealProof")
	legacy.RegisterAminoMsg(cdc, &MsgOpenDispute{}, "gpumesh/poc/MsgOpenDispute")
	legacy.RegisterAminoMsg(cdc, &MsgReportUsage{}, "gpumesh/poc/MsgReportUsage")
	legacy.RegisterAminoMsg(cdc, &MsgClaimRewards{}, "gpumesh/poc/MsgClaimRewards")
	legacy.RegisterAminoMsg(cdc, &MsgUpdateParams{}, "gpumesh/proofofcompute/MsgUpdateParams")
	cdc.RegisterConcrete(&Params{}, "gpumesh/proofofcompute/Params", nil)
}

// RegisterInterfaces registers the module's messages.
func RegisterInterfaces(registry codectypes.InterfaceRegistry) {
	registry.RegisterImplementations((*sdk.Msg)(nil),
		&MsgCommitProof{},
		&MsgRevealProof{},
		&MsgOpenDispute{},
		&MsgReportUsage{},
		&MsgClaimRewards{},
		&MsgUpdateParams{},
	)
	msgservice.RegisterMsgServiceDesc(registry, &_Msg_serviceDesc)
}
