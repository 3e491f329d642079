package hnsw

import (
	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/vector"
)

// Tuning of SearchFiltered; see its comment for the measurements.
const (
	// plainBelow is the selectivity under which SearchFiltered always
	// traverses plainly: the accepted nodes are too sparse for two hops to
	// connect them.
	plainBelow = 0.02
	// Two-hop expansion is used when the acceptance rate around the entry
	// point of layer 0 is below dim/twoHopDimScale, at most maxTwoHopRate.
	twoHopDimScale = 2500
	maxTwoHopRate  = 0.4
	// descentRatio: when the acceptance rate around the entry point is
	// below selectivity/descentRatio, the filter is taken to be correlated
	// with the vectors and the upper layers are searched for accepted
	// entry points.
	descentRatio = 3
	// seedWidth is the number of accepted nodes that the filtered descent
	// keeps per upper layer, and seedBudget the most expansions of its
	// plain search on a layer where two hops find no accepted node.
	seedWidth  = 1
	seedBudget = 64
)

// SearchFiltered is Search for a restrictive predicate: accept must be
// non-nil; selectivity (0, 1] is the caller's estimate of the fraction of
// points accepted, used to choose between plain traversal and two-hop
// expansion (and any other tuning you find).
//
// Plain traversal is Search's: every neighbour is scored and refused nodes
// route the search without being returned. Its cost grows as 1/selectivity,
// since the beam only stops once ef accepted nodes are found; and when the
// accepted points are far from q on the graph (a filter correlated with the
// vectors) it floods everything in between.
//
// Two-hop expansion (ACORN-1, Patel et al., "ACORN: Performant and
// Predicate-Agnostic Search Over Vector Embeddings and Structured Data",
// SIGMOD 2024, without its graph construction) searches the subgraph of the
// accepted nodes instead: expanding a node scores its accepted neighbours
// and, through each refused one, the accepted neighbours of that one, up to
// 2M nodes; a refused node is never scored. A few row reads and accept calls
// replace each distance computation. When the accepted nodes are much
// rarer around the entry point of layer 0 than selectivity says, the upper
// layers are searched the same way, top down, for an accepted entry point.
//
// The choice. With fewer than 2% of the points accepted, the accepted
// nodes are too sparse for two hops to connect them (ACORN-1's known
// collapse; the plain traversal then floods towards exact): SearchFiltered
// is Search, and the caller should rather score the accepted points
// exactly. Otherwise it measures the acceptance rate among the entry point
// of layer 0 and its neighbours (33 accept calls with M=16) and expands
// two hops when the rate is below min(0.4, dim/2500). Using the rate
// around q rather than selectivity sends correlated filters to two-hop
// expansion when q is outside the accepted region and to plain traversal
// when it is inside. The threshold grows with the dimension because two
// hops trade distance computations, whose cost grows with it, for row
// reads and accept calls, whose cost does not. Measured crossovers (random
// filters, equal recall >= 0.95, M=16, efConstruction=200, one thread,
// QPS from thread CPU time; TestFilteredSweep, build tag recall):
//
//	data set           dim  two-hop / plain QPS by selectivity
//	                          50%    30%    20%    10%     5%     2%
//	glove-100-angular  100         0.42   0.51   0.85   0.89   1.13
//	glove-100 x4       400         0.60   0.75   1.38   1.61
//	fashion-mnist      784   0.71   1.15   1.49   3.00   5.54   (two-hop
//	                                                           recall < 0.96)
//
// and with filters correlated with the vectors (the top 10% or 50% of the
// points by their projection on one direction) two-hop expansion with the
// filtered descent was 2.2x (glove, 10%) to 80x (fashion, 10%) faster than
// plain traversal at equal recall.
func (g *Graph) SearchFiltered(s *Searcher, q []float32, k, ef int, tag uint32, accept func(off uint32) bool, selectivity float64, out []flat.Candidate) []flat.Candidate {
	if accept == nil || !(selectivity >= plainBelow) {
		return g.Search(s, q, k, ef, tag, accept, out)
	}
	return g.searchFiltered(s, q, k, ef, tag, accept, selectivity, modeAuto, out)
}

// Traversals of searchFiltered.
const (
	modeAuto   = iota // chosen by the acceptance rate around the entry point
	modePlain         // searchLayer0
	modeTwoHop        // twoHop
)

