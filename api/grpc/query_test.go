package grpcapi

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

// fusionEnv: collection "f" with 1-d Dot vectors "a" and "b" (a query [1]
// ranks by value): a: 1→3, 2→2, 3→1; b: 2→5, 3→1, 1→0; payload g.
func fusionEnv(t *testing.T) *env {
	e := newEnv(t, Options{})
	err := e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{
		CollectionName: "f",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"a": {Size: 1, Distance: qdrant.Distance_Dot},
			"b": {Size: 1, Distance: qdrant.Distance_Dot},
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		id   uint64
		a, b float32
		g    any
	}{{1, 3, 0, "x"}, {2, 2, 5, []any{"x", "y"}}, {3, 1, 1, 7}} {
		e.upsert("f", &qdrant.PointStruct{Id: qdrant.NewIDNum(p.id), Payload: qdrant.NewValueMap(map[string]any{"g": p.g}),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(p.a), "b": qdrant.NewVector(p.b)})})
	}
	return e
}

// scored returns "id:score" of each point, scores to 4 decimals.
func scored(hits []*qdrant.ScoredPoint) string {
	var parts []string
	for _, h := range hits {
		parts = append(parts, fmt.Sprintf("%d:%.4f", h.GetId().GetNum(), h.GetScore()))
	}
	return strings.Join(parts, " ")
}

func twoPrefetches() []*qdrant.PrefetchQuery {
	return []*qdrant.PrefetchQuery{
		{Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("a"), Limit: qdrant.PtrOf(uint64(3))},
		{Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("b"), Limit: qdrant.PtrOf(uint64(3))},
	}
}

