package wal

import (
	"bytes"
	"errors"
	"math"
	"path"
	"testing"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vfs"
)

// FuzzOpen writes arbitrary bytes as the only log file (after a valid file
// header, or raw) and checks that Open never panics, fails only with
// ErrCorruption, replays well-formed consecutive records, and leaves a log
// that takes appends and reopens to the same records.
func FuzzOpen(f *testing.F) {
	var valid []byte
	for s := uint64(1); s <= 5; s++ {
		valid = appendRecord(valid, s, typeOf(s), payload(s))
	}
	f.Add(valid, true, uint8(0))
	f.Add(valid, true, uint8(3))
	f.Add(valid[:len(valid)-5], true, uint8(0))
	f.Add(append(valid, make([]byte, 40)...), true, uint8(0))
	f.Add(append(appendFileHeader(nil), valid...), false, uint8(9))
	f.Add([]byte{}, false, uint8(0))
	f.Add(make([]byte, 17), true, uint8(0))
	f.Add([]byte("STRAWAL\x00\x01\x00\x00\x00garbage!"), false, uint8(0))

	f.Fuzz(func(t *testing.T, data []byte, withHeader bool, after8 uint8) {
		after := uint64(after8)
		content := data
		if withHeader {
			content = append(appendFileHeader(nil), data...)
		}
		m := vfs.NewMem()
		if err := vfs.MkdirAllSync(m, dir, 0o755); err != nil {
			t.Fatal(err)
		}
		fl, _ := m.Create(path.Join(dir, fileName(1)))
		fl.Write(content)
		fl.Sync()
		fl.Close()
		m.SyncDir(dir)

		opts := Options{SegmentSize: 1 << 10}
		var recs []rec
		l, err := Open(m, dir, opts, after, func(seq uint64, typ uint8, data []byte) error {
			recs = append(recs, rec{seq, typ, bytes.Clone(data)})
			return nil
		})
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("Open failed without ErrCorruption: %v", err)
			}
			return
		}
		for i, r := range recs {
			if r.seq != after+1+uint64(i) {
				t.Fatalf("record %d has seq %d, want %d", i, r.seq, after+1+uint64(i))
			}
			// Each record must occur, framed, in the file.
			if !bytes.Contains(content, appendRecord(nil, r.seq, r.typ, r.data)) {
				t.Fatalf("replayed seq %d is not in the file", r.seq)
			}
		}
		last := l.LastSeq()
		if last < after || (len(recs) > 0 && last != recs[len(recs)-1].seq) {
			t.Fatalf("LastSeq %d after %d records (after=%d)", last, len(recs), after)
		}
		seq, err := l.Append(7, []byte("next"))
		if err != nil || seq != last+1 {
			t.Fatalf("Append: %d %v", seq, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}

		// Reopen after a crash: the repair and the append were durable.
		var again []rec
		l, err = Open(m.CrashClone(), dir, opts, after, func(seq uint64, typ uint8, data []byte) error {
			again = append(again, rec{seq, typ, data})
			return nil
		})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		defer l.Close()
		if len(again) != len(recs)+1 {
			t.Fatalf("reopen replayed %d records, want %d", len(again), len(recs)+1)
		}
		for i, r := range recs {
			if a := again[i]; a.seq != r.seq || a.typ != r.typ || !bytes.Equal(a.data, r.data) {
				t.Fatalf("record %d changed across reopen", i)
			}
		}
		if a := again[len(recs)]; a.seq != seq || a.typ != 7 || string(a.data) != "next" {
			t.Fatalf("appended record: %+v", a)
		}
	})
}

// FuzzRecordRoundTrip checks that decodeRecord inverts appendRecord, that
// no strict prefix of a record decodes, and that damage to any byte the CRC
// covers (or the CRC itself) is detected. The length field is left alone:
// changing it changes what the CRC covers, which CRC-32C detects only with
// probability 1-2^-32.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add(uint64(1), uint8(0), []byte(nil), uint16(0))
	f.Add(uint64(1<<63), uint8(255), []byte("payload"), uint16(3))
	f.Add(uint64(42), uint8(1), bytes.Repeat([]byte{0}, 300), uint16(200))
	f.Fuzz(func(t *testing.T, seq uint64, typ uint8, data []byte, flip uint16) {
		enc := appendRecord([]byte("prefix"), seq, typ, data)[len("prefix"):]
		if len(enc) != recHeaderSize+len(data) {
			t.Fatalf("encoded %d bytes", len(enc))
		}
		// Trailing bytes are not part of the record.
		r, n, bad := decodeRecord(append(bytes.Clone(enc), 0xAA, 0xBB))
		if bad != recOK || n != len(enc) || r.seq != seq || r.typ != typ || !bytes.Equal(r.data, data) {
			t.Fatalf("round trip: %v n=%d %+v", bad, n, r)
		}
		for cut := range len(enc) {
			if _, _, bad := decodeRecord(enc[:cut]); bad == recOK {
				t.Fatalf("prefix of %d bytes decoded", cut)
			}
		}
		i := int(flip) % len(enc)
		if i >= 4 && i < 8 {
			return
		}
		dam := bytes.Clone(enc)
		dam[i] ^= byte(flip>>8) | 1
		if _, _, bad := decodeRecord(dam); bad == recOK {
			t.Fatalf("flipping byte %d went undetected", i)
		}
		// findRecord finds the record when it follows garbage, and not a
		// record with a lower seq than asked for.
		buf := append(bytes.Repeat([]byte{0xFF}, 5), enc...)
		if off, s, ok := findRecord(buf, 0, seq); !ok || off > 5 || (off == 5 && s != seq) {
			t.Fatalf("findRecord: %d %d %v", off, s, ok)
		}
		if seq < math.MaxUint64 {
			if off, _, ok := findRecord(buf, 0, seq+1); ok && off == 5 {
				t.Fatal("findRecord returned a record below minSeq")
			}
		}
	})
}

func TestParseFileName(t *testing.T) {
	f := func(name string, want uint64, wantOK bool) {
		t.Helper()
		got, ok := parseFileName(name)
		if got != want || ok != wantOK {
			t.Fatalf("parseFileName(%q) = %d, %v; want %d, %v", name, got, ok, want, wantOK)
		}
	}
	f("0000000000000001.log", 1, true)
	f(fileName(0xdeadbeef12345678), 0xdeadbeef12345678, true)
	f("ffffffffffffffff.log", 1<<64-1, true)
	f("FFFFFFFFFFFFFFFF.log", 0, false)
	f("000000000000001.log", 0, false)
	f("0000000000000001.log.tmp", 0, false)
	f("000000000000000g.log", 0, false)
	f("+000000000000001.log", 0, false)
}
