package strata

import (
	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
)

// PointID identifies a point: an unsigned integer or a UUID. Numeric ids
// order before UUIDs (scroll order).
type PointID = base.PointID

// NumID returns the numeric point id n.
func NumID(n uint64) PointID { return base.NumID(n) }

// ParseUUID parses a UUID point id ("550e8400-e29b-41d4-a716-446655440000").
// A malformed UUID is an ErrInvalidArgument.
func ParseUUID(s string) (PointID, error) { return base.ParseUUID(s) }

// ParsePointID parses a decimal integer or a UUID.
func ParsePointID(s string) (PointID, error) { return base.ParsePointID(s) }

// Distance is the similarity function of a dense vector.
type Distance = base.Distance

// The distances, named as in Qdrant. Search scores are the cosine
// similarity, the dot product, the Euclidean distance or the Manhattan
// distance: higher is better for the first two, lower for the last two.
const (
	Cosine    = base.Cosine
	Dot       = base.Dot
	Euclid    = base.Euclid
	Manhattan = base.Manhattan
)

// Payload is a point's JSON object payload. Values are what encoding/json
// produces and accepts; numbers read back are json.Number.
type Payload = map[string]any

// SparseVector is a sparse vector: parallel, equally long index and value
// lists; indices must be unique.
type SparseVector struct {
	Indices []uint32
	Values  []float32
}

// Point is a point to write. For a collection with one unnamed vector set
// Vector; for named vectors set Vectors (any subset of the configured
// names). Sparse vectors go in Sparse by name.
type Point struct {
	ID      PointID
	Vector  []float32
	Vectors map[string][]float32
	Sparse  map[string]SparseVector
	Payload Payload
}

// Record is a stored point as returned by reads. Only what the request's
// selectors asked for is filled in.
type Record struct {
	ID PointID
	// Version is the write-ahead log sequence number of the write that last
	// changed the point.
	Version uint64
	Payload Payload
	// Vector is the unnamed vector; Vectors holds named ones.
	Vector  []float32
	Vectors map[string][]float32
	Sparse  map[string]SparseVector
}

// ScoredPoint is a search hit.
type ScoredPoint struct {
	Record
	// Score is the similarity (Cosine, Dot) or the distance (Euclid,
	// Manhattan) between the query and the point.
	Score float32
}

// PayloadSelector chooses which payload keys reads return. The zero value
// returns no payload. Keys may be dotted paths into nested objects.
type PayloadSelector struct {
	All     bool
	Include []string
	Exclude []string
}

// AllPayload selects the whole payload.
var AllPayload = PayloadSelector{All: true}

// PayloadKeys selects only the given keys.
func PayloadKeys(keys ...string) PayloadSelector { return PayloadSelector{Include: keys} }

// VectorSelector chooses which vectors reads return. The zero value returns
// none; Names lists named (dense or sparse) vectors, "" being the unnamed one.
type VectorSelector struct {
	All   bool
	Names []string
}

// AllVectors selects every vector.
var AllVectors = VectorSelector{All: true}

// Filter selects points by id and payload with Qdrant's semantics: all
// Must conditions hold, at least one Should condition holds (if any are
// given), at least MinShould.MinCount of MinShould.Conditions hold (if
// set), and no MustNot condition holds. See filter.Condition for the
// conditions.
type Filter = filter.Filter

// Condition is one filter condition (see the field documentation): a field
// condition on a payload key, has_id, has_vector, nested or a nested
// Filter.
type Condition = filter.Condition

// The parts of conditions.
type (
	Match          = filter.Match
	MinShould      = filter.MinShould
	Range          = filter.Range
	DatetimeRange  = filter.DatetimeRange
	ValuesCount    = filter.ValuesCount
	GeoPoint       = filter.GeoPoint
	GeoBoundingBox = filter.GeoBoundingBox
	GeoRadius      = filter.GeoRadius
	GeoPolygon     = filter.GeoPolygon
	GeoLineString  = filter.GeoLineString
	Nested         = filter.Nested
)

// FieldSchema describes a payload field index (Qdrant's payload schema
// params): its Type and the options of that type.
type FieldSchema = filter.FieldSchema

// FieldType is a payload index type.
type FieldType = filter.FieldType

// Stopwords configure a text index's ignored tokens.
type Stopwords = filter.Stopwords

// Payload index types.
const (
	FieldKeyword  = filter.TypeKeyword
	FieldInteger  = filter.TypeInteger
	FieldFloat    = filter.TypeFloat
	FieldBool     = filter.TypeBool
	FieldGeo      = filter.TypeGeo
	FieldDatetime = filter.TypeDatetime
	FieldUUID     = filter.TypeUUID
	FieldText     = filter.TypeText
)

// PayloadIndexInfo describes one payload index in CollectionInfo.
type PayloadIndexInfo struct {
	Schema FieldSchema
	// Points counts the live points with at least one indexed value.
	Points int
}

// MatchValue returns the condition "the payload field key equals value".
func MatchValue(key string, value any) Condition {
	return Condition{Key: key, Match: &Match{Value: value}}
}

// HasID returns the condition "the point id is one of ids".
func HasID(ids ...PointID) Condition { return Condition{HasID: ids} }

// Selector selects points by ids or by filter (exactly one of them).
type Selector struct {
	IDs    []PointID
	Filter *Filter
}

// IDs selects the given points.
func IDs(ids ...PointID) Selector { return Selector{IDs: ids} }

// Where selects the points matching f.
func Where(f *Filter) Selector { return Selector{Filter: f} }
