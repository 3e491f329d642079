package filter

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/strata-db/strata/internal/base"
)

// Condition constructors for readable tables.

func must(cs ...Condition) *Filter    { return &Filter{Must: cs} }
func should(cs ...Condition) *Filter  { return &Filter{Should: cs} }
func mustNot(cs ...Condition) *Filter { return &Filter{MustNot: cs} }

func kv(k string, v any) Condition        { return Condition{Key: k, Match: &Match{Value: v}} }
func anyOf(k string, vs ...any) Condition { return Condition{Key: k, Match: &Match{Any: vs}} }
func except(k string, vs ...any) Condition {
	if vs == nil {
		vs = []any{}
	}
	return Condition{Key: k, Match: &Match{Except: vs}}
}
func fptr(f float64) *float64 { return &f }
func iptr(i int) *int         { return &i }
func tptr(s string) *time.Time {
	t, ok := ParseDatetime(s)
	if !ok {
		panic("bad datetime " + s)
	}
	return &t
}
func rng(k string, gt, gte, lt, lte *float64) Condition {
	return Condition{Key: k, Range: &Range{GT: gt, GTE: gte, LT: lt, LTE: lte}}
}
func sub(f *Filter) Condition { return Condition{Filter: f} }
func nested(k string, f *Filter) Condition {
	return Condition{Nested: &Nested{Key: k, Filter: *f}}
}
func hasID(ids ...uint64) Condition {
	c := Condition{HasID: []base.PointID{}}
	for _, id := range ids {
		c.HasID = append(c.HasID, base.NumID(id))
	}
	return c
}
func hasVector(name string) Condition { return Condition{HasVector: &name} }

type matchCase struct {
	name    string
	f       *Filter
	payload string
	want    bool
}

// runMatch evaluates each case on a one-point source (id 7, vector "a"
// present, vector "b" absent).
func runMatch(t *testing.T, ctx *Context, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Compile(tc.f, ctx)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			src := &fakeSource{
				ids:      []base.PointID{base.NumID(7)},
				payloads: [][]byte{[]byte(tc.payload)},
				vectors:  map[string][]bool{"a": {true}, "b": {false}},
			}
			if got := m.Match(src, 0); got != tc.want {
				t.Fatalf("payload %s: got %v, want %v", tc.payload, got, tc.want)
			}
			// The planner without indexes must agree.
			if got := m.Plan(src, 100).Check(0); got != tc.want {
				t.Fatalf("plan check on %s: got %v, want %v", tc.payload, got, tc.want)
			}
		})
	}
}

func TestMatchValue(t *testing.T) {
	runMatch(t, nil, []matchCase{
		{"nil filter", nil, `{}`, true},
		{"empty filter", &Filter{}, `{}`, true},
		{"string", must(kv("city", "Berlin")), `{"city":"Berlin"}`, true},
		{"string case", must(kv("city", "berlin")), `{"city":"Berlin"}`, false},
		{"string vs number", must(kv("n", "3")), `{"n":3}`, false},
		{"int", must(kv("n", 3)), `{"n":3}`, true},
		{"int vs 3.0", must(kv("n", 3)), `{"n":3.0}`, true},
		{"int vs 3.5", must(kv("n", 3)), `{"n":3.5}`, false},
		{"int vs string", must(kv("n", 3)), `{"n":"3"}`, false},
		{"int64 exact", must(kv("big", int64(9007199254740993))), `{"big":9007199254740993}`, true},
		{"int64 neighbour", must(kv("big", int64(9007199254740992))), `{"big":9007199254740993}`, false},
		{"negative", must(kv("n", -4)), `{"n":-4}`, true},
		{"uint8", must(kv("n", uint8(4))), `{"n":4}`, true},
		{"float64 integral", must(kv("n", 4.0)), `{"n":4}`, true},
		{"bool", must(kv("ok", true)), `{"ok":true}`, true},
		{"bool false", must(kv("ok", false)), `{"ok":true}`, false},
		{"bool vs string", must(kv("ok", true)), `{"ok":"true"}`, false},
		{"array element", must(kv("tags", "b")), `{"tags":["a","b"]}`, true},
		{"array none", must(kv("tags", "c")), `{"tags":["a","b"]}`, false},
		{"array mixed types", must(kv("tags", 2)), `{"tags":["a",2,null]}`, true},
		{"nested array not flattened", must(kv("tags", "a")), `{"tags":[["a"]]}`, false},
		{"dotted", must(kv("a.b", "y")), `{"a":{"b":"y"}}`, true},
		{"dotted deep", must(kv("a.b.c", 1)), `{"a":{"b":{"c":[0,1]}}}`, true},
		{"projection", must(kv("items[].k", 2)), `{"items":[{"k":1},{"k":2}]}`, true},
		{"projection miss", must(kv("items[].k", 3)), `{"items":[{"k":1},{"k":2}]}`, false},
		{"projection of arrays", must(kv("items[].k", 3)), `{"items":[{"k":[1,3]}]}`, true},
		{"projection without brackets", must(kv("items.k", 2)), `{"items":[{"k":2}]}`, false},
		{"projection of non-array", must(kv("items[].k", 2)), `{"items":{"k":2}}`, false},
		{"key with array value in path", must(kv("a[].b[].c", "x")), `{"a":[{"b":[{"c":"y"},{"c":"x"}]}]}`, true},
		{"missing", must(kv("missing", "x")), `{"a":1}`, false},
		{"missing negated", mustNot(kv("missing", "x")), `{"a":1}`, true},
		{"null", must(kv("a", "x")), `{"a":null}`, false},
		{"empty payload", must(kv("a", "x")), ``, false},
		{"invalid payload", must(kv("a", "x")), `[1,2]`, false},
		{"should one", should(kv("city", "Paris"), kv("n", 3)), `{"city":"Berlin","n":3}`, true},
		{"should none", should(kv("city", "Paris"), kv("n", 4)), `{"city":"Berlin","n":3}`, false},
		{"must and must_not", &Filter{Must: []Condition{kv("a", 1)}, MustNot: []Condition{kv("b", 2)}}, `{"a":1,"b":2}`, false},
		{"must_not is none of", mustNot(kv("a", 1), kv("b", 3)), `{"a":2,"b":2}`, true},
		{"sub filter", must(sub(mustNot(kv("city", "Berlin")))), `{"city":"Berlin"}`, false},
		{"empty sub filter in should", should(sub(&Filter{}), kv("a", 9)), `{}`, true},
	})
}

