package strata

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/collection"
	"github.com/strata-db/strata/internal/vfs"
)

// DB is an open database: a directory of collections.
//
// On-disk layout:
//
//	<dir>/LOCK                              advisory lock: one process at a time
//	<dir>/collections/<name>/config.json    the collection's configuration
//	<dir>/collections/<name>/MANIFEST       sealed segments + WAL checkpoint
//	<dir>/collections/<name>/wal/*.log      write-ahead log
//	<dir>/collections/<name>/segments/*     sealed segments and tombstone files
type DB struct {
	dir  string
	opts Options
	fs   vfs.FS
	lock io.Closer

	// mu guards colls and closed. Collection creation and deletion hold it
	// exclusively across their file operations, so they are serialized.
	mu     sync.RWMutex
	colls  map[string]*Collection
	closed bool

	// snapMu is held shared by snapshot operations (which write files
	// outside any collection's engine) and exclusively by Close, which so
	// waits for them.
	snapMu sync.RWMutex
}

const collectionsDir = "collections"

// Open opens the database in dir, creating it if needed, and recovers every
// collection (see the package documentation). opts may be nil.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.EnsureDefaults()
	fs := o.fs
	root := path.Join(dir, collectionsDir)
	if err := vfs.MkdirAllSync(fs, root, 0o755); err != nil {
		return nil, fmt.Errorf("strata: open %s: %w", dir, err)
	}
	lock, err := fs.Lock(path.Join(dir, "LOCK"))
	if err != nil {
		return nil, fmt.Errorf("strata: open %s: %w", dir, err)
	}
	db := &DB{dir: dir, opts: o, fs: fs, lock: lock, colls: map[string]*Collection{}}
	names, err := fs.List(root)
	if err == nil {
		// A snapshot recovery interrupted while it swapped directories.
		names, err = db.finishSnapshotSwaps(root, names)
	}
	if err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("strata: open %s: %w", dir, err)
	}
	for _, name := range names {
		if strings.HasPrefix(name, ".") {
			// A create or delete that did not finish: never visible, remove.
			if err := fs.RemoveAll(path.Join(root, name)); err != nil {
				db.closeAll()
				return nil, fmt.Errorf("strata: remove leftover %s: %w", name, err)
			}
			continue
		}
		c, err := db.openCollection(name)
		if err != nil {
			db.closeAll()
			return nil, err
		}
		db.colls[name] = c
	}
	if err := db.removeSnapshotLeftovers(); err != nil {
		db.closeAll()
		return nil, err
	}
	return db, nil
}

func (db *DB) collDir(name string) string { return path.Join(db.dir, collectionsDir, name) }

func (db *DB) openCollection(name string) (*Collection, error) {
	b, err := vfs.ReadFile(db.fs, path.Join(db.collDir(name), "config.json"))
	if err != nil {
		return nil, fmt.Errorf("strata: collection %q: %w", name, err)
	}
	cfg, err := decodeConfig(b)
	if err != nil {
		return nil, fmt.Errorf("strata: collection %q: %w", name, err)
	}
	return db.startCollection(name, cfg)
}

func (db *DB) startCollection(name string, cfg *CollectionConfig) (*Collection, error) {
	return db.startCollectionVerify(name, cfg, !db.opts.SkipChecksums)
}

// startCollectionVerify opens a collection's engine, verifying every
// section checksum of its sealed segments if verify.
func (db *DB) startCollectionVerify(name string, cfg *CollectionConfig, verify bool) (*Collection, error) {
	schema := cfg.schema()
	eng, err := collection.Open(db.fs, db.collDir(name), schema, db.engineOptions(name, cfg, verify))
	if err != nil {
		return nil, fmt.Errorf("strata: collection %q: %w", name, err)
	}
	return &Collection{db: db, name: name, cfg: *cfg, schema: schema, eng: eng}, nil
}

