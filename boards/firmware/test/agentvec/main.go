package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "", "write the header to this file instead of standard output")
	flag.Parse()
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "agentvec: %v\n", err)
		os.Exit(1)
	}
	var buf bytes.Buffer
	if err := generate(&buf, root); err != nil {
		fmt.Fprintf(os.Stderr, "agentvec: %v\n", err)
		os.Exit(1)
	}
	if *out == "" {
		os.Stdout.Write(buf.Bytes())
		return
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "agentvec: writing the header: %v\n", err)
		os.Exit(1)
	}
}