func TestMatchAnyExcept(t *testing.T) {
	runMatch(t, nil, []matchCase{
		{"any string", must(anyOf("c", "black", "yellow")), `{"c":"black"}`, true},
		{"any string miss", must(anyOf("c", "black", "yellow")), `{"c":"green"}`, false},
		{"any array", must(anyOf("c", "black", "yellow")), `{"c":["green","black"]}`, true},
		{"any int", must(anyOf("n", 1, 2)), `{"n":2}`, true},
		{"any int vs float", must(anyOf("n", 1, 2)), `{"n":2.5}`, false},
		{"any int vs string", must(anyOf("n", 1, 2)), `{"n":"1"}`, false},
		{"any empty", must(Condition{Key: "c", Match: &Match{Any: []any{}}}), `{"c":"x"}`, false},
		{"any missing", must(anyOf("c", "x")), `{}`, false},
		{"except string", must(except("c", "black", "yellow")), `{"c":"green"}`, true},
		{"except string in list", must(except("c", "black", "yellow")), `{"c":"black"}`, false},
		{"except array one outside", must(except("c", "black", "yellow")), `{"c":["black","green"]}`, true},
		{"except array all inside", must(except("c", "black", "yellow")), `{"c":["black","yellow"]}`, false},
		{"except missing", must(except("c", "black")), `{}`, false},
		{"except null", must(except("c", "black")), `{"c":null}`, false},
		{"except empty array", must(except("c", "black")), `{"c":[]}`, false},
		{"except array of nulls", must(except("c", "black")), `{"c":[null]}`, false},
		{"except bool", must(except("c", "black")), `{"c":true}`, true},
		{"except number vs strings", must(except("c", "black")), `{"c":3}`, true},
		{"except string vs ints", must(except("n", 1, 2)), `{"n":"1"}`, true},
		{"except object", must(except("c", "black")), `{"c":{"x":1}}`, true},
		{"except inner array", must(except("c", "black")), `{"c":[["black"]]}`, true},
		{"except int", must(except("n", 1, 2)), `{"n":3}`, true},
		{"except int in list", must(except("n", 1, 2)), `{"n":2}`, false},
		{"except int as 2.0", must(except("n", 1, 2)), `{"n":2.0}`, false},
		{"except non-integral", must(except("n", 1, 2)), `{"n":1.5}`, true},
		{"except empty list", must(except("n")), `{"n":1}`, true},
		{"except empty list null", must(except("n")), `{"n":null}`, false},
	})
}

func TestMatchPrefix(t *testing.T) {
	pre := func(k, p string) *Filter { return must(Condition{Key: k, Match: &Match{Prefix: p}}) }
	runMatch(t, nil, []matchCase{
		{"prefix", pre("s", "ber"), `{"s":"berlin"}`, true},
		{"whole", pre("s", "berlin"), `{"s":"berlin"}`, true},
		{"case sensitive", pre("s", "Ber"), `{"s":"berlin"}`, false},
		{"longer", pre("s", "berlins"), `{"s":"berlin"}`, false},
		{"array", pre("s", "lo"), `{"s":["paris","london"]}`, true},
		{"not a string", pre("s", "1"), `{"s":12}`, false},
		{"utf8", pre("s", "é"), `{"s":"école"}`, true},
	})
}

