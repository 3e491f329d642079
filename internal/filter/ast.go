package filter

import (
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
)

// Filter is a boolean combination of conditions, with Qdrant's semantics:
// every Must condition holds, at least one Should condition holds (when
// there are any), at least MinShould.MinCount of MinShould.Conditions hold
// (when set), and no MustNot condition holds. The empty filter matches every
// point.
type Filter struct {
	Must      []Condition
	Should    []Condition
	MustNot   []Condition
	MinShould *MinShould
}

// MinShould requires at least MinCount (>= 1) of Conditions to hold.
type MinShould struct {
	Conditions []Condition
	MinCount   int
}

// Condition is one test. It is one of:
//
//   - a field condition: Key plus one or more of Match, Range,
//     DatetimeRange, GeoBoundingBox, GeoRadius, GeoPolygon, ValuesCount,
//     IsEmpty, IsNull (all that are set must hold);
//   - HasID: the point's id is in the list;
//   - HasVector: the point has the named vector ("" is the unnamed one);
//   - Nested: Filter holds for at least one element of the array of objects
//     at Key (every condition of the nested filter on the same element);
//   - Filter: a nested boolean clause.
//
// Keys are payload paths: dot-separated object keys, where "key[]" projects
// over the elements of an array. A condition on a field holding an array
// matches if any element matches; a missing field matches no condition
// except IsEmpty (and ValuesCount bounds that admit zero values).
type Condition struct {
	Key string

	Match          *Match
	Range          *Range
	DatetimeRange  *DatetimeRange
	GeoBoundingBox *GeoBoundingBox
	GeoRadius      *GeoRadius
	GeoPolygon     *GeoPolygon
	ValuesCount    *ValuesCount
	// IsEmpty matches points where Key is missing, null or an empty array.
	IsEmpty bool
	// IsNull matches points where Key holds null.
	IsNull bool

	HasID     []base.PointID
	HasVector *string
	Nested    *Nested
	Filter    *Filter
}

// Match tests the values at a key. Exactly one form is set:
//
//   - Value: equality with a keyword (string), integer or bool;
//   - Any: equality with any of a list of keywords or of integers
//     (non-nil; an empty list matches nothing);
//   - Except: the field has a value that is none of the list (non-nil; a
//     missing field does not match);
//   - Text: every token of Text occurs in the field (with a text index, as
//     its tokenizer splits both; without one, every whitespace-separated
//     term is a substring of the value);
//   - TextAny: at least one token of TextAny occurs;
//   - Phrase: the tokens of Phrase occur consecutively, in order;
//   - Prefix: a keyword value starts with Prefix.
type Match struct {
	Value   any
	Any     []any
	Except  []any
	Text    string
	TextAny string
	Phrase  string
	Prefix  string
}

// Range bounds a numeric field; nil bounds are open.
type Range struct {
	GT, GTE, LT, LTE *float64
}

// DatetimeRange bounds a datetime field (RFC 3339 strings in payloads);
// nil bounds are open.
type DatetimeRange struct {
	GT, GTE, LT, LTE *time.Time
}

// ValuesCount bounds the number of values at a key (an array's length; a
// single value counts one; a missing field zero).
type ValuesCount struct {
	GT, GTE, LT, LTE *int
}

// GeoPoint is a location in degrees.
type GeoPoint struct {
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
}

// GeoBoundingBox matches locations inside the rectangle.
type GeoBoundingBox struct {
	TopLeft     GeoPoint
	BottomRight GeoPoint
}

// GeoRadius matches locations within Radius meters of Center.
type GeoRadius struct {
	Center GeoPoint
	Radius float64
}

// GeoLineString is a closed ring: at least 4 points, first == last.
type GeoLineString struct {
	Points []GeoPoint
}

// GeoPolygon matches locations inside Exterior and outside every Interior.
type GeoPolygon struct {
	Exterior  GeoLineString
	Interiors []GeoLineString
}

// Nested is a filter over the elements of an array of objects.
type Nested struct {
	Key    string
	Filter Filter
}

// Cardinality estimates how many offsets of a segment a filter matches.
type Cardinality struct {
	Min, Exp, Max int
}

// Source is one segment as the planner and the checker see it: offsets
// [0, Len()), their ids, payloads and vectors, and the payload field
// indexes the segment has. Deleted offsets are the caller's concern.
type Source interface {
	Len() int
	ID(off uint32) base.PointID
	Payload(off uint32) []byte
	// HasVector reports whether off has the named vector; known is false if
	// the collection has no vector of that name.
	HasVector(name string, off uint32) (has, known bool)
	// FieldIndex returns the index of the payload field key, or nil.
	FieldIndex(key string) FieldIndex
}

// FieldIndex answers field conditions on one key of one segment from a
// payload index. c is a field condition on the index's key with exactly
// one predicate set. An index answers only what it can answer exactly
// (ok false otherwise: the planner falls back to reading the payload).
type FieldIndex interface {
	// Estimate returns the number of offsets matching c, cheaply (without
	// materialising them).
	Estimate(c *Condition) (card Cardinality, ok bool)
	// Bitmap returns the offsets matching c.
	Bitmap(c *Condition) (bm *roaring.Bitmap, ok bool)
	// Checker returns a per-offset test for c, much cheaper than decoding
	// the payload.
	Checker(c *Condition) (check func(off uint32) bool, ok bool)
}
