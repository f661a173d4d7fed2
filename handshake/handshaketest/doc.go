// Package handshaketest holds in-memory implementations of the server-side
// interfaces of package handshake (Directory, CounterStore) for tests and
// benchmarks that need no registry.
package handshaketest
