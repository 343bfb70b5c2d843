package store

import (
	"context"
	"database/sql"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// scanWithTail lets a scan function of one entity (scanExtension) fill
// that entity's columns while the same row's remaining columns go to tail.
type scanWithTail struct {
	row  scanner
	tail []any
}

func (s scanWithTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail...)...) }

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAll runs a query on q (the database or a transaction) and scans
// every row with scan.
func queryAll[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// queryMap runs a query of two columns on q and maps each row's first
// to its second; the map is empty, never nil, when there are no rows.
func queryMap[K comparable, V any](ctx context.Context, q queryer, query string, args ...any) (map[K]V, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[K]V{}
	for rows.Next() {
		var k K
		var v V
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// inTx runs fn in one transaction and commits if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx.Tx); err != nil {
		return err
	}
	return tx.Commit()
}
