// Package cgen holds what the firmware's vector generators share
// (boards/firmware/test/vectorgen writes test/vectors/generated.h,
// boards/firmware/test/agentvec writes test/agent/vectors.h): a C header
// under construction with the fixed-seed random source its inputs come
// from, C string literals of bytes in hex, and the command line of a
// generator.
//
// A generator builds its header and hands the writing to Main:
//
//	func generate(w io.Writer) error {
//		h := cgen.New(seed)
//		h.Printf("static const char key[] = %s;\n", cgen.HexLit(h.Random(32), "\t"))
//		_, err := h.WriteTo(w)
//		return err
//	}
//
//	func main() { cgen.Main("vectorgen", generate) }
//
// The same seed gives the same header on every run, so the checked-in
// output can be compared byte for byte with what the generator prints.
package cgen
