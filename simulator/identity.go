package simulator

import (
	"shakedown/fixtures"
	"shakedown/handshake"
)

// DeviceOptions are the per-device choices that a fixture set leaves open:
// fixtures.ProvisionOptions.
type DeviceOptions = fixtures.ProvisionOptions

// NewDevice returns the device side of fixture device d
// (fixtures.ProvisionDevice), and the MQTT username and password it
// presents (a tls device with TLSPassword only; by default a tls device
// presents its client certificate).
func NewDevice(set *fixtures.Set, d fixtures.Device, o DeviceOptions) (dev handshake.Device, user, pass string, err error) {
	id, err := fixtures.ProvisionDevice(set, d, o)
	if err != nil {
		return nil, "", "", err
	}
	if dev, err = id.NewDevice(); err != nil {
		return nil, "", "", err
	}
	return dev, id.User, id.Password, nil
}
