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
//     Options.Passwords check);
//   - a device may publish and subscribe only under devices/{id}/ and the
//     topic filters Options.Grants gives it.
//
// Backend clients (dashboards, the simulator's receiving side) connect to a
// separate listener (AddBackendListener) with a username and password and
// may use every topic.
package broker
