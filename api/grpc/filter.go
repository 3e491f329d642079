package grpcapi

import (
	"fmt"
	"math"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/strata-db/strata"
)

// maxFilterDepth bounds the nesting of filters converted here; the root
// applies its own (smaller) limit with a precise message.
const maxFilterDepth = 64

// toFilter converts Qdrant's protobuf Filter to a strata.Filter. Errors
// name the path of the bad part under prefix the way the root (and REST)
// name it, so that both kinds of error read alike: the protobuf's wrapper
// levels (field, filter, has_id.has_id) are left out
// ("filter.must[2].geo_polygon.exterior: missing"); the root then
// validates the result. nil is no filter.
func toFilter(f *qdrant.Filter, prefix string) (*strata.Filter, error) {
	if f == nil {
		return nil, nil
	}
	return convFilter(f, joinPath(prefix, "filter"), 0)
}

func convFilter(f *qdrant.Filter, path string, depth int) (*strata.Filter, error) {
	if depth > maxFilterDepth {
		return nil, formatErr("%s: filters nested deeper than %d levels", path, maxFilterDepth)
	}
	out := &strata.Filter{}
	var err error
	if out.Must, err = convConditions(f.GetMust(), path+".must", depth); err != nil {
		return nil, err
	}
	if out.Should, err = convConditions(f.GetShould(), path+".should", depth); err != nil {
		return nil, err
	}
	if out.MustNot, err = convConditions(f.GetMustNot(), path+".must_not", depth); err != nil {
		return nil, err
	}
	if ms := f.GetMinShould(); ms != nil {
		mpath := path + ".min_should"
		if ms.GetMinCount() > math.MaxInt32 {
			return nil, formatErr("%s.min_count: %d is too large", mpath, ms.GetMinCount())
		}
		conds, err := convConditions(ms.GetConditions(), mpath+".conditions", depth)
		if err != nil {
			return nil, err
		}
		out.MinShould = &strata.MinShould{Conditions: conds, MinCount: int(ms.GetMinCount())}
	}
	return out, nil
}

