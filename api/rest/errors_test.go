package rest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestBadInput: every kind of bad input gets its status and a message
// naming what is wrong.
func TestBadInput(t *testing.T) {
	e := newEnv(t, Options{MaxBodyBytes: 64 << 10})
	e.create("c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	e.write("PUT", "/collections/c/points", `{"points": [{"id": 1, "vector": [1, 2]}]}`)
	deep := strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)
	cases := []struct {
		method, path, body string
		status             int
		msg                string
	}{
		// Invalid JSON.
		{"PUT", "/collections/c/points", `{"points": [`, 400, "Format error in JSON body: unexpected end of the JSON body"},
		{"PUT", "/collections/c/points", `{points: []}`, 400, "Format error in JSON body: invalid JSON at byte 2: invalid character 'p'"},
		{"POST", "/collections/c/points/query", `{"query": [NaN, 1]}`, 400, "Format error in JSON body: invalid JSON at byte"},
		{"POST", "/collections/c/points/scroll", `[1, 2]`, 400, "Format error in JSON body: body: expected object, got array"},
		// Wrong types, strings for numbers, huge numbers.
		{"POST", "/collections/c/points/scroll", `{"limit": "10"}`, 400, "Format error in JSON body: limit: expected integer, got string"},
		{"POST", "/collections/c/points/scroll", `{"limit": 1e30}`, 400, "Format error in JSON body: limit: 1e30 is not a valid integer"},
		{"POST", "/collections/c/points/scroll", `{"limit": 2.5}`, 400, "Format error in JSON body: limit: 2.5 is not a valid integer"},
		{"PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": ["1", 2]}]}`, 400, "Format error in JSON body: points[0].vector[0]: expected number (32-bit float), got string"},
		{"PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": [1e39, 2]}]}`, 400, "Format error in JSON body: points[0].vector[0]: 1e39 is not a valid number (32-bit float)"},
		{"PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": [1, -1e309]}]}`, 400, "Format error in JSON body: points[0].vector[1]: -1e309 is not a valid number (32-bit float)"},
		{"PUT", "/collections/c/points", `{"points": [{"id": 18446744073709551616, "vector": [1, 2]}]}`, 400, "points[0].id: 18446744073709551616 is not a valid point id"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "score_threshold": 1e39}`, 400, "Format error in JSON body: score_threshold: 1e39 is not a valid number (32-bit float)"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "params": {"exact": "yes"}}`, 400, "Format error in JSON body: params.exact: expected boolean, got string"},
		{"PUT", "/collections/c/points", `{"points": {"id": 1}}`, 400, "Format error in JSON body: points: expected array, got object"},
		// Wrong dimension.
		{"PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": [1, 2, 3]}]}`, 400, "Wrong input: dimension mismatch: points[0].vector: expected dimension 2, got 3"},
		{"PUT", "/collections/c/points", `{"batch": {"ids": [2, 3], "vectors": [[1, 2], [1]]}}`, 400, "Wrong input: dimension mismatch: points[1].vector: expected dimension 2, got 1"},
		{"POST", "/collections/c/points/query", `{"query": [1]}`, 400, "Wrong input: dimension mismatch: query.nearest: expected dimension 2, got 1"},
		{"POST", "/collections/c/points/search", `{"vector": [], "limit": 1}`, 400, "Wrong input: dimension mismatch: vector: expected dimension 2, got 0"},
		// Limits: negative and malformed are 400, 0 breaks Qdrant's minimum
		// (422), above Strata's maximum is 400.
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "limit": -1}`, 400, "Format error in JSON body: limit: -1 is negative; expected a positive integer"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "limit": 0}`, 422, "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "limit": 1000000}`, 400, "Wrong input: limit: 1000000 is out of range 1..100000"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "limit": 9223372036854775807}`, 400, "Wrong input: limit: 9223372036854775807 is out of range 1..100000"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "offset": 5000000}`, 400, "Wrong input: offset: 5000000 is out of range 0..1000000"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "offset": -3}`, 400, "Format error in JSON body: offset: -3 is negative"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "params": {"hnsw_ef": 0}}`, 422, "[params.hnsw_ef: value 0 invalid, must be 1 or larger]"},
		{"POST", "/collections/c/points/query", `{"query": [1, 2], "params": {"hnsw_ef": -5}}`, 400, "params.hnsw_ef: -5 is negative"},
		{"POST", "/collections/c/points/query", `{"limit": 99999, "offset": 5000000}`, 400, "Wrong input: offset: 5000000 is out of range 0..1000000"},
		{"POST", "/collections/c/points/scroll", `{"limit": 200000}`, 400, "Wrong input: limit: 200000 is out of range 1..100000"},
		{"POST", "/collections/c/points/scroll", `{"limit": 0}`, 422, "[limit: value 0 invalid, must be 1 or larger]"},
		{"POST", "/collections/c/points/search", `{"vector": [1, 2], "limit": -10}`, 400, "limit: -10 is negative"},
		// Nesting and size.
		{"PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": [1, 2], "payload": ` + deep + `}]}`, 400, "Format error in JSON body: the JSON body nests deeper than 64 levels"},
		{"PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": [1, 2], "payload": {"s": "` + strings.Repeat("x", 70<<10) + `"}}]}`, 413, "Payload too large: the request body is larger than the limit of 65536 bytes"},
		// Query parameters.
		{"POST", "/collections/c/points/count?timeout=0", `{}`, 400, `timeout: expected a positive number of seconds, got "0"`},
		// Unknown collection.
		{"POST", "/collections/nope/points/query", `{"query": [1, 2]}`, 404, "Not found: Collection `nope` doesn't exist!"},
		{"GET", "/collections/nope/points/1", ``, 404, "Not found: Collection `nope` doesn't exist!"},
		{"DELETE", "/collections/nope/index/x", ``, 404, "Not found: Collection `nope` doesn't exist!"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s %.40s", c.method, c.path, c.body), func(t *testing.T) {
			e.t = t
			e.fail(c.method, c.path, c.body, c.status, c.msg)
		})
	}
	e.t = t
	// Nothing of the refused writes got in; bodies nested up to the limit
	// are fine.
	jsonEqual(t, e.ok("POST", "/collections/c/points/count", `{}`), `{"count": 1}`)
	ok := strings.Repeat(`{"a":`, 60) + "1" + strings.Repeat("}", 60)
	e.write("PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": [1, 2], "payload": `+ok+`}]}`)
}

func TestTimeout(t *testing.T) {
	e := newEnv(t, Options{Timeout: time.Nanosecond})
	e.fail("GET", "/collections", nil, http.StatusRequestTimeout, "Timeout error: the request did not finish within its timeout")
	e.fail("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}}`, http.StatusRequestTimeout, "Timeout error")
}

