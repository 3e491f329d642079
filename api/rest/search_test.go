package rest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestScores checks every distance against hand-computed scores, through
// query, search and both batch forms.
func TestScores(t *testing.T) {
	e := newEnv(t, Options{})
	type hit struct {
		id    string
		score float64
	}
	cases := []struct {
		distance string
		points   string // three points, ids 1..3
		query    string
		want     []hit // best first
	}{
		// cos([3,4],[1,0]) = 3/5; cos([3,4],[0,1]) = 4/5; cos([3,4],[1,1]) = 7/(5√2).
		{"Cosine", `[1, 0], [0, 1], [1, 1]`, `[3, 4]`, []hit{{"3", 7 / (5 * math.Sqrt2)}, {"2", 0.8}, {"1", 0.6}}},
		// [2,1]·[1,2] = 4; [2,1]·[3,-1] = 5; [2,1]·[0.5,0.5] = 1.5.
		{"Dot", `[1, 2], [3, -1], [0.5, 0.5]`, `[2, 1]`, []hit{{"2", 5}, {"1", 4}, {"3", 1.5}}},
		// |[1,1]-[0,0]| = √2; |[4,5]-[1,1]| = 5; |[1,2]-[1,1]| = 1; distances: lower is better.
		{"Euclid", `[0, 0], [4, 5], [1, 2]`, `[1, 1]`, []hit{{"3", 1}, {"1", math.Sqrt2}, {"2", 5}}},
		// |1|+|1| = 2; |-2|+|3| = 5; |4|+|0| = 4.
		{"Manhattan", `[1, 1], [-2, 3], [4, 0]`, `[0, 0]`, []hit{{"1", 2}, {"3", 4}, {"2", 5}}},
	}
	check := func(t *testing.T, pts []any, want []hit) {
		t.Helper()
		if len(pts) != len(want) {
			t.Fatalf("got %d hits, want %d: %v", len(pts), len(want), pts)
		}
		for i, w := range want {
			id, score := fmt.Sprint(field(pts[i], "id")), field(pts[i], "score").(float64)
			if id != w.id || !near(score, w.score) {
				t.Fatalf("hit %d: got id %s score %v, want id %s score %v", i, id, score, w.id, w.score)
			}
			if v, ok := field(pts[i], "version").(float64); !ok || v < 1 {
				t.Fatalf("hit %d: version %v", i, field(pts[i], "version"))
			}
		}
	}
	for _, c := range cases {
		t.Run(c.distance, func(t *testing.T) {
			name := strings.ToLower(c.distance)
			e.create(name, fmt.Sprintf(`{"vectors": {"size": 2, "distance": %q}}`, c.distance))
			vecs := strings.Split(c.points, "], ")
			for i := range vecs {
				vecs[i] = strings.TrimSuffix(vecs[i], "]") + "]"
			}
			e.write("PUT", "/collections/"+name+"/points", fmt.Sprintf(`{"batch": {"ids": [1, 2, 3], "vectors": [%s]}}`, strings.Join(vecs, ", ")))
			for _, exact := range []string{"true", "false"} {
				body := fmt.Sprintf(`{"query": %s, "params": {"exact": %s, "hnsw_ef": 32}}`, c.query, exact)
				check(t, points(t, e.ok("POST", "/collections/"+name+"/points/query", body)), c.want)
			}
			check(t, points(t, e.ok("POST", "/collections/"+name+"/points/query", fmt.Sprintf(`{"query": {"nearest": %s}}`, c.query))), c.want)
			res := e.ok("POST", "/collections/"+name+"/points/search", fmt.Sprintf(`{"vector": %s, "limit": 3}`, c.query))
			check(t, res.([]any), c.want)
			res = e.ok("POST", "/collections/"+name+"/points/search/batch", fmt.Sprintf(`{"searches": [{"vector": %s, "limit": 3}, {"vector": %s, "limit": 1, "offset": 1}]}`, c.query, c.query))
			check(t, res.([]any)[0].([]any), c.want)
			check(t, res.([]any)[1].([]any), c.want[1:2])
			res = e.ok("POST", "/collections/"+name+"/points/query/batch", fmt.Sprintf(`{"searches": [{"query": %s}, {"query": %s, "limit": 2}]}`, c.query, c.query))
			check(t, points(t, res.([]any)[0]), c.want)
			check(t, points(t, res.([]any)[1]), c.want[:2])
			// score_threshold keeps the hits at least as good as it.
			th := c.want[1].score
			check(t, points(t, e.ok("POST", "/collections/"+name+"/points/query", fmt.Sprintf(`{"query": %s, "score_threshold": %v}`, c.query, th))), c.want[:2])
		})
	}
}

