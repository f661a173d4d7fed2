// Package app assembles `shakedown serve`: it opens the registry, starts the
// broker (embedded, or a bridge to an external one), the handshake listeners
// of every configured profile, the metrics endpoint and the server-key
// refresher, and drains them on shutdown.
package app
