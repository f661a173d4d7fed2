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
}

// NewProfileServer returns the server side of profile p.
func NewProfileServer(p handshake.Name, d ProfileDeps) (handshake.Server, error) {
	switch p {
	case handshake.Noise:
		return noise.NewServer(noise.ServerConfig{Pattern: d.NoisePattern, Keys: d.NoiseKeys, Directory: d.Directory, Counters: d.Counters})
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
