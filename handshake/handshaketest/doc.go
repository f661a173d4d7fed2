// Package handshaketest holds in-memory implementations of the server-side
// interfaces of package handshake (Directory, CounterStore) for tests and
// benchmarks that need no registry, and JSONNumbers, which test vector
// files are checked with: they write 64-bit integers as decimal strings;
// and NoiseMessages1 with a Queue, which let a benchmark replay fresh noise
// messages 1 to a server in an order it accepts.
package handshaketest
