package app

import (
	"encoding/json"
	"fmt"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	servertypes "github.com/cosmos/cosmos-sdk/server/types"
	sdk "github.com/cosmos/cosmos-sdk/types"
	slashingtypes "github.com/cosmos/cosmos-sdk/x/slashing/types"
	"github.com/cosmos/cosmos-sdk/x/staking"
	stakingtypes "github.com/cosmos/cosmos-sdk/x/staking/types"
)

// ExportAppStateAndValidators exports the application state as a genesis
// file's app state plus the validator set. With forZeroHeight the state is
// prepared for a chain restarting at height zero: rewards are withdrawn,
// heights reset, and validators not listed in jailAllowedAddrs may not stay
// jailed.
func (app *App) ExportAppStateAndValidators(forZeroHeight bool, jailAllowedAddrs, modulesToExport []string) (servertypes.ExportedApp, error) {
	ctx := app.NewContextLegacy(true, cmtproto.Header{Height: app.LastBlockHeight()})

	height := app.LastBlockHeight() + 1
	if forZeroHeight {
		height = 0
		if err := app.prepForZeroHeightGenesis(ctx, jailAllowedAddrs); err != nil {
			return servertypes.ExportedApp{}, err
		}
	}

	genState, err := app.ModuleManager.ExportGenesisForModules(ctx, app.appCodec, modulesToExport)
	if err != nil {
		return servertypes.ExportedApp{}, err
	}
	appState, err := json.MarshalIndent(genState, "", "  ")
	if err != nil {
		return servertypes.ExportedApp{}, err
	}
	validators, err := staking.WriteValidators(ctx, app.StakingKeeper)
	if err != nil {
		return servertypes.ExportedApp{}, err
	}
	return servertypes.ExportedApp{
		AppState:        appState,
		Validators:      validators,
		Height:          height,
		ConsensusParams: app.GetConsensusParams(ctx),
	}, nil
}

// prepForZeroHeightGenesis withdraws every reward and commission,
// reinitialises distribution records, resets staking heights and jails as
// requested, so the exported state starts cleanly at height zero.
func (app *App) prepForZeroHeightGenesis(ctx sdk.Context, jailAllowedAddrs []string) error {
	allowedAddrs := make(map[string]bool, len(jailAllowedAddrs))
	for _, addr := range jailAllowedAddrs {
		if _, err := sdk.ValAddressFromBech32(addr); err != nil {
			return fmt.Errorf("jail-allowed address %q: %w", addr, err)
		}
		allowedAddrs[addr] = true
	}

	validators, err := app.StakingKeeper.GetAllValidators(ctx)
	if err != nil {
		return err
	}
	valAddrs := make([]sdk.ValAddress, len(validators))
	for i, val := range validators {
		if valAddrs[i], err = app.StakingKeeper.ValidatorAddressCodec().StringToBytes(val.GetOperator()); err != nil {
			return err
		}
	}
	type delegation struct {
		del sdk.AccAddress
		val sdk.ValAddress
	}
	dels, err := app.StakingKeeper.GetAllDelegations(ctx)
	if err != nil {
		return err
	}
	delegations := make([]delegation, len(dels))
	for i, d := range dels {
		if delegations[i].val, err = app.StakingKeeper.ValidatorAddressCodec().StringToBytes(d.ValidatorAddress); err != nil {
			return err
		}
		if delegations[i].del, err = app.AccountKeeper.AddressCodec().StringToBytes(d.DelegatorAddress); err != nil {
			return err
		}
	}

	// Pay out all commission and rewards, then clear slash events and
	// historical rewards.
	for _, v := range valAddrs {
		// A validator without commission returns an error; nothing to pay.
		_, _ = app.DistrKeeper.WithdrawValidatorCommission(ctx, v)
	}
	for _, d := range delegations {
		if _, err := app.DistrKeeper.WithdrawDelegationRewards(ctx, d.del, d.val); err != nil {
			return err
		}
	}
	app.DistrKeeper.DeleteAllValidatorSlashEvents(ctx)
	app.DistrKeeper.DeleteAllValidatorHistoricalRewards(ctx)

	// Reinitialise distribution records at height zero: leftover dust goes
	// to the community pool.
	height := ctx.BlockHeight()
	ctx = ctx.WithBlockHeight(0)
	for _, v := range valAddrs {
		scraps, err := app.DistrKeeper.GetValidatorOutstandingRewardsCoins(ctx, v)
		if err != nil {
			return err
		}
		feePool, err := app.DistrKeeper.FeePool.Get(ctx)
		if err != nil {
			return err
		}
		feePool.CommunityPool = feePool.CommunityPool.Add(scraps...)
		if err := app.DistrKeeper.FeePool.Set(ctx, feePool); err != nil {
			return err
		}
		if err := app.DistrKeeper.Hooks().AfterValidatorCreated(ctx, v); err != nil {
			return err
		}
	}
	for _, d := range delegations {
		if err := app.DistrKeeper.Hooks().BeforeDelegationCreated(ctx, d.del, d.val); err != nil {
			return err
		}
		if err := app.DistrKeeper.Hooks().AfterDelegationModified(ctx, d.del, d.val); err != nil {
			return err
		}
	}
	ctx = ctx.WithBlockHeight(height)

	// Reset redelegation and unbonding creation heights.
	var reds []stakingtypes.Redelegation
	if err := app.StakingKeeper.IterateRedelegations(ctx, func(_ int64, red stakingtypes.Redelegation) bool {
		reds = append(reds, red)
		return false
	}); err != nil {
		return err
	}
	for _, red := range reds {
		for i := range red.Entries {
			red.Entries[i].CreationHeight = 0
		}
		if err := app.StakingKeeper.SetRedelegation(ctx, red); err != nil {
			return err
		}
	}
	var ubds []stakingtypes.UnbondingDelegation
	if err := app.StakingKeeper.IterateUnbondingDelegations(ctx, func(_ int64, ubd stakingtypes.UnbondingDelegation) bool {
		ubds = append(ubds, ubd)
		return false
	}); err != nil {
		return err
	}
	for _, ubd := range ubds {
		for i := range ubd.Entries {
			ubd.Entries[i].CreationHeight = 0
		}
		if err := app.StakingKeeper.SetUnbondingDelegation(ctx, ubd); err != nil {
			return err
		}
	}

	// Reset validator heights, jailing any validator not allowed to stay
	// unjailed.
	for _, val := range validators {
		val.UnbondingHeight = 0
		if len(allowedAddrs) > 0 && !allowedAddrs[val.GetOperator()] {
			val.Jailed = true
		}
		if err := app.StakingKeeper.SetValidator(ctx, val); err != nil {
			return err
		}
	}
	if _, err := app.StakingKeeper.ApplyAndReturnValidatorSetUpdates(ctx); err != nil {
		return err
	}

	// Reset slashing signing-info start heights.
	var setErr error
	if err := app.SlashingKeeper.IterateValidatorSigningInfos(ctx,
		func(addr sdk.ConsAddress, info slashingtypes.ValidatorSigningInfo) (stop bool) {
			info.StartHeight = 0
			setErr = app.SlashingKeeper.SetValidatorSigningInfo(ctx, addr, info)
			return setErr != nil
		}); err != nil {
		return err
	}
	return setErr
}
