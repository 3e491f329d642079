package hnsw

import (
	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/vector"
)

// Software prefetching. Before scoring the unvisited neighbours of an
// expanded node, the search asks for the first prefetchVecLines cache lines
// of each of their vectors (the hardware streamer follows on for long
// vectors), and for the adjacency row of the best candidate, likely the
// next node expanded (a 132-byte row for M=16 spans up to 3 lines).
// Measured single-threaded with BenchmarkSearch: the vector hint gains
// about 15% on fashion-mnist-784 and is neutral on glove-100, the row hint
// about 10% on glove-100. 1 to 8 lines per vector performed alike; the
// T1/T2/NTA hints, a call per vector one ahead of the kernel, and hinting
// the next candidate's neighbours a step early were slower.
const (
	prefetchVecLines = 2
	prefetchRowLines = 3
)

// notIndexed marks, in Graph.levels, an offset that is not in the graph.
const notIndexed = 0xFF

// noEntry is the entry point of an empty graph.
const noEntry = ^uint32(0)

// Graph is an HNSW graph over the offsets < n of a vector array. It is
// immutable and safe for concurrent searches (each with its own Searcher).
type Graph struct {
	metric flat.Metric
	dim    int
	data   []float32 // not owned: the segment's vectors, len >= n*dim
	n      int       // offsets covered: 0..n-1
	m      int       // max neighbours on layers >= 1; layer 0 keeps 2m
	nodes  int       // indexed offsets

	entry    uint32 // entry point (noEntry when nodes == 0)
	maxLevel int    // level of the entry point

	// See the package documentation for the layout.
	levels  []uint8  // n
	layer0  []uint32 // n * (2m+1)
	upStart []uint32 // n
	upper   []uint32 // blocks * (m+1)
}

// Len returns the number of indexed points.
func (g *Graph) Len() int { return g.nodes }

// stride0 is the length of a layer-0 row: a count and 2m neighbours.
func (g *Graph) stride0() int { return 2*g.m + 1 }

// strideUp is the length of an upper-layer row: a count and m neighbours.
func (g *Graph) strideUp() int { return g.m + 1 }

// row returns off's adjacency row on layer l: row[0] is the neighbour count,
// row[1:1+row[0]] the neighbours. off must have level >= l.
func (g *Graph) row(off uint32, l int) []uint32 {
	if l == 0 {
		s := g.stride0()
		i := int(off) * s
		return g.layer0[i : i+s : i+s]
	}
	s := g.strideUp()
	i := (int(g.upStart[off]) + l - 1) * s
	return g.upper[i : i+s : i+s]
}

// vec returns the vector of off.
func (g *Graph) vec(off uint32) []float32 {
	i := int(off) * g.dim
	return g.data[i : i+g.dim : i+g.dim]
}

// dist returns the internal distance (lower is better, the negated score)
// between a and b.
func (g *Graph) dist(a, b []float32) float32 {
	switch g.metric {
	case flat.MetricL2:
		return vector.L2Squared(a, b)
	case flat.MetricL1:
		return vector.L1(a, b)
	}
	return -vector.Dot(a, b)
}

// dists sets out[i] to the distance between q and the vector of ids[i]. The
// metric switch is outside the loops, which call the kernels directly.
func (g *Graph) dists(q []float32, ids []uint32, out []float32) {
	dim, data := g.dim, g.data
	out = out[:len(ids)]
	switch g.metric {
	case flat.MetricL2:
		for i, o := range ids {
			j := int(o) * dim
			out[i] = vector.L2Squared(q, data[j:j+dim:j+dim])
		}
	case flat.MetricL1:
		for i, o := range ids {
			j := int(o) * dim
			out[i] = vector.L1(q, data[j:j+dim:j+dim])
		}
	default:
		for i, o := range ids {
			j := int(o) * dim
			out[i] = -vector.Dot(q, data[j:j+dim:j+dim])
		}
	}
}

// Stats describes a graph's shape and footprint.
type Stats struct {
	Nodes       int     // indexed points
	Levels      int     // layers in use (top level + 1; 0 when empty)
	UpperNodes  int     // nodes with level > 0
	AvgDegree0  float64 // mean number of layer-0 neighbours per indexed node
	MemoryBytes int64   // bytes of the graph structures (not the vectors)
}

// Stats walks the graph and returns its statistics.
func (g *Graph) Stats() Stats {
	st := Stats{Nodes: g.nodes}
	if g.nodes > 0 {
		st.Levels = g.maxLevel + 1
	}
	s0 := g.stride0()
	edges := 0
	for off, lv := range g.levels {
		if lv == notIndexed {
			continue
		}
		if lv > 0 {
			st.UpperNodes++
		}
		edges += int(g.layer0[off*s0])
	}
	if g.nodes > 0 {
		st.AvgDegree0 = float64(edges) / float64(g.nodes)
	}
	st.MemoryBytes = int64(len(g.levels)) + 4*int64(len(g.layer0)+len(g.upStart)+len(g.upper))
	return st
}
