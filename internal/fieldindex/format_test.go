package fieldindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/vfs"
)

// encoded returns the encoding of a small random index of each case.
func encoded(t testing.TB, n int) map[string][]byte {
	out := map[string][]byte{}
	for _, tc := range cases {
		g := newGen(5, tc.schema.Type)
		cp := g.corpus(n)
		x, err := Build("a[].b", tc.schema, n, cp.payload)
		if err != nil {
			t.Fatal(err)
		}
		b, err := x.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		out[tc.name] = b
	}
	return out
}

// TestRoundTrip checks that decoding and re-encoding gives the same bytes,
// and that AppendBinary appends.
func TestRoundTrip(t *testing.T) {
	for name, b := range encoded(t, 3000) {
		x, err := Decode(b, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b2, err := x.AppendBinary([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b2[6:], b) || string(b2[:6]) != "prefix" {
			t.Fatalf("%s: re-encoding differs", name)
		}
	}
	// Empty indexes, and an index over no offsets.
	for _, tc := range cases {
		for _, n := range []int{0, 1, 100} {
			x, err := Build("f", tc.schema, n, func(uint32) []byte { return nil })
			if err != nil {
				t.Fatal(err)
			}
			b, _ := x.AppendBinary(nil)
			y, err := Decode(b, true)
			if err != nil {
				t.Fatalf("%s n=%d: %v", tc.name, n, err)
			}
			if y.Len() != n || y.Key() != "f" || y.Schema().Type != tc.schema.Type || !y.Indexed().IsEmpty() {
				t.Fatalf("%s n=%d: decoded Len %d key %q", tc.name, n, y.Len(), y.Key())
			}
		}
	}
}

// TestCorruption flips every byte of small encodings: with verify the
// checksum catches each; without it the structure checks catch many and
// nothing panics. Truncations are always caught.
func TestCorruption(t *testing.T) {
	for name, b := range encoded(t, 60) {
		caught := 0
		for i := range b {
			c := bytes.Clone(b)
			c[i] ^= 0x5a
			if _, err := Decode(c, true); !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("%s: flip at %d of %d: %v, want ErrCorruption", name, i, len(b), err)
			}
			x, err := Decode(c, false)
			if err != nil {
				if !errors.Is(err, base.ErrCorruption) {
					t.Fatalf("%s: flip at %d without verify: %v", name, i, err)
				}
				caught++
				continue
			}
			exercise(x)
		}
		for i := range b {
			if _, err := Decode(b[:i], false); !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("%s: truncated to %d: %v, want ErrCorruption", name, i, err)
			}
		}
		t.Logf("%s: %d bytes, %d flips caught without the checksum", name, len(b), caught)
	}
}

// exercise runs a few queries on a decoded index (which must not panic).
func exercise(x *Index) {
	g := newGen(1, x.typ)
	for _, tc := range cases {
		if tc.schema.Type != x.typ {
			continue
		}
		for range 5 {
			c := &filter.Condition{Key: x.key}
			tc.served(g, c)
			x.Estimate(c)
			x.Bitmap(c)
			if chk, ok := x.Checker(c); ok {
				for off := range uint32(x.Len() + 2) {
					chk(off)
				}
			}
		}
		break
	}
	x.Indexed()
	x.MemoryBytes()
}

// TestFiles writes and reads indexes through a vfs, including a damaged
// file.
func TestFiles(t *testing.T) {
	fs := vfs.NewMem()
	g := newGen(2, filter.TypeKeyword)
	cp := g.corpus(500)
	x, err := Build("f", filter.FieldSchema{Type: filter.TypeKeyword}, 500, cp.payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(fs, "x.pidx", x); err != nil {
		t.Fatal(err)
	}
	y, err := ReadFile(fs, "x.pidx", true)
	if err != nil {
		t.Fatal(err)
	}
	tc := cases[0]
	checkAll(t, tc, y, g, cp.docs, nil, 50)
	if _, err := ReadFile(fs, "missing", true); err == nil {
		t.Fatal("ReadFile of a missing file: no error")
	}
	b, _ := vfs.ReadFile(fs, "x.pidx")
	b[len(b)/2] ^= 1
	if err := vfs.WriteFileAtomic(fs, "bad.pidx", b); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(fs, "bad.pidx", true); !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("damaged file: %v, want ErrCorruption", err)
	}
	m, _ := New("f", filter.FieldSchema{Type: filter.TypeKeyword})
	if err := WriteFile(fs, "m.pidx", m); err == nil {
		t.Fatal("WriteFile of a mutable index: no error")
	}
}

// reseal recomputes the checksum of a damaged encoding, so that the
// structure checks alone must catch the damage.
func reseal(b []byte) []byte {
	if len(b) < 16 {
		return b
	}
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
	return b
}

// FuzzDecode feeds arbitrary bytes to Decode, with and without checksum
// verification, and with a recomputed checksum: it must never panic, only
// fail with ErrCorruption or return an index that answers queries.
func FuzzDecode(f *testing.F) {
	for _, b := range encoded(f, 40) {
		f.Add(b)
	}
	f.Add([]byte("STRATFIX\x01\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, reseal(b)} {
			for _, verify := range []bool{false, true} {
				x, err := Decode(in, verify)
				if err != nil {
					if !errors.Is(err, base.ErrCorruption) {
						t.Fatalf("Decode: %v, want ErrCorruption", err)
					}
					continue
				}
				exercise(x)
				if _, err := x.AppendBinary(nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// scanSource is a filter.Source over a corpus without indexes, so that
// Matcher.Match is the pure scan evaluator.
type scanSource struct{ cp *corpus }

func (s scanSource) Len() int                                { return len(s.cp.payloads) }
func (s scanSource) ID(off uint32) base.PointID              { return base.PointID{} }
func (s scanSource) Payload(off uint32) []byte               { return s.cp.payloads[off] }
func (s scanSource) HasVector(string, uint32) (bool, bool)   { return false, false }
func (s scanSource) FieldIndex(key string) filter.FieldIndex { return nil }

// TestAgainstScan checks the indexes against package filter's scan
// evaluator itself (the contract of I1), on every case.
func TestAgainstScan(t *testing.T) {
	for _, tc := range cases {
		for _, key := range []string{"f", "a[].b"} {
			g := newGen(11, tc.schema.Type)
			n := 300
			cp := g.corpus(n)
			x, err := Build(key, tc.schema, n, cp.payload)
			if err != nil {
				t.Fatal(err)
			}
			ctx := &filter.Context{Fields: map[string]filter.FieldSchema{key: tc.schema}}
			compared := 0
			for range 100 {
				c := filter.Condition{Key: key}
				tc.served(g, &c)
				m, err := filter.Compile(&filter.Filter{Must: []filter.Condition{c}}, ctx)
				if err != nil {
					continue // the scan rejects it (e.g. a bound out of range)
				}
				bm, ok := x.Bitmap(&c)
				if !ok {
					continue
				}
				compared++
				for off := range uint32(n) {
					if got, want := bm.Contains(off), m.Match(scanSource{cp}, off); got != want {
						t.Fatalf("%s on %s %q: index says %v at %d, scan %v (doc %s)", condString(&c), tc.name, key, got, off, want, docString(cp.docs, off))
					}
				}
			}
			if compared == 0 {
				t.Errorf("%s %q: nothing compared", tc.name, key)
			}
		}
	}
}
