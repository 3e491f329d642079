package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-db/strata/internal/base"
)

func TestMatch(t *testing.T) {
	payload := []byte(`{"city":"Berlin","n":3,"ok":true,"tags":["a","b"],"big":9007199254740993,
		"nested":{"x":"y"},"items":[{"k":1},{"k":2}]}`)
	f := func(fl *Filter, want bool) {
		t.Helper()
		m, err := Compile(fl)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		if got := m.Match(base.NumID(7), payload); got != want {
			t.Fatalf("filter %+v: got %v, want %v", fl, got, want)
		}
	}
	kv := func(k string, v any) Condition { return Condition{Key: k, Match: &Match{Value: v}} }
	f(nil, true)
	f(&Filter{}, true)
	f(&Filter{Must: []Condition{kv("city", "Berlin")}}, true)
	f(&Filter{Must: []Condition{kv("city", "berlin")}}, false)
	f(&Filter{Must: []Condition{kv("n", 3)}}, true)
	f(&Filter{Must: []Condition{kv("n", "3")}}, false)
	f(&Filter{Must: []Condition{kv("ok", true)}}, true)
	f(&Filter{Must: []Condition{kv("tags", "b")}}, true)
	f(&Filter{Must: []Condition{kv("big", int64(9007199254740993))}}, true)
	f(&Filter{Must: []Condition{kv("big", int64(9007199254740992))}}, false)
	f(&Filter{Must: []Condition{kv("nested.x", "y")}}, true)
	f(&Filter{Must: []Condition{kv("items[].k", 2)}}, true)
	f(&Filter{Must: []Condition{kv("items[].k", 3)}}, false)
	f(&Filter{Must: []Condition{kv("missing", "x")}}, false)
	f(&Filter{MustNot: []Condition{kv("missing", "x")}}, true)
	f(&Filter{Should: []Condition{kv("city", "Paris"), kv("n", 3)}}, true)
	f(&Filter{Should: []Condition{kv("city", "Paris"), kv("n", 4)}}, false)
	f(&Filter{Must: []Condition{{HasID: []base.PointID{base.NumID(7)}}}}, true)
	f(&Filter{Must: []Condition{{HasID: []base.PointID{base.NumID(8)}}}}, false)
	f(&Filter{Must: []Condition{{Filter: &Filter{MustNot: []Condition{kv("city", "Berlin")}}}}}, false)
}

func TestCompileErrors(t *testing.T) {
	f := func(fl *Filter, wantPath string) {
		t.Helper()
		_, err := Compile(fl)
		if !errors.Is(err, base.ErrInvalidArgument) {
			t.Fatalf("want ErrInvalidArgument, got %v", err)
		}
		if got := err.Error(); !strings.Contains(got, wantPath) {
			t.Fatalf("error %q does not name %q", got, wantPath)
		}
	}
	f(&Filter{Must: []Condition{{}}}, "filter.must[0]")
	f(&Filter{Should: []Condition{{Key: "a", Match: &Match{Value: 1.5}}}}, "filter.should[0].match.value")
	f(&Filter{MustNot: []Condition{{Key: "a..b", Match: &Match{Value: 1}}}}, "filter.must_not[0].key")
	f(&Filter{Must: []Condition{{Filter: &Filter{Must: []Condition{{Key: "a", Match: &Match{Value: []int{1}}}}}}}}, "filter.must[0].must[0].match.value")
}
