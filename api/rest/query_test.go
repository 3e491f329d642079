package rest

import (
	"fmt"
	"math"
	"net/http"
	"testing"
)

// queryEnv: collection "f" with 1-d Dot vectors "a" and "b" (a query [1]
// ranks by value): a: 1→3, 2→2, 3→1; b: 2→5, 3→1, 1→0; payload g.
func queryEnv(t *testing.T) *env {
	e := newEnv(t, Options{})
	e.create("f", `{"vectors": {"a": {"size": 1, "distance": "Dot"}, "b": {"size": 1, "distance": "Dot"}}}`)
	e.write("PUT", "/collections/f/points", `{"points": [
		{"id": 1, "vector": {"a": [3], "b": [0]}, "payload": {"g": "x"}},
		{"id": 2, "vector": {"a": [2], "b": [5]}, "payload": {"g": ["x", "y"]}},
		{"id": 3, "vector": {"a": [1], "b": [1]}, "payload": {"g": 7}}]}`)
	return e
}

// scores returns "id:score" of each point, scores to 4 decimals.
func scores(t *testing.T, pts []any) string {
	t.Helper()
	s := ""
	for i, p := range pts {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%v:%.4f", field(p, "id"), field(p, "score"))
	}
	return s
}

const twoPrefetches = `"prefetch": [{"query": [1], "using": "a", "limit": 3}, {"query": [1], "using": "b", "limit": 3}]`

func TestQueryFusion(t *testing.T) {
	e := queryEnv(t)
	q := func(body string) string {
		t.Helper()
		return scores(t, points(t, e.ok("POST", "/collections/f/points/query", body)))
	}
	// RRF, k = 2: 1: 1/2 + 1/4; 2: 1/3 + 1/2; 3: 1/4 + 1/3.
	if got := q(`{` + twoPrefetches + `, "query": {"fusion": "rrf"}}`); got != "2:0.8333 1:0.7500 3:0.5833" {
		t.Fatalf("rrf: %s", got)
	}
	// k = 1: 1: 1 + 1/3; 2: 1/2 + 1; 3: 1/3 + 1/2. Weights 3 and 1 (k = 2):
	// 1: 0.75 + 0.25, 2: 0.6 + 0.5, 3: 0.5 + 1/3.
	if got := q(`{` + twoPrefetches + `, "query": {"rrf": {"k": 1}}, "limit": 2}`); got != "2:1.5000 1:1.3333" {
		t.Fatalf("rrf k=1: %s", got)
	}
	if got := q(`{` + twoPrefetches + `, "query": {"rrf": {"weights": [3, 1]}}}`); got != "2:1.1000 1:1.0000 3:0.8333" {
		t.Fatalf("weighted rrf: %s", got)
	}
	// DBSF: a → (s+1)/6; b (5, 1, 0; mean 2, sd √7) → (s − 2 + 3√7)/(6√7).
	s7 := math.Sqrt(7)
	b := func(s float64) float64 { return (s - 2 + 3*s7) / (6 * s7) }
	want := fmt.Sprintf("2:%.4f 1:%.4f 3:%.4f", 0.5+b(5), 2.0/3+b(0), 1.0/3+b(1))
	if got := q(`{` + twoPrefetches + `, "query": {"fusion": "dbsf"}}`); got != want {
		t.Fatalf("dbsf: %s, want %s", got, want)
	}
	// A single prefetch object, rescored by another vector, with payloads.
	res := points(t, e.ok("POST", "/collections/f/points/query", `{"prefetch": {"query": [1], "using": "a", "limit": 2}, "query": [1], "using": "b", "with_payload": true}`))
	jsonEqual(t, res, `[{"id": 2, "version": 1, "score": 5, "payload": {"g": ["x", "y"]}, "vector": null}, {"id": 1, "version": 1, "score": 0, "payload": {"g": "x"}, "vector": null}]`)
	// Nested prefetches and a top filter that reaches the leaves.
	body := `{"prefetch": {"prefetch": {"query": [1], "using": "a", "limit": 3}, "query": {"nearest": [1]}, "using": "b", "limit": 2},
		"query": {"nearest": [1]}, "using": "a", "filter": {"must_not": [{"has_id": [2]}]}}`
	if got := q(body); got != "1:3.0000 3:1.0000" {
		t.Fatalf("nested: %s", got)
	}
	// MMR (λ = 0.5): after 1 (relevance 3), 2 scores 0.5·2 − 0.5·(3·2) = −2
	// and 3 scores 0.5·1 − 0.5·(3·1) = −1: 3. Scores are the relevance.
	if got := q(`{"query": {"nearest": [1], "mmr": {"diversity": 0.5, "candidates_limit": 3}}, "using": "a", "limit": 2}`); got != "1:3.0000 3:1.0000" {
		t.Fatalf("mmr: %s", got)
	}
	// Recommend as a query kind.
	if got := q(`{"query": {"recommend": {"positive": [1], "strategy": "sum_scores"}}, "using": "b"}`); got != "2:0.0000 3:0.0000" {
		t.Fatalf("recommend: %s", got)
	}
	// Batch.
	res2 := e.ok("POST", "/collections/f/points/query/batch", `{"searches": [{`+twoPrefetches+`, "query": {"fusion": "rrf"}, "limit": 1}, {"query": 3, "using": "a"}, {"query": [1], "using": "b", "limit": 1}]}`).([]any)
	if got := scores(t, points(t, res2[0])) + " | " + scores(t, points(t, res2[1])) + " | " + scores(t, points(t, res2[2])); got != "2:0.8333 | 1:3.0000 2:2.0000 | 2:5.0000" {
		t.Fatalf("batch: %s", got)
	}
	// Lookup from another collection.
	e.create("o", `{"vectors": {"v": {"size": 1, "distance": "Dot"}}}`)
	e.write("PUT", "/collections/o/points", `{"points": [{"id": 9, "vector": {"v": [-1]}}]}`)
	if got := q(`{"query": 9, "using": "a", "lookup_from": {"collection": "o", "vector": "v"}, "limit": 1}`); got != "3:-1.0000" {
		t.Fatalf("lookup_from: %s", got)
	}
}

