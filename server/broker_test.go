package server_test

import (
	"bytes"
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

	// flood publishes 32 MiB, more than the socket buffers of both ends
	// hold, to a backend client that subscribed and then stopped reading.
	// It returns the broker's count of dropped packets and the metric's.
	flood := func(queue int) (int64, []float64) {
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
		sp.MessageID, sp.Topics, sp.Qoss = 1, []string{"devices/#"}, []byte{0}
		Expect(sp.Write(conn)).To(Succeed())
		_, err = packets.ReadPacket(conn)
		Expect(err).NotTo(HaveOccurred())

		Expect(brk.Dropped()).To(BeZero())
		payload := bytes.Repeat([]byte{'x'}, 1024)
		for range 32 * 1024 {
			Expect(brk.Publish("devices/d1/telemetry", payload, 0)).To(Succeed())
		}
		mfs, err := m.Registry.Gather()
		Expect(err).NotTo(HaveOccurred())
		var exported []float64
		for _, mf := range mfs {
			if mf.GetName() == "shakedown_mqtt_dropped_total" {
				for _, x := range mf.GetMetric() {
					exported = append(exported, x.GetCounter().GetValue())
				}
			}
		}
		return brk.Dropped(), exported
	}

	It("drops and counts what a client that stops reading cannot take, once its queue is full", func() {
		dropped, exported := flood(4)
		Expect(dropped).To(BeNumerically(">", 0))
		Expect(exported).To(Equal([]float64{float64(dropped)}))
	})

	It("drops nothing while the queue holds everything", func() {
		dropped, exported := flood(64 * 1024)
		Expect(dropped).To(BeZero())
		Expect(exported).To(Equal([]float64{0}))
	})
})
