package wal

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vfs"
)

const dir = "db/wal"

// payload is the deterministic payload of record seq, 0 to ~200 bytes.
func payload(seq uint64) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("<%d>", seq)), int(seq*7%41))
}

func typeOf(seq uint64) uint8 { return uint8(seq * 13) }

type rec struct {
	seq  uint64
	typ  uint8
	data []byte
}

// open opens a log and returns the records it replayed.
func open(t testing.TB, fsys vfs.FS, opts Options, after uint64) (*Log, []rec, error) {
	t.Helper()
	var recs []rec
	l, err := Open(fsys, dir, opts, after, func(seq uint64, typ uint8, data []byte) error {
		recs = append(recs, rec{seq, typ, data})
		return nil
	})
	return l, recs, err
}

func mustOpen(t testing.TB, fsys vfs.FS, opts Options, after uint64) (*Log, []rec) {
	t.Helper()
	l, recs, err := open(t, fsys, opts, after)
	if err != nil {
		t.Fatal(err)
	}
	return l, recs
}

// appendN appends records with the payloads of payload(seq) until LastSeq
// is to, syncing every syncEvery records (never if 0).
func appendN(t testing.TB, l *Log, to uint64, syncEvery int) {
	t.Helper()
	for i := 1; l.LastSeq() < to; i++ {
		want := l.LastSeq() + 1
		seq, err := l.Append(typeOf(want), payload(want))
		if err != nil {
			t.Fatal(err)
		}
		if seq != want {
			t.Fatalf("Append returned seq %d, want %d", seq, want)
		}
		if syncEvery > 0 && i%syncEvery == 0 {
			if err := l.Sync(seq); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkRecs checks that recs are exactly the records from..to.
func checkRecs(t testing.TB, recs []rec, from, to uint64) {
	t.Helper()
	if from > to {
		if len(recs) != 0 {
			t.Fatalf("replayed %d records (first seq %d), want none", len(recs), recs[0].seq)
		}
		return
	}
	if uint64(len(recs)) != to-from+1 {
		t.Fatalf("replayed %d records, want %d (seqs %d..%d)", len(recs), to-from+1, from, to)
	}
	for i, r := range recs {
		seq := from + uint64(i)
		if r.seq != seq || r.typ != typeOf(seq) || !bytes.Equal(r.data, payload(seq)) {
			t.Fatalf("record %d: seq %d type %d len %d, want seq %d type %d len %d",
				i, r.seq, r.typ, len(r.data), seq, typeOf(seq), len(payload(seq)))
		}
	}
}

func mustClose(t testing.TB, l *Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func logFiles(t testing.TB, fsys vfs.FS) []string {
	t.Helper()
	names, err := fsys.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(names, func(n string) bool { return !strings.HasSuffix(n, ".log") })
}

func TestRoundTripAcrossRotations(t *testing.T) {
	m := vfs.NewMem()
	opts := Options{SegmentSize: 1024}
	l, recs := mustOpen(t, m, opts, 0)
	checkRecs(t, recs, 1, 0)
	appendN(t, l, 500, 7)
	if err := l.Sync(l.LastSeq()); err != nil {
		t.Fatal(err)
	}
	st := l.Stats()
	if st.Appends != 500 || st.Files < 10 || st.Files != len(logFiles(t, m)) {
		t.Fatalf("stats %+v, %d files on disk", st, len(logFiles(t, m)))
	}
	mustClose(t, l)

	// Every file is named after its first record, respects SegmentSize
	// unless it holds a single record, and starts with a valid header.
	for _, name := range logFiles(t, m) {
		data, _ := vfs.ReadFile(m, path.Join(dir, name))
		start, _ := parseFileName(name)
		if err := checkFileHeader(data); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r, n, bad := decodeRecord(data[fileHeaderSize:]); bad != recOK || r.seq != start {
			t.Fatalf("%s: first record seq %d (%v), want %d", name, r.seq, bad, start)
		} else if len(data) > int(opts.SegmentSize) && fileHeaderSize+n != len(data) {
			t.Fatalf("%s: %d bytes > SegmentSize with more than one record", name, len(data))
		}
	}

	l, recs = mustOpen(t, m, opts, 0)
	checkRecs(t, recs, 1, 500)
	mustClose(t, l)
}

func TestReopenContinuesSeqs(t *testing.T) {
	m := vfs.NewMem()
	for round := range 4 {
		l, recs := mustOpen(t, m, Options{SegmentSize: 600}, 0)
		checkRecs(t, recs, 1, uint64(round*10))
		if l.LastSeq() != uint64(round*10) || l.SyncedSeq() != l.LastSeq() {
			t.Fatalf("LastSeq %d SyncedSeq %d", l.LastSeq(), l.SyncedSeq())
		}
		appendN(t, l, uint64(round*10+10), 3)
		mustClose(t, l)
	}
}

func TestAfter(t *testing.T) {
	m := vfs.NewMem()
	l, _ := mustOpen(t, m, Options{SegmentSize: 700}, 0)
	appendN(t, l, 40, 0)
	mustClose(t, l)

	for _, after := range []uint64{0, 1, 7, 39, 40} {
		l, recs := mustOpen(t, m, Options{SegmentSize: 700}, after)
		checkRecs(t, recs, after+1, 40)
		if l.LastSeq() != 40 {
			t.Fatalf("after=%d: LastSeq %d", after, l.LastSeq())
		}
		mustClose(t, l)
	}

	// after beyond the log: the files are obsolete (W8) and the log goes on
	// at after+1.
	l, recs := mustOpen(t, m, Options{SegmentSize: 700}, 100)
	checkRecs(t, recs, 1, 0)
	if files := logFiles(t, m); !slices.Equal(files, []string{fileName(101)}) {
		t.Fatalf("files %v", files)
	}
	if seq, err := l.Append(typeOf(101), payload(101)); err != nil || seq != 101 {
		t.Fatalf("Append: %d %v", seq, err)
	}
	mustClose(t, l)
	l, recs = mustOpen(t, m, Options{}, 100)
	checkRecs(t, recs, 101, 101)
	mustClose(t, l)

	// The log no longer holds records 51..100.
	if _, _, err := open(t, m, Options{}, 50); !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("open with after behind the log: %v", err)
	}
}

func TestNewLogAfter(t *testing.T) {
	m := vfs.NewMem()
	l, _ := mustOpen(t, m, Options{}, 1000)
	if l.LastSeq() != 1000 || l.SyncedSeq() != 1000 {
		t.Fatalf("LastSeq %d SyncedSeq %d", l.LastSeq(), l.SyncedSeq())
	}
	if err := l.Sync(1000); err != nil {
		t.Fatal(err)
	}
	seq, err := l.Append(1, nil)
	if err != nil || seq != 1001 {
		t.Fatalf("Append: %d %v", seq, err)
	}
	mustClose(t, l)
}

func TestFnErrorAbortsOpen(t *testing.T) {
	m := vfs.NewMem()
	l, _ := mustOpen(t, m, Options{}, 0)
	appendN(t, l, 10, 0)
	mustClose(t, l)
	stop := errors.New("stop")
	var seen int
	_, err := Open(m, dir, Options{}, 0, func(seq uint64, _ uint8, _ []byte) error {
		seen++
		if seq == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 4 {
		t.Fatalf("err %v after %d records", err, seen)
	}
}

func TestAppendLimits(t *testing.T) {
	m := vfs.NewMem()
	l, _ := mustOpen(t, m, Options{MaxRecordSize: 100}, 0)
	if _, err := l.Append(0, make([]byte, 101)); !errors.Is(err, base.ErrInvalidArgument) {
		t.Fatalf("oversized Append: %v", err)
	}
	if seq, err := l.Append(0, make([]byte, 100)); err != nil || seq != 1 {
		t.Fatalf("Append after a rejected one: %d %v", seq, err)
	}
	if err := l.Sync(2); !errors.Is(err, base.ErrInvalidArgument) {
		t.Fatalf("Sync beyond LastSeq: %v", err)
	}
	mustClose(t, l)
	for _, o := range []Options{{SegmentSize: -1}, {MaxRecordSize: -1}, {MaxRecordSize: 1 << 62}} {
		if _, _, err := open(t, m, o, 0); !errors.Is(err, base.ErrInvalidArgument) {
			t.Fatalf("Options %+v: %v", o, err)
		}
	}
}

func TestLargeRecords(t *testing.T) {
	m := vfs.NewMem()
	opts := Options{SegmentSize: 1 << 20}
	l, _ := mustOpen(t, m, opts, 0)
	big := make([]byte, 3<<20) // larger than smallRecord and SegmentSize
	for i := range big {
		big[i] = byte(i * 7)
	}
	for i := range 3 {
		if _, err := l.Append(uint8(i), big[i:]); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, l)
	if n := len(logFiles(t, m)); n != 3 {
		t.Fatalf("%d files, want one per oversized record", n)
	}
	l, recs := mustOpen(t, m, opts, 0)
	for i, r := range recs {
		if !bytes.Equal(r.data, big[i:]) {
			t.Fatalf("record %d differs", i)
		}
	}
	mustClose(t, l)
}

func TestClose(t *testing.T) {
	m := vfs.NewMem()
	l, _ := mustOpen(t, m, Options{}, 0)
	appendN(t, l, 5, 0)
	if l.SyncedSeq() != 0 {
		t.Fatalf("SyncedSeq %d before any Sync", l.SyncedSeq())
	}
	mustClose(t, l)
	if l.SyncedSeq() != 5 {
		t.Fatalf("Close did not sync: SyncedSeq %d", l.SyncedSeq())
	}
	if err := l.Sync(5); err != nil {
		t.Fatalf("Sync of a record Close made durable: %v", err)
	}
	if _, err := l.Append(0, nil); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if err := l.TruncateBefore(3); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("TruncateBefore after Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	// Close made the records durable.
	l, recs := mustOpen(t, m.CrashClone(), Options{}, 0)
	checkRecs(t, recs, 1, 5)
	mustClose(t, l)
}

// TestSyncDurable checks W2 against the crash model: whenever Sync(seq)
// returns nil, a crash at that moment keeps every record up to seq.
func TestSyncDurable(t *testing.T) {
	m := vfs.NewMem()
	l, _ := mustOpen(t, m, Options{SegmentSize: 2048}, 0)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				seq, err := l.Append(uint8(w), []byte("x"))
				if err == nil {
					err = l.Sync(seq)
				}
				if err != nil {
					t.Error(err)
					return
				}
				var n uint64
				lc, err := Open(m.CrashClone(), dir, Options{SegmentSize: 2048}, 0, func(uint64, uint8, []byte) error { n++; return nil })
				if err != nil {
					t.Error(err)
					return
				}
				lc.Close()
				if n < seq {
					t.Errorf("Sync(%d) returned nil, but a crash keeps only %d records", seq, n)
				}
			}
		}()
	}
	wg.Wait()
	mustClose(t, l)
}

// countingFS counts fsyncs of log files and makes each take a while, as on
// a disk, so that concurrent writers have the chance to share them.
func countingFS(inner vfs.FS, syncs *atomic.Int64, delay time.Duration) vfs.FS {
	return vfs.NewErrorFS(inner, vfs.InjectorFunc(func(op vfs.Op, name string) error {
		if op == vfs.OpSync && strings.HasSuffix(name, ".log") {
			syncs.Add(1)
			time.Sleep(delay)
		}
		return nil
	}))
}

func TestGroupCommit(t *testing.T) {
	const writers, perWriter = 8, 200
	var fsyncs atomic.Int64
	m := vfs.NewMem()
	fsys := countingFS(m, &fsyncs, 200*time.Microsecond)
	l, _ := mustOpen(t, fsys, Options{}, 0)
	base0 := fsyncs.Load()

	var (
		mu    sync.Mutex // the collection's write lock
		acked atomic.Int64
		wg    sync.WaitGroup
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				mu.Lock()
				seq, err := l.Append(uint8(w), fmt.Appendf(nil, "w%d-%d", w, i))
				mu.Unlock()
				if err == nil {
					err = l.Sync(seq)
				}
				if err != nil {
					t.Error(err)
					return
				}
				if l.SyncedSeq() < seq {
					t.Errorf("Sync(%d) returned with SyncedSeq %d", seq, l.SyncedSeq())
				}
				acked.Add(1)
			}
		}()
	}
	wg.Wait()
	st := l.Stats()
	groupSyncs := fsyncs.Load() - base0
	t.Logf("%d appends acknowledged with %d fsyncs (%.1f records per fsync)", acked.Load(), groupSyncs, float64(acked.Load())/float64(groupSyncs))
	if acked.Load() != writers*perWriter || st.Appends != writers*perWriter {
		t.Fatalf("acked %d, appended %d", acked.Load(), st.Appends)
	}
	if groupSyncs >= int64(st.Appends) || st.Syncs >= st.Appends {
		t.Fatalf("no group commit: %d fsyncs (stats %d) for %d appends", groupSyncs, st.Syncs, st.Appends)
	}
	mustClose(t, l)

	l, recs := mustOpen(t, m, Options{}, 0)
	if len(recs) != writers*perWriter {
		t.Fatalf("replayed %d records", len(recs))
	}
	mustClose(t, l)
}

// switchFS fails every op of the chosen kind on log files while on.
type switchFS struct {
	on atomic.Bool
	op vfs.Op
}

func (s *switchFS) MaybeError(op vfs.Op, name string) error {
	if s.on.Load() && op == s.op && strings.Contains(name, dir) {
		return vfs.ErrInjected
	}
	return nil
}

func poisoned(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, base.ErrReadOnly) || !errors.Is(err, vfs.ErrInjected) {
		t.Fatalf("err = %v, want one matching ErrReadOnly and ErrInjected", err)
	}
}

