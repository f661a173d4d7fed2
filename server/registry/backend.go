package registry

import "context"

// backend is what the shared queries of store need from a database. Queries
// are written once, with PostgreSQL's $N placeholders, which SQLite also
// reads as positional parameters; only the schema differs (see schema.go).
type backend interface {
	querier
	// execBatch runs q once per argument list, in order, in one transaction,
	// and returns the rows each run affected. It returns only after the
	// commit is durable; on error nothing was committed.
	execBatch(ctx context.Context, q string, args [][]any) ([]int64, error)
	// inTx runs fn in a write transaction and commits when fn returns nil.
	inTx(ctx context.Context, fn func(tx querier) error) error
	// lock serializes fn's transaction against every other registry
	// transaction that takes the lock, across processes.
	lock(ctx context.Context, tx querier) error
	// placeholder returns the n-th (from 1) positional parameter for
	// statements built at run time.
	placeholder(n int) string
	// isConflict reports whether err is a unique-constraint violation.
	isConflict(err error) bool
	// migrations returns the schema, one statement list per version.
	migrations() [][]string
	close()
}

// querier runs statements outside a transaction (reads on the backend's
// readers, writes in autocommit) or inside one.
type querier interface {
	queryRow(ctx context.Context, q string, args ...any) scanner
	query(ctx context.Context, q string, args ...any) (rowIter, error)
	exec(ctx context.Context, q string, args ...any) (int64, error)
}

// scanner is one result row.
type scanner interface {
	Scan(dest ...any) error
}

// rowIter is a result set; Close may be called more than once.
type rowIter interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}
