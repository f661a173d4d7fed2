package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The schema, version by version. A version, once released, never changes:
// a change is a new version appended to both lists.
//
// Columns of devices:
//
//	id            the device ID; byte order ("C" collation) in both backends
//	profile       noise, seed, psk or tls
//	curve         the seed profile's curve, else ''
//	key_material  the profile's key; NULL for tls (NULLs never collide in the unique index)
//	state         active or revoked
//	counter       the last accepted message-1 counter: the bits of the uint64
//	              as a signed 64-bit integer (see acceptCounterSQL)
//	password_hash the tls profile's argon2id or bcrypt hash, else ''
//	grants        extra topic filters, a JSON array of strings
//	created_us    Unix time in microseconds
//	last_seen_us  Unix time in microseconds; 0 when never seen
//	counter_reset_us  when ResetCounter last zeroed counter, Unix
//	              microseconds; 0 when never (version 2)
//
// Version 2 constrains id to the device ID rule (handshake.ValidDeviceID):
// a CHECK in both backends. A database whose IDs break the rule is not
// migrated (checkDeviceIDs); docs/registry.md says how to fix it.
//
// counter_resets (version 2) keeps every reset: the device, the counter it
// replaced (bits as in counter) and when.
//
// server_keys holds at most one row per role (current, next, previous);
// since_us is when the key took its role.
//
// server_secrets (version 2) holds the server's symmetric secrets by name:
// mqtt_password is the key of machine password hashes (PasswordKey);
// since_us is when it was made.
var (
	sqliteSchema = [][]string{
		{ // version 1
			`CREATE TABLE devices (
				id            TEXT    NOT NULL PRIMARY KEY,
				profile       TEXT    NOT NULL CHECK (profile IN ('noise', 'seed', 'psk', 'tls')),
				curve         TEXT    NOT NULL DEFAULT '',
				key_material  BLOB,
				state         TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked')),
				counter       INTEGER NOT NULL DEFAULT 0,
				password_hash TEXT    NOT NULL DEFAULT '',
				grants        TEXT    NOT NULL DEFAULT '[]',
				created_us    INTEGER NOT NULL,
				last_seen_us  INTEGER NOT NULL DEFAULT 0
			) WITHOUT ROWID`,
			`CREATE UNIQUE INDEX devices_by_key ON devices (profile, key_material)`,
			`CREATE TABLE server_keys (
				role     TEXT    NOT NULL PRIMARY KEY CHECK (role IN ('current', 'next', 'previous')),
				private  BLOB    NOT NULL,
				public   BLOB    NOT NULL,
				since_us INTEGER NOT NULL
			)`,
		},
		{ // version 2: the device ID rule, counter resets. SQLite adds a
			// CHECK to a table by building a new one (SQLite manual, "ALTER
			// TABLE", §7 "Making Other Kinds Of Table Schema Changes").
			// length() of text stops at a NUL byte, of a blob it does not:
			// equal lengths keep NUL out, which GLOB would not see.
			`CREATE TABLE devices_v2 (
				id            TEXT    NOT NULL PRIMARY KEY CHECK (
					length(CAST(id AS BLOB)) BETWEEN 1 AND 128 AND length(id) = length(CAST(id AS BLOB))
					AND id NOT GLOB '*[^A-Za-z0-9._:-]*'),
				profile       TEXT    NOT NULL CHECK (profile IN ('noise', 'seed', 'psk', 'tls')),
				curve         TEXT    NOT NULL DEFAULT '',
				key_material  BLOB,
				state         TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked')),
				counter       INTEGER NOT NULL DEFAULT 0,
				password_hash TEXT    NOT NULL DEFAULT '',
				grants        TEXT    NOT NULL DEFAULT '[]',
				created_us    INTEGER NOT NULL,
				last_seen_us  INTEGER NOT NULL DEFAULT 0,
				counter_reset_us INTEGER NOT NULL DEFAULT 0
			) WITHOUT ROWID`,
			`INSERT INTO devices_v2 (` + deviceColumnsV1 + `) SELECT ` + deviceColumnsV1 + ` FROM devices`,
			`DROP TABLE devices`,
			`ALTER TABLE devices_v2 RENAME TO devices`,
			`CREATE UNIQUE INDEX devices_by_key ON devices (profile, key_material)`,
			`CREATE TABLE counter_resets (
				device_id TEXT    NOT NULL,
				previous  INTEGER NOT NULL,
				reset_us  INTEGER NOT NULL
			)`,
			`CREATE INDEX counter_resets_by_device ON counter_resets (device_id, reset_us)`,
		},
		{ // version 3: the key of machine MQTT passwords (HMAC-SHA-256)
			`CREATE TABLE server_secrets (
				name     TEXT    NOT NULL PRIMARY KEY CHECK (name IN ('mqtt_password')),
				secret   BLOB    NOT NULL,
				since_us INTEGER NOT NULL
			)`,
		},
	}

	postgresSchema = [][]string{
		{ // version 1
			`CREATE TABLE devices (
				id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
				profile       TEXT   NOT NULL CHECK (profile IN ('noise', 'seed', 'psk', 'tls')),
				curve         TEXT   NOT NULL DEFAULT '',
				key_material  BYTEA,
				state         TEXT   NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'revoked')),
				counter       BIGINT NOT NULL DEFAULT 0,
				password_hash TEXT   NOT NULL DEFAULT '',
				grants        TEXT   NOT NULL DEFAULT '[]',
				created_us    BIGINT NOT NULL,
				last_seen_us  BIGINT NOT NULL DEFAULT 0
			)`,
			`CREATE UNIQUE INDEX devices_by_key ON devices (profile, key_material)`,
			`CREATE TABLE server_keys (
				role     TEXT   NOT NULL PRIMARY KEY CHECK (role IN ('current', 'next', 'previous')),
				private  BYTEA  NOT NULL,
				public   BYTEA  NOT NULL,
				since_us BIGINT NOT NULL
			)`,
		},
		{ // version 2: the device ID rule, counter resets. The column's "C"
			// collation makes the ranges byte ranges.
			`ALTER TABLE devices ADD CONSTRAINT devices_id_rule CHECK (id ~ '^[A-Za-z0-9._:-]{1,128}$')`,
			`ALTER TABLE devices ADD COLUMN counter_reset_us BIGINT NOT NULL DEFAULT 0`,
			`CREATE TABLE counter_resets (
				device_id TEXT COLLATE "C" NOT NULL,
				previous  BIGINT NOT NULL,
				reset_us  BIGINT NOT NULL
			)`,
			`CREATE INDEX counter_resets_by_device ON counter_resets (device_id, reset_us)`,
		},
		{ // version 3: the key of machine MQTT passwords (HMAC-SHA-256)
			`CREATE TABLE server_secrets (
				name     TEXT   NOT NULL PRIMARY KEY CHECK (name IN ('mqtt_password')),
				secret   BYTEA  NOT NULL,
				since_us BIGINT NOT NULL
			)`,
		},
	}

	// preMigrations run in the migration's transaction before the version
	// they are listed for, on a database that has an earlier version.
	preMigrations = map[int]func(ctx context.Context, tx querier) error{
		2: checkDeviceIDs,
	}
)

