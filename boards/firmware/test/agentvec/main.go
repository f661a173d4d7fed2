package main

import (
	"io"

	"shakedown/boards/firmware/test/internal/cgen"
	"shakedown/boards/internal/modroot"
)

func main() {
	cgen.Main("agentvec", func(w io.Writer) error {
		root, err := modroot.Dir()
		if err != nil {
			return err
		}
		return generate(w, root)
	})
}
