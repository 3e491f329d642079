package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/strata-db/strata/internal/index/flat"
)

// filterModes are the traversals of searchFiltered, each tested on its own
// (on low-dimensional test data SearchFiltered would mostly pick plain
// traversal).
var filterModes = []struct {
	name string
	mode int
}{{"auto", modeAuto}, {"plain", modePlain}, {"twohop", modeTwoHop}}

// bitmapFilter accepts a seeded random fraction p of n offsets.
func bitmapFilter(seed uint64, n int, p float64) func(uint32) bool {
	r := rand.New(rand.NewPCG(seed, 9))
	ok := make([]bool, n)
	for i := range ok {
		ok[i] = r.Float64() < p
	}
	return func(off uint32) bool { return ok[off] }
}

// checkFiltered checks that res holds only accepted offsets, best first,
// with their exact scores.
func checkFiltered(t *testing.T, m flat.Metric, dim int, data, q []float32, res []flat.Candidate, accept func(uint32) bool) {
	t.Helper()
	for j, r := range res {
		if !accept(r.Off) {
			t.Fatalf("result %d rejected by accept", r.Off)
		}
		if j > 0 && (r.Score > res[j-1].Score || r.Off == res[j-1].Off) {
			t.Fatalf("results not best first or duplicated: %v", res)
		}
		if want := flat.Score(m, q, data[int(r.Off)*dim:int(r.Off+1)*dim]); r.Score != want {
			t.Fatalf("score %v of %d, want %v", r.Score, r.Off, want)
		}
	}
}

// Filtered searches find the filtered nearest neighbours and return only
// accepted points: random filters of 10% and 2% (two-hop expansion
// collapses below about 2%: SearchFiltered is then Search) and a filter
// correlated with the vectors (the 10% of the points with the largest first
// coordinate), whose accepted points are far from most queries.
func TestSearchFilteredRecall(t *testing.T) {
	n, nq := 6000, 100
	if testing.Short() {
		n, nq = 3000, 50
	}
	c := newRecallCase(n, 24, nq)
	g := mustBuild(t, Params{M: 16, EfConstruction: 100, Seed: 1}, flat.MetricL2, c.dim, c.data, allOffsets(n), 2)
	offs := allOffsets(n)
	s := g.NewSearcher()
	first := make([]float32, n)
	for i := range first {
		first[i] = c.data[i*c.dim]
	}
	slices.Sort(first)
	top := first[n*9/10]
	filters := []struct {
		name   string
		sel    float64
		accept func(uint32) bool
	}{
		{"random 10%", 0.1, bitmapFilter(1, n, 0.1)},
		{"random 2%", 0.02, bitmapFilter(2, n, 0.02)},
		{"correlated 10%", 0.1, func(off uint32) bool { return c.data[int(off)*c.dim] >= top }},
	}
	for _, f := range filters {
		for _, m := range filterModes {
			var got, want [][]flat.Candidate
			for i := 0; i < c.nq; i++ {
				q := c.queries[i*c.dim : (i+1)*c.dim]
				var res []flat.Candidate
				if m.mode == modeAuto {
					res = g.SearchFiltered(s, q, 10, 64, 0, f.accept, f.sel, nil)
				} else {
					res = g.searchFiltered(s, q, 10, 64, 0, f.accept, f.sel, m.mode, nil)
				}
				checkFiltered(t, flat.MetricL2, c.dim, c.data, q, res, f.accept)
				if len(res) != 10 {
					t.Fatalf("%s, %s: query %d: %d results, want 10", f.name, m.name, i, len(res))
				}
				got = append(got, res)
				want = append(want, bruteForce(flat.MetricL2, c.dim, c.data, q, offs, 10, f.accept))
			}
			r := recallAt(got, want)
			t.Logf("%s, %s: filtered recall@10 at ef 64: %.4f", f.name, m.name, r)
			if r < 0.9 {
				t.Fatalf("%s, %s: filtered recall@10 = %.4f < 0.9", f.name, m.name, r)
			}
		}
	}
}

