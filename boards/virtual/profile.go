package virtual

import (
	"time"

	"shakedown/boards"
	"shakedown/handshake"
)

// FromProfile returns the configuration of a virtual board that presents
// itself as the board of profile p: its name, chip, clock, payload limit and
// profiles. With slow, it also takes the profile's costs per operation and
// so runs as slowly as that chip.
func FromProfile(p boards.Profile, serial string, slow bool) Config {
	cfg := Config{Board: p.Board, Chip: p.Chip, ClockHz: p.ClockHz, MaxPayload: p.Agent.MaxPayload,
		NoNetwork: !p.Agent.Network, Serial: serial, Devices: map[handshake.Name]DeviceFactory{}}
	all := DefaultDevices()
	for _, n := range p.Agent.Profiles {
		cfg.Devices[handshake.Name(n)] = all[handshake.Name(n)]
	}
	if slow {
		cfg.Costs = map[string]time.Duration{}
		for k, d := range p.Costs {
			cfg.Costs[k] = d.D()
		}
	}
	return cfg
}
