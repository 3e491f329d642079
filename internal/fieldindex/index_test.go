package fieldindex

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/text"
)

func bptr(b bool) *bool { return &b }
func iptr(i int) *int   { return &i }

// typeCase is an index type with a generator of the conditions it must
// answer and a list of conditions it must refuse.
type typeCase struct {
	name    string
	schema  filter.FieldSchema
	served  func(g *gen, c *filter.Condition)
	refused []filter.Condition
}

var prefixes = []string{"r", "re", "a", "abc", "Q", "b", "red", "réd", "rédx", "zz", "a b", "\xff"}

var (
	someRange     = &filter.Range{GT: f64(1)}
	someDatetime  = &filter.DatetimeRange{GT: &time.Time{}}
	someBox       = &filter.GeoBoundingBox{TopLeft: filter.GeoPoint{Lon: -10, Lat: 10}, BottomRight: filter.GeoPoint{Lon: 10, Lat: -10}}
	commonRefused = []filter.Condition{
		{IsNull: true}, {IsEmpty: true}, {ValuesCount: &filter.ValuesCount{GT: iptr(1)}},
		{Match: &filter.Match{Value: "x"}, Range: someRange},
		{Match: &filter.Match{Value: "x", Prefix: "x"}},
		{HasID: []base.PointID{}}, {Match: &filter.Match{}},
	}
)

func keywordServed(g *gen, c *filter.Condition) {
	switch g.pick(4) {
	case 0:
		c.Match = &filter.Match{Value: g.strVal()}
	case 1:
		c.Match = &filter.Match{Any: g.list(g.strVal)}
	case 2:
		c.Match = &filter.Match{Except: g.list(g.strVal)}
	default:
		c.Match = &filter.Match{Prefix: pickOf(g, prefixes)}
	}
}

func integerServed(g *gen, c *filter.Condition) {
	switch g.pick(4) {
	case 0:
		c.Match = &filter.Match{Value: g.intVal()}
	case 1:
		c.Match = &filter.Match{Any: g.list(g.intVal)}
	case 2:
		c.Match = &filter.Match{Except: g.list(g.intVal)}
	default:
		c.Range = g.rangeCond()
	}
}

func textServed(g *gen, c *filter.Condition) {
	switch g.pick(3) {
	case 0:
		c.Match = &filter.Match{Text: g.textQuery()}
	case 1:
		c.Match = &filter.Match{TextAny: g.textQuery()}
	default:
		c.Match = &filter.Match{Phrase: g.textQuery()}
	}
	if c.Match.Text == "" && c.Match.TextAny == "" && c.Match.Phrase == "" {
		c.Match.Text = "quick"
	}
}

var textRefused = []filter.Condition{
	{Match: &filter.Match{Value: "quick"}}, {Match: &filter.Match{Prefix: "q"}}, {Range: someRange},
	{Match: &filter.Match{Any: []any{"quick"}}}, {Match: &filter.Match{Except: []any{"quick"}}},
}

