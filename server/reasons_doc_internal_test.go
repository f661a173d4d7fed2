package server

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// docs/protocol.md's section "Reason codes" is the contract of every code a
// failure is counted and logged with. The specs below parse its tables, the
// one file that declares reason codes (handshake/reasons.go) and the Go
// sources of the module, and fail when the document and the code name
// different codes, or when a package other than handshake declares one.

// Paths relative to this package's directory, and the module's paths.
const (
	repoRoot     = ".."
	protocolDoc  = "../docs/protocol.md"
	reasonsTitle = "## Reason codes"
	modulePath   = "shakedown"
	reasonsFile  = "handshake/reasons.go"
)

// passwordRoots are the source trees that declare the password vocabularies.
var passwordRoots = []string{"server"}

// vocabularies name the tables of the section by the first cell of their
// header row.
var vocabularies = map[string]string{
	"handshake reason": "handshake",
	"admission reason": "admission",
	"transport reason": "transport",
	"MQTT reason":      "mqtt",
	"device reason":    "device",
	"board reason":     "board",
	"password result":  "password",
	"password scheme":  "scheme",
}

// Types whose constants are codes, by package directory and type name.
const (
	reasonType = "handshake.Reason"
	resultType = "server.passwordResult"
	schemeType = "server/credential.Scheme"
)

// What the comment of a const block of reasonsFile says of its table: the
// table that lists the block, and the codes of other blocks the table also
// lists.
var (
	blockTable = regexp.MustCompile(`lists\s+them\s+in\s+the\s+table\s+"([^"]+)"`)
	alsoLists  = regexp.MustCompile(`The\s+table\s+also\s+lists\s+([^.]*)\.`)
	reasonName = regexp.MustCompile(`\bReason[A-Za-z]+\b`)
)

// codes holds code sets by vocabulary.
type codes map[string]map[string]bool

func (c codes) add(vocab, code string) {
	if c[vocab] == nil {
		c[vocab] = map[string]bool{}
	}
	c[vocab][code] = true
}

// constant is one package-level constant of the scanned sources.
type constant struct {
	dir, name string
	file      string // relative to the module root, slash-separated
	typ       string // "dir.Type", or "" when untyped
	value     string // the string value, once known
	known     bool
	ref       string   // "dir.Name" of the constant it equals, if any
	vocab     string   // reasonsFile: the vocabulary of its block's table
	also      []string // reasonsFile: names of other codes that table lists
}

// source is what a scan of the module's Go sources found.
type source struct {
	consts      map[string]*constant // by "dir.Name"
	conversions []string             // string literals converted to a Reason outside reasonsFile
}

// declaredCodes returns the codes declared in the module under root: the
// reasons of reasonsFile, by the table of their block, and the password
// results and schemes of passwordRoots. A reason declared in any other file
// is an error.
func declaredCodes(root string) (codes, error) {
	src, err := scanSources(root)
	if err != nil {
		return nil, err
	}
	if len(src.conversions) > 0 {
		return nil, fmt.Errorf("string literals made reasons outside %s: %s", reasonsFile, strings.Join(src.conversions, ", "))
	}
	out := codes{}
	for _, c := range src.consts {
		vocab, err := vocabularyOf(c)
		if err != nil {
			return nil, err
		}
		if vocab == "" || (c.typ == reasonType && c.value == "") {
			continue // not a code; ReasonNone is no failure
		}
		if !c.known {
			return nil, fmt.Errorf("%s.%s: a code whose value the scan cannot tell", c.dir, c.name)
		}
		out.add(vocab, c.value)
		for _, name := range c.also {
			t, ok := src.consts["handshake."+name]
			if !ok || !t.known {
				return nil, fmt.Errorf("%s: the table of %s also lists %s, which it does not declare", reasonsFile, c.name, name)
			}
			out.add(vocab, t.value)
		}
	}
	return out, nil
}

// vocabularyOf says which table lists a code: "" when c is no code.
func vocabularyOf(c *constant) (string, error) {
	switch {
	case c.typ == resultType && underAny(c.dir, passwordRoots):
		return "password", nil
	case c.typ == schemeType && underAny(c.dir, passwordRoots):
		return "scheme", nil
	case c.typ != reasonType:
		return "", nil
	case c.file != reasonsFile:
		return "", fmt.Errorf("%s declares the reason code %s: declare it in %s", c.file, c.name, reasonsFile)
	case c.vocab == "" && c.value != "":
		return "", fmt.Errorf("%s: the block of %s names no table of docs/protocol.md (`lists them in the table \"...\"`)", reasonsFile, c.name)
	}
	return c.vocab, nil
}