// Edge cases of the filter: an entry point that is refused, fewer accepted
// points than k, a filter refusing everything, a nil filter and
// meaningless selectivities.
func TestSearchFilteredEdgeCases(t *testing.T) {
	const n, dim = 3000, 16
	data := gaussian(12, n, dim, flat.MetricL2)
	queries := gaussian(13, 20, dim, flat.MetricL2)
	g := mustBuild(t, Params{M: 8, EfConstruction: 60, Seed: 3}, flat.MetricL2, dim, data, allOffsets(n), 1)
	s := g.NewSearcher()
	offs := allOffsets(n)
	sels := []float64{0.001, 0.1, 0.9, 0, -1, math.NaN(), math.Inf(1)}
	search := func(mode int, q []float32, k, ef int, tag uint32, accept func(uint32) bool, sel float64, out []flat.Candidate) []flat.Candidate {
		if mode == modeAuto {
			return g.SearchFiltered(s, q, k, ef, tag, accept, sel, out)
		}
		return g.searchFiltered(s, q, k, ef, tag, accept, sel, mode, out)
	}

	// The entry point and all its neighbours refused, on every layer: the
	// search routes through them.
	ep := g.entry
	refused := map[uint32]bool{ep: true}
	for l := 0; l <= g.maxLevel; l++ {
		row := g.row(ep, l)
		for _, o := range row[1 : 1+row[0]] {
			refused[o] = true
		}
	}
	notNear := func(off uint32) bool { return !refused[off] }
	for _, m := range filterModes {
		for qi := 0; qi < 20; qi++ {
			// The query is also the entry point itself, whose nearest
			// accepted points are all two hops away or more.
			for _, q := range [][]float32{queries[qi*dim : (qi+1)*dim], g.vec(ep)} {
				for _, sel := range sels {
					res := search(m.mode, q, 10, 32, 0, notNear, sel, nil)
					checkFiltered(t, flat.MetricL2, dim, data, q, res, notNear)
					if len(res) != 10 {
						t.Fatalf("%s: entry point refused, selectivity %v: %d results", m.name, sel, len(res))
					}
				}
			}
		}
	}

	// Fewer accepted points than k: all of them, in brute-force order.
	few := map[uint32]bool{}
	r := rand.New(rand.NewPCG(14, 14))
	for len(few) < 7 {
		few[uint32(r.IntN(n))] = true
	}
	acceptFew := func(off uint32) bool { return few[off] }
	for _, m := range filterModes {
		for qi := 0; qi < 20; qi++ {
			q := queries[qi*dim : (qi+1)*dim]
			want := bruteForce(flat.MetricL2, dim, data, q, offs, 20, acceptFew)
			for i := range want {
				want[i].Tag = 4
			}
			for _, sel := range sels {
				if got := search(m.mode, q, 20, 16, 4, acceptFew, sel, nil); !slices.Equal(got, want) {
					t.Fatalf("%s: 7 accepted, k=20, selectivity %v:\n got %v\nwant %v", m.name, sel, got, want)
				}
			}
		}
	}

	// Nothing accepted: nothing returned; out is appended to.
	none := func(uint32) bool { return false }
	prefix := []flat.Candidate{{Off: 1}}
	for _, m := range filterModes {
		for _, sel := range sels {
			if got := search(m.mode, queries[:dim], 5, 10, 0, none, sel, prefix); len(got) != 1 {
				t.Fatalf("%s: reject all, selectivity %v: %v", m.name, sel, got)
			}
		}
	}

	// A nil filter is Search; k <= 0 returns nothing.
	q := queries[:dim]
	if got, want := g.SearchFiltered(s, q, 10, 32, 0, nil, 0.1, nil), g.Search(s, q, 10, 32, 0, nil, nil); !slices.Equal(got, want) {
		t.Fatalf("nil accept: %v, want %v", got, want)
	}
	all := func(uint32) bool { return true }
	for _, m := range filterModes {
		if got := search(m.mode, q, 0, 32, 0, all, 0.1, nil); len(got) != 0 {
			t.Fatalf("%s: k=0: %v", m.name, got)
		}
	}

	// An empty graph.
	empty := mustBuild(t, Params{}, flat.MetricL2, dim, data, nil, 1)
	if got := empty.searchFiltered(empty.NewSearcher(), q, 10, 10, 0, all, 0.1, modeTwoHop, nil); len(got) != 0 {
		t.Fatalf("empty graph: %v", got)
	}
	// A query of the wrong dimension is a programming error.
	defer func() {
		if recover() == nil {
			t.Error("no panic for a query of the wrong dimension")
		}
	}()
	g.SearchFiltered(s, q[:3], 1, 1, 0, all, 0.1, nil)
}

