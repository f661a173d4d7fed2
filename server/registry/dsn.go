package registry

import (
	"errors"
	"strings"
)

// backendKind names a storage backend.
type backendKind int

const (
	kindSQLite backendKind = iota + 1
	kindPostgres
)

// DSN prefixes. A DSN without a scheme is an SQLite path.
const (
	schemeSQLite      = "sqlite:"
	schemePostgres    = "postgres://"
	schemePostgresSQL = "postgresql://"
	// sqliteMemory is SQLite's name for a private in-memory database, which
	// one Registry (a writer pool and a reader pool) cannot share.
	sqliteMemory = ":memory:"
)

var errDSN = errors.New("registry: bad DSN (want sqlite:PATH, a file path, or postgres://...)")

// parseDSN splits dsn into a backend and the backend's target: a file path
// for SQLite, the whole URL for PostgreSQL. Its errors never repeat the DSN,
// which may carry a password.
func parseDSN(dsn string) (backendKind, string, error) {
	switch {
	case strings.HasPrefix(dsn, schemePostgres), strings.HasPrefix(dsn, schemePostgresSQL):
		return kindPostgres, dsn, nil
	case strings.HasPrefix(dsn, schemeSQLite):
		path := strings.TrimPrefix(dsn, schemeSQLite)
		// sqlite:///abs/path and sqlite://rel/path, as URL-minded users write them.
		path = strings.TrimPrefix(path, "//")
		return sqlitePath(path)
	case hasScheme(dsn):
		return 0, "", errDSN
	default:
		return sqlitePath(dsn)
	}
}

// sqlitePath checks a file path for the SQLite backend. The backend appends
// its own query parameters, so the path may carry none.
func sqlitePath(path string) (backendKind, string, error) {
	switch {
	case path == "", path == sqliteMemory:
		return 0, "", errDSN
	case strings.ContainsAny(path, "?#\x00"):
		return 0, "", errDSN
	case strings.HasPrefix(path, "file:"):
		return 0, "", errDSN
	}
	return kindSQLite, path, nil
}

// hasScheme reports whether s starts with an RFC 3986 §3.1 scheme and a colon:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}
