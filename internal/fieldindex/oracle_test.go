package fieldindex

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/text"
)

// This file holds the test oracle: random payloads mixing every JSON type
// at the paths "f", "a.b" and "a[].b", random conditions of every kind, and
// a brute-force evaluator written from the semantics in the package doc
// (independently of the indexes and of package filter's evaluator).

var (
	words = []string{"red", "green", "blue", "re", "", "redder", "Red", "a b", "ab", "abc", "abd", "b", "ré", "zz"}
	uuids = []string{
		"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff", "123e4567-e89b-12d3-a456-426614174000",
		"123e4567-e89b-12d3-a456-426614174001",
	}
	badUUIDs  = []string{"3F2504E0-4F89-11D3-9A0C-0305E82C3301", "3f2504e04f8911d39a0c0305e82c3301", "not-a-uuid", "123e4567-e89b-12d3-a456-42661417400g"}
	datetimes = []string{
		"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123456Z", "2024-01-02T03:04:05.1234567Z",
		"2024-01-02", "2024-01-02 03:04:05", "2023-12-31T23:59:59+02:00", "1969-12-31T23:59:59.999999Z",
		"2024-01-02T03:04:05.000001Z", "2024-01-02T03:04", "garbage", "2024-13-01",
	}
	sentences = []string{
		"The quick brown fox", "quick fox jumps", "brown dog", "the the quick", "Fox", "über straße café",
		"東京都に住む", "", "jumps over the lazy dog", "quick brown", "fox quick", "a an the", "Quick-Brown fox!",
	}
	numbers = []string{
		"0", "-0", "1", "-1", "2", "3.0", "1.5", "-2.5", "1e2", "9007199254740993", "9007199254740992",
		"1e400", "-7", "100", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"0.1", "1e-300", "2.0000000000000001", "-0.0",
	}
	coords = []float64{0, math.Copysign(0, -1), 1, -1, 10, -10, 45, -45, 89.9999, 90, -90, 179.99, 180, -180, 0.5, 33.3}
)

// gen generates payloads and conditions.
type gen struct {
	r   *rand.Rand
	typ filter.FieldType
	// clean leaves out the values that make an index refuse some queries
	// (numbers that are not int64s, strings that are not canonical UUIDs).
	clean bool
}

func newGen(seed uint64, typ filter.FieldType) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed*7+1)), typ: typ, clean: seed%2 == 1}
}

func (g *gen) pick(n int) int { return g.r.IntN(n) }

func pickOf[T any](g *gen, s []T) T { return s[g.r.IntN(len(s))] }

func (g *gen) num() json.Number {
	for {
		n := json.Number(pickOf(g, numbers))
		if _, ok := filter.Integer(n); ok || !g.clean {
			return n
		}
	}
}

func (g *gen) geoObj() any {
	switch g.pick(10) {
	case 0:
		return map[string]any{"lon": json.Number("200"), "lat": json.Number("1")}
	case 1:
		return map[string]any{"lat": json.Number("1")}
	case 2:
		return map[string]any{"lon": "1", "lat": json.Number("1")}
	}
	f := func() json.Number {
		if g.pick(3) == 0 {
			return json.Number(fmt.Sprint(pickOf(g, coords)))
		}
		return json.Number(fmt.Sprintf("%.4f", g.r.Float64()*360-180))
	}
	lat := f()
	if v, _ := lat.Float64(); v < -90 || v > 90 {
		lat = json.Number(fmt.Sprintf("%.5f", g.r.Float64()*180-90))
	}
	return map[string]any{"lon": f(), "lat": lat}
}

