package strata

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestRandomOpsAgainstOracle runs random writes against the engine and a
// plain map, with tiny segments so the optimizer seals, merges and vacuums
// throughout, reopening the database now and then, and checks every read
// path (get, scroll with and without filters, count, exact search with
// filters, offsets and thresholds) against brute force over the map.
func TestRandomOpsAgainstOracle(t *testing.T) {
	for _, d := range []Distance{Euclid, Cosine} {
		t.Run(d.String(), func(t *testing.T) { runOracle(t, d, 400) })
	}
}

type oraclePoint struct {
	vec     []float32
	color   string
	size    int64
	payload map[string]any
}

func runOracle(t *testing.T, d Distance, steps int) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	cfg := CollectionConfig{
		Vectors:    map[string]VectorParams{"": {Size: 6, Distance: d}},
		Optimizers: OptimizersConfig{FlushThreshold: 60, MaxSegments: 3, VacuumMinPoints: 20, Interval: -1},
	}
	c, err := db.CreateCollection(ctx, "o", cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(d), 99))
	model := map[uint64]*oraclePoint{}
	colors := []string{"red", "green", "blue"}
	randomFilter := func() *Filter {
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return &Filter{Must: []Condition{MatchValue("color", colors[r.IntN(3)])}}
		case 2:
			return &Filter{MustNot: []Condition{MatchValue("color", colors[r.IntN(3)])}, Should: []Condition{MatchValue("size", r.IntN(5)), MatchValue("size", r.IntN(5))}}
		default:
			var ids []PointID
			for i := 0; i < 30; i++ {
				ids = append(ids, NumID(uint64(r.IntN(300))))
			}
			return &Filter{Must: []Condition{HasID(ids...)}}
		}
	}
	matches := func(f *Filter, id uint64, p *oraclePoint) bool {
		if f == nil {
			return true
		}
		eval := func(cd Condition) bool {
			switch {
			case cd.HasID != nil:
				return slices.Contains(cd.HasID, NumID(id))
			case cd.Key == "color":
				return p.color == cd.Match.Value
			case cd.Key == "size":
				return p.size == int64(cd.Match.Value.(int))
			}
			panic("unexpected condition")
		}
		for _, cd := range f.Must {
			if !eval(cd) {
				return false
			}
		}
		for _, cd := range f.MustNot {
			if eval(cd) {
				return false
			}
		}
		if len(f.Should) == 0 {
			return true
		}
		for _, cd := range f.Should {
			if eval(cd) {
				return true
			}
		}
		return false
	}
	for step := 0; step < steps; step++ {
		switch op := r.IntN(10); {
		case op < 5:
			var pts []Point
			for i, n := 0, 1+r.IntN(25); i < n; i++ {
				id := uint64(r.IntN(300))
				p := &oraclePoint{vec: vec(r, 6), color: colors[r.IntN(3)], size: int64(r.IntN(5))}
				p.payload = map[string]any{"color": p.color, "size": p.size}
				model[id] = p
				pts = append(pts, Point{ID: NumID(id), Vector: p.vec, Payload: Payload{"color": p.color, "size": p.size}})
			}
			if err := c.Upsert(ctx, pts); err != nil {
				t.Fatal(err)
			}
		case op < 7:
			f := randomFilter()
			if f == nil {
				f = &Filter{}
			}
			if err := c.Delete(ctx, Where(f)); err != nil {
				t.Fatal(err)
			}
			for id, p := range model {
				if matches(f, id, p) {
					delete(model, id)
				}
			}
		case op < 8:
			f := randomFilter()
			if f == nil {
				continue
			}
			color := colors[r.IntN(3)]
			if err := c.SetPayload(ctx, Where(f), Payload{"color": color}); err != nil {
				t.Fatal(err)
			}
			for id, p := range model {
				if matches(f, id, p) {
					p.color = color
				}
			}
		case op < 9:
			if err := c.Optimize(ctx); err != nil {
				t.Fatal(err)
			}
		default:
			if r.IntN(4) == 0 {
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				db = mustOpen(t, dir)
				if c, err = db.Collection("o"); err != nil {
					t.Fatal(err)
				}
			}
		}
		checkOracle(t, fmt.Sprintf("step %d", step), c, d, model, randomFilter(), matches, r)
	}
	_ = db.Close()
}

func checkOracle(t *testing.T, where string, c *Collection, d Distance, model map[uint64]*oraclePoint, f *Filter,
	matches func(*Filter, uint64, *oraclePoint) bool, r *rand.Rand) {
	t.Helper()
	var want []uint64
	for id, p := range model {
		if matches(f, id, p) {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	n, err := c.Count(ctx, f)
	if err != nil || n != len(want) {
		t.Fatalf("%s: count %d (%v), want %d", where, n, err, len(want))
	}
	res, err := c.Scroll(ctx, ScrollRequest{Filter: f, Limit: 1000, WithPayload: AllPayload})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, p := range res.Points {
		got = append(got, p.ID.Num())
		m := model[p.ID.Num()]
		if p.Payload["color"] != m.color || p.Payload["size"].(json.Number).String() != fmt.Sprint(m.size) {
			t.Fatalf("%s: point %d payload %v, want color %s size %d", where, p.ID.Num(), p.Payload, m.color, m.size)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: scroll ids %v, want %v", where, got, want)
	}
	// Exact search with the same filter: the engine's top-k must be the
	// brute-force top-k (by score; ties may order either way).
	q := vec(r, 6)
	limit, offset := 1+r.IntN(12), r.IntN(3)
	hits, err := c.Search(ctx, SearchRequest{Vector: q, Filter: f, Limit: limit, Offset: offset})
	if err != nil {
		t.Fatal(err)
	}
	type sc struct {
		id    uint64
		score float64
	}
	var all []sc
	for _, id := range want {
		all = append(all, sc{id, score64(d, model[id].vec, q)})
	}
	better := func(a, b float64) bool {
		if d.HigherIsBetter() {
			return a > b
		}
		return a < b
	}
	sort.Slice(all, func(i, j int) bool { return better(all[i].score, all[j].score) })
	if offset > len(all) {
		offset = len(all)
	}
	all = all[offset:]
	if len(all) > limit {
		all = all[:limit]
	}
	if len(hits) != len(all) {
		t.Fatalf("%s: %d hits, want %d", where, len(hits), len(all))
	}
	for i := range hits {
		if math.Abs(float64(hits[i].Score)-all[i].score) > 1e-4 {
			t.Fatalf("%s: hit %d score %v (id %v), want %v (id %d)", where, i, hits[i].Score, hits[i].ID, all[i].score, all[i].id)
		}
		if !matches(f, hits[i].ID.Num(), model[hits[i].ID.Num()]) {
			t.Fatalf("%s: hit %v does not match the filter", where, hits[i].ID)
		}
	}
}

func score64(d Distance, v, q []float32) float64 {
	switch d {
	case Cosine:
		return dot(v, q) / (norm(v) * norm(q))
	case Dot:
		return dot(v, q)
	case Euclid:
		s := 0.0
		for i := range v {
			x := float64(v[i] - q[i])
			s += x * x
		}
		return math.Sqrt(s)
	}
	s := 0.0
	for i := range v {
		s += math.Abs(float64(v[i] - q[i]))
	}
	return s
}