func (db *DB) engineOptions(name string, cfg *CollectionConfig, verify bool) collection.Options {
	return collection.Options{
		Optimizer:       cfg.engineOptimizer(),
		Index:           cfg.engineIndex(),
		VerifyChecksums: verify,
		Logger:          db.opts.Logger.With("collection", name),
		Fields:          cfg.PayloadSchema,
	}
}

func (db *DB) closeAll() error {
	var errs []error
	for _, c := range db.colls {
		if err := c.eng.Close(); err != nil {
			errs = append(errs, fmt.Errorf("collection %q: %w", c.name, err))
		}
	}
	db.colls = nil
	if err := db.lock.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Close waits for in-flight writes, seals every collection's in-memory
// segment so the next Open replays nothing, and releases the directory.
// Calls on the DB or its collections after Close return ErrClosed.
func (db *DB) Close() error {
	db.snapMu.Lock()
	defer db.snapMu.Unlock()
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	return db.closeAll()
}

// CreateCollection creates a collection. It fails with ErrAlreadyExists if
// the name is taken and ErrInvalidArgument for a bad name or config.
func (db *DB) CreateCollection(ctx context.Context, name string, cfg CollectionConfig) (*Collection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil, ErrClosed
	}
	if _, ok := db.colls[name]; ok {
		return nil, fmt.Errorf("%w: collection %q", ErrAlreadyExists, name)
	}
	// Build the directory under a hidden temporary name and rename it into
	// place, so a crash never leaves a half-created collection visible.
	root := path.Join(db.dir, collectionsDir)
	tmp := path.Join(root, ".tmp-"+name)
	if err := db.fs.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("strata: create %q: %w", name, err)
	}
	if err := vfs.MkdirAllSync(db.fs, tmp, 0o755); err != nil {
		return nil, fmt.Errorf("strata: create %q: %w", name, err)
	}
	if err := vfs.WriteFileAtomic(db.fs, path.Join(tmp, "config.json"), encodeConfig(&cfg)); err != nil {
		_ = db.fs.RemoveAll(tmp)
		return nil, fmt.Errorf("strata: create %q: %w", name, err)
	}
	if err := db.fs.Rename(tmp, db.collDir(name)); err != nil {
		_ = db.fs.RemoveAll(tmp)
		return nil, fmt.Errorf("strata: create %q: %w", name, err)
	}
	if err := db.fs.SyncDir(root); err != nil {
		return nil, fmt.Errorf("strata: create %q: %w", name, err)
	}
	c, err := db.startCollection(name, &cfg)
	if err != nil {
		return nil, err
	}
	db.colls[name] = c
	return c, nil
}

// Collection returns the named collection, or ErrNotFound.
func (db *DB) Collection(name string) (*Collection, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	c, ok := db.colls[name]
	if !ok {
		return nil, base.NotFoundf("collection %q", name)
	}
	return c, nil
}

// ListCollections returns the collection names, sorted.
func (db *DB) ListCollections(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	names := make([]string, 0, len(db.colls))
	for n := range db.colls {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// DeleteCollection deletes a collection and its files. Handles to it return
// ErrClosed afterwards. It fails with ErrNotFound if there is no such
// collection.
func (db *DB) DeleteCollection(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return ErrClosed
	}
	c, ok := db.colls[name]
	if !ok {
		return base.NotFoundf("collection %q", name)
	}
	delete(db.colls, name)
	c.dropped.Store(true)
	_ = c.eng.Close() // the files are going away; a flush error is moot
	// Rename first: once renamed the collection is gone even if removal is
	// interrupted (Open removes hidden leftovers).
	root := path.Join(db.dir, collectionsDir)
	trash := path.Join(root, ".deleted-"+name)
	_ = db.fs.RemoveAll(trash)
	if err := db.fs.Rename(db.collDir(name), trash); err != nil {
		return fmt.Errorf("strata: delete %q: %w", name, err)
	}
	if err := db.fs.SyncDir(root); err != nil {
		return fmt.Errorf("strata: delete %q: %w", name, err)
	}
	if err := db.fs.RemoveAll(trash); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("strata: delete %q: %w", name, err)
	}
	return nil
}
