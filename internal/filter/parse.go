package filter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/strata-db/strata/internal/base"
)

// ParseJSON decodes a filter in Qdrant's REST JSON form and validates it
// (everything Compile checks except what needs a Context: vector names).
// "null" yields a nil filter. Unknown keys are errors; must, should and
// must_not take one condition or an array of them; null stands for an
// absent optional field. Errors match base.ErrInvalidArgument and name the
// path of the bad part: "filter.should[0].match: unknown field \"valeu\"".
func ParseJSON(data []byte) (*Filter, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, base.InvalidArgumentf("filter: invalid JSON: %v", err)
	}
	if v == nil {
		return nil, nil
	}
	f := new(Filter)
	if err := parseFilter(v, "filter", f, 0); err != nil {
		return nil, err
	}
	if _, err := Compile(f, nil); err != nil {
		return nil, err
	}
	return f, nil
}

// UnmarshalJSON decodes f from Qdrant's JSON form (see ParseJSON); null
// leaves f unchanged.
func (f *Filter) UnmarshalJSON(data []byte) error {
	g, err := ParseJSON(data)
	if err != nil || g == nil {
		return err
	}
	*f = *g
	return nil
}

// UnmarshalJSON decodes one condition from Qdrant's JSON form and
// validates it; error paths are rooted at "condition". null leaves c
// unchanged.
func (c *Condition) UnmarshalJSON(data []byte) error {
	v, err := decodeJSON(data)
	if err != nil {
		return base.InvalidArgumentf("condition: invalid JSON: %v", err)
	}
	if v == nil {
		return nil
	}
	var d Condition
	if err := parseCondition(v, "condition", &d, 0); err != nil {
		return err
	}
	cc := compiler{}
	if _, err := cc.condition(&d, "condition", 0, scope{}); err != nil {
		return err
	}
	*c = d
	return nil
}

// decodeJSON decodes one JSON value with numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the value")
	}
	return v, nil
}

// jsonType names the JSON type of a decoded value for error messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeErr(path, want string, got any) error {
	return errAt(path, "expected %s, got %s", want, jsonType(got))
}

// object returns v as an object whose keys are all in allowed.
func object(v any, path string, allowed ...string) (map[string]any, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, typeErr(path, "object", v)
	}
	if err := onlyKeys(obj, path, allowed...); err != nil {
		return nil, err
	}
	return obj, nil
}

func onlyKeys(obj map[string]any, path string, allowed ...string) error {
	var bad []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return errAt(path, "unknown field %q", bad[0])
	}
	return nil
}

// required returns obj[key], failing when it is missing or null.
func required(obj map[string]any, key, path string) (any, error) {
	v, ok := obj[key]
	if !ok || v == nil {
		return nil, errAt(path, "missing field %q", key)
	}
	return v, nil
}

func parseString(v any, path string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", typeErr(path, "string", v)
	}
	return s, nil
}

func parseFloat(v any, path string) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, typeErr(path, "number", v)
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errAt(path, "%s out of range", n)
	}
	return f, nil
}

func parseInt(v any, path string) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, typeErr(path, "integer", v)
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i > math.MaxInt || i < math.MinInt {
		return 0, errAt(path, "expected integer, got %s", n)
	}
	return int(i), nil
}

var filterKeys = []string{"must", "should", "must_not", "min_should"}

func parseFilter(v any, path string, f *Filter, depth int) error {
	if depth >= MaxDepth {
		return errAt(path, "filters nested deeper than %d levels", MaxDepth)
	}
	obj, err := object(v, path, filterKeys...)
	if err != nil {
		return err
	}
	if f.Must, err = parseConditions(obj["must"], path+".must", depth); err != nil {
		return err
	}
	if f.Should, err = parseConditions(obj["should"], path+".should", depth); err != nil {
		return err
	}
	if f.MustNot, err = parseConditions(obj["must_not"], path+".must_not", depth); err != nil {
		return err
	}
	if ms := obj["min_should"]; ms != nil {
		mpath := path + ".min_should"
		mobj, err := object(ms, mpath, "conditions", "min_count")
		if err != nil {
			return err
		}
		cv, err := required(mobj, "conditions", mpath)
		if err != nil {
			return err
		}
		arr, ok := cv.([]any)
		if !ok {
			return typeErr(mpath+".conditions", "array of conditions", cv)
		}
		f.MinShould = &MinShould{Conditions: make([]Condition, len(arr))}
		for i, e := range arr {
			if err := parseCondition(e, fmt.Sprintf("%s.conditions[%d]", mpath, i), &f.MinShould.Conditions[i], depth); err != nil {
				return err
			}
		}
		mc, err := required(mobj, "min_count", mpath)
		if err != nil {
			return err
		}
		if f.MinShould.MinCount, err = parseInt(mc, mpath+".min_count"); err != nil {
			return err
		}
	}
	return nil
}

