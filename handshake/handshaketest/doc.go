// Package handshaketest holds in-memory implementations of the server-side
// interfaces of package handshake (Directory, CounterStore) for tests and
// benchmarks that need no registry, and JSONNumbers, which test vector
// files are checked with: they write 64-bit integers as decimal strings.
package handshaketest
