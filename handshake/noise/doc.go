// Package noise is shakedown's recommended profile: the device side and the
// server side of Noise_IK_25519_ChaChaPoly_SHA256 (Noise Protocol Framework,
// revision 34), built on github.com/flynn/noise.
//
// The device pins the server's static public key: no certificates and no
// clock. On top of the Noise pattern the profile fixes three things (see
// docs/protocol.md for the bytes):
//
//   - framing: every handshake and transport message is a 2-byte big-endian
//     length followed by the message (package handshake);
//   - message 1 payload: the device's 8-byte big-endian monotonic counter. The
//     server accepts it only when it is greater than the last one it stored
//     for that device (handshake.CounterStore), so a replayed message 1 is
//     refused without a clock;
//   - message 2 payload: the server's key announcement (current and next
//     static public key), authenticated by the handshake, which the device
//     applies to its Pins so it survives a server-key rollover.
//
// Transport: one Noise transport message per frame; each direction rekeys
// (Noise §11.3) after every RekeyInterval messages.
//
// Patterns XK and KK are selectable for comparison. In XK the counter travels
// in message 3, the first message that authenticates the device; in KK the
// device first sends its ID in a plaintext hello frame so the server can pick
// the device's static key, and the ID is bound to the handshake through the
// prologue.
//
// Usage, device side:
//
//	pins, _ := noise.NewPins(serverPub)
//	dev, _ := noise.NewDevice(noise.DeviceConfig{Static: kp, Pins: pins, Counter: ctr})
//	conn, err := handshake.Dial(ctx, dev, "tcp", "gateway:8885")
//
// Server side:
//
//	ring := noise.NewKeyRing(noise.ServerKeys{Current: skp})
//	srv, _ := noise.NewServer(noise.ServerConfig{Keys: ring, Directory: reg, Counters: reg})
//	conn, id, err := srv.Handshake(ctx, raw)
package noise