var cases = []typeCase{
	{
		name:   "keyword",
		schema: filter.FieldSchema{Type: filter.TypeKeyword},
		served: keywordServed,
		refused: []filter.Condition{
			{Match: &filter.Match{Value: int64(1)}}, {Match: &filter.Match{Value: true}},
			{Match: &filter.Match{Any: []any{int64(1)}}}, {Match: &filter.Match{Except: []any{int64(1)}}},
			{Range: someRange}, {DatetimeRange: someDatetime}, {GeoBoundingBox: someBox},
			{Match: &filter.Match{Text: "red"}}, {Match: &filter.Match{TextAny: "red"}}, {Match: &filter.Match{Phrase: "red"}},
		},
	},
	{
		name:   "integer",
		schema: filter.FieldSchema{Type: filter.TypeInteger},
		served: integerServed,
		refused: []filter.Condition{
			{Match: &filter.Match{Value: "1"}}, {Match: &filter.Match{Value: true}},
			{Match: &filter.Match{Any: []any{"a"}}}, {Match: &filter.Match{Except: []any{"a"}}},
			{Match: &filter.Match{Prefix: "1"}}, {DatetimeRange: someDatetime}, {GeoBoundingBox: someBox},
			{Match: &filter.Match{Text: "1"}},
		},
	},
	{
		name:   "integer-lookup-only",
		schema: filter.FieldSchema{Type: filter.TypeInteger, Range: bptr(false)},
		served: integerServed,
	},
	{
		name:   "integer-range-only",
		schema: filter.FieldSchema{Type: filter.TypeInteger, Lookup: bptr(false), Range: bptr(true)},
		served: integerServed,
	},
	{
		name:   "float",
		schema: filter.FieldSchema{Type: filter.TypeFloat},
		served: func(g *gen, c *filter.Condition) { c.Range = g.rangeCond() },
		refused: []filter.Condition{
			{Match: &filter.Match{Value: int64(1)}}, {Match: &filter.Match{Value: "1"}},
			{Match: &filter.Match{Any: []any{int64(1)}}}, {Match: &filter.Match{Except: []any{int64(1)}}},
			{Match: &filter.Match{Prefix: "1"}}, {DatetimeRange: someDatetime}, {GeoBoundingBox: someBox},
		},
	},
	{
		name:   "bool",
		schema: filter.FieldSchema{Type: filter.TypeBool},
		served: func(g *gen, c *filter.Condition) { c.Match = &filter.Match{Value: g.pick(2) == 0} },
		refused: []filter.Condition{
			{Match: &filter.Match{Value: "true"}}, {Match: &filter.Match{Value: int64(1)}},
			{Match: &filter.Match{Any: []any{}}}, {Match: &filter.Match{Except: []any{}}},
			{Range: someRange}, {Match: &filter.Match{Prefix: "t"}},
		},
	},
	{
		name:   "datetime",
		schema: filter.FieldSchema{Type: filter.TypeDatetime},
		served: func(g *gen, c *filter.Condition) { c.DatetimeRange = g.datetimeCond() },
		refused: []filter.Condition{
			{Range: someRange}, {Match: &filter.Match{Value: "2024-01-02"}},
			{Match: &filter.Match{Prefix: "2024"}}, {GeoBoundingBox: someBox},
		},
	},
	{
		name:   "uuid",
		schema: filter.FieldSchema{Type: filter.TypeUUID},
		served: func(g *gen, c *filter.Condition) {
			switch g.pick(3) {
			case 0:
				c.Match = &filter.Match{Value: g.strVal()}
			case 1:
				c.Match = &filter.Match{Any: g.list(g.strVal)}
			default:
				c.Match = &filter.Match{Except: g.list(g.strVal)}
			}
		},
		refused: []filter.Condition{
			{Match: &filter.Match{Prefix: "1"}}, {Range: someRange}, {Match: &filter.Match{Value: int64(1)}},
			{Match: &filter.Match{Value: true}}, {Match: &filter.Match{Any: []any{int64(1)}}},
		},
	},
	{
		name:   "geo",
		schema: filter.FieldSchema{Type: filter.TypeGeo},
		served: func(g *gen, c *filter.Condition) { g.geoCond(c) },
		refused: []filter.Condition{
			{Range: someRange}, {Match: &filter.Match{Value: "x"}}, {DatetimeRange: someDatetime},
		},
	},
	{
		name:    "text",
		schema:  filter.FieldSchema{Type: filter.TypeText},
		served:  textServed,
		refused: textRefused,
	},
	{
		name:    "text-phrase",
		schema:  filter.FieldSchema{Type: filter.TypeText, PhraseMatching: true},
		served:  textServed,
		refused: textRefused,
	},
	{
		name: "text-prefix",
		schema: filter.FieldSchema{Type: filter.TypeText, Tokenizer: "prefix", MinTokenLen: iptr(2), MaxTokenLen: iptr(5),
			PhraseMatching: true, ASCIIFolding: true},
		served: textServed,
	},
	{
		name: "text-options",
		schema: filter.FieldSchema{Type: filter.TypeText, Tokenizer: "whitespace", Lowercase: bptr(false), PhraseMatching: true,
			Stopwords: &filter.Stopwords{Languages: []string{"english"}, Custom: []string{"fox"}}},
		served: textServed,
	},
	{
		name:   "text-multilingual",
		schema: filter.FieldSchema{Type: filter.TypeText, Tokenizer: "multilingual", PhraseMatching: true},
		served: textServed,
	},
}

