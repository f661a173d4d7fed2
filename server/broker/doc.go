// Package broker is the reference server's embedded MQTT broker: mochi-mqtt
// v2 in process, with MQTT bound to the handshake.
//
// A device conn that finished a handshake enters the broker with its
// authenticated identity (AttachDevice). Hooks then hold MQTT to it:
//
//   - the CONNECT client ID must equal the authenticated device ID (for the
//     tls profile, where the handshake authenticates only the server, the
//     CONNECT username must be the client ID and the password must pass the
//     Options.Passwords check);
//   - a device may publish and subscribe only under devices/{id}/ and the
//     topic filters Options.Grants gives it.
//
// Backend clients (dashboards, the simulator's receiving side) connect to a
// separate listener (AddBackendListener) with a username and password and
// may use every topic.
//
// On every path (a device's conn after its handshake, the plain baseline,
// the backend listener) a client that sends no CONNECT within
// Options.ConnectTimeout is closed, and counted through Options.Observer
// with reason connect_timeout.
package broker
