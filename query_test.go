package strata

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// --- helpers (prefixed q to keep clear of the package's other tests) ---

// qColl creates a collection with the given dense vectors (name → size,
// distance) in a fresh database.
func qColl(t *testing.T, vectors map[string]VectorParams, pts ...Point) (*DB, *Collection) {
	t.Helper()
	db := mustOpen(t, t.TempDir())
	t.Cleanup(func() { _ = db.Close() })
	c, err := db.CreateCollection(ctx, "q", CollectionConfig{Vectors: vectors})
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) > 0 {
		if err := c.Upsert(ctx, pts); err != nil {
			t.Fatal(err)
		}
	}
	return db, c
}

func qPoint(id uint64, v []float32, payload Payload) Point {
	return Point{ID: NumID(id), Vector: v, Payload: payload}
}

func qNamed(id uint64, vs map[string][]float32) Point {
	return Point{ID: NumID(id), Vectors: vs}
}

func qF32(f float32) *float32 { return &f }

type qHit struct {
	id    uint64
	score float64
}

// qCheck checks ids and scores (to 1e-5) of hits.
func qCheck(t *testing.T, what string, hits []ScoredPoint, want ...qHit) {
	t.Helper()
	var got []string
	for _, h := range hits {
		got = append(got, fmt.Sprintf("%s:%.5f", h.ID, h.Score))
	}
	if len(hits) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i, w := range want {
		if hits[i].ID != NumID(w.id) || math.Abs(float64(hits[i].Score)-w.score) > 1e-5 {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

// qMust(f())(t) returns f's result, failing t on f's error.
func qMust[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// qFusionColl: points 1..3 with 1-d Dot vectors "a" and "b"; a query [1]
// ranks by the value. a: 1→3, 2→2, 3→1; b: 2→5, 3→1, 1→0.
func qFusionColl(t *testing.T) *Collection {
	_, c := qColl(t, map[string]VectorParams{"a": {Size: 1, Distance: Dot}, "b": {Size: 1, Distance: Dot}},
		qNamed(1, map[string][]float32{"a": {3}, "b": {0}}),
		qNamed(2, map[string][]float32{"a": {2}, "b": {5}}),
		qNamed(3, map[string][]float32{"a": {1}, "b": {1}}),
	)
	return c
}

func qTwoPrefetches(limit int) []Prefetch {
	return []Prefetch{
		{Query: NearestVector([]float32{1}), Using: "a", Limit: limit},
		{Query: NearestVector([]float32{1}), Using: "b", Limit: limit},
	}
}

// TestQueryRRF checks reciprocal rank fusion against hand-computed scores.
// Ranks (zero-based): in a, 1→0, 2→1, 3→2; in b, 2→0, 3→1, 1→2.
func TestQueryRRF(t *testing.T) {
	c := qFusionColl(t)
	q := func(f *FusionQuery, limit int) []ScoredPoint {
		t.Helper()
		return qMust(c.Query(ctx, QueryRequest{Prefetch: qTwoPrefetches(3), Query: &Query{Fusion: f}, Limit: limit}))(t)
	}
	// k = 2: Σ 1/(2 + r). 1: 1/2 + 1/4; 2: 1/3 + 1/2; 3: 1/4 + 1/3.
	qCheck(t, "rrf", q(&FusionQuery{}, 10), qHit{2, 1.0/3 + 0.5}, qHit{1, 0.75}, qHit{3, 0.25 + 1.0/3})
	qCheck(t, "RRF()", qMust(c.Query(ctx, QueryRequest{Prefetch: qTwoPrefetches(3), Query: RRF()}))(t), qHit{2, 1.0/3 + 0.5}, qHit{1, 0.75}, qHit{3, 0.25 + 1.0/3})
	// k = 1: Σ 1/(1 + r). 1: 1 + 1/3; 2: 1/2 + 1; 3: 1/3 + 1/2.
	qCheck(t, "rrf k=1", q(&FusionQuery{Method: FusionRRF, K: 1}, 2), qHit{2, 1.5}, qHit{1, 4.0 / 3})
	// Weights 3 and 1, k = 2: 1/(k + (r+1)/w − 1). In a (w = 3): r=0 → 1/(4/3),
	// r=1 → 1/(5/3), r=2 → 1/2. In b: 1/2, 1/3, 1/4.
	// 1: 0.75 + 0.25 = 1; 2: 0.6 + 0.5 = 1.1; 3: 0.5 + 1/3.
	qCheck(t, "weighted rrf", q(&FusionQuery{Weights: []float32{3, 1}}, 10), qHit{2, 1.1}, qHit{1, 1}, qHit{3, 0.5 + 1.0/3})
	// Weight 0 silences b: only a's ranks count (1/2, 1/3, 1/4).
	qCheck(t, "rrf weight 0", q(&FusionQuery{Weights: []float32{1, 0}}, 10), qHit{1, 0.5}, qHit{2, 1.0 / 3}, qHit{3, 0.25})
	// A point found by one prefetch only gets its one term: with limit 1
	// per prefetch, 1 is a's best and 2 is b's.
	res := qMust(c.Query(ctx, QueryRequest{Prefetch: qTwoPrefetches(1), Query: RRF()}))(t)
	qCheck(t, "disjoint", res, qHit{1, 0.5}, qHit{2, 0.5})
	// Score threshold and offset apply to the fused scores.
	qCheck(t, "threshold", qMust(c.Query(ctx, QueryRequest{Prefetch: qTwoPrefetches(3), Query: RRF(), ScoreThreshold: qF32(0.7)}))(t), qHit{2, 1.0/3 + 0.5}, qHit{1, 0.75})
	qCheck(t, "offset", qMust(c.Query(ctx, QueryRequest{Prefetch: qTwoPrefetches(3), Query: RRF(), Offset: 1, Limit: 1}))(t), qHit{1, 0.75})
}

// TestQueryDBSF checks distribution-based score fusion against
// hand-computed scores. a's scores 3, 2, 1: mean 2, sample sd 1, so
// ŝ = (s + 1)/6: 1 → 2/3, 2 → 1/2, 3 → 1/3. b's scores 5 (2), 1 (3), 0 (1):
// mean 2, sample sd √((9+1+4)/2) = √7, so ŝ = (s − 2 + 3√7)/(6√7).
func TestQueryDBSF(t *testing.T) {
	c := qFusionColl(t)
	s7 := math.Sqrt(7)
	b := func(s float64) float64 { return (s - 2 + 3*s7) / (6 * s7) }
	res := qMust(c.Query(ctx, QueryRequest{Prefetch: qTwoPrefetches(3), Query: DBSF()}))(t)
	qCheck(t, "dbsf", res, qHit{2, 0.5 + b(5)}, qHit{1, 2.0/3 + b(0)}, qHit{3, 1.0/3 + b(1)})
	// One point per prefetch: each gets 0.5 (no spread to normalise by).
	res = qMust(c.Query(ctx, QueryRequest{Prefetch: qTwoPrefetches(1), Query: &Query{Fusion: &FusionQuery{Method: FusionDBSF}}}))(t)
	qCheck(t, "dbsf single", res, qHit{1, 0.5}, qHit{2, 0.5})

	// Distances are negated first so that nearer is better: with Euclid
	// and the query [0], distances 1 → 1, 2 → 2, 3 → 4 become −1, −2, −4:
	// mean −7/3, sd √((16/9 + 1/9 + 25/9)/2) = √(7/3).
	_, e := qColl(t, map[string]VectorParams{"": {Size: 1, Distance: Euclid}},
		qPoint(1, []float32{1}, nil), qPoint(2, []float32{2}, nil), qPoint(3, []float32{4}, nil))
	res = qMust(e.Query(ctx, QueryRequest{Prefetch: []Prefetch{{Query: NearestVector([]float32{0})}}, Query: DBSF()}))(t)
	mean, sd := -7.0/3, math.Sqrt(7.0/3)
	f := func(s float64) float64 { return (s - (mean - 3*sd)) / (6 * sd) }
	qCheck(t, "dbsf euclid", res, qHit{1, f(-1)}, qHit{2, f(-2)}, qHit{3, f(-4)})
}

// TestQueryMMR checks MMR's picks by hand. Unit vectors, Dot, query (1, 0):
// relevance 1: 1, 2: 0.8, 3: 0.6, 4: 0; similarities 1–2 0.8, 1–3 0.6,
// 1–4 0, 2–3 0.96, 2–4 0.6, 3–4 0.8.
func TestQueryMMR(t *testing.T) {
	_, c := qColl(t, map[string]VectorParams{"": {Size: 2, Distance: Dot}},
		qPoint(1, []float32{1, 0}, nil), qPoint(2, []float32{0.8, 0.6}, nil),
		qPoint(3, []float32{0.6, 0.8}, nil), qPoint(4, []float32{0, 1}, nil))
	mmr := func(div float32, cands, limit int) []ScoredPoint {
		t.Helper()
		return qMust(c.Query(ctx, QueryRequest{Query: &Query{Nearest: &NearestQuery{Target: InputVector([]float32{1, 0}), MMR: &MMR{Diversity: &div, CandidatesLimit: cands}}}, Limit: limit}))(t)
	}
	// λ = 0.2. After 1: 2 → 0.2·0.8 − 0.8·0.8 = −0.48, 3 → 0.12 − 0.48 =
	// −0.36, 4 → 0 − 0 = 0: 4. Then 2 → 0.16 − 0.8·max(0.8, 0.6) = −0.48,
	// 3 → 0.12 − 0.8·max(0.6, 0.8) = −0.52: 2. Scores are the relevance.
	qCheck(t, "diversity 0.8", mmr(0.8, 4, 3), qHit{1, 1}, qHit{4, 0}, qHit{2, 0.8})
	// Diversity 0 is plain relevance.
	qCheck(t, "diversity 0", mmr(0, 4, 3), qHit{1, 1}, qHit{2, 0.8}, qHit{3, 0.6})
	// The candidates are the 3 nearest: after 1, 3 (−0.36) beats 2 (−0.48).
	qCheck(t, "3 candidates", mmr(0.8, 3, 2), qHit{1, 1}, qHit{3, 0.6})
	// Without candidates_limit, the candidates are the limit: only 1 and 2.
	qCheck(t, "default candidates", mmr(0.8, 0, 2), qHit{1, 1}, qHit{2, 0.8})
	// Default diversity 0.5 (λ = 0.5): after 1, every candidate scores
	// 0.5·(rel − sim to 1) = 0 (2: 0.8 − 0.8, 3: 0.6 − 0.6, 4: 0 − 0): the
	// tie goes to the most relevant, 2.
	res := qMust(c.Query(ctx, QueryRequest{Query: &Query{Nearest: &NearestQuery{Target: InputVector([]float32{1, 0}), MMR: &MMR{CandidatesLimit: 4}}}, Limit: 2}))(t)
	qCheck(t, "default diversity", res, qHit{1, 1}, qHit{2, 0.8})
	// MMR over a prefetch re-ranks the prefetched points; offset pages the
	// selection.
	res = qMust(c.Query(ctx, QueryRequest{
		Prefetch: []Prefetch{{Query: NearestVector([]float32{1, 0}), Limit: 4}},
		Query:    &Query{Nearest: &NearestQuery{Target: InputVector([]float32{1, 0}), MMR: &MMR{Diversity: qF32(0.8), CandidatesLimit: 4}}},
		Limit:    2, Offset: 1,
	}))(t)
	qCheck(t, "mmr over prefetch", res, qHit{4, 0}, qHit{2, 0.8})
}

// qRecoPoints: 1 (1,0), 2 (0,1), 3 (1,1), 4 (−1,0), 5 (2,−1).
func qRecoPoints() []Point {
	return []Point{
		qPoint(1, []float32{1, 0}, nil), qPoint(2, []float32{0, 1}, nil), qPoint(3, []float32{1, 1}, nil),
		qPoint(4, []float32{-1, 0}, nil), qPoint(5, []float32{2, -1}, nil),
	}
}

// TestQueryRecommend checks each strategy against hand-computed scores for
// positive [1] and negative [2] (both left out of the results), per
// distance. sigmoid(x) = 0.5·(1 + x/(1+|x|)).
func TestQueryRecommend(t *testing.T) {
	sig := func(x float64) float64 { return 0.5 * (1 + x/(1+math.Abs(x))) }
	r2, r5, r10 := math.Sqrt2, math.Sqrt(5), math.Sqrt(10)
	cases := []struct {
		d              Distance
		avg, best, sum []qHit
	}{
		// average: 2·(1,0) − (0,1) = (2,−1): dot 3 → 1, 4 → −2, 5 → 5.
		// best: 3: p = n = 1 → −sig(1); 4: p = −1 < n = 0 → −sig(0); 5: p = 2 > n = −1 → sig(2).
		// sum: 3: 1 − 1; 4: −1 − 0; 5: 2 + 1.
		{Dot,
			[]qHit{{5, 5}, {3, 1}, {4, -2}},
			[]qHit{{5, sig(2)}, {4, -sig(0)}, {3, -sig(1)}},
			[]qHit{{5, 3}, {3, 0}, {4, -1}}},
		// Cosine: vectors normalised. average (2,−1)/√5: 3 → 1/√10, 4 → −2/√5, 5 → 1.
		// best: 3: p = n = 1/√2 → −sig(1/√2); 4: −sig(0); 5: p = 2/√5 > n = −1/√5 → sig(2/√5).
		// sum: 3: 0; 4: −1; 5: 2/√5 + 1/√5.
		{Cosine,
			[]qHit{{5, 1}, {3, 1 / r10}, {4, -2 / r5}},
			[]qHit{{5, sig(2 / r5)}, {4, -sig(0)}, {3, -sig(1 / r2)}},
			[]qHit{{5, 3 / r5}, {3, 0}, {4, -1}}},
		// Euclid: average is a search, scores are distances to (2,−1): 5 → 0, 3 → √5, 4 → √10.
		// best and sum use the negated squared distance: to 1 / to 2: 3: −1 / −1; 4: −4 / −2; 5: −2 / −8.
		// best: 3: equal → −sig(−1); 4: −4 < −2 → −sig(−2); 5: −2 > −8 → sig(−2). sum: 3: 0; 4: −2; 5: 6.
		{Euclid,
			[]qHit{{5, 0}, {3, r5}, {4, r10}},
			[]qHit{{5, sig(-2)}, {4, -sig(-2)}, {3, -sig(-1)}},
			[]qHit{{5, 6}, {3, 0}, {4, -2}}},
	}
	for _, tc := range cases {
		_, c := qColl(t, map[string]VectorParams{"": {Size: 2, Distance: tc.d}}, qRecoPoints()...)
		reco := func(s RecommendStrategy) []ScoredPoint {
			t.Helper()
			return qMust(c.Query(ctx, QueryRequest{Query: &Query{Recommend: &RecommendQuery{
				Positive: []VectorInput{InputPoint(NumID(1))}, Negative: []VectorInput{InputPoint(NumID(2))}, Strategy: s,
			}}}))(t)
		}
		qCheck(t, tc.d.String()+" average_vector", reco(""), tc.avg...)
		qCheck(t, tc.d.String()+" average_vector (named)", reco(AverageVector), tc.avg...)
		qCheck(t, tc.d.String()+" best_score", reco(BestScore), tc.best...)
		qCheck(t, tc.d.String()+" sum_scores", reco(SumScores), tc.sum...)
		// Over a prefetch the same scores rank the prefetched points only.
		res := qMust(c.Query(ctx, QueryRequest{
			Prefetch: []Prefetch{{Query: NearestVector([]float32{1, -0.4}), Limit: 10}},
			Query: &Query{Recommend: &RecommendQuery{
				Positive: []VectorInput{InputPoint(NumID(1))}, Negative: []VectorInput{InputPoint(NumID(2))}, Strategy: SumScores,
			}},
		}))(t)
		qCheck(t, tc.d.String()+" sum_scores over prefetch", res, tc.sum...)
	}

	_, c := qColl(t, map[string]VectorParams{"": {Size: 2, Distance: Dot}}, qRecoPoints()...)
	// Vectors as examples exclude nothing: (2,−1) · every point.
	res := qMust(c.Query(ctx, QueryRequest{Query: &Query{Recommend: &RecommendQuery{
		Positive: []VectorInput{InputVector([]float32{1, 0})}, Negative: []VectorInput{InputVector([]float32{0, 1})},
	}}}))(t)
	qCheck(t, "vector examples", res, qHit{5, 5}, qHit{1, 2}, qHit{3, 1}, qHit{2, -1}, qHit{4, -2})
	// Negative examples only (best_score): −sig(similarity to 1).
	sig1 := sig(1)
	res = qMust(c.Query(ctx, QueryRequest{Query: &Query{Recommend: &RecommendQuery{Negative: []VectorInput{InputPoint(NumID(1))}, Strategy: BestScore}}}))(t)
	qCheck(t, "negative only", res, qHit{4, -sig(-1)}, qHit{2, -0.5}, qHit{3, -sig1}, qHit{5, -sig(2)})
	// Threshold: higher is better for best_score.
	res = qMust(c.Query(ctx, QueryRequest{ScoreThreshold: qF32(-0.6), Query: &Query{Recommend: &RecommendQuery{Negative: []VectorInput{InputPoint(NumID(1))}, Strategy: BestScore}}}))(t)
	qCheck(t, "negative only, threshold", res, qHit{4, -sig(-1)}, qHit{2, -0.5})
}

// qGroupPoints: 1-d Dot vectors, the query [1] ranks 1 (10) first down to
// 10 (1); g is a string, an array, an integer, missing, a float, a bool.
func qGroupPoints() []Point {
	return []Point{
		qPoint(1, []float32{10}, Payload{"g": "a"}),
		qPoint(2, []float32{9}, Payload{"g": []any{"a", "b", "a"}}),
		qPoint(3, []float32{8}, Payload{"g": 7}),
		qPoint(4, []float32{7}, nil),
		qPoint(5, []float32{6}, Payload{"g": "a"}),
		qPoint(6, []float32{5}, Payload{"g": 7}),
		qPoint(7, []float32{4}, Payload{"g": 1.5}),
		qPoint(8, []float32{3}, Payload{"g": "b"}),
		qPoint(9, []float32{2}, Payload{"g": true}),
		qPoint(10, []float32{1}, Payload{"g": -3}),
	}
}

func qGroups(gs []PointGroup) string {
	var parts []string
	for _, g := range gs {
		var ids []string
		for _, h := range g.Hits {
			ids = append(ids, h.ID.String())
		}
		parts = append(parts, g.ID.String()+":"+strings.Join(ids, ","))
	}
	return strings.Join(parts, " ")
}

func TestQueryGroups(t *testing.T) {
	db, c := qColl(t, map[string]VectorParams{"": {Size: 1, Distance: Dot}}, qGroupPoints()...)
	groups := func(req QueryGroupsRequest) string {
		t.Helper()
		return qGroups(qMust(c.QueryGroups(ctx, req))(t))
	}
	near := QueryRequest{Query: NearestVector([]float32{1})}
	// Arrays put 2 in "a" and "b" (once each); 4 (no key), 7 (float) and 9
	// (bool) make no group; groups come by their best point.
	if got := groups(QueryGroupsRequest{QueryRequest: near, GroupBy: "g", GroupSize: 2}); got != "a:1,2 b:2,8 7:3,6 -3:10" {
		t.Fatalf("groups: %s", got)
	}
	lim := near
	lim.Limit = 2
	if got := groups(QueryGroupsRequest{QueryRequest: lim, GroupBy: "g", GroupSize: 3}); got != "a:1,2,5 b:2,8" {
		t.Fatalf("limit 2, size 3: %s", got)
	}
	res := qMust(c.QueryGroups(ctx, QueryGroupsRequest{QueryRequest: near, GroupBy: "g"}))(t)
	if res[2].ID != (GroupID{Int: 7, IsInt: true}) || res[0].ID != (GroupID{Str: "a"}) || res[3].ID.Int != -3 {
		t.Fatalf("group ids: %+v", res)
	}
	if res[0].Hits[0].Score != 10 || len(res[0].Hits) != 3 { // default group size 3
		t.Fatalf("hits: %+v", res[0].Hits)
	}
	// Filters and thresholds apply before grouping.
	f := near
	f.Filter = &Filter{MustNot: []Condition{HasID(NumID(1))}}
	f.ScoreThreshold = qF32(5)
	if got := groups(QueryGroupsRequest{QueryRequest: f, GroupBy: "g"}); got != "a:2,5 b:2 7:3,6" {
		t.Fatalf("filtered: %s", got)
	}
	// No query: id order, score 0.
	if got := groups(QueryGroupsRequest{GroupBy: "g", GroupSize: 1}); got != "a:1 b:2 7:3 -3:10" {
		t.Fatalf("no query: %s", got)
	}
	// Over a prefetch: only the prefetched points are grouped: the 4 best
	// with the key (the key's filter, like any filter of the request,
	// applies to the prefetches): 1, 2, 3, 5.
	pf := QueryRequest{Prefetch: []Prefetch{{Query: NearestVector([]float32{1}), Limit: 4}}, Query: NearestVector([]float32{1})}
	if got := groups(QueryGroupsRequest{QueryRequest: pf, GroupBy: "g"}); got != "a:1,2,5 b:2 7:3" {
		t.Fatalf("prefetch: %s", got)
	}
	// Nested keys.
	_, n := qColl(t, map[string]VectorParams{"": {Size: 1, Distance: Dot}},
		qPoint(1, []float32{2}, Payload{"doc": map[string]any{"id": 5}}), qPoint(2, []float32{1}, Payload{"doc": map[string]any{"id": 5}}))
	if got := qGroups(qMust(n.QueryGroups(ctx, QueryGroupsRequest{QueryRequest: near, GroupBy: "doc.id"}))(t)); got != "5:1,2" {
		t.Fatalf("nested key: %s", got)
	}

	// Lookup: group 7 finds point 7 of "docs"; "a" is not a UUID; −3 is no id.
	docs, err := db.CreateCollection(ctx, "docs", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 1, Distance: Dot}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := docs.Upsert(ctx, []Point{qPoint(7, []float32{1}, Payload{"title": "seven"})}); err != nil {
		t.Fatal(err)
	}
	res = qMust(c.QueryGroups(ctx, QueryGroupsRequest{QueryRequest: near, GroupBy: "g", WithLookup: &GroupLookup{Collection: "docs", WithPayload: AllPayload}}))(t)
	if res[0].Lookup != nil || res[2].Lookup == nil || res[2].Lookup.ID != NumID(7) || res[2].Lookup.Payload["title"] != "seven" || res[3].Lookup != nil {
		t.Fatalf("lookup: %+v", res)
	}

	// One group holding the 50 best points: the search widens until the
	// second group turns up.
	var pts []Point
	for i := 1; i <= 50; i++ {
		pts = append(pts, qPoint(uint64(i), []float32{float32(100 + i)}, Payload{"g": "x"}))
	}
	pts = append(pts, qPoint(51, []float32{1}, Payload{"g": "y"}))
	_, w := qColl(t, map[string]VectorParams{"": {Size: 1, Distance: Dot}}, pts...)
	lim.Limit = 2
	if got := qGroups(qMust(w.QueryGroups(ctx, QueryGroupsRequest{QueryRequest: lim, GroupBy: "g", GroupSize: 1}))(t)); got != "x:50 y:51" {
		t.Fatalf("widening: %s", got)
	}

	for _, bad := range []struct {
		req  QueryGroupsRequest
		want string
	}{
		{QueryGroupsRequest{QueryRequest: near}, "query.group_by: missing"},
		{QueryGroupsRequest{QueryRequest: near, GroupBy: "a..b"}, "query.group_by: bad segment"},
		{QueryGroupsRequest{QueryRequest: near, GroupBy: "g", GroupSize: -1}, "query.group_size: -1 is out of range"},
		{QueryGroupsRequest{QueryRequest: QueryRequest{Query: NearestVector([]float32{1}), Limit: 1000}, GroupBy: "g", GroupSize: 1000}, "query.group_size: 1000 groups of 1000 points"},
		{QueryGroupsRequest{QueryRequest: QueryRequest{Query: NearestVector([]float32{1}), Offset: 1}, GroupBy: "g"}, "query.offset: groups cannot be paged"},
		{QueryGroupsRequest{QueryRequest: QueryRequest{Query: NearestVector([]float32{1, 2})}, GroupBy: "g"}, "query.query.nearest: expected dimension 1, got 2"},
		{QueryGroupsRequest{QueryRequest: near, GroupBy: "g", WithLookup: &GroupLookup{Collection: "nope"}}, `query.with_lookup.collection: no collection named "nope"`},
		{QueryGroupsRequest{QueryRequest: near, GroupBy: "g", WithLookup: &GroupLookup{Collection: "docs", WithVectors: VectorSelector{Names: []string{"v"}}}}, `query.with_lookup.with_vectors: no vector named "v"`},
	} {
		_, err := c.QueryGroups(ctx, bad.req)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: got %v, want %q", bad.req, err, bad.want)
		}
	}
}

// qNestPoints: "small" (1-d) and "full" (2-d), both Dot.
//
//	id  small  full
//	1   6      (1, 0)
//	2   5      (2, 1)
//	3   4      (3, 5)
//	4   3      (0, 9)
//	5   2      (9, 9)
//	6   1      (8, 0)
//	7   10     none
func qNestPoints() []Point {
	rows := []struct {
		s    float32
		full []float32
	}{{6, []float32{1, 0}}, {5, []float32{2, 1}}, {4, []float32{3, 5}}, {3, []float32{0, 9}}, {2, []float32{9, 9}}, {1, []float32{8, 0}}}
	var pts []Point
	for i, r := range rows {
		pts = append(pts, qNamed(uint64(i+1), map[string][]float32{"small": {r.s}, "full": r.full}))
	}
	return append(pts, qNamed(7, map[string][]float32{"small": {10}}))
}

// TestQueryPrefetchNested: three stages. The leaf takes the 5 best by
// small (7, 1, 2, 3, 4); the middle rescores them by full·(1,0) (7 has no
// full vector and drops out: 1 → 1, 2 → 2, 3 → 3, 4 → 0) and keeps 2
// (3, 2); the top rescores those by full·(0,1): 3 → 5, 2 → 1.
func TestQueryPrefetchNested(t *testing.T) {
	_, c := qColl(t, map[string]VectorParams{"small": {Size: 1, Distance: Dot}, "full": {Size: 2, Distance: Dot}}, qNestPoints()...)
	leaf := func() Prefetch { return Prefetch{Query: NearestVector([]float32{1}), Using: "small", Limit: 5} }
	mid := func() Prefetch {
		return Prefetch{Prefetch: []Prefetch{leaf()}, Query: NearestVector([]float32{1, 0}), Using: "full", Limit: 2}
	}
	top := func(mid Prefetch) QueryRequest {
		return QueryRequest{Prefetch: []Prefetch{mid}, Query: NearestVector([]float32{0, 1}), Using: "full"}
	}
	qCheck(t, "nested", qMust(c.Query(ctx, top(mid())))(t), qHit{3, 5}, qHit{2, 1})
	// Offset pages the top stage only.
	req := top(mid())
	req.Offset, req.Limit = 1, 1
	qCheck(t, "offset", qMust(c.Query(ctx, req))(t), qHit{2, 1})
	// The top filter reaches the leaf: without 3 the leaf takes 7, 1, 2, 4,
	// 5; the middle keeps 5 (9) and 2 (2); the top: 5 → 9, 2 → 1.
	req = top(mid())
	req.Filter = &Filter{MustNot: []Condition{HasID(NumID(3))}}
	qCheck(t, "top filter", qMust(c.Query(ctx, req))(t), qHit{5, 9}, qHit{2, 1})
	// The middle filter reaches the leaf too: among 1, 2, 4, 6 the leaf
	// takes them all; the middle keeps 6 (8) and 2 (2); the top: 2 → 1, 6 → 0.
	m := mid()
	m.Filter = &Filter{Must: []Condition{HasID(NumID(1), NumID(2), NumID(4), NumID(6))}}
	qCheck(t, "middle filter", qMust(c.Query(ctx, top(m)))(t), qHit{2, 1}, qHit{6, 0})
	// Both filters: middle's set minus 6.
	req = top(m)
	req.Filter = &Filter{MustNot: []Condition{HasID(NumID(6))}}
	qCheck(t, "both filters", qMust(c.Query(ctx, req))(t), qHit{2, 1}, qHit{1, 0})
	// Score thresholds: in the middle, full·(1,0) ≥ 2.5 keeps 3 only; on
	// the leaf, small ≥ 4.5 keeps 7, 1, 2.
	m = mid()
	m.ScoreThreshold = qF32(2.5)
	qCheck(t, "middle threshold", qMust(c.Query(ctx, top(m)))(t), qHit{3, 5})
	m = mid()
	m.Prefetch[0].ScoreThreshold = qF32(4.5)
	qCheck(t, "leaf threshold", qMust(c.Query(ctx, top(m)))(t), qHit{2, 1}, qHit{1, 0})
	req = top(mid())
	req.ScoreThreshold = qF32(2)
	qCheck(t, "top threshold", qMust(c.Query(ctx, req))(t), qHit{3, 5})
	// A leaf without a query takes points in id order: 1, 2, 3; rescored
	// by full·(0,1): 3 → 5, 2 → 1, 1 → 0.
	res := qMust(c.Query(ctx, QueryRequest{Prefetch: []Prefetch{{Limit: 3}}, Query: NearestVector([]float32{0, 1}), Using: "full"}))(t)
	qCheck(t, "scroll leaf", res, qHit{3, 5}, qHit{2, 1}, qHit{1, 0})
	// By point id at the top: the vector of 4 (0, 9); 4 is left out
	// everywhere, so the leaf takes 7, 1, 2, 3, 5: 5 → 81, 3 → 45, 2 → 9.
	res = qMust(c.Query(ctx, QueryRequest{Prefetch: []Prefetch{leaf()}, Query: NearestPoint(NumID(4)), Using: "full", Limit: 3}))(t)
	qCheck(t, "by id", res, qHit{5, 81}, qHit{3, 45}, qHit{2, 9})
	// Fusion in the middle, rescoring at the top: RRF of small (7, 1, 2)
	// and full·(1,0) (5, 6, 3) keeps 7 and 5 (1/2 each); 7 has no full
	// vector, so the top returns 5 alone.
	res = qMust(c.Query(ctx, QueryRequest{
		Prefetch: []Prefetch{{Prefetch: []Prefetch{
			{Query: NearestVector([]float32{1}), Using: "small", Limit: 3},
			{Query: NearestVector([]float32{1, 0}), Using: "full", Limit: 3},
		}, Query: RRF(), Limit: 2}},
		Query: NearestVector([]float32{0, 1}), Using: "full",
	}))(t)
	qCheck(t, "fusion inside", res, qHit{5, 9})
}

// TestQueryNoQuery: without a query, points in id order with score 0.
func TestQueryNoQuery(t *testing.T) {
	_, c := qColl(t, map[string]VectorParams{"": {Size: 1, Distance: Dot}}, qGroupPoints()...)
	res := qMust(c.Query(ctx, QueryRequest{Limit: 3, Offset: 2, WithPayload: AllPayload}))(t)
	qCheck(t, "scroll", res, qHit{3, 0}, qHit{4, 0}, qHit{5, 0})
	if res[0].Payload["g"] == nil {
		t.Fatalf("payload: %+v", res[0])
	}
	res = qMust(c.Query(ctx, QueryRequest{Filter: &Filter{Must: []Condition{MatchValue("g", "a")}}}))(t)
	qCheck(t, "filtered", res, qHit{1, 0}, qHit{2, 0}, qHit{5, 0})
}

// TestQueryByID: the point's vector, the point itself left out, and Query
// agrees with Search.
func TestQueryByID(t *testing.T) {
	_, c := qColl(t, map[string]VectorParams{"": {Size: 2, Distance: Euclid}}, qRecoPoints()...)
	res := qMust(c.Query(ctx, QueryRequest{Query: NearestPoint(NumID(1)), Limit: 2}))(t)
	// From (1,0): 3 → 1, 5 → √2, 2 → √2 (ties by location), 4 → 2.
	qCheck(t, "by id", res, qHit{3, 1}, qHit{2, math.Sqrt2})
	search := qMust(c.Search(ctx, SearchRequest{Vector: []float32{0.5, 0.5}, Limit: 3, WithVectors: AllVectors}))(t)
	query := qMust(c.Query(ctx, QueryRequest{Query: NearestVector([]float32{0.5, 0.5}), Limit: 3, WithVectors: AllVectors}))(t)
	if fmt.Sprint(search) != fmt.Sprint(query) {
		t.Fatalf("search %v, query %v", search, query)
	}
	// Lookup from another collection: the id is not left out here.
	db := c.db
	other, err := db.CreateCollection(ctx, "other", CollectionConfig{Vectors: map[string]VectorParams{"v": {Size: 2, Distance: Dot}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Upsert(ctx, []Point{{ID: NumID(1), Vectors: map[string][]float32{"v": {-1, 0}}}}); err != nil {
		t.Fatal(err)
	}
	res = qMust(c.Query(ctx, QueryRequest{Query: NearestPoint(NumID(1)), LookupFrom: &LookupLocation{Collection: "other"}, Limit: 2}))(t)
	qCheck(t, "lookup_from", res, qHit{4, 0}, qHit{2, math.Sqrt2})
}

// TestQueryBatchMatchesOneByOne: a batch answers as its queries one by one.
func TestQueryBatchMatchesOneByOne(t *testing.T) {
	_, c := qColl(t, map[string]VectorParams{"small": {Size: 1, Distance: Dot}, "full": {Size: 2, Distance: Dot}}, qNestPoints()...)
	reqs := []QueryRequest{
		{Query: NearestVector([]float32{1, 1}), Using: "full", Limit: 3, WithPayload: AllPayload},
		{Query: NearestPoint(NumID(2)), Using: "full", Limit: 2},
		{Limit: 2, Offset: 1},
		{Prefetch: []Prefetch{{Query: NearestVector([]float32{1}), Using: "small"}, {Query: NearestVector([]float32{1, 0}), Using: "full"}}, Query: DBSF()},
		{Query: &Query{Recommend: &RecommendQuery{Positive: []VectorInput{InputPoint(NumID(3))}, Strategy: BestScore}}, Using: "full", WithVectors: AllVectors},
		{Query: &Query{Nearest: &NearestQuery{Target: InputVector([]float32{1, 0}), MMR: &MMR{CandidatesLimit: 6}}}, Using: "full", Limit: 3},
	}
	batch := qMust(c.QueryBatch(ctx, reqs))(t)
	for i, req := range reqs {
		one := qMust(c.Query(ctx, req))(t)
		if fmt.Sprint(one) != fmt.Sprint(batch[i]) || len(one) == 0 {
			t.Fatalf("query %d: alone %v, in batch %v", i, one, batch[i])
		}
	}
	// Plain batches take SearchBatch's path and agree with it too.
	plain := qMust(c.QueryBatch(ctx, reqs[:1]))(t)
	sb := qMust(c.SearchBatch(ctx, []SearchRequest{{Vector: []float32{1, 1}, Using: "full", Limit: 3, WithPayload: AllPayload}}))(t)
	if fmt.Sprint(plain[0]) != fmt.Sprint(sb[0]) {
		t.Fatalf("plain batch %v, search batch %v", plain, sb)
	}
}

// TestQueryBadInput: every error names the path of the bad part.
func TestQueryBadInput(t *testing.T) {
	_, c := qColl(t, map[string]VectorParams{"small": {Size: 1, Distance: Dot}, "full": {Size: 2, Distance: Dot}}, qNestPoints()...)
	v1, v2 := []float32{1}, []float32{1, 0}
	nan := float32(math.NaN())
	one := NumID(1)
	two := []Prefetch{{Query: NearestVector(v1), Using: "small"}, {Query: NearestVector(v2), Using: "full"}}
	cases := []struct {
		req  QueryRequest
		is   error
		want string
	}{
		{QueryRequest{Query: NearestVector(v2)}, ErrInvalidArgument, "query.using: the collection has only named vectors"},
		{QueryRequest{Query: NearestVector(v1), Using: "full"}, ErrDimensionMismatch, "query.query.nearest: expected dimension 2, got 1"},
		{QueryRequest{Query: NearestVector([]float32{nan}), Using: "small"}, ErrInvalidArgument, "query.query.nearest[0]: NaN is not a finite number"},
		{QueryRequest{Query: NearestVector(v1), Using: "nope"}, ErrInvalidArgument, `query.using: no dense vector named "nope"`},
		{QueryRequest{Query: NearestVector(v1), Using: "small", Limit: -1}, ErrInvalidArgument, "query.limit: -1 is out of range"},
		{QueryRequest{Query: NearestVector(v1), Using: "small", Limit: MaxSearchLimit + 1}, ErrInvalidArgument, "query.limit: 100001 is out of range"},
		{QueryRequest{Query: NearestVector(v1), Using: "small", Offset: -1}, ErrInvalidArgument, "query.offset: -1 is out of range"},
		{QueryRequest{Query: NearestVector(v1), Using: "small", HnswEf: -1}, ErrInvalidArgument, "query.hnsw_ef: -1 is negative"},
		{QueryRequest{Query: NearestVector(v1), Using: "small", ScoreThreshold: &nan}, ErrInvalidArgument, "query.score_threshold: not a finite number"},
		{QueryRequest{Query: NearestVector(v1), Using: "small", Filter: &Filter{Must: []Condition{{Key: "x"}}}}, ErrInvalidArgument, "query.filter.must[0]"},
		{QueryRequest{Query: NearestVector(v1), Using: "small", WithVectors: VectorSelector{Names: []string{"x"}}}, ErrInvalidArgument, `query.with_vectors: no vector named "x"`},
		{QueryRequest{Query: NearestPoint(NumID(99)), Using: "full"}, ErrNotFound, "query.query.nearest: point 99 not found"},
		{QueryRequest{Query: NearestPoint(NumID(7)), Using: "full"}, ErrInvalidArgument, `query.query.nearest: point 7 has no vector "full"`},
		{QueryRequest{Query: &Query{}}, ErrInvalidArgument, "query.query: set exactly one of nearest, recommend and fusion (0 are set)"},
		{QueryRequest{Query: &Query{Nearest: &NearestQuery{}, Fusion: &FusionQuery{}}}, ErrInvalidArgument, "(2 are set)"},
		{QueryRequest{Query: &Query{Nearest: &NearestQuery{}}, Using: "small"}, ErrInvalidArgument, "query.query.nearest: empty"},
		{QueryRequest{Query: &Query{Nearest: &NearestQuery{Target: VectorInput{Vector: v1, ID: &one}}}, Using: "small"}, ErrInvalidArgument, "not both"},
		{QueryRequest{Query: RRF()}, ErrInvalidArgument, "query.query.fusion: fusion needs prefetches"},
		{QueryRequest{Prefetch: two}, ErrInvalidArgument, "query.query: missing; a query with prefetches needs one"},
		{QueryRequest{Prefetch: []Prefetch{{Prefetch: []Prefetch{{}}}}, Query: RRF()}, ErrInvalidArgument, "query.prefetch[0].query: missing"},
		{QueryRequest{Prefetch: []Prefetch{{Query: NearestVector(v2), Using: "small"}}, Query: RRF()}, ErrDimensionMismatch, "query.prefetch[0].query.nearest: expected dimension 1, got 2"},
		{QueryRequest{Prefetch: []Prefetch{{}, {Query: NearestVector(v1), Using: "small", Limit: -2}}, Query: RRF()}, ErrInvalidArgument, "query.prefetch[1].limit: -2 is out of range"},
		{QueryRequest{Prefetch: []Prefetch{{Filter: &Filter{Should: []Condition{{}}}}}, Query: RRF()}, ErrInvalidArgument, "query.prefetch[0].filter.should[0]"},
		{QueryRequest{Prefetch: []Prefetch{{Prefetch: []Prefetch{{Query: NearestPoint(NumID(99)), Using: "small"}}, Query: RRF()}}, Query: RRF()}, ErrNotFound, "query.prefetch[0].prefetch[0].query.nearest: point 99 not found"},
		{QueryRequest{Prefetch: two, Query: &Query{Fusion: &FusionQuery{Weights: []float32{1}}}}, ErrInvalidArgument, "query.query.fusion.weights: 1 weights for 2 prefetches"},
		{QueryRequest{Prefetch: two, Query: &Query{Fusion: &FusionQuery{Weights: []float32{1, -1}}}}, ErrInvalidArgument, "query.query.fusion.weights[1]: -1 is not a non-negative number"},
		{QueryRequest{Prefetch: two, Query: &Query{Fusion: &FusionQuery{K: -1}}}, ErrInvalidArgument, "query.query.fusion.k: -1 is negative"},
		{QueryRequest{Prefetch: two, Query: &Query{Fusion: &FusionQuery{Method: FusionDBSF, K: 3}}}, ErrInvalidArgument, "query.query.fusion: k and weights apply to rrf only"},
		{QueryRequest{Prefetch: two, Query: &Query{Fusion: &FusionQuery{Method: "max"}}}, ErrInvalidArgument, `query.query.fusion.method: unknown fusion "max"`},
		{QueryRequest{Query: &Query{Nearest: &NearestQuery{Target: InputVector(v1), MMR: &MMR{Diversity: qF32(1.5)}}}, Using: "small"}, ErrInvalidArgument, "query.query.mmr.diversity: 1.5 is out of range 0..1"},
		{QueryRequest{Query: &Query{Nearest: &NearestQuery{Target: InputVector(v1), MMR: &MMR{CandidatesLimit: 20000}}}, Using: "small"}, ErrInvalidArgument, "query.query.mmr.candidates_limit: 20000 is out of range 0..16384"},
		{QueryRequest{Query: &Query{Nearest: &NearestQuery{Target: InputVector(v1), MMR: &MMR{}}}, Using: "small", Limit: 16000, Offset: 1000}, ErrInvalidArgument, "query.limit: with mmr, limit + offset is at most 16384"},
		{QueryRequest{Query: &Query{Recommend: &RecommendQuery{}}, Using: "small"}, ErrInvalidArgument, "query.query.recommend.positive: the average_vector strategy needs at least one positive example"},
		{QueryRequest{Query: &Query{Recommend: &RecommendQuery{Strategy: SumScores}}, Using: "small"}, ErrInvalidArgument, "query.query.recommend: no examples"},
		{QueryRequest{Query: &Query{Recommend: &RecommendQuery{Positive: []VectorInput{InputVector(v1)}, Strategy: "best"}}, Using: "small"}, ErrInvalidArgument, `query.query.recommend.strategy: unknown strategy "best"`},
		{QueryRequest{Query: &Query{Recommend: &RecommendQuery{Positive: []VectorInput{InputVector(v1)}, Negative: []VectorInput{InputVector(v2)}}}, Using: "small"}, ErrDimensionMismatch, "query.query.recommend.negative[0]: expected dimension 1, got 2"},
		{QueryRequest{Query: &Query{Recommend: &RecommendQuery{Positive: []VectorInput{InputPoint(NumID(5)), InputPoint(NumID(42))}}}, Using: "small"}, ErrNotFound, "query.query.recommend.positive[1]: point 42 not found"},
		{QueryRequest{Query: NearestPoint(NumID(1)), Using: "small", LookupFrom: &LookupLocation{Collection: "nope"}}, ErrNotFound, `query.lookup_from.collection: no collection named "nope"`},
	}
	for _, tc := range cases {
		_, err := c.Query(ctx, tc.req)
		if !errors.Is(err, tc.is) || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %v %q", tc.req, err, tc.is, tc.want)
		}
	}
	// Depth: 65 nested prefetches.
	deep := Prefetch{Query: NearestVector(v1), Using: "small"}
	for range maxPrefetchDepth {
		deep = Prefetch{Prefetch: []Prefetch{deep}, Query: RRF()}
	}
	if _, err := c.Query(ctx, QueryRequest{Prefetch: []Prefetch{deep}, Query: RRF()}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "prefetches nested deeper than 64 levels") {
		t.Errorf("deep prefetches: %v", err)
	}
	// Batches name their queries.
	_, err := c.QueryBatch(ctx, []QueryRequest{{Query: NearestVector(v1), Using: "small"}, {Query: NearestVector(v1), Using: "full"}})
	if !errors.Is(err, ErrDimensionMismatch) || !strings.Contains(err.Error(), "queries[1].query.nearest: expected dimension 2") {
		t.Errorf("batch: %v", err)
	}
	_, err = c.QueryBatch(ctx, []QueryRequest{{Limit: 1}, {Query: NearestPoint(NumID(50)), Using: "full"}})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "queries[1].query.nearest: point 50 not found") {
		t.Errorf("batch by id: %v", err)
	}
	if _, err := c.QueryBatch(ctx, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("empty batch: %v", err)
	}
}

// TestQueryOracle compares queries with prefetches and fusion against a
// brute-force evaluation of the same semantics on random data (exact
// search everywhere).
func TestQueryOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, d := range []Distance{Cosine, Euclid} {
		const n, dim = 400, 6
		var pts []Point
		vecs := map[uint64][]float32{}
		for i := 1; i <= n; i++ {
			v := vec(r, dim)
			vecs[uint64(i)] = v
			pts = append(pts, qPoint(uint64(i), v, Payload{"odd": i%2 == 1}))
		}
		_, c := qColl(t, map[string]VectorParams{"": {Size: dim, Distance: d}}, pts...)
		odd := &Filter{Must: []Condition{MatchValue("odd", true)}}
		for trial := 0; trial < 10; trial++ {
			q1, q2, q3 := vec(r, dim), vec(r, dim), vec(r, dim)
			// brute: the top k ids by exact score, filtered to odd ids if odd.
			brute := func(q []float32, k int, onlyOdd bool) []uint64 {
				var ids []uint64
				for id := range vecs {
					if !onlyOdd || id%2 == 1 {
						ids = append(ids, id)
					}
				}
				sc := func(id uint64) float64 { return qExact(d, q, vecs[id]) }
				sort.Slice(ids, func(i, j int) bool {
					if sc(ids[i]) != sc(ids[j]) {
						return sc(ids[i]) > sc(ids[j])
					}
					return ids[i] < ids[j]
				})
				return ids[:min(k, len(ids))]
			}
			pf := []Prefetch{{Query: NearestVector(q1), Limit: 30, Exact: true}, {Query: NearestVector(q2), Limit: 20, Exact: true}}
			// RRF, with the top filter applied to both prefetches.
			res := qMust(c.Query(ctx, QueryRequest{Prefetch: pf, Query: RRF(), Filter: odd, Limit: 15}))(t)
			want := map[uint64]float64{}
			for _, l := range [][]uint64{brute(q1, 30, true), brute(q2, 20, true)} {
				for rank, id := range l {
					want[id] += 1 / float64(2+rank)
				}
			}
			qOracleCheck(t, d.String()+" rrf", res, want, 15)
			// Rescoring the union of the prefetches by q3.
			res = qMust(c.Query(ctx, QueryRequest{Prefetch: pf, Query: NearestVector(q3), Limit: 10}))(t)
			want = map[uint64]float64{}
			for _, l := range [][]uint64{brute(q1, 30, false), brute(q2, 20, false)} {
				for _, id := range l {
					want[id] = qExact(d, q3, vecs[id])
				}
			}
			qOracleCheck(t, d.String()+" rescore", res, want, 10)
			for _, h := range res {
				if !qNear(float64(h.Score), qUser(d, want[h.ID.Num()])) {
					t.Fatalf("%s rescore: score of %s is %v, want %v", d, h.ID, h.Score, qUser(d, want[h.ID.Num()]))
				}
			}
			// A plain exact query equals Search.
			a := qMust(c.Query(ctx, QueryRequest{Query: NearestVector(q3), Exact: true, Filter: odd, Limit: 7}))(t)
			b := qMust(c.Search(ctx, SearchRequest{Vector: q3, Exact: true, Filter: odd, Limit: 7}))(t)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Fatalf("query %v, search %v", a, b)
			}
		}
	}
}

// qExact is the "higher is better" exact score in float64: the cosine
// similarity or the negated Euclidean distance.
func qExact(d Distance, q, v []float32) float64 {
	switch d {
	case Cosine:
		return dot(q, v) / (norm(q) * norm(v))
	default:
		var s float64
		for i := range q {
			x := float64(q[i] - v[i])
			s += x * x
		}
		return -math.Sqrt(s)
	}
}

// qUser turns qExact's score into the user-facing one.
func qUser(d Distance, s float64) float64 {
	if d == Euclid {
		return -s
	}
	return s
}

func qNear(a, b float64) bool { return math.Abs(a-b) <= 1e-4*max(1, math.Abs(b)) }

// qOracleCheck checks that res is the top k of want (higher is better; ties
// may come in any order) and, for fusion, the scores.
func qOracleCheck(t *testing.T, what string, res []ScoredPoint, want map[uint64]float64, k int) {
	t.Helper()
	ids := make([]uint64, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return want[ids[i]] > want[ids[j]] })
	if len(res) != min(k, len(ids)) {
		t.Fatalf("%s: %d results, want %d", what, len(res), min(k, len(ids)))
	}
	for i, h := range res {
		w := want[ids[i]]
		got, ok := want[h.ID.Num()]
		if !ok || !qNear(got, w) {
			t.Fatalf("%s: result %d is %s (expected score %v), want score %v (ids %v)", what, i, h.ID, got, w, ids[:k])
		}
		if strings.HasSuffix(what, "rrf") && !qNear(float64(h.Score), w) {
			t.Fatalf("%s: score %v, want %v", what, h.Score, w)
		}
	}
	if !slices.IsSortedFunc(res, func(a, b ScoredPoint) int { return cmpDesc(float32(want[a.ID.Num()]), float32(want[b.ID.Num()])) }) {
		t.Fatalf("%s: not sorted: %v", what, res)
	}
}

// TestQueryAllocations: a plain nearest query allocates no more than the
// same Search.
func TestQueryAllocations(t *testing.T) {
	if raceEnabled() {
		t.Skip("the race detector makes sync.Pool drop items at random: allocation counts vary")
	}
	r := rand.New(rand.NewPCG(3, 4))
	var pts []Point
	for i := 0; i < 2000; i++ {
		pts = append(pts, qPoint(uint64(i), vec(r, 16), nil))
	}
	_, c := qColl(t, map[string]VectorParams{"": {Size: 16, Distance: Dot}}, pts...)
	q := vec(r, 16)
	search := testing.AllocsPerRun(50, func() {
		if _, err := c.Search(ctx, SearchRequest{Vector: q, Limit: 10}); err != nil {
			t.Fatal(err)
		}
	})
	query := testing.AllocsPerRun(50, func() {
		if _, err := c.Query(ctx, QueryRequest{Query: &Query{Nearest: &NearestQuery{Target: VectorInput{Vector: q}}}, Limit: 10}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations: search %v, query %v", search, query)
	if query > search {
		t.Fatalf("a plain query allocates %v times, a search %v", query, search)
	}
}