func convConditions(cs []*qdrant.Condition, path string, depth int) ([]strata.Condition, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	out := make([]strata.Condition, len(cs))
	for i, c := range cs {
		if err := convCondition(c, fmt.Sprintf("%s[%d]", path, i), depth, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func convCondition(c *qdrant.Condition, path string, depth int, out *strata.Condition) error {
	switch x := c.GetConditionOneOf().(type) {
	case *qdrant.Condition_Field:
		return convField(x.Field, path, out)
	case *qdrant.Condition_IsEmpty:
		out.Key, out.IsEmpty = x.IsEmpty.GetKey(), true
		return nil
	case *qdrant.Condition_IsNull:
		out.Key, out.IsNull = x.IsNull.GetKey(), true
		return nil
	case *qdrant.Condition_HasId:
		ids, err := pointIDs(x.HasId.GetHasId(), path+".has_id")
		if err != nil {
			return err
		}
		if ids == nil {
			ids = []strata.PointID{} // has_id with no ids matches nothing
		}
		out.HasID = ids
		return nil
	case *qdrant.Condition_HasVector:
		name := x.HasVector.GetHasVector()
		out.HasVector = &name
		return nil
	case *qdrant.Condition_Nested:
		npath := path + ".nested"
		if x.Nested.GetFilter() == nil {
			return formatErr("%s.filter: missing", npath)
		}
		f, err := convFilter(x.Nested.GetFilter(), npath+".filter", depth+1)
		if err != nil {
			return err
		}
		out.Nested = &strata.Nested{Key: x.Nested.GetKey(), Filter: *f}
		return nil
	case *qdrant.Condition_Filter:
		f, err := convFilter(x.Filter, path, depth+1)
		if err != nil {
			return err
		}
		out.Filter = f
		return nil
	case nil:
		return formatErr("%s: empty condition: expected field, is_empty, is_null, has_id, has_vector, nested or filter", path)
	}
	return formatErr("%s: unknown kind of condition", path)
}

// convField converts a FieldCondition: every predicate set must hold.
func convField(fc *qdrant.FieldCondition, path string, out *strata.Condition) error {
	out.Key = fc.GetKey()
	if m := fc.GetMatch(); m != nil {
		sm, err := convMatch(m, path+".match")
		if err != nil {
			return err
		}
		out.Match = sm
	}
	if r := fc.GetRange(); r != nil {
		out.Range = &strata.Range{GT: r.Gt, GTE: r.Gte, LT: r.Lt, LTE: r.Lte}
	}
	if r := fc.GetDatetimeRange(); r != nil {
		dr, err := convDatetimeRange(r, path+".datetime_range")
		if err != nil {
			return err
		}
		out.DatetimeRange = dr
	}
	if b := fc.GetGeoBoundingBox(); b != nil {
		bpath := path + ".geo_bounding_box"
		tl, err := geoPoint(b.GetTopLeft(), bpath+".top_left")
		if err != nil {
			return err
		}
		br, err := geoPoint(b.GetBottomRight(), bpath+".bottom_right")
		if err != nil {
			return err
		}
		out.GeoBoundingBox = &strata.GeoBoundingBox{TopLeft: tl, BottomRight: br}
	}
	if r := fc.GetGeoRadius(); r != nil {
		c, err := geoPoint(r.GetCenter(), path+".geo_radius.center")
		if err != nil {
			return err
		}
		out.GeoRadius = &strata.GeoRadius{Center: c, Radius: float64(r.GetRadius())}
	}
	if p := fc.GetGeoPolygon(); p != nil {
		ppath := path + ".geo_polygon"
		if p.GetExterior() == nil {
			return formatErr("%s.exterior: missing", ppath)
		}
		ext, err := lineString(p.GetExterior(), ppath+".exterior")
		if err != nil {
			return err
		}
		out.GeoPolygon = &strata.GeoPolygon{Exterior: ext}
		for i, in := range p.GetInteriors() {
			ls, err := lineString(in, fmt.Sprintf("%s.interiors[%d]", ppath, i))
			if err != nil {
				return err
			}
			out.GeoPolygon.Interiors = append(out.GeoPolygon.Interiors, ls)
		}
	}
	if vc := fc.GetValuesCount(); vc != nil {
		vpath := path + ".values_count"
		out.ValuesCount = &strata.ValuesCount{}
		for _, b := range []struct {
			name string
			src  *uint64
			dst  **int
		}{{"lt", vc.Lt, &out.ValuesCount.LT}, {"gt", vc.Gt, &out.ValuesCount.GT}, {"gte", vc.Gte, &out.ValuesCount.GTE}, {"lte", vc.Lte, &out.ValuesCount.LTE}} {
			if b.src == nil {
				continue
			}
			if *b.src > math.MaxInt32 {
				return formatErr("%s.%s: %d is too large", vpath, b.name, *b.src)
			}
			n := int(*b.src)
			*b.dst = &n
		}
	}
	// As REST: is_empty / is_null false would mean "not empty" / "not
	// null", which Strata's grammar says with must_not.
	for _, b := range []struct {
		name string
		v    *bool
		dst  *bool
	}{{"is_empty", fc.IsEmpty, &out.IsEmpty}, {"is_null", fc.IsNull, &out.IsNull}} {
		if b.v == nil {
			continue
		}
		if !*b.v {
			return formatErr("%s.%s: false is not supported: put the condition with true in must_not", path, b.name)
		}
		*b.dst = true
	}
	return nil
}

// convMatch converts a Match: one of its variants.
func convMatch(m *qdrant.Match, path string) (*strata.Match, error) {
	switch x := m.GetMatchValue().(type) {
	case *qdrant.Match_Keyword:
		return &strata.Match{Value: x.Keyword}, nil
	case *qdrant.Match_Integer:
		return &strata.Match{Value: x.Integer}, nil
	case *qdrant.Match_Boolean:
		return &strata.Match{Value: x.Boolean}, nil
	case *qdrant.Match_Text:
		return &strata.Match{Text: x.Text}, nil
	case *qdrant.Match_TextAny:
		return &strata.Match{TextAny: x.TextAny}, nil
	case *qdrant.Match_Phrase:
		return &strata.Match{Phrase: x.Phrase}, nil
	case *qdrant.Match_Keywords:
		return &strata.Match{Any: stringList(x.Keywords.GetStrings())}, nil
	case *qdrant.Match_Integers:
		return &strata.Match{Any: intList(x.Integers.GetIntegers())}, nil
	case *qdrant.Match_ExceptKeywords:
		return &strata.Match{Except: stringList(x.ExceptKeywords.GetStrings())}, nil
	case *qdrant.Match_ExceptIntegers:
		return &strata.Match{Except: intList(x.ExceptIntegers.GetIntegers())}, nil
	case nil:
		return nil, formatErr("%s: empty match: expected keyword, integer, boolean, text, text_any, phrase, keywords, integers, except_keywords or except_integers", path)
	}
	return nil, formatErr("%s: unknown kind of match", path)
}

// stringList and intList return non-nil lists (an empty any matches
// nothing; an empty except matches any value).
func stringList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func intList(s []int64) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func convDatetimeRange(r *qdrant.DatetimeRange, path string) (*strata.DatetimeRange, error) {
	out := &strata.DatetimeRange{}
	for _, b := range []struct {
		name string
		ts   *timestamppb.Timestamp
		dst  **time.Time
	}{{"lt", r.GetLt(), &out.LT}, {"gt", r.GetGt(), &out.GT}, {"gte", r.GetGte(), &out.GTE}, {"lte", r.GetLte(), &out.LTE}} {
		if b.ts == nil {
			continue
		}
		if err := b.ts.CheckValid(); err != nil {
			return nil, formatErr("%s.%s: %v", path, b.name, err)
		}
		t := b.ts.AsTime()
		*b.dst = &t
	}
	return out, nil
}

func geoPoint(p *qdrant.GeoPoint, path string) (strata.GeoPoint, error) {
	if p == nil {
		return strata.GeoPoint{}, formatErr("%s: missing", path)
	}
	return strata.GeoPoint{Lon: p.GetLon(), Lat: p.GetLat()}, nil
}

func lineString(l *qdrant.GeoLineString, path string) (strata.GeoLineString, error) {
	out := strata.GeoLineString{Points: make([]strata.GeoPoint, len(l.GetPoints()))}
	for i, p := range l.GetPoints() {
		var err error
		if out.Points[i], err = geoPoint(p, fmt.Sprintf("%s.points[%d]", path, i)); err != nil {
			return out, err
		}
	}
	return out, nil
}
