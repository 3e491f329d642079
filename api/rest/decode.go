package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/strata-db/strata"
)

// decodeBody reads the request body (bounded by the MaxBytesReader that
// route installed), refuses JSON nested deeper than maxJSONDepth before
// decoding it, and decodes it into v. An empty body decodes as {}.
// Unknown fields are ignored, as Qdrant ignores them.
//
// A body must come with Content-Type: application/json, as Qdrant requires:
// that makes a cross-site form or text/plain POST from a browser fail
// here instead of deleting points on a server bound to localhost.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("Payload too large: the request body is larger than the limit of %d bytes", mbe.Limit)}
		}
		return badRequest("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) > 0 && !isJSONContentType(r.Header.Get("Content-Type")) {
		return badRequest("Content type error: send the body with Content-Type: application/json")
	}
	return decodeJSON(b, v)
}

// isJSONContentType accepts application/json and */*+json.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	if validJSON(b, maxJSONDepth) { // one pass; the decoders of the parts rely on it
		if raw, ok := v.(*json.RawMessage); ok {
			*raw = b
			return nil
		}
		if decodeStructFast(b, v) {
			return nil
		}
	}
	// encoding/json decides, and words the error.
	if err := checkDepth(b, maxJSONDepth); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return jsonErr(err, "")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return formatErr("unexpected data after the JSON value")
	}
	return nil
}

// checkDepth scans b and fails if arrays and objects nest deeper than max.
// It only counts brackets outside strings; the decoder reports any other
// syntax error.
func checkDepth(b []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > max {
				return formatErr("the JSON body nests deeper than %d levels", max)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

// unmarshal decodes one part of a request; path names it in errors.
func unmarshal(raw json.RawMessage, v any, path string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonErr(err, path)
	}
	return nil
}

// jsonErr turns an encoding/json error into a format error naming the
// field: "limit: expected integer, got string".
func jsonErr(err error, path string) error {
	var (
		se  *json.SyntaxError
		ute *json.UnmarshalTypeError
		ae  *apiError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &se):
		return formatErr("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &ute):
		field := joinPath(path, ute.Field)
		if field == "" {
			field = "body"
		}
		got := ute.Value
		if n, ok := strings.CutPrefix(got, "number "); ok {
			return formatErr("%s: %s is not a valid %s", field, n, kindName(ute.Type))
		}
		return formatErr("%s: expected %s, got %s", field, kindName(ute.Type), got)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return formatErr("unexpected end of the JSON body")
	case errors.Is(err, strata.ErrInvalidArgument):
		return formatErr("%s", joinPathMsg(path, detail(err)))
	}
	return formatErr("%s", joinPathMsg(path, err.Error()))
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

// joinPathMsg prefixes a message that names its own field with path
// ("filter.must[0]: ..." under "searches[1]").
func joinPathMsg(path, msg string) string {
	if path == "" {
		return msg
	}
	return path + "." + msg
}

// kindName names a Go type as the JSON value it expects.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "non-negative integer"
	case reflect.Float32:
		return "number (32-bit float)"
	case reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// jsonKind names the JSON type of raw for error messages.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// first returns the first non-space byte of raw, or 0.
func first(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// --- point ids ---

// parseID decodes a point id: an unsigned integer or a UUID string.
func parseID(raw json.RawMessage, path string) (strata.PointID, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case isNull(raw):
		return strata.PointID{}, formatErr("%s: missing point id", path)
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return strata.PointID{}, jsonErr(err, path)
		}
		id, err := strata.ParseUUID(s)
		if err != nil {
			return strata.PointID{}, formatErr("%s: %q is not a valid point id: expected an unsigned integer or a UUID", path, s)
		}
		return id, nil
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		n, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			return strata.PointID{}, formatErr("%s: %s is not a valid point id: expected an unsigned integer or a UUID", path, raw)
		}
		return strata.NumID(n), nil
	}
	return strata.PointID{}, formatErr("%s: expected an unsigned integer or a UUID, got %s", path, jsonKind(raw))
}

