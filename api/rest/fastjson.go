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

// eachElement calls fn for every element of the JSON array b (valid
// JSON) with the element's offset; fn returns the offset just past it (so
// that an element parsed by fn is not scanned twice). ok is false if b is
// not an array or fn returns false.
func eachElement(b []byte, fn func(i int) (end int, ok bool)) bool {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '[' {
		return false
	}
	i = skipSpace(b, i+1)
	if b[i] == ']' {
		return true
	}
	for {
		j, ok := fn(i)
		if !ok {
			return false
		}
		i = skipSpace(b, j)
		if b[i] == ']' {
			return true
		}
		i = skipSpace(b, i+1) // the comma
	}
}

// eachField calls fn with every key and value of the JSON object at b[i]
// (valid JSON) and returns the offset just past the object. Keys with
// escape sequences make it give up (ok false), as does fn returning false.
func eachField(b []byte, i int, fn func(key, val []byte) bool) (end int, ok bool) {
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
		j := skipValue(b, i)
		if !fn(key, b[i:j]) {
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

// fastFields fills dst (one RawMessage per name) from the JSON object b,
// the last occurrence of a key winning as with encoding/json. ok is false
// when b is not an object or a key needs encoding/json's judgement.
func fastFields(b []byte, names []string, dst []json.RawMessage) bool {
	end, ok := fastFieldsAt(b, 0, names, dst)
	return ok && skipSpace(b, end) == len(b)
}

// fastFieldsAt is fastFields for the object at b[i]; it returns the
// offset just past the object.
func fastFieldsAt(b []byte, i int, names []string, dst []json.RawMessage) (int, bool) {
	return eachField(b, i, func(key, val []byte) bool {
		n, ok := matchKey(key, names...)
		if n >= 0 {
			dst[n] = val
		}
		return ok
	})
}

var pointFields = []string{"id", "vector", "payload"}

// fastPointList decodes a list of points (PointStruct) from valid JSON.
// ok false means: decode with encoding/json instead (for the result or
// for the error).
func fastPointList(raw []byte, path string) ([]strata.Point, bool) {
	var points []strata.Point
	if n := bytes.Count(raw, []byte(`"id"`)); n > 0 {
		points = make([]strata.Point, 0, n)
	}
	var f [3]json.RawMessage
	ok := eachElement(raw, func(i int) (int, bool) {
		f = [3]json.RawMessage{}
		end, ok := fastFieldsAt(raw, i, pointFields, f[:])
		if !ok {
			return end, false
		}
		pj := pointJSON{ID: f[0], Vector: f[1], Payload: f[2]}
		p, err := pj.point(path)
		if err != nil {
			return end, false
		}
		points = append(points, p)
		return end, true
	})
	return points, ok
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
	end, ok := eachField(b, 0, func(key, val []byte) bool {
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
					return false
				}
			}
			return true // unknown keys are ignored, as encoding/json does
		}
		if seen&(1<<n) != 0 {
			return false
		}
		seen |= 1 << n
		f := sv.Field(fields[n].index)
		if fields[n].raw {
			f.SetBytes(val)
			return true
		}
		return json.Unmarshal(val, f.Addr().Interface()) == nil
	})
	if !ok || skipSpace(b, end) != len(b) {
		sv.SetZero()
		return false
	}
	return true
}
