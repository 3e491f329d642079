package collection

// Snapshots: a consistent set of a collection's files at one checkpoint.
//
// Snapshot runs a checkpoint round (an optimizer round that seals the
// appendable segment and writes every tombstone at the applied seq C, so
// that the manifest reflects exactly the operations <= C, invariant C3),
// then, still holding optMu (no manifest change, no file deletion), opens
// every file the manifest names. The copy itself happens after optMu is
// released, from the open handles: every file a manifest names is
// immutable (written to a temporary name and renamed), and an open handle
// keeps reading the same contents even if a later round or graph commit
// removes the name (POSIX unlink semantics; MemFS keeps removed files
// readable the same way). So writers, the optimizer and the indexers never
// wait for the copy, and the copy is of exactly the state at C.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"path"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
)

// SnapshotFile is one file of a Snapshot, open for reading.
type SnapshotFile struct {
	// Name is the file's path relative to the collection directory, with
	// forward slashes: "MANIFEST" or "segments/<file>".
	Name string
	// Size is the file's length in bytes.
	Size int64

	data   io.ReaderAt
	closer io.Closer // nil for in-memory contents
}

// Reader returns a reader of the file's contents from the start. Each call
// returns an independent reader.
func (f *SnapshotFile) Reader() io.Reader { return io.NewSectionReader(f.data, 0, f.Size) }

// Snapshot is the set of a collection's files as of Checkpoint. Close
// releases the open files.
type Snapshot struct {
	// Checkpoint: the files reflect exactly the operations with seq <=
	// Checkpoint.
	Checkpoint uint64
	// Points is the number of live points as of Checkpoint.
	Points int
	// Files are the manifest first, then the segment directory's files in
	// the manifest's order.
	Files []SnapshotFile
}

// Close closes the open files.
func (s *Snapshot) Close() error {
	var errs []error
	for i := range s.Files {
		if c := s.Files[i].closer; c != nil {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
			s.Files[i].closer = nil
		}
	}
	return errors.Join(errs...)
}

// Snapshot checkpoints the collection and returns its files as of that
// checkpoint, open for reading. Writes continue meanwhile: they are after
// the checkpoint and not part of the snapshot. It fails with ErrClosed
// after Close, and with the WAL's error (ErrReadOnly) if a write failed
// earlier, since the operations after the last checkpoint could then not
// be captured.
func (c *Collection) Snapshot() (*Snapshot, error) {
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if c.closed.Load() {
		return nil, base.ErrClosed
	}
	c.optMu.Lock()
	defer c.optMu.Unlock()
	if err := c.optimizeLocked(false, true); err != nil {
		return nil, fmt.Errorf("collection: snapshot checkpoint: %w", err)
	}
	// The manifest now reflects every operation applied before this call
	// (and possibly a few applied since, up to its checkpoint).
	m := c.manifest
	s := &Snapshot{Checkpoint: c.checkpoint}
	body := encodeManifest(m)
	s.Files = append(s.Files, SnapshotFile{Name: manifestName, Size: int64(len(body)), data: bytes.NewReader(body)})
	segDir := path.Join(c.dir, "segments")
	add := func(file string) error {
		f, err := c.fs.Open(path.Join(segDir, file))
		if err != nil {
			return fmt.Errorf("collection: snapshot: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("collection: snapshot: %w", err)
		}
		s.Files = append(s.Files, SnapshotFile{Name: "segments/" + file, Size: fi.Size(), data: f, closer: f})
		return nil
	}
	for _, ms := range m.Segments {
		files := []string{segFile(ms.ID)}
		if ms.Deleted != "" {
			files = append(files, ms.Deleted)
		}
		for _, mg := range ms.Graphs {
			files = append(files, mg.File)
		}
		for _, mf := range ms.Fields {
			files = append(files, mf.File)
		}
		for _, f := range files {
			if err := add(f); err != nil {
				_ = s.Close()
				return nil, err
			}
		}
	}
	points, err := c.pointsAtCheckpoint(m)
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.Points = points
	return s, nil
}

// pointsAtCheckpoint counts the live points of the manifest's segments as
// of its checkpoint, from their persisted tombstone files. The caller
// holds optMu.
func (c *Collection) pointsAtCheckpoint(m *Manifest) (int, error) {
	n := 0
	segDir := path.Join(c.dir, "segments")
	for _, ms := range m.Segments {
		n += ms.Points
		if ms.Deleted == "" {
			continue
		}
		words, err := segment.ReadDeleted(c.fs, path.Join(segDir, ms.Deleted), ms.ID, ms.Points)
		if err != nil {
			return 0, fmt.Errorf("collection: snapshot: segment %d: %w", ms.ID, err)
		}
		for _, w := range words {
			n -= bits.OnesCount64(w)
		}
	}
	return n, nil
}

// VerifyResult is what Verify found.
type VerifyResult struct {
	// Checkpoint is the manifest's checkpoint.
	Checkpoint uint64
	// Points is the number of live points after replaying the WAL.
	Points int
}

// Verify opens the collection stored in dir exactly as Open does (manifest,
// every segment with its section checksums when opts.VerifyChecksums,
// tombstones, graphs, payload indexes, WAL replay), then closes it without
// running the optimizer or writing anything but what Open itself writes
// (the WAL's first file, removal of unnamed leftovers). Restoring a
// snapshot uses it to validate a collection before it replaces anything.
func Verify(fs vfs.FS, dir string, schema *segment.Schema, opts Options) (VerifyResult, error) {
	opts.Optimizer.Interval = -1 // no background loops
	c, err := Open(fs, dir, schema, opts)
	if err != nil {
		return VerifyResult{}, err
	}
	in, infoErr := c.Info()
	// Close without the final optimization round: nothing was written, and
	// a verification must not rewrite the files it checks.
	c.closed.Store(true)
	c.closeMu.Lock()
	err = c.wal.Close()
	c.stateMu.Lock()
	set := c.cur
	c.cur = nil
	c.stateMu.Unlock()
	c.closeMu.Unlock()
	if set != nil {
		set.release()
	}
	if infoErr != nil {
		return VerifyResult{}, infoErr
	}
	if err != nil {
		return VerifyResult{}, fmt.Errorf("collection: verify %s: close log: %w", dir, err)
	}
	return VerifyResult{Checkpoint: in.Checkpoint, Points: in.Points}, nil
}
