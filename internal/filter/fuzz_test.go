package filter

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseJSON checks that no input panics the decoder, and that what it
// accepts compiles, marshals back to an equal filter, and plans to the same
// answers as the scan evaluator.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`null`, `{}`, `[]`, `{"must":[`, `{"must":{"key":"a","match":{"value":"x"}}}`,
		`{"should":[{"key":"a","match":{"value":1}},{"key":"b","match":{"value":true}}]}`,
		`{"must":[{"key":"a","match":{"any":["x","y"]}},{"key":"b","match":{"except":[1,2]}}]}`,
		`{"must":[{"key":"t","match":{"text":"quick fox"}},{"key":"t","match":{"text_any":"a b"}},{"key":"t","match":{"phrase":"a b"}},{"key":"b","match":{"prefix":"z"}}]}`,
		`{"must":{"key":"a","range":{"gt":null,"gte":1,"lt":5.5}}}`,
		`{"must":{"key":"dt","range":{"gte":"2023-01-02T00:00:00Z","lt":"2023-01-04"}}}`,
		`{"must":{"key":"g","geo_radius":{"center":{"lon":0,"lat":0},"radius":500000}}}`,
		`{"must":{"key":"g","geo_bounding_box":{"top_left":{"lon":-5,"lat":5},"bottom_right":{"lon":5,"lat":-5}}}}`,
		`{"must":{"key":"g","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":9,"lat":0},{"lon":9,"lat":9},{"lon":0,"lat":0}]},"interiors":[]}}}`,
		`{"must":[{"key":"c","values_count":{"gte":2}},{"is_empty":{"key":"n"}},{"is_null":{"key":"n"}},{"key":"n","is_empty":true}]}`,
		`{"must":[{"has_id":[1,2,"550e8400-e29b-41d4-a716-446655440000"]},{"has_vector":"v"}]}`,
		`{"must":{"nested":{"key":"d","filter":{"must":[{"key":"x","match":{"value":1}}],"must_not":{"key":"y","match":{"value":"p"}}}}}}`,
		`{"must_not":[{"must":[{"key":"a","match":{"value":1}}]},{}],"min_should":{"conditions":[{"key":"a","match":{"value":2}},{"has_id":[3]}],"min_count":1}}`,
		`{"must":[{"must":[{"must":[{"should":[{"key":"a","match":{"value":0}}]}]}]}]}`,
	} {
		f.Add([]byte(s))
	}
	r := rand.New(rand.NewPCG(3, 4))
	payloads := make([]string, 24)
	for i := range payloads {
		payloads[i] = genPayload(r)
	}
	ctx := &Context{Fields: map[string]FieldSchema{"t": {Type: TypeText}}, Vectors: []string{"", "v"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		flt, err := ParseJSON(data)
		if err != nil || flt == nil {
			return
		}
		if _, err := Compile(flt, nil); err != nil {
			t.Fatalf("parsed but does not compile: %v", err)
		}
		m, err := Compile(flt, ctx)
		if err != nil {
			if strings.Contains(err.Error(), "unknown vector") {
				return
			}
			t.Fatalf("does not compile with a context: %v", err)
		}
		b, err := json.Marshal(flt)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseJSON(b)
		if err != nil {
			t.Fatalf("re-parse %s: %v", b, err)
		}
		if !reflect.DeepEqual(again, flt) {
			t.Fatalf("round trip changed the filter: %s", b)
		}
		src := newSource(t, payloads...)
		src.vectors["v"] = make([]bool, len(payloads))
		src.indexes = map[string]FieldIndex{}
		for _, k := range []string{"a", "b", "c", "t", "dt"} {
			src.indexes[k] = &bruteIndex{t: t, src: src, ctx: ctx, rng: r}
		}
		p := m.Plan(offsetSource{src}, 8)
		for off := range uint32(len(payloads)) {
			want := m.Match(src, off)
			if p.Check(off) != want {
				t.Fatalf("Check(%d) != Match for %s", off, b)
			}
			if want && p.Candidates != nil && !p.Candidates.Contains(off) {
				t.Fatalf("candidates miss %d for %s", off, b)
			}
		}
	})
}