func TestMatchRange(t *testing.T) {
	runMatch(t, nil, []matchCase{
		{"gte lte in", must(rng("p", nil, fptr(100), nil, fptr(450))), `{"p":100}`, true},
		{"gte lte upper", must(rng("p", nil, fptr(100), nil, fptr(450))), `{"p":450}`, true},
		{"gt excludes", must(rng("p", fptr(100), nil, nil, nil)), `{"p":100}`, false},
		{"lt excludes", must(rng("p", nil, nil, fptr(100), nil)), `{"p":100}`, false},
		{"float", must(rng("p", fptr(1.5), nil, fptr(1.7), nil)), `{"p":1.6}`, true},
		{"array any", must(rng("p", fptr(10), nil, nil, nil)), `{"p":[1,2,11]}`, true},
		{"array none", must(rng("p", fptr(10), nil, nil, nil)), `{"p":[1,2]}`, false},
		{"string", must(rng("p", fptr(0), nil, nil, nil)), `{"p":"5"}`, false},
		{"missing", must(rng("p", nil, nil, nil, nil)), `{}`, false},
		{"unbounded number", must(rng("p", nil, nil, nil, nil)), `{"p":-1e300}`, true},
		{"unbounded null", must(rng("p", nil, nil, nil, nil)), `{"p":null}`, false},
		{"projection", must(rng("c[].pop", nil, fptr(9), nil, nil)), `{"c":[{"pop":3.7},{"pop":9.3}]}`, true},
		{"no single element in both", must(rng("p", fptr(5), nil, fptr(6), nil)), `{"p":[1,10]}`, false},
	})
}

func TestMatchDatetimeRange(t *testing.T) {
	dr := func(k string, gt, gte, lt, lte *time.Time) *Filter {
		return must(Condition{Key: k, DatetimeRange: &DatetimeRange{GT: gt, GTE: gte, LT: lt, LTE: lte}})
	}
	day := dr("t", nil, tptr("2023-02-08T00:00:00Z"), tptr("2023-02-09T00:00:00Z"), nil)
	runMatch(t, nil, []matchCase{
		{"rfc3339", day, `{"t":"2023-02-08T10:49:00Z"}`, true},
		{"offset into range", day, `{"t":"2023-02-09T01:00:00+02:00"}`, true},
		{"offset out of range", day, `{"t":"2023-02-08T01:00:00+02:00"}`, false},
		{"no zone means UTC", day, `{"t":"2023-02-08T23:59:59"}`, true},
		{"space separator", day, `{"t":"2023-02-08 12:00:00"}`, true},
		{"date only", day, `{"t":"2023-02-08"}`, true},
		{"lt excludes", day, `{"t":"2023-02-09"}`, false},
		{"fraction", day, `{"t":"2023-02-08T23:59:59.999999Z"}`, true},
		{"array", day, `{"t":["2020-01-01","2023-02-08T05:00:00Z"]}`, true},
		{"not a datetime", day, `{"t":"yesterday"}`, false},
		{"number", day, `{"t":1675814400}`, false},
		{"gt exact micro", dr("t", tptr("2023-02-08T00:00:00.000001Z"), nil, nil, nil), `{"t":"2023-02-08T00:00:00.000001Z"}`, false},
		{"gt next micro", dr("t", tptr("2023-02-08T00:00:00.000001Z"), nil, nil, nil), `{"t":"2023-02-08T00:00:00.000002Z"}`, true},
		{"gte sub-micro bound", dr("t", nil, tptr("2023-02-08T00:00:00.0000005Z"), nil, nil), `{"t":"2023-02-08T00:00:00Z"}`, false},
		{"lte sub-micro bound", dr("t", nil, nil, nil, tptr("2023-02-08T00:00:00.0000005Z")), `{"t":"2023-02-08T00:00:00Z"}`, true},
	})
}

