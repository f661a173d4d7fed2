// Package vectors is the cacophony JSON format of Noise test vectors, with
// the noise profile's own fields (device ID, counter, announced next key).
//
// A 64-bit integer is written as a JSON string of its decimal digits
// ("72623859790382856"), never as a JSON number: a reader that parses JSON
// numbers as IEEE 754 doubles, as JavaScript does, keeps only 53 bits of
// them (RFC 8259 §6; RFC 7493 §2.2 recommends strings for such values).
package vectors

import (
	"encoding/hex"
	"encoding/json"
	"os"
)

// Hex is a byte string written as lowercase hex.
type Hex []byte

func (h Hex) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

func (h *Hex) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	*h = d
	return err
}

// File is a vectors file.
type File struct {
	Vectors []Vector `json:"vectors"`
}

// Vector is one handshake and its transport messages.
type Vector struct {
	ProtocolName     string    `json:"protocol_name"`
	InitPrologue     Hex       `json:"init_prologue"`
	InitStatic       Hex       `json:"init_static,omitempty"`
	InitEphemeral    Hex       `json:"init_ephemeral"`
	InitRemoteStatic Hex       `json:"init_remote_static,omitempty"`
	RespPrologue     Hex       `json:"resp_prologue"`
	RespStatic       Hex       `json:"resp_static,omitempty"`
	RespEphemeral    Hex       `json:"resp_ephemeral"`
	RespRemoteStatic Hex       `json:"resp_remote_static,omitempty"`
	HandshakeHash    Hex       `json:"handshake_hash"`
	Messages         []Message `json:"messages"`

	// The noise profile's fields.
	DeviceID string `json:"shakedown_device_id"`
	// Counter is message 1's counter, a decimal string in the file.
	Counter          uint64 `json:"shakedown_counter,string"`
	NextServerStatic Hex    `json:"shakedown_next_server_static"`
}

// Message is one message: its payload and its bytes on the wire (without the frame header).
type Message struct {
	Payload    Hex `json:"payload"`
	Ciphertext Hex `json:"ciphertext"`
}

// Load reads a vectors file.
func Load(path string) (File, error) {
	var f File
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	return f, json.Unmarshal(b, &f)
}
