// Package server is shakedown's reference server: one handshake listener per
// protocol profile in front of an MQTT broker.
//
// A Gateway accepts TCP connections on each profile's listener, runs that
// profile's server side of the handshake under the limits of Limits (a
// deadline; a half-open table where a newcomer evicts the oldest handshake
// waiting for its peer instead of being refused; a rate per source, an IPv4
// address or an IPv6 /64), and hands each
// authenticated conn to a Sink: the embedded broker (package server/broker)
// or a bridge to an external broker. A device registered for one profile is
// refused on every other profile's listener (reason wrong_profile), because
// each profile's server side checks the registry record's profile.
//
// NewStack composes a Gateway with its listeners in front of the embedded
// broker or another Sink: `shakedown serve` (package server/app) and the
// in-process server of tests and the lab (package server/servertest) are
// built with it.
//
// Package server/registry keeps the devices, their message-1 counters and the
// server keys, on SQLite or PostgreSQL.
package server
