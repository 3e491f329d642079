package filter

import (
	"math"
	"strings"
	"time"
)

// evalState is one evaluation of a filter for one point. The payload is
// decoded on first use, at most once. Inside a nested filter src is nil and
// doc is the array element.
type evalState struct {
	src     Source
	off     uint32
	doc     any
	decoded bool
}

func (st *evalState) payload() any {
	if !st.decoded {
		st.doc = DecodePayload(st.src.Payload(st.off))
		st.decoded = true
	}
	return st.doc
}

// eval evaluates n by reading the point: no index is used.
func eval(n *node, st *evalState) bool {
	switch n.kind {
	case nodeAnd:
		for _, k := range n.kids {
			if !eval(k, st) {
				return false
			}
		}
		return true
	case nodeOr:
		for _, k := range n.kids {
			if eval(k, st) {
				return true
			}
		}
		return false
	case nodeNot:
		return !eval(n.kids[0], st)
	case nodeAtLeast:
		need, left := n.min, len(n.kids)
		for _, k := range n.kids {
			if need > left {
				return false
			}
			left--
			if eval(k, st) {
				if need--; need == 0 {
					return true
				}
			}
		}
		return need <= 0
	}
	return evalLeaf(n, st)
}

// evalLeaf evaluates a leaf node by reading the point.
func evalLeaf(n *node, st *evalState) bool {
	switch n.kind {
	case nodeField:
		return n.pred.holds(st.payload(), n.path)
	case nodeHasID:
		_, ok := n.ids[st.src.ID(st.off)]
		return ok
	case nodeHasVector:
		has, known := st.src.HasVector(n.vector, st.off)
		return has && known
	case nodeNested:
		return nestedHolds(n, st.payload())
	}
	panic("filter: evalLeaf on an operator node")
}

// nestedHolds reports whether an object element of the array at n.path
// satisfies n.sub.
func nestedHolds(n *node, doc any) bool {
	found := false
	rawValues(doc, n.path, func(v any) bool {
		if _, ok := v.(map[string]any); !ok {
			return true
		}
		sub := evalState{doc: v, decoded: true}
		found = eval(n.sub, &sub)
		return !found
	})
	return found
}

// rawValues calls fn with every value p selects in doc, until fn returns
// false, like Values but without expanding an array at the end of the path
// (is_empty, is_null and values_count look at the arrays themselves).
func rawValues(doc any, p Path, fn func(v any) bool) bool {
	for len(p) > 0 {
		obj, ok := doc.(map[string]any)
		if !ok {
			return true
		}
		v, ok := obj[p[0].Key]
		if !ok {
			return true
		}
		if p[0].Flatten {
			arr, ok := v.([]any)
			if !ok {
				return true
			}
			for _, e := range arr {
				if !rawValues(e, p[1:], fn) {
					return false
				}
			}
			return true
		}
		doc, p = v, p[1:]
	}
	return fn(doc)
}

// predicate is one field predicate, compiled.
type predicate interface {
	// holds reports whether the predicate holds for the key at path p of
	// doc (a decoded payload or a nested element).
	holds(doc any, p Path) bool
}

// valuePredicate is a predicate that holds when one value holds (F1).
type valuePredicate interface {
	match(v any) bool
}

func anyValue(doc any, p Path, pr valuePredicate) bool {
	found := false
	Values(doc, p, func(v any) bool {
		found = pr.match(v)
		return !found
	})
	return found
}

type eqString string

func (e eqString) holds(doc any, p Path) bool { return anyValue(doc, p, e) }
func (e eqString) match(v any) bool {
	s, ok := v.(string)
	return ok && s == string(e)
}

type eqInt int64

func (e eqInt) holds(doc any, p Path) bool { return anyValue(doc, p, e) }
func (e eqInt) match(v any) bool {
	i, ok := Integer(v)
	return ok && i == int64(e)
}

type eqBool bool

func (e eqBool) holds(doc any, p Path) bool { return anyValue(doc, p, e) }
func (e eqBool) match(v any) bool {
	b, ok := v.(bool)
	return ok && b == bool(e)
}

// valueSet is the list of Match.Any or Match.Except: strings or integers.
type valueSet struct {
	ints    bool // the list holds integers (false for strings or empty)
	strings map[string]struct{}
	int64s  map[int64]struct{}
}

func newValueSet(vs []any) valueSet {
	var s valueSet
	if len(vs) > 0 {
		_, s.ints = vs[0].(int64)
	}
	if s.ints {
		s.int64s = make(map[int64]struct{}, len(vs))
		for _, v := range vs {
			s.int64s[v.(int64)] = struct{}{}
		}
	} else {
		s.strings = make(map[string]struct{}, len(vs))
		for _, v := range vs {
			s.strings[v.(string)] = struct{}{}
		}
	}
	return s
}

