package strata

// Full-storage snapshots: one archive of every collection, as Qdrant's
// /snapshots endpoints make them.
//
// A full snapshot is an archive of the same family as a collection's: a
// tar stream compressed with zstd whose first entry,
// strata-full-snapshot.json, lists every other entry with its size and
// SHA-256; each other entry is one collection's snapshot archive, made by
// the collection snapshot machinery:
//
//	strata-full-snapshot.json        the header (format 1)
//	collections/<name>.snapshot      a collection snapshot, one per collection
//
// Each collection is consistent at its own checkpoint, taken one
// collection after the other; the archive is not one point in time across
// collections (Qdrant's full snapshots are consistent per collection too).
//
// Full snapshots are stored apart from the collections' snapshots:
//
//	<dir>/snapshots/.full/full-<UTC time>-<random>.snapshot
//	<dir>/snapshots/.full/<name>.checksum
//
// The directory's name starts with '.', which no collection name can, so
// a collection's snapshot directory (<dir>/snapshots/<collection>) never
// collides with it whatever the names. Creation writes the collections'
// archives to a hidden temporary directory there, then the full archive
// under a hidden temporary name, fsyncs it, writes its checksum file,
// renames it into place and fsyncs the directory; Open removes leftovers.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vfs"
)

const (
	// fullSnapshotsDir holds the full snapshots, under snapshotsDir. It is
	// not a valid collection name.
	fullSnapshotsDir = ".full"
	// fullSnapshotHeaderName is a full archive's first entry.
	fullSnapshotHeaderName = "strata-full-snapshot.json"
	// fullSnapshotFormat is the version of the full archive layout.
	fullSnapshotFormat = 1
	// fullEntryDir holds the collection archives in a full archive.
	fullEntryDir = "collections/"
)

// fullSnapshotHeader is a full archive's first entry.
type fullSnapshotHeader struct {
	Format      int                  `json:"format"`
	Created     time.Time            `json:"created"`
	Collections []fullSnapshotMember `json:"collections"`
}

// fullSnapshotMember is one collection's archive in a full archive.
type fullSnapshotMember struct {
	Collection string `json:"collection"`
	// Name is the entry's name: collections/<collection>.snapshot.
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Checkpoint and Points are those of the collection's archive header.
	Checkpoint uint64 `json:"checkpoint"`
	Points     int    `json:"points"`
}

func (db *DB) fullSnapshotDir() string { return path.Join(db.dir, snapshotsDir, fullSnapshotsDir) }

// checkFullSnapshotName validates a full snapshot's name and maps a name
// that is not a snapshot file's to ErrNotFound.
func checkFullSnapshotName(name string) error {
	if err := ValidateSnapshotName(name); err != nil {
		return err
	}
	if !strings.HasSuffix(name, SnapshotExt) {
		return snapshotNotFound("", name)
	}
	return nil
}

// CreateFullSnapshot writes a snapshot of every collection into one
// archive and returns its description (Collection is ""). Each collection
// in it is consistent at its own checkpoint (see Collection.CreateSnapshot),
// taken one after the other: writes go on meanwhile, so the collections are
// not captured at one common instant. A collection deleted while the
// snapshot is made is left out. On any error (including ctx's) no file is
// left behind.
func (db *DB) CreateFullSnapshot(ctx context.Context) (SnapshotInfo, error) {
	if err := ctx.Err(); err != nil {
		return SnapshotInfo{}, err
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer done()
	info, err := db.createFullSnapshot(ctx)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("strata: full snapshot: %w", err)
	}
	return info, nil
}

func (db *DB) createFullSnapshot(ctx context.Context) (SnapshotInfo, error) {
	names, err := db.ListCollections(ctx)
	if err != nil {
		return SnapshotInfo{}, err
	}
	dir := db.fullSnapshotDir()
	if err := vfs.MkdirAllSync(db.fs, dir, 0o755); err != nil {
		return SnapshotInfo{}, err
	}
	// The collections' archives go to a hidden directory (removed by Open
	// after a crash) until they are copied into the full archive.
	// It need not be durable.
	work := path.Join(dir, ".tmp-"+randomSuffix()+randomSuffix())
	defer func() { _ = db.fs.RemoveAll(work) }()
	if err := db.fs.MkdirAll(work, 0o755); err != nil {
		return SnapshotInfo{}, err
	}

	hdr := fullSnapshotHeader{Format: fullSnapshotFormat, Created: time.Now().UTC(), Collections: []fullSnapshotMember{}}
	var files []archiveFile
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			_ = c.Close()
		}
	}()
	for i, name := range names {
		m, f, closer, err := db.snapshotMember(ctx, name, path.Join(work, fmt.Sprintf("%d%s", i, SnapshotExt)))
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return SnapshotInfo{}, err
		}
		hdr.Collections = append(hdr.Collections, m)
		files = append(files, f)
		closers = append(closers, closer)
	}
	name := fmt.Sprintf("full-%s-%s%s", hdr.Created.Format("2006-01-02-15-04-05"), randomSuffix(), SnapshotExt)
	return db.storeSnapshot(ctx, dir, name, func(w io.Writer) error {
		// The entries are compressed already: the fastest level suffices.
		return writeCompressed(w, zstd.SpeedFastest, func(zw io.Writer) error {
			return writeArchive(ctx, zw, fullSnapshotHeaderName, &hdr, hdr.Created, files)
		})
	})
}

