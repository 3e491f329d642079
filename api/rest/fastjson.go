package rest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/strata-db/strata"
)

// The fast paths below decode the bulky request shapes (a list of points
// with their vectors) with one scanner pass over the body (json.Valid)
// and light splitting afterwards, instead of encoding/json's scan per
// level of json.RawMessage nesting (seven passes over every vector byte
// for an upsert). They work only on JSON already known to be valid, and
// they are only an optimisation: whenever anything is unusual (an
// unexpected type, a key that encoding/json would match case-insensitively,
// an invalid value), they give up and the caller decodes again with
// encoding/json, which is the reference for results and error messages.

// skipValue returns the index just past the JSON value starting at b[i]
// (b valid JSON, i at the first byte of a value).
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '[', '{':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // number, true, false, null
		for i < len(b) {
			switch b[i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) int {
	i++
	for i < len(b) {
		j := bytes.IndexAny(b[i:], "\"\\")
		if j < 0 {
			return len(b)
		}
		i += j
		if b[i] == '\\' {
			i += 2
			continue
		}
		return i + 1
	}
	return i
}

// eachElement calls fn for every element of the JSON array at b[i] (valid
// JSON) with the element's offset; fn returns the offset just past it (so
// that an element parsed by fn is not scanned twice). eachElement returns
// the offset just past the array; ok is false if there is no array at
// b[i] or fn returns false.
func eachElement(b []byte, i int, fn func(i int) (end int, ok bool)) (end int, ok bool) {
	i = skipSpace(b, i)
	if i == len(b) || b[i] != '[' {
		return i, false
	}
	i = skipSpace(b, i+1)
	if b[i] == ']' {
		return i + 1, true
	}
	for {
		j, ok := fn(i)
		if !ok {
			return j, false
		}
		i = skipSpace(b, j)
		if b[i] == ']' {
			return i + 1, true
		}
		i = skipSpace(b, i+1) // the comma
	}
}

// eachField calls fn with every key of the JSON object at b[i] (valid
// JSON) and the offset of its value; fn returns the offset just past the
// value (so that a value fn parses is not scanned twice; skipValue when it
// only needs the bytes). eachField returns the offset just past the object.
// Keys with escape sequences make it give up (ok false), as does fn
// returning false.
func eachField(b []byte, i int, fn func(key []byte, val int) (end int, ok bool)) (end int, ok bool) {
	i = skipSpace(b, i)
	if i == len(b) || b[i] != '{' {
		return i, false
	}
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return i + 1, true
	}
	for {
		end := skipString(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return i, false
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		j, ok := fn(key, i)
		if !ok {
			return i, false
		}
		i = skipSpace(b, j)
		if b[i] == '}' {
			return i + 1, true
		}
		i = skipSpace(b, i+1) // the comma
	}
}

// matchKey reports which of names key is, exactly. A key that differs
// from one of them only in case gives up (ok false): encoding/json would
// match it, and the fallback must decide.
func matchKey(key []byte, names ...string) (idx int, ok bool) {
	for n, name := range names {
		if string(key) == name {
			return n, true
		}
	}
	for _, name := range names {
		if bytes.EqualFold(key, []byte(name)) {
			return -1, false
		}
	}
	return -1, true // an unknown key: ignored, as encoding/json does
}

var pointFields = []string{"id", "vector", "payload"}

// fastPointList decodes a list of points (PointStruct) from valid JSON.
// ok false means: decode with encoding/json instead (for the result or
// for the error).
func fastPointList(raw []byte, path string) ([]strata.Point, bool) {
	points, end, ok := fastPointListAt(raw, skipSpace(raw, 0), path)
	return points, ok && skipSpace(raw, end) == len(raw)
}

// fastPointListAt is fastPointList for the array at raw[i]; it returns
// the offset just past the array. A dense vector given as a list is parsed
// where it stands, in the same pass that finds its end.
func fastPointListAt(raw []byte, i int, path string) ([]strata.Point, int, bool) {
	var (
		points []strata.Point
		f      [3]json.RawMessage
		dense  []float32
		dim    int // the previous vector's length: the next one's capacity
	)
	end, ok := eachElement(raw, i, func(j int) (int, bool) {
		f = [3]json.RawMessage{}
		dense = nil
		pe, ok := eachField(raw, j, func(key []byte, vs int) (int, bool) {
			n, ok := matchKey(key, pointFields...)
			if n == 1 && raw[vs] == '[' {
				v, ve, ok := parseFloatArrayAt(raw, vs, dim)
				if !ok {
					return vs, false
				}
				dense, dim, f[1] = v, len(v), raw[vs:ve]
				return ve, true
			}
			ve := skipValue(raw, vs)
			if n >= 0 {
				f[n] = raw[vs:ve]
				if n == 1 {
					dense = nil
				}
			}
			return ve, ok
		})
		if !ok {
			return pe, false
		}
		// Error messages do not matter here: on any error the caller
		// decodes again with encoding/json, which words them.
		var p strata.Point
		var err error
		if dense != nil {
			if p.ID, err = parseID(f[0], path); err == nil {
				p.Vector = dense
				p.Payload, err = parsePayload(f[2], path)
			}
		} else {
			pj := pointJSON{ID: f[0], Vector: f[1], Payload: f[2]}
			p, err = pj.point(path)
		}
		if err != nil {
			return pe, false
		}
		points = append(points, p)
		return pe, true
	})
	if ok && points == nil {
		points = []strata.Point{}
	}
	return points, end, ok
}

// structField is one field of a request struct, for decodeStructFast.
type structField struct {
	name  string // the JSON key
	index int
	raw   bool // a json.RawMessage: assigned, not decoded
}

// structFields caches the fields of the request struct types
// (reflect.Type → []structField, or nil when the type is not eligible).
var structFields sync.Map

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// fieldsOf returns t's fields if every exported field has a plain JSON
// name and there are at most 64 of them; nil otherwise.
func fieldsOf(t reflect.Type) []structField {
	if f, ok := structFields.Load(t); ok {
		return f.([]structField)
	}
	var fields []structField
	eligible := t.NumField() <= 64
	for i := 0; eligible && i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous {
			eligible = false
			break
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" || strings.Contains(opts, "string") {
			eligible = false
			break
		}
		fields = append(fields, structField{name: name, index: i, raw: sf.Type == rawMessageType})
	}
	if !eligible {
		fields = nil
	}
	structFields.Store(t, fields)
	return fields
}

