package server

import (
	"crypto/tls"
	"fmt"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/handshake/psk"
	"shakedown/handshake/seed"
	"shakedown/handshake/tlsprofile"
)

// ProfileDeps is what the server sides of the profiles need.
type ProfileDeps struct {
	Directory    handshake.Directory
	Counters     handshake.CounterStore
	NoiseKeys    *noise.KeyRing
	NoisePattern noise.Pattern
	Certificate  tls.Certificate // the broker's certificate for the tls profile
	// KeyCache, when not nil, answers noise lookups by key before
	// Directory, and keeps the noise devices Directory finds. Only for
	// Directory and Counters of a registry whose keys never change and whose
	// AcceptCounter refuses a revoked device; nil: every lookup asks
	// Directory.
	KeyCache *KeyCache
}

// NewProfileServer returns the server side of profile p.
func NewProfileServer(p handshake.Name, d ProfileDeps) (handshake.Server, error) {
	switch p {
	case handshake.Noise:
		dir := d.Directory
		if d.KeyCache != nil {
			dir = cachedDirectory{Directory: dir, cache: d.KeyCache}
		}
		return noise.NewServer(noise.ServerConfig{Pattern: d.NoisePattern, Keys: d.NoiseKeys, Directory: dir, Counters: d.Counters})
	case handshake.Seed:
		return seed.NewServer(seed.ServerConfig{Directory: d.Directory})
	case handshake.PSK:
		return psk.NewServer(psk.ServerConfig{Directory: d.Directory})
	case handshake.TLS:
		// The Directory pins client certificates (mutual TLS); devices
		// without one are left to their MQTT password.
		return tlsprofile.NewServer(tlsprofile.ServerConfig{Certificate: d.Certificate, Devices: d.Directory})
	}
	return nil, fmt.Errorf("server: unknown profile %q", string(p))
}

// ListenEach starts a listener of g on addr ("127.0.0.1:0" picks a port
// each) for each of profiles, with the server sides deps builds, and
// returns their bound addresses.
func (g *Gateway) ListenEach(addr string, deps ProfileDeps, profiles ...handshake.Name) (map[handshake.Name]string, error) {
	addrs := make(map[handshake.Name]string, len(profiles))
	for _, p := range profiles {
		srv, err := NewProfileServer(p, deps)
		if err != nil {
			return nil, err
		}
		a, err := g.Listen(addr, srv)
		if err != nil {
			return nil, err
		}
		addrs[p] = a.String()
	}
	return addrs, nil
}
