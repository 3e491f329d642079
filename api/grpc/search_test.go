package grpcapi

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestScores checks each distance against hand-computed scores for the
// query q = (1, 2, 3) and the points p1 = (1, 0, 0), p2 = (0, 2, 0),
// p3 = (1, 1, 1).
func TestScores(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	sqrt := func(x float64) float32 { return float32(math.Sqrt(x)) }
	for _, tc := range []struct {
		d    qdrant.Distance
		want []float32 // scores of p3, p2, p1: the order for every distance
	}{
		// q·p / (|q| |p|), |q| = √14.
		{qdrant.Distance_Cosine, []float32{6 / (sqrt(3) * sqrt(14)), 4 / (2 * sqrt(14)), 1 / sqrt(14)}},
		{qdrant.Distance_Dot, []float32{6, 4, 1}},
		// √(Σ (q_i - p_i)²): √(0+1+4), √(1+0+9), √(0+4+9).
		{qdrant.Distance_Euclid, []float32{sqrt(5), sqrt(10), sqrt(13)}},
		// Σ |q_i - p_i|: 0+1+2, 1+0+3, 0+2+3.
		{qdrant.Distance_Manhattan, []float32{3, 4, 5}},
	} {
		name := tc.d.String()
		e.createSimple(name, 3, tc.d)
		e.upsert(name, point(1, []float32{1, 0, 0}, nil), point(2, []float32{0, 2, 0}, nil), point(3, []float32{1, 1, 1}, nil))
		check := func(how string, hits []*qdrant.ScoredPoint) {
			t.Helper()
			if !slices.Equal(ids(hits), []uint64{3, 2, 1}) {
				t.Fatalf("%s %s: order %v", name, how, ids(hits))
			}
			for i, h := range hits {
				if !near(h.GetScore(), tc.want[i]) {
					t.Errorf("%s %s: score of %d is %v, want %v", name, how, h.GetId().GetNum(), h.GetScore(), tc.want[i])
				}
			}
		}
		check("query", must(e.client.Query(c, &qdrant.QueryPoints{CollectionName: name, Query: qdrant.NewQuery(1, 2, 3)})))
		exact := must(e.client.Query(c, &qdrant.QueryPoints{CollectionName: name, Query: qdrant.NewQueryNearest(qdrant.NewVectorInput(1, 2, 3)), Params: &qdrant.SearchParams{Exact: qdrant.PtrOf(true), HnswEf: qdrant.PtrOf(uint64(32))}}))
		check("exact query", exact)
		res := must(e.client.GetPointsClient().Search(c, &qdrant.SearchPoints{CollectionName: name, Vector: []float32{1, 2, 3}, Limit: 3}))
		check("search", res.GetResult())
	}
}

// filterPoints are the points of TestFilters.
func filterPoints() []*qdrant.PointStruct {
	return []*qdrant.PointStruct{
		point(1, []float32{1, 0}, map[string]any{"city": "Berlin", "n": 1, "tags": []any{"a", "b"}, "loc": map[string]any{"lon": 13.4, "lat": 52.52}, "when": "2024-01-01T00:00:00Z", "text": "the quick brown fox", "items": []any{map[string]any{"k": "x", "v": 1}}, "maybe": nil}),
		point(2, []float32{0, 1}, map[string]any{"city": "London", "n": 5, "tags": []any{"b"}, "loc": map[string]any{"lon": -0.12, "lat": 51.5}, "when": "2024-06-01T00:00:00Z", "text": "lazy dog", "items": []any{map[string]any{"k": "y", "v": 2}}}),
		point(3, []float32{1, 1}, map[string]any{"city": "Paris", "n": 10, "tags": []any{}, "loc": map[string]any{"lon": 2.35, "lat": 48.86}, "when": "2025-01-01T00:00:00Z", "text": "quick dog"}),
		point(4, []float32{2, 1}, map[string]any{"city": "Berlin", "n": 7, "flag": true}),
		point(5, []float32{1, 2}, map[string]any{"n": 3.5, "flag": false}),
		point(6, []float32{2, 2}, nil),
	}
}

