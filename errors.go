package strata

import "github.com/strata-db/strata/internal/base"

// Errors returned by Strata. Test for them with errors.Is; the returned
// error's text says what exactly was wrong.
var (
	// ErrNotFound: the collection or point does not exist.
	ErrNotFound = base.ErrNotFound
	// ErrAlreadyExists: a collection with that name already exists.
	ErrAlreadyExists = base.ErrAlreadyExists
	// ErrInvalidArgument: the request is malformed; nothing was changed.
	ErrInvalidArgument = base.ErrInvalidArgument
	// ErrDimensionMismatch: a vector has the wrong length (also matches
	// ErrInvalidArgument).
	ErrDimensionMismatch = base.ErrDimensionMismatch
	// ErrCorruption: stored data failed a checksum or structural check.
	ErrCorruption = base.ErrCorruption
	// ErrClosed: the database was closed or the collection deleted.
	ErrClosed = base.ErrClosed
	// ErrReadOnly: a log write or fsync failed earlier; the collection
	// refuses writes until the database is reopened.
	ErrReadOnly = base.ErrReadOnly
	// ErrLocked: another process has the data directory open.
	ErrLocked = base.ErrLocked
)
