package wal

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path"
	"strings"
	"testing"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vfs"
)

// buildLog returns a file system holding a closed log of records 1..n.
func buildLog(t *testing.T, opts Options, n uint64) *vfs.MemFS {
	t.Helper()
	m := vfs.NewMem()
	l, _ := mustOpen(t, m, opts, 0)
	appendN(t, l, n, 0)
	mustClose(t, l)
	return m
}

// withFile returns a copy of m in which the log file name holds data.
func withFile(t *testing.T, m *vfs.MemFS, name string, data []byte) *vfs.MemFS {
	t.Helper()
	c := m.CrashClone()
	f, err := c.Create(path.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data)
	f.Sync()
	f.Close()
	return c
}

func readLogFile(t *testing.T, fsys vfs.FS, name string) []byte {
	t.Helper()
	b, err := vfs.ReadFile(fsys, path.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recordOffsets returns the offset of every record in a valid file, and the
// file's size last.
func recordOffsets(t *testing.T, data []byte) []int {
	t.Helper()
	var offs []int
	off := fileHeaderSize
	for off < len(data) {
		_, n, bad := decodeRecord(data[off:])
		if bad != recOK {
			t.Fatalf("offset %d: %v", off, bad)
		}
		offs = append(offs, off)
		off += n
	}
	return append(offs, off)
}

func wantCorruption(t *testing.T, err error, mentions ...string) {
	t.Helper()
	if !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("err = %v, want ErrCorruption", err)
	}
	for _, s := range mentions {
		if !strings.Contains(err.Error(), s) {
			t.Fatalf("error %q does not mention %q", err, s)
		}
	}
}

// TestTornTailEveryOffset cuts the last file at every byte offset from its
// header on and checks that Open keeps exactly the whole records before the
// cut, truncates the rest durably, and continues from there.
func TestTornTailEveryOffset(t *testing.T) {
	opts := Options{SegmentSize: 600}
	m := buildLog(t, opts, 30)
	files := logFiles(t, m)
	last := files[len(files)-1]
	first, _ := parseFileName(last)
	data := readLogFile(t, m, last)
	offs := recordOffsets(t, data)
	if len(offs) < 3 {
		t.Fatalf("last file has only %d records", len(offs)-1)
	}
	for cut := fileHeaderSize; cut < len(data); cut++ {
		c := withFile(t, m, last, data[:cut])
		kept := 0 // whole records before the cut
		for kept+1 < len(offs) && offs[kept+1] <= cut {
			kept++
		}
		lastGood := first - 1 + uint64(kept)
		l, recs := mustOpen(t, c, opts, 0)
		checkRecs(t, recs, 1, lastGood)
		if got := len(readLogFile(t, c.CrashClone(), last)); got != offs[kept] {
			t.Fatalf("cut %d: file is %d bytes after Open, want %d", cut, got, offs[kept])
		}
		appendN(t, l, lastGood+2, 0)
		mustClose(t, l)
		l, recs = mustOpen(t, c.CrashClone(), opts, 0)
		checkRecs(t, recs, 1, lastGood+2)
		mustClose(t, l)
	}
}

// TestZeroTail: zeros after the last record (a file extended but not
// written) and a zeroed last record are both torn tails.
func TestZeroTail(t *testing.T) {
	m := buildLog(t, Options{}, 10)
	name := logFiles(t, m)[0]
	data := readLogFile(t, m, name)
	offs := recordOffsets(t, data)

	padded := append(append([]byte(nil), data...), make([]byte, 4096)...)
	l, recs := mustOpen(t, withFile(t, m, name, padded), Options{}, 0)
	checkRecs(t, recs, 1, 10)
	mustClose(t, l)

	zeroed := append([]byte(nil), data...)
	clear(zeroed[offs[9]:])
	l, recs = mustOpen(t, withFile(t, m, name, zeroed), Options{}, 0)
	checkRecs(t, recs, 1, 9)
	mustClose(t, l)
}

// TestFlippedByteInLastRecord: damage confined to the last record is a
// torn tail, wherever it is.
func TestFlippedByteInLastRecord(t *testing.T) {
	m := buildLog(t, Options{}, 10)
	name := logFiles(t, m)[0]
	data := readLogFile(t, m, name)
	offs := recordOffsets(t, data)
	for i := offs[9]; i < len(data); i++ {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x40
		l, recs, err := open(t, withFile(t, m, name, bad), Options{}, 0)
		if err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
		checkRecs(t, recs, 1, 9)
		mustClose(t, l)
	}
}

// TestFlippedByteMidLog: damage to any byte of a record that a valid record
// follows is corruption, in the last file or any other.
func TestFlippedByteMidLog(t *testing.T) {
	opts := Options{SegmentSize: 1500}
	m := buildLog(t, opts, 40)
	files := logFiles(t, m)
	if len(files) < 3 {
		t.Fatalf("want several files, got %v", files)
	}
	for _, name := range []string{files[0], files[len(files)-1]} {
		data := readLogFile(t, m, name)
		offs := recordOffsets(t, data)
		// Every byte of the records but the last one.
		for i := fileHeaderSize; i < offs[len(offs)-2]; i++ {
			bad := append([]byte(nil), data...)
			bad[i] ^= 0x01
			_, _, err := open(t, withFile(t, m, name, bad), opts, 0)
			wantCorruption(t, err, name, "offset")
		}
	}
	// In a file that is not the last, damage to its last record too.
	data := readLogFile(t, m, files[0])
	bad := append([]byte(nil), data...)
	bad[len(bad)-1] ^= 0x01
	_, _, err := open(t, withFile(t, m, files[0], bad), opts, 0)
	wantCorruption(t, err, files[0], "not the last")
	// And a cut.
	_, _, err = open(t, withFile(t, m, files[0], data[:len(data)-1]), opts, 0)
	wantCorruption(t, err, files[0])
}

func TestBadFileHeader(t *testing.T) {
	opts := Options{SegmentSize: 1500}
	m := buildLog(t, opts, 40)
	files := logFiles(t, m)
	for _, name := range []string{files[0], files[len(files)-1]} {
		data := readLogFile(t, m, name)
		for i := range fileHeaderSize {
			bad := append([]byte(nil), data...)
			bad[i] ^= 0x10
			_, _, err := open(t, withFile(t, m, name, bad), opts, 0)
			wantCorruption(t, err, name, "offset 0")
		}
	}
	// A valid header with another version.
	data := readLogFile(t, m, files[0])
	v2 := appendFileHeader(nil)
	binary.LittleEndian.PutUint32(v2[8:], 2)
	binary.LittleEndian.PutUint32(v2[12:], crc32.Checksum(v2[:12], castagnoli))
	_, _, err := open(t, withFile(t, m, files[0], append(v2, data[16:]...)), opts, 0)
	wantCorruption(t, err, "unsupported version 2")

	// A file that is not the last with no header at all.
	_, _, err = open(t, withFile(t, m, files[0], nil), opts, 0)
	wantCorruption(t, err, files[0], "missing file header")
}

// TestTornRotation: a crash while rotation created the last file leaves it
// empty, with part of a header, or zero-filled; Open rewrites it (W5).
func TestTornRotation(t *testing.T) {
	m := buildLog(t, Options{}, 10)
	next := fileName(11)
	hdr := appendFileHeader(nil)
	for _, data := range [][]byte{nil, hdr[:1], hdr[:15], make([]byte, 16), make([]byte, 100)} {
		c := withFile(t, m, next, data)
		c.SyncDir(dir)
		l, recs := mustOpen(t, c, Options{}, 0)
		checkRecs(t, recs, 1, 10)
		appendN(t, l, 12, 0)
		mustClose(t, l)
		l, recs = mustOpen(t, c.CrashClone(), Options{}, 0)
		checkRecs(t, recs, 1, 12)
		mustClose(t, l)
	}
}

func TestSeqGap(t *testing.T) {
	file := func(start uint64, seqs ...uint64) []byte {
		b := appendFileHeader(nil)
		for _, s := range seqs {
			b = appendRecord(b, s, typeOf(s), payload(s))
		}
		return b
	}
	write := func(files map[uint64][]byte) *vfs.MemFS {
		m := vfs.NewMem()
		m.MkdirAll(dir, 0o755)
		for start, data := range files {
			f, _ := m.Create(path.Join(dir, fileName(start)))
			f.Write(data)
			f.Close()
		}
		return m
	}
	for _, tc := range []struct {
		name    string
		files   map[uint64][]byte
		mention string
	}{
		{"within a file", map[uint64][]byte{1: file(1, 1, 2, 4, 5)}, "seq gap"},
		{"gap at the tail", map[uint64][]byte{1: file(1, 1, 2, 4)}, "seq gap"},
		{"repeated seq", map[uint64][]byte{1: file(1, 1, 2, 2)}, "seq gap"},
		{"name and first record disagree", map[uint64][]byte{1: file(1, 2, 3)}, "want 1"},
		{"between files", map[uint64][]byte{1: file(1, 1, 2), 4: file(4, 4, 5)}, "seq gap"},
		{"overlapping files", map[uint64][]byte{1: file(1, 1, 2, 3), 3: file(3, 3, 4)}, "seq gap"},
		{"seq 0", map[uint64][]byte{0: file(0, 0, 1)}, "seq 0"},
		{"log begins too late", map[uint64][]byte{3: file(3, 3, 4)}, "begins at seq 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := open(t, write(tc.files), Options{}, 0)
			wantCorruption(t, err, tc.mention)
		})
	}
	// The valid ones for contrast.
	m := write(map[uint64][]byte{1: file(1, 1, 2), 3: file(3, 3, 4), 5: file(5)})
	l, recs := mustOpen(t, m, Options{}, 0)
	checkRecs(t, recs, 1, 4)
	if seq, err := l.Append(typeOf(5), payload(5)); err != nil || seq != 5 {
		t.Fatalf("Append: %d %v", seq, err)
	}
	mustClose(t, l)
}

func TestIgnoresOtherFiles(t *testing.T) {
	m := buildLog(t, Options{}, 3)
	for _, name := range []string{"LOCK", "0000000000000001.log.tmp", "000000000000000A.log", "1.log", "notes"} {
		f, _ := m.Create(path.Join(dir, name))
		f.Write([]byte("garbage"))
		f.Close()
	}
	l, recs := mustOpen(t, m, Options{}, 0)
	checkRecs(t, recs, 1, 3)
	mustClose(t, l)
}