// searchFiltered is SearchFiltered with the traversal forced by mode (for
// the measurements) or chosen by the acceptance rate around the entry
// point.
func (g *Graph) searchFiltered(s *Searcher, q []float32, k, ef int, tag uint32, accept func(off uint32) bool, selectivity float64, mode int, out []flat.Candidate) []flat.Candidate {
	if len(q) != g.dim {
		panic("hnsw: query dimension differs from the graph's")
	}
	if g.nodes == 0 || k <= 0 {
		return out
	}
	ef = max(ef, k)
	s.grow(g.n, 2*g.m)

	// The unfiltered descent, remembering the node reached on each layer.
	var eps [maxLevel + 1]uint32
	var epds [maxLevel + 1]float32
	ep := g.entry
	epd := g.dist(q, g.vec(ep))
	for l := g.maxLevel; l > 0; l-- {
		ep, epd = g.greedy(s, q, ep, epd, l)
		eps[l], epds[l] = ep, epd
	}

	rate := g.acceptRate(ep, selectivity, accept)
	outside := descentRatio*rate < selectivity
	if mode == modeAuto {
		mode = modePlain
		if outside || max(selectivity, rate) < min(maxTwoHopRate, float64(g.dim)/twoHopDimScale) {
			mode = modeTwoHop
		}
	}
	if mode == modePlain {
		g.searchLayer0(s, q, ep, epd, ef, accept)
		return s.appendBest(k, tag, out)
	}

	// Far fewer accepted nodes around the entry point than on average: the
	// filter is correlated with the vectors, and the accepted points
	// nearest q may be far from it on layer 0. Look for accepted entry
	// points layer by layer from the top, where the graph is small.
	s.seeds = s.seeds[:0]
	if outside {
		for l := g.maxLevel; l > 0; l-- {
			g.twoHop(s, q, eps[l], epds[l], l, seedWidth, accept)
			if s.res.len() == 0 {
				g.plainUpper(s, q, eps[l], epds[l], l, seedWidth, seedBudget, accept)
			}
			s.seeds = append(s.seeds[:0], s.res.a...)
		}
	}
	// Fewer than k accepted nodes reachable by two hops: the accepted
	// nodes are islands (or fewer than k); traverse plainly, which reaches
	// every one (invariant G5).
	if g.twoHop(s, q, ep, epd, 0, ef, accept); s.res.len() < k {
		g.searchLayer0(s, q, ep, epd, ef, accept)
	}
	return s.appendBest(k, tag, out)
}

// acceptRate returns the fraction of the nodes accepted among ep and its
// layer-0 neighbours. When that is below selectivity/descentRatio, which
// could be chance (with selectivity 5%, no neighbour of 32 is accepted in
// 19% of the cases), it counts the neighbours of the neighbours too (about
// 1,000 nodes with M=16).
func (g *Graph) acceptRate(ep uint32, selectivity float64, accept func(off uint32) bool) float64 {
	stride := g.stride0()
	i := int(ep) * stride
	row := g.layer0[i : i+stride : i+stride]
	nb := row[1 : 1+row[0]]
	acc, all := b2u(accept(ep)), uint(1+len(nb))
	for _, o := range nb {
		acc += b2u(accept(o))
	}
	if descentRatio*float64(acc) >= selectivity*float64(all) {
		return float64(acc) / float64(all)
	}
	vector.PrefetchUint32Rows(g.layer0, stride, nb, prefetchRowLines)
	for _, b := range nb {
		j := int(b) * stride
		brow := g.layer0[j : j+stride : j+stride]
		for _, o := range brow[1 : 1+brow[0]] {
			acc += b2u(accept(o))
		}
		all += uint(brow[0])
	}
	return float64(acc) / float64(all)
}

