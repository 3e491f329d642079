package strata

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func f32(x float32) *float32 { return &x }

func approx(a, b float32) bool { return math.Abs(float64(a-b)) <= 1e-5*(1+math.Abs(float64(b))) }

// Scores for every distance against hand-computed values.
func TestScoresByDistance(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	q := []float32{1, 2, 3}
	pts := []Point{
		{ID: NumID(1), Vector: []float32{4, 5, 6}},
		{ID: NumID(2), Vector: []float32{1, 0, 0}},
		{ID: NumID(3), Vector: []float32{-1, -2, -3}},
	}
	// Hand-computed: q·p, |q-p|, sum|q-p|, cos.
	want := map[Distance]map[uint64]float32{
		Dot:       {1: 32, 2: 1, 3: -14},
		Euclid:    {1: float32(math.Sqrt(27)), 2: float32(math.Sqrt(13)), 3: float32(math.Sqrt(56))},
		Manhattan: {1: 9, 2: 5, 3: 12},
		Cosine:    {1: float32(32 / (math.Sqrt(14) * math.Sqrt(77))), 2: float32(1 / math.Sqrt(14)), 3: -1},
	}
	order := map[Distance][]uint64{Dot: {1, 2, 3}, Euclid: {2, 1, 3}, Manhattan: {2, 1, 3}, Cosine: {1, 2, 3}}
	for d, scores := range want {
		c, err := db.CreateCollection(ctx, "s"+d.String(), CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 3, Distance: d}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Upsert(ctx, pts); err != nil {
			t.Fatal(err)
		}
		for pass := 0; pass < 2; pass++ {
			hits, err := c.Search(ctx, SearchRequest{Vector: q, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			for _, h := range hits {
				ids = append(ids, h.ID.Num())
				if !approx(h.Score, scores[h.ID.Num()]) {
					t.Errorf("%s: id %v score %v, want %v", d, h.ID, h.Score, scores[h.ID.Num()])
				}
			}
			if !slices.Equal(ids, order[d]) {
				t.Errorf("%s: order %v, want %v", d, ids, order[d])
			}
			// Threshold: keep hits at least as good as the middle one.
			mid := scores[order[d][1]]
			hits, _ = c.Search(ctx, SearchRequest{Vector: q, Limit: 10, ScoreThreshold: f32(mid)})
			if len(hits) != 2 {
				t.Errorf("%s: threshold %v kept %d hits, want 2", d, mid, len(hits))
			}
			hits, _ = c.Search(ctx, SearchRequest{Vector: q, Limit: 1, Offset: 1})
			if len(hits) != 1 || hits[0].ID.Num() != order[d][1] {
				t.Errorf("%s: offset 1 gave %v", d, hits)
			}
			if err := c.Optimize(ctx); err != nil { // second pass on a sealed segment
				t.Fatal(err)
			}
		}
	}
	// Cosine stores normalised vectors.
	c, _ := db.Collection("sCosine")
	recs, _ := c.Get(ctx, []PointID{NumID(2)}, GetOptions{WithVectors: AllVectors})
	if !slices.Equal(recs[0].Vector, []float32{1, 0, 0}) {
		t.Fatalf("stored cosine vector %v", recs[0].Vector)
	}
}

func TestNamedAndSparseVectors(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	c, err := db.CreateCollection(ctx, "multi", CollectionConfig{
		Vectors:       map[string]VectorParams{"image": {Size: 2, Distance: Dot}, "text": {Size: 3, Distance: Euclid}},
		SparseVectors: map[string]SparseVectorParams{"bm25": {}},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Upsert(ctx, []Point{
		{ID: NumID(1), Vectors: map[string][]float32{"image": {1, 0}, "text": {0, 0, 1}}, Sparse: map[string]SparseVector{"bm25": {Indices: []uint32{3, 9}, Values: []float32{0.5, 1}}}},
		{ID: NumID(2), Vectors: map[string][]float32{"image": {0, 1}}},
		{ID: NumID(3), Vectors: map[string][]float32{"text": {0, 0, 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Search(ctx, SearchRequest{Vector: []float32{1, 0}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("search without using on a multi-vector collection: %v", err)
	}
	if err := c.Upsert(ctx, []Point{{ID: NumID(9), Sparse: map[string]SparseVector{"bm25": {Indices: []uint32{1, 1}, Values: []float32{1, 2}}}}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("duplicate sparse index: %v", err)
	}
	for pass := 0; pass < 2; pass++ {
		hits, err := c.Search(ctx, SearchRequest{Vector: []float32{0, 0, 1.5}, Using: "text", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 2 { // point 2 has no text vector
			t.Fatalf("pass %d: hits %v", pass, hits)
		}
		recs, _ := c.Get(ctx, []PointID{NumID(1), NumID(2)}, GetOptions{WithVectors: VectorSelector{Names: []string{"image", "bm25"}}})
		if len(recs) != 2 || recs[0].Vectors["text"] != nil || !slices.Equal(recs[0].Vectors["image"], []float32{1, 0}) ||
			!slices.Equal(recs[0].Sparse["bm25"].Indices, []uint32{3, 9}) || recs[1].Sparse != nil {
			t.Fatalf("pass %d: get %+v", pass, recs)
		}
		_ = c.Optimize(ctx)
	}
	if err := c.DeleteVectors(ctx, IDs(NumID(1)), []string{"text"}); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateVectors(ctx, []PointVectors{{ID: NumID(2), Vectors: map[string][]float32{"text": {9, 9, 9}}}}); err != nil {
		t.Fatal(err)
	}
	recs, _ := c.Get(ctx, []PointID{NumID(1), NumID(2)}, GetOptions{WithVectors: AllVectors})
	if recs[0].Vectors["text"] != nil || !slices.Equal(recs[0].Vectors["image"], []float32{1, 0}) ||
		!slices.Equal(recs[1].Vectors["text"], []float32{9, 9, 9}) || !slices.Equal(recs[1].Vectors["image"], []float32{0, 1}) {
		t.Fatalf("after vector updates: %+v", recs)
	}
	if err := c.UpdateVectors(ctx, []PointVectors{{ID: NumID(77), Vectors: map[string][]float32{"text": {1, 1, 1}}}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update vectors of a missing point: %v", err)
	}
}

func TestPayloadOperations(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	c, _ := db.CreateCollection(ctx, "p", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 2, Distance: Dot}}, Optimizers: OptimizersConfig{Interval: -1}})
	get := func(id uint64, sel PayloadSelector) string {
		t.Helper()
		recs, err := c.Get(ctx, []PointID{NumID(id)}, GetOptions{WithPayload: sel})
		if err != nil || len(recs) != 1 {
			t.Fatalf("get %d: %v %v", id, recs, err)
		}
		b, _ := json.Marshal(recs[0].Payload)
		return string(b)
	}
	for _, sealed := range []bool{false, true} {
		err := c.Upsert(ctx, []Point{
			{ID: NumID(1), Vector: []float32{1, 0}, Payload: Payload{"a": 1, "b": map[string]any{"c": 2, "d": 3}, "tags": []any{"x", "y"}}},
			{ID: NumID(2), Vector: []float32{0, 1}, Payload: Payload{"a": 2}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if sealed {
			if err := c.Optimize(ctx); err != nil {
				t.Fatal(err)
			}
		}
		f := func(got, want string) {
			t.Helper()
			if got != want {
				t.Fatalf("sealed=%v: got %s, want %s", sealed, got, want)
			}
		}
		f(get(1, AllPayload), `{"a":1,"b":{"c":2,"d":3},"tags":["x","y"]}`)
		f(get(1, PayloadKeys("b.c", "a")), `{"a":1,"b":{"c":2}}`)
		f(get(1, PayloadSelector{All: true, Exclude: []string{"b.d", "tags"}}), `{"a":1,"b":{"c":2}}`)
		f(get(1, PayloadSelector{}), `null`)
		if err := c.SetPayload(ctx, IDs(NumID(1)), Payload{"a": 10, "z": true}); err != nil {
			t.Fatal(err)
		}
		f(get(1, AllPayload), `{"a":10,"b":{"c":2,"d":3},"tags":["x","y"],"z":true}`)
		if err := c.SetPayloadAt(ctx, IDs(NumID(1)), "b.e", Payload{"f": "g"}); err != nil {
			t.Fatal(err)
		}
		f(get(1, AllPayload), `{"a":10,"b":{"c":2,"d":3,"e":{"f":"g"}},"tags":["x","y"],"z":true}`)
		if err := c.DeletePayload(ctx, IDs(NumID(1)), []string{"b.c", "tags", "nope"}); err != nil {
			t.Fatal(err)
		}
		f(get(1, AllPayload), `{"a":10,"b":{"d":3,"e":{"f":"g"}},"z":true}`)
		if err := c.OverwritePayload(ctx, IDs(NumID(1)), Payload{"only": "this"}); err != nil {
			t.Fatal(err)
		}
		f(get(1, AllPayload), `{"only":"this"}`)
		if err := c.ClearPayload(ctx, IDs(NumID(1))); err != nil {
			t.Fatal(err)
		}
		f(get(1, AllPayload), `{}`)
		// By filter.
		if err := c.SetPayload(ctx, Where(&Filter{Must: []Condition{MatchValue("a", 2)}}), Payload{"hit": 1}); err != nil {
			t.Fatal(err)
		}
		f(get(2, AllPayload), `{"a":2,"hit":1}`)
		// Vectors survive payload updates.
		recs, _ := c.Get(ctx, []PointID{NumID(2)}, GetOptions{WithVectors: AllVectors})
		if !slices.Equal(recs[0].Vector, []float32{0, 1}) {
			t.Fatalf("vector lost by a payload update: %v", recs[0].Vector)
		}
		if err := c.Delete(ctx, Where(&Filter{Must: []Condition{MatchValue("hit", 1)}})); err != nil {
			t.Fatal(err)
		}
		if n, _ := c.Count(ctx, nil); n != 1 {
			t.Fatalf("after delete by filter: %d points", n)
		}
		if err := c.Delete(ctx, Where(&Filter{Must: []Condition{MatchValue("hit", 1)}})); err != nil {
			t.Fatalf("delete by a filter matching nothing: %v", err)
		}
	}
	if err := c.Delete(ctx, Selector{IDs: []PointID{NumID(1)}, Filter: &Filter{}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("ids and filter together: %v", err)
	}
	if err := c.Delete(ctx, Where(&Filter{Must: []Condition{{Key: "a"}}})); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("malformed filter: %v", err)
	}
}

func TestScrollPaginationAndUUIDs(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	c, _ := db.CreateCollection(ctx, "s", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 2, Distance: Dot}}, Optimizers: OptimizersConfig{Interval: -1}})
	var want []PointID
	r := rand.New(rand.NewPCG(3, 3))
	for round := 0; round < 3; round++ {
		var pts []Point
		for i := 0; i < 40; i++ {
			var id PointID
			if i%3 == 0 {
				id, _ = ParseUUID(fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), r.Uint64()&0xffffffffffff))
			} else {
				id = NumID(uint64(r.IntN(1000)))
			}
			if !slices.Contains(want, id) {
				want = append(want, id)
			}
			pts = append(pts, Point{ID: id, Vector: []float32{1, 1}, Payload: Payload{"round": round}})
		}
		if err := c.Upsert(ctx, pts); err != nil {
			t.Fatal(err)
		}
		if round < 2 {
			_ = c.Optimize(ctx)
		}
	}
	slices.SortFunc(want, func(a, b PointID) int { return a.Compare(b) })
	var got []PointID
	var cursor *PointID
	for pages := 0; ; pages++ {
		res, err := c.Scroll(ctx, ScrollRequest{Limit: 7, Offset: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Points {
			got = append(got, p.ID)
		}
		if res.NextOffset == nil {
			break
		}
		cursor = res.NextOffset
		if pages > 100 {
			t.Fatal("scroll does not end")
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("scroll visited %d ids, want %d, in id order (numeric before UUID)", len(got), len(want))
	}
	if !got[len(got)-1].IsUUID() || got[0].IsUUID() {
		t.Fatal("numeric ids must come before UUIDs")
	}
	u := want[len(want)-1]
	back, err := ParsePointID(u.String())
	if err != nil || back != u {
		t.Fatalf("uuid round trip %v -> %v (%v)", u, back, err)
	}
	res, _ := c.Scroll(ctx, ScrollRequest{Limit: 1000, Filter: &Filter{Must: []Condition{MatchValue("round", 2)}}})
	for _, p := range res.Points {
		recs, _ := c.Get(ctx, []PointID{p.ID}, GetOptions{WithPayload: AllPayload})
		if recs[0].Payload["round"].(json.Number).String() != "2" {
			t.Fatalf("filtered scroll returned %+v", recs[0])
		}
	}
}

func TestSearchBatchMatchesSingle(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	c, _ := db.CreateCollection(ctx, "b", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 24, Distance: Euclid}}, Optimizers: OptimizersConfig{FlushThreshold: 5000, Interval: -1}})
	r := rand.New(rand.NewPCG(8, 8))
	for b := 0; b < 8; b++ {
		var pts []Point
		for i := 0; i < 5000; i++ {
			pts = append(pts, Point{ID: NumID(uint64(b*5000 + i)), Vector: vec(r, 24), Payload: Payload{"odd": i % 2}})
		}
		if err := c.Upsert(ctx, pts); err != nil {
			t.Fatal(err)
		}
		if b%3 == 0 {
			_ = c.Optimize(ctx)
		}
	}
	var reqs []SearchRequest
	for i := 0; i < 20; i++ {
		req := SearchRequest{Vector: vec(r, 24), Limit: 5 + i}
		if i%2 == 1 {
			req.Filter = &Filter{Must: []Condition{MatchValue("odd", 1)}}
		}
		reqs = append(reqs, req)
	}
	batch, err := c.SearchBatch(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, req := range reqs {
		single, _ := c.Search(ctx, req)
		if !reflect.DeepEqual(single, batch[i]) || len(single) != req.Limit {
			t.Fatalf("query %d: batch and single results differ", i)
		}
	}
}

func TestDeleteCollectionAndLock(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	if _, err := Open(dir, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	c, _ := db.CreateCollection(ctx, "gone", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 2, Distance: Dot}}})
	_ = c.Upsert(ctx, pointsRange2(10))
	if err := db.DeleteCollection(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Count(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("handle after delete: %v", err)
	}
	if err := db.DeleteCollection(ctx, "gone"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	c, err := db.CreateCollection(ctx, "gone", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 2, Distance: Dot}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Count(ctx, nil); n != 0 {
		t.Fatalf("recreated collection has %d points", n)
	}
	_ = db.Close()
	if _, err := c.Count(ctx, nil); err == nil {
		t.Fatal("reads after Close must fail")
	}
	db = mustOpen(t, dir)
	defer db.Close()
	names, _ := db.ListCollections(ctx)
	if !slices.Equal(names, []string{"gone"}) {
		t.Fatalf("collections: %v", names)
	}
}

func pointsRange2(n int) []Point {
	var pts []Point
	for i := 0; i < n; i++ {
		pts = append(pts, Point{ID: NumID(uint64(i)), Vector: []float32{float32(i), 1}})
	}
	return pts
}

// Readers run while writers upsert and delete and the optimizer seals,
// merges and vacuums in the background; the race detector watches, and
// every read must be internally consistent.
func TestConcurrentReadersWritersOptimizer(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	c, _ := db.CreateCollection(ctx, "cc", CollectionConfig{
		Vectors:    map[string]VectorParams{"": {Size: 8, Distance: Cosine}},
		Optimizers: OptimizersConfig{FlushThreshold: 300, MaxSegments: 2, VacuumMinPoints: 100, Interval: 5 * time.Millisecond},
	})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 16)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 9))
			for i := 0; i < 60; i++ {
				var pts []Point
				for j := 0; j < 50; j++ {
					pts = append(pts, Point{ID: NumID(uint64(w*10000 + r.IntN(2000))), Vector: vec(r, 8), Payload: Payload{"w": w}})
				}
				if err := c.Upsert(ctx, pts); err != nil {
					errs <- err
					return
				}
				if i%5 == 4 {
					if err := c.Delete(ctx, IDs(NumID(uint64(w*10000+r.IntN(2000))))); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	var rg sync.WaitGroup
	for rdr := 0; rdr < 2; rdr++ {
		rg.Add(1)
		go func() {
			defer rg.Done()
			r := rand.New(rand.NewPCG(uint64(rdr), 10))
			for {
				select {
				case <-stop:
					return
				default:
				}
				hits, err := c.Search(ctx, SearchRequest{Vector: vec(r, 8), Limit: 20, WithPayload: AllPayload, WithVectors: AllVectors})
				if err != nil {
					errs <- err
					return
				}
				for i := 1; i < len(hits); i++ {
					if hits[i].Score > hits[i-1].Score || len(hits[i].Vector) != 8 {
						errs <- fmt.Errorf("inconsistent hits: %v", hits[i])
						return
					}
				}
				res, err := c.Scroll(ctx, ScrollRequest{Limit: 500})
				if err != nil {
					errs <- err
					return
				}
				for i := 1; i < len(res.Points); i++ {
					if res.Points[i-1].ID.Compare(res.Points[i].ID) >= 0 {
						errs <- fmt.Errorf("scroll out of order or duplicated: %v, %v", res.Points[i-1].ID, res.Points[i].ID)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Final consistency: count equals the number of distinct live ids.
	res, _ := c.Scroll(ctx, ScrollRequest{Limit: MaxSearchLimit})
	n, _ := c.Count(ctx, nil)
	info, _ := c.Info(ctx)
	if n != len(res.Points) || info.PointsCount != n {
		t.Fatalf("count %d, scroll %d, info %d", n, len(res.Points), info.PointsCount)
	}
}

// The unnamed vector is required by Upsert, so it cannot be deleted: the
// request is refused and the point keeps its vector.
func TestDeleteUnnamedVectorRefused(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	c, err := db.CreateCollection(ctx, "u", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 2, Distance: Dot}}, Optimizers: OptimizersConfig{Interval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, []Point{{ID: NumID(1), Vector: []float32{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	err = c.DeleteVectors(ctx, IDs(NumID(1)), []string{""})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "unnamed vector cannot be deleted") {
		t.Fatalf("delete the unnamed vector: %v", err)
	}
	recs, err := c.Get(ctx, []PointID{NumID(1)}, GetOptions{WithVectors: AllVectors})
	if err != nil || len(recs) != 1 || !slices.Equal(recs[0].Vector, []float32{1, 2}) {
		t.Fatalf("point after the refused delete: %+v %v", recs, err)
	}
}
