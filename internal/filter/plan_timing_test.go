package filter

import (
	"fmt"
	"testing"
)

// BenchmarkCheck measures Plan.Check per offset: with every leaf answered
// by an index checker, and with payload leaves.
func BenchmarkCheck(b *testing.B) {
	payloads := make([]string, 1024)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"a":%d,"b":"%c","c":%d,"p":%d,"t":"some text %d"}`, i%10, 'a'+i%3, i, i%2, i)
	}
	fs := newSource(b, payloads...)
	fs.indexes = map[string]FieldIndex{}
	for _, k := range []string{"a", "b", "c"} {
		fs.indexes[k] = &exactIndex{bruteIndex{t: b, src: fs}}
	}
	for _, bc := range []struct {
		name string
		f    *Filter
	}{
		{"indexed", &Filter{Must: []Condition{kv("a", 3)}, Should: []Condition{kv("b", "a"), kv("c", 7)}, MustNot: []Condition{kv("c", 13)}}},
		{"payload", must(kv("p", 1), Condition{Key: "t", Match: &Match{Text: "text"}})},
		{"mixed", must(kv("a", 3), kv("p", 1))},
	} {
		m, err := Compile(bc.f, nil)
		if err != nil {
			b.Fatal(err)
		}
		p := m.Plan(fs, -1)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			off := uint32(0)
			for b.Loop() {
				p.Check(off)
				off = (off + 1) % 1024
			}
		})
	}
}
