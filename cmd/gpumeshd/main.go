// Command gpumeshd is the gpumesh node: a Cosmos SDK chain for a
// decentralized GPU compute market.
package main

import (
	"fmt"
	"os"

	svrcmd "github.com/cosmos/cosmos-sdk/server/cmd"

	"github.com/gpumesh/gpumesh/app"
	"github.com/gpumesh/gpumesh/cmd/gpumeshd/cmd"
)

func main() {
	rootCmd := cmd.NewRootCmd()
	if err := svrcmd.Execute(rootCmd, "GPUMESHD", app.DefaultNodeHome); err != nil {
		_, _ = fmt.Fprintln(rootCmd.OutOrStderr(), err)
		os.Exit(1)
	}
}