// parseConditions decodes must, should or must_not: absent or null, one
// condition, or an array of them.
func parseConditions(v any, path string, depth int) ([]Condition, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		cs := make([]Condition, 1)
		return cs, parseCondition(x, path+"[0]", &cs[0], depth)
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		cs := make([]Condition, len(x))
		for i, e := range x {
			if err := parseCondition(e, fmt.Sprintf("%s[%d]", path, i), &cs[i], depth); err != nil {
				return nil, err
			}
		}
		return cs, nil
	}
	return nil, typeErr(path, "a condition or an array of conditions", v)
}

var fieldKeys = []string{"key", "match", "range", "geo_bounding_box", "geo_radius", "geo_polygon", "values_count", "is_empty", "is_null"}

func parseCondition(v any, path string, c *Condition, depth int) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return typeErr(path, "object", v)
	}
	has := func(k string) bool { _, ok := obj[k]; return ok }
	switch {
	case has("key"):
		return parseFieldCondition(obj, path, c)
	case has("has_id"):
		if err := onlyKeys(obj, path, "has_id"); err != nil {
			return err
		}
		return parseHasID(obj["has_id"], path+".has_id", c)
	case has("has_vector"):
		if err := onlyKeys(obj, path, "has_vector"); err != nil {
			return err
		}
		name, err := parseString(obj["has_vector"], path+".has_vector")
		c.HasVector = &name
		return err
	case has("nested"):
		if err := onlyKeys(obj, path, "nested"); err != nil {
			return err
		}
		npath := path + ".nested"
		nobj, err := object(obj["nested"], npath, "key", "filter")
		if err != nil {
			return err
		}
		c.Nested = new(Nested)
		kv, err := required(nobj, "key", npath)
		if err != nil {
			return err
		}
		if c.Nested.Key, err = parseString(kv, npath+".key"); err != nil {
			return err
		}
		fv, err := required(nobj, "filter", npath)
		if err != nil {
			return err
		}
		return parseFilter(fv, npath+".filter", &c.Nested.Filter, depth+1)
	case has("is_empty"), has("is_null"):
		name := "is_empty"
		if !has("is_empty") {
			name = "is_null"
		}
		if err := onlyKeys(obj, path, name); err != nil {
			return err
		}
		fpath := path + "." + name
		fobj, err := object(obj[name], fpath, "key")
		if err != nil {
			return err
		}
		kv, err := required(fobj, "key", fpath)
		if err != nil {
			return err
		}
		if c.Key, err = parseString(kv, fpath+".key"); err != nil {
			return err
		}
		c.IsEmpty, c.IsNull = name == "is_empty", name == "is_null"
		return nil
	}
	for _, k := range filterKeys {
		if has(k) {
			c.Filter = new(Filter)
			return parseFilter(obj, path, c.Filter, depth+1)
		}
	}
	if len(obj) == 0 {
		c.Filter = new(Filter)
		return nil
	}
	for _, k := range fieldKeys {
		if has(k) {
			return errAt(path, "missing field \"key\" of a field condition")
		}
	}
	return onlyKeys(obj, path)
}

func parseHasID(v any, path string, c *Condition) error {
	arr, ok := v.([]any)
	if !ok {
		return typeErr(path, "array of point ids", v)
	}
	c.HasID = make([]base.PointID, len(arr))
	for i, e := range arr {
		epath := fmt.Sprintf("%s[%d]", path, i)
		switch x := e.(type) {
		case json.Number:
			n, err := strconv.ParseUint(string(x), 10, 64)
			if err != nil {
				return errAt(epath, "expected an unsigned integer or a UUID, got %s", x)
			}
			c.HasID[i] = base.NumID(n)
		case string:
			id, err := base.ParseUUID(x)
			if err != nil {
				return errAt(epath, "invalid UUID %q", x)
			}
			c.HasID[i] = id
		default:
			return typeErr(epath, "an unsigned integer or a UUID", e)
		}
	}
	return nil
}

