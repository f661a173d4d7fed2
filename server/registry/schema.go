package registry

import (
	"context"
	"fmt"
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
		{ // version 2
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
		{ // version 2
			`CREATE TABLE server_secrets (
				name     TEXT   NOT NULL PRIMARY KEY CHECK (name IN ('mqtt_password')),
				secret   BYTEA  NOT NULL,
				since_us BIGINT NOT NULL
			)`,
		},
	}
)

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
