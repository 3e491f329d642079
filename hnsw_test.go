package strata

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func recallAt(got []ScoredPoint, want []ScoredPoint) float64 {
	if len(want) == 0 {
		return 1
	}
	hit := 0
	for _, w := range want {
		for _, g := range got {
			if g.ID == w.ID {
				hit++
				break
			}
		}
	}
	return float64(hit) / float64(len(want))
}

func TestHNSWIndexedSearch(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	const dim, n = 16, 12000
	c, err := db.CreateCollection(ctx, "h", CollectionConfig{
		Vectors: map[string]VectorParams{"": {Size: dim, Distance: Euclid}},
		// 64 bytes per vector: 16 KiB is 256 points, so every sealed segment is indexed.
		Optimizers: OptimizersConfig{FlushThreshold: 4000, IndexingThresholdKB: 16, Interval: -1},
		HNSW:       HnswConfig{M: 12, EfConstruct: 64, FullScanThresholdKB: 16},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 4))
	for lo := 0; lo < n; lo += 1000 {
		var pts []Point
		for i := lo; i < lo+1000; i++ {
			pts = append(pts, Point{ID: NumID(uint64(i)), Vector: vec(r, dim), Payload: Payload{"odd": i % 2}})
		}
		if err := c.Upsert(ctx, pts); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	info, _ := c.Info(ctx)
	if info.IndexedVectorsCount != n {
		t.Fatalf("indexed %d of %d vectors: %+v", info.IndexedVectorsCount, n, info)
	}
	// Delete some points: never returned, by graph or scan.
	var del []PointID
	for i := 0; i < n; i += 7 {
		del = append(del, NumID(uint64(i)))
	}
	if err := c.Delete(ctx, IDs(del...)); err != nil {
		t.Fatal(err)
	}
	odd := &Filter{Must: []Condition{MatchValue("odd", 1)}}
	check := func(label string) {
		t.Helper()
		total, totalF := 0.0, 0.0
		const queries = 60
		for i := 0; i < queries; i++ {
			q := vec(r, dim)
			approx, err := c.Search(ctx, SearchRequest{Vector: q, Limit: 10, HnswEf: 64})
			if err != nil {
				t.Fatal(err)
			}
			exact, _ := c.Search(ctx, SearchRequest{Vector: q, Limit: 10, Exact: true})
			total += recallAt(approx, exact)
			for _, h := range approx {
				if h.ID.Num()%7 == 0 {
					t.Fatalf("%s: deleted point %v returned", label, h.ID)
				}
			}
			approxF, _ := c.Search(ctx, SearchRequest{Vector: q, Limit: 10, Filter: odd, WithPayload: AllPayload})
			exactF, _ := c.Search(ctx, SearchRequest{Vector: q, Limit: 10, Filter: odd, Exact: true})
			totalF += recallAt(approxF, exactF)
			for _, h := range approxF {
				if h.ID.Num()%2 != 1 {
					t.Fatalf("%s: filtered search returned %v", label, h.ID)
				}
			}
		}
		t.Logf("%s: recall@10 %.3f, filtered (50%%) %.3f", label, total/queries, totalF/queries)
		if total/queries < 0.95 || totalF/queries < 0.9 {
			t.Fatalf("%s: recall@10 %.3f, filtered %.3f: too low", label, total/queries, totalF/queries)
		}
	}
	check("built")

	graphs := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "collections", "h", "segments", "*.hnsw"))
		slices.Sort(m)
		return m
	}
	before := graphs()
	if len(before) == 0 {
		t.Fatal("no graph files written")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir)
	defer db.Close()
	c, _ = db.Collection("h")
	info, _ = c.Info(ctx)
	if info.IndexedVectorsCount == 0 {
		t.Fatal("graphs not loaded on reopen")
	}
	if after := graphs(); !slices.Equal(after, before) {
		t.Fatalf("reopen rebuilt graphs: %v -> %v", before, after)
	}
	check("reopened")

	// New parameters: graphs are rebuilt with them.
	if err := c.Update(ctx, CollectionUpdate{HNSW: &HnswConfig{M: 8, EfConstruct: 48, FullScanThresholdKB: 16}}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	after := graphs()
	if len(after) == 0 || slices.Equal(after, before) {
		t.Fatalf("graphs not rebuilt: %v", after)
	}
	for _, g := range after {
		if !strings.Contains(g, ".m8.ef48.") {
			t.Fatalf("graph %s built with old parameters", g)
		}
	}
	if got := c.Config().HNSW.M; got != 8 {
		t.Fatalf("config after update: m=%d", got)
	}
	check("rebuilt")
}
