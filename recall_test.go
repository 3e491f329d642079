//go:build recall

package strata

// The recall test on the shared benchmark data sets, run on demand:
//
//	go test -tags recall -run TestRecall -v -timeout 30m .
//
// It builds each data set through the public API (one indexed segment,
// M=16, ef_construct=200 like the anchors), sweeps hnsw_ef and asserts that
// recall@10 reaches 0.95. Data sets missing from $STRATA_BENCH_DATA
// (default ~/.cache/strata-bench) are skipped.

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strata-db/strata/internal/dataset"
)

func TestRecall(t *testing.T) {
	root := os.Getenv("STRATA_BENCH_DATA")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "strata-bench")
	}
	for _, name := range []string{"fashion-mnist-784-euclidean", "glove-100-angular"} {
		t.Run(name, func(t *testing.T) {
			ds, err := dataset.Load(filepath.Join(root, name))
			if err != nil {
				t.Skipf("data set not available: %v", err)
			}
			dist := Euclid
			switch ds.Metric {
			case dataset.MetricCosine:
				dist = Cosine
			case dataset.MetricDot:
				dist = Dot
			}
			db := mustOpen(t, t.TempDir())
			defer db.Close()
			c, err := db.CreateCollection(ctx, "r", CollectionConfig{
				Vectors:    map[string]VectorParams{"": {Size: ds.Dim, Distance: dist}},
				Optimizers: OptimizersConfig{FlushThreshold: ds.N + 1, MaxSegments: 1, IndexingThresholdKB: 1, Interval: -1},
				HNSW:       HnswConfig{M: 16, EfConstruct: 200},
			})
			if err != nil {
				t.Fatal(err)
			}
			for lo := 0; lo < ds.N; lo += 1000 {
				var pts []Point
				for i := lo; i < min(lo+1000, ds.N); i++ {
					pts = append(pts, Point{ID: NumID(uint64(i)), Vector: ds.Row(i)})
				}
				if err := c.Upsert(ctx, pts); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Optimize(ctx); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := c.WaitIndexed(ctx); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d points indexed in %v", name, ds.N, time.Since(start))
			nq := min(ds.NQ, 1000)
			best := 0.0
			for _, ef := range []int{16, 32, 64, 128, 256} {
				hits := 0
				for qi := 0; qi < nq; qi++ {
					res, err := c.Search(ctx, SearchRequest{Vector: ds.Query(qi), Limit: 10, HnswEf: ef})
					if err != nil {
						t.Fatal(err)
					}
					for _, h := range res {
						for _, g := range ds.GT[qi][:10] {
							if h.ID.Num() == uint64(g) {
								hits++
								break
							}
						}
					}
				}
				recall := float64(hits) / float64(nq*10)
				t.Logf("%s: ef=%d recall@10=%.4f", name, ef, recall)
				best = max(best, recall)
			}
			if best < 0.95 {
				t.Fatalf("%s: best recall@10 %.4f < 0.95", name, best)
			}
		})
	}
}
