package wal

import (
	"fmt"
	"path"
	"slices"
	"sync"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vfs"
)

// Open opens the log in dir, creating dir and an empty log if they are
// missing, validates every file and replays it: fn is called, in seq order,
// for every record with seq > after. Records with seq <= after are
// validated but not passed to fn. fn may retain data (it is not reused)
// but must not modify it; fn may be nil to validate only. An error from fn aborts Open and is returned
// (wrapped).
//
// Recovery (W6): a torn tail of the last file is truncated away and the log
// continues after the last good record. A bad record anywhere else, a
// valid record after a bad one, a bad file header, or a gap in the seqs is
// an error matching base.ErrCorruption that names the file and offset. If
// Open fails, fn may have been called for some records: discard what was
// built from them.
//
// after is the seq up to which the caller has persisted the log's effects
// elsewhere. The log must hold every record from after+1 on, or Open fails
// with ErrCorruption. If every record in the log is <= after, the files
// are obsolete: Open removes them and starts a new file at after+1 (W8).
// The next Append gets seq max(last seq in the log, after) + 1.
func Open(fsys vfs.FS, dir string, opts Options, after uint64, fn func(seq uint64, typ uint8, data []byte) error) (*Log, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := vfs.MkdirAllSync(fsys, dir, 0o755); err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	entries, err := fsys.List(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: open %s: %w", dir, err)
	}
	l := &Log{fs: fsys, dir: dir, opts: opts}
	l.cond = sync.NewCond(&l.mu)
	for _, e := range entries {
		if start, ok := parseFileName(e); ok {
			l.files = append(l.files, logFile{start: start, name: path.Join(dir, e)})
		}
	}
	slices.SortFunc(l.files, func(a, b logFile) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})

	// Replay, checking W1 across files: next is the seq the next record
	// must have.
	var (
		next    uint64
		tail    tailFix
		hasTail bool
	)
	for i, f := range l.files {
		switch {
		case f.start == 0:
			return nil, base.CorruptionErrorf("wal: %s: seq 0 is not a valid first seq", f.name)
		case i == 0 && f.start > after+1:
			return nil, base.CorruptionErrorf("wal: %s: log begins at seq %d, but records from seq %d on are needed", f.name, f.start, after+1)
		case i > 0 && f.start != next:
			return nil, base.CorruptionErrorf("wal: %s: seq gap: file begins at seq %d, but the previous file ends at seq %d", f.name, f.start, next-1)
		}
		last := i == len(l.files)-1
		end, fix, err := replayFile(fsys, f, last, after, fn)
		if err != nil {
			return nil, err
		}
		next = end
		if last {
			tail, hasTail = fix, true
		}
	}

	switch {
	case !hasTail: // no files: a new log
		l.lastSeq = after
		l.files = nil
		if err := l.startFile(after + 1); err != nil {
			return nil, err
		}
	case next-1 < after:
		// Every record is <= after (W8): remove the obsolete files, oldest
		// first, each durably (W7), then start at after+1 with no gap.
		for len(l.files) > 0 {
			f := l.files[0]
			if err := fsys.Remove(f.name); err != nil {
				return nil, fmt.Errorf("wal: open: remove obsolete %s: %w", f.name, err)
			}
			l.files = l.files[1:]
			if err := fsys.SyncDir(dir); err != nil {
				return nil, fmt.Errorf("wal: open: sync directory %s: %w", dir, err)
			}
		}
		l.lastSeq = after
		if err := l.startFile(after + 1); err != nil {
			return nil, err
		}
	default:
		l.lastSeq = next - 1
		if err := l.openLast(tail); err != nil {
			return nil, err
		}
	}
	l.setSynced(l.lastSeq)
	return l, nil
}

// tailFix says how Open must repair the last file before appending to it.
type tailFix struct {
	name       string
	newHeader  bool  // the header is missing or torn: rewrite the file as empty
	truncateAt int64 // cut the file to this size (torn tail), or -1
}

