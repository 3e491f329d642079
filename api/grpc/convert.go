package grpcapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/qdrant/go-client/qdrant"

	"github.com/strata-db/strata"
)

// --- point ids ---

// pointID converts a PointId: a number or a UUID string.
func pointID(id *qdrant.PointId, path string) (strata.PointID, error) {
	switch v := id.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return strata.NumID(v.Num), nil
	case *qdrant.PointId_Uuid:
		p, err := strata.ParseUUID(v.Uuid)
		if err != nil {
			return strata.PointID{}, formatErr("%s: %q is not a valid point id: expected an unsigned integer or a UUID", path, v.Uuid)
		}
		return p, nil
	}
	return strata.PointID{}, formatErr("%s: missing point id", path)
}

func pointIDs(ids []*qdrant.PointId, path string) ([]strata.PointID, error) {
	out := make([]strata.PointID, len(ids))
	for i, id := range ids {
		var err error
		if out[i], err = pointID(id, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// toPointID converts a PointID to Qdrant's message.
func toPointID(id strata.PointID) *qdrant.PointId {
	if id.IsUUID() {
		return &qdrant.PointId{PointIdOptions: &qdrant.PointId_Uuid{Uuid: id.String()}}
	}
	return &qdrant.PointId{PointIdOptions: &qdrant.PointId_Num{Num: id.Num()}}
}

// --- payloads ---

// payload converts a payload map. Doubles become json.Number values that
// keep a decimal point (1.0 stays a float, as in Qdrant, instead of
// reading back as the integer 1); integers stay integers.
func payload(m map[string]*qdrant.Value, path string) (strata.Payload, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(strata.Payload, len(m))
	for k, v := range m {
		x, err := value(v, path+"."+k, 0)
		if err != nil {
			return nil, err
		}
		out[k] = x
	}
	return out, nil
}

// maxValueDepth bounds the nesting of payload values, as REST bounds the
// nesting of its JSON bodies.
const maxValueDepth = 64

func value(v *qdrant.Value, path string, depth int) (any, error) {
	if depth > maxValueDepth {
		return nil, formatErr("%s: payload values nest deeper than %d levels", path, maxValueDepth)
	}
	switch k := v.GetKind().(type) {
	case nil, *qdrant.Value_NullValue:
		return nil, nil
	case *qdrant.Value_BoolValue:
		return k.BoolValue, nil
	case *qdrant.Value_IntegerValue:
		return k.IntegerValue, nil
	case *qdrant.Value_StringValue:
		return k.StringValue, nil
	case *qdrant.Value_DoubleValue:
		f := k.DoubleValue
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, formatErr("%s: %v is not a valid JSON number", path, f)
		}
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") { // "n": NaN/Inf were refused above
			s += ".0"
		}
		return json.Number(s), nil
	case *qdrant.Value_ListValue:
		vals := k.ListValue.GetValues()
		out := make([]any, len(vals))
		for i, e := range vals {
			x, err := value(e, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case *qdrant.Value_StructValue:
		fields := k.StructValue.GetFields()
		out := make(map[string]any, len(fields))
		for name, e := range fields {
			x, err := value(e, path+"."+name, depth+1)
			if err != nil {
				return nil, err
			}
			out[name] = x
		}
		return out, nil
	}
	return nil, formatErr("%s: unknown kind of value", path)
}

// toPayload converts a stored payload (json.Number numbers) to Qdrant's
// values: integral numbers that fit an int64 as integers, the rest as
// doubles, as Qdrant converts its JSON payloads.
func toPayload(p strata.Payload) map[string]*qdrant.Value {
	if p == nil {
		return nil
	}
	out := make(map[string]*qdrant.Value, len(p))
	for k, v := range p {
		out[k] = toValue(v)
	}
	return out
}

func toValue(v any) *qdrant.Value {
	switch x := v.(type) {
	case nil:
		return &qdrant.Value{Kind: &qdrant.Value_NullValue{}}
	case bool:
		return &qdrant.Value{Kind: &qdrant.Value_BoolValue{BoolValue: x}}
	case string:
		return &qdrant.Value{Kind: &qdrant.Value_StringValue{StringValue: x}}
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return &qdrant.Value{Kind: &qdrant.Value_IntegerValue{IntegerValue: n}}
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return &qdrant.Value{Kind: &qdrant.Value_DoubleValue{DoubleValue: f}}
	case float64:
		return &qdrant.Value{Kind: &qdrant.Value_DoubleValue{DoubleValue: x}}
	case int64:
		return &qdrant.Value{Kind: &qdrant.Value_IntegerValue{IntegerValue: x}}
	case []any:
		vals := make([]*qdrant.Value, len(x))
		for i, e := range x {
			vals[i] = toValue(e)
		}
		return &qdrant.Value{Kind: &qdrant.Value_ListValue{ListValue: &qdrant.ListValue{Values: vals}}}
	case map[string]any:
		return &qdrant.Value{Kind: &qdrant.Value_StructValue{StructValue: &qdrant.Struct{Fields: toPayload(x)}}}
	}
	// Payloads decoded by the root hold only the JSON types above.
	return &qdrant.Value{Kind: &qdrant.Value_StringValue{StringValue: fmt.Sprint(v)}}
}

// --- vectors ---

// vectorsIn is a decoded Vectors: the unnamed vector, named dense vectors
// and named sparse vectors.
type vectorsIn struct {
	vector []float32
	named  map[string][]float32
	sparse map[string]strata.SparseVector
}

// vectors converts a point's Vectors: one vector (the unnamed one) or a
// map of named vectors ("" being the unnamed one). nil is no vector.
func vectors(v *qdrant.Vectors, path string) (vectorsIn, error) {
	var out vectorsIn
	switch o := v.GetVectorsOptions().(type) {
	case nil:
		if v != nil {
			return out, formatErr("%s: empty vectors: expected a vector or a map of named vectors", path)
		}
		return out, nil
	case *qdrant.Vectors_Vector:
		dense, sparse, err := vector(o.Vector, path)
		if err != nil {
			return out, err
		}
		if sparse != nil {
			return out, formatErr("%s: a sparse vector must be named", path)
		}
		out.vector = dense
		return out, nil
	case *qdrant.Vectors_Vectors:
		for name, vec := range o.Vectors.GetVectors() {
			vpath := path + "." + name
			if name == "" {
				vpath = path + `[""]`
			}
			dense, sparse, err := vector(vec, vpath)
			if err != nil {
				return out, err
			}
			switch {
			case sparse != nil:
				if out.sparse == nil {
					out.sparse = map[string]strata.SparseVector{}
				}
				out.sparse[name] = *sparse
			case name == "":
				out.vector = dense
			default:
				if out.named == nil {
					out.named = map[string][]float32{}
				}
				out.named[name] = dense
			}
		}
		return out, nil
	}
	return out, formatErr("%s: unknown kind of vectors", path)
}

// vector converts one Vector: dense or sparse, in the current form (the
// oneof) or the deprecated one (data, indices, vectors_count), as Qdrant
// reads both.
func vector(v *qdrant.Vector, path string) ([]float32, *strata.SparseVector, error) {
	switch x := v.GetVector().(type) {
	case *qdrant.Vector_Dense:
		return denseData(x.Dense.GetData()), nil, nil
	case *qdrant.Vector_Sparse:
		return nil, &strata.SparseVector{Indices: x.Sparse.GetIndices(), Values: x.Sparse.GetValues()}, nil
	case *qdrant.Vector_MultiDense:
		return nil, nil, unsupported("%s: multivectors (a list of vectors)", path)
	case *qdrant.Vector_Document, *qdrant.Vector_Image, *qdrant.Vector_Object:
		return nil, nil, unsupported("%s: inference (documents, images, objects to embed)", path)
	case nil:
	default:
		return nil, nil, formatErr("%s: unknown kind of vector", path)
	}
	switch {
	case v == nil:
		return nil, nil, formatErr("%s: missing vector", path)
	case v.GetIndices() != nil:
		return nil, &strata.SparseVector{Indices: v.GetIndices().GetData(), Values: v.GetData()}, nil
	case v.VectorsCount != nil:
		return nil, nil, unsupported("%s: multivectors (a list of vectors)", path)
	}
	return denseData(v.GetData()), nil, nil
}

// denseData returns a dense vector's values; an empty one is a non-nil
// empty slice, so the root reports its dimension rather than a missing
// vector.
func denseData(d []float32) []float32 {
	if d == nil {
		return []float32{}
	}
	return d
}

// toVectors converts a record's vectors as Qdrant writes them: the unnamed
// vector alone as one vector, otherwise a map by name ("" for the unnamed
// one). Nothing selected is nil. Vectors use the deprecated data /
// indices fields, which Qdrant's server fills and every client reads.
func toVectors(rec *strata.Record, sel strata.VectorSelector) *qdrant.VectorsOutput {
	if !sel.All && len(sel.Names) == 0 {
		return nil
	}
	if rec.Vector != nil && len(rec.Vectors) == 0 && len(rec.Sparse) == 0 {
		return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vector{Vector: &qdrant.VectorOutput{Data: rec.Vector}}}
	}
	m := make(map[string]*qdrant.VectorOutput, len(rec.Vectors)+len(rec.Sparse)+1)
	if rec.Vector != nil {
		m[""] = &qdrant.VectorOutput{Data: rec.Vector}
	}
	for name, v := range rec.Vectors {
		m[name] = &qdrant.VectorOutput{Data: v}
	}
	for name, sv := range rec.Sparse {
		m[name] = &qdrant.VectorOutput{Data: sv.Values, Indices: &qdrant.SparseIndices{Data: sv.Indices}}
	}
	return &qdrant.VectorsOutput{VectorsOptions: &qdrant.VectorsOutput_Vectors{Vectors: &qdrant.NamedVectorsOutput{Vectors: m}}}
}

func toRetrieved(rec *strata.Record, vs strata.VectorSelector) *qdrant.RetrievedPoint {
	return &qdrant.RetrievedPoint{Id: toPointID(rec.ID), Payload: toPayload(rec.Payload), Vectors: toVectors(rec, vs)}
}

func toScored(sp *strata.ScoredPoint, vs strata.VectorSelector) *qdrant.ScoredPoint {
	return &qdrant.ScoredPoint{Id: toPointID(sp.ID), Payload: toPayload(sp.Payload), Score: sp.Score, Version: sp.Version, Vectors: toVectors(&sp.Record, vs)}
}

func toScoredList(hits []strata.ScoredPoint, vs strata.VectorSelector) []*qdrant.ScoredPoint {
	out := make([]*qdrant.ScoredPoint, len(hits))
	for i := range hits {
		out[i] = toScored(&hits[i], vs)
	}
	return out
}

// --- selectors of what reads return ---

// withPayload converts a WithPayloadSelector; nil gives def.
func withPayload(w *qdrant.WithPayloadSelector, def bool, path string) (strata.PayloadSelector, error) {
	switch o := w.GetSelectorOptions().(type) {
	case nil:
		if w != nil {
			return strata.PayloadSelector{}, formatErr("%s: empty selector: expected enable, include or exclude", path)
		}
		if def {
			return strata.AllPayload, nil
		}
		return strata.PayloadSelector{}, nil
	case *qdrant.WithPayloadSelector_Enable:
		if o.Enable {
			return strata.AllPayload, nil
		}
		return strata.PayloadSelector{}, nil
	case *qdrant.WithPayloadSelector_Include:
		return strata.PayloadSelector{Include: o.Include.GetFields()}, nil
	case *qdrant.WithPayloadSelector_Exclude:
		return strata.PayloadSelector{All: true, Exclude: o.Exclude.GetFields()}, nil
	}
	return strata.PayloadSelector{}, formatErr("%s: unknown kind of selector", path)
}

// withVectors converts a WithVectorsSelector; nil selects no vector.
func withVectors(w *qdrant.WithVectorsSelector, path string) (strata.VectorSelector, error) {
	switch o := w.GetSelectorOptions().(type) {
	case nil:
		if w != nil {
			return strata.VectorSelector{}, formatErr("%s: empty selector: expected enable or include", path)
		}
		return strata.VectorSelector{}, nil
	case *qdrant.WithVectorsSelector_Enable:
		if o.Enable {
			return strata.AllVectors, nil
		}
		return strata.VectorSelector{}, nil
	case *qdrant.WithVectorsSelector_Include:
		return strata.VectorSelector{Names: o.Include.GetNames()}, nil
	}
	return strata.VectorSelector{}, formatErr("%s: unknown kind of selector", path)
}
