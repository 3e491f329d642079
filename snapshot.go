package strata

// Collection snapshots.
//
// A snapshot is a point-in-time, self-contained, verifiable archive of one
// collection: a tar stream compressed with zstd whose first entry,
// strata-snapshot.json, names the collection, its creation time, the
// checkpoint seq the archive reflects, the live point count, and the size
// and SHA-256 of every other entry:
//
//	strata-snapshot.json       the header (format 1)
//	config.json                the collection's configuration
//	MANIFEST                   the segment set at the checkpoint
//	segments/<file>            every segment, tombstone, graph and payload index file the manifest names
//
// Snapshots are stored per collection:
//
//	<dir>/snapshots/<collection>/<collection>-<UTC time>-<random>.snapshot
//	<dir>/snapshots/<collection>/<name>.checksum     SHA-256 (hex) of the whole file
//
// A snapshot file is written under a hidden temporary name, fsynced, its
// checksum file written atomically, then renamed into place and the
// directory fsynced; Open removes leftovers of an interrupted creation.
// Deleting a collection leaves its snapshots alone, as in Qdrant.
// Full-storage snapshots (every collection in one archive) are in
// snapshot_full.go.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	iofs "io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/collection"
	"github.com/strata-db/strata/internal/vfs"
)

const (
	snapshotsDir = "snapshots"
	// SnapshotExt ends every snapshot file's name.
	SnapshotExt = ".snapshot"
	// checksumExt ends the name of a snapshot's checksum file.
	checksumExt = ".checksum"
	// snapshotHeaderName is the archive's first entry.
	snapshotHeaderName = "strata-snapshot.json"
	// snapshotFormat is the version of the archive layout.
	snapshotFormat = 1
	// maxSnapshotHeader bounds the header entry of an archive being
	// recovered (it lists every file: a few hundred bytes per segment).
	maxSnapshotHeader = 16 << 20
	// maxSnapshotNameLength bounds snapshot names: file names.
	maxSnapshotNameLength = MaxNameLength
)

// SnapshotInfo describes a stored snapshot.
type SnapshotInfo struct {
	// Name is the file name, unique within the collection's snapshots.
	Name string
	// Collection is the collection the snapshot is stored under.
	Collection string
	// CreationTime is when the file was written (UTC).
	CreationTime time.Time
	// Size is the file's size in bytes.
	Size int64
	// Checksum is the SHA-256 of the whole file, in lower-case hex.
	Checksum string
}

// snapshotHeader is the archive's first entry.
type snapshotHeader struct {
	Format     int       `json:"format"`
	Collection string    `json:"collection"`
	Created    time.Time `json:"created"`
	// Checkpoint: the files reflect exactly the operations with seq <=
	// Checkpoint.
	Checkpoint uint64 `json:"checkpoint"`
	// Points is the number of live points at the checkpoint.
	Points int                 `json:"points"`
	Files  []snapshotFileEntry `json:"files"`
}

type snapshotFileEntry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func (db *DB) snapshotDir(collection string) string {
	return path.Join(db.dir, snapshotsDir, collection)
}

// SnapshotsDir returns the directory under which snapshots are stored, one
// subdirectory per collection: <dir>/snapshots.
func (db *DB) SnapshotsDir() string { return path.Join(db.dir, snapshotsDir) }