func TestSyncFailurePoisons(t *testing.T) {
	m := vfs.NewMem()
	sw := &switchFS{op: vfs.OpSync}
	l, _ := mustOpen(t, vfs.NewErrorFS(m, sw), Options{}, 0)
	appendN(t, l, 10, 1) // acknowledged
	appendN(t, l, 15, 0) // not yet
	sw.on.Store(true)

	// Many writers wait for the failing fsync: every one gets the error.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = l.Sync(uint64(11 + i)) }()
	}
	wg.Wait()
	for _, err := range errs {
		poisoned(t, err)
	}
	if !strings.Contains(errs[0].Error(), "fsync") || !strings.Contains(errs[0].Error(), ".log") {
		t.Fatalf("error lacks context: %v", errs[0])
	}
	if l.SyncedSeq() != 10 {
		t.Fatalf("SyncedSeq %d after a failed fsync, want 10", l.SyncedSeq())
	}

	sw.on.Store(false) // the disk "recovers": the log must not (W4)
	_, err := l.Append(0, []byte("after"))
	poisoned(t, err)
	poisoned(t, l.Sync(15))
	poisoned(t, l.Sync(3))
	poisoned(t, l.TruncateBefore(5))
	poisoned(t, l.Close())

	// Only records whose Sync succeeded are guaranteed after a crash.
	l, recs := mustOpen(t, m.CrashClone(), Options{}, 0)
	if len(recs) < 10 {
		t.Fatalf("crash lost acknowledged records: %d left", len(recs))
	}
	checkRecs(t, recs, 1, uint64(len(recs)))
	mustClose(t, l)
}

