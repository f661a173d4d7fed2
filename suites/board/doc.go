// Package board is the board suite run end to end: the shakedown binary,
// built once, serves every profile from a generated fixture set as a
// separate process (`shakedown serve`); a virtual board on a
// pseudo-terminal, opened through the harness over go.bug.st/serial as a CI
// job opens a real one, is provisioned from the same fixture set and runs
// each profile's handshake in relay mode against that process. MQTT then
// runs over the board's session (harness Session.Conn under a paho client):
// the board's telemetry reaches a backend client on the server's backend
// listener, and the backend's command reaches the board.
//
// It also resets the board in the middle of a handshake and recovers, and
// ends with SIGTERM: the server drains, the board's session ends, and the
// process exits 0.
//
//	go test ./suites/board/
//	go test ./suites/board/ -ginkgo.label-filter=board -ginkgo.v
//
// The suite has no test of its own outside its _test.go files; this file
// documents it. It needs Linux (pseudo-terminals) and a Go toolchain on
// PATH (it builds the binary).
package board
