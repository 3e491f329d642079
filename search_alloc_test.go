package strata

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// Exact search allocates per query (result records, views, goroutines),
// never per scored point: the allocation count must not grow with the
// collection.
func TestSearchAllocationsDoNotScaleWithPoints(t *testing.T) {
	allocs := map[int]float64{}
	for _, n := range []int{20000, 80000} {
		db := mustOpen(t, t.TempDir())
		c, _ := db.CreateCollection(ctx, "a", CollectionConfig{
			Vectors:    map[string]VectorParams{"": {Size: 32, Distance: Dot}},
			Optimizers: OptimizersConfig{FlushThreshold: 30000, Interval: -1},
		})
		r := rand.New(rand.NewPCG(1, 2))
		for lo := 0; lo < n; lo += 5000 {
			var pts []Point
			for i := lo; i < lo+5000; i++ {
				pts = append(pts, Point{ID: NumID(uint64(i)), Vector: vec(r, 32)})
			}
			if err := c.Upsert(ctx, pts); err != nil {
				t.Fatal(err)
			}
		}
		q := vec(r, 32)
		req := SearchRequest{Vector: q, Limit: 10}
		allocs[n] = testing.AllocsPerRun(20, func() {
			if _, err := c.Search(ctx, req); err != nil {
				t.Fatal(err)
			}
		})
		_ = db.Close()
	}
	t.Logf("allocations per search: %v", allocs)
	if allocs[80000] > allocs[20000]+40 {
		t.Fatalf("allocations grow with the collection: %v", allocs)
	}
}

func TestOversizedBatchRejected(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	c, _ := db.CreateCollection(ctx, "big", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 1, Distance: Dot}}})
	pts := make([]Point, MaxBatchPoints+1)
	for i := range pts {
		pts[i] = Point{ID: NumID(uint64(i)), Vector: []float32{1}}
	}
	if err := c.Upsert(ctx, pts); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("oversized batch: %v", err)
	}
	if _, err := c.SearchBatch(ctx, make([]SearchRequest, MaxSearchBatch+1)); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("oversized search batch: %v", err)
	}
	if _, err := c.Search(ctx, SearchRequest{Vector: []float32{1}, Limit: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative limit: %v", err)
	}
	if _, err := c.Search(ctx, SearchRequest{Vector: []float32{1}, Limit: MaxSearchLimit + 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("absurd limit: %v", err)
	}
	if n, _ := c.Count(ctx, nil); n != 0 {
		t.Fatalf("rejected batch wrote %d points", n)
	}
}