func parseFieldCondition(obj map[string]any, path string, c *Condition) error {
	if err := onlyKeys(obj, path, fieldKeys...); err != nil {
		return err
	}
	var err error
	if c.Key, err = parseString(obj["key"], path+".key"); err != nil {
		return err
	}
	if v := obj["match"]; v != nil {
		if c.Match, err = parseMatch(v, path+".match"); err != nil {
			return err
		}
	}
	if v := obj["range"]; v != nil {
		if err := parseRange(v, path+".range", c); err != nil {
			return err
		}
	}
	if v := obj["geo_bounding_box"]; v != nil {
		gpath := path + ".geo_bounding_box"
		o, err := object(v, gpath, "top_left", "bottom_right")
		if err != nil {
			return err
		}
		c.GeoBoundingBox = new(GeoBoundingBox)
		if err := requiredGeoPoint(o, "top_left", gpath, &c.GeoBoundingBox.TopLeft); err != nil {
			return err
		}
		if err := requiredGeoPoint(o, "bottom_right", gpath, &c.GeoBoundingBox.BottomRight); err != nil {
			return err
		}
	}
	if v := obj["geo_radius"]; v != nil {
		gpath := path + ".geo_radius"
		o, err := object(v, gpath, "center", "radius")
		if err != nil {
			return err
		}
		c.GeoRadius = new(GeoRadius)
		if err := requiredGeoPoint(o, "center", gpath, &c.GeoRadius.Center); err != nil {
			return err
		}
		rv, err := required(o, "radius", gpath)
		if err != nil {
			return err
		}
		if c.GeoRadius.Radius, err = parseFloat(rv, gpath+".radius"); err != nil {
			return err
		}
	}
	if v := obj["geo_polygon"]; v != nil {
		gpath := path + ".geo_polygon"
		o, err := object(v, gpath, "exterior", "interiors")
		if err != nil {
			return err
		}
		c.GeoPolygon = new(GeoPolygon)
		ev, err := required(o, "exterior", gpath)
		if err != nil {
			return err
		}
		if err := parseRing(ev, gpath+".exterior", &c.GeoPolygon.Exterior); err != nil {
			return err
		}
		if iv := o["interiors"]; iv != nil {
			arr, ok := iv.([]any)
			if !ok {
				return typeErr(gpath+".interiors", "array", iv)
			}
			if len(arr) > 0 {
				c.GeoPolygon.Interiors = make([]GeoLineString, len(arr))
			}
			for i, e := range arr {
				if err := parseRing(e, fmt.Sprintf("%s.interiors[%d]", gpath, i), &c.GeoPolygon.Interiors[i]); err != nil {
					return err
				}
			}
		}
	}
	if v := obj["values_count"]; v != nil {
		vpath := path + ".values_count"
		o, err := object(v, vpath, "gt", "gte", "lt", "lte")
		if err != nil {
			return err
		}
		c.ValuesCount = new(ValuesCount)
		for _, b := range []struct {
			name string
			dst  **int
		}{{"gt", &c.ValuesCount.GT}, {"gte", &c.ValuesCount.GTE}, {"lt", &c.ValuesCount.LT}, {"lte", &c.ValuesCount.LTE}} {
			if bv := o[b.name]; bv != nil {
				n, err := parseInt(bv, vpath+"."+b.name)
				if err != nil {
					return err
				}
				*b.dst = &n
			}
		}
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"is_empty", &c.IsEmpty}, {"is_null", &c.IsNull}} {
		bv := obj[b.name]
		if bv == nil {
			continue
		}
		t, ok := bv.(bool)
		if !ok {
			return typeErr(path+"."+b.name, "bool", bv)
		}
		if !t {
			return errAt(path+"."+b.name, "false is not supported: put the condition with true in must_not")
		}
		*b.dst = true
	}
	return nil
}