func TestQueryForms(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("n", `{"vectors": {"img": {"size": 2, "distance": "Dot"}, "txt": {"size": 1, "distance": "Dot"}}, "sparse_vectors": {"kw": {}}}`)
	e.write("PUT", "/collections/n/points", `{"points": [
		{"id": 1, "vector": {"img": [1, 0], "txt": [1]}, "payload": {"g": "x"}},
		{"id": 2, "vector": {"img": [2, 0], "txt": [3]}, "payload": {"g": "y"}},
		{"id": 3, "vector": {"img": [3, 0], "txt": [2]}, "payload": {"g": "x"}},
		{"id": 4, "vector": {"txt": [9]}, "payload": {"g": "x"}}]}`)

	q := func(body string) string {
		return ids(t, points(t, e.ok("POST", "/collections/n/points/query", body)))
	}
	if got := q(`{"query": [1, 0], "using": "img"}`); got != "3,2,1" {
		t.Fatalf("using img: %s", got)
	}
	if got := q(`{"query": [1], "using": "txt", "limit": 2, "offset": 1}`); got != "2,3" {
		t.Fatalf("using txt with offset: %s", got)
	}
	// By id: the point's own vector, and the point is left out.
	if got := q(`{"query": 2, "using": "img"}`); got != "3,1" {
		t.Fatalf("by id: %s", got)
	}
	if got := q(`{"query": {"nearest": 1}, "using": "txt", "filter": {"must": [{"key": "g", "match": {"value": "x"}}]}}`); got != "4,3" {
		t.Fatalf("by id with filter: %s", got)
	}
	e.fail("POST", "/collections/n/points/query", `{"query": 99, "using": "img"}`, http.StatusNotFound, "Not found: query.nearest: point 99 not found")
	e.fail("POST", "/collections/n/points/query", `{"query": 4, "using": "img"}`, http.StatusBadRequest, `point 4 has no vector "img"`)
	// Without a query: points in id order.
	res := points(t, e.ok("POST", "/collections/n/points/query", `{"limit": 2, "offset": 1, "with_payload": true}`))
	jsonEqual(t, res, `[{"id": 2, "version": 1, "score": 0, "payload": {"g": "y"}, "vector": null}, {"id": 3, "version": 1, "score": 0, "payload": {"g": "x"}, "vector": null}]`)

	unsupportedBodies := map[string]string{
		`{"query": {"order_by": "g"}}`:                              "query.order_by is not supported",
		`{"query": {"indices": [1], "values": [1]}, "using": "kw"}`: "query: search by sparse vector is not supported",
		`{"query": {"text": "hello", "model": "bert"}}`:             "query: inference",
		`{"query": [[1, 0], [0, 1]], "using": "img"}`:               "query: multivectors",
	}
	for body, msg := range unsupportedBodies {
		e.fail("POST", "/collections/n/points/query", body, http.StatusBadRequest, msg)
	}
	e.fail("POST", "/collections/n/points/query", `{"query": [1, 0]}`, http.StatusBadRequest, "Wrong input: using: the collection has only named vectors; say which one")
	e.fail("POST", "/collections/n/points/query", `{"query": true}`, http.StatusBadRequest, `query: expected a vector, a point id or a query object, got boolean`)
	e.fail("POST", "/collections/n/points/query/batch", `{"searches": [{"query": [1, 0], "using": "img"}, {"query": 77, "using": "img"}]}`, http.StatusNotFound, "searches[1].query.nearest: point 77 not found")
	e.fail("POST", "/collections/n/points/query/batch", `{"searches": [{"query": [1, 0], "using": "img"}, {"query": [1], "using": "txt", "limit": 0}]}`,
		http.StatusUnprocessableEntity, "[searches[1].limit: value 0 invalid, must be 1 or larger]")
	jsonEqual(t, e.ok("POST", "/collections/n/points/query/batch", `{"searches": []}`), `[]`)
	// Mixed batch: searches by vector run as one batch, the rest one by one.
	res2 := e.ok("POST", "/collections/n/points/query/batch", `{"searches": [{"query": 3, "using": "img"}, {"query": [1, 0], "using": "img", "limit": 1}, {"limit": 1}]}`).([]any)
	if got := ids(t, points(t, res2[0])) + "|" + ids(t, points(t, res2[1])) + "|" + ids(t, points(t, res2[2])); got != "2,1|3|1" {
		t.Fatalf("mixed batch: %s", got)
	}
	// The legacy search takes a named vector as {name, vector}.
	res3 := e.ok("POST", "/collections/n/points/search", `{"vector": {"name": "txt", "vector": [1]}, "limit": 2, "with_payload": ["g"]}`)
	jsonEqual(t, res3, `[{"id": 4, "version": 1, "score": 9, "payload": {"g": "x"}, "vector": null}, {"id": 2, "version": 1, "score": 3, "payload": {"g": "y"}, "vector": null}]`)
	e.fail("POST", "/collections/n/points/search", `{"vector": {"name": "txt", "vector": [1]}}`, http.StatusBadRequest, "missing field `limit`")
	e.fail("POST", "/collections/n/points/search", `{"vector": {"name": "kw", "vector": {"indices": [1], "values": [1]}}, "limit": 1}`, http.StatusBadRequest, "search by sparse vector is not supported")
}

