package server_test

import (
	"net"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
	"shakedown/server"
)

var _ = Describe("the default configuration", func() {
	It("listens on loopback only, and leaves the insecure profiles off", func() {
		cfg := server.DefaultConfig()
		for _, p := range handshake.Profiles {
			addr := cfg.Listen[p]
			if p.Insecure() {
				Expect(addr).To(BeEmpty(), "%s starts only when given an address", p)
				continue
			}
			Expect(addr).NotTo(BeEmpty(), p)
			host, _, err := net.SplitHostPort(addr)
			Expect(err).NotTo(HaveOccurred())
			Expect(net.ParseIP(host).IsLoopback()).To(BeTrue(), "%s listens on %s", p, addr)
		}
		for _, addr := range []string{cfg.Backend, cfg.Metrics} {
			host, _, err := net.SplitHostPort(addr)
			Expect(err).NotTo(HaveOccurred())
			Expect(net.ParseIP(host).IsLoopback()).To(BeTrue(), addr)
		}
	})

	It("turns the per-source rate limit on", func() {
		l := server.DefaultConfig().Limits()
		Expect(l).To(Equal(server.DefaultLimits))
		Expect(l.PerSourceRate).To(BeNumerically(">", 0))
		Expect(l.PerSourceBurst).To(BeNumerically("<", l.MaxHalfOpen), "one source's burst cannot fill the table")
		Expect(server.DefaultConfig().ConnectTimeout).To(BeNumerically(">", 0))
	})

	DescribeTable("refuses limits that make no sense",
		func(yaml, want string) {
			path := filepath.Join(GinkgoT().TempDir(), "serve.yaml")
			Expect(os.WriteFile(path, []byte("listen: {tls: \"\"}\nbackend: \"\"\n"+yaml), 0o644)).To(Succeed())
			_, err := server.LoadConfig(path)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a negative rate", "per_source_rate: -5\n", "per_source_rate"),
		Entry("a rate without a burst", "per_source_rate: 10\nper_source_burst: 0\n", "per_source_burst"),
		Entry("no connect timeout", "connect_timeout: 0s\n", "connect_timeout"),
	)

	It("accepts the limits turned off", func() {
		path := filepath.Join(GinkgoT().TempDir(), "serve.yaml")
		Expect(os.WriteFile(path, []byte("listen: {tls: \"\"}\nbackend: \"\"\nper_source_rate: 0\n"), 0o644)).To(Succeed())
		cfg, err := server.LoadConfig(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.Limits().PerSourceRate).To(BeZero())
		Expect(cfg.Listen[handshake.Noise]).To(Equal("127.0.0.1:8885"), "a file that does not name a listener keeps its default")
	})
})