// replayFile validates the file f, whose first record must have seq
// f.start, calls fn for its records with seq > after, and returns the seq
// its successor must start with. For the last file it also returns the
// repair Open must make.
func replayFile(fsys vfs.FS, f logFile, last bool, after uint64, fn func(uint64, uint8, []byte) error) (next uint64, fix tailFix, err error) {
	fix = tailFix{name: f.name, truncateAt: -1}
	data, err := vfs.ReadFile(fsys, f.name)
	if err != nil {
		return 0, fix, fmt.Errorf("wal: open: read %s: %w", f.name, err)
	}
	if len(data) < fileHeaderSize || allZero(data) {
		// A crash while rotation created this file (W5): nothing was ever
		// appended to it, and nothing could be, before its header was
		// durable.
		if !last {
			return 0, fix, base.CorruptionErrorf("wal: %s: missing file header (%d bytes) in a file that is not the last", f.name, len(data))
		}
		fix.newHeader = true
		return f.start, fix, nil
	}
	if err := checkFileHeader(data); err != nil {
		return 0, fix, base.CorruptionErrorf("wal: %s: offset 0: %v", f.name, err)
	}

	// First validate the whole file, then replay it, so that fn never sees
	// a record of a file that turns out to be corrupt.
	var recs []record
	next = f.start
	off := fileHeaderSize
	for off < len(data) {
		rec, n, bad := decodeRecord(data[off:])
		if bad != recOK {
			if !last {
				return 0, fix, base.CorruptionErrorf("wal: %s: offset %d: %v in a file that is not the last", f.name, off, bad)
			}
			if p, s, found := findRecord(data, off+1, next); found {
				return 0, fix, base.CorruptionErrorf("wal: %s: offset %d: %v, followed by a valid record (seq %d at offset %d)", f.name, off, bad, s, p)
			}
			fix.truncateAt = int64(off) // torn tail
			break
		}
		if rec.seq != next {
			return 0, fix, base.CorruptionErrorf("wal: %s: offset %d: seq gap: record has seq %d, want %d", f.name, off, rec.seq, next)
		}
		if rec.seq > after {
			recs = append(recs, rec)
		}
		next++
		off += n
	}
	for _, r := range recs {
		if fn == nil {
			break
		}
		if err := fn(r.seq, r.typ, r.data); err != nil {
			return 0, fix, fmt.Errorf("wal: replay seq %d: %w", r.seq, err)
		}
	}
	return next, fix, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// startFile creates the first file of a new or emptied log.
func (l *Log) startFile(start uint64) error {
	f, name, err := l.createFile(start)
	if err != nil {
		return fmt.Errorf("wal: open: create %s: %w", name, err)
	}
	l.active = f
	l.files = []logFile{{start: start, name: name}}
	l.size = fileHeaderSize
	return nil
}

// openLast opens the last file for appending after repairing its tail, and
// fsyncs it, so that every replayed record is durable before Open returns.
func (l *Log) openLast(fix tailFix) error {
	if fix.newHeader {
		f, _, err := l.createFile(l.files[len(l.files)-1].start)
		if err != nil {
			return fmt.Errorf("wal: open: rewrite header of %s: %w", fix.name, err)
		}
		l.active = f
		l.size = fileHeaderSize
		return nil
	}
	f, err := l.fs.OpenAppend(fix.name)
	if err != nil {
		return fmt.Errorf("wal: open %s: %w", fix.name, err)
	}
	if fix.truncateAt >= 0 {
		if err := f.Truncate(fix.truncateAt); err != nil {
			f.Close()
			return fmt.Errorf("wal: open: truncate torn tail of %s at offset %d: %w", fix.name, fix.truncateAt, err)
		}
	}
	err = l.fsync(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("wal: open: fsync %s: %w", fix.name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("wal: open: stat %s: %w", fix.name, err)
	}
	l.active = f
	l.size = fi.Size()
	return nil
}
