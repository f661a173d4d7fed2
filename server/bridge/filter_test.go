package bridge

import (
	"bufio"
	"bytes"
	"context"

	"github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
)

// judge reads one packet from raw and passes it to f.
func judge(f *filter, raw []byte) verdict {
	p, err := readPacket(bufio.NewReader(bytes.NewReader(raw)), DefaultMaxPacket)
	if err != nil {
		return f.refuse(readReason(err))
	}
	return f.packet(context.Background(), p)
}

// readReason is the reason the session gives a failed read.
func readReason(err error) handshake.Reason {
	switch err {
	case errMalformed:
		return handshake.ReasonMalformed
	case errOversize:
		return handshake.ReasonOversizePacket
	}
	return handshake.ReasonIO
}

// connected returns a filter past a CONNECT of version v from dev-a.
func connected(v byte) *filter {
	f := newFilter(testPolicy(), idA)
	Expect(judge(f, connectOf(v, devA, "", "")).reason).To(BeEmpty())
	return f
}

// decoded decodes the forwarded bytes again.
func decoded(b []byte, v byte) packets.Packet {
	p, err := readPacket(bufio.NewReader(bytes.NewReader(b)), DefaultMaxPacket)
	Expect(err).NotTo(HaveOccurred())
	pk, err := decode(p, v)
	Expect(err).NotTo(HaveOccurred())
	return pk
}