func TestWithPayloadAndVector(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	e.write("PUT", "/collections/c/points", `{"points": [{"id": 1, "vector": [1, 2], "payload": {"a": 1, "b": {"c": 2, "d": 3}, "e": "x"}}]}`)
	cases := map[string]string{
		``:                     `{"id": 1, "version": 1, "score": 5, "payload": null, "vector": null}`,
		`"with_payload": true`: `{"id": 1, "version": 1, "score": 5, "payload": {"a": 1, "b": {"c": 2, "d": 3}, "e": "x"}, "vector": null}`,
		`"with_payload": false, "with_vector": true`: `{"id": 1, "version": 1, "score": 5, "payload": null, "vector": [1, 2]}`,
		`"with_payload": ["a", "b.c"]`:               `{"id": 1, "version": 1, "score": 5, "payload": {"a": 1, "b": {"c": 2}}, "vector": null}`,
		`"with_payload": {"include": ["e"]}`:         `{"id": 1, "version": 1, "score": 5, "payload": {"e": "x"}, "vector": null}`,
		`"with_payload": {"exclude": ["b.d", "e"]}`:  `{"id": 1, "version": 1, "score": 5, "payload": {"a": 1, "b": {"c": 2}}, "vector": null}`,
		`"with_vector": [""]`:                        `{"id": 1, "version": 1, "score": 5, "payload": null, "vector": [1, 2]}`,
		`"with_payload": null, "with_vector": null`:  `{"id": 1, "version": 1, "score": 5, "payload": null, "vector": null}`,
	}
	for sel, want := range cases {
		body := `{"query": [1, 2]`
		if sel != "" {
			body += ", " + sel
		}
		jsonEqual(t, points(t, e.ok("POST", "/collections/c/points/query", body+"}"))[0], want)
	}
	e.fail("POST", "/collections/c/points/query", `{"query": [1, 2], "with_payload": {"include": ["a"], "exclude": ["b"]}}`, http.StatusBadRequest, `with_payload: expected {"include": [...]} or {"exclude": [...]}`)
	e.fail("POST", "/collections/c/points/query", `{"query": [1, 2], "with_payload": 1}`, http.StatusBadRequest, "with_payload: expected a boolean, a list of keys or {include|exclude}, got number")
	e.fail("POST", "/collections/c/points/query", `{"query": [1, 2], "with_vector": "yes"}`, http.StatusBadRequest, "with_vector: expected a boolean or a list of vector names, got string")
	e.fail("POST", "/collections/c/points/query", `{"query": [1, 2], "with_vector": ["nope"]}`, http.StatusBadRequest, `Wrong input: with_vectors: no vector named "nope"`)
}

