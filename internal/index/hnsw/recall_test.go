//go:build recall

package hnsw

// The recall/QPS sweep on the shared data sets, beside the native hnswlib
// anchor (/work/shared/bench/run_native.sh, same protocol: M=16,
// efConstruction=200, build with 2 threads, 1000 queries, single-thread
// search, median of 3 timed runs after a warm-up):
//
//	go test -tags recall -run Recall -v -timeout 30m ./internal/index/hnsw/
//
// STRATA_RECALL_SETS (comma separated) picks the data sets,
// STRATA_RECALL_BUILDS the number of timed builds (default 3).

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/internal/index/flat"
)

func TestRecallSweep(t *testing.T) {
	sets := []string{"fashion-mnist-784-euclidean", "glove-100-angular"}
	if v := os.Getenv("STRATA_RECALL_SETS"); v != "" {
		sets = strings.Split(v, ",")
	}
	builds := 3
	if v, err := strconv.Atoi(os.Getenv("STRATA_RECALL_BUILDS")); err == nil && v > 0 {
		builds = v
	}
	for _, name := range sets {
		t.Run(name, func(t *testing.T) {
			s := loadBenchSet(t, name)
			nq := min(1000, s.nq)
			var g *Graph
			var times []float64
			var allocated uint64
			for i := 0; i < builds; i++ {
				g = nil
				runtime.GC()
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				start := time.Now()
				var err error
				g, err = Build(context.Background(), Params{M: 16, EfConstruction: 200, Seed: uint64(i + 1)}, s.metric, s.dim, s.base, allOffsets(s.n), 2)
				if err != nil {
					t.Fatal(err)
				}
				times = append(times, time.Since(start).Seconds())
				runtime.ReadMemStats(&ms1)
				allocated = ms1.TotalAlloc - ms0.TotalAlloc
			}
			st := g.Stats()
			vecBytes := int64(len(s.base)) * 4
			sorted := slices.Clone(times)
			slices.Sort(sorted)
			fmt.Printf("\n%s: n=%d dim=%d metric=%v M=16 efC=200 threads=2\n", name, s.n, s.dim, s.metric)
			fmt.Printf("build: median %.2f s, all %.2f s\n", sorted[len(sorted)/2], times)
			fmt.Printf("graph: %+v, unreachable on layer 0: %d\n", st, unreachable(g))
			fmt.Printf("memory: graph %.1f MiB + vectors %.1f MiB = %.1f MiB; Build allocated %.1f MiB in all (graph + scratch); a Searcher %.1f MiB\n",
				float64(st.MemoryBytes)/(1<<20), float64(vecBytes)/(1<<20), float64(st.MemoryBytes+vecBytes)/(1<<20),
				float64(allocated)/(1<<20), float64(4*s.n)/(1<<20))
			fmt.Printf("%6s %10s %10s %s\n", "ef", "recall@10", "QPS", "QPS of each run")
			srch := g.NewSearcher()
			res := make([][]flat.Candidate, nq)
			for i := range res {
				res[i] = make([]flat.Candidate, 0, 10)
			}
			run := func(ef int) {
				for qi := 0; qi < nq; qi++ {
					res[qi] = g.Search(srch, s.queries[qi*s.dim:(qi+1)*s.dim], 10, ef, 0, nil, res[qi][:0])
				}
			}
			for _, ef := range []int{10, 12, 16, 24, 32, 64, 128, 256, 512} {
				run(ef) // warm-up
				var qps []float64
				for r := 0; r < 3; r++ {
					start := time.Now()
					run(ef)
					qps = append(qps, float64(nq)/time.Since(start).Seconds())
				}
				med := slices.Clone(qps)
				slices.Sort(med)
				fmt.Printf("%6d %10.4f %10.0f %.0f\n", ef, s.recall10(res), med[1], qps)
			}
		})
	}
}
