package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Path is a parsed payload key: dot-separated object keys, each optionally
// projecting over an array ("key[]").
type Path []PathStep

// PathStep is one key of a Path.
type PathStep struct {
	Key     string
	Flatten bool // "key[]": the value is an array; continue into each element
}

// ParsePath parses a payload key such as "a.b[].c".
func ParsePath(key string) (Path, error) {
	if key == "" {
		return nil, fmt.Errorf("empty key")
	}
	parts := strings.Split(key, ".")
	p := make(Path, len(parts))
	for i, s := range parts {
		if t, ok := strings.CutSuffix(s, "[]"); ok {
			p[i].Flatten = true
			s = t
		}
		if s == "" || strings.ContainsAny(s, "[]") {
			return nil, fmt.Errorf("bad segment %q in key %q", parts[i], key)
		}
		p[i].Key = s
	}
	return p, nil
}

// DecodePayload decodes a JSON payload with numbers as json.Number; an
// empty or undecodable payload yields nil (no fields).
func DecodePayload(b []byte) map[string]any {
	if len(b) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil
	}
	return doc
}

// Values calls fn with every value that p selects in doc, until fn returns
// false; it reports whether it ran to the end. A value that is an array at
// the end of the path yields its elements (Qdrant's rule: a condition on
// an array matches if an element matches), so fn never sees an array
// there. Missing keys yield nothing; a null yields nil.
func Values(doc any, p Path, fn func(v any) bool) bool {
	if len(p) == 0 {
		if arr, ok := doc.([]any); ok {
			for _, e := range arr {
				if !fn(e) {
					return false
				}
			}
			return true
		}
		return fn(doc)
	}
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
			if !Values(e, p[1:], fn) {
				return false
			}
		}
		return true
	}
	return Values(v, p[1:], fn)
}

// Number returns v as a float64 if it is a JSON number.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f, err == nil
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// Integer returns v as an int64 if it is a JSON number with an integral
// value in range.
func Integer(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, true
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
			return 0, false
		}
		return int64(f), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x != math.Trunc(x) || math.Abs(x) >= 1<<63 {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// datetimeLayouts are the forms a datetime payload value or range bound may
// take (Qdrant's): RFC 3339 with or without a zone (none means UTC), with a
// space instead of the T, and a bare date.
var datetimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseDatetime parses a datetime string in one of the accepted forms.
func ParseDatetime(s string) (time.Time, bool) {
	for _, l := range datetimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Datetime returns v as microseconds since the Unix epoch if it is a string
// in one of the accepted datetime forms.
func Datetime(v any) (int64, bool) {
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	t, ok := ParseDatetime(s)
	if !ok {
		return 0, false
	}
	return t.UnixMicro(), true
}

// Geo returns v as a location if it is an object {"lon": number, "lat":
// number} with lon in [-180, 180] and lat in [-90, 90].
func Geo(v any) (GeoPoint, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		return GeoPoint{}, false
	}
	lon, ok1 := Number(obj["lon"])
	lat, ok2 := Number(obj["lat"])
	if !ok1 || !ok2 || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return GeoPoint{}, false
	}
	return GeoPoint{Lon: lon, Lat: lat}, true
}

// earthRadius is the mean Earth radius in meters, for haversine distances.
const earthRadius = 6371008.8

// Distance returns the great-circle distance in meters between a and b.
func Distance(a, b GeoPoint) float64 {
	const rad = math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadius * math.Asin(math.Min(1, math.Sqrt(s)))
}

// Contains reports whether p lies in the box (edges included). A box whose
// left edge is east of its right edge crosses the antimeridian.
func (b *GeoBoundingBox) Contains(p GeoPoint) bool {
	if p.Lat > b.TopLeft.Lat || p.Lat < b.BottomRight.Lat {
		return false
	}
	if b.TopLeft.Lon <= b.BottomRight.Lon {
		return p.Lon >= b.TopLeft.Lon && p.Lon <= b.BottomRight.Lon
	}
	return p.Lon >= b.TopLeft.Lon || p.Lon <= b.BottomRight.Lon
}

// Contains reports whether p lies within the radius.
func (r *GeoRadius) Contains(p GeoPoint) bool { return Distance(r.Center, p) <= r.Radius }

// Contains reports whether p lies inside the exterior ring and outside
// every interior ring (points on a boundary count as inside the ring).
func (g *GeoPolygon) Contains(p GeoPoint) bool {
	if !g.Exterior.contains(p) {
		return false
	}
	for i := range g.Interiors {
		if g.Interiors[i].strictlyContains(p) {
			return false
		}
	}
	return true
}

// contains is the even-odd ray test in the lon/lat plane, with points on
// an edge counted as inside.
func (l *GeoLineString) contains(p GeoPoint) bool {
	return l.onEdge(p) || l.crossings(p)
}

func (l *GeoLineString) strictlyContains(p GeoPoint) bool {
	return !l.onEdge(p) && l.crossings(p)
}

func (l *GeoLineString) crossings(p GeoPoint) bool {
	in := false
	pts := l.Points
	for i, j := 0, len(pts)-1; i < len(pts); j, i = i, i+1 {
		a, b := pts[i], pts[j]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) {
			x := (b.Lon-a.Lon)*(p.Lat-a.Lat)/(b.Lat-a.Lat) + a.Lon
			if p.Lon < x {
				in = !in
			}
		}
	}
	return in
}

func (l *GeoLineString) onEdge(p GeoPoint) bool {
	pts := l.Points
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		cross := (b.Lon-a.Lon)*(p.Lat-a.Lat) - (b.Lat-a.Lat)*(p.Lon-a.Lon)
		if math.Abs(cross) > 1e-12 {
			continue
		}
		if p.Lon >= math.Min(a.Lon, b.Lon) && p.Lon <= math.Max(a.Lon, b.Lon) &&
			p.Lat >= math.Min(a.Lat, b.Lat) && p.Lat <= math.Max(a.Lat, b.Lat) {
			return true
		}
	}
	return false
}

// Bounds returns the bounding box of the polygon's exterior ring.
func (g *GeoPolygon) Bounds() GeoBoundingBox {
	b := GeoBoundingBox{TopLeft: GeoPoint{Lon: 180, Lat: -90}, BottomRight: GeoPoint{Lon: -180, Lat: 90}}
	for _, p := range g.Exterior.Points {
		b.TopLeft.Lon = math.Min(b.TopLeft.Lon, p.Lon)
		b.TopLeft.Lat = math.Max(b.TopLeft.Lat, p.Lat)
		b.BottomRight.Lon = math.Max(b.BottomRight.Lon, p.Lon)
		b.BottomRight.Lat = math.Min(b.BottomRight.Lat, p.Lat)
	}
	return b
}