func TestMatchGeo(t *testing.T) {
	box := func(tl, br GeoPoint) *Filter {
		return must(Condition{Key: "loc", GeoBoundingBox: &GeoBoundingBox{TopLeft: tl, BottomRight: br}})
	}
	berlin := box(GeoPoint{Lon: 13.403683, Lat: 52.520711}, GeoPoint{Lon: 13.455868, Lat: 52.495862})
	anti := box(GeoPoint{Lon: 170, Lat: 10}, GeoPoint{Lon: -170, Lat: -10})
	radius := must(Condition{Key: "loc", GeoRadius: &GeoRadius{Center: GeoPoint{Lon: 13.403683, Lat: 52.520711}, Radius: 1000}})
	square := func(x0, y0, x1, y1 float64) GeoLineString {
		return GeoLineString{Points: []GeoPoint{{Lon: x0, Lat: y0}, {Lon: x1, Lat: y0}, {Lon: x1, Lat: y1}, {Lon: x0, Lat: y1}, {Lon: x0, Lat: y0}}}
	}
	holed := must(Condition{Key: "loc", GeoPolygon: &GeoPolygon{
		Exterior:  square(0, 0, 10, 10),
		Interiors: []GeoLineString{square(4, 4, 6, 6)},
	}})
	runMatch(t, nil, []matchCase{
		{"box in", berlin, `{"loc":{"lon":13.43,"lat":52.51}}`, true},
		{"box out", berlin, `{"loc":{"lon":13.5,"lat":52.51}}`, false},
		{"box edge", berlin, `{"loc":{"lon":13.403683,"lat":52.51}}`, true},
		{"box array", berlin, `{"loc":[{"lon":0,"lat":0},{"lon":13.43,"lat":52.51}]}`, true},
		{"box not geo", berlin, `{"loc":"52.51,13.43"}`, false},
		{"box missing lat", berlin, `{"loc":{"lon":13.43}}`, false},
		{"box geo out of range", box(GeoPoint{Lon: -180, Lat: 90}, GeoPoint{Lon: 180, Lat: -90}), `{"loc":{"lon":200,"lat":0}}`, false},
		{"antimeridian east", anti, `{"loc":{"lon":175,"lat":0}}`, true},
		{"antimeridian west", anti, `{"loc":{"lon":-175,"lat":0}}`, true},
		{"antimeridian outside", anti, `{"loc":{"lon":0,"lat":0}}`, false},
		{"antimeridian lat outside", anti, `{"loc":{"lon":175,"lat":20}}`, false},
		{"radius in", radius, `{"loc":{"lon":13.41,"lat":52.52}}`, true},
		{"radius out", radius, `{"loc":{"lon":13.5,"lat":52.52}}`, false},
		{"polygon in", holed, `{"loc":{"lon":2,"lat":2}}`, true},
		{"polygon hole", holed, `{"loc":{"lon":5,"lat":5}}`, false},
		{"polygon hole edge", holed, `{"loc":{"lon":4,"lat":5}}`, true},
		{"polygon outside", holed, `{"loc":{"lon":11,"lat":5}}`, false},
		{"polygon edge", holed, `{"loc":{"lon":0,"lat":5}}`, true},
	})
}

func TestMatchValuesCountEmptyNull(t *testing.T) {
	vc := func(k string, gt, gte, lt, lte *int) *Filter {
		return must(Condition{Key: k, ValuesCount: &ValuesCount{GT: gt, GTE: gte, LT: lt, LTE: lte}})
	}
	isEmpty := func(k string) *Filter { return must(Condition{Key: k, IsEmpty: true}) }
	isNull := func(k string) *Filter { return must(Condition{Key: k, IsNull: true}) }
	runMatch(t, nil, []matchCase{
		{"count array", vc("a", iptr(1), nil, nil, nil), `{"a":[1,2]}`, true},
		{"count array short", vc("a", iptr(2), nil, nil, nil), `{"a":[1,2]}`, false},
		{"count scalar", vc("a", nil, nil, nil, iptr(1)), `{"a":"x"}`, true},
		{"count scalar is one", vc("a", nil, iptr(1), nil, nil), `{"a":"x"}`, true},
		{"count object is one", vc("a", nil, iptr(1), nil, iptr(1)), `{"a":{"x":1,"y":2}}`, true},
		{"count null is zero", vc("a", nil, nil, iptr(1), nil), `{"a":null}`, true},
		{"count null not one", vc("a", nil, iptr(1), nil, nil), `{"a":null}`, false},
		{"count missing is zero", vc("a", nil, nil, iptr(1), nil), `{}`, true},
		{"count missing gte 0", vc("a", nil, iptr(0), nil, nil), `{}`, true},
		{"count missing gt 0", vc("a", iptr(0), nil, nil, nil), `{}`, false},
		{"count array with nulls", vc("a", nil, iptr(2), nil, nil), `{"a":[null,null]}`, true},
		{"count projection sums", vc("a[].b", nil, iptr(3), nil, nil), `{"a":[{"b":1},{"b":[2,3]}]}`, true},
		{"count projection elements", vc("a[]", nil, iptr(2), nil, iptr(2)), `{"a":[1,2]}`, true},
		{"empty missing", isEmpty("a"), `{}`, true},
		{"empty null", isEmpty("a"), `{"a":null}`, true},
		{"empty []", isEmpty("a"), `{"a":[]}`, true},
		{"empty [null]", isEmpty("a"), `{"a":[null]}`, false},
		{"empty value", isEmpty("a"), `{"a":0}`, false},
		{"empty empty string", isEmpty("a"), `{"a":""}`, false},
		{"empty {}", isEmpty("a"), `{"a":{}}`, false},
		{"empty projection all null", isEmpty("a[].b"), `{"a":[{"b":null},{"c":1}]}`, true},
		{"empty projection one set", isEmpty("a[].b"), `{"a":[{"b":null},{"b":1}]}`, false},
		{"not empty", mustNot(Condition{Key: "a", IsEmpty: true}), `{"a":[1]}`, true},
		{"null", isNull("a"), `{"a":null}`, true},
		{"null missing", isNull("a"), `{}`, false},
		{"null []", isNull("a"), `{"a":[]}`, false},
		{"null [null]", isNull("a"), `{"a":[null]}`, false},
		{"null elements", isNull("a[]"), `{"a":[1,null]}`, true},
		{"null value", isNull("a"), `{"a":0}`, false},
		{"null projection", isNull("a[].b"), `{"a":[{"b":1},{"b":null}]}`, true},
	})
}

