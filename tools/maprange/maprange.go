// Package maprange defines an analyzer that rejects ranging over a Go map in
// state-machine code.
//
// Map iteration order is random. A loop over a map that writes to the store,
// charges gas, emits events or builds a result makes validators disagree:
// when a transaction runs out of gas inside such a loop, each validator
// records a different GasUsed, which is part of the block results hash, and
// the chain halts. The only loop over a map this analyzer accepts is the one
// that collects the keys into a local slice which the same function then
// sorts:
//
//	keys := make([]string, 0, len(m))
//	for k := range m {
//		keys = append(keys, k)
//	}
//	sort.Strings(keys) // or slices.Sort, sort.Slice, ...
//	for _, k := range keys {
//		... m[k] ...
//	}
//
// The check is deliberately strict and has no escape hatch: a loop body with
// anything but that single append (a call, an if, a store write, a second
// append) is reported, and so is a collecting loop whose slice is never
// sorted. Test files (_test.go) are not checked.
package maprange

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// Analyzer reports every range statement over a map (including a named map
// type, a type parameter whose constraint allows only maps, and the stdlib
// iterators maps.All, maps.Keys and maps.Values) outside test files, except
// the collect-the-keys-then-sort idiom described in the package comment.
var Analyzer = &analysis.Analyzer{
	Name: "maprange",
	Doc: `report range over a Go map in state-machine code

Map iteration order is random, so a loop over a map that does anything but
collect its keys makes validators diverge (in gas used, events or state).
Collect the keys into a local slice, sort it (sort.Strings, sort.Ints,
sort.Slice, sort.SliceStable, sort.Sort, sort.Stable, slices.Sort,
slices.SortFunc, slices.SortStableFunc) and range over the sorted slice.`,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
	Run:      run,
}

// sortFuncs are the functions that make a collected key slice deterministic,
// by package path and name. Each takes the slice (or, for sort.Sort and
// sort.Stable, a conversion of it to a sort.Interface) as first argument.
var sortFuncs = map[string]map[string]bool{
	"sort":   {"Strings": true, "Ints": true, "Slice": true, "SliceStable": true, "Sort": true, "Stable": true},
	"slices": {"Sort": true, "SortFunc": true, "SortStableFunc": true},
}

// mapIterators are the stdlib functions whose result iterates a map in its
// random order.
var mapIterators = map[string]bool{"All": true, "Keys": true, "Values": true}

func run(pass *analysis.Pass) (any, error) {
	insp := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for cur := range insp.Root().Preorder((*ast.RangeStmt)(nil)) {
		rs := cur.Node().(*ast.RangeStmt)
		if strings.HasSuffix(pass.Fset.File(rs.Pos()).Name(), "_test.go") {
			continue
		}
		if !rangesOverMap(pass.TypesInfo, rs.X) {
			continue
		}
		if collectsThenSorts(pass.TypesInfo, cur, rs) {
			continue
		}
		pass.ReportRangef(rs, "range over map %s in state-machine code: iteration order is random; "+
			"collect the keys, sort them, and range over the sorted slice (determinism rule, docs/development.md#lint)",
			types.ExprString(rs.X))
	}
	return nil, nil
}

