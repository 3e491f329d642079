package rest

import (
	"encoding/json"
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
