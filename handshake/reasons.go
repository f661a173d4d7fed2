package handshake

// Reason is a stable code for why a handshake, a record, an MQTT session, a
// simulated device or a board link failed. Reasons are metric label values,
// log values, report columns and, for the board protocol, wire codes
// (harness/boardproto): a value never changes, and never carries
// attacker-controlled text.
//
// This file declares the whole vocabulary of the project, once: every
// package that reports a reason uses these names (Reason is this package's
// type, and everything imports it). docs/protocol.md, "Reason codes", lists
// the same codes in one table per block below, as each block's comment
// says; a spec of package server fails when the two differ.
type Reason string

// ReasonNone is no failure: a success, or an orderly close (wire code 0 of
// the board protocol).
const ReasonNone Reason = ""

// Handshake reasons: why a handshake or a record failed, on the device side
// or the server side of any profile. A record that fails after the
// handshake has one of them too (docs/protocol.md, table "transport
// reason").
//
// docs/protocol.md lists them in the table "handshake reason".
const (
	ReasonIO            Reason = "io"             // the connection failed or closed
	ReasonTimeout       Reason = "timeout"        // the handshake deadline passed
	ReasonShortFrame    Reason = "short_frame"    // a frame or message shorter than its layout
	ReasonOversizeFrame Reason = "oversize_frame" // a frame longer than allowed
	ReasonMalformed     Reason = "malformed"      // a field out of range or a wrong version
	ReasonDecrypt       Reason = "decrypt_failed" // authentication of a message failed
	ReasonUnknownDevice Reason = "unknown_device" // no such device in the registry
	ReasonRevoked       Reason = "revoked"        // the device is revoked
	ReasonWrongProfile  Reason = "wrong_profile"  // the device is registered for another profile
	ReasonCounterReplay Reason = "counter_replay" // message-1 counter not greater than the last
	ReasonBadPoint      Reason = "bad_point"      // an invalid public key or curve point
	ReasonUnknownServer Reason = "unknown_server" // the server key is not pinned
	ReasonCertificate   Reason = "cert_rejected"  // the TLS certificate failed the device's check
	ReasonRegistry      Reason = "registry"       // the registry failed
	ReasonInternal      Reason = "internal"       // a local failure (randomness, state)
	// ReasonTimeUnavailable: a tls device that sets its clock from the
	// network (modes ca-ntp, ca-roughtime) got no answer from its time
	// server, and fails closed: it checks no certificate without a time.
	ReasonTimeUnavailable Reason = "time_unavailable"
	// ReasonTimeRejected: the time server's answer failed the device's
	// check (a Roughtime signature, nonce or Merkle path; an SNTP answer to
	// another request or one that declares itself unusable).
	ReasonTimeRejected Reason = "time_rejected"
	// ReasonCounterReserved refuses a message-1 counter of 2^64-1: the
	// value is reserved, because erased flash reads as all ones
	// (noise.CounterReserved).
	ReasonCounterReserved Reason = "counter_reserved"
)

// Admission reasons: the gateway (package server) refused a connection at
// accept, or dropped it from the half-open table, before its handshake was
// done.
//
// docs/protocol.md lists them in the table "admission reason".
const (
	// ReasonRateLimited: the source started more handshakes than
	// Limits.PerSourceRate allows after its burst.
	ReasonRateLimited Reason = "rate_limited"
	// ReasonEvicted: the half-open table was full (Limits.MaxHalfOpen) and
	// this handshake was the oldest one waiting for its peer's bytes.
	ReasonEvicted Reason = "evicted"
	// ReasonHalfOpenFull: the half-open table was full of handshakes the
	// server was working on; none waited for its peer.
	ReasonHalfOpenFull Reason = "half_open_full"
)

// MQTT reasons: the embedded broker (server/broker) or the bridge
// (server/bridge) refused a device's MQTT packet or ended its session after
// the handshake.
//
// docs/protocol.md lists them in the table "MQTT reason". The table also
// lists ReasonMalformed (a packet that does not decode or validate) and
// ReasonRegistry (bridge: the password check failed for another reason than
// a wrong password).
const (
	// ReasonClientID: the CONNECT client ID is not the authenticated device
	// ID (for tls, where CONNECT credentials identify the device: the
	// username is not the client ID, or either is empty; for the plain
	// baseline: the client ID is not a device ID).
	ReasonClientID Reason = "client_id"
	// ReasonBadUsername: a CONNECT username that is neither empty nor the
	// device's ID.
	ReasonBadUsername Reason = "bad_username"
	// ReasonBadPassword: tls only; the CONNECT password failed the
	// password check (or the device is unknown to it).
	ReasonBadPassword Reason = "bad_password"
	// ReasonACLPublish: a PUBLISH to a topic outside the device's.
	ReasonACLPublish Reason = "acl_publish"
	// ReasonACLSubscribe: a SUBSCRIBE with a filter outside the device's.
	ReasonACLSubscribe Reason = "acl_subscribe"
	// ReasonACLWill: a CONNECT whose will topic is outside the device's.
	ReasonACLWill Reason = "acl_will"
	// ReasonProtocolViolation: a well-formed packet out of place (a first
	// packet that is not a CONNECT, a second CONNECT, a packet only a
	// server sends, an unknown topic alias, ...).
	ReasonProtocolViolation Reason = "protocol_violation"
	// ReasonOversizePacket: a packet longer than the broker or the bridge
	// takes.
	ReasonOversizePacket Reason = "oversize_packet"
	// ReasonConnectTimeout: no whole CONNECT within the CONNECT deadline
	// after the connection or its handshake was established (embedded
	// broker and bridge). MQTT 3.1.1 and 5.0 §3.1.4: "If the Server does
	// not receive a CONNECT packet within a reasonable amount of time after
	// the Network Connection is established, the Server SHOULD close the
	// Network Connection."
	ReasonConnectTimeout Reason = "connect_timeout"
	// ReasonIdleTimeout: bridge; no packet from the device within the idle
	// bound.
	ReasonIdleTimeout Reason = "idle_timeout"
	// ReasonBrokerUnavailable: bridge; the external broker could not be
	// reached.
	ReasonBrokerUnavailable Reason = "broker_unavailable"
)