func TestWriteFailurePoisons(t *testing.T) {
	m := vfs.NewMem()
	sw := &switchFS{op: vfs.OpWrite}
	l, _ := mustOpen(t, vfs.NewErrorFS(m, sw), Options{}, 0)
	appendN(t, l, 3, 1)
	sw.on.Store(true)
	_, err := l.Append(0, []byte("lost"))
	poisoned(t, err)
	sw.on.Store(false)
	_, err = l.Append(0, []byte("lost too"))
	poisoned(t, err)
	poisoned(t, l.Sync(3))
	if l.LastSeq() != 3 {
		t.Fatalf("LastSeq %d", l.LastSeq())
	}
	l.Close()
	l, recs := mustOpen(t, m, Options{}, 0)
	checkRecs(t, recs, 1, 3)
	mustClose(t, l)
}

// TestRotationFailurePoisons fails each step of a rotation in turn.
func TestRotationFailurePoisons(t *testing.T) {
	for _, op := range []vfs.Op{vfs.OpSync, vfs.OpCreate, vfs.OpWrite, vfs.OpSyncDir} {
		t.Run(op.String(), func(t *testing.T) {
			m := vfs.NewMem()
			sw := &switchFS{op: op}
			opts := Options{SegmentSize: 300}
			l, _ := mustOpen(t, vfs.NewErrorFS(m, sw), opts, 0)
			// Fill the first file without rotating.
			var acked uint64
			for l.Stats().Files == 1 {
				seq, err := l.Append(typeOf(l.LastSeq()+1), payload(l.LastSeq()+1))
				if err != nil {
					t.Fatal(err)
				}
				if err := l.Sync(seq); err != nil {
					t.Fatal(err)
				}
				acked = seq
				if l.size+int64(recHeaderSize+len(payload(seq+1))) > opts.SegmentSize {
					break
				}
			}
			sw.on.Store(true)
			_, err := l.Append(typeOf(acked+1), payload(acked+1)) // rotates
			poisoned(t, err)
			sw.on.Store(false)
			_, err = l.Append(0, nil)
			poisoned(t, err)
			l.Close()

			for _, fsys := range []*vfs.MemFS{m, m.CrashClone()} {
				l, recs := mustOpen(t, fsys, opts, 0)
				if uint64(len(recs)) < acked {
					t.Fatalf("lost acknowledged records: %d < %d", len(recs), acked)
				}
				checkRecs(t, recs, 1, uint64(len(recs)))
				appendN(t, l, uint64(len(recs))+5, 1)
				mustClose(t, l)
			}
		})
	}
}