// own returns a value of the index's own type (possibly not one it can
// store: a bad datetime, a non-canonical UUID, a non-integral number).
func (g *gen) own() any {
	switch g.typ {
	case filter.TypeKeyword:
		return pickOf(g, words)
	case filter.TypeInteger:
		if g.pick(6) == 0 {
			return g.num()
		}
		return json.Number(fmt.Sprint(g.r.IntN(12) - 4))
	case filter.TypeFloat:
		if g.pick(3) == 0 {
			return g.num()
		}
		return json.Number(fmt.Sprintf("%.1f", float64(g.r.IntN(40)-20)/4))
	case filter.TypeBool:
		return g.pick(2) == 0
	case filter.TypeDatetime:
		return pickOf(g, datetimes)
	case filter.TypeUUID:
		if g.pick(12) == 0 && !g.clean {
			return pickOf(g, badUUIDs)
		}
		return pickOf(g, uuids)
	case filter.TypeGeo:
		return g.geoObj()
	case filter.TypeText:
		return pickOf(g, sentences)
	}
	panic("bad type")
}

// other returns a value of any type.
func (g *gen) other() any {
	k := g.pick(9)
	if g.clean && g.typ == filter.TypeUUID && (k == 0 || k == 3 || k == 6) {
		k = 4
	}
	switch k {
	case 0:
		return pickOf(g, words)
	case 1:
		return g.num()
	case 2:
		return g.pick(2) == 0
	case 3:
		return pickOf(g, datetimes)
	case 4:
		return pickOf(g, uuids)
	case 5:
		return g.geoObj()
	case 6:
		return pickOf(g, sentences)
	case 7:
		return map[string]any{"x": json.Number("1")}
	}
	inner := "red"
	if g.clean && g.typ == filter.TypeUUID {
		inner = uuids[0]
	}
	if g.pick(2) == 0 {
		return []any{json.Number("1"), inner} // an array: its elements
	}
	return []any{[]any{json.Number("1"), inner}} // nested array: one value
}

// value returns a value for a key: mostly own-type scalars, sometimes
// arrays, nulls and values of other types.
func (g *gen) value(depth int) any {
	switch r := g.pick(40); {
	case r < 2:
		return nil
	case r < 8 && depth == 0:
		n := g.pick(4)
		arr := make([]any, n)
		for i := range arr {
			arr[i] = g.value(1)
		}
		return arr
	case r < 34 || g.typ == filter.TypeBool && r < 36:
		return g.own()
	}
	return g.other()
}

// doc returns a payload (nil: the point has none).
func (g *gen) doc() map[string]any {
	if g.pick(25) == 0 {
		return nil
	}
	d := map[string]any{}
	if g.pick(8) != 0 {
		d["f"] = g.value(0)
	}
	switch g.pick(6) {
	case 0:
	case 1:
		d["a"] = map[string]any{"b": g.value(0)}
	case 2:
		d["a"] = g.value(0)
	default:
		n := g.pick(4)
		arr := make([]any, n)
		for i := range arr {
			if g.pick(6) == 0 {
				arr[i] = g.other()
			} else {
				arr[i] = map[string]any{"b": g.value(0)}
			}
		}
		d["a"] = arr
	}
	return d
}

// corpus is n random payloads, encoded and decoded as the engine does.
type corpus struct {
	payloads [][]byte
	docs     []map[string]any
}

func (g *gen) corpus(n int) *corpus {
	c := &corpus{payloads: make([][]byte, n), docs: make([]map[string]any, n)}
	for i := range n {
		d := g.doc()
		if d == nil {
			continue
		}
		b, err := json.Marshal(d)
		if err != nil {
			panic(err)
		}
		c.payloads[i] = b
		c.docs[i] = filter.DecodePayload(b)
	}
	return c
}

func (c *corpus) payload(off uint32) []byte { return c.payloads[off] }

// Conditions.

func f64(v float64) *float64 { return &v }

func (g *gen) bound() *float64 {
	bs := []float64{-1, 0, 0.5, 1, 1.5, 2, 2.5, 3, 100, -7.5, -4, 4.75, 9.007199254740992e15, 9.007199254740993e15,
		9.2233720368547758e18, -9.3e18, 1e300, math.Copysign(0, -1), 0.1}
	if g.pick(3) == 0 {
		return f64(float64(g.r.IntN(40)-20) / 4)
	}
	return f64(pickOf(g, bs))
}