// mustRefuse reports whether x must refuse a served condition c, given the
// docs it indexed (I2).
func mustRefuse(s filter.FieldSchema, docs []map[string]any, p filter.Path, c *filter.Condition) bool {
	seen := func(pred func(v any) bool) bool {
		for _, d := range docs {
			found := false
			filter.Values(d, p, func(v any) bool { found = pred(v); return !found })
			if found {
				return true
			}
		}
		return false
	}
	switch s.Type {
	case filter.TypeInteger:
		if c.Range != nil {
			if s.Range != nil && !*s.Range {
				return true
			}
			return seen(func(v any) bool {
				_, isNum := filter.Number(v)
				_, isInt := filter.Integer(v)
				return isNum && !isInt
			})
		}
		return s.Lookup != nil && !*s.Lookup
	case filter.TypeUUID:
		m := c.Match
		qs := append(append([]any{m.Value}, m.Any...), m.Except...)
		for _, q := range qs {
			if s, ok := q.(string); ok {
				if _, canon := parseUUID(s); !canon {
					return seen(func(v any) bool {
						s, ok := v.(string)
						_, canon := parseUUID(s)
						return ok && !canon
					})
				}
			}
		}
	case filter.TypeText:
		return c.Match.Phrase != "" && !s.PhraseMatching
	}
	return false
}

// checkAll runs conds random served conditions and every refused one
// against x, which covers docs.
func checkAll(t *testing.T, tc typeCase, x *Index, g *gen, docs []map[string]any, tok *text.Tokenizer, conds int) (answered int) {
	t.Helper()
	for range conds {
		c := &filter.Condition{Key: x.key}
		tc.served(g, c)
		ok := answers(t, x, docs, c, tok)
		if refuse := mustRefuse(tc.schema, docs, x.path, c); ok == refuse {
			t.Fatalf("%s on %s %q: ok = %v, want %v", condString(c), tc.name, x.key, ok, !refuse)
		}
		if ok {
			answered++
		}
	}
	for _, c := range append(append([]filter.Condition(nil), commonRefused...), tc.refused...) {
		c.Key = x.key
		if answers(t, x, docs, &c, tok) {
			t.Fatalf("%s on %s: answered, want refused", condString(&c), tc.name)
		}
	}
	return answered
}