func TestTruncateBefore(t *testing.T) {
	m := vfs.NewMem()
	opts := Options{SegmentSize: 512}
	l, _ := mustOpen(t, m, opts, 0)
	appendN(t, l, 100, 10)
	before := logFiles(t, m)

	if err := l.TruncateBefore(50); err != nil {
		t.Fatal(err)
	}
	after := logFiles(t, m)
	starts := make([]uint64, len(after))
	for i, name := range after {
		starts[i], _ = parseFileName(name)
	}
	// The first remaining file holds 50 or 51; all removed ones ended <= 50.
	if starts[0] > 51 || (len(starts) > 1 && starts[1] <= 51) {
		t.Fatalf("files after TruncateBefore(50): %v", after)
	}
	if len(after) >= len(before) || l.Stats().Files != len(after) {
		t.Fatalf("%d files before, %d after, stats %d", len(before), len(after), l.Stats().Files)
	}
	// The removals are durable.
	if got := logFiles(t, m.CrashClone()); !slices.Equal(got, after) {
		t.Fatalf("after a crash: %v, want %v", got, after)
	}
	// Truncating again with a smaller seq does nothing.
	if err := l.TruncateBefore(10); err != nil || !slices.Equal(logFiles(t, m), after) {
		t.Fatalf("TruncateBefore(10): %v, files %v", err, logFiles(t, m))
	}
	mustClose(t, l)

	l, recs := mustOpen(t, m, opts, 50)
	checkRecs(t, recs, 51, 100)
	if _, _, err := open(t, m, opts, 0); !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("open with after=0 of a truncated log: %v", err)
	}

	// Truncating everything rotates the active file away.
	if err := l.TruncateBefore(l.LastSeq()); err != nil {
		t.Fatal(err)
	}
	if files := logFiles(t, m); !slices.Equal(files, []string{fileName(101)}) {
		t.Fatalf("files %v", files)
	}
	// With an empty active file, nothing more to do.
	if err := l.TruncateBefore(1000); err != nil || len(logFiles(t, m)) != 1 {
		t.Fatalf("TruncateBefore(1000): %v %v", err, logFiles(t, m))
	}
	appendN(t, l, 110, 0)
	mustClose(t, l)
	l, recs = mustOpen(t, m.CrashClone(), opts, 100)
	checkRecs(t, recs, 101, 110)
	mustClose(t, l)
}

