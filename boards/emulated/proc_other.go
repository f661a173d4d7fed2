//go:build !linux

package emulated

import (
	"os"
	"syscall"
)

// procAttr: outside Linux there is no parent-death signal; Close is the
// only way the emulator stops.
func procAttr() *syscall.SysProcAttr { return nil }

// signalGroup kills the emulator process itself.
func signalGroup(pid int, _ syscall.Signal) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Kill() == nil
}
