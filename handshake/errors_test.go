package handshake_test

import (
	"errors"
	"testing"

	"shakedown/handshake"
)

// TestErrorLeavesOutEmptyFields: an error string never shows an empty
// field between two colons ("handshake: : board_link").
func TestErrorLeavesOutEmptyFields(t *testing.T) {
	cause := errors.New("opening the port: no such file or directory")
	for _, c := range []struct {
		err  *handshake.Error
		want string
	}{
		{&handshake.Error{Profile: handshake.Noise, Stage: handshake.StageMsg1, Reason: handshake.ReasonDecrypt, Err: cause},
			"handshake: noise: msg1: decrypt_failed: opening the port: no such file or directory"},
		{&handshake.Error{Stage: "board_link", Reason: handshake.ReasonIO, Err: cause},
			"handshake: board_link: io: opening the port: no such file or directory"},
		{&handshake.Error{Profile: handshake.PSK, Reason: handshake.ReasonTimeout},
			"handshake: psk: timeout"},
		{&handshake.Error{}, "handshake"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}