func TestScroll(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	var pts []string
	for i := 1; i <= 25; i++ {
		pts = append(pts, fmt.Sprintf(`{"id": %d, "vector": [%d], "payload": {"even": %v}}`, i, i, i%2 == 0))
	}
	pts = append(pts, `{"id": "00000000-0000-0000-0000-000000000001", "vector": [0]}`)
	e.write("PUT", "/collections/c/points", `{"points": [`+strings.Join(pts, ",")+`]}`)

	var got []string
	offset := "null"
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("scroll does not end")
		}
		res := e.ok("POST", "/collections/c/points/scroll", fmt.Sprintf(`{"limit": 7, "offset": %s, "with_payload": false}`, offset))
		page := points(t, res)
		for _, p := range page {
			got = append(got, fmt.Sprint(field(p, "id")))
			if field(p, "payload") != nil || field(p, "vector") != nil {
				t.Fatalf("unexpected payload or vector: %v", p)
			}
		}
		next := field(res, "next_page_offset")
		if next == nil {
			break
		}
		if s, ok := next.(string); ok {
			offset = fmt.Sprintf("%q", s)
		} else {
			offset = fmt.Sprint(next)
		}
	}
	want := []string{}
	for i := 1; i <= 25; i++ {
		want = append(want, fmt.Sprint(i))
	}
	want = append(want, "00000000-0000-0000-0000-000000000001")
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("scrolled %v", got)
	}
	// Defaults: 10 points, with payload, without vector.
	res := e.ok("POST", "/collections/c/points/scroll", `{"filter": {"must": [{"key": "even", "match": {"value": true}}]}}`)
	page := points(t, res)
	if len(page) != 10 || ids(t, page[:3]) != "2,4,6" || field(res, "next_page_offset") != float64(22) {
		t.Fatalf("filtered page: %v", res)
	}
	jsonEqual(t, page[0], `{"id": 2, "payload": {"even": true}, "vector": null}`)
	jsonEqual(t, points(t, e.ok("POST", "/collections/c/points/scroll", `{"limit": 1, "offset": 3, "with_vector": true}`))[0], `{"id": 3, "payload": {"even": false}, "vector": [3]}`)
	e.fail("POST", "/collections/c/points/scroll", `{"order_by": "even"}`, http.StatusBadRequest, "order_by is not supported")
	jsonEqual(t, e.ok("POST", "/collections/c/points/count", `{"filter": {"must_not": [{"key": "even", "match": {"value": true}}]}, "exact": true}`), `{"count": 14}`)
}

