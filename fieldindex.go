package strata

import (
	"context"
	"errors"
)

// CreateFieldIndex creates a payload index on key (a payload path, as in
// filters). It returns once the index definition is durable; the index is
// built for existing points in the background (WaitIndexed waits for it)
// and maintained on every write. Until a segment's index is built, filters
// on key read the payload instead: results are the same, only slower.
// Creating an index that exists with the same schema does nothing; with a
// different schema it replaces it.
func (c *Collection) CreateFieldIndex(ctx context.Context, key string, schema FieldSchema) error {
	return errors.New("strata: CreateFieldIndex: not yet implemented")
}

// DeleteFieldIndex drops the payload index on key. Filters on key keep
// working by reading the payload. It is ErrNotFound if there is none.
func (c *Collection) DeleteFieldIndex(ctx context.Context, key string) error {
	return errors.New("strata: DeleteFieldIndex: not yet implemented")
}
