package server_test

import (
	"bytes"
	"io"
	"net"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/server"
	"shakedown/server/broker"
)

var _ = Describe("the embedded broker's write queues", func() {
	It("refuses a negative queue", func() {
		_, err := broker.New(broker.Options{WriteQueue: -1})
		Expect(err).To(MatchError(ContainSubstring("write queue -1")))
	})

	// flood publishes 32 MiB at qos, more than the socket buffers of both
	// ends hold, to a backend client that subscribed at qos and then
	// stopped reading, or (reads) goes on reading but never acknowledges.
	// It returns the broker's counts of dropped messages and the metric's,
	// by reason.
	flood := func(queue int, qos byte, reads bool) (queued, inflight int64, exported map[string]float64) {
		brk, err := broker.New(broker.Options{BackendUser: "backend", BackendPassword: "s3cret", WriteQueue: queue})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(brk.Close)
		m := server.NewMetrics()
		m.BrokerDropped(brk.Dropped)
		addr, err := brk.AddBackendListener("127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())

		conn, err := net.Dial("tcp", addr.String())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(conn.Close)
		Expect(conn.SetDeadline(time.Now().Add(10 * time.Second))).To(Succeed())
		cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
		cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession = "MQTT", 4, true
		cp.ClientIdentifier, cp.UsernameFlag, cp.Username = "slow-backend", true, "backend"
		cp.PasswordFlag, cp.Password = true, []byte("s3cret")
		Expect(cp.Write(conn)).To(Succeed())
		ack, err := packets.ReadPacket(conn)
		Expect(err).NotTo(HaveOccurred())
		Expect(ack.(*packets.ConnackPacket).ReturnCode).To(BeZero())
		sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
		sp.MessageID, sp.Topics, sp.Qoss = 1, []string{"devices/#"}, []byte{qos}
		Expect(sp.Write(conn)).To(Succeed())
		_, err = packets.ReadPacket(conn)
		Expect(err).NotTo(HaveOccurred())
		if reads {
			Expect(conn.SetDeadline(time.Time{})).To(Succeed())
			go io.Copy(io.Discard, conn) //nolint:errcheck // ends when the conn closes
		}

		payload := bytes.Repeat([]byte{'x'}, 1024)
		for range 32 * 1024 {
			Expect(brk.Publish("devices/d1/telemetry", payload, qos)).To(Succeed())
		}
		mfs, err := m.Registry.Gather()
		Expect(err).NotTo(HaveOccurred())
		exported = map[string]float64{}
		for _, mf := range mfs {
			if mf.GetName() == "shakedown_mqtt_dropped_total" {
				for _, x := range mf.GetMetric() {
					exported[x.GetLabel()[0].GetValue()] = x.GetCounter().GetValue()
				}
			}
		}
		queued, inflight = brk.Dropped()
		return queued, inflight, exported
	}

	It("drops and counts what a client that stops reading cannot take, once its queue is full", func() {
		queued, inflight, exported := flood(4, 0, false)
		Expect(queued).To(BeNumerically(">", 0))
		Expect(inflight).To(BeZero())
		Expect(exported).To(Equal(map[string]float64{"write_queue": float64(queued), "inflight_full": 0}))
	})

	It("drops nothing while the queue holds everything", func() {
		queued, inflight, exported := flood(64*1024, 0, false)
		Expect(queued).To(BeZero())
		Expect(inflight).To(BeZero())
		Expect(exported).To(Equal(map[string]float64{"write_queue": 0, "inflight_full": 0}))
	})

	// A subscriber that stops reading at QoS 1 blocks mochi's publisher:
	// WritePacket holds the client's lock while its write blocks, and
	// NextPacketID waits for that lock. So this one reads.
	It("drops and counts QoS 1 messages past the 8,192 a client has not acknowledged", func() {
		queued, inflight, exported := flood(64*1024, 1, true)
		Expect(queued).To(BeZero())
		Expect(inflight).To(Equal(int64(32*1024 - 8*1024)))
		Expect(exported).To(Equal(map[string]float64{"write_queue": 0, "inflight_full": float64(inflight)}))
	})
})
