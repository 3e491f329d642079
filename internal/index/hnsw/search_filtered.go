package hnsw

import (
	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/vector"
)

// Tuning of SearchFiltered (see its comment for the measurements).
var (
	// plainBelow is the selectivity under which SearchFiltered is Search.
	plainBelow = 0.02
	// twoHopBelow is the acceptance rate around the entry point under which
	// SearchFiltered uses the two-hop traversal.
	twoHopBelow = 0.3
	// seedWidth is the number of accepted nodes the filtered descent keeps
	// per upper layer, seedBudget the most expansions of its plain search.
	seedWidth  = 1
	seedBudget = 64
)

// SearchFiltered is Search for a restrictive predicate: accept must be
// non-nil; selectivity (0, 1] is the caller's estimate of the fraction of
// points accepted, used to choose between plain traversal and two-hop
// expansion (and any other tuning you find).
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
	modeTwoHop        // searchLayer0TwoHop
)

// searchFiltered is SearchFiltered with the choice of traversal forced by
// mode (for the measurements) or left to the acceptance rate around the
// entry point.
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

	// The acceptance rate around the entry point of layer 0.
	row := g.row(ep, 0)
	nb := row[1 : 1+row[0]]
	acc := int(b2u(accept(ep)))
	for _, o := range nb {
		acc += int(b2u(accept(o)))
	}
	rate := float64(acc) / float64(1+len(nb))
	if mode == modeAuto {
		mode = modeTwoHop
		if rate >= twoHopBelow {
			mode = modePlain
		}
	}
	if mode == modePlain {
		g.searchLayer0(s, q, ep, epd, ef, accept)
		return s.appendBest(k, tag, out)
	}

	// Far fewer accepted nodes around the entry point than on average: the
	// filter is correlated with the vectors and the accepted points near q
	// may be far from it on the graph. Find accepted entry points layer by
	// layer from the top.
	s.seeds = s.seeds[:0]
	if 3*rate < selectivity {
		devStats.descents++
		for l := g.maxLevel; l > 0; l-- {
			g.upperFiltered(s, q, eps[l], epds[l], l, seedWidth, seedBudget, accept)
		}
	}
	devStats.queries++
	devStats.seeds += len(s.seeds)
	if !g.searchLayer0TwoHop(s, q, ep, epd, ef, k, accept) {
		devStats.fallbacks++
		g.searchLayer0(s, q, ep, epd, ef, accept)
	}
	return s.appendBest(k, tag, out)
}

// searchLayer0TwoHop is searchLayer0 over the subgraph of the accepted
// nodes, widened by two-hop expansion: it leaves in s.res up to ef nearest
// accepted nodes and reports whether the search found enough of them (at
// least min(k, ef)...) to be trusted.
//
// Expanding a node c collects, without scoring them, c's unvisited
// neighbours that accept allows, then, through each unvisited neighbour b
// that it refuses (a bridge, marked visited once its row is read), the
// unvisited accepted neighbours of b, until 2M nodes are collected. Only
// the collected nodes are scored and enter the candidate queue. The entry
// point enters the queue whether or not it is accepted (it routes the
// search to its accepted neighbourhood). A refused node is never scored.
func (g *Graph) searchLayer0TwoHop(s *Searcher, q []float32, ep uint32, epd float32, ef, k int, accept func(off uint32) bool) bool {
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
	stride := g.stride0()
	layer0 := g.layer0
	width := 2 * g.m
	for cand.len() > 0 {
		c := cand.top()
		if res.len() >= ef && c > res.top() {
			break
		}
		cand.pop()

		i := int(uint32(c)) * stride
		row := layer0[i : i+stride : i+stride]
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
			vector.PrefetchUint32Rows(layer0, stride, bridges, prefetchRowLines)
		expand:
			for _, b := range bridges {
				visited[b] = gen
				j := int(b) * stride
				brow := layer0[j : j+stride : j+stride]
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
		vector.PrefetchRows(g.data, g.dim, ids, prefetchVecLines)
		if cand.len() > 0 {
			next := [1]uint32{uint32(cand.top())}
			vector.PrefetchUint32Rows(layer0, stride, next[:], prefetchRowLines)
		}
		ds := s.ds[:m]
		devStats.dist0 += m
		devStats.exp0++
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
	return res.len() >= min(k, ef)
}

// Development counters.
type devCounters struct{ queries, fallbacks, seeds, dist0, exp0, distUp, descents int }

var devStats devCounters

// upperFiltered sets s.seeds to the w nearest accepted nodes on layer l
// that a two-hop search from ep (a routing node) and the previous seeds
// (accepted nodes of a level above l) finds. If it finds none, it runs
// plainUpper.
func (g *Graph) upperFiltered(s *Searcher, q []float32, ep uint32, epd float32, l, w, budget int, accept func(off uint32) bool) {
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
			if res.len() < w {
				res.push(kk)
			} else if kk < res.top() {
				res.replaceTop(kk)
			}
		}
	}
	width := g.m
	for cand.len() > 0 {
		c := cand.top()
		if res.len() >= w && c > res.top() {
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
	expand:
		for _, b := range bridges {
			if m == width {
				break
			}
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
		if m == 0 {
			continue
		}
		ids = ids[:m]
		ds := s.ds[:m]
		devStats.distUp += m
		g.dists(q, ids, ds)
		for j, d := range ds {
			kk := key(d, ids[j])
			if res.len() >= w {
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
	if res.len() == 0 {
		g.plainUpper(s, q, ep, epd, l, w, budget, accept)
		return
	}
	s.seeds = append(s.seeds[:0], res.a...)
}

// plainUpper runs on layer l, from ep, a beam search for the w nearest
// accepted nodes that scores every neighbour (as searchLayer0 does), for at
// most budget expansions, and leaves the accepted nodes found in s.seeds.
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
		devStats.distUp += m
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
	s.seeds = append(s.seeds[:0], res.a...)
}
