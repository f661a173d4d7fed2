// Command vectorgen writes the psk profile's example exchange
// (testdata/vectors.txt) from the specification in docs/protocol.md, using
// golang.org/x/crypto/hkdf and crypto/aes directly, not package psk, so the
// vector test checks the package against an independent computation.
//
//	go run ./internal/vectorgen -o testdata/vectors.txt
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"golang.org/x/crypto/hkdf"
)

const (
	deviceID = "psk-0001"
	label    = "shakedown psk v1"
)

// The application bytes of the example are MQTT 3.1.1 packets (OASIS MQTT
// 3.1.1 §3.1, §3.2, §3.12): what a device sends first.
var (
	// CONNECT: fixed header 0x10, remaining length 20; protocol name "MQTT",
	// level 4, flags 0x02 (clean session), keep alive 60; client ID psk-0001.
	connect = mustHex("1014" + "00044d515454" + "04" + "02" + "003c" + "0008" + hex.EncodeToString([]byte(deviceID)))
	// CONNACK: session present 0, return code 0 (accepted).
	connack = mustHex("20020000")
	// PINGREQ.
	pingreq = mustHex("c000")
)

func main() {
	out := flag.String("o", "", "output file (standard output when empty)")
	flag.Parse()
	var b strings.Builder
	if err := write(&b); err != nil {
		log.Fatal(err)
	}
	if *out == "" {
		fmt.Print(b.String())
		return
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

func write(w io.Writer) error {
	psk := make([]byte, 32)
	for i := range psk {
		psk[i] = byte(i)
	}
	// msg1 = version || idlen || id, in a frame (2-byte big-endian length).
	msg1 := append([]byte{0x01, byte(len(deviceID))}, deviceID...)
	info := append(append([]byte(label), 0x00), deviceID...)
	okm := make([]byte, 64)
	if _, err := io.ReadFull(hkdf.New(sha256.New, psk, nil, info), okm); err != nil {
		return err
	}
	kds, ksd := okm[:32], okm[32:]
	ds0, err := record(kds, 0, connect)
	if err != nil {
		return err
	}
	sd0, err := record(ksd, 0, connack)
	if err != nil {
		return err
	}
	ds1, err := record(kds, 1, pingreq)
	if err != nil {
		return err
	}
	lines := []struct{ k, v string }{
		{"device_id", deviceID},
		{"psk", hex.EncodeToString(psk)},
		{"msg1", hex.EncodeToString(frame(msg1))},
		{"info", hex.EncodeToString(info)},
		{"okm", hex.EncodeToString(okm)},
		{"k_ds", hex.EncodeToString(kds)},
		{"k_sd", hex.EncodeToString(ksd)},
		{"ds0_plain", hex.EncodeToString(connect)},
		{"ds0", hex.EncodeToString(ds0)},
		{"sd0_plain", hex.EncodeToString(connack)},
		{"sd0", hex.EncodeToString(sd0)},
		{"ds1_plain", hex.EncodeToString(pingreq)},
		{"ds1", hex.EncodeToString(ds1)},
	}
	fmt.Fprintln(w, "# psk profile v1: one example exchange (docs/protocol.md, psk section).")
	fmt.Fprintln(w, "# Written by internal/vectorgen; hex except device_id. msg1, ds0, sd0 and ds1")
	fmt.Fprintln(w, "# are whole frames (2-byte big-endian length first); dsN travels")
	fmt.Fprintln(w, "# device -> server under k_ds with record number N, sdN server -> device under k_sd.")
	for _, l := range lines {
		fmt.Fprintf(w, "%s = %s\n", l.k, l.v)
	}
	return nil
}

// record seals plaintext as record n of a direction and frames it:
// nonce = 4 zero bytes || n (8 bytes, big-endian), no additional data.
func record(key []byte, n uint64, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, 12)
	binary.BigEndian.PutUint64(nonce[4:], n)
	return frame(aead.Seal(nil, nonce, plaintext, nil)), nil
}

func frame(msg []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
