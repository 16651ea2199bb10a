package app

import (
	"context"
	"fmt"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"
)

// Upgrade is one named software upgrade: when governance's plan of that name
// is reached, the new binary runs every module's registered migrations, and
// at the upgrade height it adds, renames or deletes the stores listed here.
type Upgrade struct {
	Name          string
	StoreUpgrades storetypes.StoreUpgrades
}

// Upgrades lists every software upgrade this binary knows, oldest first.
// A release that changes state appends an entry here (and, for a new
// module, its store key to StoreUpgrades.Added).
var Upgrades []Upgrade

func (app *App) registerUpgradeHandlers() {
	for _, u := range Upgrades {
		app.UpgradeKeeper.SetUpgradeHandler(u.Name,
			func(ctx context.Context, _ upgradetypes.Plan, fromVM module.VersionMap) (module.VersionMap, error) {
				return app.ModuleManager.RunMigrations(ctx, app.configurator, fromVM)
			})
	}
}

// setUpgradeStoreLoader installs the store loader of the upgrade that the
// previous binary halted for (recorded in data/upgrade-info.json), so its
// store additions and deletions apply at the upgrade height.
func (app *App) setUpgradeStoreLoader() {
	info, err := app.UpgradeKeeper.ReadUpgradeInfoFromDisk()
	if err != nil {
		panic(fmt.Errorf("read upgrade info from disk: %w", err))
	}
	if info.Name == "" || app.UpgradeKeeper.IsSkipHeight(info.Height) {
		return
	}
	for i := range Upgrades {
		if Upgrades[i].Name == info.Name {
			app.SetStoreLoader(upgradetypes.UpgradeStoreLoader(info.Height, &Upgrades[i].StoreUpgrades))
		}
	}
}
