package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgreSQL settings.
const (
	// pgUniqueViolation is SQLSTATE 23505 (PostgreSQL manual, appendix A).
	pgUniqueViolation = "23505"
	// pgLockKey is the advisory lock (PostgreSQL manual §9.27.10) that
	// serializes schema migrations and server-key changes across gateways:
	// the bytes of "shakedow" as a big-endian int64.
	pgLockKey int64 = 0x7368616b65646f77
	// pgSyncCommit is the session setting synchronous_commit. "on" makes a
	// COMMIT return only after its WAL record is flushed (manual §20.5.1);
	// "off" could lose accepted counters and revocations after a crash.
	pgSyncCommit    = "synchronous_commit"
	pgAppName       = "application_name"
	pgAppNameValue  = "shakedown-registry"
	pgSyncCommitOn  = "on"
	pgSyncCommitOff = "off"
)

// postgresDB is the PostgreSQL backend: one pgx pool. pgx prepares and
// caches every statement per connection.
type postgresDB struct {
	pool *pgxpool.Pool
}

func openPostgres(ctx context.Context, dsn string) (backend, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message redacts the password.
		return nil, fmt.Errorf("registry: parsing postgres DSN: %w", err)
	}
	rp := cfg.ConnConfig.RuntimeParams
	switch rp[pgSyncCommit] {
	case "":
		rp[pgSyncCommit] = pgSyncCommitOn
	case pgSyncCommitOff:
		return nil, fmt.Errorf("registry: postgres DSN sets synchronous_commit=off, which loses accepted counters on a crash: %w", ErrInvalid)
	}
	if rp[pgAppName] == "" {
		rp[pgAppName] = pgAppNameValue
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("registry: opening postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("registry: opening postgres: %w", err)
	}
	return &postgresDB{pool: pool}, nil
}

func (p *postgresDB) queryRow(ctx context.Context, q string, args ...any) scanner {
	return p.pool.QueryRow(ctx, q, args...)
}

func (p *postgresDB) query(ctx context.Context, q string, args ...any) (rowIter, error) {
	return p.pool.Query(ctx, q, args...)
}

func (p *postgresDB) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := p.pool.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

// execBatch sends every run in one pipeline. The runs form one implicit
// transaction that commits at the pipeline's Sync, so the whole batch costs
// one round trip and one WAL flush.
func (p *postgresDB) execBatch(ctx context.Context, q string, args [][]any) ([]int64, error) {
	var b pgx.Batch
	for _, a := range args {
		b.Queue(q, a...)
	}
	br := p.pool.SendBatch(ctx, &b)
	affected := make([]int64, len(args))
	for i := range args {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return nil, err
		}
		affected[i] = tag.RowsAffected()
	}
	// Close reads up to ReadyForQuery: only then is the commit done.
	if err := br.Close(); err != nil {
		return nil, err
	}
	return affected, nil
}

func (p *postgresDB) inTx(ctx context.Context, fn func(tx querier) error) error {
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		return fn(pgTx{tx})
	})
}

func (p *postgresDB) lock(ctx context.Context, tx querier) error {
	_, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgLockKey)
	return err
}

func (p *postgresDB) placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (p *postgresDB) isConflict(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

func (p *postgresDB) migrations() [][]string { return postgresSchema }

func (p *postgresDB) close() { p.pool.Close() }

// pgTx runs statements in a pgx transaction.
type pgTx struct{ tx pgx.Tx }

func (t pgTx) queryRow(ctx context.Context, q string, args ...any) scanner {
	return t.tx.QueryRow(ctx, q, args...)
}

func (t pgTx) query(ctx context.Context, q string, args ...any) (rowIter, error) {
	return t.tx.Query(ctx, q, args...)
}

func (t pgTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), err
}
