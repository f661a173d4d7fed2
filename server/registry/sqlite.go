package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDriver is the database/sql name of modernc.org/sqlite.
const sqliteDriver = "sqlite"

// Connection settings of the SQLite backend (query parameters of
// modernc.org/sqlite, applied to every connection):
//
//   - WAL (set by setWAL) lets readers run beside the one writer;
//   - synchronous=FULL syncs the WAL at every commit, so a commit that
//     returned survives a power loss, not only a killed process;
//   - busy_timeout waits for another process's write lock instead of failing;
//   - the writer begins its transactions IMMEDIATE, taking the write lock
//     first, so a transaction never fails to upgrade a read lock;
//   - readers are query_only.
const (
	sqliteBusyTimeoutMS = 5000
	sqliteCommon        = "_busy_timeout=5000&_foreign_keys=1&_synchronous=FULL"
	sqliteWriterParams  = sqliteCommon + "&_txlock=immediate"
	sqliteReaderParams  = sqliteCommon + "&_query_only=1"
	// sqliteFileMode keeps the registry (device keys, the server's private
	// keys) readable by its owner only; SQLite gives its WAL the same mode.
	sqliteFileMode fs.FileMode = 0o600
)

// sqliteDB is the SQLite backend: one writer connection, so that writes of
// this process queue in Go rather than in SQLite's busy loop, and a pool of
// readers. Statements outside transactions are prepared once and kept.
type sqliteDB struct {
	w, r *sql.DB

	mu     sync.Mutex
	wstmts map[string]*sql.Stmt
	rstmts map[string]*sql.Stmt
}

func openSQLite(ctx context.Context, path string) (backend, error) {
	// Create the file with the registry's mode; SQLite opens an empty file
	// as an empty database.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, sqliteFileMode)
	switch {
	case err == nil:
		f.Close()
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("registry: creating sqlite file: %w", err)
	}
	w, err := sql.Open(sqliteDriver, path+"?"+sqliteWriterParams)
	if err != nil {
		return nil, fmt.Errorf("registry: opening sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// The writer connects first: it switches the file to WAL.
	if err := setWAL(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("registry: opening sqlite: %w", err)
	}
	r, err := sql.Open(sqliteDriver, path+"?"+sqliteReaderParams)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("registry: opening sqlite: %w", err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("registry: opening sqlite: %w", err)
	}
	return &sqliteDB{w: w, r: r, wstmts: map[string]*sql.Stmt{}, rstmts: map[string]*sql.Stmt{}}, nil
}

// setWAL switches the database to WAL mode, which persists in the file.
// The switch needs the file to itself and SQLite does not wait for that (its
// busy handler is not called), so processes opening a new file together
// retry here, backing off, for as long as the busy timeout.
func setWAL(ctx context.Context, w *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeoutMS * time.Millisecond)
	backoff := time.Millisecond
	for {
		var mode string
		err := w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			return fmt.Errorf("switching to WAL: the database stays in %q mode", mode)
		case !isBusy(err) || time.Now().After(deadline):
			return fmt.Errorf("switching to WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// stmt returns q prepared on db, preparing it on first use. Only the fixed
// statements of store come here, so the cache stays small.
func (s *sqliteDB) stmt(ctx context.Context, db *sql.DB, cache map[string]*sql.Stmt, q string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := cache[q]; ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	cache[q] = st
	return st, nil
}

func (s *sqliteDB) queryRow(ctx context.Context, q string, args ...any) scanner {
	st, err := s.stmt(ctx, s.r, s.rstmts, q)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *sqliteDB) query(ctx context.Context, q string, args ...any) (rowIter, error) {
	st, err := s.stmt(ctx, s.r, s.rstmts, q)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (s *sqliteDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	st, err := s.stmt(ctx, s.w, s.wstmts, q)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *sqliteDB) execBatch(ctx context.Context, q string, args [][]any) ([]int64, error) {
	st, err := s.stmt(ctx, s.w, s.wstmts, q)
	if err != nil {
		return nil, err
	}
	affected := make([]int64, len(args))
	err = s.inTx(ctx, func(tx querier) error {
		tst := tx.(sqlTx).tx.StmtContext(ctx, st)
		defer tst.Close()
		for i, a := range args {
			res, err := tst.ExecContext(ctx, a...)
			if err != nil {
				return err
			}
			if affected[i], err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return affected, nil
}

func (s *sqliteDB) inTx(ctx context.Context, fn func(tx querier) error) error {
	tx, err := s.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return err
	}
	if err := fn(sqlTx{tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// placeholder is an anonymous "?": SQLite looks named and numbered
// parameters up in a list, which makes a statement with thousands of them
// slow to prepare and to bind.
func (s *sqliteDB) placeholder(int) string { return "?" }

// lock is a no-op: a transaction of the writer begins IMMEDIATE, which
// already excludes every other writer of the file.
func (s *sqliteDB) lock(context.Context, querier) error { return nil }

func (s *sqliteDB) isConflict(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}

func (s *sqliteDB) migrations() [][]string { return sqliteSchema }

func (s *sqliteDB) close() {
	s.mu.Lock()
	for _, st := range s.rstmts {
		st.Close()
	}
	for _, st := range s.wstmts {
		st.Close()
	}
	s.mu.Unlock()
	s.r.Close()
	s.w.Close()
}

// sqlTx runs statements in a database/sql transaction.
type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) queryRow(ctx context.Context, q string, args ...any) scanner {
	return t.tx.QueryRowContext(ctx, q, args...)
}

func (t sqlTx) query(ctx context.Context, q string, args ...any) (rowIter, error) {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (t sqlTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sqlRows adapts *sql.Rows to rowIter.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// errRow is a row whose Scan fails with a preparation error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