// A filtered search with a warm Searcher allocates nothing, whatever the
// traversal, and a Searcher's visited list survives its generation counter
// wrapping (the filtered descent starts several generations per search).
func TestSearchFilteredSearcher(t *testing.T) {
	c := newRecallCase(2000, 16, 10)
	g := mustBuild(t, Params{M: 8, Seed: 1}, flat.MetricL2, c.dim, c.data, allOffsets(c.n), 1)
	out := make([]flat.Candidate, 0, 10)
	// A filter correlated with the vectors, so that two-hop searches
	// descend through the upper layers.
	corr := func(off uint32) bool { return c.data[int(off)*c.dim] > 1 }
	for _, f := range []struct {
		name   string
		sel    float64
		accept func(uint32) bool
	}{{"random 5%", 0.05, bitmapFilter(5, c.n, 0.05)}, {"random 50%", 0.5, bitmapFilter(6, c.n, 0.5)}, {"correlated 16%", 0.16, corr}} {
		for _, m := range filterModes {
			s := g.NewSearcher()
			i := 0
			allocs := testing.AllocsPerRun(100, func() {
				out = g.searchFiltered(s, c.queries[(i%10)*c.dim:(i%10+1)*c.dim], 10, 50, 0, f.accept, f.sel, m.mode, out[:0])
				i++
			})
			if allocs != 0 {
				t.Fatalf("%s, %s: %v allocations per search", f.name, m.name, allocs)
			}
			q := c.queries[:c.dim]
			want := g.searchFiltered(g.NewSearcher(), q, 10, 50, 0, f.accept, f.sel, m.mode, nil)
			s.gen = ^uint32(0) - 3
			for j := 0; j < 4; j++ {
				if got := g.searchFiltered(s, q, 10, 50, 0, f.accept, f.sel, m.mode, nil); !slices.Equal(got, want) {
					t.Fatalf("%s, %s: search %d around the wrap: %v, want %v", f.name, m.name, j, got, want)
				}
			}
		}
	}
}

// BenchmarkSearchFiltered compares, on 20,000 Gaussian points in 64
// dimensions (no data set needed), plain traversal, two-hop expansion and
// SearchFiltered's choice at a few selectivities of a random filter, at
// ef 64. The data-set sweep is TestFilteredSweep (build tag recall).
func BenchmarkSearchFiltered(b *testing.B) {
	const n, dim = 20000, 64
	data := gaussian(1, n, dim, flat.MetricL2)
	queries := gaussian(2, 1000, dim, flat.MetricL2)
	g := mustBuild(b, Params{Seed: 1}, flat.MetricL2, dim, data, allOffsets(n), 2)
	for _, p := range []float64{0.5, 0.1, 0.02} {
		accept := bitmapFilter(3, n, p)
		for _, m := range filterModes {
			b.Run(fmt.Sprintf("sel=%g%%/%s", 100*p, m.name), func(b *testing.B) {
				s := g.NewSearcher()
				out := make([]flat.Candidate, 0, 10)
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					q := queries[i*dim : (i+1)*dim]
					if m.mode == modeAuto {
						out = g.SearchFiltered(s, q, 10, 64, 0, accept, p, out[:0])
					} else {
						out = g.searchFiltered(s, q, 10, 64, 0, accept, p, m.mode, out[:0])
					}
					i = (i + 1) % 1000
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "QPS")
			})
		}
	}
}
