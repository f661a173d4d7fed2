package server_test

import (
	"net"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/server"
)

var _ = Describe("ListenTCP", func() {
	It("gives every accepted connection TCP keep-alive, set once on the listener", func() {
		ln, err := server.ListenTCP("127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		defer ln.Close()
		for range 3 {
			c, err := net.Dial("tcp", ln.Addr().String())
			Expect(err).NotTo(HaveOccurred())
			defer c.Close()
			a, err := ln.Accept()
			Expect(err).NotTo(HaveOccurred())
			defer a.Close()
			raw, err := a.(*net.TCPConn).SyscallConn()
			Expect(err).NotTo(HaveOccurred())
			var on, idle, count int
			var oerr error
			Expect(raw.Control(func(fd uintptr) {
				on, oerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
				if oerr == nil {
					idle, oerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE)
				}
				if oerr == nil {
					count, oerr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_KEEPCNT)
				}
			})).To(Succeed())
			Expect(oerr).NotTo(HaveOccurred())
			Expect([]int{on, idle, count}).To(Equal([]int{1, 15, 9}))
		}
	})
})
