package app

import (
	"errors"
	"fmt"
	"math"

	"github.com/cosmos/gogoproto/jsonpb"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec/unknownproto"
	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
	txtypes "github.com/cosmos/cosmos-sdk/types/tx"

	proofofcomputetypes "github.com/gpumesh/gpumesh/x/proofofcompute/types"
)

// txFeeChecker is the ante handler's fee check. In CheckTx a transaction
// must pay at least gas × the validator's minimum gas prices, unless it is
// a free proof transaction (freeProofTx): proofs are the chain's own work
// orders, and a provider must not need fee tokens to answer one. A proof
// admitted free is marked in the CheckTx state so that the same proof is
// not admitted free twice before the next block. A transaction neither
// paying nor free is refused with the required fee and the reason it is
// not free. In a block (FinalizeBlock) no minimum applies, as in the SDK's
// default checker.
func (app *App) txFeeChecker(ctx sdk.Context, tx sdk.Tx) (sdk.Coins, int64, error) {
	feeTx, ok := tx.(sdk.FeeTx)
	if !ok {
		return nil, 0, errorsmod.Wrap(sdkerrors.ErrTxDecode, "transaction is not a FeeTx")
	}
	fee, gas := feeTx.GetFee(), feeTx.GetGas()
	if !ctx.IsCheckTx() {
		return fee, feePriority(fee, gas), nil
	}
	required := requiredFee(ctx.MinGasPrices(), gas)
	if required.IsZero() || fee.IsAnyGTE(required) {
		return fee, feePriority(fee, gas), nil
	}
	notFree := app.freeProofTx(ctx, tx)
	if notFree == nil {
		if err := app.ProofOfComputeKeeper.MarkFreeProofs(ctx, tx); err != nil {
			return nil, 0, err
		}
		return fee, 0, nil
	}
	paid := fee.String()
	if fee.IsZero() {
		paid = "none"
	}
	return nil, 0, errorsmod.Wrapf(sdkerrors.ErrInsufficientFee,
		"fee %s is below the minimum %s for %d gas at the validator's minimum gas prices %s; not free: %s",
		paid, required, gas, ctx.MinGasPrices(), notFree)
}

// freeProofTx returns nil when tx may enter the mempool without a fee: its
// raw bytes (ctx.TxBytes()) carry no unknown fields, not even the
// non-critical ones the SDK's decoder lets through in the body, and it
// passes proofofcompute Keeper.FreeProofTx at x/auth's gas costs (only the
// signer's own acceptable proofs, no extension options, a short memo, a
// size and a gas limit bounded by what the proofs need). Otherwise it
// returns the reason.
func (app *App) freeProofTx(ctx sdk.Context, tx sdk.Tx) error {
	if err := rejectUnknownFields(ctx.TxBytes(), app.interfaceRegistry); err != nil {
		return err
	}
	params := app.AccountKeeper.GetParams(ctx)
	return app.ProofOfComputeKeeper.FreeProofTx(ctx, tx, proofofcomputetypes.TxGasCosts{
		PerByte: params.TxSizeCostPerByte, SigVerify: params.SigVerifyCostSecp256k1,
	})
}

// rejectUnknownFields checks that a TxRaw, its body and its auth info have
// no field their schema does not define, inside Anys too (messages,
// public keys).
func rejectUnknownFields(bz []byte, resolver jsonpb.AnyResolver) error {
	if len(bz) == 0 {
		return errors.New("no transaction bytes to check")
	}
	var raw txtypes.TxRaw
	if err := unknownproto.RejectUnknownFieldsStrict(bz, &raw, resolver); err != nil {
		return fmt.Errorf("the transaction has unknown fields: %w", err)
	}
	if err := raw.Unmarshal(bz); err != nil {
		return fmt.Errorf("transaction bytes: %w", err)
	}
	if err := unknownproto.RejectUnknownFieldsStrict(raw.BodyBytes, &txtypes.TxBody{}, resolver); err != nil {
		return fmt.Errorf("the body has unknown fields: %w", err)
	}
	if err := unknownproto.RejectUnknownFieldsStrict(raw.AuthInfoBytes, &txtypes.AuthInfo{}, resolver); err != nil {
		return fmt.Errorf("the auth info has unknown fields: %w", err)
	}
	return nil
}

// requiredFee is ceil(price × gas) for each minimum gas price.
func requiredFee(prices sdk.DecCoins, gas uint64) sdk.Coins {
	if prices.IsZero() {
		return nil
	}
	g := sdkmath.LegacyNewDecFromInt(sdkmath.NewIntFromUint64(gas))
	out := make(sdk.Coins, 0, len(prices))
	for _, p := range prices {
		if amt := p.Amount.Mul(g).Ceil().RoundInt(); amt.IsPositive() {
			out = append(out, sdk.NewCoin(p.Denom, amt))
		}
	}
	return out.Sort()
}

// feePriority orders the mempool by the lowest fee per unit of gas over
// the fee's coins (0 without a fee).
func feePriority(fee sdk.Coins, gas uint64) int64 {
	if gas == 0 || fee.IsZero() {
		return 0
	}
	var lowest int64 = math.MaxInt64
	g := sdkmath.NewIntFromUint64(gas)
	for _, c := range fee {
		p := c.Amount.Quo(g)
		if !p.IsInt64() {
			continue
		}
		lowest = min(lowest, p.Int64())
	}
	if lowest == math.MaxInt64 {
		return 0
	}
	return lowest
}
