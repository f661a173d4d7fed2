package arch

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

const module = "shakedown"

// root is the module's root: the folder above this package's that holds go.mod.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("arch: finding the module root: %v", err)
	}
	return dir
}

// rule is one row of the import-rules table: a room (a package path and
// the packages below it) and the rooms its non-test code may import.
type rule struct {
	room    string
	mayUse  []string
	line    int
	anyRoom bool // "everything": may import any room
}

var (
	ruleHeading = regexp.MustCompile(`^#+\s+Rooms and what each may import`)
	codeSpan    = regexp.MustCompile("`([^`]+)`")
)

// readRules parses the table under the heading "Rooms and what each may
// import" in docs/architecture.md: | `room` | … | `a`, `b` | where the last
// column names the rooms it may import, or says "everything" or "nothing".
func readRules(t *testing.T, path string) []rule {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("arch: reading the rules: %v", err)
	}
	var rules []rule
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case ruleHeading.MatchString(line):
			in = true
		case in && strings.HasPrefix(line, "#"):
			in = false
		case in && strings.HasPrefix(line, "|"):
			cells := strings.Split(strings.Trim(line, "|"), "|")
			first := codeSpan.FindStringSubmatch(cells[0])
			if first == nil || len(cells) < 2 {
				continue // header or separator row
			}
			last := cells[len(cells)-1]
			r := rule{room: first[1], line: n, anyRoom: strings.Contains(last, "everything")}
			for _, m := range codeSpan.FindAllStringSubmatch(last, -1) {
				r.mayUse = append(r.mayUse, m[1])
			}
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		t.Fatalf("arch: %s has no table under %q", path, "Rooms and what each may import")
	}
	return rules
}

// within reports whether package path p is room or below it.
func within(p, room string) bool { return p == room || strings.HasPrefix(p, room+"/") }

// roomOf returns the most specific rule whose room holds p.
func roomOf(rules []rule, p string) *rule {
	var best *rule
	for i := range rules {
		if within(p, rules[i].room) && (best == nil || len(rules[i].room) > len(best.room)) {
			best = &rules[i]
		}
	}
	return best
}

// imports lists each package's non-test imports within the module,
// relative to the module path.
func imports(t *testing.T, dir string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("arch: go list: %v", err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		deps[pkg] = nil
		for _, imp := range f[1:] {
			if within(imp, module) {
				deps[pkg] = append(deps[pkg], strings.TrimPrefix(imp, module+"/"))
			}
		}
	}
	return deps
}

func TestImportsFollowTheRules(t *testing.T) {
	dir := root(t)
	rules := readRules(t, filepath.Join(dir, "docs", "architecture.md"))
	var problems []string
	for pkg, deps := range imports(t, dir) {
		r := roomOf(rules, pkg)
		if r == nil {
			problems = append(problems, fmt.Sprintf("%s is in no room of the table: add a row", pkg))
			continue
		}
		for _, d := range deps {
			if r.anyRoom || within(d, r.room) {
				continue
			}
			ok := false
			for _, m := range r.mayUse {
				ok = ok || within(d, m)
			}
			if !ok {
				problems = append(problems, fmt.Sprintf("%s imports %s, which room %s may not (docs/architecture.md line %d)", pkg, d, r.room, r.line))
			}
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}

func TestRulesNameRealRooms(t *testing.T) {
	dir := root(t)
	deps := imports(t, dir)
	for _, r := range readRules(t, filepath.Join(dir, "docs", "architecture.md")) {
		for _, room := range append([]string{r.room}, r.mayUse...) {
			found := false
			for pkg := range deps {
				found = found || within(pkg, room)
			}
			if !found {
				t.Errorf("docs/architecture.md line %d names %s, which holds no package", r.line, room)
			}
		}
	}
}

func TestNoLongFunctions(t *testing.T) {
	dir := root(t)
	fs := token.NewFileSet()
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && (strings.HasPrefix(name, ".") || name == "testdata" || name == "out" || name == "build" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fs, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			what := "a function literal"
			switch fn := n.(type) {
			case *ast.FuncDecl:
				body, what = fn.Body, fn.Name.Name
			case *ast.FuncLit:
				body = fn.Body
			}
			if body == nil {
				return true
			}
			lines := fs.Position(body.Rbrace).Line - fs.Position(n.Pos()).Line + 1
			key := rel + ":" + what
			if _, allowed := LongFunctions[key]; allowed {
				seen[key] = lines > MaxFunctionLines
				return true
			}
			if lines > MaxFunctionLines {
				t.Errorf("%s:%d: %s runs %d lines (at most %d; split it, or name it in long.go if it reads like a specification)",
					rel, fs.Position(n.Pos()).Line, what, lines, MaxFunctionLines)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range LongFunctions {
		if !seen[key] {
			t.Errorf("long.go names %s, which does not exist or is no longer over %d lines: remove it", key, MaxFunctionLines)
		}
	}
}

// TestSuitesOnlyFromTheTestCommand: the one binary links the suites for
// `shakedown test` alone (docs/architecture.md, "Where the test framework
// lives"); no other file of the command layer may reach into them.
func TestSuitesOnlyFromTheTestCommand(t *testing.T) {
	dir := root(t)
	files, err := filepath.Glob(filepath.Join(dir, "cmd", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fs := token.NewFileSet()
	for _, p := range files {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fs, p, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if within(path, module+"/suites") && filepath.ToSlash(rel) != "cmd/shakedown/test.go" {
				t.Errorf("%s imports %s: only cmd/shakedown/test.go may", filepath.ToSlash(rel), path)
			}
		}
	}
}
