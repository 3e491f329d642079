package strata

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSearchHNSW measures one indexed search through the public API,
// so that the per-query cost around the graph search shows up:
//
//	go test -run x -bench SearchHNSW -benchmem -cpuprofile cpu.prof .
func BenchmarkSearchHNSW(b *testing.B) {
	db := mustOpen(b, b.TempDir())
	defer db.Close()
	const dim, n = 128, 20000
	c, err := db.CreateCollection(ctx, "b", CollectionConfig{
		Vectors:    map[string]VectorParams{"": {Size: dim, Distance: Euclid}},
		Optimizers: OptimizersConfig{FlushThreshold: n + 1, IndexingThresholdKB: 1, Interval: -1},
	})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for lo := 0; lo < n; lo += 1000 {
		var pts []Point
		for i := lo; i < lo+1000; i++ {
			pts = append(pts, Point{ID: NumID(uint64(i)), Vector: vec(r, dim)})
		}
		if err := c.Upsert(ctx, pts); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	if err := c.WaitIndexed(ctx); err != nil {
		b.Fatal(err)
	}
	req := SearchRequest{Vector: vec(r, dim), Limit: 10, HnswEf: 16}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Search(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
