package filter

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/text"
)

// MaxDepth is the deepest a filter may nest filters (nested conditions,
// filter conditions), so that hostile input cannot exhaust the stack.
const MaxDepth = 64

// Context is what Compile knows of the collection.
type Context struct {
	// Fields are the collection's payload indexes by key. Text conditions
	// on a key with a text index use that index's tokenizer.
	Fields map[string]FieldSchema
	// Vectors are the vector names HasVector accepts ("" is the unnamed
	// vector).
	Vectors []string
}

// Matcher is a compiled, validated filter. It is immutable and safe for
// concurrent use. A nil *Matcher matches every point.
type Matcher struct {
	root         *node
	needsPayload bool
}

// Compile validates f and returns its matcher. A nil f yields a nil
// *Matcher, which matches everything. ctx may be nil: then no key has a
// text index and HasVector accepts any name. Errors match
// base.ErrInvalidArgument and name the bad part's path
// ("filter.must[2].match: ...").
func Compile(f *Filter, ctx *Context) (*Matcher, error) {
	if f == nil {
		return nil, nil
	}
	c := compiler{ctx: ctx}
	root, err := c.filter(f, "filter", 0, scope{})
	if err != nil {
		return nil, err
	}
	return &Matcher{root: simplify(root), needsPayload: c.needsPayload}, nil
}

// NeedsPayload reports whether evaluating the filter may read a payload
// (false when it only tests ids and vectors).
func (m *Matcher) NeedsPayload() bool { return m != nil && m.needsPayload }

// Match reports whether the point at off of src matches: the pure scan
// evaluator. It reads the payload (decoding it at most once) and uses no
// index; the planner's indexed path must agree with it.
func (m *Matcher) Match(src Source, off uint32) bool {
	if m == nil {
		return true
	}
	st := evalState{src: src, off: off}
	return eval(m.root, &st)
}

// nodeKind is the operator of a compiled node.
type nodeKind uint8

const (
	nodeAnd       nodeKind = iota // every kid holds (true with none)
	nodeOr                        // some kid holds
	nodeNot                       // kids[0] does not hold
	nodeAtLeast                   // at least min kids hold
	nodeField                     // one predicate on a payload key
	nodeHasID                     // the point id is in ids
	nodeHasVector                 // the point has vector
	nodeNested                    // an element of the array at path satisfies sub
)

// node is a compiled filter: a tree of boolean operators over leaves. It is
// never modified after Compile.
type node struct {
	kind nodeKind
	kids []*node
	min  int // nodeAtLeast

	// nodeField: key and its parsed path, the predicate, and the
	// single-predicate condition handed to a FieldIndex.
	key  string
	path Path
	pred predicate
	cond *Condition

	ids    map[base.PointID]struct{} // nodeHasID
	idList []base.PointID            // nodeHasID, deduplicated, in order
	vector string                    // nodeHasVector
	sub    *node                     // nodeNested, path ends with "[]"
}

// scope is where a condition sits: inside nested filters, keys are
// relative to an element and the schema key is prefix+key.
type scope struct {
	nested bool
	prefix string
}

type compiler struct {
	ctx          *Context
	needsPayload bool
	tokenizers   map[string]*text.Tokenizer
}

func errAt(path, format string, args ...any) error {
	return base.InvalidArgumentf("%s: %s", path, fmt.Sprintf(format, args...))
}

