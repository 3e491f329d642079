package rest

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzValidJSON checks the one-pass validator against its reference:
// json.Valid and checkDepth together.
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		``, ` `, `{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e-3`, `"a"`, `"\u00e9\n\"\\\/"`, `{"a":[1,{"b":null}]}`,
		`[1,]`, `{"a":1,}`, `{"a"}`, `{a:1}`, `[01]`, `"\x"`, "\"\x01\"", "\"\xff\xfe\"", `"\u12"`, `"\uZZZZ"`, `[1 2]`, `{} {}`,
		`tru`, `nul`, `[-]`, `1.`, `.5`, `1e`, `1e+`, `[[[[[[[[]]]]]]]]`, strings.Repeat("[", 64) + strings.Repeat("]", 64),
		strings.Repeat("[", 65) + strings.Repeat("]", 65), strings.Repeat("{\"a\":", 65) + "1" + strings.Repeat("}", 65),
		` {"query": [0.1, -2e10, 3], "limit": 10} `, "\t[\n1\r]", `"unterminated`, `[1,2`, `{"a":1`, `["a\"b"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b) && checkDepth(b, 8) == nil
		if got := validJSON(b, 8); got != want {
			t.Fatalf("%q: validJSON %v, json.Valid+checkDepth %v", b, got, want)
		}
		want = json.Valid(b) && checkDepth(b, maxJSONDepth) == nil
		if got := validJSON(b, maxJSONDepth); got != want {
			t.Fatalf("%q (depth %d): validJSON %v, json.Valid+checkDepth %v", b, maxJSONDepth, got, want)
		}
	})
}
