package maprange_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/gpumesh/gpumesh/tools/maprange"
)

// TestAnalyzer runs the analyzer over testdata/src/a: each loop marked with a
// want comment must be reported with a matching message, and no other loop
// (the collect-then-sort idiom, non-map ranges, the _test.go file) may be.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), maprange.Analyzer, "a")
}
