package main

import (
	"regexp"
	"sort"
	"testing"

	"golang.org/x/tools/go/packages"
)

// chainSidePkg matches the chain-side packages the sidecar must not link:
// the application, the modules (their AppModule, keepers and gpumeshd
// commands) and the test utilities. The sidecar speaks to the chain
// through the modules' types and the proof libraries only.
var chainSidePkg = regexp.MustCompile(`^github\.com/gpumesh/gpumesh/(app|testutil(/.*)?|x/[^/]+|x/[^/]+/(keeper|client/cli))$`)

// knownEdges are imports of chain-side packages not yet removed, with the
// reason. The walk does not go through them; an entry no longer used fails
// the test, so the list only shrinks.
var knownEdges = map[[2]string]string{}

// TestSidecarLinksNoChainApplication walks every package the sidecar
// binary links (test files aside) and names each import of a chain-side
// package with its importer.
func TestSidecarLinksNoChainApplication(t *testing.T) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedImports | packages.NeedDeps}, ".")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	used := map[[2]string]bool{}
	seen := map[string]bool{}
	var walk func(p *packages.Package)
	walk = func(p *packages.Package) {
		for _, e := range p.Errors {
			t.Fatalf("%s: %v", p.PkgPath, e)
		}
		paths := make([]string, 0, len(p.Imports))
		for path := range p.Imports {
			paths = append(paths, path)
		}
		sort.Strings(paths)
		for _, path := range paths {
			if chainSidePkg.MatchString(path) {
				edge := [2]string{p.PkgPath, path}
				if _, ok := knownEdges[edge]; !ok {
					t.Errorf("%s imports %s", p.PkgPath, path)
				}
				used[edge] = true
				continue
			}
			if !seen[path] {
				seen[path] = true
				walk(p.Imports[path])
			}
		}
	}
	for _, p := range pkgs {
		walk(p)
	}
	if !seen["github.com/gpumesh/gpumesh/cmd/gpumesh-provider/prover"] {
		t.Fatal("the walk did not reach the prover: it checked nothing")
	}
	for edge, why := range knownEdges {
		if !used[edge] {
			t.Errorf("%s no longer imports %s (%s): delete the knownEdges entry", edge[0], edge[1], why)
		}
	}
}
