package broker

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang/packets"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"shakedown/handshake"
)

// holdOld pauses the first session of a client ID in mochi's clean-up,
// after it checked that it was not taken over and before it deletes its
// client ID from the client table: the window in which a reconnecting
// device's new session used to be lost. It lets the old session go on when
// the new one has subscribed, or after a while if it never does.
type holdOld struct {
	mqtt.HookBase
	old        net.Conn
	paused     chan struct{}
	subscribed chan struct{}
	once       sync.Once
	held       atomic.Bool
}

func (h *holdOld) ID() string { return "hold-old" }

func (h *holdOld) Provides(b byte) bool { return b == mqtt.OnUnsubscribed || b == mqtt.OnSubscribed }

func (h *holdOld) OnUnsubscribed(cl *mqtt.Client, _ packets.Packet) {
	if cl.Net.Conn != h.old {
		return
	}
	if !h.held.CompareAndSwap(false, true) {
		return // mochi's own takeover of the old session
	}
	close(h.paused)
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-h.subscribed:
	case <-t.C:
	}
}

func (h *holdOld) OnSubscribed(cl *mqtt.Client, _ packets.Packet, _ []byte) {
	if cl.Net.Conn != h.old {
		h.once.Do(func() { close(h.subscribed) })
	}
}

// peer is a device end of an attached session.
type peer struct {
	conn  net.Conn
	ended chan struct{}
}

func (p *peer) send(pk paho.ControlPacket) {
	GinkgoHelper()
	Expect(p.conn.SetWriteDeadline(time.Now().Add(time.Minute))).To(Succeed())
	Expect(pk.Write(p.conn)).To(Succeed())
}

func (p *peer) receive(d time.Duration) (paho.ControlPacket, error) {
	p.conn.SetReadDeadline(time.Now().Add(d))
	return paho.ReadPacket(p.conn)
}

// session connects a clean session of id and subscribes it to topic.
func (p *peer) session(id, topic string) {
	GinkgoHelper()
	cp := paho.NewControlPacket(paho.Connect).(*paho.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.CleanSession, cp.Keepalive, cp.ClientIdentifier = "MQTT", 4, true, 30, id
	p.send(cp)
	pk, err := p.receive(time.Minute)
	Expect(err).NotTo(HaveOccurred())
	Expect(pk.(*paho.ConnackPacket).ReturnCode).To(BeZero())
	sp := paho.NewControlPacket(paho.Subscribe).(*paho.SubscribePacket)
	sp.MessageID, sp.Topics, sp.Qoss = 1, []string{topic}, []byte{1}
	p.send(sp)
	pk, err = p.receive(time.Minute)
	Expect(err).NotTo(HaveOccurred())
	Expect(pk).To(BeAssignableToTypeOf(&paho.SubackPacket{}))
}

var _ = Describe("a session that takes over its client ID", func() {
	It("receives what is published to it even when the old session ends at the same moment", func(ctx SpecContext) {
		e, err := New(Options{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(e.Close)
		attach := func() (*peer, net.Conn) {
			a, b := net.Pipe()
			p := &peer{conn: a, ended: make(chan struct{})}
			go func() {
				defer close(p.ended)
				e.AttachDevice(b, handshake.Identity{Profile: handshake.Noise, DeviceID: "d"})
			}()
			DeferCleanup(func() {
				a.Close()
				Eventually(p.ended).WithTimeout(time.Minute).Should(BeClosed())
			})
			return p, b
		}
		const topic = "devices/d/cmd"
		old, oldConn := attach()
		old.session("d", topic)
		var dc *deviceConn
		e.sessions.mu.Lock()
		for c := range e.sessions.byConn {
			dc = c.(*deviceConn)
		}
		e.sessions.mu.Unlock()
		Expect(dc.Conn).To(BeIdenticalTo(oldConn))
		h := &holdOld{old: dc, paused: make(chan struct{}), subscribed: make(chan struct{})}
		Expect(e.srv.AddHook(h, nil)).To(Succeed())

		old.conn.Close() // the device's link drops
		Eventually(h.paused).WithTimeout(time.Minute).Should(BeClosed())
		young, _ := attach() // and the device reconnects at once
		young.session("d", topic)
		Eventually(old.ended).WithTimeout(time.Minute).Should(BeClosed(), "the old session ended")

		Expect(e.Publish(topic, []byte("command"), 1)).To(Succeed())
		pk, err := young.receive(30 * time.Second)
		Expect(err).NotTo(HaveOccurred(), "the new session received nothing")
		Expect(pk).To(BeAssignableToTypeOf(&paho.PublishPacket{}))
		Expect(string(pk.(*paho.PublishPacket).Payload)).To(Equal("command"))
		Expect(e.Clients()).To(BeEquivalentTo(1))
	})
})