func TestQueryPrefetchFusion(t *testing.T) {
	e := fusionEnv(t)
	c := ctx(t)
	q := func(qp *qdrant.QueryPoints) string {
		t.Helper()
		qp.CollectionName = "f"
		return scored(must(e.client.Query(c, qp)))
	}
	// RRF, k = 2: 1: 1/2 + 1/4; 2: 1/3 + 1/2; 3: 1/4 + 1/3.
	if got := q(&qdrant.QueryPoints{Prefetch: twoPrefetches(), Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)}); got != "2:0.8333 1:0.7500 3:0.5833" {
		t.Fatalf("rrf: %s", got)
	}
	// Weights 3 and 1: 1: 0.75 + 0.25, 2: 0.6 + 0.5, 3: 0.5 + 1/3; k = 1:
	// 2: 1/2 + 1, 1: 1 + 1/3.
	if got := q(&qdrant.QueryPoints{Prefetch: twoPrefetches(), Query: qdrant.NewQueryRRF(&qdrant.Rrf{Weights: []float32{3, 1}})}); got != "2:1.1000 1:1.0000 3:0.8333" {
		t.Fatalf("weighted rrf: %s", got)
	}
	if got := q(&qdrant.QueryPoints{Prefetch: twoPrefetches(), Query: qdrant.NewQueryRRF(&qdrant.Rrf{K: qdrant.PtrOf(uint32(1))}), Limit: qdrant.PtrOf(uint64(2))}); got != "2:1.5000 1:1.3333" {
		t.Fatalf("rrf k=1: %s", got)
	}
	// DBSF: a → (s+1)/6; b (5, 1, 0; mean 2, sd √7) → (s − 2 + 3√7)/(6√7).
	s7 := math.Sqrt(7)
	b := func(s float64) float64 { return (s - 2 + 3*s7) / (6 * s7) }
	want := fmt.Sprintf("2:%.4f 1:%.4f 3:%.4f", 0.5+b(5), 2.0/3+b(0), 1.0/3+b(1))
	if got := q(&qdrant.QueryPoints{Prefetch: twoPrefetches(), Query: qdrant.NewQueryFusion(qdrant.Fusion_DBSF)}); got != want {
		t.Fatalf("dbsf: %s, want %s", got, want)
	}
	// Nested prefetch rescored by b, top filter reaching the leaf.
	nested := &qdrant.QueryPoints{
		Prefetch: []*qdrant.PrefetchQuery{{
			Prefetch: []*qdrant.PrefetchQuery{{Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("a"), Limit: qdrant.PtrOf(uint64(2))}},
			Query:    qdrant.NewQuery(1), Using: qdrant.PtrOf("b"),
		}},
		Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("a"),
		Filter: &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewIDNum(1))}},
	}
	if got := q(nested); got != "2:2.0000 3:1.0000" {
		t.Fatalf("nested: %s", got)
	}
	// MMR (λ = 0.5): after 1, 2 scores 1 − 3 = −2 and 3 scores 0.5 − 1.5 = −1.
	if got := q(&qdrant.QueryPoints{Query: qdrant.NewQueryMMR(qdrant.NewVectorInput(1), &qdrant.Mmr{Diversity: qdrant.PtrOf(float32(0.5)), CandidatesLimit: qdrant.PtrOf(uint32(3))}), Using: qdrant.PtrOf("a"), Limit: qdrant.PtrOf(uint64(2))}); got != "1:3.0000 3:1.0000" {
		t.Fatalf("mmr: %s", got)
	}
	// Recommend as a query kind: sum of b·b(1) = 0 for everyone but 1 (left out).
	reco := qdrant.NewQueryRecommend(&qdrant.RecommendInput{Positive: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(2))}, Strategy: qdrant.RecommendStrategy_BestScore.Enum()})
	// best_score against 2 under a (value 2): 1 → sigmoid(6) = 0.5·(1 + 6/7), 3 → sigmoid(2) = 0.5·(1 + 2/3).
	if got := q(&qdrant.QueryPoints{Query: reco, Using: qdrant.PtrOf("a")}); got != fmt.Sprintf("1:%.4f 3:%.4f", 0.5*(1+6.0/7), 0.5*(1+2.0/3)) {
		t.Fatalf("recommend: %s", got)
	}
	// Batch: all three kinds in one call.
	batch := must(e.client.QueryBatch(c, &qdrant.QueryBatchPoints{CollectionName: "f", QueryPoints: []*qdrant.QueryPoints{
		{Prefetch: twoPrefetches(), Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF), Limit: qdrant.PtrOf(uint64(1))},
		{Query: qdrant.NewQueryID(qdrant.NewIDNum(3)), Using: qdrant.PtrOf("a")},
		{Limit: qdrant.PtrOf(uint64(1)), Offset: qdrant.PtrOf(uint64(2))},
	}}))
	if got := scored(batch[0].GetResult()) + " | " + scored(batch[1].GetResult()) + " | " + scored(batch[2].GetResult()); got != "2:0.8333 | 1:3.0000 2:2.0000 | 3:0.0000" {
		t.Fatalf("batch: %s", got)
	}

	for name, tc := range map[string]struct {
		qp   *qdrant.QueryPoints
		code codes.Code
		msg  string
	}{
		"fusion without prefetch": {&qdrant.QueryPoints{Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)}, codes.InvalidArgument, "Wrong input: query.fusion: fusion needs prefetches to fuse"},
		"prefetch without query":  {&qdrant.QueryPoints{Prefetch: twoPrefetches()}, codes.InvalidArgument, "Wrong input: query: missing"},
		"bad prefetch":            {&qdrant.QueryPoints{Prefetch: []*qdrant.PrefetchQuery{{Query: qdrant.NewQuery(1, 2), Using: qdrant.PtrOf("a")}}, Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)}, codes.InvalidArgument, "prefetch[0].query.nearest: expected dimension 1, got 2"},
		"prefetch limit 0":        {&qdrant.QueryPoints{Prefetch: []*qdrant.PrefetchQuery{{Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("a"), Limit: qdrant.PtrOf(uint64(0))}}, Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)}, codes.InvalidArgument, "[prefetch[0].limit: value 0 invalid, must be 1 or larger]"},
		"rrf k 0":                 {&qdrant.QueryPoints{Prefetch: twoPrefetches(), Query: qdrant.NewQueryRRF(&qdrant.Rrf{K: qdrant.PtrOf(uint32(0))})}, codes.InvalidArgument, "[query.rrf.k: value 0 invalid"},
		"weights":                 {&qdrant.QueryPoints{Prefetch: twoPrefetches(), Query: qdrant.NewQueryRRF(&qdrant.Rrf{Weights: []float32{1}})}, codes.InvalidArgument, "query.fusion.weights: 1 weights for 2 prefetches"},
		"diversity":               {&qdrant.QueryPoints{Query: qdrant.NewQueryMMR(qdrant.NewVectorInput(1), &qdrant.Mmr{Diversity: qdrant.PtrOf(float32(-1))}), Using: qdrant.PtrOf("a")}, codes.InvalidArgument, "query.mmr.diversity: -1 is out of range 0..1"},
		"missing example":         {&qdrant.QueryPoints{Query: qdrant.NewQueryRecommend(&qdrant.RecommendInput{Positive: []*qdrant.VectorInput{qdrant.NewVectorInputID(qdrant.NewIDNum(9))}}), Using: qdrant.PtrOf("a")}, codes.NotFound, "query.recommend.positive[0]: point 9 not found"},
		"sparse example":          {&qdrant.QueryPoints{Query: qdrant.NewQueryRecommend(&qdrant.RecommendInput{Positive: []*qdrant.VectorInput{qdrant.NewVectorInputSparse([]uint32{1}, []float32{1})}}), Using: qdrant.PtrOf("a")}, codes.InvalidArgument, "query.recommend.positive[0]: search by sparse vector is not supported"},
		"discover":                {&qdrant.QueryPoints{Query: qdrant.NewQueryDiscover(&qdrant.DiscoverInput{})}, codes.InvalidArgument, "query.discover is not supported"},
		"lookup collection":       {&qdrant.QueryPoints{Query: qdrant.NewQueryID(qdrant.NewIDNum(1)), Using: qdrant.PtrOf("a"), LookupFrom: &qdrant.LookupLocation{CollectionName: "nope"}}, codes.NotFound, `lookup_from.collection: no collection named "nope"`},
	} {
		tc.qp.CollectionName = "f"
		_, err := e.client.Query(c, tc.qp)
		wantCode(t, err, tc.code, tc.msg)
		if t.Failed() {
			t.Fatalf("%s", name)
		}
	}
	_, err := e.client.QueryBatch(c, &qdrant.QueryBatchPoints{CollectionName: "f", QueryPoints: []*qdrant.QueryPoints{{Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("a")}, {Query: qdrant.NewQueryID(qdrant.NewIDNum(8)), Using: qdrant.PtrOf("a")}}})
	wantCode(t, err, codes.NotFound, "query_points[1].query.nearest: point 8 not found")
}