func parseMatch(v any, path string) (*Match, error) {
	obj, err := object(v, path, "value", "any", "except", "text", "text_any", "phrase", "prefix")
	if err != nil {
		return nil, err
	}
	m := new(Match)
	for _, k := range []string{"value", "any", "except", "text", "text_any", "phrase", "prefix"} {
		x, ok := obj[k]
		if !ok {
			continue
		}
		kpath := path + "." + k
		switch k {
		case "value":
			switch y := x.(type) {
			case string, bool:
				m.Value = y
			case json.Number:
				i, err := strconv.ParseInt(string(y), 10, 64)
				if err != nil {
					return nil, errAt(kpath, "expected string, integer or bool, got number %s", y)
				}
				m.Value = i
			default:
				return nil, typeErr(kpath, "string, integer or bool", x)
			}
		case "any", "except":
			arr, ok := x.([]any)
			if !ok {
				return nil, typeErr(kpath, "array of strings or integers", x)
			}
			list := make([]any, len(arr))
			for i, e := range arr {
				epath := fmt.Sprintf("%s[%d]", kpath, i)
				switch y := e.(type) {
				case string:
					list[i] = y
				case json.Number:
					n, err := strconv.ParseInt(string(y), 10, 64)
					if err != nil {
						return nil, errAt(epath, "expected string or integer, got number %s", y)
					}
					list[i] = n
				default:
					return nil, typeErr(epath, "string or integer", e)
				}
			}
			if k == "any" {
				m.Any = list
			} else {
				m.Except = list
			}
		default: // text, text_any, phrase, prefix
			s, err := parseString(x, kpath)
			if err != nil {
				return nil, err
			}
			if s == "" {
				return nil, errAt(kpath, "must not be empty")
			}
			switch k {
			case "text":
				m.Text = s
			case "text_any":
				m.TextAny = s
			case "phrase":
				m.Phrase = s
			default:
				m.Prefix = s
			}
		}
	}
	return m, nil
}

// parseRange decodes a range: numbers make a Range, datetime strings a
// DatetimeRange. When any bound is a number, every bound must be one.
func parseRange(v any, path string, c *Condition) error {
	obj, err := object(v, path, "gt", "gte", "lt", "lte")
	if err != nil {
		return err
	}
	names := []string{"gt", "gte", "lt", "lte"}
	numeric := len(obj) == 0
	for _, n := range names {
		if _, ok := obj[n].(json.Number); ok {
			numeric = true
		}
	}
	if numeric {
		r := new(Range)
		dst := []**float64{&r.GT, &r.GTE, &r.LT, &r.LTE}
		for i, n := range names {
			if bv := obj[n]; bv != nil {
				f, err := parseFloat(bv, path+"."+n)
				if err != nil {
					return err
				}
				*dst[i] = &f
			}
		}
		c.Range = r
		return nil
	}
	r := new(DatetimeRange)
	dst := []**time.Time{&r.GT, &r.GTE, &r.LT, &r.LTE}
	bounded := false
	for i, n := range names {
		bv := obj[n]
		if bv == nil {
			continue
		}
		s, ok := bv.(string)
		if !ok {
			return typeErr(path+"."+n, "number or datetime string", bv)
		}
		t, ok := ParseDatetime(s)
		if !ok {
			return errAt(path+"."+n, "invalid datetime %q", s)
		}
		*dst[i] = &t
		bounded = true
	}
	if !bounded { // every bound null: an unbounded numeric range
		c.Range = new(Range)
		return nil
	}
	c.DatetimeRange = r
	return nil
}

func requiredGeoPoint(obj map[string]any, key, path string, p *GeoPoint) error {
	v, err := required(obj, key, path)
	if err != nil {
		return err
	}
	return parseGeoPoint(v, path+"."+key, p)
}

func parseGeoPoint(v any, path string, p *GeoPoint) error {
	obj, err := object(v, path, "lon", "lat")
	if err != nil {
		return err
	}
	lon, err := required(obj, "lon", path)
	if err != nil {
		return err
	}
	if p.Lon, err = parseFloat(lon, path+".lon"); err != nil {
		return err
	}
	lat, err := required(obj, "lat", path)
	if err != nil {
		return err
	}
	p.Lat, err = parseFloat(lat, path+".lat")
	return err
}

func parseRing(v any, path string, l *GeoLineString) error {
	obj, err := object(v, path, "points")
	if err != nil {
		return err
	}
	pv, err := required(obj, "points", path)
	if err != nil {
		return err
	}
	arr, ok := pv.([]any)
	if !ok {
		return typeErr(path+".points", "array of points", pv)
	}
	l.Points = make([]GeoPoint, len(arr))
	for i, e := range arr {
		if err := parseGeoPoint(e, fmt.Sprintf("%s.points[%d]", path, i), &l.Points[i]); err != nil {
			return err
		}
	}
	return nil
}
