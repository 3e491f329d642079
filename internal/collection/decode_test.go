package collection

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/segment"
)

var testSchema = &segment.Schema{
	Dense:  []segment.VectorSpec{{Name: "a", Dim: 3, Distance: base.Dot}, {Name: "b", Dim: 2, Distance: base.Euclid}},
	Sparse: []string{"s"},
}

func sampleOps() []*Op {
	u := base.UUIDID([16]byte{1, 2, 3})
	return []*Op{
		{Kind: OpUpsert, Points: []segment.Point{
			{ID: base.NumID(1), Dense: [][]float32{{1, 2, 3}, nil}, Sparse: []*segment.Sparse{nil}, Payload: []byte(`{"a":1}`)},
			{ID: u, Dense: [][]float32{nil, {4, 5}}, Sparse: []*segment.Sparse{{Indices: []uint32{7, 9}, Values: []float32{0.5, -1}}}},
		}},
		{Kind: OpUpdateVectors, Points: []segment.Point{{ID: base.NumID(2), Dense: [][]float32{nil, {1, 1}}, Sparse: []*segment.Sparse{nil}}}},
		{Kind: OpDelete, IDs: []base.PointID{base.NumID(3), u}},
		{Kind: OpSetPayload, IDs: []base.PointID{base.NumID(3)}, Key: "x.y", Payload: []byte(`{"b":true}`)},
		{Kind: OpOverwritePayload, IDs: []base.PointID{base.NumID(3)}, Payload: []byte(`{"c":"d"}`)},
		{Kind: OpDeletePayloadKeys, IDs: []base.PointID{base.NumID(3)}, Keys: []string{"a", "b.c"}},
		{Kind: OpClearPayload, IDs: []base.PointID{base.NumID(4)}},
		{Kind: OpDeleteVectors, IDs: []base.PointID{base.NumID(4)}, Vectors: []VectorRef{{Index: 1}, {Sparse: true, Index: 0}}},
	}
}

func TestOpRoundTrip(t *testing.T) {
	for _, op := range sampleOps() {
		b := AppendOp(nil, op)
		got, err := DecodeOp(op.Kind, b, testSchema)
		if err != nil {
			t.Fatalf("kind %d: %v", op.Kind, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(op)) {
			t.Fatalf("kind %d: round trip\n got %+v\nwant %+v", op.Kind, got, op)
		}
		// Every strict prefix is malformed.
		for i := 0; i < len(b); i++ {
			if _, err := DecodeOp(op.Kind, b[:i], testSchema); !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("kind %d prefix %d: got %v, want ErrCorruption", op.Kind, i, err)
			}
		}
	}
}

// normalize fills the per-schema slices the decoder always allocates.
func normalize(op *Op) *Op {
	c := *op
	c.Points = nil
	for _, p := range op.Points {
		if p.Dense == nil {
			p.Dense = make([][]float32, len(testSchema.Dense))
		}
		if p.Sparse == nil {
			p.Sparse = make([]*segment.Sparse, len(testSchema.Sparse))
		}
		c.Points = append(c.Points, p)
	}
	if len(c.IDs) == 0 {
		c.IDs = nil
	}
	return &c
}

func FuzzDecodeOp(f *testing.F) {
	for _, op := range sampleOps() {
		f.Add(uint8(op.Kind), AppendOp(nil, op))
	}
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		op, err := DecodeOp(OpKind(kind), b, testSchema)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v does not match ErrCorruption", err)
			}
			return
		}
		// A decoded op re-encodes to the same bytes.
		if got := AppendOp(nil, op); string(got) != string(b) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func TestManifestRoundTrip(t *testing.T) {
	m := &Manifest{Checkpoint: 42, NextSegmentID: 9, Segments: []ManifestSegment{{ID: 3, Points: 10, Deleted: "00000003.42.del"}, {ID: 8, Points: 1}}}
	b := encodeManifest(m)
	got, err := decodeManifest(b)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		c := append([]byte(nil), b...)
		c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
		if _, err := decodeManifest(c); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flipped byte not detected: %v", err)
		}
	}
	bad := &Manifest{NextSegmentID: 2, Segments: []ManifestSegment{{ID: 5}}}
	if _, err := decodeManifest(encodeManifest(bad)); !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("segment id beyond next id accepted: %v", err)
	}
}

func FuzzDecodeManifest(f *testing.F) {
	f.Add(encodeManifest(&Manifest{Checkpoint: 1, NextSegmentID: 3, Segments: []ManifestSegment{{ID: 1, Points: 2}}}))
	f.Add([]byte("STRATMAN"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v does not match ErrCorruption", err)
			}
			return
		}
		for _, s := range m.Segments {
			if s.ID >= m.NextSegmentID {
				t.Fatal("accepted a segment id beyond NextSegmentID")
			}
		}
	})
}
