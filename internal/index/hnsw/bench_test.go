package hnsw

import (
	"context"
	"fmt"
	"testing"

	"github.com/strata-db/strata/internal/index/flat"
)

// Benchmarks on the shared data sets skip when the data is missing; set
// STRATA_HNSW_CACHE to a directory to build each graph once across runs.
//
//	go test -run - -bench . -benchtime 2000x ./internal/index/hnsw/

var benchEf = map[string]int{
	"fashion-mnist-784-euclidean": 16,  // hnswlib: recall 0.968 at ef 16
	"glove-100-angular":           128, // hnswlib: recall 0.958 at ef 128
}

func BenchmarkSearch(b *testing.B) {
	for _, name := range []string{"fashion-mnist-784-euclidean", "glove-100-angular"} {
		b.Run(name, func(b *testing.B) {
			s := loadBenchSet(b, name)
			g := benchGraph(b, s)
			ef := benchEf[name]
			srch := g.NewSearcher()
			out := make([]flat.Candidate, 0, 10)
			nq := min(1000, s.nq)
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				q := s.queries[i*s.dim : (i+1)*s.dim]
				out = g.Search(srch, q, 10, ef, 0, nil, out[:0])
				i++
				if i == nq {
					i = 0
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "QPS")
		})
	}
}

// BenchmarkBuild builds the first 20,000 vectors of each data set (set
// -benchtime 1x).
func BenchmarkBuild(b *testing.B) {
	for _, name := range []string{"fashion-mnist-784-euclidean", "glove-100-angular"} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", name, threads), func(b *testing.B) {
				s := loadBenchSet(b, name)
				n := min(20000, s.n)
				data := s.base[:n*s.dim]
				for b.Loop() {
					if _, err := Build(context.Background(), Params{M: 16, EfConstruction: 200, Seed: 1}, s.metric, s.dim, data, allOffsets(n), threads); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSearchRandom needs no data set: 20,000 Gaussian points in 64
// dimensions.
func BenchmarkSearchRandom(b *testing.B) {
	const n, dim = 20000, 64
	data := gaussian(1, n, dim, flat.MetricL2)
	queries := gaussian(2, 1000, dim, flat.MetricL2)
	g := mustBuild(b, Params{Seed: 1}, flat.MetricL2, dim, data, allOffsets(n), 2)
	s := g.NewSearcher()
	out := make([]flat.Candidate, 0, 10)
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out = g.Search(s, queries[i*dim:(i+1)*dim], 10, 64, 0, nil, out[:0])
		i = (i + 1) % 1000
	}
}