func TestAuth(t *testing.T) {
	e := newEnv(t, Options{APIKey: "secret-rw", ReadOnlyAPIKey: "secret-ro"})
	// The service endpoints need no key.
	for _, path := range []string{"/", "/healthz", "/livez", "/readyz"} {
		if r := e.do("GET", path, nil); r.status != 200 {
			t.Fatalf("GET %s without key: %d", path, r.status)
		}
	}
	e.fail("GET", "/collections", nil, http.StatusUnauthorized, "Must provide an API key or an Authorization bearer token")
	e.fail("GET", "/no/such/path", nil, http.StatusUnauthorized, "Must provide an API key")
	e.header.Set("api-key", "wrong")
	e.fail("GET", "/collections", nil, http.StatusUnauthorized, "Invalid API key or JWT")
	e.header = http.Header{"Authorization": {"Bearer wrong"}}
	e.fail("GET", "/collections", nil, http.StatusUnauthorized, "Invalid API key or JWT")
	e.header = http.Header{"Authorization": {"Basic secret-rw"}}
	e.fail("GET", "/collections", nil, http.StatusUnauthorized, "Must provide an API key")

	// The read-write key, both header styles.
	e.header = http.Header{"Api-Key": {"secret-rw"}}
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	e.header = http.Header{"Authorization": {"Bearer secret-rw"}}
	e.write("PUT", "/collections/c/points", `{"points": [{"id": 1, "vector": [1]}]}`)

	// The read-only key: every read, no write.
	for _, h := range []http.Header{{"Api-Key": {"secret-ro"}}, {"Authorization": {"Bearer secret-ro"}}} {
		e.header = h
		e.ok("GET", "/collections", nil)
		e.ok("GET", "/collections/c", nil)
		e.ok("GET", "/collections/c/exists", nil)
		e.ok("GET", "/collections/c/points/1", nil)
		e.ok("POST", "/collections/c/points", `{"ids": [1]}`)
		e.ok("POST", "/collections/c/points/scroll", `{}`)
		e.ok("POST", "/collections/c/points/count", `{}`)
		e.ok("POST", "/collections/c/points/search", `{"vector": [1], "limit": 1}`)
		e.ok("POST", "/collections/c/points/search/batch", `{"searches": []}`)
		e.ok("POST", "/collections/c/points/query", `{"query": [1]}`)
		e.ok("POST", "/collections/c/points/query/batch", `{"searches": []}`)
		for _, w := range []struct{ method, path, body string }{
			{"PUT", "/collections/d", `{"vectors": {"size": 1, "distance": "Dot"}}`},
			{"PATCH", "/collections/c", `{}`},
			{"DELETE", "/collections/c", ``},
			{"PUT", "/collections/c/points", `{"points": [{"id": 2, "vector": [1]}]}`},
			{"POST", "/collections/c/points/delete", `{"points": [1]}`},
			{"POST", "/collections/c/points/payload", `{"payload": {"a": 1}, "points": [1]}`},
			{"PUT", "/collections/c/points/payload", `{"payload": {"a": 1}, "points": [1]}`},
			{"POST", "/collections/c/points/payload/delete", `{"keys": ["a"], "points": [1]}`},
			{"POST", "/collections/c/points/payload/clear", `{"points": [1]}`},
			{"PUT", "/collections/c/points/vectors", `{"points": [{"id": 1, "vector": [2]}]}`},
			{"POST", "/collections/c/points/vectors/delete", `{"points": [1], "vector": [""]}`},
			{"POST", "/collections/c/points/batch", `{"operations": []}`},
			{"PUT", "/collections/c/index", `{"field_name": "a", "field_schema": "keyword"}`},
			{"DELETE", "/collections/c/index/a", ``},
		} {
			e.fail(w.method, w.path, w.body, http.StatusForbidden, "Write access denied")
		}
	}
	e.header = http.Header{"Api-Key": {"secret-rw"}}
	jsonEqual(t, e.ok("POST", "/collections/c/points/count", `{}`), `{"count": 1}`)

	// Only a read-only key configured: reads need it, writes are refused.
	ro := newEnv(t, Options{ReadOnlyAPIKey: "ro"})
	ro.header.Set("api-key", "ro")
	ro.ok("GET", "/collections", nil)
	ro.fail("PUT", "/collections/x", `{"vectors": {"size": 1, "distance": "Dot"}}`, http.StatusForbidden, "Write access denied")
}

// TestContentType: bodies must be JSON, as in Qdrant; a browser's form or
// text/plain POST is refused.
func TestContentType(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/collections/c/points/delete", strings.NewReader(`{"filter": {}}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Content-Type %q: status %d", ct, resp.StatusCode)
		}
	}
	for _, ct := range []string{"application/json; charset=utf-8", "application/vnd.api+json"} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/collections/c/points/count", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", ct)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("Content-Type %q: status %d", ct, resp.StatusCode)
		}
	}
	// An empty body needs no Content-Type.
	req, _ := http.NewRequest("POST", e.srv.URL+"/collections/c/points/count", nil)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("empty body: status %d", resp.StatusCode)
	}
}