// snapshotMember writes the snapshot archive of the collection name to the
// file file (see writeMember). It fails with ErrNotFound if the collection
// was deleted meanwhile; if a recovery replaced it meanwhile, the new one
// is taken.
func (db *DB) snapshotMember(ctx context.Context, name, file string) (fullSnapshotMember, archiveFile, io.Closer, error) {
	for {
		c, err := db.Collection(name)
		if err != nil {
			return fullSnapshotMember{}, archiveFile{}, nil, err
		}
		m, f, closer, err := db.writeMember(ctx, c, file)
		if err == nil || !c.dropped.Load() || ctx.Err() != nil {
			return m, f, closer, err
		}
		// Deleted or replaced while it was being snapshotted: look again.
		if cur, cerr := db.Collection(name); cerr != nil || cur == c {
			return fullSnapshotMember{}, archiveFile{}, nil, firstErr(cerr, err)
		}
	}
}

// firstErr returns a if not nil, else b.
func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// writeMember writes the snapshot archive of c to the file name and
// returns its description and the file, open for reading, to be closed
// with closer.
func (db *DB) writeMember(ctx context.Context, c *Collection, name string) (_ fullSnapshotMember, _ archiveFile, closer io.Closer, _ error) {
	if err := c.check(ctx); err != nil {
		return fullSnapshotMember{}, archiveFile{}, nil, err
	}
	hdr, files, release, err := c.snapshotParts(ctx)
	if err != nil {
		return fullSnapshotMember{}, archiveFile{}, nil, err
	}
	defer release()
	f, err := db.fs.Create(name)
	if err != nil {
		return fullSnapshotMember{}, archiveFile{}, nil, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	err = writeCompressed(cw, zstd.SpeedDefault, func(zw io.Writer) error {
		return writeArchive(ctx, zw, snapshotHeaderName, hdr, hdr.Created, files)
	})
	if err != nil {
		_ = f.Close()
		return fullSnapshotMember{}, archiveFile{}, nil, fmt.Errorf("collection %q: %w", c.name, err)
	}
	// No fsync: the bytes are copied into the full archive, which is
	// fsynced, and this file is removed.
	m := fullSnapshotMember{
		Collection: c.name,
		Name:       fullEntryDir + c.name + SnapshotExt,
		Size:       cw.n,
		SHA256:     hexSum(h),
		Checkpoint: hdr.Checkpoint,
		Points:     hdr.Points,
	}
	size := cw.n
	return m, archiveFile{name: m.Name, size: m.Size, sha256: m.SHA256, open: func() io.Reader {
		return io.NewSectionReader(f, 0, size)
	}}, f, nil
}

// ListFullSnapshots returns the stored full snapshots, oldest first (ties
// by name).
func (db *DB) ListFullSnapshots(ctx context.Context) ([]SnapshotInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := db.listSnapshotsIn(ctx, db.fullSnapshotDir(), "")
	if err != nil {
		return nil, fmt.Errorf("strata: list full snapshots: %w", err)
	}
	return out, nil
}

// OpenFullSnapshot opens a stored full snapshot for reading, e.g. to
// download it. It fails with ErrNotFound if there is no such snapshot and
// ErrInvalidArgument for a name that cannot be a snapshot's.
func (db *DB) OpenFullSnapshot(ctx context.Context, name string) (*SnapshotReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkFullSnapshotName(name); err != nil {
		return nil, err
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return nil, err
	}
	defer done()
	return db.openSnapshotIn(db.fullSnapshotDir(), "", name)
}

// DeleteFullSnapshot deletes a stored full snapshot (never a collection's
// snapshot). It fails with ErrNotFound if there is no such snapshot and
// ErrInvalidArgument for a name that cannot be a snapshot's. Readers that
// opened the snapshot keep reading it.
func (db *DB) DeleteFullSnapshot(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkFullSnapshotName(name); err != nil {
		return err
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return err
	}
	defer done()
	return db.deleteSnapshotIn(db.fullSnapshotDir(), "", name)
}

// RecoverFullSnapshot restores every collection of the full snapshot
// archive read from r, creating each or replacing the existing collection
// of that name; collections not in the archive are left alone. It returns
// the recovered collections in the archive's order.
//
// Nothing is replaced until everything is verified: the archive is copied
// to a temporary file (checked against opts.Checksum), every collection
// archive in it checked against the header's size and SHA-256, and every
// collection extracted, verified and opened in full as RecoverSnapshot
// does. Then the collections are swapped in one after the other; if a swap
// fails (a disk error), the collections swapped before it stay recovered,
// that one and the rest are unchanged, and the error names it.
//
// A damaged, truncated or tampered archive, or a checksum mismatch, fails
// with ErrInvalidArgument and changes nothing.
func (db *DB) RecoverFullSnapshot(ctx context.Context, r io.Reader, opts RecoverOptions) ([]*Collection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	want := strings.ToLower(strings.TrimSpace(opts.Checksum))
	if want != "" && !isSHA256Hex(want) {
		return nil, base.InvalidArgumentf("checksum %q is not a SHA-256 digest (64 hex digits)", opts.Checksum)
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return nil, err
	}
	defer done()
	dir := db.fullSnapshotDir()
	if err := vfs.MkdirAllSync(db.fs, dir, 0o755); err != nil {
		return nil, fmt.Errorf("strata: recover full snapshot: %w", err)
	}
	// A temporary directory (Open removes it after a crash).
	work := path.Join(dir, ".tmp-recover-"+randomSuffix()+randomSuffix())
	defer func() { _ = db.fs.RemoveAll(work) }()
	if err := db.fs.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("strata: recover full snapshot: %w", err)
	}

	// 1. Copy the archive, hashing it.
	spool := path.Join(work, "snapshot")
	got, err := db.spool(ctx, spool, r)
	if err != nil {
		return nil, fmt.Errorf("strata: recover full snapshot: %w", err)
	}
	if want != "" && got != want {
		return nil, base.InvalidArgumentf("snapshot checksum mismatch: expected %s, but the snapshot's SHA-256 is %s", want, got)
	}

	// 2. Extract every collection archive, checked against the header.
	hdr, err := db.extractFullSnapshot(ctx, spool, work)
	if err != nil {
		return nil, err
	}
	_ = db.fs.Remove(spool)

	// 3. Verify every collection in full.
	type prepared struct {
		work, dir string
		cfg       *CollectionConfig
	}
	var preps []prepared
	defer func() {
		for _, p := range preps {
			_ = db.fs.RemoveAll(p.work)
		}
	}()
	for i, m := range hdr.Collections {
		f, err := db.fs.Open(path.Join(work, fmt.Sprint(i)))
		if err != nil {
			return nil, fmt.Errorf("strata: recover full snapshot: %w", err)
		}
		pw, pdir, cfg, err := db.prepareRecovery(ctx, m.Collection, bufio.NewReaderSize(f, 1<<20), m.SHA256)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("strata: recover full snapshot: collection %q: %w", m.Collection, err)
		}
		preps = append(preps, prepared{pw, pdir, cfg})
		_ = db.fs.Remove(path.Join(work, fmt.Sprint(i)))
	}

	// 4. Swap them in.
	out := make([]*Collection, 0, len(preps))
	for i, p := range preps {
		name := hdr.Collections[i].Collection
		c, err := db.swapIn(name, p.cfg, p.dir)
		if err != nil {
			return out, fmt.Errorf("strata: recover full snapshot: collection %q (%d recovered before it, %d not): %w", name, i, len(preps)-i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// extractFullSnapshot reads the full archive in the file spool and writes
// its i-th collection archive to <work>/<i>, each checked against the
// header's size and SHA-256.
func (db *DB) extractFullSnapshot(ctx context.Context, spool, work string) (*fullSnapshotHeader, error) {
	var hdr fullSnapshotHeader
	tr, done, err := db.openArchive(ctx, spool, "full snapshot archive", fullSnapshotHeaderName, &hdr)
	if err != nil {
		return nil, err
	}
	defer done()
	if hdr.Format != fullSnapshotFormat {
		return nil, base.InvalidArgumentf("full snapshot archive: unsupported format %d (this version reads format %d)", hdr.Format, fullSnapshotFormat)
	}
	index := make(map[string]int, len(hdr.Collections))
	for i := range hdr.Collections {
		hdr.Collections[i].SHA256 = strings.ToLower(hdr.Collections[i].SHA256)
	}
	for i, m := range hdr.Collections {
		if err := ValidateName(m.Collection); err != nil {
			return nil, base.InvalidArgumentf("full snapshot archive: header: %v", err)
		}
		if m.Name != fullEntryDir+m.Collection+SnapshotExt {
			return nil, base.InvalidArgumentf("full snapshot archive: header: entry %q for collection %q", m.Name, m.Collection)
		}
		if _, dup := index[m.Name]; dup {
			return nil, base.InvalidArgumentf("full snapshot archive: header: collection %q listed twice", m.Collection)
		}
		if m.Size < 0 || !isSHA256Hex(m.SHA256) {
			return nil, base.InvalidArgumentf("full snapshot archive: header: bad size or sha256 for %q", m.Name)
		}
		index[m.Name] = i
	}
	listed := make([]snapshotFileEntry, len(hdr.Collections))
	for i, m := range hdr.Collections {
		listed[i] = snapshotFileEntry{Name: m.Name, Size: m.Size, SHA256: m.SHA256}
	}
	err = db.extractEntries(tr, "full snapshot archive", listed, func(e snapshotFileEntry) string {
		return path.Join(work, fmt.Sprint(index[e.Name]))
	})
	if err != nil {
		return nil, err
	}
	return &hdr, nil
}