func TestMatchIDVector(t *testing.T) {
	uuid, _ := base.ParseUUID("550e8400-e29b-41d4-a716-446655440000")
	runMatch(t, nil, []matchCase{
		{"has id", must(hasID(1, 7)), `{}`, true},
		{"has id miss", must(hasID(8)), `{}`, false},
		{"has id empty", must(hasID()), `{}`, false},
		{"has id uuid", must(Condition{HasID: []base.PointID{uuid}}), `{}`, false},
		{"has vector", must(hasVector("a")), `{}`, true},
		{"has vector absent", must(hasVector("b")), `{}`, false},
		{"has vector unknown", must(hasVector("zz")), `{}`, false},
		{"id or payload", should(hasID(1), kv("x", 1)), `{"x":1}`, true},
	})
}

func TestMatchNested(t *testing.T) {
	diet := `{"diet":[{"food":"meat","likes":false},{"food":"veg","likes":true}]}`
	meatLiked := &Filter{Must: []Condition{kv("food", "meat"), kv("likes", true)}}
	runMatch(t, nil, []matchCase{
		{"flat conditions mix elements", must(kv("diet[].food", "meat"), kv("diet[].likes", true)), diet, true},
		{"nested same element", must(nested("diet", meatLiked)), diet, false},
		{"nested with brackets", must(nested("diet[]", meatLiked)), diet, false},
		{"nested match", must(nested("diet", &Filter{Must: []Condition{kv("food", "veg"), kv("likes", true)}})), diet, true},
		{"nested must_not", must(nested("diet", &Filter{Must: []Condition{kv("food", "meat")}, MustNot: []Condition{kv("likes", false)}})), diet, false},
		{"nested should", must(nested("diet", should(kv("food", "fish"), kv("likes", true)))), diet, true},
		{"nested is_empty", must(nested("diet", must(Condition{Key: "spice", IsEmpty: true}))), diet, true},
		{"nested empty filter", must(nested("diet", &Filter{})), diet, true},
		{"nested empty array", must(nested("diet", &Filter{})), `{"diet":[]}`, false},
		{"nested missing", must(nested("diet", &Filter{})), `{}`, false},
		{"nested not array", must(nested("diet", &Filter{})), `{"diet":{"food":"meat"}}`, false},
		{"nested skips non-objects", must(nested("diet", must(Condition{Key: "food", IsEmpty: true}))), `{"diet":[1,"x",null]}`, false},
		{"nested path", must(nested("a.list", must(kv("x", 1)))), `{"a":{"list":[{"x":2},{"x":1}]}}`, true},
		{"nested in nested", must(nested("c", must(nested("cities", must(kv("name", "Osaka"), rng("pop", nil, fptr(2), nil, nil)))))),
			`{"c":[{"cities":[{"name":"Tokyo","pop":9},{"name":"Osaka","pop":2.7}]}]}`, true},
		{"nested in nested mismatch", must(nested("c", must(nested("cities", must(kv("name", "Osaka"), rng("pop", nil, fptr(3), nil, nil)))))),
			`{"c":[{"cities":[{"name":"Tokyo","pop":9},{"name":"Osaka","pop":2.7}]}]}`, false},
		{"nested relative projection", must(nested("d", must(kv("tags[].v", "x")))), `{"d":[{"tags":[{"v":"y"},{"v":"x"}]}]}`, true},
		{"negated nested", mustNot(nested("diet", meatLiked)), diet, true},
	})
}

func TestMatchMinShould(t *testing.T) {
	ms := func(k int, cs ...Condition) *Filter {
		return &Filter{MinShould: &MinShould{Conditions: cs, MinCount: k}}
	}
	p := `{"a":1,"b":2,"c":3}`
	runMatch(t, nil, []matchCase{
		{"2 of 3", ms(2, kv("a", 1), kv("b", 0), kv("c", 3)), p, true},
		{"3 of 3 fails", ms(3, kv("a", 1), kv("b", 0), kv("c", 3)), p, false},
		{"1 of 3", ms(1, kv("a", 0), kv("b", 0), kv("c", 3)), p, true},
		{"more than there are", ms(4, kv("a", 1), kv("b", 2), kv("c", 3)), p, false},
		{"none", ms(1), p, false},
		{"with must", &Filter{Must: []Condition{kv("a", 1)}, MinShould: &MinShould{Conditions: []Condition{kv("b", 2), kv("c", 0)}, MinCount: 1}}, p, true},
		{"with should", &Filter{Should: []Condition{kv("a", 0)}, MinShould: &MinShould{Conditions: []Condition{kv("b", 2)}, MinCount: 1}}, p, false},
	})
}

