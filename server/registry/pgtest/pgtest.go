// Package pgtest gives a test or a benchmark a PostgreSQL schema of its
// own in the database that SHAKEDOWN_PG_DSN names (scripts/postgres.sh
// starts a throwaway cluster and prints one), so runs never share tables.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"
)

// Environment of the PostgreSQL tests.
const (
	EnvDSN     = "SHAKEDOWN_PG_DSN"     // a database the tests may create schemas in
	EnvRequire = "SHAKEDOWN_REQUIRE_PG" // "1": fail, rather than skip, without a DSN
	HowTo      = "PostgreSQL specs need " + EnvDSN + "; run: export " + EnvDSN + "=$(scripts/postgres.sh start)"
)

// TB is what Schema needs of a test, a benchmark or GinkgoT().
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Schema creates a schema named prefix plus a random suffix in the
// database of SHAKEDOWN_PG_DSN and returns a DSN whose search_path selects
// it; the schema is dropped when t ends. Without the variable t fails with
// HowTo.
func Schema(t TB, prefix string) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		t.Fatalf("%s", HowTo)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: parsing %s: %v", EnvDSN, err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connecting to %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	schema := pgx.Identifier{prefix + hex.EncodeToString(suffix)}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: creating schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	q := u.Query()
	q.Set("search_path", prefix+hex.EncodeToString(suffix))
	u.RawQuery = q.Encode()
	return u.String()
}