func TestFilters(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Dot)
	e.upsert("c", filterPoints()...)
	ts := func(s string) *timestamppb.Timestamp {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return timestamppb.New(tm)
	}
	f := func(name string, filter *qdrant.Filter, want ...uint64) {
		t.Helper()
		got := ids(must(e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c", Filter: filter, Limit: qdrant.PtrOf(uint32(100))})))
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
		if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: filter})); n != uint64(len(want)) {
			t.Errorf("%s: count %d, want %d", name, n, len(want))
		}
	}
	must1 := func(conds ...*qdrant.Condition) *qdrant.Filter { return &qdrant.Filter{Must: conds} }

	f("keyword", must1(qdrant.NewMatch("city", "Berlin")), 1, 4)
	f("integer", must1(qdrant.NewMatchInt("n", 5)), 2)
	f("bool", must1(qdrant.NewMatchBool("flag", true)), 4)
	f("keywords", must1(qdrant.NewMatchKeywords("city", "London", "Paris")), 2, 3)
	f("integers", must1(qdrant.NewMatchInts("n", 1, 7)), 1, 4)
	f("except keywords", must1(qdrant.NewMatchExceptKeywords("city", "Berlin")), 2, 3)
	f("except integers", must1(qdrant.NewMatchExceptInts("n", 1, 5)), 3, 4, 5)
	f("range", must1(qdrant.NewRange("n", &qdrant.Range{Gte: qdrant.PtrOf(5.0), Lt: qdrant.PtrOf(10.0)})), 2, 4)
	f("datetime range", must1(qdrant.NewDatetimeRange("when", &qdrant.DatetimeRange{Gte: ts("2024-03-01T00:00:00Z")})), 2, 3)
	f("geo radius", must1(qdrant.NewGeoRadius("loc", 52.5, 13.4, 10_000)), 1)
	f("geo bounding box", must1(qdrant.NewGeoBoundingBox("loc", 53, -1, 48, 3)), 2, 3)
	f("geo polygon", must1(qdrant.NewGeoPolygon("loc", &qdrant.GeoLineString{Points: []*qdrant.GeoPoint{
		{Lon: -1, Lat: 53}, {Lon: 3, Lat: 53}, {Lon: 3, Lat: 48}, {Lon: -1, Lat: 48}, {Lon: -1, Lat: 53},
	}})), 2, 3)
	f("values count", must1(qdrant.NewValuesCount("tags", &qdrant.ValuesCount{Gte: qdrant.PtrOf(uint64(1))})), 1, 2)
	f("is empty", must1(qdrant.NewIsEmpty("tags")), 3, 4, 5, 6)
	f("is null", must1(qdrant.NewIsNull("maybe")), 1)
	f("has id", must1(qdrant.NewHasID(qdrant.NewIDNum(2), qdrant.NewIDNum(4), qdrant.NewIDNum(77))), 2, 4)
	f("has vector", must1(qdrant.NewHasVector("")), 1, 2, 3, 4, 5, 6)
	f("text", must1(qdrant.NewMatchText("text", "quick")), 1, 3)
	f("text any", must1(qdrant.NewMatchTextAny("text", "fox cat")), 1)
	f("phrase", must1(qdrant.NewMatchPhrase("text", "lazy dog")), 2)
	f("nested", must1(qdrant.NewNestedFilter("items", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("k", "y"), qdrant.NewRange("v", &qdrant.Range{Gte: qdrant.PtrOf(2.0)})}})), 2)
	f("nested no element matches both", must1(qdrant.NewNestedFilter("items", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("k", "x"), qdrant.NewRange("v", &qdrant.Range{Gte: qdrant.PtrOf(2.0)})}})))
	f("filter as condition", must1(qdrant.NewFilterAsCondition(&qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatch("city", "Paris"), qdrant.NewMatch("city", "London")}})), 2, 3)
	f("should", &qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatch("city", "Paris"), qdrant.NewMatchBool("flag", false)}}, 3, 5)
	f("must and must_not", &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("n", &qdrant.Range{Gte: qdrant.PtrOf(3.0)})}, MustNot: []*qdrant.Condition{qdrant.NewMatch("city", "Berlin")}}, 2, 3, 5)
	f("min_should", &qdrant.Filter{MinShould: &qdrant.MinShould{MinCount: 2, Conditions: []*qdrant.Condition{
		qdrant.NewMatch("city", "Berlin"), qdrant.NewRange("n", &qdrant.Range{Gte: qdrant.PtrOf(5.0)}), qdrant.NewMatchBool("flag", true),
	}}}, 4)
	// A field condition with several predicates: all hold.
	f("two predicates", must1(&qdrant.Condition{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{
		Key: "n", Range: &qdrant.Range{Gt: qdrant.PtrOf(1.0)}, Match: &qdrant.Match{MatchValue: &qdrant.Match_Integer{Integer: 10}},
	}}}), 3)

	// Filtered search and query.
	hits := must(e.client.Query(c, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQuery(1, 1), Filter: must1(qdrant.NewMatch("city", "Berlin")), WithPayload: qdrant.NewWithPayloadInclude("city")}))
	if !slices.Equal(ids(hits), []uint64{4, 1}) || hits[0].GetScore() != 3 || hits[0].GetPayload()["city"].GetStringValue() != "Berlin" || len(hits[0].GetPayload()) != 1 {
		t.Fatalf("filtered query: %v", hits)
	}

	// Errors name the path of the bad part.
	_, err := e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: &qdrant.Filter{Should: []*qdrant.Condition{qdrant.NewMatch("a", "b"), {}}}})
	wantCode(t, err, codes.InvalidArgument, "filter.should[1]: empty condition")
	_, err = e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: must1(&qdrant.Condition{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{Key: "loc", GeoPolygon: &qdrant.GeoPolygon{}}}})})
	wantCode(t, err, codes.InvalidArgument, "filter.must[0].geo_polygon.exterior: missing")
	_, err = e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: must1(qdrant.NewGeoRadius("loc", 95, 0, 1))})
	wantCode(t, err, codes.InvalidArgument, "filter.must[0].geo_radius.center.lat: 95 out of range")
	_, err = e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: must1(&qdrant.Condition{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{Key: "x", Match: &qdrant.Match{}}}})})
	wantCode(t, err, codes.InvalidArgument, "filter.must[0].match: empty match")
	_, err = e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: must1(&qdrant.Condition{ConditionOneOf: &qdrant.Condition_Field{Field: &qdrant.FieldCondition{Key: "x", IsEmpty: qdrant.PtrOf(false)}}})})
	wantCode(t, err, codes.InvalidArgument, "is_empty: false is not supported")
	_, err = e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: must1(qdrant.NewDatetimeRange("when", &qdrant.DatetimeRange{Lt: &timestamppb.Timestamp{Seconds: math.MaxInt64}}))})
	wantCode(t, err, codes.InvalidArgument, "filter.must[0].datetime_range.lt")
	_, err = e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: must1(qdrant.NewFilterAsCondition(&qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewHasID(&qdrant.PointId{})}}))})
	wantCode(t, err, codes.InvalidArgument, "filter.must[0].must_not[0].has_id[0]: missing point id")
}

