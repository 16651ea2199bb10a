// Command gpumesh-provider is the gpumesh provider sidecar: it runs next
// to the GPUs, registers them, bids for orders, answers proof-of-compute
// challenges, provisions leases and exports metrics.
package main

import (
	"fmt"
	"os"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/cmd"
)

func main() {
	if err := cmd.NewRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}
