package servertest

import "sync"

// Inbox keeps every message a Subscriber is given: pass its Receive as
// Options.Subscriber, and poll Messages.
type Inbox struct {
	mu  sync.Mutex
	got map[string][]string
}

// Receive keeps payload as a message on topic.
func (b *Inbox) Receive(topic string, payload []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.got == nil {
		b.got = map[string][]string{}
	}
	b.got[topic] = append(b.got[topic], string(payload))
}

// Messages returns the messages received on topic, in order.
func (b *Inbox) Messages(topic string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.got[topic]...)
}