func TestQuery(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	err := e.client.CreateCollection(c, &qdrant.CreateCollection{
		CollectionName: "n",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"a": {Size: 2, Distance: qdrant.Distance_Dot},
			"b": {Size: 2, Distance: qdrant.Distance_Euclid},
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 5; i++ {
		x := float32(i)
		e.upsert("n", &qdrant.PointStruct{Id: qdrant.NewIDNum(i), Payload: qdrant.NewValueMap(map[string]any{"i": i}), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
			"a": qdrant.NewVector(x, 1),
			"b": qdrant.NewVector(x, 0),
		})})
	}
	q := func(qp *qdrant.QueryPoints) []*qdrant.ScoredPoint {
		t.Helper()
		qp.CollectionName = "n"
		return must(e.client.Query(c, qp))
	}
	// using, limit, offset, score threshold.
	if got := ids(q(&qdrant.QueryPoints{Query: qdrant.NewQuery(1, 0), Using: qdrant.PtrOf("a"), Limit: qdrant.PtrOf(uint64(2)), Offset: qdrant.PtrOf(uint64(1))})); !slices.Equal(got, []uint64{4, 3}) {
		t.Fatalf("offset: %v", got)
	}
	if got := ids(q(&qdrant.QueryPoints{Query: qdrant.NewQuery(2.2, 0), Using: qdrant.PtrOf("b"), ScoreThreshold: qdrant.PtrOf(float32(1.5))})); !slices.Equal(got, []uint64{2, 3, 1}) {
		t.Fatalf("euclid with threshold: %v", got)
	}
	// By id: the point's own vector, the point left out.
	hits := q(&qdrant.QueryPoints{Query: qdrant.NewQueryID(qdrant.NewIDNum(1)), Using: qdrant.PtrOf("b"), Limit: qdrant.PtrOf(uint64(2)), WithVectors: qdrant.NewWithVectorsInclude("b"), WithPayload: qdrant.NewWithPayload(true)})
	if !slices.Equal(ids(hits), []uint64{2, 3}) || hits[0].GetScore() != 1 || hits[0].GetPayload()["i"].GetIntegerValue() != 2 {
		t.Fatalf("by id: %v", hits)
	}
	if v := hits[0].GetVectors().GetVectors().GetVectors(); len(v) != 1 || !slices.Equal(v["b"].GetDenseVector().GetData(), []float32{2, 0}) {
		t.Fatalf("by id vectors: %v", v)
	}
	// No query: points in id order with score 0.
	hits = q(&qdrant.QueryPoints{Limit: qdrant.PtrOf(uint64(2)), Offset: qdrant.PtrOf(uint64(1)), Filter: &qdrant.Filter{MustNot: []*qdrant.Condition{qdrant.NewHasID(qdrant.NewIDNum(2))}}})
	if !slices.Equal(ids(hits), []uint64{3, 4}) || hits[0].GetScore() != 0 {
		t.Fatalf("scroll query: %v", hits)
	}

	// Batches.
	batch := must(e.client.QueryBatch(c, &qdrant.QueryBatchPoints{CollectionName: "n", QueryPoints: []*qdrant.QueryPoints{
		{Query: qdrant.NewQuery(1, 0), Using: qdrant.PtrOf("a"), Limit: qdrant.PtrOf(uint64(1))},
		{Query: qdrant.NewQueryID(qdrant.NewIDNum(1)), Using: qdrant.PtrOf("b"), Limit: qdrant.PtrOf(uint64(1))},
		{Limit: qdrant.PtrOf(uint64(1))},
		{Query: qdrant.NewQuery(0, 0), Using: qdrant.PtrOf("b"), Limit: qdrant.PtrOf(uint64(1))},
	}}))
	var got []uint64
	for _, r := range batch {
		got = append(got, ids(r.GetResult())...)
	}
	if !slices.Equal(got, []uint64{5, 2, 1, 1}) {
		t.Fatalf("query batch: %v", got)
	}
	sb := must(e.client.GetPointsClient().SearchBatch(c, &qdrant.SearchBatchPoints{CollectionName: "n", SearchPoints: []*qdrant.SearchPoints{
		{Vector: []float32{1, 0}, VectorName: qdrant.PtrOf("a"), Limit: 2},
		{Vector: []float32{10, 0}, VectorName: qdrant.PtrOf("b"), Limit: 1, WithPayload: qdrant.NewWithPayload(true)},
	}}))
	if r := sb.GetResult(); len(r) != 2 || !slices.Equal(ids(r[0].GetResult()), []uint64{5, 4}) || !slices.Equal(ids(r[1].GetResult()), []uint64{5}) || r[1].GetResult()[0].GetPayload()["i"].GetIntegerValue() != 5 {
		t.Fatalf("search batch: %v", r)
	}

	// Unsupported query kinds and options: InvalidArgument, as REST's 400.
	for name, qp := range map[string]*qdrant.QueryPoints{
		"order_by": {Query: qdrant.NewQueryOrderBy(&qdrant.OrderBy{Key: "i"})},
		"sparse":   {Query: qdrant.NewQuerySparse([]uint32{1}, []float32{1})},
	} {
		qp.CollectionName = "n"
		_, err := e.client.Query(c, qp)
		wantCode(t, err, codes.InvalidArgument, "is not supported by Strata")
		if t.Failed() {
			t.Fatalf("%s", name)
		}
	}
	// Input errors.
	_, err = e.client.Query(c, &qdrant.QueryPoints{CollectionName: "n", Query: qdrant.NewQuery(1, 0)})
	wantCode(t, err, codes.InvalidArgument, "named vectors; say which one")
	_, err = e.client.Query(c, &qdrant.QueryPoints{CollectionName: "n", Query: qdrant.NewQuery(1, 0, 0), Using: qdrant.PtrOf("a")})
	wantCode(t, err, codes.InvalidArgument, "expected dimension 2, got 3")
	_, err = e.client.Query(c, &qdrant.QueryPoints{CollectionName: "n", Query: qdrant.NewQueryID(qdrant.NewIDNum(99)), Using: qdrant.PtrOf("a")})
	wantCode(t, err, codes.NotFound, "query.nearest: point 99 not found")
	_, err = e.client.Query(c, &qdrant.QueryPoints{CollectionName: "n", Query: qdrant.NewQuery(1, 0), Using: qdrant.PtrOf("a"), Limit: qdrant.PtrOf(uint64(0))})
	wantCode(t, err, codes.InvalidArgument, "limit: value 0 invalid")
	_, err = e.client.Query(c, &qdrant.QueryPoints{CollectionName: "n", Query: &qdrant.Query{}})
	wantCode(t, err, codes.InvalidArgument, "query: empty or unknown kind of query")
	_, err = e.client.QueryBatch(c, &qdrant.QueryBatchPoints{CollectionName: "n", QueryPoints: []*qdrant.QueryPoints{{Query: qdrant.NewQuery(1, 0), Using: qdrant.PtrOf("a")}, {Query: qdrant.NewQueryOrderBy(&qdrant.OrderBy{Key: "i"})}}})
	wantCode(t, err, codes.InvalidArgument, "query_points[1].query.order_by is not supported")
	_, err = e.client.GetPointsClient().Search(c, &qdrant.SearchPoints{CollectionName: "n", Vector: []float32{1, 0}, VectorName: qdrant.PtrOf("a")})
	wantCode(t, err, codes.InvalidArgument, "limit: value 0 invalid")
	_, err = e.client.Query(c, &qdrant.QueryPoints{CollectionName: "nope", Query: qdrant.NewQuery(1, 0)})
	wantCode(t, err, codes.NotFound, "Collection `nope` doesn't exist!")
}