func (c *compiler) filter(f *Filter, path string, depth int, sc scope) (*node, error) {
	if depth >= MaxDepth {
		return nil, errAt(path, "filters nested deeper than %d levels", MaxDepth)
	}
	and := &node{kind: nodeAnd}
	for i := range f.Must {
		k, err := c.condition(&f.Must[i], fmt.Sprintf("%s.must[%d]", path, i), depth, sc)
		if err != nil {
			return nil, err
		}
		and.kids = append(and.kids, k)
	}
	if len(f.Should) > 0 {
		or := &node{kind: nodeOr}
		for i := range f.Should {
			k, err := c.condition(&f.Should[i], fmt.Sprintf("%s.should[%d]", path, i), depth, sc)
			if err != nil {
				return nil, err
			}
			or.kids = append(or.kids, k)
		}
		and.kids = append(and.kids, or)
	}
	if ms := f.MinShould; ms != nil {
		if ms.MinCount < 1 {
			return nil, errAt(path+".min_should.min_count", "%d, must be at least 1", ms.MinCount)
		}
		at := &node{kind: nodeAtLeast, min: ms.MinCount}
		for i := range ms.Conditions {
			k, err := c.condition(&ms.Conditions[i], fmt.Sprintf("%s.min_should.conditions[%d]", path, i), depth, sc)
			if err != nil {
				return nil, err
			}
			at.kids = append(at.kids, k)
		}
		and.kids = append(and.kids, at)
	}
	for i := range f.MustNot {
		k, err := c.condition(&f.MustNot[i], fmt.Sprintf("%s.must_not[%d]", path, i), depth, sc)
		if err != nil {
			return nil, err
		}
		and.kids = append(and.kids, &node{kind: nodeNot, kids: []*node{k}})
	}
	return and, nil
}

// kinds lists the condition kinds set in c, in a fixed order.
func kinds(c *Condition) []string {
	var ks []string
	if c.Key != "" || c.Match != nil || c.Range != nil || c.DatetimeRange != nil ||
		c.GeoBoundingBox != nil || c.GeoRadius != nil || c.GeoPolygon != nil ||
		c.ValuesCount != nil || c.IsEmpty || c.IsNull {
		ks = append(ks, "key")
	}
	if c.HasID != nil {
		ks = append(ks, "has_id")
	}
	if c.HasVector != nil {
		ks = append(ks, "has_vector")
	}
	if c.Nested != nil {
		ks = append(ks, "nested")
	}
	if c.Filter != nil {
		ks = append(ks, "filter")
	}
	return ks
}

func (c *compiler) condition(cond *Condition, path string, depth int, sc scope) (*node, error) {
	ks := kinds(cond)
	switch {
	case len(ks) == 0:
		return nil, errAt(path, "empty condition: expected a field condition (key), has_id, has_vector, nested or a filter")
	case len(ks) > 1:
		return nil, errAt(path, "a condition has exactly one of key, has_id, has_vector, nested or filter; got %s", strings.Join(ks, " and "))
	}
	switch ks[0] {
	case "has_id":
		if sc.nested {
			return nil, errAt(path, "has_id is not supported inside a nested filter")
		}
		n := &node{kind: nodeHasID, ids: make(map[base.PointID]struct{}, len(cond.HasID))}
		for _, id := range cond.HasID {
			if _, dup := n.ids[id]; !dup {
				n.ids[id] = struct{}{}
				n.idList = append(n.idList, id)
			}
		}
		return n, nil
	case "has_vector":
		if sc.nested {
			return nil, errAt(path, "has_vector is not supported inside a nested filter")
		}
		name := *cond.HasVector
		if c.ctx != nil && !slices.Contains(c.ctx.Vectors, name) {
			return nil, errAt(path+".has_vector", "unknown vector %q", name)
		}
		return &node{kind: nodeHasVector, vector: name}, nil
	case "nested":
		return c.nested(cond.Nested, path+".nested", depth, sc)
	case "filter":
		return c.filter(cond.Filter, path, depth+1, sc)
	}
	return c.field(cond, path, sc)
}

func (c *compiler) nested(nc *Nested, path string, depth int, sc scope) (*node, error) {
	p, err := ParsePath(nc.Key)
	if err != nil {
		return nil, errAt(path+".key", "%v", err)
	}
	key := nc.Key
	if !p[len(p)-1].Flatten {
		p[len(p)-1].Flatten = true
		key += "[]"
	}
	sub, err := c.filter(&nc.Filter, path+".filter", depth+1, scope{nested: true, prefix: sc.prefix + key + "."})
	if err != nil {
		return nil, err
	}
	c.needsPayload = true
	return &node{kind: nodeNested, key: nc.Key, path: p, sub: sub}, nil
}

