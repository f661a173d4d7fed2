package suites_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEverySpecTakesItsContext: every It of the suites takes a
// SpecContext. ginkgo waits, after a Ctrl-C, for a spec that takes one to
// return (it is given the run's cancelled context and returns at once);
// a spec that takes none is left running while ginkgo cleans up, and its
// next DeferCleanup or AddReportEntry makes ginkgo end the process with
// exit 1: `shakedown test` interrupted then exits 1 with no summary,
// instead of 3 with the results so far.
func TestEverySpecTakesItsContext(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fs := token.NewFileSet()
	specs := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fs, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "It" || len(call.Args) == 0 {
				return true
			}
			specs++
			body, ok := call.Args[len(call.Args)-1].(*ast.FuncLit)
			if !ok || body.Type.Params.NumFields() != 1 {
				t.Errorf("%s: an It whose body takes no SpecContext", fs.Position(call.Pos()))
			}
			return true
		})
	}
	if specs == 0 {
		t.Fatal("found no It in the suites")
	}
}
