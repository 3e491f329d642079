package segment

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vfs"
)

var schema = &Schema{
	Dense:  []VectorSpec{{Name: "", Dim: 4, Distance: base.Dot}, {Name: "x", Dim: 2, Distance: base.Euclid}},
	Sparse: []string{"s"},
}

func buildAppendable(t testing.TB, n int, seed uint64) *Segment {
	r := rand.New(rand.NewPCG(seed, 1))
	s := NewAppendable(1, schema)
	for i := 0; i < n; i++ {
		p := Point{ID: base.NumID(uint64(r.IntN(n * 2))), Dense: make([][]float32, 2), Sparse: make([]*Sparse, 1)}
		if i%7 == 3 {
			p.ID = base.UUIDID([16]byte{byte(i), byte(i >> 8), 9})
		}
		p.Dense[0] = []float32{r.Float32(), r.Float32(), r.Float32(), float32(i)}
		if i%3 != 0 {
			p.Dense[1] = []float32{float32(i), 1}
		}
		if i%4 == 0 {
			p.Sparse[0] = &Sparse{Indices: []uint32{uint32(i)}, Values: []float32{1.5}}
		}
		if i%5 != 0 {
			p.Payload = []byte(fmt.Sprintf(`{"i":%d}`, i))
		}
		s.Append(&p, uint64(i+1))
	}
	return s
}

func liveOffs(v *View) []uint32 {
	var offs []uint32
	for off := 0; off < v.N; off++ {
		if v.Live(uint32(off)) {
			offs = append(offs, uint32(off))
		}
	}
	return offs
}

// A sealed segment holds exactly the live points of its source, and
// answers lookups, id-ordered scans and reads the same way.
func TestSealRoundTrip(t *testing.T) {
	for _, fs := range []vfs.FS{vfs.NewMem(), vfs.Default} {
		dir := t.TempDir()
		if err := fs.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		app := buildAppendable(t, 500, 7)
		v := app.View()
		offs := liveOffs(&v)
		name := dir + "/seg"
		n, err := WriteSealed(fs, name, 5, schema, []Source{{View: &v, Offs: offs}})
		if err != nil || n != len(offs) {
			t.Fatalf("WriteSealed: %d, %v", n, err)
		}
		sealed, err := OpenSealed(fs, name, 5, schema, true)
		if err != nil {
			t.Fatal(err)
		}
		sv := sealed.View()
		if sealed.LiveCount() != len(offs) {
			t.Fatalf("live %d, want %d", sealed.LiveCount(), len(offs))
		}
		for i, off := range offs {
			id := v.IDs[off]
			got, ok := sealed.Lookup(id)
			if !ok || got != uint32(i) {
				t.Fatalf("lookup %v: %d %v, want %d", id, got, ok, i)
			}
			a, b := app.ReadPoint(off), sealed.ReadPoint(got)
			if a.ID != b.ID || string(a.Payload) != string(b.Payload) || sv.Seqs[got] != v.Seqs[off] {
				t.Fatalf("point %v differs", id)
			}
			for d := range a.Dense {
				if !slices.Equal(a.Dense[d], b.Dense[d]) || (a.Dense[d] == nil) != (b.Dense[d] == nil) {
					t.Fatalf("point %v vector %d differs: %v vs %v", id, d, a.Dense[d], b.Dense[d])
				}
			}
			if (a.Sparse[0] == nil) != (b.Sparse[0] == nil) || (a.Sparse[0] != nil && !slices.Equal(a.Sparse[0].Indices, b.Sparse[0].Indices)) {
				t.Fatalf("point %v sparse differs", id)
			}
		}
		var prev *base.PointID
		count := 0
		sealed.AscendFrom(&sv, nil, func(off uint32) bool {
			id := sv.IDs[off]
			if prev != nil && prev.Compare(id) >= 0 {
				t.Fatalf("ids out of order: %v then %v", *prev, id)
			}
			prev = &id
			count++
			return true
		})
		if count != len(offs) {
			t.Fatalf("ascend visited %d", count)
		}
		sealed.Delete(3)
		if _, ok := sealed.Lookup(sv.IDs[3]); ok {
			t.Fatal("deleted point still found")
		}
		words := sv.Deleted.Words()
		if err := WriteDeleted(fs, dir+"/del", 5, sv.N, words); err != nil {
			t.Fatal(err)
		}
		back, err := ReadDeleted(fs, dir+"/del", 5, sv.N)
		if err != nil || !slices.Equal(back, words) {
			t.Fatalf("deleted round trip: %v", err)
		}
		if _, err := ReadDeleted(fs, dir+"/del", 6, sv.N); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("wrong segment id accepted: %v", err)
		}
		sealed.Unref()
	}
}

func sealedBytes(t testing.TB) []byte {
	fs := vfs.NewMem()
	app := buildAppendable(t, 40, 3)
	v := app.View()
	if _, err := WriteSealed(fs, "seg", 1, schema, []Source{{View: &v, Offs: liveOffs(&v)}}); err != nil {
		t.Fatal(err)
	}
	b, err := vfs.ReadFile(fs, "seg")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Any flipped byte in a sealed file is caught on open: by a section or
// footer checksum, or by a structural check.
func TestSealedCorruptionDetected(t *testing.T) {
	b := sealedBytes(t)
	orig, err := decodeSealed(b, 1, schema, true)
	if err != nil {
		t.Fatal(err)
	}
	dump := func(s *Segment) string {
		v := s.View()
		out := fmt.Sprint(v.N, s.perm)
		for off := 0; off < v.N; off++ {
			p := s.ReadPoint(uint32(off))
			out += fmt.Sprintf("|%v %v %s %d", p.ID, p.Dense, p.Payload, v.Seqs[off])
			if p.Sparse[0] != nil {
				out += fmt.Sprint(*p.Sparse[0])
			}
		}
		return out
	}
	want := dump(orig)
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 300; i++ {
		c := append([]byte(nil), b...)
		pos := r.IntN(len(c))
		c[pos] ^= byte(1 + r.IntN(255))
		s, err := decodeSealed(c, 1, schema, true)
		if err == nil {
			// Only a flip in alignment padding may go unnoticed, and then
			// the contents must read back unchanged.
			if dump(s) != want {
				t.Fatalf("flip at %d changed the contents without an error", pos)
			}
			continue
		}
		if !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flip at %d: %v does not match ErrCorruption", pos, err)
		}
	}
	for _, n := range []int{0, 10, 63, len(b) - 1} {
		if _, err := decodeSealed(b[:n], 1, schema, true); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
}

func FuzzDecodeSealed(f *testing.F) {
	f.Add(sealedBytes(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSealed(b, 1, schema, true)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v does not match ErrCorruption", err)
			}
			return
		}
		// Whatever decodes must be readable without panics.
		v := s.View()
		for off := 0; off < v.N; off++ {
			s.ReadPoint(uint32(off))
			s.Lookup(v.IDs[off])
		}
	})
}

func FuzzDecodeDeleted(f *testing.F) {
	fs := vfs.NewMem()
	if err := WriteDeleted(fs, "d", 1, 100, []uint64{5, 7}); err != nil {
		f.Fatal(err)
	}
	b, _ := vfs.ReadFile(fs, "d")
	f.Add(b, 100)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1<<20 {
			return
		}
		if _, err := decodeDeleted(b, 1, n); err != nil && !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("error %v does not match ErrCorruption", err)
		}
	})
}
