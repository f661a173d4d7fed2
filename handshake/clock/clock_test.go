package clock_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/json"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake/clock"
)

// vector is one response object of draft-ietf-ntp-roughtime-19, Appendix
// B (an example malfeasance report of three real servers' answers).
type vector struct {
	PublicKey, Rand, Request, Response []byte
}

func appendixB() []vector {
	raw, err := os.ReadFile("testdata/draft-19-appendix-b.txt")
	Expect(err).NotTo(HaveOccurred())
	// The draft wraps the base64 strings over lines; no value holds a space.
	var report struct{ Responses []vector }
	Expect(json.Unmarshal([]byte(strings.Join(strings.Fields(string(raw)), "")), &report)).To(Succeed())
	Expect(report.Responses).To(HaveLen(3))
	return report.Responses
}

// nonceOf returns the NONC value of a request packet: the draft's requests
// (VER, SRV, NONC, TYPE, ZZZZ) put it after the packet header (12 bytes),
// the message header (4 + 4·4 offsets + 5·4 tags) and VER and SRV (36).
func nonceOf(req []byte) []byte {
	const at = 12 + 40 + 36
	return req[at : at+32]
}

var _ = Describe("Roughtime (draft-ietf-ntp-roughtime-19)", func() {
	Describe("the draft's Appendix B responses", func() {
		It("verifies every response under its server's key, with the request's nonce in its Merkle tree", func() {
			for i, v := range appendixB() {
				mid, radius, err := clock.VerifyResponse(v.Request, v.Response, v.PublicKey)
				Expect(err).NotTo(HaveOccurred(), "response %d", i)
				Expect(mid.Year()).To(Equal(2026), "response %d", i)
				Expect(radius).To(Equal(3*time.Second), "response %d", i)
			}
		})

		It("chains the nonces: each request's nonce is H(previous response || rand) (§8.2)", func() {
			vs := appendixB()
			for i := 1; i < len(vs); i++ {
				h := sha512.Sum512(append(append([]byte(nil), vs[i-1].Response...), vs[i].Rand...))
				Expect(nonceOf(vs[i].Request)).To(Equal(h[:32]), "request %d", i)
			}
		})

		It("shows the malfeasance the report proves: a pair out of causal order (§8.2)", func() {
			vs := appendixB()
			type reading struct{ lo, hi time.Time }
			var rs []reading
			for _, v := range vs {
				mid, radius, err := clock.VerifyResponse(v.Request, v.Response, v.PublicKey)
				Expect(err).NotTo(HaveOccurred())
				rs = append(rs, reading{mid.Add(-radius), mid.Add(radius)})
			}
			violations := 0
			for i := range rs {
				for j := i + 1; j < len(rs); j++ {
					if rs[i].lo.After(rs[j].hi) {
						violations++
					}
				}
			}
			Expect(violations).To(BeNumerically(">", 0))
		})

		It("refuses a response under another server's key: the delegation's signature fails", func() {
			vs := appendixB()
			_, _, err := clock.VerifyResponse(vs[0].Request, vs[0].Response, vs[1].PublicKey)
			Expect(err).To(MatchError(clock.ErrDelegation))
		})

		It("refuses a response to another request: the nonce differs", func() {
			vs := appendixB()
			_, _, err := clock.VerifyResponse(vs[1].Request, vs[0].Response, vs[0].PublicKey)
			Expect(err).To(MatchError(clock.ErrNonce))
		})

		It("refuses the response with any one byte altered", func() {
			v := appendixB()[0]
			for i := range v.Response {
				bad := append([]byte(nil), v.Response...)
				bad[i] ^= 0x01
				_, _, err := clock.VerifyResponse(v.Request, bad, v.PublicKey)
				Expect(err).To(HaveOccurred(), "byte %d", i)
			}
		})
	})

	Describe("client and server on loopback", func() {
		var key ed25519.PrivateKey
		BeforeEach(func() {
			var err error
			_, key, err = ed25519.GenerateKey(rand.Reader)
			Expect(err).NotTo(HaveOccurred())
		})

		serve := func(k ed25519.PrivateKey, now func() time.Time) *clock.Server {
			rs, err := clock.NewRoughtimeServer(k, now)
			Expect(err).NotTo(HaveOccurred())
			srv, err := clock.Listen("127.0.0.1:0", rs.Handler())
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(srv.Close)
			return srv
		}

		It("returns the server's time under the pinned key", func() {
			at := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
			srv := serve(key, func() time.Time { return at })
			got, err := clock.NewRoughtime(srv.Addr(), key.Public().(ed25519.PublicKey)).Time(context.Background())
			Expect(err).NotTo(HaveOccurred())
			Expect(got).To(Equal(at))
		})

		It("refuses a server that signs with another key, whatever time it names", func() {
			_, other, err := ed25519.GenerateKey(rand.Reader)
			Expect(err).NotTo(HaveOccurred())
			rs, err := clock.NewImpostor(other, func() time.Time { return time.Now().AddDate(-1, 0, 0) })
			Expect(err).NotTo(HaveOccurred())
			srv, err := clock.Listen("127.0.0.1:0", rs.Handler())
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(srv.Close)
			_, err = clock.NewRoughtime(srv.Addr(), key.Public().(ed25519.PublicKey)).Time(context.Background())
			Expect(err).To(MatchError(clock.ErrRejected))
			Expect(err).To(MatchError(clock.ErrDelegation))
		})

		It("answers nothing to a request shorter than 1024 bytes or for another key (§5.1, §5.2)", func() {
			rs, err := clock.NewRoughtimeServer(key, time.Now)
			Expect(err).NotTo(HaveOccurred())
			nonce := make([]byte, 32)
			req := clock.Request(nonce, key.Public().(ed25519.PublicKey))
			Expect(rs.Respond(req)).NotTo(BeNil())
			Expect(rs.Respond(req[:len(req)-4])).To(BeNil())
			_, other, _ := ed25519.GenerateKey(rand.Reader)
			Expect(rs.Respond(clock.Request(nonce, other.Public().(ed25519.PublicKey)))).To(BeNil())
		})
	})
})

var _ = Describe("SNTP (RFC 4330)", func() {
	It("sets the device's clock to whatever the responder says", func() {
		forged := time.Now().AddDate(-1, 0, 0)
		srv, err := clock.Listen("127.0.0.1:0", clock.NTPResponder(func() time.Time { return forged }))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)
		got, err := clock.NewSNTP(srv.Addr()).Time(context.Background())
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(BeTemporally("~", forged, 5*time.Second))
	})

	It("drops what is not a client request", func() {
		h := clock.NTPResponder(time.Now)
		Expect(h(make([]byte, 47))).To(BeNil())
		Expect(h(make([]byte, 48))).To(BeNil()) // mode 0
	})
})

var _ = DescribeTable("a source fails closed when no server answers",
	func(source func(addr string) clock.Source) {
		srv, err := clock.Listen("127.0.0.1:0", nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(srv.Close)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err = source(srv.Addr()).Time(ctx)
		Expect(err).To(MatchError(clock.ErrUnavailable))
		Expect(err).NotTo(MatchError(clock.ErrRejected))
		Eventually(srv.Dropped).Should(BeNumerically(">=", 1))
	},
	Entry("sntp", func(addr string) clock.Source { return clock.NewSNTP(addr) }),
	Entry("roughtime", func(addr string) clock.Source {
		return clock.NewRoughtime(addr, ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey))
	}),
)
