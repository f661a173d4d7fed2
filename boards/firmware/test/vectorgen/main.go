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

	var buf bytes.Buffer
	if err := generate(&buf); err != nil {
		fmt.Fprintf(os.Stderr, "vectorgen: %v\n", err)
		os.Exit(1)
	}
	if *out == "" {
		os.Stdout.Write(buf.Bytes())
		return
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "vectorgen: writing header: %v\n", err)
		os.Exit(1)
	}
}
