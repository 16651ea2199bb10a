//go:build !gpumesh_faults

package cmd

import (
	"testing"

	"github.com/spf13/cobra"
)

// The production binary has no fault injection: no command of the tree
// registers a --fault flag, hidden or not (build with -tags gpumesh_faults
// for the test binary that has one).
func TestProductionBinaryHasNoFaultFlag(t *testing.T) {
	var walk func(c *cobra.Command)
	walked := 0
	walk = func(c *cobra.Command) {
		walked++
		if f := c.Flags().Lookup("fault"); f != nil {
			t.Errorf("%q registers --fault (%s)", c.CommandPath(), f.Usage)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRoot())
	if walked < 6 {
		t.Fatalf("walked %d commands: the tree has at least init, inventory, register, run, bench and version", walked)
	}
}
