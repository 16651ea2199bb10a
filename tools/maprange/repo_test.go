package maprange_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/gpumesh/gpumesh/tools/maprange"
)

// stateMachinePkg selects the packages the determinism rule covers: app and
// every module's keeper and types. The lint target in the Makefile filters
// `go list ./app/... ./x/...` with the same expression; change both together.
var stateMachinePkg = regexp.MustCompile(`/app$|/x/[^/]+/(keeper|types)$`)

// TestRepository runs the analyzer over this repository's state-machine
// packages, so that `make test` (what CI runs) rejects a range over a map
// there just as `make lint` does. It lists every finding.
func TestRepository(t *testing.T) {
	root := filepath.Join("..", "..")
	listed, err := packages.Load(&packages.Config{Mode: packages.NeedName, Dir: root}, "./app/...", "./x/...")
	if err != nil {
		t.Fatalf("list packages: %v", err)
	}
	var paths []string
	for _, p := range listed {
		if stateMachinePkg.MatchString(p.PkgPath) {
			paths = append(paths, p.PkgPath)
		}
	}
	// Guard against a filter (or a layout change) that silently checks nothing.
	for _, want := range []string{"github.com/gpumesh/gpumesh/app", "github.com/gpumesh/gpumesh/x/provider/keeper", "github.com/gpumesh/gpumesh/x/provider/types"} {
		if !slices.Contains(paths, want) {
			t.Fatalf("state-machine packages %v do not include %s", paths, want)
		}
	}

	pkgs, err := packages.Load(&packages.Config{Mode: packages.LoadSyntax, Dir: root}, paths...)
	if err != nil {
		t.Fatalf("load %v: %v", paths, err)
	}
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Errorf("%s: %v", p.PkgPath, e)
		}
	}
	if t.Failed() {
		t.FailNow() // the analyzer cannot check a package that does not type-check
	}

	graph, err := checker.Analyze([]*analysis.Analyzer{maprange.Analyzer}, pkgs, nil)
	if err != nil {
		t.Fatalf("analyze: %v", err)
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	var findings []string
	for _, act := range graph.Roots {
		if act.Err != nil {
			t.Errorf("%s: %v", act, act.Err)
		}
		for _, d := range act.Diagnostics {
			pos := act.Package.Fset.Position(d.Pos)
			if rel, err := filepath.Rel(absRoot, pos.Filename); err == nil {
				pos.Filename = rel
			}
			findings = append(findings, fmt.Sprintf("%s: %s", pos, d.Message))
		}
	}
	slices.Sort(findings)
	for _, f := range findings {
		t.Error(f)
	}
	if len(findings) > 0 {
		t.Errorf("%d range statements over maps in state-machine code (see docs/development.md, Lint)", len(findings))
	}
}
