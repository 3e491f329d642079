package filter

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
)

// genPayload returns a random payload over a small vocabulary, so that
// random conditions match some points and miss others.
func genPayload(r *rand.Rand) string {
	doc := map[string]any{}
	pick := func(vs ...any) any { return vs[r.IntN(len(vs))] }
	if r.IntN(5) > 0 {
		doc["a"] = pick(0, 1, 2, 3, 4, 2.5, "1", nil, true)
	}
	if r.IntN(5) > 0 {
		doc["b"] = pick("x", "y", "zeta", "zorro", []any{"x", "y"}, []any{}, 1)
	}
	if r.IntN(4) > 0 {
		var c []any
		for range r.IntN(4) {
			c = append(c, r.IntN(6))
		}
		doc["c"] = c
	}
	if r.IntN(3) > 0 {
		var d []any
		for range r.IntN(3) {
			d = append(d, map[string]any{"x": r.IntN(3), "y": pick("p", "q")})
		}
		doc["d"] = d
	}
	if r.IntN(3) > 0 {
		doc["t"] = pick("the quick brown fox", "Quick brown dogs", "lazy fox", "brown", "")
	}
	if r.IntN(3) > 0 {
		doc["g"] = map[string]any{"lon": r.Float64()*20 - 10, "lat": r.Float64()*20 - 10}
	}
	if r.IntN(3) > 0 {
		doc["dt"] = fmt.Sprintf("2023-01-%02dT%02d:00:00Z", 1+r.IntN(5), r.IntN(24))
	}
	if r.IntN(2) > 0 {
		doc["n"] = pick(nil, []any{}, []any{nil}, 0, "")
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// genCondition returns a random valid condition; inNested restricts it to
// what a nested filter may hold.
func genCondition(r *rand.Rand, depth int, inNested bool) Condition {
	if inNested {
		switch r.IntN(4) {
		case 0:
			return kv("x", r.IntN(3))
		case 1:
			return kv("y", []string{"p", "q"}[r.IntN(2)])
		case 2:
			return rng("x", fptr(float64(r.IntN(3))-0.5), nil, nil, nil)
		default:
			return Condition{Key: "x", IsEmpty: true}
		}
	}
	n := 17
	if depth >= 3 {
		n = 14 // no more recursion
	}
	switch r.IntN(n) {
	case 0:
		return kv("a", r.IntN(5))
	case 1:
		return kv("b", []string{"x", "y", "zeta"}[r.IntN(3)])
	case 2:
		return anyOf("c", r.IntN(6), r.IntN(6))
	case 3:
		return except("b", "x")
	case 4:
		return rng("a", nil, fptr(float64(r.IntN(4))), nil, fptr(float64(r.IntN(5))))
	case 5:
		return Condition{Key: "c", ValuesCount: &ValuesCount{GTE: iptr(r.IntN(3))}}
	case 6:
		return Condition{Key: "n", IsEmpty: true}
	case 7:
		return Condition{Key: "n", IsNull: true}
	case 8:
		return Condition{Key: "t", Match: &Match{Text: []string{"quick", "brown fox", "lazy"}[r.IntN(3)]}}
	case 9:
		return Condition{Key: "b", Match: &Match{Prefix: "z"}}
	case 10:
		return Condition{Key: "g", GeoRadius: &GeoRadius{Center: GeoPoint{0, 0}, Radius: float64(r.IntN(1000)) * 1000}}
	case 11:
		return Condition{Key: "dt", DatetimeRange: &DatetimeRange{GTE: tptr(fmt.Sprintf("2023-01-%02d", 1+r.IntN(5)))}}
	case 12:
		ids := []base.PointID{}
		for range r.IntN(5) {
			ids = append(ids, base.NumID(uint64(r.IntN(60))))
		}
		return Condition{HasID: ids}
	case 13:
		return Condition{Key: "a", Match: &Match{Any: []any{1, 2, 3}}, Range: &Range{GT: fptr(1)}}
	case 14:
		return hasVector("v")
	case 15:
		f := Filter{}
		for range 1 + r.IntN(2) {
			f.Must = append(f.Must, genCondition(r, depth+1, true))
		}
		return nested("d", &f)
	default:
		return sub(genFilter(r, depth+1))
	}
}

func genFilter(r *rand.Rand, depth int) *Filter {
	f := &Filter{}
	list := func() []Condition {
		var cs []Condition
		for range r.IntN(3) {
			cs = append(cs, genCondition(r, depth, false))
		}
		return cs
	}
	f.Must, f.Should, f.MustNot = list(), list(), list()
	if r.IntN(4) == 0 {
		f.MinShould = &MinShould{Conditions: list(), MinCount: 1 + r.IntN(2)}
	}
	return f
}

// TestPlanRandom checks the planner against the scan evaluator on random
// segments, filters and index configurations.
func TestPlanRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ctx := &Context{Fields: map[string]FieldSchema{"t": {Type: TypeText}}, Vectors: []string{"v"}}
	keys := []string{"a", "b", "c", "n", "t", "g", "dt"}
	iters := 600
	if testing.Short() {
		iters = 100
	}
	exacts, cands := 0, 0
	for it := range iters {
		n := r.IntN(60)
		payloads := make([]string, n)
		for i := range payloads {
			payloads[i] = genPayload(r)
		}
		fs := newSource(t, payloads...)
		fs.vectors["v"] = make([]bool, n)
		for i := range n {
			fs.vectors["v"][i] = r.IntN(2) == 0
		}
		var src Source = fs
		if r.IntN(2) == 0 {
			src = offsetSource{fs}
		}
		fs.indexes = map[string]FieldIndex{}
		allIndexed := r.IntN(2) == 0
		for _, k := range keys {
			if !allIndexed && r.IntN(3) == 0 {
				continue
			}
			bi := &bruteIndex{t: t, src: src, ctx: ctx, rng: r, extra: r.IntN(3) == 0, decline: map[string]bool{}}
			if !allIndexed {
				for _, d := range []string{"estimate", "bitmap", "checker"} {
					bi.decline[d] = r.IntN(5) == 0
				}
			}
			fs.indexes[k] = bi
		}
		f := genFilter(r, 0)
		m, err := Compile(f, ctx)
		if err != nil {
			b, _ := json.Marshal(f)
			t.Fatalf("iteration %d: compile %s: %v", it, b, err)
		}
		want := roaring.New()
		for off := range n {
			if m.Match(src, uint32(off)) {
				want.Add(uint32(off))
			}
		}
		maxCand := []int{0, n / 4, n, 1000}[r.IntN(4)]
		p := m.Plan(src, maxCand)
		fail := func(format string, args ...any) {
			t.Helper()
			b, _ := json.Marshal(f)
			t.Fatalf("iteration %d, filter %s, n %d, maxCandidates %d: %s", it, b, n, maxCand, fmt.Sprintf(format, args...))
		}
		for off := range n {
			if got := p.Check(uint32(off)); got != want.Contains(uint32(off)) {
				fail("Check(%d) = %v, Match %v", off, got, !got)
			}
		}
		c := int(want.GetCardinality())
		if p.Card.Min > c || p.Card.Max < c || p.Card.Exp < p.Card.Min || p.Card.Exp > p.Card.Max || p.Card.Max > n {
			fail("card %+v, true count %d", p.Card, c)
		}
		if p.Candidates != nil {
			cands++
			if !p.Candidates.IsEmpty() && int(p.Candidates.Maximum()) >= n {
				fail("candidate %d beyond the segment", p.Candidates.Maximum())
			}
			if !roaring.AndNot(want, p.Candidates).IsEmpty() {
				fail("candidates %v miss matches %v", p.Candidates.ToArray(), want.ToArray())
			}
		}
		if p.Exact {
			exacts++
			if p.Candidates == nil || !p.Candidates.Equals(want) {
				fail("exact candidates %v, matches %v", p.Candidates, want.ToArray())
			}
			if p.Card != (Cardinality{c, c, c}) {
				fail("exact card %+v, count %d", p.Card, c)
			}
		}
	}
	t.Logf("%d plans: %d with candidates, %d exact", iters, cands, exacts)
	if exacts == 0 || cands == exacts {
		t.Fatalf("the random plans did not exercise both candidate paths (%d, %d)", cands, exacts)
	}
}

// indexedSource is a source whose every key has a brute-force index.
func indexedSource(t *testing.T, ctx *Context, payloads ...string) *fakeSource {
	fs := newSource(t, payloads...)
	fs.indexes = map[string]FieldIndex{}
	for _, k := range []string{"a", "b", "c"} {
		fs.indexes[k] = &exactIndex{bruteIndex{t: t, src: fs, ctx: ctx}}
	}
	return fs
}

// exactIndex is a bruteIndex with exact estimates.
type exactIndex struct{ bruteIndex }

func (e *exactIndex) Estimate(c *Condition) (Cardinality, bool) {
	k := int(e.eval(c).GetCardinality())
	return Cardinality{k, k, k}, true
}

func TestPlanChoices(t *testing.T) {
	payloads := make([]string, 100)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"a":%d,"b":"%c","c":%d,"p":%d}`, i%10, 'a'+i%3, i, i%2)
	}
	fs := indexedSource(t, nil, payloads...)
	bits := func(p *Plan) []uint32 {
		if p.Candidates == nil {
			return nil
		}
		return p.Candidates.ToArray()
	}
	for _, tc := range []struct {
		name    string
		f       *Filter
		max     int
		exact   bool
		cands   []uint32 // nil: no candidates
		card    Cardinality
		matches int
	}{
		{"indexed, exact", must(kv("a", 3), kv("b", "a")), 100, true, []uint32{3, 33, 63, 93}, Cardinality{4, 4, 4}, 4},
		{"indexed, too many", must(kv("a", 3), kv("b", "a")), 5, false, nil, Cardinality{0, 3, 10}, 4},
		{"unindexed leaf: smallest must leaf", must(kv("p", 1), kv("a", 3), kv("b", "a")), 50, false, []uint32{3, 13, 23, 33, 43, 53, 63, 73, 83, 93}, Cardinality{0, 2, 10}, 4},
		{"must_not exact", mustNot(rng("c", nil, fptr(3), nil, nil)), 100, true, []uint32{0, 1, 2}, Cardinality{3, 3, 3}, 3},
		{"should union", &Filter{Should: []Condition{kv("c", 5), kv("c", 7)}, Must: []Condition{kv("p", 1)}}, 10, false, []uint32{5, 7}, Cardinality{0, 1, 2}, 2},
		{"should with unindexed kid", should(kv("c", 5), kv("p", 1)), 100, false, nil, Cardinality{1, 51, 100}, 50},
		{"no bound below max", must(kv("p", 1), rng("c", nil, fptr(10), nil, nil)), 20, false, nil, Cardinality{0, 45, 90}, 45},
		{"min_should exact", &Filter{MinShould: &MinShould{Conditions: []Condition{kv("a", 1), kv("b", "b"), rng("c", nil, nil, fptr(50), nil)}, MinCount: 3}}, 100, true, []uint32{1, 31}, Cardinality{2, 2, 2}, 2},
		{"min_should bound", &Filter{Must: []Condition{kv("p", 1)}, MinShould: &MinShould{Conditions: []Condition{kv("a", 1), kv("a", 2), kv("b", "b")}, MinCount: 2}}, 40, false, []uint32{1, 2, 11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 61, 62, 71, 72, 81, 82, 91, 92}, Cardinality{0, 4, 20}, 4},
		{"has_id without offsets", must(hasID(3, 4, 500)), 100, false, nil, Cardinality{0, 3, 3}, 2},
		{"empty filter", &Filter{}, 100, true, seq(100), Cardinality{100, 100, 100}, 100},
		{"empty filter, big", &Filter{}, 99, false, nil, Cardinality{100, 100, 100}, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Compile(tc.f, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := m.Plan(fs, tc.max)
			if p.Exact != tc.exact || !slices.Equal(bits(p), tc.cands) || p.Card != tc.card {
				t.Fatalf("plan: exact %v, candidates %v, card %+v;\nwant exact %v, candidates %v, card %+v", p.Exact, bits(p), p.Card, tc.exact, tc.cands, tc.card)
			}
			n := 0
			for off := range uint32(100) {
				if p.Check(off) {
					n++
				}
				if p.Check(off) != m.Match(fs, off) {
					t.Fatalf("Check(%d) disagrees with Match", off)
				}
			}
			if n != tc.matches {
				t.Fatalf("%d matches, want %d", n, tc.matches)
			}
		})
	}
	// has_id on an OffsetSource is an exact bitmap.
	m, _ := Compile(must(hasID(3, 4, 500), kv("a", 4)), nil)
	p := m.Plan(offsetSource{fs}, 100)
	if !p.Exact || !slices.Equal(bits(p), []uint32{4}) {
		t.Fatalf("has_id on an OffsetSource: exact %v, %v", p.Exact, bits(p))
	}
	// A nil matcher plans everything.
	p = (*Matcher)(nil).Plan(fs, 100)
	if p.Candidates != nil || !p.Check(5) || p.Card != (Cardinality{100, 100, 100}) {
		t.Fatalf("nil matcher: %+v", p)
	}
}

func seq(n int) []uint32 {
	s := make([]uint32, n)
	for i := range s {
		s[i] = uint32(i)
	}
	return s
}

// countingSource counts payload reads.
type countingSource struct {
	*fakeSource
	reads int
}

func (c *countingSource) Payload(off uint32) []byte { c.reads++; return c.fakeSource.Payload(off) }

func TestCheckCosts(t *testing.T) {
	fs := indexedSource(t, nil, `{"a":1,"b":"x","c":5,"p":1,"q":2,"d":[{"x":1},{"x":2}]}`, `{"a":2}`)
	// Every leaf indexed: Check reads no payload and allocates nothing.
	m, err := Compile(&Filter{Must: []Condition{kv("a", 1), sub(should(kv("b", "x"), kv("c", 9)))}, MustNot: []Condition{kv("c", 6)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingSource{fakeSource: fs}
	p := m.Plan(cs, -1) // no candidates: the checker path
	if p.Candidates != nil || p.Exact {
		t.Fatal("want no candidates")
	}
	if !p.Check(0) || p.Check(1) || cs.reads != 0 {
		t.Fatalf("check: reads %d", cs.reads)
	}
	if a := testing.AllocsPerRun(100, func() { p.Check(0); p.Check(1) }); a != 0 {
		t.Fatalf("Check allocates %v times per run", a)
	}
	// Payload leaves: the payload is read once per call, and index leaves
	// run first (offset 1 fails on a without reading it).
	m, err = Compile(must(kv("a", 1), kv("p", 1), kv("q", 2), nested("d", must(kv("x", 2)))), nil)
	if err != nil {
		t.Fatal(err)
	}
	p = m.Plan(cs, -1)
	if !p.Check(0) || cs.reads != 1 {
		t.Fatalf("reads %d, want 1", cs.reads)
	}
	if p.Check(1) || cs.reads != 1 {
		t.Fatalf("reads %d after an index miss, want 1", cs.reads)
	}
	if !m.Match(cs, 0) || cs.reads != 2 {
		t.Fatalf("Match reads %d, want 2", cs.reads)
	}
}

func TestPlanConcurrent(t *testing.T) {
	payloads := make([]string, 200)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"a":%d,"p":%d}`, i%10, i%3)
	}
	fs := indexedSource(t, nil, payloads...)
	m, err := Compile(should(kv("a", 1), kv("p", 2)), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Plan(fs, -1)
	done := make(chan int)
	for range 4 {
		go func() {
			n := 0
			for off := range uint32(200) {
				if p.Check(off) {
					n++
				}
			}
			done <- n
		}()
	}
	for range 4 {
		if n := <-done; n != 79 {
			t.Errorf("%d matches, want 79", n)
		}
	}
}

