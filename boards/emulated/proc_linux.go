//go:build linux

package emulated

import "syscall"

// procAttr puts the emulator in a process group of its own (Close signals
// the group) and has the kernel send it SIGKILL when its parent dies, so
// that a test process that ends without Close leaves no emulator running.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup signals the process group pgid; false when it is gone.
func signalGroup(pgid int, sig syscall.Signal) bool {
	return syscall.Kill(-pgid, sig) == nil
}
