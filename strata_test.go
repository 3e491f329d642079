package strata

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

var ctx = context.Background()

func mustOpen(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func vec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// brute computes the expected top-k ids by exact scoring in float64.
func brute(points map[uint64][]float32, q []float32, d Distance, k int) []uint64 {
	type s struct {
		id    uint64
		score float64
	}
	var all []s
	qn := norm(q)
	for id, v := range points {
		var sc float64
		switch d {
		case Cosine:
			sc = dot(v, q) / (norm(v) * qn)
		case Dot:
			sc = dot(v, q)
		case Euclid:
			for i := range v {
				x := float64(v[i] - q[i])
				sc -= x * x
			}
		case Manhattan:
			for i := range v {
				sc -= math.Abs(float64(v[i] - q[i]))
			}
		}
		all = append(all, s{id, sc})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].score > all[j].score })
	var ids []uint64
	for i := 0; i < k && i < len(all); i++ {
		ids = append(ids, all[i].id)
	}
	return ids
}

func dot(a, b []float32) (s float64) {
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}
func norm(a []float32) float64 { return math.Sqrt(dot(a, a)) }

func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	r := rand.New(rand.NewPCG(1, 1))
	const dim, n = 16, 3000
	for _, d := range []Distance{Cosine, Dot, Euclid, Manhattan} {
		name := "c-" + d.String()
		c, err := db.CreateCollection(ctx, name, CollectionConfig{
			Vectors:    map[string]VectorParams{"": {Size: dim, Distance: d}},
			Optimizers: OptimizersConfig{FlushThreshold: 1000, Interval: -1},
		})
		if err != nil {
			t.Fatal(err)
		}
		pts := map[uint64][]float32{}
		var batch []Point
		for i := 0; i < n; i++ {
			v := vec(r, dim)
			pts[uint64(i)] = v
			batch = append(batch, Point{ID: NumID(uint64(i)), Vector: v, Payload: Payload{"i": i, "even": i%2 == 0}})
			if len(batch) == 500 {
				if err := c.Upsert(ctx, batch); err != nil {
					t.Fatal(err)
				}
				batch = nil
				if i == 1499 {
					if err := c.Optimize(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for trial := 0; trial < 5; trial++ {
			q := vec(r, dim)
			hits, err := c.Search(ctx, SearchRequest{Vector: q, Limit: 10, WithPayload: AllPayload})
			if err != nil {
				t.Fatal(err)
			}
			want := brute(pts, q, d, 10)
			var got []uint64
			for _, h := range hits {
				got = append(got, h.ID.Num())
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %v want %v", d, got, want)
			}
			if hits[0].Payload["i"].(json.Number).String() == "" {
				t.Fatal("payload missing")
			}
		}
		if cnt, _ := c.Count(ctx, nil); cnt != n {
			t.Fatalf("count = %d", cnt)
		}
		even, _ := c.Count(ctx, &Filter{Must: []Condition{MatchValue("even", true)}})
		if even != n/2 {
			t.Fatalf("even count = %d", even)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir)
	defer db.Close()
	names, _ := db.ListCollections(ctx)
	if len(names) != 4 {
		t.Fatalf("collections after reopen: %v", names)
	}
	c, _ := db.Collection("c-Euclid")
	if cnt, _ := c.Count(ctx, nil); cnt != n {
		t.Fatalf("count after reopen = %d", cnt)
	}
	info, _ := c.Info(ctx)
	t.Logf("info: %+v", info)
}

func TestBadInput(t *testing.T) {
	db := mustOpen(t, t.TempDir())
	defer db.Close()
	for _, name := range []string{"", "a/b", "..", "a..b", ".hidden", "x\x01", strings.Repeat("a", 256), `a\b`} {
		_, err := db.CreateCollection(ctx, name, CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 3, Distance: Dot}}})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("name %q: got %v", name, err)
		}
	}
	c, err := db.CreateCollection(ctx, "ok", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 3, Distance: Dot}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateCollection(ctx, "ok", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 3, Distance: Dot}}}); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	good := Point{ID: NumID(1), Vector: []float32{1, 2, 3}}
	cases := []struct {
		pts  []Point
		want error
	}{
		{nil, ErrInvalidArgument},
		{[]Point{good, {ID: NumID(2), Vector: []float32{1, 2}}}, ErrDimensionMismatch},
		{[]Point{good, {ID: NumID(2), Vector: []float32{1, float32(math.NaN()), 3}}}, ErrInvalidArgument},
		{[]Point{good, {ID: NumID(2), Vector: []float32{1, float32(math.Inf(1)), 3}}}, ErrInvalidArgument},
		{[]Point{good, {ID: NumID(2)}}, ErrInvalidArgument},
		{[]Point{good, {ID: NumID(2), Vector: []float32{1, 2, 3}, Payload: Payload{"x": math.NaN()}}}, ErrInvalidArgument},
		{[]Point{good, {ID: NumID(2), Vectors: map[string][]float32{"nope": {1, 2, 3}}}}, ErrInvalidArgument},
	}
	for i, tc := range cases {
		if err := c.Upsert(ctx, tc.pts); !errors.Is(err, tc.want) {
			t.Errorf("case %d: got %v, want %v", i, err, tc.want)
		}
	}
	if n, _ := c.Count(ctx, nil); n != 0 {
		t.Fatalf("a rejected batch changed the collection: %d points", n)
	}
	if _, err := ParseUUID("not-a-uuid"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("uuid: %v", err)
	}
	if _, err := db.Collection("missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := c.SetPayload(ctx, IDs(NumID(42)), Payload{"a": 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("set payload on missing point: %v", err)
	}
}