// decodeStructFast decodes the JSON object b (valid JSON) into the zero
// struct that v points to: json.RawMessage fields take their value's bytes
// from b without a copy or another scan, other fields are decoded by
// encoding/json one by one. It reports false (leaving *v zero) whenever
// encoding/json must decide: not an object, an ineligible type, a key
// matching a field only case-insensitively, a duplicate key, a value that
// does not decode.
func decodeStructFast(b []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return false
	}
	sv := rv.Elem()
	fields := fieldsOf(sv.Type())
	if fields == nil {
		return false
	}
	var seen uint64
	end, ok := eachField(b, 0, func(key []byte, vs int) (int, bool) {
		ve := skipValue(b, vs)
		val := b[vs:ve]
		n := -1
		for i := range fields {
			if string(key) == fields[i].name {
				n = i
				break
			}
		}
		if n < 0 {
			for i := range fields {
				if bytes.EqualFold(key, []byte(fields[i].name)) {
					return ve, false
				}
			}
			return ve, true // unknown keys are ignored, as encoding/json does
		}
		if seen&(1<<n) != 0 {
			return ve, false
		}
		seen |= 1 << n
		f := sv.Field(fields[n].index)
		if fields[n].raw {
			f.SetBytes(val)
			return ve, true
		}
		return ve, json.Unmarshal(val, f.Addr().Interface()) == nil
	})
	if !ok || skipSpace(b, end) != len(b) {
		sv.SetZero()
		return false
	}
	return true
}