// Device reasons: why a simulated device (package simulator) or the
// attacker's lab (package mitm) saw a step fail beyond the handshake
// reasons: its own dial, the MQTT session after the handshake.
//
// docs/protocol.md lists them in the table "device reason".
const (
	ReasonFDLimit      Reason = "fd_limit"       // the process ran out of file descriptors
	ReasonNoSourcePort Reason = "no_source_port" // no ephemeral port left for the source address
	ReasonConnRefused  Reason = "conn_refused"   // nothing listens (or the backlog overflowed)
	ReasonConnReset    Reason = "conn_reset"     // the peer reset the connection
	// ReasonNotAuthorized: CONNACK return code 5.
	ReasonNotAuthorized Reason = "not_authorized"
	// ReasonBadCredentials: CONNACK return code 4.
	ReasonBadCredentials Reason = "bad_credentials"
	// ReasonConnackRefused: the broker refused the CONNECT with a CONNACK
	// return code (the simulator: one other than 4 and 5).
	ReasonConnackRefused Reason = "connack_refused"
	ReasonSubackRefused  Reason = "suback_refused" // SUBACK return code 0x80
	ReasonAckTimeout     Reason = "ack_timeout"    // no acknowledgement within the scenario's ack timeout
	ReasonNotReceived    Reason = "not_received"   // acknowledged but never at the subscriber
)

// Board-link reasons: the serial link to a board failed (harness,
// harness/boardproto, docs/board-protocol.md).
//
// docs/protocol.md lists them in the table "board reason".
const (
	ReasonBadChecksum        Reason = "bad_checksum"        // CRC of a frame did not match
	ReasonUnsupportedVersion Reason = "unsupported_version" // the peer speaks another protocol version
	ReasonBoardReset         Reason = "board_reset"         // the board rebooted during the operation
	ReasonLinkLost           Reason = "link_lost"           // the port went away, or frames were lost
	ReasonResetUnavailable   Reason = "reset_unavailable"   // the port has no modem lines to reset with
	ReasonNoResponse         Reason = "no_response"         // the board did not answer a command
)

// Board-status reasons: a board refused a command with a status
// (docs/board-protocol.md §6.1): "board_" and the status's lower-case
// name, as boardproto.Status.Reason returns them.
//
// docs/protocol.md lists them in the table "board reason".
const (
	ReasonBoardUnknownCommand     Reason = "board_unknown_command"     // the command is not implemented
	ReasonBoardBadLength          Reason = "board_bad_length"          // payload length wrong for the command
	ReasonBoardBadValue           Reason = "board_bad_value"           // a field out of range
	ReasonBoardUnsupported        Reason = "board_unsupported"         // profile, curve, mode or operation not in the firmware
	ReasonBoardBusy               Reason = "board_busy"                // a handshake or session is running
	ReasonBoardNotProvisioned     Reason = "board_not_provisioned"     // no identity for the requested profile
	ReasonBoardNoSession          Reason = "board_no_session"          // SEND or CLOSE without a session
	ReasonBoardStorage            Reason = "board_storage"             // non-volatile storage failed
	ReasonBoardUnsupportedVersion Reason = "board_unsupported_version" // the frame's version is not spoken by the board
	ReasonBoardNoCredit           Reason = "board_no_credit"           // RELAY_DATA beyond the credit granted
	ReasonBoardTooLarge           Reason = "board_too_large"           // a size beyond the board's buffers
	ReasonBoardInternal           Reason = "board_internal"            // a local failure of the board
)

// ReasonBoardStatusPrefix begins the reason of a status code this host does
// not know (a newer firmware's): the prefix and the code as
// boardproto.Status.String writes it, "board_status_0x0D".
const ReasonBoardStatusPrefix = "board_status_"
