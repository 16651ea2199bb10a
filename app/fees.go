package app

import (
	"math"

	errorsmod "cosmossdk.io/errors"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"
)

// txFeeChecker is the ante handler's fee check. In CheckTx a transaction
// must pay at least gas × the validator's minimum gas prices, unless every
// message is a proof-of-compute commit or reveal that the chain would
// accept now for the signer's own open challenge (see
// proofofcompute Keeper.FreeProofTx): proofs are the chain's own work
// orders, and a provider must not need fee tokens to answer one. A proof
// admitted free is marked in the CheckTx state so that the same proof is
// not admitted free twice before the next block. In a block (FinalizeBlock)
// no minimum applies, as in the SDK's default checker.
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
	if app.ProofOfComputeKeeper.FreeProofTx(ctx, tx) {
		if err := app.ProofOfComputeKeeper.MarkFreeProofs(ctx, tx); err != nil {
			return nil, 0, err
		}
		return fee, 0, nil
	}
	return nil, 0, errorsmod.Wrapf(sdkerrors.ErrInsufficientFee,
		"fee %s is below the minimum %s for %d gas at the validator's minimum gas prices %s",
		fee, required, gas, ctx.MinGasPrices())
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
