package broker

import "shakedown/handshake"

// Reasons an MQTT packet or session of a device is refused after its
// handshake, shared by the embedded broker and the bridge. Like the
// handshake's reasons they are stable metric labels and log values and never
// carry peer bytes.
const (
	// ReasonClientID: the CONNECT client ID is not the authenticated device
	// ID (for tls, where CONNECT credentials identify the device: the
	// username is not the client ID, or either is empty; for the plain
	// baseline: the client ID is not a device ID).
	ReasonClientID handshake.Reason = "client_id"
	// ReasonUsername: a CONNECT username that is neither empty nor the
	// device's ID.
	ReasonUsername handshake.Reason = "bad_username"
	// ReasonBadPassword: tls only; the CONNECT password failed the
	// Options.Passwords check (or the device is unknown to it).
	ReasonBadPassword handshake.Reason = "bad_password"
	// ReasonACLPublish: a PUBLISH to a topic outside the device's.
	ReasonACLPublish handshake.Reason = "acl_publish"
	// ReasonACLSubscribe: a SUBSCRIBE with a filter outside the device's.
	ReasonACLSubscribe handshake.Reason = "acl_subscribe"
	// ReasonACLWill: a CONNECT whose will topic is outside the device's.
	ReasonACLWill handshake.Reason = "acl_will"
	// ReasonMalformed: a packet that does not decode or validate.
	ReasonMalformed = handshake.ReasonMalformed
	// ReasonProtocol: a well-formed packet out of place (a first packet
	// that is not a CONNECT, a second CONNECT, a packet only a server
	// sends, an unknown topic alias, ...).
	ReasonProtocol handshake.Reason = "protocol_violation"
	// ReasonOversize: a packet longer than the broker or bridge takes.
	ReasonOversize handshake.Reason = "oversize_packet"
)

// PlainProfile is the profile label of the plain MQTT baseline listener,
// which has no handshake.
const PlainProfile = LabelPlain