// field compiles a field condition into one leaf per predicate (an AND of
// them when there are several).
func (c *compiler) field(cond *Condition, path string, sc scope) (*node, error) {
	p, err := ParsePath(cond.Key)
	if err != nil {
		return nil, errAt(path+".key", "%v", err)
	}
	schemaKey := sc.prefix + cond.Key
	and := &node{kind: nodeAnd}
	leaf := func(pred predicate, single Condition) {
		single.Key = cond.Key
		and.kids = append(and.kids, &node{kind: nodeField, key: cond.Key, path: p, pred: pred, cond: &single})
	}
	if m := cond.Match; m != nil {
		pred, norm, err := c.match(m, path+".match", schemaKey)
		if err != nil {
			return nil, err
		}
		leaf(pred, Condition{Match: norm})
	}
	if r := cond.Range; r != nil {
		pred, err := compileRange(r, path+".range")
		if err != nil {
			return nil, err
		}
		leaf(pred, Condition{Range: &Range{GT: clonePtr(r.GT), GTE: clonePtr(r.GTE), LT: clonePtr(r.LT), LTE: clonePtr(r.LTE)}})
	}
	if r := cond.DatetimeRange; r != nil {
		leaf(compileDatetimeRange(r), Condition{DatetimeRange: &DatetimeRange{GT: clonePtr(r.GT), GTE: clonePtr(r.GTE), LT: clonePtr(r.LT), LTE: clonePtr(r.LTE)}})
	}
	if b := cond.GeoBoundingBox; b != nil {
		if err := checkGeoPoint(b.TopLeft, path+".geo_bounding_box.top_left"); err != nil {
			return nil, err
		}
		if err := checkGeoPoint(b.BottomRight, path+".geo_bounding_box.bottom_right"); err != nil {
			return nil, err
		}
		bb := *b
		leaf(&geoBoxPred{box: bb}, Condition{GeoBoundingBox: &bb})
	}
	if r := cond.GeoRadius; r != nil {
		if err := checkGeoPoint(r.Center, path+".geo_radius.center"); err != nil {
			return nil, err
		}
		if math.IsNaN(r.Radius) || math.IsInf(r.Radius, 0) {
			return nil, errAt(path+".geo_radius.radius", "not a finite number")
		}
		if r.Radius < 0 {
			return nil, errAt(path+".geo_radius.radius", "%v is negative", r.Radius)
		}
		rr := *r
		leaf(&geoRadiusPred{r: rr}, Condition{GeoRadius: &rr})
	}
	if g := cond.GeoPolygon; g != nil {
		pg, err := clonePolygon(g, path+".geo_polygon")
		if err != nil {
			return nil, err
		}
		leaf(&geoPolygonPred{poly: pg}, Condition{GeoPolygon: pg})
	}
	if v := cond.ValuesCount; v != nil {
		vc := ValuesCount{GT: clonePtr(v.GT), GTE: clonePtr(v.GTE), LT: clonePtr(v.LT), LTE: clonePtr(v.LTE)}
		for _, b := range []struct {
			name string
			v    *int
		}{{"gt", vc.GT}, {"gte", vc.GTE}, {"lt", vc.LT}, {"lte", vc.LTE}} {
			if b.v != nil && *b.v < 0 {
				return nil, errAt(path+".values_count."+b.name, "%d is negative", *b.v)
			}
		}
		leaf(&valuesCountPred{vc: vc}, Condition{ValuesCount: &vc})
	}
	if cond.IsEmpty {
		leaf(isEmptyPred{}, Condition{IsEmpty: true})
	}
	if cond.IsNull {
		leaf(isNullPred{}, Condition{IsNull: true})
	}
	if len(and.kids) == 0 {
		return nil, errAt(path, "field condition on %q has no predicate: expected match, range, geo_bounding_box, geo_radius, geo_polygon, values_count, is_empty or is_null", cond.Key)
	}
	c.needsPayload = true
	if len(and.kids) == 1 {
		return and.kids[0], nil
	}
	return and, nil
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func checkGeoPoint(p GeoPoint, path string) error {
	if !(p.Lat >= -90 && p.Lat <= 90) {
		return errAt(path+".lat", "%v out of range [-90, 90]", p.Lat)
	}
	if !(p.Lon >= -180 && p.Lon <= 180) {
		return errAt(path+".lon", "%v out of range [-180, 180]", p.Lon)
	}
	return nil
}

func cloneRing(l *GeoLineString, path string) (GeoLineString, error) {
	pts := l.Points
	if len(pts) < 4 {
		return GeoLineString{}, errAt(path+".points", "a ring needs at least 4 points, got %d", len(pts))
	}
	for i, p := range pts {
		if err := checkGeoPoint(p, fmt.Sprintf("%s.points[%d]", path, i)); err != nil {
			return GeoLineString{}, err
		}
	}
	if pts[0] != pts[len(pts)-1] {
		return GeoLineString{}, errAt(path+".points", "the first and last points of a ring must be the same")
	}
	return GeoLineString{Points: slices.Clone(pts)}, nil
}

func clonePolygon(g *GeoPolygon, path string) (*GeoPolygon, error) {
	ext, err := cloneRing(&g.Exterior, path+".exterior")
	if err != nil {
		return nil, err
	}
	out := &GeoPolygon{Exterior: ext}
	if g.Interiors != nil {
		out.Interiors = make([]GeoLineString, len(g.Interiors))
	}
	for i := range g.Interiors {
		if out.Interiors[i], err = cloneRing(&g.Interiors[i], fmt.Sprintf("%s.interiors[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// normScalar normalises a Match.Value (or an element of Any or Except) to
// a string, an int64 or a bool.
func normScalar(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, int64:
		return x, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d out of range", x)
		}
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d out of range", x)
		}
		return int64(x), nil
	case float32:
		return normScalar(float64(x))
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("expected string, integer or bool, got number %v", x)
		}
		return int64(x), nil
	case nil:
		return nil, fmt.Errorf("expected string, integer or bool, got null")
	}
	if n, ok := v.(interface{ Int64() (int64, error) }); ok { // json.Number
		i, err := n.Int64()
		if err != nil {
			return nil, fmt.Errorf("expected string, integer or bool, got number %v", v)
		}
		return i, nil
	}
	return nil, fmt.Errorf("expected string, integer or bool, got %T", v)
}

// normList normalises Any/Except: all strings or all integers.
func normList(vs []any, path string) ([]any, error) {
	out := make([]any, len(vs))
	for i, v := range vs {
		s, err := normScalar(v)
		if err == nil {
			if _, isBool := s.(bool); isBool {
				err = fmt.Errorf("expected string or integer, got bool")
			}
		}
		if err != nil {
			return nil, errAt(fmt.Sprintf("%s[%d]", path, i), "%s", strings.Replace(err.Error(), "string, integer or bool", "string or integer", 1))
		}
		if i > 0 {
			_, s0 := out[0].(string)
			if _, si := s.(string); si != s0 {
				return nil, errAt(path, "mixes strings and integers")
			}
		}
		out[i] = s
	}
	return out, nil
}

func matchForms(m *Match) []string {
	var fs []string
	if m.Value != nil {
		fs = append(fs, "value")
	}
	if m.Any != nil {
		fs = append(fs, "any")
	}
	if m.Except != nil {
		fs = append(fs, "except")
	}
	if m.Text != "" {
		fs = append(fs, "text")
	}
	if m.TextAny != "" {
		fs = append(fs, "text_any")
	}
	if m.Phrase != "" {
		fs = append(fs, "phrase")
	}
	if m.Prefix != "" {
		fs = append(fs, "prefix")
	}
	return fs
}

// match compiles a Match; norm is its normalised copy for FieldIndex
// (Value a string, int64 or bool; Any/Except all strings or all int64).
func (c *compiler) match(m *Match, path, schemaKey string) (predicate, *Match, error) {
	fs := matchForms(m)
	switch {
	case len(fs) == 0:
		return nil, nil, errAt(path, "expected one of value, any, except, text, text_any, phrase or prefix")
	case len(fs) > 1:
		return nil, nil, errAt(path, "expected exactly one of value, any, except, text, text_any, phrase or prefix; got %s", strings.Join(fs, " and "))
	}
	switch fs[0] {
	case "value":
		v, err := normScalar(m.Value)
		if err != nil {
			return nil, nil, errAt(path+".value", "%v", err)
		}
		norm := &Match{Value: v}
		switch x := v.(type) {
		case string:
			return eqString(x), norm, nil
		case int64:
			return eqInt(x), norm, nil
		default:
			return eqBool(x.(bool)), norm, nil
		}
	case "any", "except":
		list, src := m.Any, path+".any"
		if fs[0] == "except" {
			list, src = m.Except, path+".except"
		}
		vs, err := normList(list, src)
		if err != nil {
			return nil, nil, err
		}
		set := newValueSet(vs)
		if fs[0] == "any" {
			return &anyPred{set: set}, &Match{Any: vs}, nil
		}
		return &exceptPred{set: set}, &Match{Except: vs}, nil
	case "prefix":
		return prefixPred(m.Prefix), &Match{Prefix: m.Prefix}, nil
	}
	// text, text_any, phrase
	tok, err := c.tokenizer(schemaKey, path)
	if err != nil {
		return nil, nil, err
	}
	switch fs[0] {
	case "text":
		return newTextPred(textAll, m.Text, tok), &Match{Text: m.Text}, nil
	case "text_any":
		return newTextPred(textAny, m.TextAny, tok), &Match{TextAny: m.TextAny}, nil
	default:
		return newTextPred(textPhrase, m.Phrase, tok), &Match{Phrase: m.Phrase}, nil
	}
}

// tokenizer returns the tokenizer of key's text index, nil without one.
func (c *compiler) tokenizer(key, path string) (*text.Tokenizer, error) {
	if c.ctx == nil {
		return nil, nil
	}
	fs, ok := c.ctx.Fields[key]
	if !ok || fs.Type != TypeText {
		return nil, nil
	}
	if t, ok := c.tokenizers[key]; ok {
		return t, nil
	}
	t, err := TokenizerFor(fs)
	if err != nil {
		return nil, errAt(path, "text index of %q: %v", key, err)
	}
	if c.tokenizers == nil {
		c.tokenizers = map[string]*text.Tokenizer{}
	}
	c.tokenizers[key] = t
	return t, nil
}

func compileRange(r *Range, path string) (predicate, error) {
	p := &rangePred{}
	for _, b := range []struct {
		name string
		v    *float64
		dst  *float64
		has  *bool
	}{
		{"gt", r.GT, &p.gt, &p.hasGT},
		{"gte", r.GTE, &p.gte, &p.hasGTE},
		{"lt", r.LT, &p.lt, &p.hasLT},
		{"lte", r.LTE, &p.lte, &p.hasLTE},
	} {
		if b.v == nil {
			continue
		}
		if math.IsNaN(*b.v) || math.IsInf(*b.v, 0) {
			return nil, errAt(path+"."+b.name, "not a finite number")
		}
		*b.dst, *b.has = *b.v, true
	}
	return p, nil
}

// compileDatetimeRange converts the bounds to microseconds, rounding each
// toward the inside of the range, so that comparing whole microseconds is
// exact.
func compileDatetimeRange(r *DatetimeRange) predicate {
	p := &datetimeRangePred{lo: math.MinInt64, hi: math.MaxInt64}
	if r.GT != nil {
		p.lo = max(p.lo, floorMicro(*r.GT)+1)
	}
	if r.GTE != nil {
		p.lo = max(p.lo, ceilMicro(*r.GTE))
	}
	if r.LT != nil {
		p.hi = min(p.hi, ceilMicro(*r.LT)-1)
	}
	if r.LTE != nil {
		p.hi = min(p.hi, floorMicro(*r.LTE))
	}
	return p
}

// simplify merges nested ANDs into their parent AND and nested ORs into
// their parent OR, and unwraps single-kid ANDs and ORs.
func simplify(n *node) *node {
	switch n.kind {
	case nodeAnd, nodeOr:
		var kids []*node
		for _, k := range n.kids {
			k = simplify(k)
			if k.kind == n.kind {
				kids = append(kids, k.kids...)
			} else {
				kids = append(kids, k)
			}
		}
		if len(kids) == 1 {
			return kids[0]
		}
		return &node{kind: n.kind, kids: kids}
	case nodeNot, nodeAtLeast:
		kids := make([]*node, len(n.kids))
		for i, k := range n.kids {
			kids[i] = simplify(k)
		}
		c := *n
		c.kids = kids
		return &c
	case nodeNested:
		c := *n
		c.sub = simplify(n.sub)
		return &c
	}
	return n
}