// ValidateSnapshotName checks that name can name a snapshot file: not
// empty, no path separator, no "..", no control character, not hidden. It
// returns an error matching ErrInvalidArgument.
func ValidateSnapshotName(name string) error {
	switch {
	case name == "":
		return base.InvalidArgumentf("snapshot name is empty")
	case len(name) > maxSnapshotNameLength:
		return base.InvalidArgumentf("snapshot name is %d bytes long; the limit is %d", len(name), maxSnapshotNameLength)
	case strings.ContainsAny(name, `/\`):
		return base.InvalidArgumentf("snapshot name %q contains a path separator", name)
	case strings.Contains(name, ".."):
		return base.InvalidArgumentf("snapshot name %q contains \"..\"", name)
	case name[0] == '.':
		return base.InvalidArgumentf("snapshot name %q may not start with '.'", name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return base.InvalidArgumentf("snapshot name %q contains a control character or invalid UTF-8", name)
		}
	}
	return nil
}

// checkSnapshotName validates collection and snapshot names and maps a name
// that is not a snapshot file's to ErrNotFound.
func checkSnapshotName(collection, name string) error {
	if err := ValidateName(collection); err != nil {
		return err
	}
	if err := ValidateSnapshotName(name); err != nil {
		return err
	}
	if !strings.HasSuffix(name, SnapshotExt) {
		return snapshotNotFound(collection, name)
	}
	return nil
}

// snapshotNotFound is the error for a missing snapshot; collection is ""
// for a full snapshot.
func snapshotNotFound(collection, name string) error {
	if collection == "" {
		return base.NotFoundf("full snapshot %q", name)
	}
	return base.NotFoundf("snapshot %q of collection %q", name, collection)
}

// CreateSnapshot writes a snapshot of the collection and returns its
// description. The snapshot reflects exactly the collection's state at
// one checkpoint: every write acknowledged before CreateSnapshot was
// called is in it, and none that started after the checkpoint. Writes,
// reads and the background optimizer go on while the files are copied.
// On any error (including ctx's) no snapshot file is left behind.
func (c *Collection) CreateSnapshot(ctx context.Context) (SnapshotInfo, error) {
	if err := c.check(ctx); err != nil {
		return SnapshotInfo{}, err
	}
	done, err := c.db.beginSnapshotOp()
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer done()
	hdr, files, release, err := c.snapshotParts(ctx)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer release()
	return c.db.writeSnapshot(ctx, c.name, hdr, files)
}

// snapshotParts takes the collection's snapshot (a checkpoint round) and
// returns the archive's header and files, each file hashed; release closes
// the files. The caller holds a snapshot operation (beginSnapshotOp).
func (c *Collection) snapshotParts(ctx context.Context) (_ *snapshotHeader, _ []archiveFile, release func(), err error) {
	cfg := c.Config()
	cfgBytes := encodeConfig(&cfg)
	snap, err := c.eng.Snapshot()
	if err != nil {
		if errors.Is(err, base.ErrClosed) {
			if cerr := c.check(ctx); cerr != nil {
				return nil, nil, nil, cerr
			}
		}
		return nil, nil, nil, fmt.Errorf("strata: snapshot of %q: %w", c.name, err)
	}
	defer func() {
		if err != nil {
			_ = snap.Close()
		}
	}()

	files := []archiveFile{{name: "config.json", size: int64(len(cfgBytes)), open: func() io.Reader { return bytes.NewReader(cfgBytes) }}}
	for i := range snap.Files {
		f := &snap.Files[i]
		files = append(files, archiveFile{name: f.Name, size: f.Size, open: f.Reader})
	}
	hdr := snapshotHeader{
		Format:     snapshotFormat,
		Collection: c.name,
		Created:    time.Now().UTC(),
		Checkpoint: snap.Checkpoint,
		Points:     snap.Points,
	}
	// First pass: hash every file for the header, which comes first.
	for i := range files {
		sum, err := hashReader(ctx, files[i].open(), files[i].size)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("strata: snapshot of %q: %s: %w", c.name, files[i].name, err)
		}
		files[i].sha256 = sum
		hdr.Files = append(hdr.Files, snapshotFileEntry{Name: files[i].name, Size: files[i].size, SHA256: sum})
	}
	return &hdr, files, func() { _ = snap.Close() }, nil
}

// archiveFile is a file to put in an archive.
type archiveFile struct {
	name   string
	size   int64
	sha256 string
	open   func() io.Reader
}

// hashReader returns the hex SHA-256 of r, which must hold exactly size
// bytes.
func hashReader(ctx context.Context, r io.Reader, size int64) (string, error) {
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, r})
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("read %d bytes, expected %d", n, size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (w *countWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

// snapshotPrefix is the collection's name as the start of its snapshots'
// names, cut to maxSnapshotPrefix bytes (at a character boundary) so that
// the file names, with their time stamp, random part and the suffixes of
// the temporary and checksum files, stay within the usual limit of 255
// bytes per name.
func snapshotPrefix(coll string) string {
	const maxSnapshotPrefix = 180
	if len(coll) <= maxSnapshotPrefix {
		return coll
	}
	cut := maxSnapshotPrefix
	for cut > 0 && !utf8.RuneStart(coll[cut]) {
		cut--
	}
	return coll[:cut]
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// writeSnapshot writes the archive of files under hdr to the collection's
// snapshot directory.
func (db *DB) writeSnapshot(ctx context.Context, coll string, hdr *snapshotHeader, files []archiveFile) (SnapshotInfo, error) {
	name := fmt.Sprintf("%s-%s-%s%s", snapshotPrefix(coll), hdr.Created.Format("2006-01-02-15-04-05"), randomSuffix(), SnapshotExt)
	info, err := db.storeSnapshot(ctx, db.snapshotDir(coll), name, func(w io.Writer) error {
		return writeCompressed(w, zstd.SpeedDefault, func(zw io.Writer) error {
			return writeArchive(ctx, zw, snapshotHeaderName, hdr, hdr.Created, files)
		})
	})
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("strata: snapshot of %q: %w", coll, err)
	}
	info.Collection = coll
	return info, nil
}

// writeCompressed runs write on a zstd stream (at level) to w.
func writeCompressed(w io.Writer, level zstd.EncoderLevel, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	zw, err := zstd.NewWriter(bw, zstd.WithEncoderLevel(level))
	if err != nil {
		return err
	}
	if err := write(zw); err != nil {
		zw.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// storeSnapshot stores the snapshot file name in dir, its contents written
// by write: under a hidden temporary name, fsynced, its checksum file
// written atomically, renamed into place, the directory fsynced. On any
// error nothing is left behind. The returned info has no Collection.
func (db *DB) storeSnapshot(ctx context.Context, dir, name string, write func(io.Writer) error) (info SnapshotInfo, err error) {
	if err := ctx.Err(); err != nil {
		return SnapshotInfo{}, err
	}
	if err := vfs.MkdirAllSync(db.fs, dir, 0o755); err != nil {
		return SnapshotInfo{}, err
	}
	final := path.Join(dir, name)
	sumFile := final + checksumExt
	tmp := path.Join(dir, "."+name+".tmp")
	f, err := db.fs.Create(tmp)
	if err != nil {
		return SnapshotInfo{}, err
	}
	renamed := false
	defer func() {
		if err == nil {
			return
		}
		if f != nil {
			_ = f.Close()
		}
		if renamed {
			_ = db.fs.Remove(final)
		} else {
			_ = db.fs.Remove(tmp)
		}
		_ = db.fs.Remove(sumFile)
	}()

	whole := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, whole)}
	if err := write(cw); err != nil {
		return SnapshotInfo{}, err
	}
	if err := f.Sync(); err != nil {
		return SnapshotInfo{}, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return SnapshotInfo{}, err
	}
	sum := hex.EncodeToString(whole.Sum(nil))
	if err := vfs.WriteFileAtomic(db.fs, sumFile, []byte(sum)); err != nil {
		return SnapshotInfo{}, err
	}
	if err := db.fs.Rename(tmp, final); err != nil {
		return SnapshotInfo{}, err
	}
	renamed = true
	if err := db.fs.SyncDir(dir); err != nil {
		return SnapshotInfo{}, err
	}
	fi, err := db.fs.Stat(final)
	if err != nil {
		return SnapshotInfo{}, err
	}
	return SnapshotInfo{Name: name, CreationTime: fi.ModTime().UTC(), Size: cw.n, Checksum: sum}, nil
}

// writeArchive writes the tar stream: the header hdr (JSON) as the entry
// hdrName, then files, each checked against the hash of the first pass
// while it is copied.
func writeArchive(ctx context.Context, w io.Writer, hdrName string, hdr any, created time.Time, files []archiveFile) error {
	tw := tar.NewWriter(w)
	hb, err := json.MarshalIndent(hdr, "", "  ")
	if err != nil {
		return err
	}
	entry := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: created, Format: tar.FormatPAX})
	}
	if err := entry(hdrName, int64(len(hb))); err != nil {
		return err
	}
	if _, err := tw.Write(hb); err != nil {
		return err
	}
	for _, f := range files {
		if err := entry(f.name, f.size); err != nil {
			return err
		}
		h := sha256.New()
		n, err := io.Copy(tw, io.TeeReader(ctxReader{ctx, f.open()}, h))
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		if n != f.size {
			return fmt.Errorf("%s: copied %d bytes, expected %d", f.name, n, f.size)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != f.sha256 {
			// The files are immutable: a difference is a disk problem.
			return base.CorruptionErrorf("snapshot: %s changed while it was copied (sha256 %s, then %s)", f.name, f.sha256, got)
		}
	}
	return tw.Close()
}

// ListSnapshots returns the snapshots stored for the named collection,
// oldest first (ties by name). The collection itself need not exist any
// more: deleting a collection keeps its snapshots.
func (db *DB) ListSnapshots(ctx context.Context, collection string) ([]SnapshotInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidateName(collection); err != nil {
		return nil, err
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return nil, err
	}
	defer done()
	out, err := db.listSnapshotsIn(ctx, db.snapshotDir(collection), collection)
	if err != nil {
		return nil, fmt.Errorf("strata: list snapshots of %q: %w", collection, err)
	}
	return out, nil
}

// listSnapshotsIn lists the snapshot files in dir (those of collection,
// or full snapshots if collection is ""), oldest first (ties by name).
func (db *DB) listSnapshotsIn(ctx context.Context, dir, collection string) ([]SnapshotInfo, error) {
	names, err := db.fs.List(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return []SnapshotInfo{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := []SnapshotInfo{}
	for _, name := range names {
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, SnapshotExt) {
			continue
		}
		info, err := db.snapshotInfo(ctx, dir, collection, name)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b SnapshotInfo) int {
		if c := a.CreationTime.Compare(b.CreationTime); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// beginSnapshotOp starts a snapshot operation: Close waits until the
// returned function is called. It fails with ErrClosed after Close.
func (db *DB) beginSnapshotOp() (func(), error) {
	db.snapMu.RLock()
	db.mu.RLock()
	closed := db.closed
	db.mu.RUnlock()
	if closed {
		db.snapMu.RUnlock()
		return nil, ErrClosed
	}
	return db.snapMu.RUnlock, nil
}

// snapshotInfo describes one stored snapshot, the file name in dir; the
// checksum comes from its checksum file, or is computed if that is missing
// or unreadable.
func (db *DB) snapshotInfo(ctx context.Context, dir, collection, name string) (SnapshotInfo, error) {
	p := path.Join(dir, name)
	fi, err := db.fs.Stat(p)
	if errors.Is(err, iofs.ErrNotExist) {
		return SnapshotInfo{}, snapshotNotFound(collection, name)
	}
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("strata: snapshot %q: %w", name, err)
	}
	if fi.IsDir() {
		return SnapshotInfo{}, snapshotNotFound(collection, name)
	}
	info := SnapshotInfo{Name: name, Collection: collection, CreationTime: fi.ModTime().UTC(), Size: fi.Size()}
	if b, err := vfs.ReadFile(db.fs, p+checksumExt); err == nil && isSHA256Hex(strings.TrimSpace(string(b))) {
		info.Checksum = strings.ToLower(strings.TrimSpace(string(b)))
		return info, nil
	}
	f, err := db.fs.Open(p)
	if errors.Is(err, iofs.ErrNotExist) {
		return SnapshotInfo{}, snapshotNotFound(collection, name)
	}
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("strata: snapshot %q: %w", name, err)
	}
	defer f.Close()
	sum, err := hashReader(ctx, io.NewSectionReader(f, 0, fi.Size()), fi.Size())
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("strata: snapshot %q: %w", name, err)
	}
	info.Checksum = sum
	return info, nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// DeleteSnapshot deletes a stored snapshot of the named collection (which
// need not exist any more). It fails with ErrNotFound if there is no such
// snapshot and ErrInvalidArgument for a name that cannot be a snapshot's.
// Readers that opened the snapshot keep reading it.
func (db *DB) DeleteSnapshot(ctx context.Context, collection, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSnapshotName(collection, name); err != nil {
		return err
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return err
	}
	defer done()
	return db.deleteSnapshotIn(db.snapshotDir(collection), collection, name)
}

// deleteSnapshotIn deletes the snapshot file name in dir and its checksum
// file.
func (db *DB) deleteSnapshotIn(dir, collection, name string) error {
	p := path.Join(dir, name)
	if fi, err := db.fs.Stat(p); err == nil && fi.IsDir() {
		return snapshotNotFound(collection, name)
	}
	if err := db.fs.Remove(p); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return snapshotNotFound(collection, name)
		}
		return fmt.Errorf("strata: delete snapshot %q: %w", name, err)
	}
	if err := db.fs.Remove(p + checksumExt); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("strata: delete snapshot %q: %w", name, err)
	}
	if err := db.fs.SyncDir(dir); err != nil {
		return fmt.Errorf("strata: delete snapshot %q: %w", name, err)
	}
	return nil
}

// SnapshotReader reads a stored snapshot file. It is an io.ReadSeekCloser
// and an io.ReaderAt; Info describes the file. A snapshot deleted while it
// is open stays readable until Close.
type SnapshotReader struct {
	*io.SectionReader
	f    vfs.File
	info SnapshotInfo
}

// Info describes the snapshot.
func (r *SnapshotReader) Info() SnapshotInfo { return r.info }

// Close closes the file.
func (r *SnapshotReader) Close() error { return r.f.Close() }

// OpenSnapshot opens a stored snapshot of the named collection (which
// need not exist any more) for reading, e.g. to download it. It fails with
// ErrNotFound if there is no such snapshot and ErrInvalidArgument for a
// name that cannot be a snapshot's.
func (db *DB) OpenSnapshot(ctx context.Context, collection, name string) (*SnapshotReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkSnapshotName(collection, name); err != nil {
		return nil, err
	}
	done, err := db.beginSnapshotOp()
	if err != nil {
		return nil, err
	}
	defer done()
	return db.openSnapshotIn(db.snapshotDir(collection), collection, name)
}

// openSnapshotIn opens the snapshot file name in dir.
func (db *DB) openSnapshotIn(dir, collection, name string) (*SnapshotReader, error) {
	p := path.Join(dir, name)
	f, err := db.fs.Open(p)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, snapshotNotFound(collection, name)
	}
	if err != nil {
		return nil, fmt.Errorf("strata: open snapshot %q: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("strata: open snapshot %q: %w", name, err)
	}
	if fi.IsDir() {
		_ = f.Close()
		return nil, snapshotNotFound(collection, name)
	}
	info := SnapshotInfo{Name: name, Collection: collection, CreationTime: fi.ModTime().UTC(), Size: fi.Size()}
	if b, err := vfs.ReadFile(db.fs, p+checksumExt); err == nil && isSHA256Hex(strings.TrimSpace(string(b))) {
		info.Checksum = strings.ToLower(strings.TrimSpace(string(b)))
	}
	return &SnapshotReader{SectionReader: io.NewSectionReader(f, 0, fi.Size()), f: f, info: info}, nil
}

// RecoverOptions configure RecoverSnapshot.
type RecoverOptions struct {
	// Checksum, if set, is the expected SHA-256 of the whole snapshot file
	// (64 hex digits, any case). A mismatch fails the recovery with
	// ErrInvalidArgument naming both sums.
	Checksum string
}

// RecoverSnapshot restores the collection named coll from the
// snapshot archive read from r, creating the collection or replacing the
// existing one of that name (the name given here wins over the one stored
// in the archive). It returns the recovered collection.
//
// The archive is first copied to a temporary file (checked against
// opts.Checksum), then extracted into a temporary directory, every file
// verified against the archive's header (size and SHA-256), and the
// collection opened there in full (every segment checksum, graph and
// payload index) and checked against the header's checkpoint and point
// count. Only then does it replace anything: the old collection is closed
// and its directory swapped with the new one atomically (a crash during
// the swap leaves one or the other, never neither). Handles to the
// replaced collection return ErrClosed afterwards; reads in progress on it
// finish on the old data.
//
// A damaged, truncated or tampered archive, or a checksum mismatch, fails
// with ErrInvalidArgument and changes nothing; temporary files are
// removed on every failure.
func (db *DB) RecoverSnapshot(ctx context.Context, coll string, r io.Reader, opts RecoverOptions) (*Collection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidateName(coll); err != nil {
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
	work, dir, cfg, err := db.prepareRecovery(ctx, coll, r, want)
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.fs.RemoveAll(work) }()
	return db.swapIn(coll, cfg, dir)
}

// prepareRecovery does the steps of RecoverSnapshot that change nothing:
// the archive read from r is copied to a temporary directory work (checked
// against want, if not ""), extracted into dir (under work) and verified,
// and the collection opened there in full. The caller holds a snapshot
// operation, then swaps dir in (swapIn) or not, and removes work. On error
// nothing is left behind.
func (db *DB) prepareRecovery(ctx context.Context, coll string, r io.Reader, want string) (work, dir string, cfg *CollectionConfig, err error) {
	root := path.Join(db.dir, collectionsDir)
	// Under collections/ with a hidden name: Open removes it after a crash.
	tmp := path.Join(root, ".recover-"+randomSuffix()+randomSuffix())
	if err := vfs.MkdirAllSync(db.fs, tmp, 0o755); err != nil {
		return "", "", nil, fmt.Errorf("strata: recover %q: %w", coll, err)
	}
	defer func() {
		if err != nil {
			_ = db.fs.RemoveAll(tmp)
		}
	}()
	work = tmp

	// 1. Copy the archive to a temporary file, hashing it.
	spool := path.Join(work, "snapshot")
	got, err := db.spool(ctx, spool, r)
	if err != nil {
		return "", "", nil, fmt.Errorf("strata: recover %q: %w", coll, err)
	}
	if want != "" && got != want {
		return "", "", nil, base.InvalidArgumentf("snapshot checksum mismatch: expected %s, but the snapshot's SHA-256 is %s", want, got)
	}

	// 2. Extract and verify every file against the header.
	dir = path.Join(work, "collection")
	hdr, err := db.extractSnapshot(ctx, spool, dir)
	if err != nil {
		return "", "", nil, err
	}
	_ = db.fs.Remove(spool) // not needed any more: free its space now

	// 3. Open the collection there in full.
	b, err := vfs.ReadFile(db.fs, path.Join(dir, "config.json"))
	if err != nil {
		return "", "", nil, fmt.Errorf("strata: recover %q: %w", coll, err)
	}
	cfg, err = decodeConfig(b)
	if err != nil {
		return "", "", nil, base.InvalidArgumentf("snapshot: %v", err)
	}
	res, err := collection.Verify(db.fs, dir, cfg.schema(), db.engineOptions(coll, cfg, true))
	if err != nil {
		// Every file matched the header, so a failure is the archive's
		// (bad structure, a file the manifest names but the archive lacks),
		// unless the disk failed.
		var pe *iofs.PathError
		if errors.As(err, &pe) && !errors.Is(err, iofs.ErrNotExist) && !errors.Is(err, ErrCorruption) {
			return "", "", nil, fmt.Errorf("strata: recover %q: %w", coll, err)
		}
		return "", "", nil, base.InvalidArgumentf("snapshot: the collection does not open: %v", err)
	}
	if res.Checkpoint != hdr.Checkpoint || res.Points != hdr.Points {
		return "", "", nil, base.InvalidArgumentf("snapshot: the collection opens at checkpoint %d with %d points, but the header says checkpoint %d with %d points",
			res.Checkpoint, res.Points, hdr.Checkpoint, hdr.Points)
	}
	if err := ctx.Err(); err != nil {
		return "", "", nil, err
	}

	return work, dir, cfg, nil
}

// spool copies r to the file name, returning its hex SHA-256.
func (db *DB) spool(ctx context.Context, name string, r io.Reader) (string, error) {
	f, err := db.fs.Create(name)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	_, err = io.Copy(bw, ctxReader{ctx, r})
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// damaged wraps an error reading the archive.
func damaged(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return base.InvalidArgumentf("snapshot archive is damaged or truncated: %v", err)
}

// openArchive opens the archive in the file spool (zstd-compressed tar)
// and decodes its first entry, which must be the JSON header headerName,
// into hdr; what names the archive in errors. done closes it.
func (db *DB) openArchive(ctx context.Context, spool, what, headerName string, hdr any) (tr *tar.Reader, done func(), err error) {
	f, err := db.fs.Open(spool)
	if err != nil {
		return nil, nil, err
	}
	zr, err := zstd.NewReader(bufio.NewReaderSize(f, 1<<20), zstd.WithDecoderMaxWindow(128<<20), zstd.WithDecoderConcurrency(1))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	done = func() { zr.Close(); f.Close() }
	tr = tar.NewReader(ctxReader{ctx, zr})
	th, err := tr.Next()
	if err != nil {
		done()
		return nil, nil, damaged(err)
	}
	if th.Name != headerName || th.Size > maxSnapshotHeader {
		done()
		return nil, nil, base.InvalidArgumentf("%s: the first entry is %q (%d bytes), expected the header %s", what, th.Name, th.Size, headerName)
	}
	hb, err := io.ReadAll(tr)
	if err != nil {
		done()
		return nil, nil, damaged(err)
	}
	if err := json.Unmarshal(hb, hdr); err != nil {
		done()
		return nil, nil, base.InvalidArgumentf("%s: header %s: %v", what, headerName, err)
	}
	return tr, done, nil
}

// extractSnapshot extracts the archive in the file spool into dir, checking
// every file against the header, and fsyncs every file and directory.
func (db *DB) extractSnapshot(ctx context.Context, spool, dir string) (*snapshotHeader, error) {
	var hdr snapshotHeader
	tr, done, err := db.openArchive(ctx, spool, "snapshot archive", snapshotHeaderName, &hdr)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := checkHeader(&hdr); err != nil {
		return nil, err
	}
	if err := vfs.MkdirAllSync(db.fs, path.Join(dir, "segments"), 0o755); err != nil {
		return nil, err
	}
	if err := db.extractEntries(tr, "snapshot archive", hdr.Files, func(e snapshotFileEntry) string { return path.Join(dir, e.Name) }); err != nil {
		return nil, err
	}
	for _, d := range []string{path.Join(dir, "segments"), dir} {
		if err := db.fs.SyncDir(d); err != nil {
			return nil, err
		}
	}
	return &hdr, nil
}

// extractEntries reads the rest of an archive (what names it in errors):
// every entry must be one of listed (names already checked unique), once,
// a regular file of the listed size, and is written to dest(entry) with
// its SHA-256 checked (extractFile); every listed entry must be present.
func (db *DB) extractEntries(tr *tar.Reader, what string, listed []snapshotFileEntry, dest func(snapshotFileEntry) string) error {
	index := make(map[string]int, len(listed))
	for i, e := range listed {
		index[e.Name] = i
	}
	seen := make([]bool, len(listed))
	for {
		th, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return damaged(err)
		}
		i, ok := index[th.Name]
		switch {
		case !ok:
			return base.InvalidArgumentf("%s: entry %q is not listed in the header", what, th.Name)
		case seen[i]:
			return base.InvalidArgumentf("%s: entry %q appears twice", what, th.Name)
		case th.Typeflag != tar.TypeReg:
			return base.InvalidArgumentf("%s: entry %q is not a regular file", what, th.Name)
		case th.Size != listed[i].Size:
			return base.InvalidArgumentf("%s: entry %q has %d bytes, the header says %d", what, th.Name, th.Size, listed[i].Size)
		}
		seen[i] = true
		if err := db.extractFile(tr, dest(listed[i]), listed[i]); err != nil {
			return err
		}
	}
	for i, e := range listed {
		if !seen[i] {
			return base.InvalidArgumentf("%s is truncated: %s, listed in the header, is missing", what, e.Name)
		}
	}
	return nil
}

// checkHeader validates an archive header: format, names (unique, inside
// the archive layout), sizes and digests, and the files every snapshot has.
func checkHeader(hdr *snapshotHeader) error {
	if hdr.Format != snapshotFormat {
		return base.InvalidArgumentf("snapshot archive: unsupported format %d (this version reads format %d)", hdr.Format, snapshotFormat)
	}
	if hdr.Points < 0 {
		return base.InvalidArgumentf("snapshot archive: header: negative point count")
	}
	expect := make(map[string]snapshotFileEntry, len(hdr.Files))
	for _, e := range hdr.Files {
		if !validArchivePath(e.Name) {
			return base.InvalidArgumentf("snapshot archive: header: bad file name %q", e.Name)
		}
		if _, dup := expect[e.Name]; dup {
			return base.InvalidArgumentf("snapshot archive: header: %q listed twice", e.Name)
		}
		if e.Size < 0 || !isSHA256Hex(e.SHA256) {
			return base.InvalidArgumentf("snapshot archive: header: bad size or sha256 for %q", e.Name)
		}
		expect[e.Name] = e
	}
	for _, need := range []string{"config.json", "MANIFEST"} {
		if _, ok := expect[need]; !ok {
			return base.InvalidArgumentf("snapshot archive: header does not list %s", need)
		}
	}
	return nil
}

// validArchivePath accepts the paths a collection's files have in an
// archive: config.json, MANIFEST and segments/<plain file name>.
func validArchivePath(p string) bool {
	if p == "config.json" || p == "MANIFEST" {
		return true
	}
	base, ok := strings.CutPrefix(p, "segments/")
	if !ok || base == "" || base[0] == '.' || strings.ContainsAny(base, `/\`) {
		return false
	}
	for _, r := range base {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// extractFile writes one archive entry to name, checking its SHA-256, and
// fsyncs it.
func (db *DB) extractFile(r io.Reader, name string, e snapshotFileEntry) error {
	out, err := db.fs.Create(name)
	if err != nil {
		return err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(out, h), 1<<20)
	n, err := io.Copy(bw, r)
	if err != nil {
		_ = out.Close()
		return damaged(err)
	}
	if err := bw.Flush(); err != nil {
		_ = out.Close()
		return err
	}
	if n != e.Size {
		_ = out.Close()
		return base.InvalidArgumentf("snapshot archive is truncated: %s has %d bytes, the header says %d", e.Name, n, e.Size)
	}
	if got := hexSum(h); got != e.SHA256 {
		_ = out.Close()
		return base.InvalidArgumentf("snapshot archive is damaged: %s has sha256 %s, the header says %s", e.Name, got, e.SHA256)
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// replacedPrefix names a collection directory being replaced by a
// recovery. It is as long as CreateCollection's ".tmp-", so that every
// collection that can be created can be replaced.
const replacedPrefix = ".old-"

// swapIn replaces (or creates) the collection name with the verified
// collection directory dir and opens it.
func (db *DB) swapIn(name string, cfg *CollectionConfig, dir string) (*Collection, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil, ErrClosed
	}
	root := path.Join(db.dir, collectionsDir)
	final := db.collDir(name)
	replaced := path.Join(root, replacedPrefix+name)
	old := db.colls[name]
	if old != nil {
		delete(db.colls, name)
		old.dropped.Store(true)
		_ = old.eng.Close() // the data is being replaced; a flush error is moot
		if err := db.fs.RemoveAll(replaced); err != nil {
			return nil, db.restore(name, old, fmt.Errorf("strata: recover %q: %w", name, err))
		}
		if err := db.fs.Rename(final, replaced); err != nil {
			return nil, db.restore(name, old, fmt.Errorf("strata: recover %q: %w", name, err))
		}
	} else if _, err := db.fs.Stat(final); err == nil {
		return nil, fmt.Errorf("strata: recover %q: %s exists but is not an open collection", name, final)
	}
	// From here until the directory sync, a crash leaves either the old
	// directory under its name, or the new one, or the old one under
	// replaced (Open renames it back: finishSnapshotSwaps).
	undo := func(err error) error {
		if rerr := db.fs.Rename(final, dir); rerr != nil && !errors.Is(rerr, iofs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		if old != nil {
			if rerr := db.fs.Rename(replaced, final); rerr != nil {
				return errors.Join(err, rerr)
			}
		}
		_ = db.fs.SyncDir(root) // best effort; Open resolves either state
		return db.restore(name, old, err)
	}
	if err := db.fs.Rename(dir, final); err != nil {
		return nil, undo(fmt.Errorf("strata: recover %q: %w", name, err))
	}
	if err := db.fs.SyncDir(root); err != nil {
		return nil, undo(fmt.Errorf("strata: recover %q: %w", name, err))
	}
	// Every file was verified moments ago (SHA-256 and a full open).
	c, err := db.startCollectionVerify(name, cfg, false)
	if err != nil {
		return nil, undo(err)
	}
	db.colls[name] = c
	if old != nil {
		_ = db.fs.RemoveAll(replaced) // Open removes it if this fails
	}
	return c, nil
}

// restore reopens the collection old replaced (if any) after a failed
// swap, so that a failed recovery changes nothing; err is returned,
// joined with any error reopening.
func (db *DB) restore(name string, old *Collection, err error) error {
	if old == nil {
		return err
	}
	cfg := old.Config()
	c, rerr := db.startCollection(name, &cfg)
	if rerr != nil {
		return errors.Join(err, fmt.Errorf("strata: reopening %q after a failed recovery: %w", name, rerr))
	}
	db.colls[name] = c
	return err
}

// finishSnapshotSwaps completes directory swaps of recoveries that a crash
// interrupted: a collection directory renamed to ".old-<name>" whose
// replacement never reached <name> is renamed back. It returns the entries
// of root afterwards. (Open removes the other hidden entries.)
func (db *DB) finishSnapshotSwaps(root string, names []string) ([]string, error) {
	changed := false
	for _, n := range names {
		orig, ok := strings.CutPrefix(n, replacedPrefix)
		if !ok || slices.Contains(names, orig) || ValidateName(orig) != nil {
			continue
		}
		if err := db.fs.Rename(path.Join(root, n), path.Join(root, orig)); err != nil {
			return nil, fmt.Errorf("restore %s: %w", n, err)
		}
		changed = true
	}
	if !changed {
		return names, nil
	}
	if err := db.fs.SyncDir(root); err != nil {
		return nil, err
	}
	return db.fs.List(root)
}

// removeSnapshotLeftovers removes what an interrupted snapshot creation
// left: hidden temporary files (and the temporary directories of full
// snapshots) and checksum files without their snapshot, in every
// collection's snapshot directory and in the full snapshots' (fullDir).
func (db *DB) removeSnapshotLeftovers() error {
	root := db.SnapshotsDir()
	colls, err := db.fs.List(root)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("strata: open: %w", err)
	}
	for _, coll := range colls {
		dir := path.Join(root, coll)
		names, err := db.fs.List(dir)
		if err != nil {
			continue // not a directory
		}
		for _, n := range names {
			snap, isSum := strings.CutSuffix(n, checksumExt)
			if !strings.HasPrefix(n, ".") && !strings.HasSuffix(n, ".tmp") && (!isSum || slices.Contains(names, snap)) {
				continue
			}
			if err := db.fs.RemoveAll(path.Join(dir, n)); err != nil && !errors.Is(err, iofs.ErrNotExist) {
				return fmt.Errorf("strata: open: remove snapshot leftover %s: %w", n, err)
			}
		}
	}
	return nil
}