// TestFilters: filters reach the root package, and a bad filter is named
// by its path.
func TestFilters(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	e.write("PUT", "/collections/c/points", `{"points": [
		{"id": 1, "vector": [1], "payload": {"city": "Paris", "n": 5, "tags": ["a", "b"]}},
		{"id": 2, "vector": [2], "payload": {"city": "Rome", "n": 10}},
		{"id": 3, "vector": [3], "payload": {"city": "Paris", "n": 15, "tags": ["b"]}},
		{"id": 4, "vector": [4], "payload": {"city": null}}]}`)
	count := func(filter string) string {
		return fmt.Sprint(field(e.ok("POST", "/collections/c/points/count", `{"filter": `+filter+`}`), "count"))
	}
	for filter, want := range map[string]string{
		`{"must": [{"key": "city", "match": {"value": "Paris"}}]}`:                                                         "2",
		`{"must": {"key": "n", "range": {"gt": 5, "lte": 15}}}`:                                                            "2",
		`{"should": [{"key": "city", "match": {"value": "Rome"}}, {"has_id": [1]}]}`:                                       "2",
		`{"must_not": [{"key": "tags", "match": {"any": ["a"]}}]}`:                                                         "3",
		`{"must": [{"is_null": {"key": "city"}}]}`:                                                                         "1",
		`{"must": [{"is_empty": {"key": "tags"}}]}`:                                                                        "2",
		`{"must": [{"has_id": [1, 2, "00000000-0000-0000-0000-000000000009"]}, {"key": "n", "values_count": {"gte": 1}}]}`: "2",
		`null`: "4",
	} {
		if got := count(filter); got != want {
			t.Errorf("filter %s: count %s, want %s", filter, got, want)
		}
	}
	res := points(t, e.ok("POST", "/collections/c/points/query", `{"query": [1], "filter": {"must": [{"key": "city", "match": {"value": "Paris"}}]}}`))
	if got := ids(t, res); got != "3,1" {
		t.Fatalf("filtered query: %s", got)
	}
	// A bad filter's exact message: its path from the request's field.
	e.fail("POST", "/collections/c/points/scroll", `{"filter": {"must": [{"key": "city", "match": {"valeu": "Paris"}}]}}`,
		http.StatusBadRequest, `Format error in JSON body: filter.must[0].match: unknown field "valeu"`)
	r := e.fail("POST", "/collections/c/points/search/batch", `{"searches": [{"vector": [1], "limit": 1}, {"vector": [1], "limit": 1, "filter": {"should": [{"key": "n", "range": {"gt": "five"}}]}}]}`,
		http.StatusBadRequest, "searches[1].filter.should[0].range.gt")
	if want := `Format error in JSON body: searches[1].filter.should[0].range.gt: invalid datetime "five"`; r.errMsg() != want {
		t.Fatalf("got %q, want %q", r.errMsg(), want)
	}
	e.fail("POST", "/collections/c/points/count", `{"filter": {"must": [{"has_vector": "nope"}]}}`, http.StatusBadRequest, `Wrong input: filter.must[0].has_vector`)
	e.fail("POST", "/collections/c/points/count", `{"filter": [1]}`, http.StatusBadRequest, "filter: expected object, got array")
}

// TestIndexedSearch: once a segment has an HNSW graph, the info counts its
// vectors and an approximate query (with hnsw_ef) agrees with an exact one.
func TestIndexedSearch(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 8, "distance": "Euclid"}, "optimizers_config": {"indexing_threshold": 1}, "hnsw_config": {"m": 16, "ef_construct": 64, "full_scan_threshold": 10}}`)
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() string {
		parts := make([]string, 8)
		for i := range parts {
			parts[i] = fmt.Sprintf("%.4f", rng.Float64())
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	var idList, vecs []string
	for i := 1; i <= 500; i++ {
		idList, vecs = append(idList, fmt.Sprint(i)), append(vecs, vec())
	}
	e.write("PUT", "/collections/c/points", `{"batch": {"ids": [`+strings.Join(idList, ",")+`], "vectors": [`+strings.Join(vecs, ",")+`]}}`)
	c, err := e.db.Collection("c")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Optimize(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitIndexed(t.Context()); err != nil {
		t.Fatal(err)
	}
	info := e.ok("GET", "/collections/c", nil)
	if field(info, "indexed_vectors_count") != float64(500) || field(info, "points_count") != float64(500) {
		t.Fatalf("info: %v", info)
	}
	// HNSW is approximate: ask for 45 of the 50 true neighbours.
	found := 0
	for range 10 {
		q := vec()
		exact := strings.Split(ids(t, points(t, e.ok("POST", "/collections/c/points/query", `{"query": `+q+`, "limit": 5, "params": {"exact": true}}`))), ",")
		approx := strings.Split(ids(t, points(t, e.ok("POST", "/collections/c/points/query", `{"query": `+q+`, "limit": 5, "params": {"hnsw_ef": 128}}`))), ",")
		for _, id := range approx {
			if slices.Contains(exact, id) {
				found++
			}
		}
	}
	if found < 45 {
		t.Errorf("HNSW found %d of the 50 nearest neighbours", found)
	}
}