// deviceColumnsV1 are the columns of devices in schema version 1.
const deviceColumnsV1 = `id, profile, curve, key_material, state, counter, password_hash, grants, created_us, last_seen_us`

// maxBadIDsShown bounds the IDs a refused migration quotes.
const maxBadIDsShown = 5

// ErrDeviceIDs is the error of opening a registry whose device IDs break
// the device ID rule (registered before schema version 2).
var ErrDeviceIDs = errors.New("device IDs break the device ID rule (1 to 128 letters, digits, '.', '_', '-' or ':')")

// checkDeviceIDs refuses to migrate a registry that holds IDs the rule of
// version 2 refuses: such an ID is a topic level (or a wildcard) reaching
// into other devices' MQTT topics, and the operator must choose what
// becomes of each device.
func checkDeviceIDs(ctx context.Context, tx querier) error {
	rows, err := tx.query(ctx, `SELECT id FROM devices ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var bad []string
	n := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if validID(id) {
			continue
		}
		n++
		if len(bad) < maxBadIDsShown {
			bad = append(bad, strconv.Quote(id))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d registered devices, among them %s. Nothing was changed: rename or delete them "+
		"with SQL as docs/registry.md (\"Device IDs from before schema version 2\") shows, then open the registry again",
		ErrDeviceIDs, n, strings.Join(bad, ", "))
}

const (
	createVersionTableSQL = `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_us BIGINT  NOT NULL
	)`
	schemaVersionSQL    = `SELECT COALESCE(MAX(version), 0) FROM schema_version`
	insertVersionSQL    = `INSERT INTO schema_version (version, applied_us) VALUES ($1, $2)`
	errSchemaTooNewText = "registry: the database schema (version %d) is newer than this program's (version %d)"
)

// migrate creates the schema or brings it to the newest version, in one
// transaction, holding the registry lock so that gateways starting together
// migrate once.
func migrate(ctx context.Context, b backend) error {
	err := b.inTx(ctx, func(tx querier) error {
		if err := b.lock(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, createVersionTableSQL); err != nil {
			return err
		}
		var have int
		if err := tx.queryRow(ctx, schemaVersionSQL).Scan(&have); err != nil {
			return err
		}
		versions := b.migrations()
		if have > len(versions) {
			return fmt.Errorf(errSchemaTooNewText, have, len(versions))
		}
		for v := have + 1; v <= len(versions); v++ {
			if check := preMigrations[v]; check != nil && have > 0 {
				if err := check(ctx, tx); err != nil {
					return fmt.Errorf("to version %d: %w", v, err)
				}
			}
			for _, stmt := range versions[v-1] {
				if _, err := tx.exec(ctx, stmt); err != nil {
					return fmt.Errorf("applying version %d: %w", v, err)
				}
			}
			if _, err := tx.exec(ctx, insertVersionSQL, v, time.Now().UnixMicro()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("registry: migrating schema: %w", err)
	}
	return nil
}
