//go:build !gpumesh_faults

package prover_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"
)

// Without the gpumesh_faults tag the prover cannot be told to corrupt a
// reveal: Options carries no fault switch and Faults is empty.
func TestProductionProverHasNoFaultSwitch(t *testing.T) {
	opts := reflect.TypeOf(prover.Options{})
	for i := range opts.NumField() {
		if f := opts.Field(i); strings.Contains(f.Name, "Corrupt") {
			t.Errorf("prover.Options.%s: a fault switch in the production build", f.Name)
		}
	}
	f, ok := opts.FieldByName("Faults")
	if !ok {
		t.Fatal("prover.Options has no Faults field")
	}
	if f.Type.Kind() != reflect.Struct || f.Type.NumField() != 0 {
		t.Errorf("prover.Faults is %s with %d fields: want an empty struct without the gpumesh_faults tag",
			f.Type.Kind(), f.Type.NumField())
	}
}

// faultsFor is the production build's Faults: there is no fault to ask for.
func faultsFor(corrupt bool) prover.Faults {
	if corrupt {
		panic("the corrupt-opening fault needs -tags gpumesh_faults")
	}
	return prover.Faults{}
}