func underAny(dir string, roots []string) bool {
	for _, r := range roots {
		if dir == r || strings.HasPrefix(dir, r+"/") {
			return true
		}
	}
	return false
}

// scanSources reads the package-level constants of every non-test Go file
// under root, and the string literals converted to a Reason, and resolves
// the constants that equal another.
func scanSources(root string) (source, error) {
	src := source{consts: map[string]*constant{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		return scanFile(p, filepath.ToSlash(rel), &src)
	})
	if err != nil {
		return src, err
	}
	// Resolve constants that equal another, until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, c := range src.consts {
			if c.known || c.ref == "" {
				continue
			}
			if t, ok := src.consts[c.ref]; ok && t.known {
				c.value, c.known, changed = t.value, true, true
				if c.typ == "" {
					c.typ = t.typ
				}
			}
		}
	}
	return src, nil
}

// scanFile records the package-level constants of one Go file, and its
// conversions of string literals to a Reason.
func scanFile(file, rel string, src *source) error {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	dir := path.Dir(rel)
	qualify := qualifier(f, dir)
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		vocab, also, err := blockOf(gd, rel)
		if err != nil {
			return err
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i >= len(vs.Values) {
					continue // iota and friends: no string codes
				}
				c := &constant{dir: dir, name: n.Name, file: rel, vocab: vocab, also: also}
				if vs.Type != nil {
					c.typ = qualify(vs.Type)
				}
				switch v := vs.Values[i].(type) {
				case *ast.BasicLit:
					if v.Kind == token.STRING {
						c.value, _ = strconv.Unquote(v.Value)
						c.known = true
					}
				case *ast.Ident, *ast.SelectorExpr:
					c.ref = qualify(v)
				}
				src.consts[dir+"."+n.Name] = c
			}
		}
	}
	if rel != reasonsFile {
		src.conversions = append(src.conversions, literalReasons(f, rel, qualify)...)
	}
	return nil
}

// blockOf reads the table of a const block of reasonsFile from its comment.
func blockOf(gd *ast.GenDecl, rel string) (vocab string, also []string, err error) {
	if rel != reasonsFile || gd.Doc == nil {
		return "", nil, nil
	}
	text := gd.Doc.Text()
	m := blockTable.FindStringSubmatch(text)
	if m == nil {
		return "", nil, nil
	}
	vocab, ok := vocabularies[m[1]]
	if !ok {
		return "", nil, fmt.Errorf("%s: a block listed in the table %q, which docs/protocol.md does not have", rel, m[1])
	}
	if a := alsoLists.FindStringSubmatch(text); a != nil {
		also = reasonName.FindAllString(a[1], -1)
	}
	return vocab, also, nil
}

// qualifier names an identifier or a selector of file f of dir: "dir.Name".
func qualifier(f *ast.File, dir string) func(ast.Expr) string {
	imports := map[string]string{} // local name -> directory
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		d, ok := strings.CutPrefix(p, modulePath+"/")
		if !ok {
			continue
		}
		name := path.Base(d)
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[name] = d
	}
	return func(e ast.Expr) string {
		switch t := e.(type) {
		case *ast.Ident:
			return dir + "." + t.Name
		case *ast.SelectorExpr:
			if x, ok := t.X.(*ast.Ident); ok && imports[x.Name] != "" {
				return imports[x.Name] + "." + t.Sel.Name
			}
		}
		return ""
	}
}

// literalReasons lists the conversions of a non-empty string literal to a
// Reason in f: a reason written outside the vocabulary.
func literalReasons(f *ast.File, rel string, qualify func(ast.Expr) string) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 1 || qualify(call.Fun) != reasonType {
			return true
		}
		if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING && lit.Value != `""` {
			out = append(out, rel+": "+lit.Value)
		}
		return true
	})
	return out
}

// metricName is the form of the server's metric names.
var metricName = regexp.MustCompile(`^shakedown_[a-z_]+$`)

// serverMetrics returns the metric names written as string literals in the
// non-test Go sources under root/server.
func serverMetrics(root string) (map[string]bool, error) {
	out := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(root, "server"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && metricName.MatchString(s) {
					out[s] = true
				}
			}
			return true
		})
		return nil
	})
	return out, err
}

