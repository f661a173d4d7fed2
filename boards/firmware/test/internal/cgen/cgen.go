package cgen

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
)

// hexPerLine is how many hex digits (32 bytes) one piece of a HexLit holds.
const hexPerLine = 64

// Header collects the C text of a generated header, with the fixed-seed
// random source its inputs are drawn from.
type Header struct {
	b   strings.Builder
	rng *rand.Rand
}

// New returns an empty header whose Random draws from ChaCha8 keyed with
// seed.
func New(seed [32]byte) *Header {
	return &Header{rng: rand.New(rand.NewChaCha8(seed))}
}

// Printf appends formatted text to the header.
func (h *Header) Printf(format string, args ...any) { fmt.Fprintf(&h.b, format, args...) }

// Random returns the next n bytes of the header's random source.
func (h *Header) Random(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(h.rng.Uint32())
	}
	return b
}

// WriteTo writes the text collected so far to w.
func (h *Header) WriteTo(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, h.b.String())
	return int64(n), err
}

// HexLit returns a C string literal of b in hex, cut every 32 bytes into
// adjacent literals on lines of their own, each after a newline and
// indent, so that lines stay short. An empty b is "".
func HexLit(b []byte, indent string) string {
	if len(b) == 0 {
		return `""`
	}
	s := hex.EncodeToString(b)
	var parts []string
	for len(s) > hexPerLine {
		parts = append(parts, `"`+s[:hexPerLine]+`"`)
		s = s[hexPerLine:]
	}
	parts = append(parts, `"`+s+`"`)
	return strings.Join(parts, "\n"+indent)
}

// Main runs a generator as the command name: it writes what generate
// prints to the file given with -o, or to standard output, and exits with
// Run's status.
func Main(name string, generate func(io.Writer) error) {
	os.Exit(Run(name, os.Args[1:], os.Stdout, os.Stderr, generate))
}

// Run is Main without the exit: it returns 0 when the header is written,
// 1 when generating or writing it failed, 2 on a usage error. Nothing is
// written when generate fails.
func Run(name string, args []string, stdout, stderr io.Writer, generate func(io.Writer) error) int {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the header to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		return 2
	}
	var buf bytes.Buffer
	if err := generate(&buf); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	var err error
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(*out, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: writing the header: %v\n", name, err)
		return 1
	}
	return 0
}
