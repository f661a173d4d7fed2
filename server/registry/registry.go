package registry

import (
	"context"
	"errors"
	"time"

	"shakedown/handshake"
)

// Registry is the server's store of devices and of its own static keys. The
// handshake listeners use it as a handshake.Directory and a
// handshake.CounterStore; the administration commands use the rest.
//
// A Registry is safe for concurrent use. Several Registry values, in one
// process or in several, may share one database: every method reads or
// writes the database itself, so a revocation made through one handle is
// seen by the next lookup through any other.
type Registry interface {
	// DeviceByID and DeviceByKey find a device for a handshake. A revoked
	// device is returned with Revoked set; handshake.CheckRecord refuses it.
	// Failures are *handshake.Error values (stage lookup) that wrap
	// handshake.ErrUnknownDevice when there is no such device; they never
	// contain the ID or key that was looked up.
	handshake.Directory

	// AcceptCounter records counter as the device's last accepted message-1
	// counter when it is greater (as an unsigned 64-bit number) than the one
	// stored, and returns only once that is durable. It refuses an unknown
	// device (wrapping handshake.ErrUnknownDevice), a revoked one (ErrRevoked)
	// and a counter not greater than the stored one (handshake.ErrCounterReplay)
	// with a *handshake.Error of stage msg1. Counter 0 is never accepted,
	// nor the reserved noise.CounterReserved (2^64-1, reason
	// counter_reserved). Concurrent calls are batched into one commit.
	handshake.CounterStore

	// ResetCounter sets the device's last accepted message-1 counter back
	// to 0, durably, records the reset (Device.CounterReset and an audit
	// row keeping the counter it replaced) and returns the replaced counter.
	// An unknown device fails with an error wrapping
	// handshake.ErrUnknownDevice. After a reset, every message 1 the device
	// ever sent is acceptable again (once, in counter order): reset only a
	// device that lost its counter, and let it connect at once.
	ResetCounter(ctx context.Context, id string) (previous uint64, err error)

	// Device returns the full record of one device.
	Device(ctx context.Context, id string) (Device, error)
	// AddDevice registers one device. A duplicate ID, or a key already
	// registered for the same profile, fails with an error wrapping ErrExists;
	// a record that fails validation, or a machine password hash made under
	// another registry's PasswordKey, with one wrapping ErrInvalid.
	AddDevice(ctx context.Context, d Device) error
	// ImportDevices registers devices in one transaction: all or none.
	ImportDevices(ctx context.Context, ds []Device) error
	// ListDevices returns one page of devices in ID order.
	ListDevices(ctx context.Context, opt ListOptions) (Page, error)
	// ExportDevices calls fn for every device matching opt (Limit sets the
	// page size of the reads), in ID order, stopping at fn's first error.
	// Its output is valid input for ImportDevices.
	ExportDevices(ctx context.Context, opt ListOptions, fn func(Device) error) error
	// Revoke marks a device revoked, durably, before it returns. Revoking a
	// revoked device succeeds. There is no way back: register a new device.
	Revoke(ctx context.Context, id string) error
	// TouchLastSeen notes that the device was seen at t. Notes are kept in
	// memory and written in batches, at the latest LastSeenFlushInterval
	// later and on Close; a note for an unknown device is dropped.
	TouchLastSeen(id string, t time.Time)

	// StoredPassword returns what the MQTT password check of a tls device
	// needs: its record and its stored password hash ("" when it has none).
	// Failures are like DeviceByID's.
	StoredPassword(ctx context.Context, id string) (handshake.DeviceRecord, string, error)
	// PasswordKey returns the key of machine password hashes
	// (credential.HashMachine), making it on first use. Every gateway on
	// the database shares it; it never leaves the registry except to the
	// server and the administration commands.
	PasswordKey(ctx context.Context) ([]byte, error)

	// ServerKeys returns the server's noise static keys. When no key has
	// been promoted yet it returns what it has and an error wrapping
	// ErrNoServerKey.
	ServerKeys(ctx context.Context) (ServerKeys, error)
	// AnnounceNextKey records kp as the next key, which message 2 announces
	// to devices. Announcing the announced key again succeeds; announcing a
	// different one while one is pending, or the current key, fails with
	// ErrExists.
	AnnounceNextKey(ctx context.Context, kp Keypair) error
	// PromoteNextKey makes the next key current and keeps the current one
	// as Previous, in one transaction. Without a next key it fails with
	// ErrNoServerKey.
	PromoteNextKey(ctx context.Context) error

	// Close writes pending last-seen notes and releases the database. It is
	// safe to call twice; calls after the first return the first's result.
	Close() error
}

// Errors callers branch on (wrapped, test with errors.Is). Lookups and
// counters also wrap handshake.ErrUnknownDevice and handshake.ErrCounterReplay.
var (
	ErrExists      = errors.New("already exists")
	ErrInvalid     = errors.New("invalid record")
	ErrRevoked     = errors.New("device revoked")
	ErrNoServerKey = errors.New("no server key")
	ErrClosed      = errors.New("registry closed")
)

// LastSeenFlushInterval is how long a TouchLastSeen note may stay in memory.
const LastSeenFlushInterval = time.Second

// Open opens the registry named by dsn, creating or migrating its schema:
//
//	sqlite:PATH  or a bare PATH         an SQLite file, created when missing
//	postgres://USER@HOST:PORT/DB?...    a PostgreSQL database (also postgresql://)
//
// See the package documentation for what each backend guarantees.
func Open(ctx context.Context, dsn string) (Registry, error) {
	kind, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var b backend
	switch kind {
	case kindSQLite:
		b, err = openSQLite(ctx, target)
	case kindPostgres:
		b, err = openPostgres(ctx, target)
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, b); err != nil {
		b.close()
		return nil, err
	}
	return newStore(b), nil
}