// twoHop runs the beam search of width ef on layer l from ep and the nodes
// in s.seeds (accepted nodes of level >= l), over the accepted nodes with
// two-hop expansion, and leaves in s.res up to ef nearest accepted nodes.
//
// Expanding a node c collects, without scoring them, its unvisited
// neighbours that accept allows, then, through each unvisited neighbour b
// that it refuses (a bridge, marked visited once its row is read), the
// unvisited accepted neighbours of b, until a row's width of nodes (2M on
// layer 0, M above) is collected. Only the collected nodes are scored and
// may enter the candidate queue. ep enters it whether accepted or not: it
// routes the search to its accepted neighbourhood.
func (g *Graph) twoHop(s *Searcher, q []float32, ep uint32, epd float32, l, ef int, accept func(off uint32) bool) {
	s.next()
	gen, visited := s.gen, s.visited
	cand, res := &s.cand, &s.res
	cand.reset()
	res.reset()

	visited[ep] = gen
	k0 := key(epd, ep)
	cand.push(k0)
	if accept(ep) {
		res.push(k0)
	}
	for _, kk := range s.seeds {
		if o := uint32(kk); visited[o] != gen {
			visited[o] = gen
			cand.push(kk)
			if res.len() < ef {
				res.push(kk)
			} else if kk < res.top() {
				res.replaceTop(kk)
			}
		}
	}
	width := g.m
	if l == 0 {
		width = 2 * g.m
	}
	for cand.len() > 0 {
		c := cand.top()
		if res.len() >= ef && c > res.top() {
			break
		}
		cand.pop()

		row := g.row(uint32(c), l)
		nb := row[1 : 1+row[0]]
		ids := s.ids[:width]
		bridges := s.bridges[:0]
		m := 0
		for _, o := range nb {
			if visited[o] == gen {
				continue
			}
			if accept(o) {
				visited[o] = gen
				ids[m] = o
				m++
			} else {
				bridges = append(bridges, o)
			}
		}
		if m < width && len(bridges) > 0 {
			if l == 0 {
				vector.PrefetchUint32Rows(g.layer0, len(row), bridges, prefetchRowLines)
			}
		expand:
			for _, b := range bridges {
				visited[b] = gen
				brow := g.row(b, l)
				for _, o := range brow[1 : 1+brow[0]] {
					if visited[o] == gen || !accept(o) {
						continue
					}
					visited[o] = gen
					ids[m] = o
					m++
					if m == width {
						break expand
					}
				}
			}
		}
		if m == 0 {
			continue
		}
		ids = ids[:m]
		// As in searchLayer0: the vectors about to be scored, and the row
		// of the node likely to be expanded next.
		vector.PrefetchRows(g.data, g.dim, ids, prefetchVecLines)
		if l == 0 && cand.len() > 0 {
			next := [1]uint32{uint32(cand.top())}
			vector.PrefetchUint32Rows(g.layer0, len(row), next[:], prefetchRowLines)
		}
		ds := s.ds[:m]
		g.dists(q, ids, ds)
		for j, d := range ds {
			kk := key(d, ids[j])
			if res.len() >= ef {
				if kk >= res.top() {
					continue
				}
				res.replaceTop(kk)
			} else {
				res.push(kk)
			}
			cand.push(kk)
		}
	}
}

// plainUpper runs on layer l, from ep, a beam search for the w nearest
// accepted nodes that scores every neighbour (as searchLayer0 does), for at
// most budget expansions, and leaves the accepted nodes found in s.res.
func (g *Graph) plainUpper(s *Searcher, q []float32, ep uint32, epd float32, l, w, budget int, accept func(off uint32) bool) {
	s.next()
	gen, visited := s.gen, s.visited
	cand, res := &s.cand, &s.res
	cand.reset()
	res.reset()
	visited[ep] = gen
	k0 := key(epd, ep)
	cand.push(k0)
	if accept(ep) {
		res.push(k0)
	}
	for ; budget > 0 && cand.len() > 0; budget-- {
		c := cand.top()
		if res.len() >= w && c > res.top() {
			break
		}
		cand.pop()
		row := g.row(uint32(c), l)
		nb := row[1 : 1+row[0]]
		ids := s.ids[:len(nb)]
		m := 0
		for _, o := range nb {
			seen := visited[o] == gen
			visited[o] = gen
			ids[m] = o
			m += int(b2u(!seen))
		}
		if m == 0 {
			continue
		}
		ids = ids[:m]
		vector.PrefetchRows(g.data, g.dim, ids, prefetchVecLines)
		ds := s.ds[:m]
		g.dists(q, ids, ds)
		for j, d := range ds {
			o := ids[j]
			kk := key(d, o)
			if res.len() >= w && kk >= res.top() {
				continue
			}
			cand.push(kk)
			if !accept(o) {
				continue
			}
			if res.len() >= w {
				res.replaceTop(kk)
			} else {
				res.push(kk)
			}
		}
	}
}