func TestQueryErrors(t *testing.T) {
	e := queryEnv(t)
	p := "/collections/f/points/query"
	for _, c := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"query": {"fusion": "rrf"}}`, 400, "Wrong input: query.fusion: fusion needs prefetches to fuse"},
		{`{` + twoPrefetches + `}`, 400, "Wrong input: query: missing; a query with prefetches needs one"},
		{`{"prefetch": [{"query": [1, 2], "using": "a"}], "query": {"fusion": "rrf"}}`, 400, "Wrong input: dimension mismatch: prefetch[0].query.nearest: expected dimension 1, got 2"},
		{`{"prefetch": [{"query": [1], "using": "a", "limit": 0}], "query": {"fusion": "rrf"}}`, 422, "[prefetch[0].limit: value 0 invalid, must be 1 or larger]"},
		{`{"prefetch": 5, "query": {"fusion": "rrf"}}`, 400, "prefetch: expected a prefetch object or a list of them, got number"},
		{`{"prefetch": [{"query": true}], "query": {"fusion": "rrf"}}`, 400, "prefetch[0].query: expected a vector, a point id or a query object, got boolean"},
		{`{` + twoPrefetches + `, "query": {"fusion": "max"}}`, 400, `query.fusion: unknown variant "max", expected rrf or dbsf`},
		{`{` + twoPrefetches + `, "query": {"rrf": {"k": 0}}}`, 422, "[query.rrf.k: value 0 invalid, must be 1 or larger]"},
		{`{` + twoPrefetches + `, "query": {"rrf": {"weights": [1]}}}`, 400, "Wrong input: query.fusion.weights: 1 weights for 2 prefetches"},
		{`{"query": {"nearest": [1], "mmr": {"diversity": 2}}, "using": "a"}`, 400, "Wrong input: query.mmr.diversity: 2 is out of range 0..1"},
		{`{"query": {"nearest": [1], "mmr": {"candidates_limit": -1}}, "using": "a"}`, 400, "query.mmr.candidates_limit: -1 is negative"},
		{`{"query": {"recommend": {"positive": [1], "strategy": "best"}}, "using": "a"}`, 400, `query.recommend.strategy: unknown variant "best"`},
		{`{"query": {"recommend": {"negative": [1]}}, "using": "a"}`, 400, "Wrong input: query.recommend.positive: the average_vector strategy needs at least one positive example"},
		{`{"query": {"recommend": {"positive": [42]}}, "using": "a"}`, 404, "Not found: query.recommend.positive[0]: point 42 not found"},
		{`{"query": {"recommend": {"positive": [{"indices": [1], "values": [1]}]}}, "using": "a"}`, 400, "query.recommend.positive[0]: search by sparse vector is not supported"},
		{`{"query": {"discover": {"target": 1, "context": []}}}`, 400, "query.discover is not supported by Strata"},
		{`{"query": {"context": []}}`, 400, "query.context is not supported by Strata"},
		{`{"query": {"formula": {"sum": []}}}`, 400, "query.formula is not supported by Strata"},
		{`{"query": {"sample": "random"}}`, 400, "query.sample is not supported by Strata"},
		{`{"query": {"nearest": {"indices": [1], "values": [1]}}, "using": "a"}`, 400, "query.nearest: search by sparse vector is not supported"},
		{`{"query": {"whatever": 1}}`, 400, "query: expected a vector, a point id or a query"},
		{`{"query": 1, "using": "a", "lookup_from": {"collection": "nope"}}`, 404, `Not found: lookup_from.collection: no collection named "nope"`},
		{`{"query": 1, "using": "a", "lookup_from": {"vector": "v"}}`, 400, "lookup_from: missing field `collection`"},
		{`{"query": 1, "using": "a", "lookup_from": {"collection": "f", "shard_key": "s"}}`, 400, "lookup_from.shard_key (custom sharding) is not supported"},
	} {
		e.fail("POST", p, c.body, c.status, c.msg)
	}
	e.fail("POST", "/collections/f/points/query/batch", `{"searches": [{"query": [1], "using": "a"}, {"query": [1, 2], "using": "b"}]}`, 400, "Wrong input: dimension mismatch: searches[1].query.nearest: expected dimension 1, got 2")
	e.fail("POST", "/collections/nope/points/query", `{"query": [1]}`, 404, "Collection `nope` doesn't exist!")
}

func TestQueryGroupsEndpoints(t *testing.T) {
	e := queryEnv(t)
	e.create("docs", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	e.write("PUT", "/collections/docs/points", `{"points": [{"id": 7, "vector": [1], "payload": {"title": "seven"}}]}`)
	groups := func(path, body string) any {
		t.Helper()
		return field(e.ok("POST", "/collections/f/points/"+path, body), "groups")
	}
	// 2 is in x and y; 7 is an integer id.
	res := groups("query/groups", `{"query": [1], "using": "a", "group_by": "g", "group_size": 1}`)
	jsonEqual(t, res, `[
		{"id": "x", "hits": [{"id": 1, "version": 1, "score": 3, "payload": null, "vector": null}]},
		{"id": "y", "hits": [{"id": 2, "version": 1, "score": 2, "payload": null, "vector": null}]},
		{"id": 7, "hits": [{"id": 3, "version": 1, "score": 1, "payload": null, "vector": null}]}]`)
	// Defaults: group_size 3, limit 10; with_lookup by name (payload, no vectors).
	res = groups("query/groups", `{"query": [1], "using": "a", "group_by": "g", "with_lookup": "docs", "limit": 3}`)
	jsonEqual(t, res.([]any)[2], `{"id": 7, "hits": [{"id": 3, "version": 1, "score": 1, "payload": null, "vector": null}], "lookup": {"id": 7, "payload": {"title": "seven"}, "vector": null}}`)
	if len(field(res.([]any)[0], "hits").([]any)) != 2 {
		t.Fatalf("default group size: %v", res)
	}
	res = groups("query/groups", `{"query": [1], "using": "a", "group_by": "g", "with_lookup": {"collection": "docs", "with_payload": false, "with_vectors": true}}`)
	jsonEqual(t, field(res.([]any)[2], "lookup"), `{"id": 7, "payload": null, "vector": [1]}`)
	// search/groups with a named vector.
	res = groups("search/groups", `{"vector": {"name": "b", "vector": [1]}, "group_by": "g", "group_size": 2, "limit": 2, "with_payload": ["g"]}`)
	jsonEqual(t, res, `[
		{"id": "x", "hits": [{"id": 2, "version": 1, "score": 5, "payload": {"g": ["x", "y"]}, "vector": null}, {"id": 1, "version": 1, "score": 0, "payload": {"g": "x"}, "vector": null}]},
		{"id": "y", "hits": [{"id": 2, "version": 1, "score": 5, "payload": {"g": ["x", "y"]}, "vector": null}]}]`)
	// recommend/groups.
	res = groups("recommend/groups", `{"positive": [1], "using": "b", "group_by": "g", "group_size": 1, "limit": 5}`)
	if got := fmt.Sprint(res); got != fmt.Sprint(groups("query/groups", `{"query": {"recommend": {"positive": [1]}}, "using": "b", "group_by": "g", "group_size": 1, "limit": 5}`)) {
		t.Fatalf("recommend groups: %s", got)
	}
	if len(res.([]any)) != 3 || field(res.([]any)[0], "id") != "x" {
		t.Fatalf("recommend groups: %v", res)
	}
	for _, c := range []struct {
		path, body string
		status     int
		msg        string
	}{
		{"query/groups", `{"query": [1], "using": "a"}`, 400, "missing field `group_by`"},
		{"query/groups", `{"query": [1], "using": "a", "group_by": ""}`, 422, "[group_by: must not be empty]"},
		{"query/groups", `{"query": [1], "using": "a", "group_by": "g", "group_size": 0}`, 422, "[group_size: value 0 invalid, must be 1 or larger]"},
		{"query/groups", `{"query": [1], "using": "a", "group_by": "g", "with_lookup": 5}`, 400, "with_lookup: expected a collection name or {collection, with_payload, with_vectors}, got number"},
		{"query/groups", `{"query": [1], "using": "a", "group_by": "g", "with_lookup": "nope"}`, 404, `with_lookup.collection: no collection named "nope"`},
		{"search/groups", `{"vector": {"name": "a", "vector": [1]}, "group_by": "g", "limit": 2}`, 400, "missing field `group_size`"},
		{"search/groups", `{"vector": {"name": "a", "vector": [1]}, "group_by": "g", "group_size": 2}`, 400, "missing field `limit`"},
		{"search/groups", `{"group_by": "g", "group_size": 2, "limit": 2}`, 400, "missing field `vector`"},
		{"recommend/groups", `{"positive": [1], "using": "a", "group_by": "g", "limit": 2}`, 400, "missing field `group_size`"},
		{"recommend/groups", `{"positive": [99], "using": "a", "group_by": "g", "group_size": 1, "limit": 2}`, 404, "point 99 not found"},
	} {
		e.fail("POST", "/collections/f/points/"+c.path, c.body, c.status, c.msg)
	}
}

func TestRecommendEndpoints(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("r", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	e.write("PUT", "/collections/r/points", `{"points": [
		{"id": 1, "vector": [1, 0]}, {"id": 2, "vector": [0, 1]}, {"id": 3, "vector": [1, 1]},
		{"id": 4, "vector": [-1, 0]}, {"id": 5, "vector": [2, -1]}]}`)
	rec := func(body string) string {
		t.Helper()
		return scores(t, e.ok("POST", "/collections/r/points/recommend", body).([]any))
	}
	// average_vector: 2·(1,0) − (0,1) = (2,−1): 5 → 5, 3 → 1, 4 → −2.
	if got := rec(`{"positive": [1], "negative": [2], "limit": 3}`); got != "5:5.0000 3:1.0000 4:-2.0000" {
		t.Fatalf("average: %s", got)
	}
	// best_score: 5 → sigmoid(2) = 0.8333, 4 → −sigmoid(0), 3 → −sigmoid(1).
	if got := rec(`{"positive": [1], "negative": [2], "strategy": "best_score", "limit": 3}`); got != "5:0.8333 4:-0.5000 3:-0.7500" {
		t.Fatalf("best_score: %s", got)
	}
	// sum_scores with vectors as examples (nothing excluded), offset 1.
	if got := rec(`{"positive": [[1, 0]], "negative": [[0, 1]], "strategy": "sum_scores", "limit": 2, "offset": 1}`); got != "1:1.0000 3:0.0000" {
		t.Fatalf("sum_scores: %s", got)
	}
	res := e.ok("POST", "/collections/r/points/recommend", `{"positive": [1], "limit": 1, "with_payload": true, "with_vector": true}`).([]any)
	jsonEqual(t, res, `[{"id": 5, "version": 1, "score": 2, "payload": {}, "vector": [2, -1]}]`)
	batch := e.ok("POST", "/collections/r/points/recommend/batch", `{"searches": [{"positive": [1], "limit": 1}, {"positive": [2], "negative": [1], "strategy": "sum_scores", "limit": 2}]}`).([]any)
	// The second: sum of (0,1)· minus (1,0)·: 3 → 1 − 1, 4 → 0 + 1, 5 → −1 − 2.
	if got := scores(t, batch[0].([]any)) + " | " + scores(t, batch[1].([]any)); got != "5:2.0000 | 4:1.0000 3:0.0000" {
		t.Fatalf("batch: %s", got)
	}
	jsonEqual(t, e.ok("POST", "/collections/r/points/recommend/batch", `{"searches": []}`), `[]`)
	e.fail("POST", "/collections/r/points/recommend", `{"positive": [1]}`, 400, "missing field `limit`")
	e.fail("POST", "/collections/r/points/recommend", `{"positive": [1], "limit": 0}`, 422, "[limit: value 0 invalid, must be 1 or larger]")
	e.fail("POST", "/collections/r/points/recommend", `{"negative": [1], "limit": 1}`, 400, "the average_vector strategy needs at least one positive example")
	e.fail("POST", "/collections/r/points/recommend", `{"positive": 1, "limit": 1}`, 400, "positive: expected array")
	e.fail("POST", "/collections/r/points/recommend", `{"positive": [1], "limit": 1, "strategy": "x"}`, 400, `strategy: unknown variant "x"`)
	e.fail("POST", "/collections/r/points/recommend", `{"positive": [1, 9], "limit": 1}`, 404, "query.recommend.positive[1]: point 9 not found")
	e.fail("POST", "/collections/r/points/recommend/batch", `{"searches": [{"positive": [1], "limit": 1}, {"positive": [1]}]}`, 400, "searches[1]: missing field `limit`")
	e.fail("POST", "/collections/r/points/recommend/batch", `{}`, 400, "missing field `searches`")
}

// TestQueryRoutesReadOnly: every query endpoint only reads, so the
// read-only key may call it.
func TestQueryRoutesReadOnly(t *testing.T) {
	e := newEnv(t, Options{APIKey: "rw", ReadOnlyAPIKey: "ro"})
	e.header.Set("api-key", "rw")
	e.create("r", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	e.write("PUT", "/collections/r/points", `{"points": [{"id": 1, "vector": [1], "payload": {"g": "a"}}, {"id": 2, "vector": [2], "payload": {"g": "b"}}]}`)
	e.header.Set("api-key", "ro")
	for path, body := range map[string]string{
		"query":            `{"prefetch": [{"query": [1]}], "query": {"fusion": "rrf"}}`,
		"query/batch":      `{"searches": [{"query": [1]}]}`,
		"query/groups":     `{"query": [1], "group_by": "g"}`,
		"recommend":        `{"positive": [1], "limit": 1}`,
		"recommend/batch":  `{"searches": [{"positive": [1], "limit": 1}]}`,
		"recommend/groups": `{"positive": [1], "group_by": "g", "group_size": 1, "limit": 1}`,
		"search/groups":    `{"vector": [1], "group_by": "g", "group_size": 1, "limit": 1}`,
	} {
		e.ok("POST", "/collections/r/points/"+path, body)
	}
	e.header.Del("api-key")
	e.fail("POST", "/collections/r/points/recommend", `{"positive": [1], "limit": 1}`, http.StatusUnauthorized, "Must provide an API key")
}
