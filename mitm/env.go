package mitm

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	fnoise "github.com/flynn/noise"

	"shakedown/handshake"
	"shakedown/handshake/noise"
	"shakedown/reports"
)

// What a cell runs against: the server (Target), the devices under test
// (DeviceSource) and the lab's key material (Victim, Material). The
// attacker sees all of them through these types only; package lab
// implements them with the reference server, simulated devices and boards.

// Target is the server the lab attacks, seen from outside: its listeners,
// the refusals it logged, what its backend subscriber received, and the
// operator's hand on its static keys. Package lab/labserver has an
// in-process one.
type Target interface {
	// Addr returns the TCP address of a listener.
	Addr(l Listener) (string, error)
	// Mark returns the position of the next server event.
	Mark() int
	// Events returns the server's refusals from position since on.
	Events(since int) []ServerEvent
	// Delivered returns the payloads the backend subscriber received on topic.
	Delivered(topic string) [][]byte
	// Command publishes payload on topic from the backend (a command to a device).
	Command(topic string, payload []byte) error
	// SetNoiseKeys replaces the noise server's static keys (rollover).
	SetNoiseKeys(k noise.ServerKeys)
}

// ServerEvent is a refusal the server logged: a failed handshake (Stage is
// empty: the gateway counts reasons, not stages) or a session that ended
// on an error (StageTransport).
type ServerEvent struct {
	Listener Listener
	Profile  handshake.Name
	Stage    handshake.Stage
	Reason   handshake.Reason
}

// DeviceSource makes the devices under test of the matrix's cells:
// simulated devices, or a board provisioned anew for each (package lab has
// both). A cell asks for its Victim and Byway once, then for as many fresh
// devices as its scenario needs.
type DeviceSource interface {
	// NotApplicable says why column c has no meaning on these devices, or
	// "" when it has; a cell of such a column is not run.
	NotApplicable(c Column) string
	// Victim returns the fixture device the cells of column c run as.
	Victim(c Column) (Victim, error)
	// Byway returns the way the devices of one cell reach listener to,
	// with the attacker on it; dial reaches the server's listeners.
	Byway(to Listener, dial Dialer) (Byway, error)
	// NewDevice returns a fresh device of column c, as v, that connects
	// through way (the cell's Byway). ctx bounds the making.
	NewDevice(ctx context.Context, c Column, v Victim, way Byway) (Device, error)
	// Words returns what the device said about the refusal it has just
	// made, as facts (a board's log and console output); none for a
	// simulated device.
	Words(ctx context.Context) []reports.Fact
	// Slack is added to the timeout of each step: about the longest
	// handshake of a slow board; zero for a fast device.
	Slack() time.Duration
}

// Victim is the fixture device a cell runs as, as the lab knows it: its
// identity and keys. A scenario checks what it recovered against them and
// uses the private key where the scenario is that it leaked.
type Victim struct {
	ID    string
	Curve string // seed only: "p256" or "secp160r1"
	// Public and Private are the device's static key pair (for psk, the
	// pre-shared key is Private).
	Public, Private []byte
}

// keypair returns the victim's key pair as the noise library holds one.
func (v Victim) keypair() fnoise.DHKey {
	return fnoise.DHKey{Private: clone(v.Private), Public: clone(v.Public)}
}

// Material is the lab's key material that scenarios use besides the
// victim's: the noise server's static keys (the current one, which the
// devices pin, and the next one that a rollover promotes), the server name
// of the tls certificates, and the certificates the attacker presents:
// one of its own, self-signed for the same names, the CA-signed one that
// expired and leaked with its key, and an older CA-signed one, retired by
// expiry before the devices were built, whose key leaked too.
type Material struct {
	NoiseCurrent, NoiseNext    fnoise.DHKey
	ServerName                 string
	Attacker, Expired, Retired tls.Certificate
}

// Device is the device under test as scenarios drive it.
type Device interface {
	Column() Column
	ID() string
	// Credentials are the MQTT username and password (tls only).
	Credentials() (user, pass string)
	// Handshake opens a connection through the lab's path and runs the
	// device side of the handshake.
	Handshake(ctx context.Context) (*DeviceConn, error)
}

// DeviceConn is a device's session after its handshake, with the bytes the
// handshake took in each direction.
type DeviceConn struct {
	net.Conn
	Sent, Received int64
}
