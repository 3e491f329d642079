package base

import (
	"errors"
	"fmt"
)

// Error sentinels. The root package re-exports each of them under the same
// name; callers test for them with errors.Is. Wrapped errors carry the detail
// ("strata: invalid argument: points[3].vector: NaN at index 7").
var (
	// ErrNotFound: the collection, point or snapshot does not exist.
	ErrNotFound = errors.New("strata: not found")
	// ErrAlreadyExists: a collection with that name exists already.
	ErrAlreadyExists = errors.New("strata: already exists")
	// ErrInvalidArgument: the request is malformed; nothing was changed.
	ErrInvalidArgument = errors.New("strata: invalid argument")
	// ErrDimensionMismatch: a vector's length differs from the configured
	// size. It also matches ErrInvalidArgument.
	ErrDimensionMismatch = fmt.Errorf("%w: dimension mismatch", ErrInvalidArgument)
	// ErrCorruption: data on disk fails a checksum or a structural check.
	ErrCorruption = errors.New("strata: corruption")
	// ErrClosed: the database or collection has been closed (or dropped).
	ErrClosed = errors.New("strata: closed")
	// ErrReadOnly: a write-ahead log write or fsync failed earlier; the
	// collection refuses writes until it is reopened, so that nothing is
	// acknowledged that may not be durable. Reads keep working.
	ErrReadOnly = errors.New("strata: collection is read-only after a failed write")
	// ErrLocked: another process holds the data directory.
	ErrLocked = errors.New("strata: data directory is locked by another process")
)

// InvalidArgumentf returns an error that matches ErrInvalidArgument with a
// formatted detail.
func InvalidArgumentf(format string, args ...any) error {
	return &detailError{base: ErrInvalidArgument, msg: fmt.Sprintf(format, args...)}
}

// DimensionMismatchf returns an error matching both ErrDimensionMismatch and
// ErrInvalidArgument.
func DimensionMismatchf(format string, args ...any) error {
	return &detailError{base: ErrDimensionMismatch, msg: fmt.Sprintf(format, args...)}
}

// NotFoundf returns an error matching ErrNotFound with a formatted detail.
func NotFoundf(format string, args ...any) error {
	return &detailError{base: ErrNotFound, msg: fmt.Sprintf(format, args...)}
}

// CorruptionErrorf returns an error matching ErrCorruption with a formatted
// detail (file, offset, what failed).
func CorruptionErrorf(format string, args ...any) error {
	return &detailError{base: ErrCorruption, msg: fmt.Sprintf(format, args...)}
}

type detailError struct {
	base error
	msg  string
}

func (e *detailError) Error() string { return e.base.Error() + ": " + e.msg }
func (e *detailError) Unwrap() error { return e.base }
