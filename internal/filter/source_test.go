package filter

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
)

// fakeSource is an in-memory segment: ids, JSON payloads, vector presence
// and (optionally) field indexes.
type fakeSource struct {
	ids      []base.PointID
	payloads [][]byte
	vectors  map[string][]bool // name -> presence per offset
	indexes  map[string]FieldIndex
	byID     map[base.PointID]uint32 // for OffsetSource
}

func (s *fakeSource) Len() int                   { return len(s.ids) }
func (s *fakeSource) ID(off uint32) base.PointID { return s.ids[off] }
func (s *fakeSource) Payload(off uint32) []byte  { return s.payloads[off] }
func (s *fakeSource) HasVector(name string, off uint32) (bool, bool) {
	v, ok := s.vectors[name]
	if !ok {
		return false, false
	}
	return v[off], true
}
func (s *fakeSource) FieldIndex(key string) FieldIndex {
	if fi, ok := s.indexes[key]; ok {
		return fi
	}
	return nil
}

// offsetSource adds Offset to a fakeSource.
type offsetSource struct{ *fakeSource }

func (s offsetSource) Offset(id base.PointID) (uint32, bool) {
	off, ok := s.byID[id]
	return off, ok
}

// newSource builds a source of the given JSON payloads with ids 0..n-1.
func newSource(t testing.TB, payloads ...string) *fakeSource {
	t.Helper()
	s := &fakeSource{vectors: map[string][]bool{}, byID: map[base.PointID]uint32{}}
	for i, p := range payloads {
		if p != "" && !json.Valid([]byte(p)) {
			t.Fatalf("payload %d is not JSON: %s", i, p)
		}
		id := base.NumID(uint64(i))
		s.ids = append(s.ids, id)
		s.byID[id] = uint32(i)
		s.payloads = append(s.payloads, []byte(p))
	}
	return s
}

// bruteIndex is a FieldIndex that answers by evaluating the condition on
// every payload with the scan evaluator: the reference the planner must
// agree with. Its estimates are valid but deliberately loose bounds.
type bruteIndex struct {
	t       testing.TB
	src     Source
	ctx     *Context
	rng     *rand.Rand
	decline map[string]bool // "estimate", "bitmap", "checker": refuse
	extra   bool            // add offsets >= Len() to bitmaps (appended points)
}

func (b *bruteIndex) eval(c *Condition) *roaring.Bitmap {
	m, err := Compile(&Filter{Must: []Condition{*c}}, b.ctx)
	if err != nil {
		b.t.Fatalf("index got an invalid condition %+v: %v", c, err)
	}
	bm := roaring.New()
	for off := 0; off < b.src.Len(); off++ {
		if m.Match(b.src, uint32(off)) {
			bm.Add(uint32(off))
		}
	}
	return bm
}

func (b *bruteIndex) Estimate(c *Condition) (Cardinality, bool) {
	if b.decline["estimate"] {
		return Cardinality{}, false
	}
	k := int(b.eval(c).GetCardinality())
	lo := k - b.rng.IntN(k+1)
	hi := k + b.rng.IntN(b.src.Len()-k+1)
	return Cardinality{lo, lo + (hi-lo)/2, hi}, true
}

func (b *bruteIndex) Bitmap(c *Condition) (*roaring.Bitmap, bool) {
	if b.decline["bitmap"] {
		return nil, false
	}
	bm := b.eval(c)
	if b.extra {
		bm.Add(uint32(b.src.Len()) + 3)
	}
	return bm, true
}

func (b *bruteIndex) Checker(c *Condition) (func(uint32) bool, bool) {
	if b.decline["checker"] {
		return nil, false
	}
	bm := b.eval(c)
	return bm.Contains, true
}