func TestMatchSeveralPredicates(t *testing.T) {
	// F2: every predicate of a field condition holds, each on some value.
	both := Condition{Key: "v", Match: &Match{Any: []any{1, 2, 3}}, Range: &Range{GT: fptr(2)}}
	runMatch(t, nil, []matchCase{
		{"one value satisfies both", must(both), `{"v":3}`, true},
		{"neither", must(both), `{"v":1}`, false},
		{"different values", must(both), `{"v":[1,10]}`, true},
		{"with values_count", must(Condition{Key: "v", Range: &Range{GT: fptr(2)}, ValuesCount: &ValuesCount{GTE: iptr(2)}}), `{"v":[3]}`, false},
		{"is_empty and is_null", must(Condition{Key: "v", IsEmpty: true, IsNull: true}), `{"v":null}`, true},
	})
}

func TestMatchText(t *testing.T) {
	txt := func(k, s string) *Filter { return must(Condition{Key: k, Match: &Match{Text: s}}) }
	txtAny := func(k, s string) *Filter { return must(Condition{Key: k, Match: &Match{TextAny: s}}) }
	phrase := func(k, s string) *Filter { return must(Condition{Key: k, Match: &Match{Phrase: s}}) }
	doc := `{"d":"Good and cheap, the BEST food","plain":"Good and cheap, the BEST food","many":["alpha beta","gamma"]}`
	t.Run("no index", func(t *testing.T) {
		runMatch(t, nil, []matchCase{
			{"substring terms", txt("plain", "cheap Good"), doc, true},
			{"substring is case sensitive", txt("plain", "good"), doc, false},
			{"substring inside word", txt("plain", "hea"), doc, true},
			{"every term", txt("plain", "cheap pricey"), doc, false},
			{"any term", txtAny("plain", "cheap pricey"), doc, true},
			{"any no term", txtAny("plain", "pricey dear"), doc, false},
			{"phrase", phrase("plain", "cheap, the"), doc, true},
			{"phrase order", phrase("plain", "the cheap"), doc, false},
			{"only spaces", txt("plain", "   "), doc, false},
			{"terms in one element", txt("many", "alpha gamma"), doc, false},
			{"array element", txt("many", "beta alpha"), doc, true},
			{"not a string", txt("n", "1"), `{"n":1}`, false},
		})
	})
	f := func(s FieldSchema) *Context {
		return &Context{Fields: map[string]FieldSchema{"d": s, "many": s, "p[].t": s}}
	}
	t.Run("word index", func(t *testing.T) {
		runMatch(t, f(FieldSchema{Type: TypeText}), []matchCase{
			{"tokens lowercased", txt("d", "good BEST"), doc, true},
			{"word, not substring", txt("d", "hea"), doc, false},
			{"every token", txt("d", "good pricey"), doc, false},
			{"punctuation ignored", txt("d", "cheap!"), doc, true},
			{"text_any", txtAny("d", "pricey food"), doc, true},
			{"text_any none", txtAny("d", "pricey dear"), doc, false},
			{"phrase", phrase("d", "cheap the best"), doc, true},
			{"phrase not consecutive", phrase("d", "good cheap"), doc, false},
			{"phrase order", phrase("d", "best the"), doc, false},
			{"empty query", txt("d", "!!"), doc, false},
			{"tokens across elements", txt("many", "alpha gamma"), doc, true},
			{"phrase within an element", phrase("many", "beta gamma"), doc, false},
			{"phrase in element", phrase("many", "alpha beta"), doc, true},
			{"nested key uses the index", must(nested("p", must(Condition{Key: "t", Match: &Match{Text: "HELLO"}}))), `{"p":[{"t":"hello world"}]}`, true},
		})
	})
	t.Run("prefix index", func(t *testing.T) {
		runMatch(t, f(FieldSchema{Type: TypeText, Tokenizer: "prefix"}), []matchCase{
			{"prefix of a word", txt("d", "che foo"), doc, true},
			{"not a prefix", txt("d", "heap"), doc, false},
			{"phrase uses words", phrase("d", "good and"), doc, true},
			{"phrase of prefixes", phrase("d", "goo and"), doc, false},
		})
	})
	t.Run("options", func(t *testing.T) {
		no := false
		runMatch(t, f(FieldSchema{Type: TypeText, Lowercase: &no}), []matchCase{
			{"case kept", txt("d", "best"), doc, false},
			{"case exact", txt("d", "BEST"), doc, true},
		})
		runMatch(t, f(FieldSchema{Type: TypeText, Stopwords: &Stopwords{Languages: []string{"english"}, Custom: []string{"food"}}}), []matchCase{
			{"stopword only query", txt("d", "the"), doc, false},
			{"custom stopword", txt("d", "food"), doc, false},
			{"phrase skips stopwords", phrase("d", "cheap best"), doc, true},
		})
		runMatch(t, f(FieldSchema{Type: TypeText, ASCIIFolding: true}), []matchCase{
			{"folding", txt("d", "gööd"), doc, true},
		})
		runMatch(t, f(FieldSchema{Type: TypeKeyword}), []matchCase{
			{"keyword index: substring", txt("d", "hea"), doc, true},
		})
	})
}

