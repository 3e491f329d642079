package hnsw

import (
	"slices"

	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/vector"
)

// Searcher holds the scratch of one search at a time: a visited list marked
// with a generation counter (reset by incrementing it, cleared only when it
// wraps), the candidate and result heaps and the neighbour buffers. Reusing
// a Searcher makes a search allocation-free. It is not safe for concurrent
// use; it may be used with any graph (it grows to the largest one).
type Searcher struct {
	visited []uint32
	gen     uint32
	cand    minHeap
	res     maxHeap
	best    maxHeap   // the k best of res
	ids     []uint32  // unvisited neighbours of the node being expanded
	ds      []float32 // their distances
	bridges []uint32  // refused neighbours of the node being expanded (two-hop search)
	seeds   []uint64  // accepted layer-1 nodes that start a two-hop search
}

// NewSearcher returns a Searcher sized for g.
func (g *Graph) NewSearcher() *Searcher {
	s := &Searcher{}
	s.grow(g.n, 2*g.m)
	return s
}

// grow makes room for graphs of n offsets and rows of width neighbours.
func (s *Searcher) grow(n, width int) {
	if len(s.visited) < n {
		s.visited = make([]uint32, n)
		s.gen = 0
	}
	if len(s.ids) < width {
		s.ids = make([]uint32, width)
		s.ds = make([]float32, width)
		s.bridges = make([]uint32, 0, width)
		s.seeds = make([]uint64, 0, seedWidth)
	}
}

// next starts a new visited generation.
func (s *Searcher) next() {
	s.gen++
	if s.gen == 0 {
		clear(s.visited)
		s.gen = 1
	}
}

// Search returns up to k nearest points of q, best first, among those for
// which accept returns true (nil accepts all), appended to out. Scores are
// internal (higher is better, as in package flat) and tag is copied into
// every candidate. ef is the beam width; max(ef, k) is used. Points rejected
// by accept are still traversed, so deleted points keep the graph connected,
// but are never returned. Search panics if len(q) is not the graph's
// dimension.
func (g *Graph) Search(s *Searcher, q []float32, k, ef int, tag uint32, accept func(off uint32) bool, out []flat.Candidate) []flat.Candidate {
	if len(q) != g.dim {
		panic("hnsw: query dimension differs from the graph's")
	}
	if g.nodes == 0 || k <= 0 {
		return out
	}
	ef = max(ef, k)
	s.grow(g.n, 2*g.m)

	ep := g.entry
	epd := g.dist(q, g.vec(ep))
	for l := g.maxLevel; l > 0; l-- {
		ep, epd = g.greedy(s, q, ep, epd, l)
	}
	g.searchLayer0(s, q, ep, epd, ef, accept)
	return s.appendBest(k, tag, out)
}

// appendBest appends the k best results of s.res to out, best first.
func (s *Searcher) appendBest(k int, tag uint32, out []flat.Candidate) []flat.Candidate {
	// The k best of the ef results: one pass through a k-bounded heap
	// (most results fail one compare with its root), cheaper than popping
	// ef-k results off the result heap.
	best := &s.best
	best.reset()
	for _, kk := range s.res.a {
		if best.len() < k {
			best.push(kk)
		} else if kk < best.top() {
			best.replaceTop(kk)
		}
	}
	n := best.len()
	start := len(out)
	out = slices.Grow(out, n)[:start+n] // no allocation when out has room
	for i := n - 1; i >= 0; i-- {
		kk := best.top()
		best.pop()
		out[start+i] = flat.Candidate{Score: -keyDist(kk), Tag: tag, Off: uint32(kk)}
	}
	return out
}

// greedy walks layer l from ep to a local minimum of the distance to q (a
// beam of width 1) and returns it with its distance.
func (g *Graph) greedy(s *Searcher, q []float32, ep uint32, epd float32, l int) (uint32, float32) {
	for {
		row := g.row(ep, l)
		ids := row[1 : 1+row[0]]
		vector.PrefetchRows(g.data, g.dim, ids, prefetchVecLines)
		ds := s.ds[:len(ids)]
		g.dists(q, ids, ds)
		best, bestd := ep, epd
		for i, d := range ds {
			if d < bestd {
				best, bestd = ids[i], d
			}
		}
		if best == ep {
			return ep, epd
		}
		ep, epd = best, bestd
	}
}

// searchLayer0 runs the beam search of width ef on layer 0 from ep and
// leaves in s.res up to ef nearest accepted nodes.
func (g *Graph) searchLayer0(s *Searcher, q []float32, ep uint32, epd float32, ef int, accept func(off uint32) bool) {
	s.next()
	gen, visited := s.gen, s.visited
	cand, res := &s.cand, &s.res
	cand.reset()
	res.reset()

	visited[ep] = gen
	k0 := key(epd, ep)
	cand.push(k0)
	if accept == nil || accept(ep) {
		res.push(k0)
	}
	stride := g.stride0()
	layer0 := g.layer0
	for cand.len() > 0 {
		c := cand.top()
		if res.len() >= ef && c > res.top() {
			break // the closest candidate is worse than every result
		}
		cand.pop()

		i := int(uint32(c)) * stride
		row := layer0[i : i+stride : i+stride]
		nb := row[1 : 1+row[0]]
		ids := s.ids[:len(nb)]
		m := 0
		for _, o := range nb {
			// Branch-free: whether a neighbour was visited is a coin flip
			// the predictor cannot learn.
			seen := visited[o] == gen
			visited[o] = gen
			ids[m] = o
			m += int(b2u(!seen))
		}
		if m == 0 {
			continue
		}
		ids = ids[:m]
		// Start loading the vectors about to be scored and the row of the
		// node likely to be expanded next (see prefetch* in graph.go).
		vector.PrefetchRows(g.data, g.dim, ids, prefetchVecLines)
		if cand.len() > 0 {
			next := [1]uint32{uint32(cand.top())}
			vector.PrefetchUint32Rows(layer0, stride, next[:], prefetchRowLines)
		}
		ds := s.ds[:m]
		g.dists(q, ids, ds)
		for j, d := range ds {
			o := ids[j]
			kk := key(d, o)
			if res.len() >= ef && kk >= res.top() {
				continue
			}
			cand.push(kk)
			if accept != nil && !accept(o) {
				continue
			}
			if res.len() >= ef {
				res.replaceTop(kk)
			} else {
				res.push(kk)
			}
		}
	}
}

// b2u converts a bool to 0 or 1 without a branch.
func b2u(b bool) uint {
	var u uint
	if b {
		u = 1
	}
	return u
}
