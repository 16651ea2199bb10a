package app

// MsgClass says who may send a message.
type MsgClass int

// Message classes.
const (
	// MsgClassUser: any account (tenants, anyone topping up escrow).
	MsgClassUser MsgClass = iota + 1
	// MsgClassProvider: a provider acting on its own registration, GPUs,
	// collateral, bids and leases.
	MsgClassProvider
	// MsgClassAuthority: only the governance module account, inside a
	// proposal.
	MsgClassAuthority
)

// GpumeshMsgClasses classifies every message of the gpumesh modules by type
// URL. A test fails when a registered gpumesh message is missing here, so a
// new message cannot ship without someone deciding who may send it.
var GpumeshMsgClasses = map[string]MsgClass{
	"/gpumesh.provider.v1.MsgRegisterProvider":   MsgClassProvider,
	"/gpumesh.provider.v1.MsgUpdateProvider":     MsgClassProvider,
	"/gpumesh.provider.v1.MsgSetInventory":       MsgClassProvider,
	"/gpumesh.provider.v1.MsgDeregisterProvider": MsgClassProvider,
	"/gpumesh.provider.v1.MsgUpdateParams":       MsgClassAuthority,

	"/gpumesh.stakingslash.v1.MsgBond":         MsgClassProvider,
	"/gpumesh.stakingslash.v1.MsgUnbond":       MsgClassProvider,
	"/gpumesh.stakingslash.v1.MsgUnjail":       MsgClassProvider,
	"/gpumesh.stakingslash.v1.MsgUpdateParams": MsgClassAuthority,

	"/gpumesh.market.v1.MsgCreateOrder":    MsgClassUser,
	"/gpumesh.market.v1.MsgCloseOrder":     MsgClassUser,
	"/gpumesh.market.v1.MsgAcceptBid":      MsgClassUser,
	"/gpumesh.market.v1.MsgCloseLease":     MsgClassUser, // tenant or provider of the lease
	"/gpumesh.market.v1.MsgCreateBid":      MsgClassProvider,
	"/gpumesh.market.v1.MsgCloseBid":       MsgClassProvider,
	"/gpumesh.market.v1.MsgSetLeaseAccess": MsgClassProvider,
	"/gpumesh.market.v1.MsgUpdateParams":   MsgClassAuthority,

	"/gpumesh.escrow.v1.MsgDeposit":      MsgClassUser,
	"/gpumesh.escrow.v1.MsgWithdraw":     MsgClassProvider,
	"/gpumesh.escrow.v1.MsgUpdateParams": MsgClassAuthority,
	"/gpumesh.escrow.v1.MsgSpendReserve": MsgClassAuthority,

	"/gpumesh.proofofcompute.v1.MsgCommitProof":  MsgClassProvider,
	"/gpumesh.proofofcompute.v1.MsgRevealProof":  MsgClassProvider,
	"/gpumesh.proofofcompute.v1.MsgReportUsage":  MsgClassProvider,
	"/gpumesh.proofofcompute.v1.MsgClaimRewards": MsgClassProvider,
	"/gpumesh.proofofcompute.v1.MsgOpenDispute":  MsgClassUser, // the lease's tenant
	"/gpumesh.proofofcompute.v1.MsgUpdateParams": MsgClassAuthority,
}