func groupsString(gs []*qdrant.PointGroup) string {
	var parts []string
	for _, g := range gs {
		var id string
		switch k := g.GetId().GetKind().(type) {
		case *qdrant.GroupId_StringValue:
			id = k.StringValue
		case *qdrant.GroupId_UnsignedValue:
			id = fmt.Sprintf("u%d", k.UnsignedValue)
		case *qdrant.GroupId_IntegerValue:
			id = fmt.Sprintf("i%d", k.IntegerValue)
		}
		parts = append(parts, fmt.Sprintf("%s:%v", id, ids(g.GetHits())))
	}
	return strings.Join(parts, " ")
}

func TestGroupsAndRecommend(t *testing.T) {
	e := fusionEnv(t)
	c := ctx(t)
	e.createSimple("docs", 1, qdrant.Distance_Dot)
	e.upsert("docs", point(7, []float32{1}, map[string]any{"title": "seven"}))
	pc := e.client.GetPointsClient()

	gs := must(e.client.QueryGroups(c, &qdrant.QueryPointGroups{CollectionName: "f", Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("a"), GroupBy: "g", GroupSize: qdrant.PtrOf(uint64(1)),
		WithLookup: &qdrant.WithLookup{Collection: "docs"}}))
	if got := groupsString(gs); got != "x:[1] y:[2] u7:[3]" {
		t.Fatalf("query groups: %s", got)
	}
	if l := gs[2].GetLookup(); l.GetId().GetNum() != 7 || l.GetPayload()["title"].GetStringValue() != "seven" || gs[0].GetLookup() != nil {
		t.Fatalf("lookup: %v", gs)
	}
	// Defaults: 3 points per group.
	gs = must(e.client.QueryGroups(c, &qdrant.QueryPointGroups{CollectionName: "f", Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("b"), GroupBy: "g", WithPayload: qdrant.NewWithPayload(true)}))
	if got := groupsString(gs); got != "x:[2 1] y:[2] u7:[3]" || gs[0].GetHits()[0].GetPayload()["g"] == nil {
		t.Fatalf("query groups defaults: %s", got)
	}
	sg, err := pc.SearchGroups(c, &qdrant.SearchPointGroups{CollectionName: "f", Vector: []float32{1}, VectorName: qdrant.PtrOf("b"), GroupBy: "g", GroupSize: 2, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := groupsString(sg.GetResult().GetGroups()); got != "x:[2 1] y:[2]" {
		t.Fatalf("search groups: %s", got)
	}
	rg, err := pc.RecommendGroups(c, &qdrant.RecommendPointGroups{CollectionName: "f", Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, Using: qdrant.PtrOf("a"), GroupBy: "g", GroupSize: 1, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := groupsString(rg.GetResult().GetGroups()); got != "x:[2] y:[2] u7:[3]" {
		t.Fatalf("recommend groups: %s", got)
	}

	// Recommend: positive 1 under a (value 3), average: 2 → 6, 3 → 3.
	r, err := pc.Recommend(c, &qdrant.RecommendPoints{CollectionName: "f", Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, Using: qdrant.PtrOf("a"), Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := scored(r.GetResult()); got != "2:6.0000 3:3.0000" {
		t.Fatalf("recommend: %s", got)
	}
	// sum_scores with a vector example: +[1]·a − 1's a (3): 1 → 3 − 9, 2 → 2 − 6, 3 → 1 − 3.
	r, err = pc.Recommend(c, &qdrant.RecommendPoints{CollectionName: "f", PositiveVectors: []*qdrant.Vector{qdrant.NewVector(1)}, Negative: []*qdrant.PointId{qdrant.NewIDNum(1)},
		Strategy: qdrant.RecommendStrategy_SumScores.Enum(), Using: qdrant.PtrOf("a"), Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := scored(r.GetResult()); got != "3:-2.0000 2:-4.0000" {
		t.Fatalf("recommend sum: %s", got)
	}
	rb, err := pc.RecommendBatch(c, &qdrant.RecommendBatchPoints{CollectionName: "f", RecommendPoints: []*qdrant.RecommendPoints{
		{Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, Using: qdrant.PtrOf("a"), Limit: 1},
		{Positive: []*qdrant.PointId{qdrant.NewIDNum(3)}, Using: qdrant.PtrOf("b"), Limit: 1, Offset: qdrant.PtrOf(uint64(1))},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := [][]uint64{ids(rb.GetResult()[0].GetResult()), ids(rb.GetResult()[1].GetResult())}; !slices.Equal(got[0], []uint64{2}) || !slices.Equal(got[1], []uint64{1}) {
		t.Fatalf("recommend batch: %v", got)
	}

	_, err = pc.Recommend(c, &qdrant.RecommendPoints{CollectionName: "f", Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, Using: qdrant.PtrOf("a")})
	wantCode(t, err, codes.InvalidArgument, "[limit: value 0 invalid, must be 1 or larger]")
	_, err = pc.Recommend(c, &qdrant.RecommendPoints{CollectionName: "f", Negative: []*qdrant.PointId{qdrant.NewIDNum(1)}, Using: qdrant.PtrOf("a"), Limit: 1})
	wantCode(t, err, codes.InvalidArgument, "the average_vector strategy needs at least one positive example")
	_, err = pc.Recommend(c, &qdrant.RecommendPoints{CollectionName: "f", PositiveVectors: []*qdrant.Vector{qdrant.NewVectorSparse([]uint32{1}, []float32{1})}, Using: qdrant.PtrOf("a"), Limit: 1})
	wantCode(t, err, codes.InvalidArgument, "positive_vectors[0]: search by sparse vector is not supported")
	_, err = pc.RecommendBatch(c, &qdrant.RecommendBatchPoints{CollectionName: "f", RecommendPoints: []*qdrant.RecommendPoints{{Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, Using: qdrant.PtrOf("a"), Limit: 1}, {Using: qdrant.PtrOf("a"), Limit: 1}}})
	wantCode(t, err, codes.InvalidArgument, "recommend_points[1].query.recommend.positive: the average_vector strategy needs at least one positive example")
	_, err = pc.SearchGroups(c, &qdrant.SearchPointGroups{CollectionName: "f", Vector: []float32{1}, VectorName: qdrant.PtrOf("a"), GroupBy: "g", Limit: 2})
	wantCode(t, err, codes.InvalidArgument, "[group_size: value 0 invalid, must be 1 or larger]")
	_, err = pc.SearchGroups(c, &qdrant.SearchPointGroups{CollectionName: "f", Vector: []float32{1}, VectorName: qdrant.PtrOf("a"), GroupSize: 1, Limit: 2})
	wantCode(t, err, codes.InvalidArgument, "[group_by: must not be empty]")
	_, err = e.client.QueryGroups(c, &qdrant.QueryPointGroups{CollectionName: "f", Query: qdrant.NewQuery(1), Using: qdrant.PtrOf("a"), GroupBy: "g", WithLookup: &qdrant.WithLookup{Collection: "nope"}})
	wantCode(t, err, codes.NotFound, `with_lookup.collection: no collection named "nope"`)
	_, err = e.client.QueryGroups(c, &qdrant.QueryPointGroups{CollectionName: "f", Query: qdrant.NewQuery(1, 2), Using: qdrant.PtrOf("a"), GroupBy: "g"})
	wantCode(t, err, codes.InvalidArgument, "query.nearest: expected dimension 1, got 2")
}

// TestQueryReadOnlyKey: the query calls only read.
func TestQueryReadOnlyKey(t *testing.T) {
	e := newEnv(t, Options{APIKey: "rw", ReadOnlyAPIKey: "ro"})
	e.client = e.newClient("rw")
	e.createSimple("r", 1, qdrant.Distance_Dot)
	e.upsert("r", point(1, []float32{1}, map[string]any{"g": "a"}), point(2, []float32{2}, map[string]any{"g": "b"}))
	ro := e.newClient("ro")
	c := ctx(t)
	pc := ro.GetPointsClient()
	if _, err := ro.Query(c, &qdrant.QueryPoints{CollectionName: "r", Prefetch: []*qdrant.PrefetchQuery{{Query: qdrant.NewQuery(1)}}, Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.QueryGroups(c, &qdrant.QueryPointGroups{CollectionName: "r", Query: qdrant.NewQuery(1), GroupBy: "g"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Recommend(c, &qdrant.RecommendPoints{CollectionName: "r", Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.RecommendBatch(c, &qdrant.RecommendBatchPoints{CollectionName: "r", RecommendPoints: []*qdrant.RecommendPoints{{Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, Limit: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.RecommendGroups(c, &qdrant.RecommendPointGroups{CollectionName: "r", Positive: []*qdrant.PointId{qdrant.NewIDNum(1)}, GroupBy: "g", GroupSize: 1, Limit: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.SearchGroups(c, &qdrant.SearchPointGroups{CollectionName: "r", Vector: []float32{1}, GroupBy: "g", GroupSize: 1, Limit: 1}); err != nil {
		t.Fatal(err)
	}
}
