package rest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// slowPointList is parsePointList without the fast path: the reference.
func slowPointList(raw []byte) ([]any, error) {
	var items []pointJSON
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i := range items {
		p, err := items[i].point("p")
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// FuzzFastPointList checks the fast point-list decoder against
// encoding/json on valid JSON: when the fast path answers, the reference
// gives the same points; the fast path never panics.
func FuzzFastPointList(f *testing.F) {
	for _, s := range []string{
		`[]`, `[{"id":1,"vector":[1,2]}]`, `[{"id":"550e8400-e29b-41d4-a716-446655440000","vector":[0.5],"payload":{"a":[1,"x",{"b":null}]}}]`,
		`[{"id":1,"vector":{"a":[1],"s":{"indices":[1],"values":[2]}}}]`, `[{"ID":1,"vector":[1]}]`, `[{"id":1,"id":2,"vector":[1]}]`,
		`[{"id":1,"vector":[1],"extra":{"x":"]}\"["}}]`, `[{"i\u0064":1,"vector":[1]}]`, `[{"id":1,"vector":null}]`, `[1]`, `{}`,
		`[{"id":-1,"vector":[1]}]`, `[{"id":1.5,"vector":[1]}]`, `[{"id":1,"vector":[1],"payload":[]}]`, ` [ { "id" : 7 , "vector" : [ 1 , 2 ] } ] `,
		`[{"id":1,"vector":[[1,2]]}]`, `[{"id":1,"vector":["1"]}]`, `[{"id":1,"payload":{"k":"\\\""}}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		got, ok := fastPointList(b, "p")
		want, err := slowPointList(b)
		if !ok {
			return // the caller falls back to the reference
		}
		if err != nil {
			t.Fatalf("%s: fast path accepted what encoding/json refuses: %v", b, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: fast %d points, reference %d", b, len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(any(got[i]), want[i]) {
				t.Fatalf("%s: point %d: fast %#v, reference %#v", b, i, got[i], want[i])
			}
		}
	})
}

// FuzzDecodeStructFast checks the request-struct fast path against
// encoding/json on valid JSON, for a few request types: when the fast path
// answers, encoding/json gives the same struct.
func FuzzDecodeStructFast(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"query":[1,2],"limit":10,"params":{"hnsw_ef":64}}`, `{"query":{"nearest":[1]},"filter":{"must":[]},"with_payload":["a"]}`,
		`{"Query":[1]}`, `{"limit":1,"limit":2}`, `{"limit":"x"}`, `{"limit":null,"using":"v"}`, `{"l\u0069mit":3}`,
		`{"prefetch":[{"query":[1],"limit":3}],"query":{"fusion":"rrf"}}`, `{"offset":-1,"score_threshold":0.5,"unknown":{"a":[1,{"b":"]"}]}}`,
		`[1]`, `null`, `"s"`, `{"vectors":{"size":4,"distance":"Cosine"},"hnsw_config":{"m":8}}`, `{"filter":null,"limit":5,"with_vector":true}`,
		`{"params":{"hnsw_ef":1},"params":{"exact":true}}`, `{"params":{"HNSW_EF":7}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		check := func(fast, slow any, name string) {
			t.Helper()
			if !decodeStructFast(b, fast) {
				zero := reflect.New(reflect.TypeOf(fast).Elem()).Interface()
				if !reflect.DeepEqual(fast, zero) {
					t.Fatalf("%s %s: the fast path gave up but left %+v", name, b, fast)
				}
				return
			}
			if err := json.Unmarshal(b, slow); err != nil {
				t.Fatalf("%s %s: fast path accepted what encoding/json refuses: %v", name, b, err)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%s %s: fast %+v, encoding/json %+v", name, b, fast, slow)
			}
		}
		check(&queryRequest{}, &queryRequest{}, "queryRequest")
		check(&createCollectionRequest{}, &createCollectionRequest{}, "createCollectionRequest")
		check(&scrollRequest{}, &scrollRequest{}, "scrollRequest")
	})
}

// slowUpsert is decodeUpsert through encoding/json only: the reference.
func slowUpsert(body []byte) ([]any, error) {
	var req upsertRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if !isNull(req.Points) {
		if !isNull(req.Batch) {
			return nil, errBoth
		}
		return slowPointList(req.Points)
	}
	if isNull(req.Batch) {
		return nil, errBoth
	}
	pts, err := parseBatch(req.Batch, "batch")
	out := make([]any, len(pts))
	for i := range pts {
		out[i] = pts[i]
	}
	return out, err
}

var errBoth = fmt.Errorf("points and batch: exactly one")

// FuzzDecodeUpsert checks the upsert body decoder, whose points list is
// parsed in place in the same pass that finds it, against encoding/json:
// whenever decodeUpsert succeeds on valid JSON, the reference gives the
// same points; it never panics.
func FuzzDecodeUpsert(f *testing.F) {
	for _, s := range []string{
		`{"points":[{"id":1,"vector":[1,2]},{"id":2,"vector":[3,4],"payload":{"a":1}}]}`,
		`{"points":[]}`, `{"points":null,"batch":{"ids":[1],"vectors":[[1]]}}`, `{"points":[{"id":1,"vector":[1]}],"points":[{"id":2,"vector":[2]}]}`,
		`{"points":[{"id":1,"vector":[1]}],"points":null}`, `{"Points":[{"id":1,"vector":[1]}]}`, `{"points":[{"id":1,"vector":[1],"vector":{"a":[2]}}]}`,
		`{"points":[{"id":1,"vector":{"a":[2]},"vector":[1]}]}`, `{"points":[{"id":"550e8400-e29b-41d4-a716-446655440000","vector":[1.5e-3,-2]}],"update_mode":"upsert"}`,
		`{"points":[{"id":1,"vector":[1,]}]}`, `{"points":[{"id":1,"vector":[[1]]}]}`, `{"points":[{"id":1,"vector":[]}]}`, `{"points":[1]}`,
		`{"points":[{"id":1,"vector":[1]}] , "shard_key":null}`, ` {"points" : [ {"vector" : [ 1 , 2 ] , "id" : 3 } ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		got, err := decodeUpsert(b, "")
		if err != nil {
			return // errors are worded by the encoding/json path itself
		}
		want, werr := slowUpsert(b)
		if werr != nil {
			t.Fatalf("%s: decodeUpsert accepted what the reference refuses: %v", b, werr)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d points, reference %d", b, len(got), len(want))
		}
		for i := range got {
			if !reflect.DeepEqual(any(got[i]), want[i]) {
				t.Fatalf("%s: point %d: %#v, reference %#v", b, i, got[i], want[i])
			}
		}
	})
}
