// Package registry is the reference server's store of devices and of its own
// static keys, on SQLite (the embedded default) or PostgreSQL (several
// gateways sharing one registry). Both backends run the same queries and
// pass the same test suite.
//
// # Opening
//
//	reg, err := registry.Open(ctx, "sqlite:data/registry.db")
//	reg, err := registry.Open(ctx, "registry.db") // a bare path is SQLite too
//	reg, err := registry.Open(ctx, "postgres://shakedown@db:5432/shakedown?sslmode=verify-full")
//	defer reg.Close()
//
// SQLite needs nothing installed (modernc.org/sqlite is pure Go). The file is
// created with mode 0600 when missing: it holds device keys and the server's
// private keys. Several processes may open one file; they take turns writing.
//
// PostgreSQL takes any pgx connection URL; pgx pool settings such as
// pool_max_conns go in its query, and so do session settings such as
// search_path, which puts the registry in a schema of its own.
//
// Open creates the schema, or migrates it to this program's version, in one
// transaction (the schema_version table records the versions applied). A
// database migrated by a newer program is refused.
//
// # Use
//
// The handshake listeners use a Registry as their handshake.Directory and
// handshake.CounterStore. Lookup and counter failures are *handshake.Error
// values with stable reason codes (unknown_device, revoked, counter_replay,
// registry); they never quote the ID or key that was looked up.
//
// Administration: AddDevice and ImportDevices (one transaction for a whole
// batch), ListDevices (filter by profile and state, pages in ID order),
// ExportDevices, Revoke; server-key rollover with AnnounceNextKey, which
// message 2 then announces to devices, and PromoteNextKey once devices have
// learned it. PasswordKey is the key of the tls profile's machine password
// hashes (package server/credential); StoredPassword is what a password
// check reads.
//
// # Durability
//
// What a method returned is durable when it returns, against a killed
// process and, for SQLite, a power loss:
//
//   - AcceptCounter, Revoke, AddDevice, ImportDevices, AnnounceNextKey and
//     PromoteNextKey return after their transaction commits. SQLite runs in
//     WAL mode with synchronous=FULL: every commit syncs the WAL. PostgreSQL
//     connections run with synchronous_commit=on: a commit returns after its
//     WAL record is flushed (a DSN asking for synchronous_commit=off is
//     refused). A stored counter therefore never moves backwards and a
//     revoked device stays revoked, whatever kills the server.
//   - Concurrent AcceptCounter calls share commits (group commit): N
//     handshakes waiting together cost one sync, and each call still returns
//     only after the commit that carries its counter.
//   - TouchLastSeen is not durable when it returns: notes are written at
//     most LastSeenFlushInterval later and on Close, and a crash loses the
//     unwritten ones. AcceptCounter also records the time it accepted.
//
// Every read goes to the database, so a revocation or a counter stored
// through one Registry is seen at once by every other one on the same
// database.
package registry
