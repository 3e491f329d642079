// Package flat is exact (brute-force) nearest-neighbour search over a dense
// array of vectors: a chunked scan through the batch kernels of package
// vector feeding a bounded top-k heap. It is the exact=true path and the
// path for segments too small or filters too selective for a graph.
//
// Scores inside this package are "higher is better": similarities as they
// are, distances negated (see Metric). Nothing here allocates per scored
// vector.
package flat

import (
	"math"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/vector"
)

// Metric selects the kernel and the sign of the internal score.
type Metric uint8

const (
	MetricDot Metric = iota // dot product (also cosine on normalised vectors)
	MetricL2                // negated squared Euclidean distance
	MetricL1                // negated Manhattan distance
)

// MetricFor returns the metric used to scan vectors stored for d.
func MetricFor(d base.Distance) Metric {
	switch d {
	case base.Euclid:
		return MetricL2
	case base.Manhattan:
		return MetricL1
	}
	return MetricDot
}

// Score returns the internal score of one pair.
func Score(m Metric, a, b []float32) float32 {
	switch m {
	case MetricL2:
		return -vector.L2Squared(a, b)
	case MetricL1:
		return -vector.L1(a, b)
	}
	return vector.Dot(a, b)
}

// External converts an internal score to the score reported to users for
// distance d: the similarity, the Euclidean distance, or the Manhattan
// distance.
func External(d base.Distance, s float32) float32 {
	switch d {
	case base.Euclid:
		return float32(math.Sqrt(float64(-s)))
	case base.Manhattan:
		return -s
	}
	return s
}

// Internal converts a user-facing score threshold to an internal one. For
// Euclid the bound is widened by a few ulps, because squaring the rounded
// distance can land just inside the true squared distance; callers apply the
// exact test to the external score (Passes).
func Internal(d base.Distance, s float32) float32 {
	switch d {
	case base.Euclid:
		return float32(-float64(s) * float64(s) * (1 + 1e-6))
	case base.Manhattan:
		return -s
	}
	return s
}

// Passes reports whether an external score meets a user threshold: at
// least t for similarities, at most t for distances.
func Passes(d base.Distance, score, t float32) bool {
	if d.HigherIsBetter() {
		return score >= t
	}
	return score <= t
}

// Candidate is one scored point: its segment (Tag) and offset.
type Candidate struct {
	Score float32
	Tag   uint32
	Off   uint32
}

// better orders candidates: higher score first, then lower tag and offset
// so that results are deterministic.
func better(a, b Candidate) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if a.Tag != b.Tag {
		return a.Tag < b.Tag
	}
	return a.Off < b.Off
}

// TopK keeps the k best candidates seen: a min-heap on the best-order whose
// root is the worst kept candidate.
type TopK struct {
	k     int
	items []Candidate
}

// Reset empties the heap and sets its bound.
func (h *TopK) Reset(k int) {
	h.k = k
	if cap(h.items) < k {
		h.items = make([]Candidate, 0, k)
	}
	h.items = h.items[:0]
}

// Len returns the number of kept candidates.
func (h *TopK) Len() int { return len(h.items) }

// Full reports whether k candidates are kept.
func (h *TopK) Full() bool { return len(h.items) >= h.k }

// Worst returns the score a candidate must beat once the heap is full.
func (h *TopK) Worst() float32 {
	if len(h.items) < h.k || h.k == 0 {
		return float32(math.Inf(-1))
	}
	return h.items[0].Score
}

// Push offers a candidate.
func (h *TopK) Push(c Candidate) {
	if h.k == 0 {
		return
	}
	if len(h.items) < h.k {
		h.items = append(h.items, c)
		h.up(len(h.items) - 1)
		return
	}
	if !better(c, h.items[0]) {
		return
	}
	h.items[0] = c
	h.down(0)
}

func (h *TopK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !better(h.items[p], h.items[i]) {
			break
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

func (h *TopK) down(i int) {
	n := len(h.items)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l
		if r := l + 1; r < n && better(h.items[l], h.items[r]) {
			w = r
		}
		if !better(h.items[i], h.items[w]) {
			return
		}
		h.items[i], h.items[w] = h.items[w], h.items[i]
		i = w
	}
}

// Merge pushes every candidate of o into h.
func (h *TopK) Merge(o *TopK) {
	for _, c := range o.items {
		h.Push(c)
	}
}

// Drain returns the kept candidates best first and empties the heap. The
// returned slice is appended to dst.
func (h *TopK) Drain(dst []Candidate) []Candidate {
	start := len(dst)
	for len(h.items) > 0 {
		dst = append(dst, h.items[0])
		last := len(h.items) - 1
		h.items[0] = h.items[last]
		h.items = h.items[:last]
		h.down(0)
	}
	// Popping a min-heap yields worst first: reverse.
	for i, j := start, len(dst)-1; i < j; i, j = i+1, j-1 {
		dst[i], dst[j] = dst[j], dst[i]
	}
	return dst
}

// ChunkSize is how many vectors Scan scores per kernel call: the scratch
// buffer a caller passes must hold at least this many floats.
const ChunkSize = 256

// Scan scores q against vectors lo..hi-1 of data (dim = len(q)) and offers
// to h every one whose score beats min (and h's current worst) and that
// accept allows (nil accepts all). accept is consulted only for vectors that
// would enter the heap, so an expensive filter runs rarely.
func Scan(m Metric, q, data []float32, lo, hi int, min float32, scratch []float32, tag uint32, accept func(off uint32) bool, h *TopK) {
	dim := len(q)
	for start := lo; start < hi; start += ChunkSize {
		end := min32(start+ChunkSize, hi)
		out := scratch[:end-start]
		chunk := data[start*dim : end*dim]
		switch m {
		case MetricL2:
			vector.L2SquaredBatch(q, chunk, out)
		case MetricL1:
			vector.L1Batch(q, chunk, out)
		default:
			vector.DotBatch(q, chunk, out)
		}
		neg := m != MetricDot
		for i, s := range out {
			if neg {
				s = -s
			}
			if s < min || (h.Full() && s <= h.Worst()) {
				continue
			}
			off := uint32(start + i)
			if accept != nil && !accept(off) {
				continue
			}
			h.Push(Candidate{Score: s, Tag: tag, Off: off})
		}
	}
}

func min32(a, b int) int {
	if a < b {
		return a
	}
	return b
}
