package fieldindex

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata/internal/filter"
)

// benchPayloads returns n payloads {"v": value} with realistic values of
// type typ: keywords of 10,000 distinct values, unique UUIDs, integers and
// floats over a million values, datetimes over a year, points anywhere,
// sentences of 8 words from 5,000.
func benchPayloads(typ filter.FieldType, n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, n)
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("w%x", i*2654435761%1000003)
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		var v any
		switch typ {
		case filter.TypeKeyword:
			v = fmt.Sprintf("city-%d", r.IntN(10000))
		case filter.TypeInteger:
			v = r.IntN(1_000_000)
		case filter.TypeFloat:
			v = r.Float64() * 1000
		case filter.TypeBool:
			v = r.IntN(2) == 0
		case filter.TypeDatetime:
			v = base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Format(time.RFC3339Nano)
		case filter.TypeUUID:
			a, b := r.Uint64(), r.Uint64()
			v = fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
		case filter.TypeGeo:
			v = map[string]float64{"lon": r.Float64()*360 - 180, "lat": r.Float64()*180 - 90}
		case filter.TypeText:
			var sb strings.Builder
			for j := range 8 {
				if j > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(vocab[r.IntN(len(vocab))])
			}
			v = sb.String()
		}
		out[i], _ = json.Marshal(map[string]any{"v": v})
	}
	return out
}

// BenchmarkBuild builds each type of index over 1,000,000 points and
// reports the build time and the index's memory per point.
func BenchmarkBuild(b *testing.B) {
	if testing.Short() {
		b.Skip("1M points")
	}
	const n = 1_000_000
	types := []filter.FieldSchema{
		{Type: filter.TypeKeyword}, {Type: filter.TypeInteger}, {Type: filter.TypeFloat}, {Type: filter.TypeBool},
		{Type: filter.TypeDatetime}, {Type: filter.TypeUUID}, {Type: filter.TypeGeo}, {Type: filter.TypeText},
		{Type: filter.TypeText, PhraseMatching: true},
	}
	for _, s := range types {
		name := string(s.Type)
		if s.PhraseMatching {
			name += "-phrase"
		}
		b.Run(name, func(b *testing.B) {
			payloads := benchPayloads(s.Type, n)
			b.ResetTimer()
			var x *Index
			for b.Loop() {
				var err error
				x, err = Build("v", s, n, func(off uint32) []byte { return payloads[off] })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/point")
			b.ReportMetric(float64(x.MemoryBytes())/n, "B/point")
			enc, _ := x.AppendBinary(nil)
			b.ReportMetric(float64(len(enc))/n, "file-B/point")
		})
	}
}

// TestCheckerAllocs checks that frozen checkers allocate nothing per call.
func TestCheckerAllocs(t *testing.T) {
	for _, tc := range cases {
		g := newGen(4, tc.schema.Type)
		cp := g.corpus(500)
		x, err := Build("f", tc.schema, 500, cp.payload)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			c := &filter.Condition{Key: "f"}
			tc.served(g, c)
			chk, ok := x.Checker(c)
			if !ok {
				continue
			}
			if a := testing.AllocsPerRun(5, func() {
				for off := range uint32(500) {
					chk(off)
				}
			}); a != 0 {
				t.Fatalf("%s: %s: %v allocations per 500 checks", tc.name, condString(c), a)
			}
		}
	}
}