// reasonSection is what the document's section "Reason codes" lists.
type reasonSection struct {
	codes   codes
	metrics map[string]bool // every shakedown_ name the section mentions
	rows    []string        // every code row, for the check of its cells
}

var (
	backticked = regexp.MustCompile("^`([a-z0-9_-]+)`$")
	metricRef  = regexp.MustCompile("shakedown_[a-z_]+")
)

// documentedCodes parses the tables of the section "Reason codes" of a
// Markdown document: each table's header names its vocabulary, and each row
// starts with one code in backquotes.
func documentedCodes(doc []byte) (reasonSection, error) {
	sec := reasonSection{codes: codes{}, metrics: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(doc))
	in, found := false, false
	vocab := ""      // the table being read; "" between tables
	inTable := false // the previous line was a table row
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			in = line == reasonsTitle
			found = found || in
			inTable = false
			continue
		}
		if !in {
			continue
		}
		for _, m := range metricRef.FindAllString(line, -1) {
			sec.metrics[m] = true
		}
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		switch {
		case !inTable: // a header row
			v, ok := vocabularies[cells[0]]
			if !ok {
				return sec, fmt.Errorf("line %d: a table headed %q: want one of the vocabularies", n, cells[0])
			}
			vocab, inTable = v, true
		case strings.HasPrefix(cells[0], "---"):
		default:
			m := backticked.FindStringSubmatch(cells[0])
			if m == nil {
				return sec, fmt.Errorf("line %d: a row of the %s table that does not start with one code in backquotes", n, vocab)
			}
			if sec.codes[vocab][m[1]] {
				return sec, fmt.Errorf("line %d: %s code %s listed twice", n, vocab, m[1])
			}
			sec.codes.add(vocab, m[1])
			sec.rows = append(sec.rows, line)
		}
	}
	if !found {
		return sec, fmt.Errorf("no section %q", reasonsTitle)
	}
	return sec, sc.Err()
}

