//go:build !unix

package main

// restartWithStackStart is a no-op where the process cannot execute
// itself in place.
func restartWithStackStart() {}