func (g *gen) rangeCond() *filter.Range {
	r := &filter.Range{}
	for {
		if g.pick(2) == 0 {
			r.GT = g.bound()
		} else if g.pick(2) == 0 {
			r.GTE = g.bound()
		}
		if g.pick(2) == 0 {
			r.LT = g.bound()
		} else if g.pick(2) == 0 {
			r.LTE = g.bound()
		}
		if r.GT != nil || r.GTE != nil || r.LT != nil || r.LTE != nil {
			return r
		}
	}
}

func (g *gen) instant() *time.Time {
	var t time.Time
	if g.pick(2) == 0 {
		s := pickOf(g, datetimes)
		var ok bool
		if t, ok = filter.ParseDatetime(s); !ok {
			t = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		}
	} else {
		t = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	switch g.pick(4) {
	case 0:
		t = t.Add(time.Duration(g.r.IntN(3000)-1500) * time.Nanosecond)
	case 1:
		t = t.Add(time.Duration(g.r.IntN(48)-24) * time.Hour)
	}
	return &t
}

func (g *gen) datetimeCond() *filter.DatetimeRange {
	r := &filter.DatetimeRange{}
	for r.GT == nil && r.GTE == nil && r.LT == nil && r.LTE == nil {
		if g.pick(2) == 0 {
			r.GT = g.instant()
		} else if g.pick(2) == 0 {
			r.GTE = g.instant()
		}
		if g.pick(2) == 0 {
			r.LT = g.instant()
		} else if g.pick(2) == 0 {
			r.LTE = g.instant()
		}
	}
	return r
}

func (g *gen) point() filter.GeoPoint {
	if g.pick(3) == 0 {
		return filter.GeoPoint{Lon: pickOf(g, coords), Lat: math.Max(-90, math.Min(90, pickOf(g, coords)))}
	}
	return filter.GeoPoint{Lon: g.r.Float64()*360 - 180, Lat: g.r.Float64()*180 - 90}
}

func (g *gen) ring(c filter.GeoPoint, r float64, k int) filter.GeoLineString {
	var pts []filter.GeoPoint
	for i := range k {
		a := 2 * math.Pi * float64(i) / float64(k)
		rr := r * (0.4 + g.r.Float64())
		pts = append(pts, filter.GeoPoint{
			Lon: math.Max(-180, math.Min(180, c.Lon+rr*math.Cos(a))),
			Lat: math.Max(-90, math.Min(90, c.Lat+rr*math.Sin(a))),
		})
	}
	return filter.GeoLineString{Points: append(pts, pts[0])}
}

// geoCond returns a geo condition of a random shape.
func (g *gen) geoCond(c *filter.Condition) {
	switch g.pick(3) {
	case 0:
		a, b := g.point(), g.point()
		c.GeoBoundingBox = &filter.GeoBoundingBox{
			TopLeft:     filter.GeoPoint{Lon: a.Lon, Lat: math.Max(a.Lat, b.Lat)},
			BottomRight: filter.GeoPoint{Lon: b.Lon, Lat: math.Min(a.Lat, b.Lat)},
		}
		if g.pick(5) == 0 { // a point-sized box on a stored coordinate
			p := filter.GeoPoint{Lon: pickOf(g, coords), Lat: math.Max(-90, math.Min(90, pickOf(g, coords)))}
			c.GeoBoundingBox = &filter.GeoBoundingBox{TopLeft: p, BottomRight: p}
		}
	case 1:
		radii := []float64{0, 1, 1000, 1e5, 1e6, 5e6, 1e7, 2.1e7}
		c.GeoRadius = &filter.GeoRadius{Center: g.point(), Radius: pickOf(g, radii) * g.r.Float64() * 2}
	default:
		ctr := g.point()
		p := &filter.GeoPolygon{Exterior: g.ring(ctr, 5+g.r.Float64()*60, 3+g.pick(6))}
		if g.pick(2) == 0 {
			p.Interiors = []filter.GeoLineString{g.ring(ctr, 2+g.r.Float64()*10, 4)}
		}
		c.GeoPolygon = p
	}
}

func (g *gen) textQuery() string {
	qs := []string{"quick", "quick fox", "the", "Fox jumps", "brown quick", "東京", "cafe", "café", "zzz", "qui",
		"quick zzz", "the quick brown", "fox quick", "dog", "brown", "jumps over", "over the lazy", "京都", "!!", "a"}
	if g.pick(4) == 0 {
		return pickOf(g, sentences)
	}
	return pickOf(g, qs)
}

// strVals and intVals are candidate query values.
func (g *gen) strVal() any {
	switch g.pick(6) {
	case 0:
		return pickOf(g, uuids)
	case 1:
		return pickOf(g, badUUIDs)
	case 2:
		return "nope"
	}
	return pickOf(g, words)
}

func (g *gen) intVal() any {
	vs := []int64{-1, 0, 1, 2, 3, 100, -7, 7, 9007199254740993, 9007199254740992, math.MaxInt64, math.MinInt64, -4}
	return pickOf(g, vs)
}

func (g *gen) list(elem func() any) []any {
	out := make([]any, g.pick(4))
	for i := range out {
		out[i] = elem()
	}
	return out
}

// Brute force.

// brute reports whether the condition holds for doc, from the semantics.
func brute(doc map[string]any, p filter.Path, c *filter.Condition, tok *text.Tokenizer) bool {
	some := func(fn func(v any) bool) bool {
		found := false
		filter.Values(doc, p, func(v any) bool {
			found = fn(v)
			return !found
		})
		return found
	}
	inList := func(list []any, v any) bool {
		for _, w := range list {
			switch w := w.(type) {
			case string:
				if s, ok := v.(string); ok && s == w {
					return true
				}
			case int64:
				if i, ok := filter.Integer(v); ok && i == w {
					return true
				}
			}
		}
		return false
	}
	switch {
	case c.Match != nil:
		m := c.Match
		switch {
		case m.Value != nil:
			return some(func(v any) bool { return inList([]any{m.Value}, v) || (isBool(m.Value) && v == m.Value) })
		case m.Any != nil:
			return some(func(v any) bool { return inList(m.Any, v) })
		case m.Except != nil:
			return some(func(v any) bool { return v != nil && !inList(m.Except, v) })
		case m.Prefix != "":
			return some(func(v any) bool { s, ok := v.(string); return ok && strings.HasPrefix(s, m.Prefix) })
		case m.Text != "" || m.TextAny != "":
			q, all := m.Text, true
			if q == "" {
				q, all = m.TextAny, false
			}
			var want []string
			tok.QueryTokens(q, func(t string) bool { want = append(want, strings.Clone(t)); return true })
			if len(want) == 0 {
				return false
			}
			have := map[string]bool{}
			some(func(v any) bool {
				if s, ok := v.(string); ok {
					tok.Tokens(s, func(t string) bool { have[strings.Clone(t)] = true; return true })
				}
				return false
			})
			n := 0
			for _, w := range want {
				if have[w] {
					n++
				}
			}
			if all {
				return n == len(want)
			}
			return n > 0
		case m.Phrase != "":
			var want []string
			tok.Words(m.Phrase, func(t string) bool { want = append(want, strings.Clone(t)); return true })
			if len(want) == 0 {
				return false
			}
			return some(func(v any) bool {
				s, ok := v.(string)
				if !ok {
					return false
				}
				var have []string
				tok.Words(s, func(t string) bool { have = append(have, strings.Clone(t)); return true })
				for i := 0; i+len(want) <= len(have); i++ {
					if slices.Equal(have[i:i+len(want)], want) {
						return true
					}
				}
				return false
			})
		}
	case c.Range != nil:
		r := c.Range
		return some(func(v any) bool {
			x, ok := filter.Number(v)
			return ok && !math.IsNaN(x) && (r.GT == nil || x > *r.GT) && (r.GTE == nil || x >= *r.GTE) &&
				(r.LT == nil || x < *r.LT) && (r.LTE == nil || x <= *r.LTE)
		})
	case c.DatetimeRange != nil:
		r := c.DatetimeRange
		return some(func(v any) bool {
			us, ok := filter.Datetime(v)
			if !ok {
				return false
			}
			t := time.UnixMicro(us)
			return (r.GT == nil || t.After(*r.GT)) && (r.GTE == nil || !t.Before(*r.GTE)) &&
				(r.LT == nil || t.Before(*r.LT)) && (r.LTE == nil || !t.After(*r.LTE))
		})
	case c.GeoBoundingBox != nil:
		return some(func(v any) bool { pt, ok := filter.Geo(v); return ok && c.GeoBoundingBox.Contains(pt) })
	case c.GeoRadius != nil:
		return some(func(v any) bool { pt, ok := filter.Geo(v); return ok && c.GeoRadius.Contains(pt) })
	case c.GeoPolygon != nil:
		return some(func(v any) bool { pt, ok := filter.Geo(v); return ok && c.GeoPolygon.Contains(pt) })
	}
	panic("brute: unsupported condition")
}

func isBool(v any) bool { _, ok := v.(bool); return ok }

// want returns the offsets of docs matching c.
func want(docs []map[string]any, p filter.Path, c *filter.Condition, tok *text.Tokenizer) *roaring.Bitmap {
	bm := roaring.New()
	for off, d := range docs {
		if d != nil && brute(d, p, c, tok) {
			bm.Add(uint32(off))
		}
	}
	return bm
}

// answers checks every answer of x for c against the brute force over
// docs (the offsets x covers). It returns whether x answered.
func answers(t *testing.T, x *Index, docs []map[string]any, c *filter.Condition, tok *text.Tokenizer) bool {
	t.Helper()
	est, ok1 := x.Estimate(c)
	bm, ok2 := x.Bitmap(c)
	chk, ok3 := x.Checker(c)
	if ok1 != ok2 || ok2 != ok3 {
		t.Fatalf("%s: ok differs: Estimate %v, Bitmap %v, Checker %v", condString(c), ok1, ok2, ok3)
	}
	if !ok1 {
		return false
	}
	w := want(docs, x.path, c, tok)
	if !bm.Equals(w) {
		extra, missing := roaring.AndNot(bm, w), roaring.AndNot(w, bm)
		t.Fatalf("%s on %s %q: Bitmap has %d extra %v, misses %d %v", condString(c), x.typ, x.key,
			extra.GetCardinality(), head(extra, docs), missing.GetCardinality(), head(missing, docs))
	}
	for off := range uint32(len(docs) + 3) {
		if got := chk(off); got != w.Contains(off) {
			t.Fatalf("%s on %s %q: Checker(%d) = %v, want %v (doc %s)", condString(c), x.typ, x.key, off, got, !got, docString(docs, off))
		}
	}
	n := int(w.GetCardinality())
	if est.Min > n || est.Max < n || est.Exp < est.Min || est.Exp > est.Max {
		t.Fatalf("%s on %s %q: Estimate %+v, count %d", condString(c), x.typ, x.key, est, n)
	}
	return true
}

func head(bm *roaring.Bitmap, docs []map[string]any) string {
	var parts []string
	it := bm.Iterator()
	for i := 0; i < 3 && it.HasNext(); i++ {
		off := it.Next()
		parts = append(parts, fmt.Sprintf("%d:%s", off, docString(docs, off)))
	}
	return strings.Join(parts, " ")
}

func docString(docs []map[string]any, off uint32) string {
	if int(off) >= len(docs) {
		return "<none>"
	}
	b, _ := json.Marshal(docs[off])
	return string(b)
}

func condString(c *filter.Condition) string {
	b, _ := json.Marshal(c)
	return string(b)
}
