package hnsw

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/index/flat"
)

// formatCase is a small graph with upper layers, an unindexed offset range
// and its encoding.
type formatCase struct {
	m       flat.Metric
	dim     int
	data    []float32
	queries []float32
	g       *Graph
	enc     []byte
}

func newFormatCase(t testing.TB, m flat.Metric) *formatCase {
	const n, dim = 300, 8
	c := &formatCase{m: m, dim: dim, data: gaussian(3, n, dim, m), queries: gaussian(4, 16, dim, m)}
	var offs []uint32
	for i := 0; i < n; i++ {
		if i%7 != 3 { // leave some offsets out of the graph
			offs = append(offs, uint32(i))
		}
	}
	c.g = mustBuild(t, Params{M: 4, EfConstruction: 20, Seed: 11}, m, dim, c.data, offs, 1)
	c.enc = c.g.AppendBinary(nil)
	return c
}

// dump renders every query's results (all metric-visible behaviour).
func (c *formatCase) dump(g *Graph) string {
	var b bytes.Buffer
	s := g.NewSearcher()
	for i := 0; i < len(c.queries)/c.dim; i++ {
		fmt.Fprintln(&b, g.Search(s, c.queries[i*c.dim:(i+1)*c.dim], 10, 20, 1, nil, nil))
	}
	fmt.Fprintf(&b, "%+v", g.Stats())
	return b.String()
}

func TestRoundTrip(t *testing.T) {
	for _, mt := range metrics {
		t.Run(mt.name, func(t *testing.T) {
			c := newFormatCase(t, mt.m)
			if st := c.g.Stats(); st.Levels < 2 {
				t.Fatalf("test graph has no upper layer: %+v", st)
			}
			for _, verify := range []bool{true, false} {
				g, err := Decode(c.enc, mt.m, c.dim, c.data, verify)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := c.dump(g), c.dump(c.g); got != want {
					t.Fatalf("decoded graph searches differently:\n got %s\nwant %s", got, want)
				}
				if re := g.AppendBinary(nil); !bytes.Equal(re, c.enc) {
					t.Fatal("re-encoding a decoded graph changed the bytes")
				}
			}
			// Appending after a prefix keeps the encoding itself unchanged
			// (sections are aligned relative to its start), and an unaligned
			// copy decodes too (through the copying path).
			pre := c.g.AppendBinary([]byte("xyz"))
			if !bytes.Equal(pre[3:], c.enc) {
				t.Fatal("encoding depends on the prefix")
			}
			g, err := Decode(pre[3:], mt.m, c.dim, c.data, true)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.dump(g), c.dump(c.g); got != want {
				t.Fatal("unaligned decode searches differently")
			}
		})
	}
}

func TestDecodeMismatch(t *testing.T) {
	c := newFormatCase(t, flat.MetricL2)
	f := func(name string, m flat.Metric, dim int, data []float32) {
		t.Helper()
		if _, err := Decode(c.enc, m, dim, data, true); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("%s: %v does not match ErrCorruption", name, err)
		}
	}
	f("metric", flat.MetricDot, c.dim, c.data)
	f("dim", flat.MetricL2, c.dim+1, c.data)
	f("zero dim", flat.MetricL2, 0, c.data)
	f("short data", flat.MetricL2, c.dim, c.data[:len(c.data)-c.dim])
}

// Every flipped byte is caught by the checksum or a structural check, and
// every truncation or extension by the length check.
func TestCorruptionDetected(t *testing.T) {
	c := newFormatCase(t, flat.MetricL2)
	want := c.dump(c.g)
	r := rand.New(rand.NewPCG(5, 5))
	positions := make([]int, 0, 600)
	for i := 0; i < graphHeaderSize+64; i++ {
		positions = append(positions, i) // every header byte and the first section's
	}
	for i := 0; i < 400; i++ {
		positions = append(positions, r.IntN(len(c.enc)))
	}
	for _, pos := range positions {
		b := bytes.Clone(c.enc)
		b[pos] ^= byte(1 + r.IntN(255))
		if _, err := Decode(b, c.m, c.dim, c.data, true); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flip at %d: %v does not match ErrCorruption", pos, err)
		}
		// Without the checksum, a flip is caught structurally or changes
		// what a search returns, but never crashes it.
		if g, err := Decode(b, c.m, c.dim, c.data, false); err == nil {
			c.dump(g)
		} else if !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flip at %d (no verify): %v does not match ErrCorruption", pos, err)
		}
	}
	for _, n := range []int{0, 1, 8, graphHeaderSize - 1, graphHeaderSize, len(c.enc) - 8, len(c.enc) - 1} {
		if _, err := Decode(c.enc[:n], c.m, c.dim, c.data, true); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	long := append(bytes.Clone(c.enc), make([]byte, 8)...)
	if _, err := Decode(long, c.m, c.dim, c.data, false); !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("extended by 8 bytes: %v", err)
	}
	if got := c.dump(c.g); got != want {
		t.Fatal("the original graph changed")
	}
}

// A flip in alignment padding or in the unused tail of a row leaves the
// structure valid: without the checksum such a graph decodes and searches
// exactly like the original.
func TestPaddingFlipHarmless(t *testing.T) {
	c := newFormatCase(t, flat.MetricL2)
	want := c.dump(c.g)
	g := c.g
	// The unused tail of layer-0 rows.
	_, o0, _, _, _ := sections(uint64(g.n), uint64(g.m), uint64(len(g.upper)/(g.m+1)))
	flipped := 0
	for off := 0; off < g.n && flipped < 50; off++ {
		row := g.row(uint32(off), 0)
		if g.levels[off] == notIndexed || int(row[0]) >= 2*g.m {
			continue
		}
		pos := int(o0) + 4*(off*g.stride0()+1+int(row[0]))
		b := bytes.Clone(c.enc)
		b[pos] ^= 0x5a
		if _, err := Decode(b, c.m, c.dim, c.data, true); !errors.Is(err, base.ErrCorruption) {
			t.Fatalf("flip at %d escaped the checksum: %v", pos, err)
		}
		d, err := Decode(b, c.m, c.dim, c.data, false)
		if err != nil {
			t.Fatalf("flip in a row tail at %d: %v", pos, err)
		}
		if c.dump(d) != want {
			t.Fatalf("flip in a row tail at %d changed the results", pos)
		}
		flipped++
	}
	if flipped == 0 {
		t.Fatal("no row with a free tail")
	}
}

func FuzzDecode(f *testing.F) {
	c := newFormatCase(f, flat.MetricL2)
	f.Add(c.enc, true)
	f.Add(c.enc, false)
	empty := mustBuild(f, Params{}, flat.MetricL2, c.dim, c.data, nil, 1)
	f.Add(empty.AppendBinary(nil), false)
	f.Fuzz(func(t *testing.T, b []byte, verify bool) {
		g, err := Decode(b, c.m, c.dim, c.data, verify)
		if err != nil {
			if !errors.Is(err, base.ErrCorruption) {
				t.Fatalf("error %v does not match ErrCorruption", err)
			}
			return
		}
		// Whatever decodes must be searchable and re-encode to itself.
		c.dump(g)
		s := g.NewSearcher()
		g.Search(s, c.queries[:c.dim], 5, 50, 0, func(off uint32) bool { return off%2 == 0 }, nil)
		if re := g.AppendBinary(nil); verify && !bytes.Equal(re, b) {
			t.Fatal("re-encoding changed a verified graph")
		}
	})
}