func TestTokenizerFor(t *testing.T) {
	if _, err := TokenizerFor(FieldSchema{Type: TypeText, Stopwords: &Stopwords{Languages: []string{"klingon"}}}); !errors.Is(err, base.ErrInvalidArgument) {
		t.Fatalf("unknown language: %v", err)
	}
	if _, err := TokenizerFor(FieldSchema{Type: TypeText, Tokenizer: "nope"}); !errors.Is(err, base.ErrInvalidArgument) {
		t.Fatalf("unknown tokenizer: %v", err)
	}
	tok, err := TokenizerFor(FieldSchema{Type: TypeText, MinTokenLen: iptr(3), MaxTokenLen: iptr(5)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	tok.Tokens("A bb CCC dddd eeeeee", func(s string) bool { got = append(got, s); return true })
	if want := []string{"ccc", "dddd"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("tokens %q, want %q", got, want)
	}
	_, err = Compile(must(Condition{Key: "d", Match: &Match{Text: "x"}}), &Context{Fields: map[string]FieldSchema{"d": {Type: TypeText, Tokenizer: "nope"}}})
	if err == nil || err.Error() != `strata: invalid argument: filter.must[0].match: text index of "d": strata: invalid argument: tokenizer: unknown tokenizer "nope" (want word, whitespace, prefix or multilingual)` {
		t.Fatalf("bad schema: %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	nan := func() *float64 { var z float64; return fptr(z / z) }
	ring := func(pts ...GeoPoint) GeoLineString { return GeoLineString{Points: pts} }
	sq := ring(GeoPoint{0, 0}, GeoPoint{1, 0}, GeoPoint{1, 1}, GeoPoint{0, 0})
	deep := &Filter{}
	for range MaxDepth {
		deep = must(sub(deep))
	}
	ctx := &Context{Vectors: []string{"", "img"}}
	for _, tc := range []struct {
		f    *Filter
		want string
	}{
		{must(Condition{}), "filter.must[0]: empty condition: expected a field condition (key), has_id, has_vector, nested or a filter"},
		{should(Condition{Key: "a", HasID: []base.PointID{}}), "filter.should[0]: a condition has exactly one of key, has_id, has_vector, nested or filter; got key and has_id"},
		{must(Condition{Key: "a"}), `filter.must[0]: field condition on "a" has no predicate: expected match, range, geo_bounding_box, geo_radius, geo_polygon, values_count, is_empty or is_null`},
		{must(Condition{Match: &Match{Value: 1}}), `filter.must[0].key: empty key`},
		{mustNot(kv("a..b", 1)), `filter.must_not[0].key: bad segment "" in key "a..b"`},
		{mustNot(kv("a[0]", 1)), `filter.must_not[0].key: bad segment "a[0]" in key "a[0]"`},
		{must(Condition{Key: "a", Match: &Match{}}), "filter.must[0].match: expected one of value, any, except, text, text_any, phrase or prefix"},
		{must(Condition{Key: "a", Match: &Match{Value: 1, Text: "x"}}), "filter.must[0].match: expected exactly one of value, any, except, text, text_any, phrase or prefix; got value and text"},
		{should(kv("a", 1.5)), "filter.should[0].match.value: expected string, integer or bool, got number 1.5"},
		{should(kv("a", []int{1})), "filter.should[0].match.value: expected string, integer or bool, got []int"},
		{should(kv("a", uint64(1<<63))), "filter.should[0].match.value: integer 9223372036854775808 out of range"},
		{must(anyOf("a", "x", 1)), "filter.must[0].match.any: mixes strings and integers"},
		{must(except("a", 1, true)), "filter.must[0].match.except[1]: expected string or integer, got bool"},
		{must(rng("a", nan(), nil, nil, nil)), "filter.must[0].range.gt: not a finite number"},
		{must(Condition{Key: "l", GeoRadius: &GeoRadius{Center: GeoPoint{Lon: 0, Lat: 91}, Radius: 1}}), "filter.must[0].geo_radius.center.lat: 91 out of range [-90, 90]"},
		{must(Condition{Key: "l", GeoRadius: &GeoRadius{Center: GeoPoint{Lon: 0, Lat: 0}, Radius: -1}}), "filter.must[0].geo_radius.radius: -1 is negative"},
		{must(Condition{Key: "l", GeoBoundingBox: &GeoBoundingBox{TopLeft: GeoPoint{Lon: -181}, BottomRight: GeoPoint{}}}), "filter.must[0].geo_bounding_box.top_left.lon: -181 out of range [-180, 180]"},
		{must(Condition{Key: "l", GeoPolygon: &GeoPolygon{Exterior: ring(GeoPoint{0, 0}, GeoPoint{1, 1}, GeoPoint{0, 0})}}), "filter.must[0].geo_polygon.exterior.points: a ring needs at least 4 points, got 3"},
		{must(Condition{Key: "l", GeoPolygon: &GeoPolygon{Exterior: sq, Interiors: []GeoLineString{ring(GeoPoint{0, 0}, GeoPoint{1, 0}, GeoPoint{1, 1}, GeoPoint{0, 1})}}}), "filter.must[0].geo_polygon.interiors[0].points: the first and last points of a ring must be the same"},
		{must(Condition{Key: "v", ValuesCount: &ValuesCount{LT: iptr(-1)}}), "filter.must[0].values_count.lt: -1 is negative"},
		{must(hasVector("nope")), `filter.must[0].has_vector: unknown vector "nope"`},
		{must(nested("", &Filter{})), "filter.must[0].nested.key: empty key"},
		{must(nested("d", must(hasID(1)))), "filter.must[0].nested.filter.must[0]: has_id is not supported inside a nested filter"},
		{must(nested("d", should(hasVector("img")))), "filter.must[0].nested.filter.should[0]: has_vector is not supported inside a nested filter"},
		{must(sub(should(sub(must(Condition{}))))), "filter.must[0].should[0].must[0]: empty condition: expected a field condition (key), has_id, has_vector, nested or a filter"},
		{&Filter{MinShould: &MinShould{MinCount: 0}}, "filter.min_should.min_count: 0, must be at least 1"},
		{&Filter{MinShould: &MinShould{MinCount: 1, Conditions: []Condition{{}}}}, "filter.min_should.conditions[0]: empty condition: expected a field condition (key), has_id, has_vector, nested or a filter"},
		{deep, "filter" + repeat(".must[0]", MaxDepth) + ": filters nested deeper than 64 levels"},
	} {
		_, err := Compile(tc.f, ctx)
		if !errors.Is(err, base.ErrInvalidArgument) {
			t.Fatalf("%s: want ErrInvalidArgument, got %v", tc.want, err)
		}
		if got, want := err.Error(), "strata: invalid argument: "+tc.want; got != want {
			t.Fatalf("error\n got %s\nwant %s", got, want)
		}
	}
	// Without a Context, any vector name is accepted.
	if _, err := Compile(must(hasVector("nope")), nil); err != nil {
		t.Fatal(err)
	}
	// Compile normalises and copies: changing the filter afterwards does
	// not change the matcher.
	f := must(anyOf("a", 1, 2))
	m, err := Compile(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Must[0].Match.Any[0] = 9
	src := newSource(t, `{"a":1}`)
	if !m.Match(src, 0) {
		t.Fatal("matcher changed with its filter")
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

func TestNeedsPayload(t *testing.T) {
	for _, tc := range []struct {
		f    *Filter
		want bool
	}{
		{nil, false},
		{&Filter{}, false},
		{must(hasID(1), hasVector("a")), false},
		{must(hasID(1), kv("a", 1)), true},
		{must(nested("a", &Filter{})), true},
	} {
		m, err := Compile(tc.f, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.NeedsPayload(); got != tc.want {
			t.Fatalf("%+v: NeedsPayload %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestNormScalar(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want any
	}{
		{"s", "s"}, {true, true}, {int(1), int64(1)}, {int8(-2), int64(-2)}, {int16(3), int64(3)},
		{int32(4), int64(4)}, {int64(5), int64(5)}, {uint(6), int64(6)}, {uint16(7), int64(7)},
		{uint32(8), int64(8)}, {uint64(9), int64(9)}, {float32(10), int64(10)}, {11.0, int64(11)},
		{json.Number("12"), int64(12)},
	} {
		got, err := normScalar(tc.in)
		if err != nil || got != tc.want {
			t.Fatalf("%T %v: got %v %v", tc.in, tc.in, got, err)
		}
	}
	for _, in := range []any{nil, 1.5, float64(1 << 60), json.Number("1.5"), uint(1 << 63), struct{}{}} {
		if _, err := normScalar(in); err == nil {
			t.Fatalf("%T %v: accepted", in, in)
		}
	}
}