func TestTruncateBeforeDuringSyncs(t *testing.T) {
	var fsyncs atomic.Int64
	m := vfs.NewMem()
	l, _ := mustOpen(t, countingFS(m, &fsyncs, 50*time.Microsecond), Options{SegmentSize: 400}, 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				seq, err := l.Append(1, []byte("0123456789"))
				if err == nil {
					err = l.Sync(seq)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var truncated atomic.Uint64 // the highest seq passed to TruncateBefore
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			seq := l.SyncedSeq()
			if err := l.TruncateBefore(seq); err != nil {
				t.Error(err)
				return
			}
			truncated.Store(seq)
		}
	}()
	wg.Wait()
	last := l.LastSeq()
	mustClose(t, l)
	// Every record after the last truncation point must still be there.
	after := truncated.Load()
	l, recs := mustOpen(t, m.CrashClone(), Options{}, after)
	if uint64(len(recs)) != last-after || (len(recs) > 0 && (recs[0].seq != after+1 || recs[len(recs)-1].seq != last)) {
		t.Fatalf("replayed %d records after %d, want %d..%d", len(recs), after, after+1, last)
	}
	mustClose(t, l)
}

// TestCrashRandom runs random appends and syncs against randomly failing
// file operations, crashes at a random point, and checks that every
// acknowledged record survives with its payload and that the log reopens.
func TestCrashRandom(t *testing.T) {
	for iter := range 200 {
		rng := rand.New(rand.NewPCG(uint64(iter), 42))
		m := vfs.NewMem()
		var armed atomic.Bool
		failRate := rng.Float64() * 0.05
		var rmu sync.Mutex
		inj := vfs.InjectorFunc(func(op vfs.Op, name string) error {
			if !armed.Load() {
				return nil
			}
			rmu.Lock()
			defer rmu.Unlock()
			switch op {
			case vfs.OpWrite, vfs.OpSync, vfs.OpSyncDir, vfs.OpCreate, vfs.OpRemove:
				if rng.Float64() < failRate {
					return vfs.ErrInjected
				}
			}
			return nil
		})
		opts := Options{SegmentSize: int64(200 + rng.IntN(800))}
		l, _, err := open(t, vfs.NewErrorFS(m, inj), opts, 0)
		if err != nil {
			t.Fatal(err)
		}
		armed.Store(true)
		var acked, truncated uint64
		steps := rng.IntN(300)
		for range steps {
			var err error
			switch r := rng.IntN(20); {
			case r < 12:
				want := l.LastSeq() + 1
				_, err = l.Append(typeOf(want), payload(want))
			case r < 19:
				seq := l.LastSeq()
				if err = l.Sync(seq); err == nil {
					acked = seq
				}
			default:
				seq := acked - acked/4
				if err = l.TruncateBefore(seq); err == nil {
					truncated = max(truncated, seq)
				} else if !errors.Is(err, base.ErrReadOnly) {
					err = nil // a failed Remove does not poison
				}
			}
			if err != nil {
				if !errors.Is(err, base.ErrReadOnly) {
					t.Fatalf("iter %d: error not matching ErrReadOnly: %v", iter, err)
				}
				break
			}
		}
		crashed := m.CrashClone()
		armed.Store(false)
		l.Close()

		l2, recs, err := open(t, crashed, opts, truncated)
		if err != nil {
			t.Fatalf("iter %d: reopen after crash: %v\n%s", iter, err, crashed)
		}
		last := truncated + uint64(len(recs))
		if last < acked {
			t.Fatalf("iter %d: records up to %d survived, %d were acknowledged", iter, last, acked)
		}
		checkRecs(t, recs, truncated+1, last)
		appendN(t, l2, last+3, 1)
		mustClose(t, l2)
	}
}

