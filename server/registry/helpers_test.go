package registry_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"shakedown/handshake"
	"shakedown/server/credential"
	"shakedown/server/registry"
	"shakedown/server/registry/pgtest"
)

// Environment of the PostgreSQL tests.
const (
	envPGDSN     = pgtest.EnvDSN
	envRequirePG = pgtest.EnvRequire
	pgHowTo      = pgtest.HowTo
)

// tb is what the helpers need of a test, a benchmark or GinkgoT().
type tb interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// backendUnderTest is one backend as the shared suite sees it.
type backendUnderTest struct {
	name string
	// fresh returns the DSN of an empty registry database that lives until
	// the test ends.
	fresh func(t tb) string
	// raw runs one statement on the database behind dsn, bypassing the registry.
	raw func(t tb, dsn, stmt string)
	// exec runs one statement like raw and returns its error.
	exec func(t tb, dsn, stmt string) error
	// count runs a query returning one integer, bypassing the registry.
	count func(t tb, dsn, query string) int64
}

var sqliteBackend = backendUnderTest{
	name: "SQLite",
	fresh: func(t tb) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "registry.db")
	},
	raw: func(t tb, dsn, stmt string) {
		t.Helper()
		if err := sqliteExec(t, dsn, stmt); err != nil {
			t.Fatalf("running %q: %v", stmt, err)
		}
	},
	exec: sqliteExec,
	count: func(t tb, dsn, query string) int64 {
		t.Helper()
		db := sqliteDB(t, dsn)
		defer db.Close()
		var n int64
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("running %q: %v", query, err)
		}
		return n
	},
}

func sqliteDB(t tb, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
	if err != nil {
		t.Fatalf("opening sqlite: %v", err)
	}
	return db
}

func sqliteExec(t tb, dsn, stmt string) error {
	t.Helper()
	db := sqliteDB(t, dsn)
	defer db.Close()
	_, err := db.Exec(stmt)
	return err
}

var postgresBackend = backendUnderTest{
	name:  "PostgreSQL",
	fresh: freshPostgres,
	raw: func(t tb, dsn, stmt string) {
		t.Helper()
		if err := postgresExec(t, dsn, stmt); err != nil {
			t.Fatalf("running %q: %v", stmt, err)
		}
	},
	exec: postgresExec,
	count: func(t tb, dsn, query string) int64 {
		t.Helper()
		ctx := context.Background()
		conn := postgresConn(t, dsn)
		defer conn.Close(ctx)
		var n int64
		if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
			t.Fatalf("running %q: %v", query, err)
		}
		return n
	},
}

func postgresConn(t tb, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	return conn
}

func postgresExec(t tb, dsn, stmt string) error {
	t.Helper()
	ctx := context.Background()
	conn := postgresConn(t, dsn)
	defer conn.Close(ctx)
	_, err := conn.Exec(ctx, stmt)
	return err
}

// freshPostgres gives the test a schema of its own (package pgtest).
func freshPostgres(t tb) string {
	t.Helper()
	return pgtest.Schema(t, "registry_test_")
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Device makers, one per profile. IDs are unique per process.
var idSeq struct {
	sync.Mutex
	n int
}

func newID(prefix string) string {
	idSeq.Lock()
	defer idSeq.Unlock()
	idSeq.n++
	return fmt.Sprintf("%s-%06d", prefix, idSeq.n)
}

func noiseDevice() registry.Device {
	return registry.Device{ID: newID("noise"), Profile: handshake.Noise, Key: randomBytes(registry.X25519KeyLen)}
}

func pskDevice() registry.Device {
	return registry.Device{ID: newID("psk"), Profile: handshake.PSK, Key: randomBytes(registry.PSKLen)}
}

func seedP256Device() registry.Device {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return registry.Device{ID: newID("seed"), Profile: handshake.Seed, Curve: registry.CurveP256, Key: k.PublicKey().Bytes()}
}

func seedSecp160r1Device() registry.Device {
	return registry.Device{ID: newID("seed160"), Profile: handshake.Seed, Curve: registry.CurveSecp160r1,
		Key: append([]byte{0x04}, randomBytes(registry.Secp160r1PointLen-1)...)}
}

// tlsHash is one imported (argon2id) password hash shared by the tls
// devices of the tests: hashing costs tens of milliseconds.
var tlsHash = sync.OnceValue(func() string {
	h, err := credential.HashArgon2id([]byte("correct horse battery staple"))
	if err != nil {
		panic(err)
	}
	return h
})

// tlsDevice has both credentials: a certificate pin and an imported password.
func tlsDevice() registry.Device {
	return registry.Device{ID: newID("tls"), Profile: handshake.TLS, Key: randomBytes(registry.SPKIPinLen), PasswordHash: tlsHash(),
		Grants: []string{"fleet/+/cmd", "shared/#"}}
}

// tlsCertDevice authenticates with a client certificate only.
func tlsCertDevice() registry.Device {
	return registry.Device{ID: newID("tlscert"), Profile: handshake.TLS, Key: randomBytes(registry.SPKIPinLen)}
}

// noiseKeypair returns a valid X25519 server keypair.
func noiseKeypair() registry.Keypair {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return registry.Keypair{Private: k.Bytes(), Public: k.PublicKey().Bytes()}
}

// openReg opens dsn and closes the registry when the test ends.
func openReg(t tb, dsn string) registry.Registry {
	t.Helper()
	reg, err := registry.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("opening registry: %v", err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}
