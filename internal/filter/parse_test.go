package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-db/strata/internal/base"
)

func TestParseJSON(t *testing.T) {
	uuid, _ := base.ParseUUID("550e8400-e29b-41d4-a716-446655440000")
	img := "img"
	for _, tc := range []struct {
		name string
		in   string
		want *Filter
	}{
		{"null", `null`, nil},
		{"empty", `{}`, &Filter{}},
		{"null clauses", `{"must":null,"should":null,"must_not":null,"min_should":null}`, &Filter{}},
		{"single condition", `{"must":{"key":"a","match":{"value":"x"}}}`, must(kv("a", "x"))},
		{"match value kinds", `{"should":[{"key":"a","match":{"value":"x"}},{"key":"b","match":{"value":-3}},{"key":"c","match":{"value":true}}]}`,
			should(kv("a", "x"), kv("b", int64(-3)), kv("c", true))},
		{"match any except", `{"must":[{"key":"a","match":{"any":["x","y"]}},{"key":"b","match":{"except":[1,2]}},{"key":"c","match":{"any":[]}}]}`,
			must(anyOf("a", "x", "y"), except("b", int64(1), int64(2)), Condition{Key: "c", Match: &Match{Any: []any{}}})},
		{"match text forms", `{"must":[{"key":"a","match":{"text":"x y"}},{"key":"a","match":{"text_any":"x y"}},{"key":"a","match":{"phrase":"x y"}},{"key":"a","match":{"prefix":"x"}}]}`,
			must(Condition{Key: "a", Match: &Match{Text: "x y"}}, Condition{Key: "a", Match: &Match{TextAny: "x y"}},
				Condition{Key: "a", Match: &Match{Phrase: "x y"}}, Condition{Key: "a", Match: &Match{Prefix: "x"}})},
		{"range", `{"must":{"key":"p","range":{"gt":null,"gte":100.0,"lt":null,"lte":450}}}`, must(rng("p", nil, fptr(100), nil, fptr(450)))},
		{"empty range", `{"must":{"key":"p","range":{}}}`, must(rng("p", nil, nil, nil, nil))},
		{"null range", `{"must":{"key":"p","range":{"gt":null}}}`, must(rng("p", nil, nil, nil, nil))},
		{"datetime range", `{"must":{"key":"t","range":{"gte":"2023-02-08T10:49:00Z","lt":"2023-02-09","lte":"2023-02-08T12:00:00+02:00"}}}`,
			must(Condition{Key: "t", DatetimeRange: &DatetimeRange{GTE: tptr("2023-02-08T10:49:00Z"), LT: tptr("2023-02-09"), LTE: tptr("2023-02-08T10:00:00Z")}})},
		{"geo", `{"must":[
			{"key":"l","geo_bounding_box":{"bottom_right":{"lon":13.455868,"lat":52.495862},"top_left":{"lon":13.403683,"lat":52.520711}}},
			{"key":"l","geo_radius":{"center":{"lon":13.4,"lat":52.5},"radius":1000.0}},
			{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":1,"lat":1},{"lon":0,"lat":0}]},"interiors":null}},
			{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},{"lon":1,"lat":1},{"lon":0,"lat":0}]},"interiors":[{"points":[{"lon":0.1,"lat":0.1},{"lon":0.2,"lat":0.1},{"lon":0.2,"lat":0.2},{"lon":0.1,"lat":0.1}]}]}}]}`,
			must(
				Condition{Key: "l", GeoBoundingBox: &GeoBoundingBox{TopLeft: GeoPoint{13.403683, 52.520711}, BottomRight: GeoPoint{13.455868, 52.495862}}},
				Condition{Key: "l", GeoRadius: &GeoRadius{Center: GeoPoint{13.4, 52.5}, Radius: 1000}},
				Condition{Key: "l", GeoPolygon: &GeoPolygon{Exterior: GeoLineString{[]GeoPoint{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}},
				Condition{Key: "l", GeoPolygon: &GeoPolygon{Exterior: GeoLineString{[]GeoPoint{{0, 0}, {1, 0}, {1, 1}, {0, 0}}},
					Interiors: []GeoLineString{{[]GeoPoint{{0.1, 0.1}, {0.2, 0.1}, {0.2, 0.2}, {0.1, 0.1}}}}}},
			)},
		{"values count", `{"must":{"key":"v","values_count":{"gt":1,"lte":5}}}`, must(Condition{Key: "v", ValuesCount: &ValuesCount{GT: iptr(1), LTE: iptr(5)}})},
		{"is_empty is_null", `{"must":[{"is_empty":{"key":"a"}},{"is_null":{"key":"b"}},{"key":"c","is_empty":true},{"key":"d","is_null":true,"is_empty":null}]}`,
			must(Condition{Key: "a", IsEmpty: true}, Condition{Key: "b", IsNull: true}, Condition{Key: "c", IsEmpty: true}, Condition{Key: "d", IsNull: true})},
		{"has_id", `{"must":{"has_id":[1,"550e8400-e29b-41d4-a716-446655440000",18446744073709551615]}}`,
			must(Condition{HasID: []base.PointID{base.NumID(1), uuid, base.NumID(1<<64 - 1)}})},
		{"has_vector", `{"must":{"has_vector":"img"}}`, must(Condition{HasVector: &img})},
		{"nested", `{"must":{"nested":{"key":"diet[]","filter":{"must":[{"key":"food","match":{"value":"meat"}}]}}}}`,
			must(nested("diet[]", must(kv("food", "meat"))))},
		{"sub filters", `{"must_not":[{"must":[{"key":"a","match":{"value":1}}]},{}]}`,
			mustNot(sub(must(kv("a", int64(1)))), sub(&Filter{}))},
		{"min_should", `{"min_should":{"conditions":[{"key":"a","match":{"value":1}},{"has_id":[2]}],"min_count":2}}`,
			&Filter{MinShould: &MinShould{Conditions: []Condition{kv("a", int64(1)), hasID(2)}, MinCount: 2}}},
		{"several predicates", `{"must":{"key":"a","match":{"any":[1]},"range":{"gt":0},"values_count":{"gte":1},"is_null":null}}`,
			must(Condition{Key: "a", Match: &Match{Any: []any{int64(1)}}, Range: &Range{GT: fptr(0)}, ValuesCount: &ValuesCount{GTE: iptr(1)}})},
		{"null match", `{"must":{"key":"a","match":null,"range":{"lt":1}}}`, must(rng("a", nil, nil, fptr(1), nil))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseJSON([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				gj, _ := json.Marshal(got)
				wj, _ := json.Marshal(tc.want)
				t.Fatalf("got  %s\nwant %s\n%#v", gj, wj, got)
			}
			if got == nil {
				return
			}
			// Round trip: marshal and parse again to an equal filter.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseJSON(b)
			if err != nil {
				t.Fatalf("re-parse %s: %v", b, err)
			}
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip changed the filter:\n%s", b)
			}
			// And through UnmarshalJSON.
			var f Filter
			if err := json.Unmarshal(b, &f); err != nil || !reflect.DeepEqual(&f, got) {
				t.Fatalf("UnmarshalJSON: %v", err)
			}
		})
	}
}

func TestMarshalJSON(t *testing.T) {
	for _, tc := range []struct {
		f    *Filter
		want string
	}{
		{&Filter{}, `{}`},
		{must(kv("a", 1), kv("b", uint8(2))), `{"must":[{"key":"a","match":{"value":1}},{"key":"b","match":{"value":2}}]}`},
		{should(Condition{Key: "a", Match: &Match{Except: []any{}}}), `{"should":[{"key":"a","match":{"except":[]}}]}`},
		{must(Condition{Key: "a", IsEmpty: true}), `{"must":[{"is_empty":{"key":"a"}}]}`},
		{must(Condition{Key: "a", IsNull: true, IsEmpty: true}), `{"must":[{"key":"a","is_empty":true,"is_null":true}]}`},
		{must(Condition{Key: "t", DatetimeRange: &DatetimeRange{GT: tptr("2023-02-08T12:00:00.5+02:00")}}), `{"must":[{"key":"t","range":{"gt":"2023-02-08T10:00:00.5Z"}}]}`},
		{must(rng("p", nil, nil, nil, nil)), `{"must":[{"key":"p","range":{}}]}`},
		{&Filter{MinShould: &MinShould{MinCount: 1}}, `{"min_should":{"conditions":[],"min_count":1}}`},
		{must(hasID(3), nested("d", &Filter{}), hasVector("")), `{"must":[{"has_id":[3]},{"nested":{"key":"d","filter":{}}},{"has_vector":""}]}`},
	} {
		b, err := json.Marshal(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Fatalf("got  %s\nwant %s", b, tc.want)
		}
	}
	for _, c := range []Condition{
		{},
		{Key: "a", HasID: []base.PointID{}},
		{Key: "a", Range: &Range{}, DatetimeRange: &DatetimeRange{}},
		{Key: "a", Match: &Match{Value: 1.5}},
	} {
		if _, err := json.Marshal(must(c)); err == nil {
			t.Fatalf("%+v: marshalled", c)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"must":[`, "filter: invalid JSON: unexpected EOF"},
		{`{} {}`, "filter: invalid JSON: unexpected data after the value"},
		{`[]`, "filter: expected object, got array"},
		{`{"mustt":[]}`, `filter: unknown field "mustt"`},
		{`{"must":"x"}`, "filter.must: expected a condition or an array of conditions, got string"},
		{`{"must":[1]}`, "filter.must[0]: expected object, got number"},
		{`{"must":[{"foo":1}]}`, `filter.must[0]: unknown field "foo"`},
		{`{"must":[{"match":{"value":1}}]}`, `filter.must[0]: missing field "key" of a field condition`},
		{`{"should":[{"key":"a","match":{"valeu":1}}]}`, `filter.should[0].match: unknown field "valeu"`},
		{`{"must":[{"key":"a","match":{"value":1},"has_id":[1]}]}`, `filter.must[0]: unknown field "has_id"`},
		{`{"must":[{"has_id":[1],"must":[]}]}`, `filter.must[0]: unknown field "must"`},
		{`{"must":[{"key":1,"match":{"value":1}}]}`, "filter.must[0].key: expected string, got number"},
		{`{"must":[{"key":"a","match":{"value":1.5}}]}`, "filter.must[0].match.value: expected string, integer or bool, got number 1.5"},
		{`{"must":[{"key":"a","match":{"value":null}}]}`, "filter.must[0].match.value: expected string, integer or bool, got null"},
		{`{"must":[{"key":"a","match":{"value":[1]}}]}`, "filter.must[0].match.value: expected string, integer or bool, got array"},
		{`{"must":[{"key":"a","match":{}}]}`, "filter.must[0].match: expected one of value, any, except, text, text_any, phrase or prefix"},
		{`{"must":[{"key":"a","match":{"value":1,"any":[1]}}]}`, "filter.must[0].match: expected exactly one of value, any, except, text, text_any, phrase or prefix; got value and any"},
		{`{"must":[{"key":"a","match":{"any":["a",1]}}]}`, "filter.must[0].match.any: mixes strings and integers"},
		{`{"must":[{"key":"a","match":{"except":[true]}}]}`, "filter.must[0].match.except[0]: expected string or integer, got bool"},
		{`{"must":[{"key":"a","match":{"any":"x"}}]}`, "filter.must[0].match.any: expected array of strings or integers, got string"},
		{`{"must":[{"key":"a","match":{"text":""}}]}`, "filter.must[0].match.text: must not be empty"},
		{`{"must":[{"key":"a","match":{"prefix":3}}]}`, "filter.must[0].match.prefix: expected string, got number"},
		{`{"must":[{"key":"a"}]}`, `filter.must[0]: field condition on "a" has no predicate: expected match, range, geo_bounding_box, geo_radius, geo_polygon, values_count, is_empty or is_null`},
		{`{"must":[{"key":"a..b","match":{"value":1}}]}`, `filter.must[0].key: bad segment "" in key "a..b"`},
		{`{"must":[{"key":"a","range":{"lt":1}},{"key":"b","range":{"gte":1}},{"key":"c","range":{"gt":"2023-01-01","lt":5}}]}`, "filter.must[2].range.gt: expected number, got string"},
		{`{"must":[{"key":"a","range":{"gt":true}}]}`, "filter.must[0].range.gt: expected number or datetime string, got bool"},
		{`{"must":[{"key":"a","range":{"gte":"2023-01-01","lt":"2023-13-01"}}]}`, `filter.must[0].range.lt: invalid datetime "2023-13-01"`},
		{`{"must":[{"key":"a","range":{"gt":1e999}}]}`, "filter.must[0].range.gt: 1e999 out of range"},
		{`{"must":[{"key":"a","range":{"from":1}}]}`, `filter.must[0].range: unknown field "from"`},
		{`{"must":[{"key":"l","geo_radius":{"center":{"lon":0,"lat":91},"radius":1}}]}`, "filter.must[0].geo_radius.center.lat: 91 out of range [-90, 90]"},
		{`{"must":[{"key":"l","geo_radius":{"center":{"lon":0,"lat":1}}}]}`, `filter.must[0].geo_radius: missing field "radius"`},
		{`{"must":[{"key":"l","geo_radius":{"center":{"lon":0},"radius":1}}]}`, `filter.must[0].geo_radius.center: missing field "lat"`},
		{`{"must":[{"key":"l","geo_bounding_box":{"top_left":{"lon":0,"lat":1},"bottom_right":{"lon":"1","lat":0}}}]}`, "filter.must[0].geo_bounding_box.bottom_right.lon: expected number, got string"},
		{`{"must":[{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0}]}}}]}`, "filter.must[0].geo_polygon.exterior.points: a ring needs at least 4 points, got 1"},
		{`{"must":[{"key":"l","geo_polygon":{"exterior":{"points":[]},"interiors":{}}}]}`, "filter.must[0].geo_polygon.interiors: expected array, got object"},
		{`{"must":[{"key":"v","values_count":{"gt":-1}}]}`, "filter.must[0].values_count.gt: -1 is negative"},
		{`{"must":[{"key":"v","values_count":{"gt":1.5}}]}`, "filter.must[0].values_count.gt: expected integer, got 1.5"},
		{`{"must":[{"key":"v","is_empty":false}]}`, "filter.must[0].is_empty: false is not supported: put the condition with true in must_not"},
		{`{"must":[{"key":"v","is_null":"yes"}]}`, "filter.must[0].is_null: expected bool, got string"},
		{`{"must":[{"is_empty":{"key":"a","x":1}}]}`, `filter.must[0].is_empty: unknown field "x"`},
		{`{"must":[{"is_null":"a"}]}`, "filter.must[0].is_null: expected object, got string"},
		{`{"must":[{"has_id":[-1]}]}`, "filter.must[0].has_id[0]: expected an unsigned integer or a UUID, got -1"},
		{`{"must":[{"has_id":["42"]}]}`, `filter.must[0].has_id[0]: invalid UUID "42"`},
		{`{"must":[{"has_id":[true]}]}`, "filter.must[0].has_id[0]: expected an unsigned integer or a UUID, got bool"},
		{`{"must":[{"has_id":3}]}`, "filter.must[0].has_id: expected array of point ids, got number"},
		{`{"must":[{"has_vector":null}]}`, "filter.must[0].has_vector: expected string, got null"},
		{`{"must":[{"nested":{"key":"d"}}]}`, `filter.must[0].nested: missing field "filter"`},
		{`{"must":[{"nested":{"key":"d","filter":{"must":{"has_id":[1]}}}}]}`, "filter.must[0].nested.filter.must[0]: has_id is not supported inside a nested filter"},
		{`{"must":[{"nested":{"key":"d","filter":{"must":{"key":"x","match":{"vale":1}}}}}]}`, `filter.must[0].nested.filter.must[0].match: unknown field "vale"`},
		{`{"min_should":{"conditions":[]}}`, `filter.min_should: missing field "min_count"`},
		{`{"min_should":{"conditions":[],"min_count":0}}`, "filter.min_should.min_count: 0, must be at least 1"},
		{`{"min_should":{"conditions":{},"min_count":1}}`, "filter.min_should.conditions: expected array of conditions, got object"},
		{`{"min_should":{"conditions":[{"key":"a","range":{"lt":"x"}}],"min_count":1}}`, `filter.min_should.conditions[0].range.lt: invalid datetime "x"`},
		{strings.Repeat(`{"must":`, 70) + `{}` + strings.Repeat(`}`, 70), "filter" + repeat(".must[0]", 64) + ": filters nested deeper than 64 levels"},
	} {
		_, err := ParseJSON([]byte(tc.in))
		if !errors.Is(err, base.ErrInvalidArgument) {
			t.Fatalf("%s: want ErrInvalidArgument, got %v", tc.in, err)
		}
		if got, want := err.Error(), "strata: invalid argument: "+tc.want; got != want {
			t.Fatalf("%s:\n got %s\nwant %s", tc.in, got, want)
		}
	}
}

func TestConditionJSON(t *testing.T) {
	var c Condition
	if err := json.Unmarshal([]byte(`{"key":"a","match":{"value":"x"}}`), &c); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, kv("a", "x")) {
		t.Fatalf("got %+v", c)
	}
	err := json.Unmarshal([]byte(`{"key":"a","range":{"gt":"x"}}`), &c)
	if err == nil || !strings.HasSuffix(err.Error(), `condition.range.gt: invalid datetime "x"`) {
		t.Fatalf("got %v", err)
	}
	b, err := json.Marshal(kv("a", "x"))
	if err != nil || string(b) != `{"key":"a","match":{"value":"x"}}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	// A request struct embedding a filter decodes through UnmarshalJSON.
	var req struct {
		Filter *Filter `json:"filter"`
		Limit  int     `json:"limit"`
	}
	if err := json.Unmarshal([]byte(`{"filter":{"must":{"has_id":[1]}},"limit":3}`), &req); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(req.Filter, must(hasID(1))) {
		t.Fatalf("got %+v", req.Filter)
	}
	if err := json.Unmarshal([]byte(`{"filter":{"must":{"has_id":[-1]}}}`), &req); err == nil {
		t.Fatal("bad filter decoded")
	}
}
