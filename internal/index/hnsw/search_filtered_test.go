package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/strata-db/strata/internal/index/flat"
)

// bitmapFilter accepts a seeded random fraction p of n offsets.
func bitmapFilter(seed uint64, n int, p float64) ([]bool, func(uint32) bool) {
	r := rand.New(rand.NewPCG(seed, 9))
	ok := make([]bool, n)
	for i := range ok {
		ok[i] = r.Float64() < p
	}
	return ok, func(off uint32) bool { return ok[off] }
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

// SearchFiltered finds the filtered nearest neighbours and returns only
// accepted points, with two-hop expansion (10%, 2%) or plain traversal
// (50%).
func TestSearchFilteredRecall(t *testing.T) {
	n, nq := 8000, 200
	if testing.Short() {
		n, nq = 3000, 100
	}
	c := newRecallCase(n, 24, nq)
	g := mustBuild(t, Params{M: 16, EfConstruction: 100, Seed: 1}, flat.MetricL2, c.dim, c.data, allOffsets(n), 2)
	offs := allOffsets(n)
	s := g.NewSearcher()
	for _, p := range []float64{0.1, 0.02, 0.5} {
		_, accept := bitmapFilter(uint64(100*p), n, p)
		var got, want [][]flat.Candidate
		for i := 0; i < c.nq; i++ {
			q := c.queries[i*c.dim : (i+1)*c.dim]
			res := g.SearchFiltered(s, q, 10, 64, 0, accept, p, nil)
			checkFiltered(t, flat.MetricL2, c.dim, c.data, q, res, accept)
			if len(res) != 10 {
				t.Fatalf("p=%v query %d: %d results, want 10", p, i, len(res))
			}
			got = append(got, res)
			want = append(want, bruteForce(flat.MetricL2, c.dim, c.data, q, offs, 10, accept))
		}
		r := recallAt(got, want)
		t.Logf("selectivity %v: filtered recall@10 at ef 64: %.4f", p, r)
		if r < 0.9 {
			t.Fatalf("selectivity %v: filtered recall@10 = %.4f < 0.9", p, r)
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

	// The entry point and every neighbour of it refused: the search routes
	// through them (two hops from the entry point reach accepted nodes).
	ep := g.entry
	refused := map[uint32]bool{ep: true}
	for l := 0; l <= g.maxLevel; l++ {
		row := g.row(ep, l)
		for _, o := range row[1 : 1+row[0]] {
			refused[o] = true
		}
	}
	notNear := func(off uint32) bool { return !refused[off] }
	for qi := 0; qi < 20; qi++ {
		q := queries[qi*dim : (qi+1)*dim]
		// The query is the entry point itself: its nearest accepted points
		// are all two hops away.
		for _, q := range [][]float32{q, g.vec(ep)} {
			for _, sel := range sels {
				res := g.SearchFiltered(s, q, 10, 32, 0, notNear, sel, nil)
				checkFiltered(t, flat.MetricL2, dim, data, q, res, notNear)
				if len(res) != 10 {
					t.Fatalf("entry point refused, selectivity %v: %d results", sel, len(res))
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
	for qi := 0; qi < 20; qi++ {
		q := queries[qi*dim : (qi+1)*dim]
		want := bruteForce(flat.MetricL2, dim, data, q, offs, 20, acceptFew)
		for _, sel := range sels {
			got := g.SearchFiltered(s, q, 20, 16, 4, acceptFew, sel, nil)
			for i := range want {
				want[i].Tag = 4
			}
			if !slices.Equal(got, want) {
				t.Fatalf("7 accepted, k=20, selectivity %v:\n got %v\nwant %v", sel, got, want)
			}
		}
	}

	// Nothing accepted: nothing returned; out is appended to.
	none := func(uint32) bool { return false }
	prefix := []flat.Candidate{{Off: 1}}
	for _, sel := range sels {
		if got := g.SearchFiltered(s, queries[:dim], 5, 10, 0, none, sel, prefix); len(got) != 1 {
			t.Fatalf("reject all, selectivity %v: %v", sel, got)
		}
	}

	// A nil filter is Search; k <= 0 returns nothing.
	q := queries[:dim]
	if got, want := g.SearchFiltered(s, q, 10, 32, 0, nil, 0.01, nil), g.Search(s, q, 10, 32, 0, nil, nil); !slices.Equal(got, want) {
		t.Fatalf("nil accept: %v, want %v", got, want)
	}
	all := func(uint32) bool { return true }
	if got := g.SearchFiltered(s, q, 0, 32, 0, all, 0.01, nil); len(got) != 0 {
		t.Fatalf("k=0: %v", got)
	}

	// An empty graph.
	empty := mustBuild(t, Params{}, flat.MetricL2, dim, data, nil, 1)
	if got := empty.SearchFiltered(empty.NewSearcher(), q, 10, 10, 0, all, 0.01, nil); len(got) != 0 {
		t.Fatalf("empty graph: %v", got)
	}
	// A query of the wrong dimension is a programming error.
	defer func() {
		if recover() == nil {
			t.Error("no panic for a query of the wrong dimension")
		}
	}()
	g.SearchFiltered(s, q[:3], 1, 1, 0, all, 0.01, nil)
}

// A filtered search with a warm Searcher allocates nothing, on either
// path.
func TestSearchFilteredAllocs(t *testing.T) {
	c := newRecallCase(2000, 16, 10)
	g := mustBuild(t, Params{M: 8, Seed: 1}, flat.MetricL2, c.dim, c.data, allOffsets(c.n), 1)
	out := make([]flat.Candidate, 0, 10)
	for _, p := range []float64{0.05, 0.5} {
		_, accept := bitmapFilter(5, c.n, p)
		s := g.NewSearcher()
		i := 0
		allocs := testing.AllocsPerRun(100, func() {
			out = g.SearchFiltered(s, c.queries[(i%10)*c.dim:(i%10+1)*c.dim], 10, 50, 0, accept, p, out[:0])
			i++
		})
		if allocs != 0 {
			t.Fatalf("selectivity %v: %v allocations per search", p, allocs)
		}
	}
}

// BenchmarkSearchFiltered compares, on 20,000 Gaussian points in 64
// dimensions (no data set needed), plain traversal and two-hop expansion at
// a few selectivities of a random filter. The data-set sweep is
// TestFilteredSweep (build tag recall).
func BenchmarkSearchFiltered(b *testing.B) {
	const n, dim = 20000, 64
	data := gaussian(1, n, dim, flat.MetricL2)
	queries := gaussian(2, 1000, dim, flat.MetricL2)
	g := mustBuild(b, Params{Seed: 1}, flat.MetricL2, dim, data, allOffsets(n), 2)
	for _, p := range []float64{0.5, 0.1, 0.01} {
		_, accept := bitmapFilter(3, n, p)
		for _, mode := range []struct {
			name string
			sel  float64 // passed to SearchFiltered to pick the mode
		}{{"plain", 1}, {"twohop", 0}} {
			b.Run(fmt.Sprintf("sel=%g%%/%s", 100*p, mode.name), func(b *testing.B) {
				s := g.NewSearcher()
				out := make([]flat.Candidate, 0, 10)
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					out = g.SearchFiltered(s, queries[i*dim:(i+1)*dim], 10, 64, 0, accept, mode.sel, out[:0])
					i = (i + 1) % 1000
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "QPS")
			})
		}
	}
}
