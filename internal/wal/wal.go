package wal

import (
	"fmt"
	"math"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vfs"
)

// Options configure a Log. The zero value is valid: every zero field takes
// its default.
type Options struct {
	// SegmentSize is the size in bytes after which the log rotates to a new
	// file: a record that would take the active file past it goes into a
	// new file, unless the active file holds no record yet (so a record
	// larger than SegmentSize gets a file of its own). Default 64 MiB.
	SegmentSize int64
	// MaxRecordSize is the largest payload Append accepts, in bytes; larger
	// ones fail with an error matching base.ErrInvalidArgument. At most
	// math.MaxUint32 (the length field is 32 bits). Default 128 MiB.
	MaxRecordSize int
}

// Defaults for Options.
const (
	DefaultSegmentSize   = 64 << 20
	DefaultMaxRecordSize = 128 << 20
)

// EnsureDefaults replaces zero fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
}

// Validate reports an error matching base.ErrInvalidArgument for values out
// of range. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	if o.SegmentSize <= 0 {
		return base.InvalidArgumentf("wal: SegmentSize %d: must be positive", o.SegmentSize)
	}
	if o.MaxRecordSize <= 0 || uint64(o.MaxRecordSize) > math.MaxUint32 {
		return base.InvalidArgumentf("wal: MaxRecordSize %d: must be in [1, %d]", o.MaxRecordSize, uint64(math.MaxUint32))
	}
	return nil
}

// Stats are counters since Open.
type Stats struct {
	Appends uint64 // records appended
	Syncs   uint64 // File.Sync calls on log files (group commits, rotations, Open, Close)
	Bytes   uint64 // bytes appended, framing included
	Files   int    // live log files, the active one included
	// SyncFailures counts the File.Sync calls that failed (each poisons
	// the log or fails Open); SyncTime is the time spent in all of them.
	SyncFailures uint64
	SyncTime     time.Duration
}

// Log is an open write-ahead log. It is safe for concurrent use; see the
// package documentation for its contract.
type Log struct {
	fs   vfs.FS
	dir  string
	opts Options

	// mu protects every field below it up to the atomics; it is the Log's
	// only lock. Sync does not hold it during the fsync: it sets syncing
	// instead, and rotation, TruncateBefore and Close wait (on cond) until
	// syncing is false, so a file is never switched or closed under an
	// fsync in flight (W3).
	mu      sync.Mutex
	cond    *sync.Cond // on mu; broadcast when syncing ends, or err or closed is set
	files   []logFile  // live files, oldest first; the last one is the active file
	active  vfs.File   // open for appending; its name is files[len(files)-1].name
	size    int64      // bytes in the active file
	lastSeq uint64     // seq of the last appended record
	syncing bool       // an fsync of active is in flight, without mu held
	err     error      // sticky: the first failed write or fsync poisons the log (W4)
	closed  bool
	buf     []byte // framing buffer for small records

	syncedSeq atomic.Uint64 // every record <= syncedSeq is durable (W2)
	appends   atomic.Uint64
	syncs     atomic.Uint64
	bytes     atomic.Uint64
	syncFails atomic.Uint64
	syncNanos atomic.Int64
}

// logFile is one file of the log.
type logFile struct {
	start uint64 // seq of its first record, and its name
	name  string // path: dir + "/" + fileName(start)
}

// smallRecord is the largest payload that Append copies into its framing
// buffer to write header and payload in one Write; larger payloads are
// written in two Writes rather than copied.
const smallRecord = 64 << 10