func tokenizer(t testing.TB, s filter.FieldSchema) *text.Tokenizer {
	if s.Type != filter.TypeText {
		return nil
	}
	tok, err := filter.TokenizerFor(s)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestIndexes checks every index type, on every kind of path, built in
// every way (Build, Add while querying, Add then Freeze, Decode), against
// the brute force (I1, I2).
func TestIndexes(t *testing.T) {
	seeds := 3
	if testing.Short() {
		seeds = 1
	}
	for _, tc := range cases {
		for _, key := range []string{"f", "a.b", "a[].b"} {
			t.Run(tc.name+"/"+key, func(t *testing.T) {
				tok := tokenizer(t, tc.schema)
				answered := 0
				for seed := range uint64(seeds) {
					g := newGen(seed+1, tc.schema.Type)
					n := 200 + g.pick(400)
					cp := g.corpus(n)

					built, err := Build(key, tc.schema, n, cp.payload)
					if err != nil {
						t.Fatal(err)
					}
					if built.Len() != n {
						t.Fatalf("Len %d, want %d", built.Len(), n)
					}
					answered += checkAll(t, tc, built, g, cp.docs, tok, 150)

					b, err := built.AppendBinary(nil)
					if err != nil {
						t.Fatal(err)
					}
					dec, err := Decode(b, true)
					if err != nil {
						t.Fatal(err)
					}
					checkAll(t, tc, dec, g, cp.docs, tok, 50)

					// Mutable: check at a few points while adding.
					m, err := New(key, tc.schema)
					if err != nil {
						t.Fatal(err)
					}
					stops := map[int]bool{0: true, 1: true, n / 3: true, n / 2: true, n - 1: true}
					for off, d := range cp.docs {
						if d != nil {
							m.Add(uint32(off), d)
						}
						if stops[off] {
							checkAll(t, tc, m, g, cp.docs[:off+1], tok, 25)
						}
					}
					m.Freeze()
					checkAll(t, tc, m, g, cp.docs, tok, 50)
				}
				if answered == 0 {
					t.Fatalf("no condition answered")
				}
			})
		}
	}
}

// TestLargeMutable pushes a mutable index past several tail merges and
// checks it again, then its frozen form.
func TestLargeMutable(t *testing.T) {
	for _, tc := range cases {
		switch tc.schema.Type {
		case filter.TypeInteger, filter.TypeFloat, filter.TypeDatetime, filter.TypeGeo, filter.TypeKeyword:
		default:
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			g := newGen(99, tc.schema.Type)
			n := 6000
			if testing.Short() {
				n = 2500
			}
			cp := g.corpus(n)
			m, err := New("f", tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			for off, d := range cp.docs {
				if d != nil {
					m.Add(uint32(off), d)
				}
			}
			checkAll(t, tc, m, g, cp.docs, nil, 40)
			m.Freeze()
			checkAll(t, tc, m, g, cp.docs, nil, 40)
		})
	}
}

// TestConcurrentAdd adds to a mutable index while other goroutines query
// it (run under -race): every answer must be exact for the offsets added
// before the query started and hold no offset that does not match (I4).
func TestConcurrentAdd(t *testing.T) {
	for _, tc := range []typeCase{cases[0], cases[1], cases[6], cases[8], cases[10]} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGen(7, tc.schema.Type)
			n := 3000
			cp := g.corpus(n)
			tok := tokenizer(t, tc.schema)
			x, err := New("f", tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			var conds []*filter.Condition
			for range 20 {
				c := &filter.Condition{Key: "f"}
				tc.served(g, c)
				conds = append(conds, c)
			}
			all := make([]*roaring.Bitmap, len(conds))
			for i, c := range conds {
				all[i] = want(cp.docs, x.path, c, tok)
			}
			var wg sync.WaitGroup
			done := make(chan struct{})
			errs := make(chan error, 4)
			for r := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := r; ; i++ {
						select {
						case <-done:
							return
						default:
						}
						c, w := conds[i%len(conds)], all[i%len(conds)]
						before := x.Len()
						var got *roaring.Bitmap
						var ok bool
						switch i % 3 {
						case 0:
							got, ok = x.Bitmap(c)
						case 1:
							var chk func(uint32) bool
							if chk, ok = x.Checker(c); ok {
								got = roaring.New()
								for off := range uint32(n) {
									if chk(off) {
										got.Add(off)
									}
								}
							}
						default:
							_, _ = x.Estimate(c) // must not panic; nothing to compare
							continue
						}
						if !ok {
							continue
						}
						prefix := roaring.New()
						prefix.AddRange(0, uint64(before))
						if !roaring.AndNot(got, w).IsEmpty() || !roaring.And(got, prefix).Equals(roaring.And(w, prefix)) {
							errs <- fmt.Errorf("%s: concurrent answer differs (len %d)", condString(c), before)
							return
						}
					}
				}()
			}
			for off, d := range cp.docs {
				if d != nil {
					x.Add(uint32(off), d)
				}
			}
			x.Freeze()
			close(done)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	bad := []struct {
		key string
		s   filter.FieldSchema
		msg string
	}{
		{"f", filter.FieldSchema{Type: "nope"}, "field_schema.type"},
		{"f", filter.FieldSchema{}, "field_schema.type"},
		{"f", filter.FieldSchema{Type: filter.TypeInteger, Lookup: bptr(false), Range: bptr(false)}, "field_schema"},
		{"f", filter.FieldSchema{Type: filter.TypeText, Tokenizer: "nope"}, "field_schema.tokenizer"},
		{"f", filter.FieldSchema{Type: filter.TypeText, MinTokenLen: iptr(-1)}, "field_schema.min_token_len"},
		{"f", filter.FieldSchema{Type: filter.TypeText, Stopwords: &filter.Stopwords{Languages: []string{"klingon"}}}, "field_schema.stopwords"},
		{"", filter.FieldSchema{Type: filter.TypeKeyword}, "field_name"},
		{"a..b", filter.FieldSchema{Type: filter.TypeKeyword}, "field_name"},
	}
	for _, tt := range bad {
		_, err := New(tt.key, tt.s)
		if !errors.Is(err, base.ErrInvalidArgument) {
			t.Errorf("New(%q, %+v) = %v, want ErrInvalidArgument", tt.key, tt.s, err)
			continue
		}
		if want := "invalid argument: " + tt.msg; !contains(err.Error(), want) {
			t.Errorf("New(%q, %+v) = %q, want it to contain %q", tt.key, tt.s, err, want)
		}
	}
	for _, tc := range cases {
		if _, err := New("a[].b", tc.schema); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestAddMisuse checks the documented panics: decreasing offsets and Add
// after Freeze.
func TestAddMisuse(t *testing.T) {
	mustPanic := func(name string, fn func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		fn()
	}
	x, _ := New("f", filter.FieldSchema{Type: filter.TypeKeyword})
	x.Add(5, map[string]any{"f": "a"})
	mustPanic("same offset", func() { x.Add(5, map[string]any{"f": "b"}) })
	mustPanic("lower offset", func() { x.Add(4, nil) })
	x.Add(6, nil)
	if x.Len() != 7 {
		t.Errorf("Len %d, want 7", x.Len())
	}
	x.Freeze()
	x.Freeze()
	mustPanic("after Freeze", func() { x.Add(9, nil) })
	if _, err := x.AppendBinary(nil); err != nil {
		t.Fatal(err)
	}
	y, _ := New("f", filter.FieldSchema{Type: filter.TypeKeyword})
	if _, err := y.AppendBinary(nil); err == nil {
		t.Errorf("AppendBinary of a mutable index: no error")
	}
}

// TestIndexed checks Indexed, Len and the Estimates that are exact.
func TestIndexed(t *testing.T) {
	x, _ := New("f", filter.FieldSchema{Type: filter.TypeInteger})
	x.Add(0, map[string]any{"f": "str"})
	x.Add(2, map[string]any{"f": []any{}})
	x.Add(3, map[string]any{"f": []any{jsonNum("1"), jsonNum("2")}})
	x.Add(5, map[string]any{"f": jsonNum("7")})
	x.Add(6, map[string]any{"g": jsonNum("7")})
	x.Add(7, map[string]any{"f": jsonNum("7.5")})
	for _, y := range []*Index{x, freeze(x)} {
		if got := y.Indexed().ToArray(); fmt.Sprint(got) != "[3 5]" {
			t.Errorf("Indexed %v, want [3 5]", got)
		}
		if y.Len() != 8 {
			t.Errorf("Len %d", y.Len())
		}
		if _, ok := y.Estimate(&filter.Condition{Key: "f", Range: &filter.Range{GT: f64(0)}}); ok {
			t.Errorf("range answered after a non-integral number")
		}
		est, ok := y.Estimate(&filter.Condition{Key: "f", Match: &filter.Match{Value: int64(7)}})
		if !ok || est != exact(1) {
			t.Errorf("Estimate(7) = %+v %v", est, ok)
		}
		bm, _ := y.Bitmap(&filter.Condition{Key: "f", Match: &filter.Match{Except: []any{int64(1)}}})
		if got := bm.ToArray(); fmt.Sprint(got) != "[0 3 5 7]" {
			t.Errorf("except [1] = %v, want [0 3 5 7]", got)
		}
	}
}

func freeze(x *Index) *Index {
	x.Freeze()
	return x
}

// TestEarthRadius checks that the geo prefilter uses filter.Distance's
// radius.
func TestEarthRadius(t *testing.T) {
	got := filter.Distance(filter.GeoPoint{}, filter.GeoPoint{Lat: 1})
	if want := earthRadius * math.Pi / 180; math.Abs(got-want) > 1e-6 {
		t.Fatalf("filter.Distance of one degree = %v, want %v", got, want)
	}
}

// TestMemory checks that MemoryBytes is plausible and that a frozen index
// holds no mutable scratch.
func TestMemory(t *testing.T) {
	for _, tc := range cases {
		g := newGen(3, tc.schema.Type)
		cp := g.corpus(2000)
		x, err := Build("f", tc.schema, 2000, cp.payload)
		if err != nil {
			t.Fatal(err)
		}
		mb := x.MemoryBytes()
		if mb <= 0 || mb > 2000*200 {
			t.Errorf("%s: MemoryBytes %d", tc.name, mb)
		}
		if x.ids != nil || x.keys != nil || (x.dict != nil && x.dict.ids != nil) {
			t.Errorf("%s: frozen index keeps scratch", tc.name)
		}
	}
}

func jsonNum(s string) json.Number { return json.Number(s) }