// rangesOverMap reports whether ranging over x visits a map's entries in the
// map's random order.
func rangesOverMap(info *types.Info, x ast.Expr) bool {
	if t := info.TypeOf(x); t != nil && isMap(t) {
		return true
	}
	call, ok := ast.Unparen(x).(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := typeutil.StaticCallee(info, call)
	return fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == "maps" && mapIterators[fn.Name()]
}

// isMap reports whether t is a map type, a named type over one, or a type
// parameter whose constraint admits only map types.
func isMap(t types.Type) bool {
	t = types.Unalias(t)
	if tp, ok := t.(*types.TypeParam); ok {
		return constraintIsMap(tp.Constraint())
	}
	_, ok := t.Underlying().(*types.Map)
	return ok
}

// constraintIsMap reports whether the type set of the constraint holds only
// map types: some embedded element (a union of map terms, a single map type
// or an embedded constraint that is itself all maps) restricts it to maps.
func constraintIsMap(constraint types.Type) bool {
	iface, ok := constraint.Underlying().(*types.Interface)
	if !ok {
		return false
	}
	for i := range iface.NumEmbeddeds() {
		switch e := types.Unalias(iface.EmbeddedType(i)).(type) {
		case *types.Union:
			all := e.Len() > 0
			for j := range e.Len() {
				if _, ok := e.Term(j).Type().Underlying().(*types.Map); !ok {
					all = false
				}
			}
			if all {
				return true
			}
		default:
			if _, ok := e.Underlying().(*types.Interface); ok {
				if constraintIsMap(e) {
					return true
				}
			} else if isMap(e) {
				return true
			}
		}
	}
	return false
}

// collectsThenSorts reports whether rs is exactly
//
//	for k := range m { s = append(s, k) }
//
// with s a variable declared in the body of the enclosing function, and a
// call after the loop in that function passes s to one of sortFuncs.
func collectsThenSorts(info *types.Info, cur inspector.Cursor, rs *ast.RangeStmt) bool {
	if rs.Tok != token.DEFINE || rs.Value != nil && !isBlank(rs.Value) {
		return false
	}
	key, ok := rs.Key.(*ast.Ident)
	if !ok {
		return false
	}
	keyObj := info.Defs[key]
	if keyObj == nil || len(rs.Body.List) != 1 {
		return false
	}
	assign, ok := rs.Body.List[0].(*ast.AssignStmt)
	if !ok || assign.Tok != token.ASSIGN || len(assign.Lhs) != 1 || len(assign.Rhs) != 1 {
		return false
	}
	slice, ok := assign.Lhs[0].(*ast.Ident)
	if !ok {
		return false
	}
	sliceObj, ok := info.Uses[slice].(*types.Var)
	if !ok {
		return false
	}
	call, ok := assign.Rhs[0].(*ast.CallExpr)
	if !ok || call.Ellipsis.IsValid() || len(call.Args) != 2 {
		return false
	}
	if fun, ok := call.Fun.(*ast.Ident); !ok || info.Uses[fun] != types.Universe.Lookup("append") {
		return false
	}
	if !isIdentOf(info, call.Args[0], sliceObj) || !isIdentOf(info, call.Args[1], keyObj) {
		return false
	}

	fnCur, ok := enclosingFunc(cur)
	if !ok {
		return false
	}
	body := funcBody(fnCur.Node())
	if body == nil || sliceObj.Pos() < body.Pos() || sliceObj.Pos() >= body.End() {
		return false // not a local variable of this function
	}
	for c := range fnCur.Preorder((*ast.CallExpr)(nil)) {
		sortCall := c.Node().(*ast.CallExpr)
		if sortCall.Pos() < rs.End() || len(sortCall.Args) == 0 || !isSortFunc(info, sortCall) {
			continue
		}
		if isIdentOf(info, unconvert(info, sortCall.Args[0]), sliceObj) {
			return true
		}
	}
	return false
}

// enclosingFunc returns the innermost function declaration or literal
// around cur.
func enclosingFunc(cur inspector.Cursor) (inspector.Cursor, bool) {
	for c := range cur.Enclosing((*ast.FuncDecl)(nil), (*ast.FuncLit)(nil)) {
		return c, true
	}
	return inspector.Cursor{}, false
}

func funcBody(n ast.Node) *ast.BlockStmt {
	switch fn := n.(type) {
	case *ast.FuncDecl:
		return fn.Body
	case *ast.FuncLit:
		return fn.Body
	}
	return nil
}

func isSortFunc(info *types.Info, call *ast.CallExpr) bool {
	fn := typeutil.StaticCallee(info, call)
	if fn == nil || fn.Pkg() == nil || fn.Signature().Recv() != nil {
		return false
	}
	return sortFuncs[fn.Pkg().Path()][fn.Name()]
}

// unconvert strips parentheses and type conversions, so that
// sort.Sort(byName(keys)) yields keys.
func unconvert(info *types.Info, x ast.Expr) ast.Expr {
	for {
		x = ast.Unparen(x)
		call, ok := x.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 || !info.Types[call.Fun].IsType() {
			return x
		}
		x = call.Args[0]
	}
}

func isIdentOf(info *types.Info, x ast.Expr, obj types.Object) bool {
	id, ok := x.(*ast.Ident)
	return ok && info.Uses[id] == obj
}

func isBlank(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	return ok && id.Name == "_"
}