// Append writes a record of type typ with payload data to the log and
// returns its sequence number. It does not fsync: the record is durable
// once Sync(seq) returns nil. data is written before Append returns, so the
// caller may reuse it.
//
// A payload larger than MaxRecordSize fails with an error matching
// base.ErrInvalidArgument and changes nothing. A failed write poisons the
// log (W4): the error, and that of every later Append and Sync, matches
// base.ErrReadOnly and the cause. After Close, Append fails with an error
// matching base.ErrClosed.
func (l *Log) Append(typ uint8, data []byte) (seq uint64, err error) {
	if len(data) > l.opts.MaxRecordSize {
		return 0, base.InvalidArgumentf("wal: record of %d bytes exceeds MaxRecordSize %d", len(data), l.opts.MaxRecordSize)
	}
	recSize := int64(recHeaderSize + len(data))

	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if err := l.usableLocked("append"); err != nil {
			return 0, err
		}
		if l.size <= fileHeaderSize || l.size+recSize <= l.opts.SegmentSize {
			break
		}
		if l.syncing {
			l.cond.Wait()
			continue
		}
		if err := l.rotateLocked(); err != nil {
			return 0, err
		}
	}
	if l.lastSeq == math.MaxUint64 {
		return 0, base.InvalidArgumentf("wal: sequence numbers exhausted")
	}
	seq = l.lastSeq + 1

	if len(data) <= smallRecord {
		l.buf = appendRecord(l.buf[:0], seq, typ, data)
		_, err = l.active.Write(l.buf)
	} else {
		var h [recHeaderSize]byte
		putRecordHeader(h[:], seq, typ, data)
		if _, err = l.active.Write(h[:]); err == nil {
			_, err = l.active.Write(data)
		}
	}
	if err != nil {
		// Part of the record may be in the file. The log is poisoned, so
		// nothing follows it; recovery sees a torn tail.
		return 0, l.poisonLocked("write", l.activeName(), err)
	}
	l.lastSeq = seq
	l.size += recSize
	l.appends.Add(1)
	l.bytes.Add(uint64(recSize))
	return seq, nil
}

// Sync returns nil once every record with a seq <= seq is durable: once an
// fsync that started after the record was written has succeeded (W2).
//
// Group commit (W3): at most one fsync is in flight. A caller whose record
// is covered by the fsync in flight waits for it; otherwise the first
// caller to find no fsync in flight issues one, covering every record
// appended so far, and the others wait for that one.
//
// If an fsync fails, the log is poisoned (W4): that Sync, every Sync
// waiting for it, and every later Sync and Append return an error matching
// base.ErrReadOnly and the fsync's error. The fsync is not retried.
//
// seq must not exceed LastSeq (an error matching base.ErrInvalidArgument
// otherwise). After Close, Sync returns nil for records that Close made
// durable and an error matching base.ErrClosed for others.
func (l *Log) Sync(seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq > l.lastSeq {
		return base.InvalidArgumentf("wal: sync of seq %d: last appended seq is %d", seq, l.lastSeq)
	}
	for {
		switch {
		case l.err != nil:
			return l.err
		case seq <= l.syncedSeq.Load():
			return nil
		case l.closed:
			return fmt.Errorf("wal: sync: %w", base.ErrClosed)
		case l.syncing:
			l.cond.Wait()
			continue
		}
		// Lead a group commit: fsync everything written so far. Appends may
		// go on meanwhile; they are not covered and wait for the next one.
		l.syncing = true
		target, f, name := l.lastSeq, l.active, l.activeName()
		l.mu.Unlock()
		err := l.fsync(f)
		l.mu.Lock()
		l.syncing = false
		if err != nil {
			l.poisonLocked("fsync", name, err)
		} else {
			l.setSynced(target)
		}
		l.cond.Broadcast()
	}
}

// LastSeq returns the seq of the last appended record (or, before the
// first Append, max(last seq in the log, after) as given to Open).
func (l *Log) LastSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastSeq
}

// SyncedSeq returns the seq up to which every record is known durable.
func (l *Log) SyncedSeq() uint64 { return l.syncedSeq.Load() }

// Stats returns the Log's counters.
func (l *Log) Stats() Stats {
	l.mu.Lock()
	files := len(l.files)
	l.mu.Unlock()
	return Stats{
		Appends:      l.appends.Load(),
		Syncs:        l.syncs.Load(),
		Bytes:        l.bytes.Load(),
		Files:        files,
		SyncFailures: l.syncFails.Load(),
		SyncTime:     time.Duration(l.syncNanos.Load()),
	}
}

// fsync syncs f and counts the call, its duration and its failure.
func (l *Log) fsync(f vfs.File) error {
	start := time.Now()
	err := f.Sync()
	l.syncNanos.Add(int64(time.Since(start)))
	l.syncs.Add(1)
	if err != nil {
		l.syncFails.Add(1)
	}
	return err
}

