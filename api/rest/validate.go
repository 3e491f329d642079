package rest

// validJSON reports whether b is one valid JSON value (surrounded by
// optional whitespace) whose arrays and objects nest at most maxDepth
// deep: json.Valid and checkDepth in one pass, without encoding/json's
// per-byte state machine. It accepts exactly what json.Valid accepts
// (bytes of any value inside strings except control characters; escapes
// checked), which a fuzz test checks; on false, the caller decodes with
// encoding/json to word the error.
func validJSON(b []byte, maxDepth int) bool {
	v := validator{b: b, max: maxDepth}
	if !v.value() {
		return false
	}
	return skipSpace(b, v.i) == len(b)
}

type validator struct {
	b          []byte
	i          int
	depth, max int
}

func (v *validator) value() bool {
	v.i = skipSpace(v.b, v.i)
	if v.i >= len(v.b) {
		return false
	}
	switch c := v.b[v.i]; c {
	case '{':
		return v.object()
	case '[':
		return v.array()
	case '"':
		return v.str()
	case 't':
		return v.lit("true")
	case 'f':
		return v.lit("false")
	case 'n':
		return v.lit("null")
	default:
		j, ok := scanNumber(v.b, v.i)
		if !ok || j == v.i {
			return false
		}
		v.i = j
		return true
	}
}

func (v *validator) lit(s string) bool {
	if len(v.b)-v.i < len(s) || string(v.b[v.i:v.i+len(s)]) != s {
		return false
	}
	v.i += len(s)
	return true
}

// str checks the string starting at v.b[v.i] and moves past it.
func (v *validator) str() bool {
	b := v.b
	i := v.i + 1
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			v.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return false
				}
				for _, h := range b[i+2 : i+6] {
					if !isHex(h) {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default:
			i++
		}
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (v *validator) enter() bool {
	v.depth++
	return v.depth <= v.max
}

func (v *validator) array() bool {
	if !v.enter() {
		return false
	}
	v.i = skipSpace(v.b, v.i+1)
	if v.i < len(v.b) && v.b[v.i] == ']' {
		v.i++
		v.depth--
		return true
	}
	for {
		if !v.value() {
			return false
		}
		v.i = skipSpace(v.b, v.i)
		if v.i >= len(v.b) {
			return false
		}
		switch v.b[v.i] {
		case ',':
			v.i++
		case ']':
			v.i++
			v.depth--
			return true
		default:
			return false
		}
	}
}

func (v *validator) object() bool {
	if !v.enter() {
		return false
	}
	v.i = skipSpace(v.b, v.i+1)
	if v.i < len(v.b) && v.b[v.i] == '}' {
		v.i++
		v.depth--
		return true
	}
	for {
		v.i = skipSpace(v.b, v.i)
		if v.i >= len(v.b) || v.b[v.i] != '"' || !v.str() {
			return false
		}
		v.i = skipSpace(v.b, v.i)
		if v.i >= len(v.b) || v.b[v.i] != ':' {
			return false
		}
		v.i++
		if !v.value() {
			return false
		}
		v.i = skipSpace(v.b, v.i)
		if v.i >= len(v.b) {
			return false
		}
		switch v.b[v.i] {
		case ',':
			v.i++
		case '}':
			v.i++
			v.depth--
			return true
		default:
			return false
		}
	}
}