// drift lists what one code set has and the other lacks.
func drift(declared, documented codes, vocabs []string) []string {
	var out []string
	for _, v := range vocabs {
		for c := range declared[v] {
			if !documented[v][c] {
				out = append(out, fmt.Sprintf("%s code %q is declared in code, missing from docs/protocol.md", v, c))
			}
		}
		for c := range documented[v] {
			if !declared[v][c] {
				out = append(out, fmt.Sprintf("%s code %q is listed in docs/protocol.md, declared nowhere in code", v, c))
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkedVocabularies are those whose codes the scan of the sources finds.
var checkedVocabularies = []string{"handshake", "admission", "mqtt", "device", "board", "password", "scheme"}

var _ = Describe("docs/protocol.md, section Reason codes", func() {
	var (
		sec      reasonSection
		declared codes
	)
	BeforeEach(func() {
		raw, err := os.ReadFile(protocolDoc)
		Expect(err).NotTo(HaveOccurred())
		sec, err = documentedCodes(raw)
		Expect(err).NotTo(HaveOccurred())
		declared, err = declaredCodes(repoRoot)
		Expect(err).NotTo(HaveOccurred())
	})

	It("lists every code the sources declare, in its vocabulary's table, and no other", func() {
		Expect(declared["handshake"]).To(HaveKey("counter_reserved"), "the scan finds the handshake's reasons")
		Expect(declared["mqtt"]).To(HaveKey("malformed"), "the scan reads what a table also lists")
		Expect(declared["board"]).To(HaveKey("board_busy"), "the scan finds the board's reasons")
		Expect(declared["device"]).To(HaveKey("connack_refused"), "the scan finds the devices' reasons")
		Expect(drift(declared, sec.codes, checkedVocabularies)).To(BeEmpty())
	})

	It("lists the reasons a failed record ends a session with, all of them handshake reasons", func() {
		for r := range recordReasons {
			Expect(sec.codes["transport"]).To(HaveKey(string(r)))
		}
		for c := range sec.codes["transport"] {
			Expect(declared["handshake"]).To(HaveKey(c))
		}
	})

	It("names only metrics the server registers, and says for each code where it is counted", func() {
		registered, err := serverMetrics(repoRoot)
		Expect(err).NotTo(HaveOccurred())
		Expect(registered).To(HaveKey("shakedown_handshakes_total"), "the scan finds the metric names")
		for m := range sec.metrics {
			Expect(registered).To(HaveKey(m))
		}
		for _, row := range sec.rows {
			cells := strings.Split(strings.Trim(row, "|"), "|")
			Expect(cells).To(HaveLen(4), row)
			Expect(strings.TrimSpace(cells[3])).NotTo(BeEmpty(), row)
		}
	})

	It("finds a code missing on either side", func() {
		doc := []byte("# t\n\n## Reason codes\n\n| handshake reason | stage | failure | counted in |\n| --- | --- | --- | --- |\n" +
			"| `io` | any | closed | `shakedown_handshakes_total` |\n| `gone` | any | none | nowhere |\n\n## After\n\n| `later` | not | read | here |\n")
		s, err := documentedCodes(doc)
		Expect(err).NotTo(HaveOccurred())
		Expect(s.codes).To(Equal(codes{"handshake": {"io": true, "gone": true}}))
		Expect(drift(codes{"handshake": {"io": true, "timeout": true}}, s.codes, []string{"handshake"})).To(Equal([]string{
			`handshake code "gone" is listed in docs/protocol.md, declared nowhere in code`,
			`handshake code "timeout" is declared in code, missing from docs/protocol.md`,
		}))

		_, err = documentedCodes([]byte("## Reason codes\n\n| some reason | x |\n| --- | --- |\n"))
		Expect(err).To(MatchError(ContainSubstring(`a table headed "some reason"`)))
		_, err = documentedCodes([]byte("## Reasons\n"))
		Expect(err).To(MatchError(ContainSubstring("no section")))
	})

	It("finds the codes of a source tree by the tables of reasons.go, and refuses a reason declared elsewhere", func() {
		root := GinkgoT().TempDir()
		write := func(rel, src string) {
			p := filepath.Join(root, filepath.FromSlash(rel))
			Expect(os.MkdirAll(filepath.Dir(p), 0o755)).To(Succeed())
			Expect(os.WriteFile(p, []byte(src), 0o644)).To(Succeed())
		}
		write("handshake/reasons.go", "package handshake\ntype Reason string\ntype Name string\n"+
			"const ReasonNone Reason = \"\"\n"+
			"// Handshake.\n//\n// docs/protocol.md lists them in the table \"handshake reason\".\n"+
			"const (\n\tReasonA Reason = \"a\"\n\tReasonB Reason = \"b\"\n\tother = \"not a code\"\n)\n"+
			"// MQTT. docs/protocol.md lists them in the\n// table \"MQTT reason\". The table also\n// lists ReasonA (as a packet).\n"+
			"const ReasonC Reason = \"c\"\nconst N Name = \"n\"\n")
		write("handshake/reasons_test.go", "package handshake\nconst ReasonT Reason = \"only in a test\"\n")
		write("server/passwords.go", "package server\nimport \"shakedown/handshake\"\n"+
			"type passwordResult string\nconst resultOK passwordResult = \"ok\"\nvar r = handshake.ReasonA\n")
		write("server/broker/uses.go", "package broker\nimport hs \"shakedown/handshake\"\nvar mine = hs.ReasonC\nconst Label = hs.N\n")
		Expect(declaredCodes(root)).To(Equal(codes{
			"handshake": {"a": true, "b": true},
			"mqtt":      {"a": true, "c": true},
			"password":  {"ok": true},
		}))

		write("server/lograte/x.go", "package lograte\nimport \"shakedown/handshake\"\nconst R handshake.Reason = \"r\"\n")
		_, err := declaredCodes(root)
		Expect(err).To(MatchError(ContainSubstring("server/lograte/x.go declares the reason code R")))
		write("server/lograte/x.go", "package lograte\nimport \"shakedown/handshake\"\nconst ReasonA = handshake.ReasonA\n")
		_, err = declaredCodes(root)
		Expect(err).To(MatchError(ContainSubstring("server/lograte/x.go declares the reason code ReasonA")), "an alias is a second declaration")

		Expect(os.Remove(filepath.Join(root, "server/lograte/x.go"))).To(Succeed())
		write("simulator/x.go", "package simulator\nimport h \"shakedown/handshake\"\nfunc f() h.Reason { return h.Reason(\"oops\") }\n")
		_, err = declaredCodes(root)
		Expect(err).To(MatchError(ContainSubstring(`simulator/x.go: "oops"`)))
	})
})
