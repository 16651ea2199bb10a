// Command maprange reports range statements over Go maps in the packages it
// is given (see package tools/maprange). `make lint` runs it on the
// state-machine packages:
//
//	go run ./tools/maprange/cmd/maprange -test=false ./x/provider/keeper ./app
//
// It exits with status 3 when it reports anything. -test=false leaves out the
// _test.go files, which the analyzer does not check anyway.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/gpumesh/gpumesh/tools/maprange"
)

func main() { singlechecker.Main(maprange.Analyzer) }
