package tlsprofile

import "shakedown/handshake"

// SessionError classifies an error of a device's or server's *tls.Conn after
// its handshake (a record that does not open, an alert, a closed
// connection) the way a failed handshake is classified, as an
// *handshake.Error at StageTransport. A record whose MAC fails is
// ReasonDecrypt. The MITM lab uses it to name what each side saw; the text
// carries nothing the peer sent.
func SessionError(err error) *handshake.Error {
	if err == nil {
		return nil
	}
	reason, e := classify(err)
	return &handshake.Error{Profile: handshake.TLS, Stage: handshake.StageTransport, Reason: reason, Err: e}
}
