// Package broker is the reference server's embedded MQTT broker: mochi-mqtt
// v2 in process, with MQTT bound to the handshake.
//
// A device conn that finished a handshake enters the broker with its
// authenticated identity (AttachDevice). Hooks then hold MQTT to it:
//
//   - the CONNECT client ID must equal the authenticated device ID (a tls
//     device's client certificate names it; for a tls device without one,
//     whose handshake authenticated only the server, the CONNECT username
//     must be the client ID and the password must pass the
//     Options.Passwords check); the username must be empty or the device
//     ID, and a will topic must be the device's;
//   - a device may publish and subscribe only in its namespace,
//     devices/{id}/..., compared level by level (Allowed), and within the
//     topic filters Options.Grants gives it.
//
// Every refusal is counted through Options.Observer with a stable reason
// (reasons.go) and logged at info, rate-limited per reason, with the
// device and the reason and never a payload; mochi's own records are kept
// free of packets (logs.go).
//
// Backend clients (dashboards, the simulator's receiving side) connect to a
// separate listener (AddBackendListener) with a username and password and
// may use every topic.
//
// On every path (a device's conn after its handshake, the plain baseline,
// the backend listener) a client that sends no CONNECT within
// Options.ConnectTimeout is closed, and counted through Options.Observer
// with reason connect_timeout.
//
// A session that takes over a client ID (a device reconnecting at once after
// its link dropped) disconnects the live one and waits until mochi has
// finished with it (takeover.go): mochi v2 on its own can lose the new
// session to the old one's clean-up, which leaves the device connected and
// subscribed but deaf.
package broker
