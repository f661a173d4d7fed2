// Package modroot finds the root of the module (the folder of go.mod) from
// the working directory, for code that reads the module's own files at run
// time: boards/emulated looks for the firmware's images under it, and
// boards/firmware/test/agentvec reads the vectors the Go side checks in.
//
//	root, err := modroot.Dir()
package modroot
