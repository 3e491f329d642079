package rest

import "bytes"

var comma = []byte{','}

// parseFloatArray decodes a JSON array of numbers into float32s in one pass
// over b, the hot path of every vector in a request (encoding/json takes
// four passes and a reflective store per element). It accepts exactly
// JSON's number grammar with optional whitespace; ok is false for anything
// else (null, nested arrays, strings, a number out of float32's range,
// trailing data), and the caller then decodes with encoding/json to report
// precisely what is wrong.
func parseFloatArray(b []byte) (v []float32, ok bool) {
	// Size the slice once: one element per comma, plus one (bytes.Count
	// is vectorised and costs little next to the parsing).
	v, end, ok := parseFloatArrayAt(b, skipSpace(b, 0), bytes.Count(b, comma)+1)
	if !ok || skipSpace(b, end) != len(b) {
		return nil, false
	}
	return v, true
}

// parseFloatArrayAt is parseFloatArray for the array at b[i], which may be
// followed by anything; it returns the offset just past the array. capHint
// sizes the result (the vector's expected dimension).
func parseFloatArrayAt(b []byte, i, capHint int) (v []float32, end int, ok bool) {
	if i >= len(b) || b[i] != '[' {
		return nil, i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return []float32{}, i + 1, true
	}
	v = make([]float32, 0, max(capHint, 1))
	for {
		f, j, ok := parseNumber32(b, i)
		if !ok {
			return nil, j, false
		}
		v = append(v, f)
		i = skipSpace(b, j)
		if i == len(b) {
			return nil, i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return v, i + 1, true
		default:
			return nil, i, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// scanNumber returns the end of the JSON number starting at b[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return i, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return i, false
		}
		i = j
	}
	return i, true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
