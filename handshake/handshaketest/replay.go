package handshaketest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	fnoise "github.com/flynn/noise"

	"shakedown/handshake/noise"
)

// NoiseMessages1 makes n framed IK messages 1 for the server whose static
// public key is server: message i is device i mod len(statics)'s, each
// device counting up from start, so every one is fresh for a server that
// has not seen start. A benchmark replays them to measure the server
// without the devices' cost; hand them out with a Queue.
func NoiseMessages1(statics []fnoise.DHKey, server []byte, n int, start uint64) ([][]byte, error) {
	if len(statics) == 0 {
		return nil, fmt.Errorf("handshaketest: no device keys")
	}
	pins, err := noise.NewPins(server)
	if err != nil {
		return nil, fmt.Errorf("handshaketest: pinning the server key: %w", err)
	}
	counters := make([]*noise.MemCounter, len(statics))
	for i := range counters {
		counters[i] = noise.NewMemCounter(start)
	}
	out := make([][]byte, n)
	for i := range out {
		k := i % len(statics)
		dev, err := noise.NewDevice(noise.DeviceConfig{Static: statics[k], Pins: pins, Counter: counters[k]})
		if err != nil {
			return nil, fmt.Errorf("handshaketest: device %d: %w", k, err)
		}
		cc := &captureConn{}
		dev.Handshake(context.Background(), cc) // ends at its first read, message 1 written
		out[i] = bytes.Clone(cc.out.Bytes())
	}
	return out, nil
}

// captureConn records what a device writes and ends the handshake at its
// first read.
type captureConn struct {
	net.Conn
	out bytes.Buffer
}

func (c *captureConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *captureConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (c *captureConn) SetDeadline(time.Time) error      { return nil }
func (c *captureConn) SetReadDeadline(time.Time) error  { return nil }
func (c *captureConn) SetWriteDeadline(time.Time) error { return nil }
func (c *captureConn) Close() error                     { return nil }

// Queue hands out messages 1 of NoiseMessages1 to parallel clients in
// order. Message i and message i+devices are one device's: the server must
// see the first before the second, or it refuses the second as a replay,
// so Take waits until the device's previous handshake has finished.
type Queue struct {
	msgs    [][]byte
	done    []chan struct{}
	devices int64
	next    atomic.Int64
}

// NewQueue returns a queue of msgs, made for devices devices.
func NewQueue(msgs [][]byte, devices int) *Queue {
	q := &Queue{msgs: msgs, done: make([]chan struct{}, len(msgs)), devices: int64(devices)}
	for i := range q.done {
		q.done[i] = make(chan struct{})
	}
	return q
}

// Take returns the next message and its index, once its device's previous
// one finished. It must not be called more often than there are messages.
func (q *Queue) Take() (int64, []byte) {
	i := q.next.Add(1) - 1
	if i >= q.devices {
		<-q.done[i-q.devices]
	}
	return i, q.msgs[i]
}

// Finish marks message i's handshake finished, whatever its result.
func (q *Queue) Finish(i int64) { close(q.done[i]) }

// Replay sends message 1 m on a new TCP connection to addr and reads a
// message 2 of reply bytes.
func Replay(addr string, m []byte, reply int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write(m); err != nil {
		return err
	}
	if _, err := io.ReadFull(c, make([]byte, reply)); err != nil {
		return fmt.Errorf("handshaketest: no message 2: %w", err)
	}
	return nil
}

// ReplayConn is a conn that reads m and discards what is written to it: a
// device that sends message 1 and is gone, for a server's Handshake run in
// memory.
func ReplayConn(m []byte) net.Conn { return &replayConn{r: bytes.NewReader(m)} }

type replayConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *replayConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
func (c *replayConn) Close() error                     { return nil }
