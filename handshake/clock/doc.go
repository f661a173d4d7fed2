// Package clock is where a device's clock comes from before it checks a
// certificate's dates: a time server on the network. It holds both sides of
// the two protocols the MITM matrix compares:
//
//   - SNTP (RFC 4330; the client is github.com/beevik/ntp): the device
//     asks a server it cannot authenticate. NTPResponder is a small server
//     that answers with the time of its own clock: the lab's honest server,
//     or an attacker's forged one.
//   - Roughtime (draft-ietf-ntp-roughtime-19, version 1): the device sends
//     a fresh nonce and accepts only a response that the server's pinned
//     Ed25519 key signed, through a delegation, over that nonce.
//     RoughtimeServer answers single requests (a Merkle tree of one leaf).
//
// A device holds a Source and asks it once per handshake:
//
//	src := clock.NewRoughtime(addr, pinnedKey)
//	now, err := src.Time(ctx)
//
// A Source fails closed: no answer in time is ErrUnavailable, an answer
// that fails its checks wraps ErrRejected. Neither error carries bytes the
// server sent.
package clock
