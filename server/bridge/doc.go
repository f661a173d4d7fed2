// Package bridge carries device sessions from the reference server to an
// external MQTT broker (`shakedown serve --broker tcp://host:port`): the
// gateway's handshake listeners stay in front, and each authenticated device
// session gets its own TCP connection to the broker, under the same identity
// and topic rules as the embedded broker of package server/broker.
//
//	br, err := bridge.New(bridge.Options{
//		Broker:    "tcp://127.0.0.1:1883",
//		Passwords: passwords.Check, // a *server.Passwords
//	})
//	gw := server.NewGateway(br, server.DefaultLimits, obs, logger)
//
// A Bridge is a server.Sink. For each session it reads every MQTT control
// packet the device sends, decodes it with mochi-mqtt's packets codec (for
// the protocol version of the CONNECT: 3.1, 3.1.1 or 5.0) and decides:
//
//   - The first packet must be a CONNECT [MQTT-3.1.0-1] whose client ID is
//     the device ID the handshake authenticated. For a tls device without
//     a client certificate, whose handshake authenticated only the server,
//     the CONNECT username must be the client ID and the password must pass
//     Options.Passwords; otherwise the username must be empty or the device
//     ID. A will topic must be the device's. A refused CONNECT is answered with a
//     CONNACK "not authorized" (0x05 in 3.1.1, 0x87 in 5.0) and the session
//     ends; the broker is dialled only for a CONNECT that passed.
//   - The CONNECT goes to the broker re-encoded with the bridge's own
//     credentials (Options.BrokerUsername, BrokerPassword; none when empty)
//     in place of the device's, and without MQTT 5 enhanced authentication:
//     a device password never leaves the bridge.
//   - A PUBLISH must name a topic the device may use (broker.Allowed:
//     devices/{id}/... or Options.Grants); MQTT 5 topic aliases are resolved
//     to the topics they were set with. Any other topic ends the session
//     (3.1.1 [MQTT-3.3.5-2] allows closing; an MQTT 5 device first gets a
//     DISCONNECT 0x87).
//   - A SUBSCRIBE whose filters are all the device's passes. One with any
//     other filter is refused whole: it never reaches the broker, the bridge
//     answers a SUBACK failing every filter of it (0x80 in 3.1.1, 0x87 in
//     5.0), and the session goes on.
//   - UNSUBSCRIBE, the PUBLISH acknowledgements, PINGREQ and DISCONNECT pass
//     once they decode. A second CONNECT, packets only a server sends, AUTH,
//     a malformed packet or one longer than Options.MaxPacket end the
//     session.
//
// Packets that pass go to the broker as the device sent them (only the
// CONNECT is rebuilt); the broker's packets go to the device unchanged. No
// CONNECT within Options.ConnectTimeout of the end of the handshake ends the
// session (connect_timeout), and so does no packet from the device for
// Options.IdleTimeout (or one and a half times a shorter keep alive) after
// it (idle_timeout).
//
// Every refusal is counted through Options.Observer with a stable reason
// (client_id, bad_username, bad_password, acl_publish, acl_subscribe,
// acl_will, malformed, protocol_violation, oversize_packet, connect_timeout,
// idle_timeout,
// broker_unavailable, registry) and logged at info, rate-limited per reason,
// without the packet; a refusal that ends the session is AttachDevice's error: an
// *handshake.Error of stage transport carrying the same reason and never any
// byte of the device's.
//
// The bridge speaks plain TCP to the broker, which belongs on the same
// trusted network.
package bridge
