package rest

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// FuzzParseFloatArray checks the one-pass vector parser against
// encoding/json, the reference: whenever either accepts an array of
// numbers, both do and the values are identical bit for bit.
func FuzzParseFloatArray(f *testing.F) {
	for _, s := range []string{
		`[]`, ` [ ] `, `[1]`, `[1,2,3]`, `[-0, 0.5, -1e-3, 2E+2, 1.5e38, 3.4028235e38]`,
		`[1e39]`, `[1e-50]`, `[0.1,0.2,0.30000000000000004]`, "[\n1,\t2\r]", `[1,]`, `[,1]`, `[01]`,
		`[1.]`, `[.5]`, `[1e]`, `[-]`, `[+1]`, `[1 2]`, `[1]x`, `[[1]]`, `["1"]`, `[null]`, `null`,
		`[NaN]`, `[Infinity]`, `[1,2`, `[`, ``, `[1.0e+00]`, `[123456789012345678901234567890123456789]`,
		`[0.000000000000000000000000000000000000000000001401298464324817]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseFloatArray(b)
		// encoding/json decodes null into a float32 as a no-op (0), and
		// null into a slice as nil; Strata refuses both, so the reference
		// decodes pointers and counts a null anywhere as a refusal.
		var ptrs []*float32
		err := json.Unmarshal(b, &ptrs)
		jsonOK := err == nil && ptrs != nil && !slices.Contains(ptrs, nil)
		var want []float32
		for _, p := range ptrs {
			if p != nil {
				want = append(want, *p)
			}
		}
		if ok != jsonOK {
			t.Fatalf("%q: fast ok=%v, encoding/json err=%v (nil slice %v)", b, ok, err, want == nil)
		}
		if !ok {
			return
		}
		if !slices.EqualFunc(got, want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
			t.Fatalf("%q: fast %v, encoding/json %v", b, got, want)
		}
	})
}

// TestParseFloatArrayAllocs: one allocation, the result.
func TestParseFloatArrayAllocs(t *testing.T) {
	b, _ := json.Marshal(make([]float32, 384))
	b = append(b[:1], append([]byte("0.123456789,-1.5e-7,"), b[1:]...)...)
	n := testing.AllocsPerRun(100, func() {
		if _, ok := parseFloatArray(b); !ok {
			t.Fatal("not parsed")
		}
	})
	if n != 1 {
		t.Fatalf("%v allocations, want 1", n)
	}
}