// parseIDs decodes a list of point ids.
func parseIDs(raw json.RawMessage, path string) ([]strata.PointID, error) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := unmarshal(raw, &items, path); err != nil {
		return nil, err
	}
	ids := make([]strata.PointID, len(items))
	for i, item := range items {
		var err error
		if ids[i], err = parseID(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// pointID is a PointID as Qdrant writes it: a number or a UUID string.
type pointID strata.PointID

func (id pointID) MarshalJSON() ([]byte, error) {
	p := strata.PointID(id)
	if p.IsUUID() {
		return []byte(`"` + p.String() + `"`), nil
	}
	return strconv.AppendUint(nil, p.Num(), 10), nil
}

// --- vectors ---

// pointVectors is a decoded VectorStruct: the unnamed vector, named dense
// vectors and named sparse vectors.
type pointVectors struct {
	vector []float32
	named  map[string][]float32
	sparse map[string]strata.SparseVector
}

// parseVectorStruct decodes a point's "vector": a list of numbers (the
// unnamed vector) or an object of named vectors, each a list of numbers or
// a sparse {indices, values}. The name "" is the unnamed vector.
func parseVectorStruct(raw json.RawMessage, path string) (pointVectors, error) {
	var pv pointVectors
	switch first(raw) {
	case 0, 'n':
		return pv, nil
	case '[':
		v, err := parseDense(raw, path)
		pv.vector = v
		return pv, err
	case '{':
		var m map[string]json.RawMessage
		if err := unmarshal(raw, &m, path); err != nil {
			return pv, err
		}
		if isInferenceObject(m) {
			return pv, unsupported("%s: inference (documents, images, objects to embed)", path)
		}
		for name, v := range m {
			vpath := path + "." + name
			if name == "" {
				vpath = path + `[""]`
			}
			switch first(v) {
			case '[':
				d, err := parseDense(v, vpath)
				if err != nil {
					return pv, err
				}
				if name == "" {
					pv.vector = d
					continue
				}
				if pv.named == nil {
					pv.named = map[string][]float32{}
				}
				pv.named[name] = d
			case '{':
				sp, err := parseSparse(v, vpath)
				if err != nil {
					return pv, err
				}
				if pv.sparse == nil {
					pv.sparse = map[string]strata.SparseVector{}
				}
				pv.sparse[name] = sp
			default:
				return pv, formatErr("%s: expected a vector (array of numbers) or a sparse vector ({indices, values}), got %s", vpath, jsonKind(v))
			}
		}
		return pv, nil
	}
	return pv, formatErr("%s: expected a vector (array of numbers) or an object of named vectors, got %s", path, jsonKind(raw))
}

// isInferenceObject reports whether m is a Document, Image or
// InferenceObject (something to embed on the server).
func isInferenceObject(m map[string]json.RawMessage) bool {
	if _, ok := m["model"]; !ok {
		return false
	}
	for _, k := range []string{"text", "image", "object"} {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// parseDense decodes a dense vector. A list of lists (a multivector) is
// refused.
func parseDense(raw json.RawMessage, path string) ([]float32, error) {
	if v, ok := parseFloatArray(raw); ok {
		return v, nil
	}
	if isNull(raw) {
		return nil, nil // as encoding/json: the root reports the missing vector
	}
	// Slow path, only to say exactly what is wrong.
	var items []json.RawMessage
	if err := unmarshal(raw, &items, path); err != nil {
		return nil, err
	}
	for i, item := range items {
		if first(item) == '[' {
			return nil, unsupported("%s: multivectors (a list of vectors)", path)
		}
		if isNull(item) {
			return nil, formatErr("%s[%d]: expected a number, got null", path, i)
		}
		var f float32
		if err := unmarshal(item, &f, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return nil, formatErr("%s: invalid vector", path)
}

type sparseJSON struct {
	Indices []uint32  `json:"indices"`
	Values  []float32 `json:"values"`
}

// parseSparse decodes a sparse vector {indices, values}; the root checks
// lengths and duplicates.
func parseSparse(raw json.RawMessage, path string) (strata.SparseVector, error) {
	var m map[string]json.RawMessage
	if err := unmarshal(raw, &m, path); err != nil {
		return strata.SparseVector{}, err
	}
	if isInferenceObject(m) {
		return strata.SparseVector{}, unsupported("%s: inference (documents, images, objects to embed)", path)
	}
	for k := range m {
		if k != "indices" && k != "values" {
			return strata.SparseVector{}, formatErr("%s: unknown field %q of a sparse vector (expected indices and values)", path, k)
		}
	}
	if _, ok := m["indices"]; !ok {
		return strata.SparseVector{}, formatErr("%s: missing field `indices`", path)
	}
	if _, ok := m["values"]; !ok {
		return strata.SparseVector{}, formatErr("%s: missing field `values`", path)
	}
	var s sparseJSON
	if err := unmarshal(raw, &s, path); err != nil {
		return strata.SparseVector{}, err
	}
	return strata.SparseVector{Indices: s.Indices, Values: s.Values}, nil
}

// --- payloads ---

// parsePayload decodes a payload object (numbers kept exact as
// json.Number); null or absent is no payload.
func parsePayload(raw json.RawMessage, path string) (strata.Payload, error) {
	switch first(raw) {
	case 0, 'n':
		return nil, nil
	case '{':
	default:
		return nil, formatErr("%s: expected a JSON object, got %s", path, jsonKind(raw))
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var p strata.Payload
	if err := d.Decode(&p); err != nil {
		return nil, jsonErr(err, path)
	}
	return p, nil
}

// --- filters ---

// parseFilter decodes a filter with Qdrant's grammar; errors name the path
// of the bad part under prefix ("searches[1].filter.must[0]: ...").
func parseFilter(raw json.RawMessage, prefix string) (*strata.Filter, error) {
	if isNull(raw) {
		return nil, nil
	}
	var f strata.Filter
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, jsonErr(err, prefix)
	}
	return &f, nil
}

// --- selectors of what reads return ---

// parseWithPayload decodes with_payload: a bool, a list of keys, or
// {include: [...]} / {exclude: [...]}; absent or null gives def.
func parseWithPayload(raw json.RawMessage, def bool, path string) (strata.PayloadSelector, error) {
	switch first(raw) {
	case 0, 'n':
		if def {
			return strata.AllPayload, nil
		}
		return strata.PayloadSelector{}, nil
	case 't', 'f':
		var b bool
		if err := unmarshal(raw, &b, path); err != nil {
			return strata.PayloadSelector{}, err
		}
		if b {
			return strata.AllPayload, nil
		}
		return strata.PayloadSelector{}, nil
	case '[':
		var keys []string
		if err := unmarshal(raw, &keys, path); err != nil {
			return strata.PayloadSelector{}, err
		}
		return strata.PayloadSelector{Include: keys}, nil
	case '{':
		var m map[string]json.RawMessage
		if err := unmarshal(raw, &m, path); err != nil {
			return strata.PayloadSelector{}, err
		}
		if len(m) != 1 {
			return strata.PayloadSelector{}, formatErr("%s: expected {\"include\": [...]} or {\"exclude\": [...]}", path)
		}
		var keys []string
		if v, ok := m["include"]; ok {
			if err := unmarshal(v, &keys, path+".include"); err != nil {
				return strata.PayloadSelector{}, err
			}
			return strata.PayloadSelector{Include: keys}, nil
		}
		if v, ok := m["exclude"]; ok {
			if err := unmarshal(v, &keys, path+".exclude"); err != nil {
				return strata.PayloadSelector{}, err
			}
			return strata.PayloadSelector{All: true, Exclude: keys}, nil
		}
		return strata.PayloadSelector{}, formatErr("%s: expected {\"include\": [...]} or {\"exclude\": [...]}", path)
	}
	return strata.PayloadSelector{}, formatErr("%s: expected a boolean, a list of keys or {include|exclude}, got %s", path, jsonKind(raw))
}

// parseWithVector decodes with_vector: a bool or a list of vector names;
// absent or null gives def. alias is the same field under its other name
// (with_vectors), used when raw is absent.
func parseWithVector(raw, alias json.RawMessage, def bool, path string) (strata.VectorSelector, error) {
	if isNull(raw) {
		raw = alias
	}
	switch first(raw) {
	case 0, 'n':
		if def {
			return strata.AllVectors, nil
		}
		return strata.VectorSelector{}, nil
	case 't', 'f':
		var b bool
		if err := unmarshal(raw, &b, path); err != nil {
			return strata.VectorSelector{}, err
		}
		if b {
			return strata.AllVectors, nil
		}
		return strata.VectorSelector{}, nil
	case '[':
		var names []string
		if err := unmarshal(raw, &names, path); err != nil {
			return strata.VectorSelector{}, err
		}
		return strata.VectorSelector{Names: names}, nil
	}
	return strata.VectorSelector{}, formatErr("%s: expected a boolean or a list of vector names, got %s", path, jsonKind(raw))
}

// --- query parameters ---

// waitParam reads ?wait=; it only changes the status answered, since every
// write returns once it is durable (fsynced) and visible.
func waitParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &apiError{status: http.StatusBadRequest, msg: "Format error in query parameters: wait: expected true or false, got " + strconv.Quote(v)}
	}
	return b, nil
}

// --- limits ---

// checkLimit validates an optional limit: absent gives def, 0 breaks
// Qdrant's minimum of 1 (422), a negative number is not a usize (400).
// Values above the root's maximum are left for the root to refuse (400).
func checkLimit(v *int, def int, field string) (int, error) {
	switch {
	case v == nil:
		return def, nil
	case *v < 0:
		return 0, formatErr("%s: %d is negative; expected a positive integer", field, *v)
	case *v == 0:
		return 0, minErr(field, 0, 1)
	}
	return *v, nil
}

// checkOffset validates an optional offset: absent is 0, negative is 400.
func checkOffset(v *int, field string) (int, error) {
	switch {
	case v == nil:
		return 0, nil
	case *v < 0:
		return 0, formatErr("%s: %d is negative; expected a non-negative integer", field, *v)
	}
	return *v, nil
}
