package fieldindex

import (
	"math"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/filter"
)

// The geo index keeps its points sorted by latitude (a sortedCol whose key
// is the latitude and whose ext is the longitude) rather than in a geohash
// grid:
//
//   - every shape reduces to a latitude band (a box's own, a circle's
//     center latitude plus or minus its angular radius, a polygon's
//     bounds), found by two binary searches; the band's size is the
//     estimate's upper bound at O(log n) cost, with no cell arithmetic;
//   - the points are the payload's own float64 values, so the exact test is
//     the scan's Contains on identical numbers, and the prefilter (band,
//     then a conservative longitude range) only needs to never exclude a
//     match, which a small margin guarantees; a grid would need the same
//     exact test plus cell covering logic at the poles and the
//     antimeridian;
//   - the columns are flat (8 + 8 + 4 bytes a point, plus the forward
//     column), shared with the numeric indexes, sorted by the same radix
//     sort.
//
// The price is that a band spanning all longitudes scans points outside
// the shape's longitudes; the scan is sequential and the longitude test is
// a comparison, so a band costs about a nanosecond per point in it.

// earthRadius is filter.Distance's Earth radius in meters; the geo test
// checks they agree.
const earthRadius = 6371008.8

// geoMargin widens prefilter bounds (degrees, relative and absolute) so
// that rounding never excludes a point the exact test accepts.
const geoMargin = 1e-9

// geoQuery is a geo condition: points in the latitude band [klo, khi]
// (keys) and the longitude range, then the exact test.
type geoQuery struct {
	x        *Index
	klo, khi uint64
	lonAll   bool
	lonLo    float64 // inclusive; lonLo > lonHi: the range wraps the antimeridian
	lonHi    float64
	contains func(p filter.GeoPoint) bool
}

// compileGeo compiles c for a geo index.
func (x *Index) compileGeo(c *filter.Condition, f form) (query, bool) {
	q := &geoQuery{x: x}
	switch f {
	case fBox:
		b := *c.GeoBoundingBox
		if hasNaN(b.TopLeft.Lat, b.TopLeft.Lon, b.BottomRight.Lat, b.BottomRight.Lon) {
			return nil, false
		}
		if b.BottomRight.Lat > b.TopLeft.Lat {
			return emptyQuery{}, true
		}
		q.klo, q.khi = floatKey(b.BottomRight.Lat), floatKey(b.TopLeft.Lat)
		q.lonLo, q.lonHi = b.TopLeft.Lon, b.BottomRight.Lon // Contains's wrap rule
		q.contains = b.Contains
	case fRadius:
		r := *c.GeoRadius
		if hasNaN(r.Center.Lat, r.Center.Lon, r.Radius) {
			return nil, false
		}
		if r.Radius < 0 {
			return emptyQuery{}, true
		}
		q.radiusBand(r)
		q.contains = r.Contains
	case fPolygon:
		g := c.GeoPolygon
		if len(g.Exterior.Points) == 0 {
			return emptyQuery{}, true
		}
		for _, ring := range append([]filter.GeoLineString{g.Exterior}, g.Interiors...) {
			for _, p := range ring.Points {
				if hasNaN(p.Lat, p.Lon) {
					return nil, false
				}
			}
		}
		// Contains is false outside the exterior ring, so outside its
		// bounds (up to rounding in the ray test: hence the margin).
		bd := g.Bounds()
		q.klo = floatKey(widen(bd.BottomRight.Lat, -1))
		q.khi = floatKey(widen(bd.TopLeft.Lat, 1))
		q.lonLo, q.lonHi = widen(bd.TopLeft.Lon, -1), widen(bd.BottomRight.Lon, 1)
		q.contains = g.Contains
	default:
		return nil, false
	}
	return q, true
}

func hasNaN(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) {
			return true
		}
	}
	return false
}

// widen moves v by the margin in direction dir.
func widen(v float64, dir float64) float64 {
	return v + dir*(math.Abs(v)*geoMargin+geoMargin)
}

// radiusBand sets the prefilter of a circle: the latitudes within its
// angular radius d of the center, and the longitudes within asin(sin d /
// cos lat) of it unless the band reaches a pole (then all longitudes).
func (q *geoQuery) radiusBand(r filter.GeoRadius) {
	const deg = 180 / math.Pi
	d := r.Radius / earthRadius
	dLat := widen(d*deg, 1)
	lo, hi := r.Center.Lat-dLat, r.Center.Lat+dLat
	q.klo, q.khi = floatKey(lo), floatKey(hi)
	q.lonAll = true
	if lo <= -90 || hi >= 90 || d >= math.Pi/2 {
		return
	}
	s := math.Sin(d) / math.Cos(r.Center.Lat/deg)
	if s >= 1 {
		return
	}
	dLon := widen(math.Asin(s)*deg, 1)
	if dLon >= 180 {
		return
	}
	q.lonAll = false
	q.lonLo, q.lonHi = r.Center.Lon-dLon, r.Center.Lon+dLon
	if q.lonLo < -180 {
		q.lonLo += 360
	}
	if q.lonHi > 180 {
		q.lonHi -= 360
	}
}

// lonOK is the longitude prefilter.
func (q *geoQuery) lonOK(lon float64) bool {
	switch {
	case q.lonAll:
		return true
	case q.lonLo <= q.lonHi:
		return lon >= q.lonLo && lon <= q.lonHi
	}
	return lon >= q.lonLo || lon <= q.lonHi
}

// match tests one point (key k, longitude lon).
func (q *geoQuery) match(k uint64, lon float64) bool {
	return k >= q.klo && k <= q.khi && q.lonOK(lon) &&
		q.contains(filter.GeoPoint{Lon: lon, Lat: keyFloat(k)})
}

func (q *geoQuery) estimate() filter.Cardinality {
	s := q.x.geo
	i, j := s.span(q.klo, q.khi)
	c := j - i
	for _, k := range s.tkeys {
		if k >= q.klo && k <= q.khi {
			c++
		}
	}
	frac := 1.0
	if !q.lonAll {
		w := q.lonHi - q.lonLo
		if w < 0 {
			w += 360
		}
		frac = min(1, w/360)
	}
	c = min(c, q.x.nIndexed)
	return filter.Cardinality{Min: 0, Exp: int(float64(c) * frac), Max: c}
}

func (q *geoQuery) bitmap() *roaring.Bitmap {
	s := q.x.geo
	var hits []uint32
	i, j := s.span(q.klo, q.khi)
	for p := i; p < j; p++ {
		if q.match(s.keys[p], s.ext[p]) {
			hits = append(hits, s.offs[p])
		}
	}
	for t, k := range s.tkeys {
		if q.match(k, s.text[t]) {
			hits = append(hits, s.toffs[t])
		}
	}
	bm := roaring.New()
	bm.AddMany(hits)
	return bm
}

func (q *geoQuery) checker() func(off uint32) bool {
	s := q.x.geo
	return func(off uint32) bool {
		for _, p := range s.fwdOf(off) {
			if q.match(s.keys[p], s.ext[p]) {
				return true
			}
		}
		return false
	}
}