type anyPred struct{ set valueSet }

func (a *anyPred) holds(doc any, p Path) bool { return anyValue(doc, p, a) }
func (a *anyPred) match(v any) bool {
	if a.set.ints {
		i, ok := Integer(v)
		if !ok {
			return false
		}
		_, in := a.set.int64s[i]
		return in
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, in := a.set.strings[s]
	return in
}

type exceptPred struct{ set valueSet }

func (e *exceptPred) holds(doc any, p Path) bool { return anyValue(doc, p, e) }

// match follows Qdrant: null is in no list but does not match; a value of
// another type than the list's is not in it.
func (e *exceptPred) match(v any) bool {
	if v == nil {
		return false
	}
	if e.set.ints {
		if i, ok := Integer(v); ok {
			_, in := e.set.int64s[i]
			return !in
		}
		return true
	}
	if s, ok := v.(string); ok {
		_, in := e.set.strings[s]
		return !in
	}
	return true
}

type prefixPred string

func (pp prefixPred) holds(doc any, p Path) bool { return anyValue(doc, p, pp) }
func (pp prefixPred) match(v any) bool {
	s, ok := v.(string)
	return ok && strings.HasPrefix(s, string(pp))
}

type rangePred struct {
	gt, gte, lt, lte             float64
	hasGT, hasGTE, hasLT, hasLTE bool
}

func (r *rangePred) holds(doc any, p Path) bool { return anyValue(doc, p, r) }
func (r *rangePred) match(v any) bool {
	x, ok := Number(v)
	if !ok || math.IsNaN(x) {
		return false
	}
	return (!r.hasGT || x > r.gt) && (!r.hasGTE || x >= r.gte) &&
		(!r.hasLT || x < r.lt) && (!r.hasLTE || x <= r.lte)
}

// datetimeRangePred holds for datetimes in [lo, hi] microseconds.
type datetimeRangePred struct{ lo, hi int64 }

func (r *datetimeRangePred) holds(doc any, p Path) bool { return anyValue(doc, p, r) }
func (r *datetimeRangePred) match(v any) bool {
	us, ok := Datetime(v)
	return ok && us >= r.lo && us <= r.hi
}

func floorMicro(t time.Time) int64 { return t.UnixMicro() }

func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

type geoBoxPred struct{ box GeoBoundingBox }

func (g *geoBoxPred) holds(doc any, p Path) bool { return anyValue(doc, p, g) }
func (g *geoBoxPred) match(v any) bool {
	pt, ok := Geo(v)
	return ok && g.box.Contains(pt)
}

type geoRadiusPred struct{ r GeoRadius }

func (g *geoRadiusPred) holds(doc any, p Path) bool { return anyValue(doc, p, g) }
func (g *geoRadiusPred) match(v any) bool {
	pt, ok := Geo(v)
	return ok && g.r.Contains(pt)
}

type geoPolygonPred struct{ poly *GeoPolygon }

func (g *geoPolygonPred) holds(doc any, p Path) bool { return anyValue(doc, p, g) }
func (g *geoPolygonPred) match(v any) bool {
	pt, ok := Geo(v)
	return ok && g.poly.Contains(pt)
}

// valuesCountPred counts values as F5 says.
type valuesCountPred struct{ vc ValuesCount }

func (c *valuesCountPred) holds(doc any, p Path) bool {
	n := 0
	rawValues(doc, p, func(v any) bool {
		switch x := v.(type) {
		case nil:
		case []any:
			n += len(x)
		default:
			n++
		}
		return true
	})
	return countIn(&c.vc, n)
}

func countIn(vc *ValuesCount, n int) bool {
	return (vc.GT == nil || n > *vc.GT) && (vc.GTE == nil || n >= *vc.GTE) &&
		(vc.LT == nil || n < *vc.LT) && (vc.LTE == nil || n <= *vc.LTE)
}

// isEmptyPred: the key is missing or every value is null or [] (F6).
type isEmptyPred struct{}

func (isEmptyPred) holds(doc any, p Path) bool {
	return rawValues(doc, p, func(v any) bool {
		switch x := v.(type) {
		case nil:
			return true
		case []any:
			return len(x) == 0
		}
		return false
	})
}

// isNullPred: a value the key selects is null itself (F6).
type isNullPred struct{}

func (isNullPred) holds(doc any, p Path) bool {
	return !rawValues(doc, p, func(v any) bool { return v != nil })
}
