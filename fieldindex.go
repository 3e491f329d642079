package strata

import (
	"context"
	"fmt"
	"maps"
	"path"

	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
)

// CreateFieldIndex creates a payload index on key (a payload path, as in
// filters). It returns once the index definition is durable and the
// in-memory segment is indexed; the sealed segments are indexed in the
// background (WaitIndexed waits for them), and every later write is
// indexed as it is applied. Until a segment's index is built, filters on
// key read that segment's payloads instead: results are the same, only
// slower. Creating an index that exists with the same schema does nothing;
// with a different schema it replaces it.
func (c *Collection) CreateFieldIndex(ctx context.Context, key string, schema FieldSchema) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	if err := validateFieldSchema(key, schema, "field_schema"); err != nil {
		return err
	}
	return c.updateFields(func(m map[string]FieldSchema) error {
		m[key] = schema
		return nil
	})
}

// DeleteFieldIndex drops the payload index on key. Filters on key keep
// working by reading payloads. It is ErrNotFound if there is none.
func (c *Collection) DeleteFieldIndex(ctx context.Context, key string) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	return c.updateFields(func(m map[string]FieldSchema) error {
		if _, ok := m[key]; !ok {
			return fmt.Errorf("%w: collection %q has no payload index on %q", ErrNotFound, c.name, key)
		}
		delete(m, key)
		return nil
	})
}

// updateFields persists the payload schema changed by fn, then applies it.
func (c *Collection) updateFields(fn func(map[string]FieldSchema) error) error {
	c.cfgMu.Lock()
	defer c.cfgMu.Unlock()
	cfg := c.cfg
	cfg.PayloadSchema = maps.Clone(cfg.PayloadSchema)
	if cfg.PayloadSchema == nil {
		cfg.PayloadSchema = map[string]FieldSchema{}
	}
	if err := fn(cfg.PayloadSchema); err != nil {
		return err
	}
	if maps.EqualFunc(cfg.PayloadSchema, c.cfg.PayloadSchema, sameFieldSchema) && len(cfg.PayloadSchema) == len(c.cfg.PayloadSchema) {
		return nil
	}
	if err := c.eng.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	if err := vfs.WriteFileAtomic(c.db.fs, path.Join(c.db.collDir(c.name), "config.json"), encodeConfig(&cfg)); err != nil {
		return fmt.Errorf("strata: update payload indexes of %q: %w", c.name, err)
	}
	c.cfg = cfg
	return c.eng.SetFields(cfg.PayloadSchema)
}

func sameFieldSchema(a, b FieldSchema) bool { return segment.SameSchema(a, b) }

// compileFilter compiles f against the collection's vectors and payload
// indexes (text conditions follow a text index's tokenizer).
func (c *Collection) compileFilter(f *Filter) (*filter.Matcher, error) {
	if f == nil {
		return nil, nil
	}
	cfg := c.Config()
	ctx := &filter.Context{Fields: cfg.PayloadSchema}
	for name := range cfg.Vectors {
		ctx.Vectors = append(ctx.Vectors, name)
	}
	for name := range cfg.SparseVectors {
		ctx.Vectors = append(ctx.Vectors, name)
	}
	return filter.Compile(f, ctx)
}
