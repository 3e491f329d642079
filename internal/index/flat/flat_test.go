package flat

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTopKKeepsBest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{1, 3, 10, 100} {
		var h TopK
		h.Reset(k)
		var all []Candidate
		for i := 0; i < 500; i++ {
			c := Candidate{Score: float32(r.IntN(50)), Off: uint32(i)}
			all = append(all, c)
			h.Push(c)
		}
		slices.SortFunc(all, func(a, b Candidate) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		got := h.Drain(nil)
		if !slices.Equal(got, all[:k]) {
			t.Fatalf("k=%d: got %v, want %v", k, got, all[:k])
		}
	}
}

func TestScanMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const n, dim, k = 1000, 37, 10
	data := make([]float32, n*dim)
	for i := range data {
		data[i] = r.Float32()*2 - 1
	}
	q := data[5*dim : 6*dim]
	scratch := make([]float32, ChunkSize)
	for _, m := range []Metric{MetricDot, MetricL2, MetricL1} {
		var h TopK
		h.Reset(k)
		odd := func(off uint32) bool { return off%2 == 1 }
		Scan(m, q, data, 0, n, float32(-1e30), scratch, 0, odd, &h)
		got := h.Drain(nil)
		var want []Candidate
		for i := 1; i < n; i += 2 {
			want = append(want, Candidate{Score: Score(m, q, data[i*dim:(i+1)*dim]), Off: uint32(i)})
		}
		slices.SortFunc(want, func(a, b Candidate) int {
			if better(a, b) {
				return -1
			}
			return 1
		})
		for i := range got {
			if got[i].Off != want[i].Off {
				t.Fatalf("metric %d rank %d: got off %d (%v), want %d (%v)", m, i, got[i].Off, got[i].Score, want[i].Off, want[i].Score)
			}
		}
	}
}