func TestOSFileSystem(t *testing.T) {
	root := t.TempDir()
	d := path.Join(root, "wal")
	opts := Options{SegmentSize: 4096}
	var recs []rec
	collect := func(seq uint64, typ uint8, data []byte) error {
		recs = append(recs, rec{seq, typ, data})
		return nil
	}
	l, err := Open(vfs.Default, d, opts, 0, collect)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 300, 25)
	if err := l.Sync(300); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)

	// Tear the last record of the last file.
	names, _ := vfs.Default.List(d)
	last := path.Join(d, names[len(names)-1])
	f, err := vfs.Default.OpenAppend(last)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	if err := f.Truncate(fi.Size() - 3); err != nil {
		t.Fatal(err)
	}
	f.Close()

	l, err = Open(vfs.Default, d, opts, 0, collect)
	if err != nil {
		t.Fatal(err)
	}
	checkRecs(t, recs, 1, 299)
	appendN(t, l, 310, 5)
	mustClose(t, l)
	recs = nil
	l, err = Open(vfs.Default, d, opts, 0, collect)
	if err != nil {
		t.Fatal(err)
	}
	checkRecs(t, recs, 1, 310)
	if err := l.TruncateBefore(310); err != nil {
		t.Fatal(err)
	}
	mustClose(t, l)
	if names, _ := vfs.Default.List(d); len(names) != 1 || names[0] != fileName(311) {
		t.Fatalf("files after TruncateBefore: %v", names)
	}
}