func TestCardinality(t *testing.T) {
	const n = 100
	c := func(mn, e, mx int) Cardinality { return Cardinality{mn, e, mx} }
	for _, tc := range []struct {
		name string
		got  Cardinality
		want Cardinality
	}{
		{"and", cardAnd([]Cardinality{c(60, 70, 80), c(50, 50, 50)}, n), c(10, 35, 50)},
		{"and none", cardAnd(nil, n), c(100, 100, 100)},
		{"or", cardOr([]Cardinality{c(10, 20, 30), c(5, 50, 90)}, n), c(10, 60, 100)},
		{"not", cardNot(c(10, 20, 30), n), c(70, 80, 90)},
		{"at least 1 is or", cardAtLeast(1, []Cardinality{c(10, 20, 30), c(5, 50, 90)}, n), c(10, 60, 100)},
		{"at least all is and", cardAtLeast(2, []Cardinality{c(60, 70, 80), c(50, 50, 50)}, n), c(10, 35, 50)},
		{"at least 2 of 3", cardAtLeast(2, []Cardinality{c(90, 90, 90), c(90, 90, 90), c(0, 10, 10)}, n), c(80, 83, 95)},
		{"at least too many", cardAtLeast(3, []Cardinality{c(1, 1, 1)}, n), c(0, 0, 0)},
		{"clamp", clampCard(c(-5, 500, 200), n), c(0, 100, 100)},
		{"empty segment", cardAnd([]Cardinality{c(0, 0, 0)}, 0), c(0, 0, 0)},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
}
