package server

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"shakedown/handshake"
	"shakedown/server/broker"
)

// StackConfig is what NewStack assembles: a Gateway with one listener per
// profile, in front of an embedded broker or of another Sink. `shakedown
// serve` (package server/app) and the in-process test server (package
// server/servertest) both build theirs with it.
type StackConfig struct {
	// Listen maps each profile to its listener's address ("127.0.0.1:0"
	// picks a port); a profile without an address is off.
	Listen map[handshake.Name]string
	// Profiles is what the profiles' server sides need.
	Profiles ProfileDeps
	// Limits, Observer and Logger are the Gateway's (NewGateway).
	Limits   Limits
	Observer Observer
	Logger   *slog.Logger
	// Sink takes the device sessions: a bridge to an external broker, or a
	// test's own. Nil: an embedded broker made with Broker's options.
	Sink   Sink
	Broker broker.Options
	// Backend is the address of the embedded broker's listener of backend
	// clients; empty: none. Unused with a Sink.
	Backend string
	// Wrap, when set, wraps the sink that the Gateway hands sessions to:
	// to note who connected, or how each session ended.
	Wrap func(Sink) Sink
}

// Stack is a running Gateway in front of its sink, as NewStack made it.
type Stack struct {
	Gateway *Gateway
	// Broker is the embedded broker; nil when StackConfig.Sink was set.
	Broker *broker.Embedded
	// Addrs holds the bound address of every profile's listener.
	Addrs map[handshake.Name]string
	// Backend is the bound address of the backend listener; empty: none.
	Backend string

	once sync.Once
	err  error
}

// NewStack starts the broker (unless c has a Sink), then the Gateway's
// listeners in the order of handshake.Profiles. On error, what it started
// is stopped.
func NewStack(c StackConfig) (*Stack, error) {
	for p := range c.Listen {
		if !slices.Contains(handshake.Profiles, p) {
			return nil, fmt.Errorf("server: listening for profile %q: no such profile", string(p))
		}
	}
	s := &Stack{Addrs: map[handshake.Name]string{}}
	sink := c.Sink
	if sink == nil {
		b, err := broker.New(c.Broker)
		if err != nil {
			return nil, err
		}
		s.Broker, sink = b, b
		if c.Backend != "" {
			a, err := b.AddBackendListener(c.Backend)
			if err != nil {
				b.Close()
				return nil, err
			}
			s.Backend = a.String()
		}
	}
	if c.Wrap != nil {
		sink = c.Wrap(sink)
	}
	s.Gateway = NewGateway(sink, c.Limits, c.Observer, c.Logger)
	for _, p := range handshake.Profiles {
		if c.Listen[p] == "" {
			continue
		}
		a, err := s.Gateway.ListenEach(c.Listen[p], c.Profiles, p)
		if err != nil {
			s.Close(0)
			return nil, err
		}
		s.Addrs[p] = a[p]
	}
	return s, nil
}

// Close stops the Gateway, waiting up to drain for its sessions to end by
// themselves (Gateway.Close), then the embedded broker. A Sink given in
// StackConfig is the caller's to close. Safe to call twice.
func (s *Stack) Close(drain time.Duration) error {
	s.once.Do(func() {
		s.err = s.Gateway.Close(drain)
		if s.Broker != nil {
			s.err = errors.Join(s.err, s.Broker.Close())
		}
	})
	return s.err
}
