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
// failure is counted and logged with. The specs below parse its tables and
// the Go sources of handshake/ and server/, and fail when one names a code
// the other lacks, so that neither can drift from the other.

// Paths relative to this package's directory.
const (
	repoRoot     = ".."
	protocolDoc  = "../docs/protocol.md"
	reasonsTitle = "## Reason codes"
	modulePath   = "shakedown"
)

// codeRoots are the source trees whose codes the document lists.
var codeRoots = []string{"handshake", "server"}

// vocabularies name the tables of the section by the first cell of their
// header row.
var vocabularies = map[string]string{
	"handshake reason": "handshake",
	"admission reason": "admission",
	"transport reason": "transport",
	"MQTT reason":      "mqtt",
	"password result":  "password",
	"password scheme":  "scheme",
}

// Types whose constants are codes, by package directory and type name.
const (
	reasonType = "handshake.Reason"
	resultType = "server.passwordResult"
	schemeType = "server/credential.Scheme"
)

// codes holds code sets by vocabulary.
type codes map[string]map[string]bool

func (c codes) add(vocab, code string) {
	if c[vocab] == nil {
		c[vocab] = map[string]bool{}
	}
	c[vocab][code] = true
}

// vocabularyOf says which table lists a code of type typ declared in dir.
func vocabularyOf(dir, typ string) (string, error) {
	switch {
	case typ == resultType:
		return "password", nil
	case typ == schemeType:
		return "scheme", nil
	case typ != reasonType:
		return "", nil
	case dir == "handshake" || strings.HasPrefix(dir, "handshake/"):
		return "handshake", nil
	case dir == "server":
		return "admission", nil
	case dir == "server/broker" || dir == "server/bridge":
		return "mqtt", nil
	}
	return "", fmt.Errorf("%s declares reason codes: say in which table of docs/protocol.md they belong (vocabularyOf)", dir)
}

// constant is one package-level constant of the scanned sources.
type constant struct {
	dir, name string
	typ       string // "dir.Type", or "" when untyped
	value     string // the string value, once known
	known     bool
	ref       string // "dir.Name" of the constant it equals, if any
}

// declaredCodes returns the codes declared under root's codeRoots: every
// string constant whose type, or the type of the constant it equals, is a
// code type.
func declaredCodes(root string) (codes, error) {
	consts := map[string]*constant{}
	for _, r := range codeRoots {
		err := filepath.WalkDir(filepath.Join(root, r), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			rel, err := filepath.Rel(root, filepath.Dir(p))
			if err != nil {
				return err
			}
			return scanConstants(p, filepath.ToSlash(rel), consts)
		})
		if err != nil {
			return nil, err
		}
	}
	// Resolve constants that equal another, until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, c := range consts {
			if c.known || c.ref == "" {
				continue
			}
			if t, ok := consts[c.ref]; ok && t.known {
				c.value, c.known, changed = t.value, true, true
				if c.typ == "" {
					c.typ = t.typ
				}
			}
		}
	}
	out := codes{}
	for _, c := range consts {
		vocab, err := vocabularyOf(c.dir, c.typ)
		if err != nil {
			return nil, err
		}
		if vocab == "" {
			continue
		}
		if !c.known {
			return nil, fmt.Errorf("%s.%s: a code whose value the scan cannot tell", c.dir, c.name)
		}
		out.add(vocab, c.value)
	}
	return out, nil
}

// scanConstants records the package-level constants of one Go file of dir.
func scanConstants(file, dir string, consts map[string]*constant) error {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return err
	}
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
	// qualify names an identifier or a selector of this file: "dir.Name".
	qualify := func(e ast.Expr) string {
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
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i >= len(vs.Values) {
					continue // iota and friends: no string codes
				}
				c := &constant{dir: dir, name: n.Name}
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
				consts[dir+"."+n.Name] = c
			}
		}
	}
	return nil
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
var checkedVocabularies = []string{"handshake", "admission", "mqtt", "password", "scheme"}

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
		Expect(declared["mqtt"]).To(HaveKey("malformed"), "the scan follows constants that equal another")
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

	It("finds the codes of a source tree, constants that equal another included", func() {
		root := GinkgoT().TempDir()
		write := func(rel, src string) {
			p := filepath.Join(root, filepath.FromSlash(rel))
			Expect(os.MkdirAll(filepath.Dir(p), 0o755)).To(Succeed())
			Expect(os.WriteFile(p, []byte(src), 0o644)).To(Succeed())
		}
		write("handshake/errors.go", "package handshake\ntype Reason string\ntype Name string\n"+
			"const (\n\tReasonA Reason = \"a\"\n\tReasonB Reason = \"b\"\n\tother = \"not a code\"\n)\nconst N Name = \"n\"\n")
		write("handshake/errors_test.go", "package handshake\nconst ReasonT Reason = \"only in a test\"\n")
		write("server/admission.go", "package server\nimport \"shakedown/handshake\"\nconst ReasonC handshake.Reason = \"c\"\n"+
			"type passwordResult string\nconst resultOK passwordResult = \"ok\"\n")
		write("server/broker/reasons.go", "package broker\nimport hs \"shakedown/handshake\"\nconst (\n\tReasonA = hs.ReasonA\n\tLabel = hs.N\n)\n")
		write("server/bridge/reasons.go", "package bridge\nimport \"shakedown/server/broker\"\nconst ReasonA = broker.ReasonA\n")
		Expect(declaredCodes(root)).To(Equal(codes{
			"handshake": {"a": true, "b": true},
			"admission": {"c": true},
			"mqtt":      {"a": true},
			"password":  {"ok": true},
		}))

		write("server/lograte/x.go", "package lograte\nimport \"shakedown/handshake\"\nconst R handshake.Reason = \"r\"\n")
		_, err := declaredCodes(root)
		Expect(err).To(MatchError(ContainSubstring("server/lograte declares reason codes")))
	})
})