var _ = Describe("the device packet filter", func() {
	Describe("CONNECT", func() {
		DescribeTable("accepts the authenticated client ID and forwards the bridge's credentials",
			func(v byte, id handshake.Identity, clientID, user, pass string) {
				f := newFilter(testPolicy(), id)
				vd := judge(f, connectOf(v, clientID, user, pass))
				Expect(vd.reason).To(BeEmpty())
				Expect(vd.end).To(BeFalse())
				Expect(vd.reply).To(BeNil())
				pk := decoded(vd.forward, 0)
				Expect(pk.ProtocolVersion).To(Equal(v))
				Expect(pk.Connect.ClientIdentifier).To(Equal(clientID))
				Expect(string(pk.Connect.Username)).To(Equal(brokerUser))
				Expect(string(pk.Connect.Password)).To(Equal(brokerPass))
				Expect(pk.Connect.Keepalive).To(Equal(uint16(30)))
				Expect(pk.Connect.Clean).To(BeTrue())
				if pass != "" {
					Expect(bytes.Contains(vd.forward, []byte(pass))).To(BeFalse(), "the device password leaves the bridge")
				}
				Expect(f.deviceID).To(Equal(clientID))
			},
			Entry("3.1.1, noise", version311, idA, devA, "", ""),
			Entry("3.1, noise", version31, idA, devA, "", ""),
			Entry("5.0, noise", version5, idA, devA, "", ""),
			Entry("3.1.1, noise, with its own ID as username and a password", version311, idA, devA, devA, "something"),
			Entry("3.1.1, tls", version311, idTLS, tlsA, tlsA, tlsAPass),
			Entry("5.0, tls", version5, idTLS, tlsA, tlsA, tlsAPass),
		)

		DescribeTable("refuses with a CONNACK and ends the session",
			func(v byte, id handshake.Identity, clientID, user, pass string, reason handshake.Reason, reply []byte) {
				f := newFilter(testPolicy(), id)
				vd := judge(f, connectOf(v, clientID, user, pass))
				Expect(vd.reason).To(Equal(reason))
				Expect(vd.end).To(BeTrue())
				Expect(vd.forward).To(BeNil())
				Expect(vd.reply).To(Equal(reply))
			},
			// CONNACK 3.1.1: 0x20, length 2, session present 0, return code.
			// CONNACK 5.0: 0x20, length 3, session present 0, reason code, property length 0.
			Entry("another device's client ID", version311, idA, devB, "", "", handshake.ReasonClientID, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("another device's client ID, 5.0", version5, idA, devB, "", "", handshake.ReasonClientID, []byte{0x20, 0x03, 0x00, 0x87, 0x00}),
			Entry("another device's client ID, 3.1", version31, idA, devB, "", "", handshake.ReasonClientID, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("an empty client ID", version311, idA, "", "", "", handshake.ReasonClientID, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("tls: a wrong password", version311, idTLS, tlsA, tlsA, "guess", handshake.ReasonBadPassword, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("tls: no password", version311, idTLS, tlsA, tlsA, "", handshake.ReasonBadPassword, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("tls: an unknown device", version5, idTLS, "tls-z", "tls-z", tlsAPass, handshake.ReasonBadPassword, []byte{0x20, 0x03, 0x00, 0x87, 0x00}),
			Entry("tls: a username that is not the client ID", version311, idTLS, "tls-z", tlsA, tlsAPass, handshake.ReasonClientID, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("tls: no username", version311, idTLS, tlsA, "", "", handshake.ReasonClientID, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("tls: the registry fails", version311, idTLS, tlsBroken, tlsBroken, "x", handshake.ReasonRegistry, []byte{0x20, 0x02, 0x00, 0x03}),
			Entry("a username naming another device", version311, idA, devA, devB, "", handshake.ReasonBadUsername, []byte{0x20, 0x02, 0x00, 0x05}),
			Entry("a username naming another device, 5.0", version5, idA, devA, devB, "", handshake.ReasonBadUsername, []byte{0x20, 0x03, 0x00, 0x87, 0x00}),
			Entry("a username naming no device", version311, idA, devA, "someone", "something", handshake.ReasonBadUsername, []byte{0x20, 0x02, 0x00, 0x05}),
		)

		It("refuses every tls device without a password check", func() {
			pol := testPolicy()
			pol.passwords = nil
			vd := judge(newFilter(pol, idTLS), connectOf(version311, tlsA, tlsA, tlsAPass))
			Expect(vd.reason).To(Equal(handshake.ReasonBadPassword))
		})

		It("refuses a will on another device's topic, and keeps one on the device's", func() {
			pk := connectPacket(version311, devA, "", "")
			pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload = true, "devices/"+devB+"/status", []byte("gone")
			vd := judge(newFilter(testPolicy(), idA), enc(pk))
			Expect(vd.reason).To(Equal(handshake.ReasonACLWill))
			Expect(vd.reply).To(Equal([]byte{0x20, 0x02, 0x00, 0x05}))

			pk.Connect.WillTopic = "devices/" + devA + "/status"
			vd = judge(newFilter(testPolicy(), idA), enc(pk))
			Expect(vd.reason).To(BeEmpty())
			fwd := decoded(vd.forward, 0)
			Expect(fwd.Connect.WillTopic).To(Equal("devices/" + devA + "/status"))
			Expect(fwd.Connect.WillPayload).To(Equal([]byte("gone")))
		})

		It("strips MQTT 5 enhanced authentication and keeps the other properties", func() {
			pk := connectPacket(version5, devA, "", "")
			pk.Properties.AuthenticationMethod = "SCRAM-SHA-1"
			pk.Properties.AuthenticationData = []byte("client-first")
			pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 60, true
			pk.Properties.User = []packets.UserProperty{{Key: "k", Val: "v"}}
			vd := judge(newFilter(testPolicy(), idA), enc(pk))
			Expect(vd.reason).To(BeEmpty())
			fwd := decoded(vd.forward, 0)
			Expect(fwd.Properties.AuthenticationMethod).To(BeEmpty())
			Expect(fwd.Properties.AuthenticationData).To(BeEmpty())
			Expect(fwd.Properties.SessionExpiryInterval).To(Equal(uint32(60)))
			Expect(fwd.Properties.User).To(Equal([]packets.UserProperty{{Key: "k", Val: "v"}}))
		})

		It("forwards no credentials when the bridge has none", func() {
			pol := testPolicy()
			pol.brokerUser, pol.brokerPassword = nil, nil
			vd := judge(newFilter(pol, idTLS), connectOf(version311, tlsA, tlsA, tlsAPass))
			Expect(vd.reason).To(BeEmpty())
			fwd := decoded(vd.forward, 0)
			Expect(fwd.Connect.UsernameFlag).To(BeFalse())
			Expect(fwd.Connect.PasswordFlag).To(BeFalse())
		})

		It("ends the session when the first packet is not a CONNECT", func() {
			vd := judge(newFilter(testPolicy(), idA), publishOf(version311, "devices/"+devA+"/t", 0, "x"))
			Expect(vd).To(Equal(verdict{reason: handshake.ReasonProtocolViolation, end: true}))
		})

		It("ends the session on a CONNECT that does not validate", func() {
			pk := connectPacket(version311, devA, "", "")
			pk.Connect.ProtocolName = []byte("MQTX") // [MQTT-3.1.2-1]
			vd := judge(newFilter(testPolicy(), idA), enc(pk))
			Expect(vd).To(Equal(verdict{reason: handshake.ReasonMalformed, end: true}))
		})
	})

	Describe("after CONNECT", func() {
		own := "devices/" + devA + "/telemetry"
		other := "devices/" + devB + "/telemetry"

		DescribeTable("passes the device's own traffic unchanged",
			func(v byte, raw []byte) {
				f := connected(v)
				vd := judge(f, raw)
				Expect(vd).To(Equal(verdict{forward: raw}))
			},
			Entry("PUBLISH to its own topic, QoS 0", version311, publishOf(version311, own, 0, "hello")),
			Entry("PUBLISH to its own topic, QoS 1", version311, publishOf(version311, own, 1, "hello")),
			Entry("PUBLISH to its own topic, QoS 2, 5.0", version5, publishOf(version5, own, 2, "hello")),
			Entry("PUBLISH to a granted topic", version311, publishOf(version311, "fleet/42/status", 0, "up")),
			Entry("SUBSCRIBE to its own command topic", version311, subscribeOf(version311, 3, "devices/"+devA+"/cmd")),
			Entry("SUBSCRIBE to its own subtree", version5, subscribeOf(version5, 3, "devices/"+devA+"/#")),
			Entry("SUBSCRIBE to own and granted filters", version311, subscribeOf(version311, 3, "devices/"+devA+"/+", "fleet/+/status")),
			Entry("UNSUBSCRIBE from anything", version311, unsubscribeOf(version311, 4, "devices/"+devB+"/#")),
			Entry("PUBACK", version311, pubackOf(version311, 9)),
			Entry("PINGREQ", version311, pingreq()),
			Entry("DISCONNECT", version311, disconnectOf(version311)),
			Entry("DISCONNECT, 5.0", version5, disconnectOf(version5)),
		)

		DescribeTable("ends the session on a PUBLISH outside the device's topics",
			func(v byte, topic string, reply []byte) {
				vd := judge(connected(v), publishOf(v, topic, 1, "x"))
				Expect(vd.reason).To(Equal(handshake.ReasonACLPublish))
				Expect(vd.end).To(BeTrue())
				Expect(vd.forward).To(BeNil())
				Expect(vd.reply).To(Equal(reply))
			},
			Entry("another device's topic", version311, other, []byte(nil)),
			// DISCONNECT 5.0: 0xe0, length 2, reason 0x87 Not authorized, property length 0.
			Entry("another device's topic, 5.0", version5, other, []byte{0xe0, 0x02, 0x87, 0x00}),
			Entry("a topic beside devices/", version311, "devices/"+devA, []byte(nil)),
			Entry("a prefix of the device ID", version311, "devices/dev-/x", []byte(nil)),
			Entry("the device ID as a prefix", version311, "devices/"+devA+"x/t", []byte(nil)),
			Entry("a device whose ID extends the device's with '.'", version311, "devices/"+devA+".b/t", []byte(nil)),
			Entry("a device whose ID extends the device's with ':'", version311, "devices/"+devA+":b/t", []byte(nil)),
			Entry("$SYS", version311, "$SYS/broker/uptime", []byte(nil)),
			Entry("a granted pattern one level too deep", version311, "fleet/42/status/x", []byte(nil)),
		)

		DescribeTable("answers a SUBSCRIBE with a filter outside the device's with a SUBACK failing it whole",
			func(v byte, filters []string, reply []byte) {
				f := connected(v)
				vd := judge(f, subscribeOf(v, 0x0102, filters...))
				Expect(vd.reason).To(Equal(handshake.ReasonACLSubscribe))
				Expect(vd.end).To(BeFalse())
				Expect(vd.forward).To(BeNil())
				Expect(vd.reply).To(Equal(reply))
				// The session goes on.
				Expect(judge(f, pingreq())).To(Equal(verdict{forward: pingreq()}))
			},
			// SUBACK 3.1.1: 0x90, length, packet ID 0x0102, one 0x80 Failure per filter.
			Entry("another device's subtree", version311, []string{"devices/" + devB + "/#"}, []byte{0x90, 0x03, 0x01, 0x02, 0x80}),
			Entry("every device's commands", version311, []string{"devices/+/cmd"}, []byte{0x90, 0x03, 0x01, 0x02, 0x80}),
			Entry("everything", version311, []string{"#"}, []byte{0x90, 0x03, 0x01, 0x02, 0x80}),
			Entry("every device", version311, []string{"devices/#"}, []byte{0x90, 0x03, 0x01, 0x02, 0x80}),
			Entry("a device whose ID extends the device's", version311, []string{"devices/" + devA + ".b/#"}, []byte{0x90, 0x03, 0x01, 0x02, 0x80}),
			Entry("a shared subscription to another device", version5, []string{"$share/g/devices/" + devB + "/#"},
				// SUBACK 5.0: 0x90, length, packet ID, property length 0, 0x87 Not authorized.
				[]byte{0x90, 0x04, 0x01, 0x02, 0x00, 0x87}),
			Entry("its own filter beside another's", version311, []string{"devices/" + devA + "/cmd", "devices/" + devB + "/cmd"},
				[]byte{0x90, 0x04, 0x01, 0x02, 0x80, 0x80}),
		)

		It("resolves MQTT 5 topic aliases to the topics they were set with", func() {
			f := connected(version5)
			set := aliasPublishOf(own, 1)
			Expect(judge(f, set)).To(Equal(verdict{forward: set}))
			use := aliasPublishOf("", 1)
			Expect(judge(f, use)).To(Equal(verdict{forward: use}))

			vd := judge(f, aliasPublishOf(other, 2))
			Expect(vd.reason).To(Equal(handshake.ReasonACLPublish))
		})

		It("ends the session on an alias the device never set", func() {
			vd := judge(connected(version5), aliasPublishOf("", 5))
			Expect(vd.reason).To(Equal(handshake.ReasonProtocolViolation))
			Expect(vd.end).To(BeTrue())
		})

		It("bounds the topic alias table", func() {
			f := connected(version5)
			long := own + "/" + string(bytes.Repeat([]byte("x"), 1000))
			var vd verdict
			for a := uint16(1); a < 200 && vd.reason == ""; a++ {
				vd = judge(f, aliasPublishOf(long, a))
			}
			Expect(vd.reason).To(Equal(handshake.ReasonProtocolViolation))
			Expect(f.aliasLen).To(BeNumerically("<=", maxAliasBytes))
		})

		It("ends the session on a packet after DISCONNECT", func() {
			f := connected(version311)
			Expect(judge(f, disconnectOf(version311)).reason).To(BeEmpty())
			vd := judge(f, pingreq())
			Expect(vd.reason).To(Equal(handshake.ReasonProtocolViolation))
		})

		for _, c := range malformedAfterConnect {
			It("ends the session as malformed on "+c.name, func() {
				vd := judge(connected(c.v), c.raw)
				Expect(vd.reason).To(Equal(handshake.ReasonMalformed))
				Expect(vd.end).To(BeTrue())
				Expect(vd.forward).To(BeNil())
			})
		}

		for _, c := range protocolAfterConnect {
			It("ends the session on "+c.name, func() {
				raw := c.raw
				if raw == nil {
					raw = connectOf(version311, devA, "", "")
				}
				vd := judge(connected(version311), raw)
				Expect(vd.reason).To(Equal(handshake.ReasonProtocolViolation))
				Expect(vd.end).To(BeTrue())
				Expect(vd.forward).To(BeNil())
			})
		}
	})

	Describe("framing", func() {
		It("refuses a packet longer than the limit before reading its body", func() {
			raw := []byte{
				0x30,             // PUBLISH, QoS 0
				0xff, 0xff, 0x7f, // remaining length 2,097,151
			}
			_, err := readPacket(bufio.NewReader(bytes.NewReader(raw)), DefaultMaxPacket)
			Expect(err).To(MatchError(errOversize))
		})

		It("reads a packet of exactly the limit", func() {
			payload := string(bytes.Repeat([]byte("p"), 1000))
			raw := publishOf(version311, "devices/"+devA+"/t", 0, payload)
			p, err := readPacket(bufio.NewReader(bytes.NewReader(raw)), len(raw))
			Expect(err).NotTo(HaveOccurred())
			Expect(p.raw).To(Equal(raw))
			_, err = readPacket(bufio.NewReader(bytes.NewReader(raw)), len(raw)-1)
			Expect(err).To(MatchError(errOversize))
		})

		It("splits a stream into packets", func() {
			stream := append(append(connectOf(version311, devA, "", ""), pingreq()...), disconnectOf(version311)...)
			ps, err := readAll(stream)
			Expect(err).NotTo(HaveOccurred())
			Expect(ps).To(HaveLen(3))
			Expect(ps[1].fh.Type).To(Equal(packets.Pingreq))
		})

		DescribeTable("lengthBytes is the shortest encoding",
			func(n, want int) { Expect(lengthBytes(n)).To(Equal(want)) },
			Entry("0", 0, 1), Entry("127", 127, 1), Entry("128", 128, 2), Entry("16383", 16383, 2),
			Entry("16384", 16384, 3), Entry("2097151", 2097151, 3), Entry("2097152", 2097152, 4),
			Entry("268435455", 268435455, 4),
		)
	})
})