// TruncateBefore removes every file all of whose records have a seq <= seq,
// oldest first (W7). If the active file holds records and all of them
// qualify, the log first rotates to a new file so that it can be removed.
// Call it once the records up to seq are persisted elsewhere (the
// collection's checkpoint), and reopen with after >= seq.
//
// Each removal is made durable (SyncDir) before the next, so a crash leaves
// a contiguous log. A failed rotation or SyncDir poisons the log (W4); a
// failed Remove is returned and leaves the log as it was.
func (l *Log) TruncateBefore(seq uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if err := l.usableLocked("truncate"); err != nil {
			return err
		}
		if !l.syncing {
			break
		}
		l.cond.Wait()
	}
	if active := l.files[len(l.files)-1]; l.lastSeq >= active.start && l.lastSeq <= seq {
		if err := l.rotateLocked(); err != nil {
			return err
		}
	}
	for len(l.files) > 1 && l.files[1].start-1 <= seq {
		f := l.files[0]
		if err := l.fs.Remove(f.name); err != nil {
			return fmt.Errorf("wal: truncate: remove %s: %w", f.name, err)
		}
		l.files = l.files[1:]
		if err := l.fs.SyncDir(l.dir); err != nil {
			return l.poisonLocked("sync directory", l.dir, err)
		}
	}
	return nil
}

// Close fsyncs what is not yet durable and closes the active file. If the
// log was poisoned, Close closes it and returns the poisoning error. Later
// calls of Close, Append and TruncateBefore fail with an error matching
// base.ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return fmt.Errorf("wal: close: %w", base.ErrClosed)
	}
	for l.syncing {
		l.cond.Wait()
	}
	l.closed = true
	defer l.cond.Broadcast()
	name := l.activeName()
	err := l.err
	if err == nil && l.syncedSeq.Load() < l.lastSeq {
		serr := l.fsync(l.active)
		if serr != nil {
			err = l.poisonLocked("fsync", name, serr)
		} else {
			l.setSynced(l.lastSeq)
		}
	}
	if cerr := l.active.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wal: close %s: %w", name, cerr)
	}
	return err
}

// usableLocked returns the error that stops a write operation, if any.
func (l *Log) usableLocked(op string) error {
	if l.err != nil {
		return l.err
	}
	if l.closed {
		return fmt.Errorf("wal: %s: %w", op, base.ErrClosed)
	}
	return nil
}

// poisonLocked records the first failure of a write, fsync or rotation
// step (W4) and returns the sticky error, which matches base.ErrReadOnly
// and the cause.
func (l *Log) poisonLocked(op, name string, cause error) error {
	if l.err == nil {
		l.err = fmt.Errorf("wal: %s %s: %w: %w", op, name, base.ErrReadOnly, cause)
		l.cond.Broadcast()
	}
	return l.err
}

// setSynced raises syncedSeq to seq. Call with mu held.
func (l *Log) setSynced(seq uint64) {
	if seq > l.syncedSeq.Load() {
		l.syncedSeq.Store(seq)
	}
}

func (l *Log) activeName() string { return l.files[len(l.files)-1].name }

// rotateLocked makes the active file durable and switches to a new file
// named after the next seq (W5): fsync the old file, create the new one,
// write its header, fsync it, fsync the directory, and only then close the
// old file and switch. Any failure poisons the log. Call with mu held, no
// fsync in flight and the log not poisoned.
func (l *Log) rotateLocked() error {
	oldName := l.activeName()
	err := l.fsync(l.active)
	if err != nil {
		return l.poisonLocked("fsync", oldName, err)
	}
	l.setSynced(l.lastSeq)
	next := l.lastSeq + 1
	f, name, err := l.createFile(next)
	if err != nil {
		return l.poisonLocked("rotate to", name, err)
	}
	if err := l.active.Close(); err != nil {
		f.Close()
		return l.poisonLocked("close", oldName, err)
	}
	l.active = f
	l.files = append(l.files, logFile{start: next, name: name})
	l.size = fileHeaderSize
	return nil
}

// createFile creates the file for records from start on, with its header
// durable and its directory entry durable.
func (l *Log) createFile(start uint64) (vfs.File, string, error) {
	name := path.Join(l.dir, fileName(start))
	f, err := l.fs.Create(name)
	if err != nil {
		return nil, name, err
	}
	_, err = f.Write(appendFileHeader(nil))
	if err == nil {
		err = l.fsync(f)
	}
	if err == nil {
		err = l.fs.SyncDir(l.dir)
	}
	if err != nil {
		f.Close()
		return nil, name, err
	}
	return f, name, nil
}
