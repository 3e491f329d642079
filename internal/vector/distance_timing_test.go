package vector

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// Benchmarks. Only run with -bench; the large (1 GiB) data set is allocated
// lazily, once per test binary, by the first benchmark that needs it.
//
// The implementation under test is the one init chose; compare
// implementations with STRATA_VECTOR_IMPL=generic|avx2|avx512.
//
//	go test -run '^$' -bench . -count 3 ./internal/vector/

var benchDims = []int{100, 128, 384, 768, 1536}

var (
	sink    float32
	sinkInt int
)

func BenchmarkDot(b *testing.B)       { benchPair(b, Dot) }
func BenchmarkL2Squared(b *testing.B) { benchPair(b, L2Squared) }
func BenchmarkL1(b *testing.B)        { benchPair(b, L1) }

// benchPair measures one in-cache pair; bytes are one vector (4*dim).
func benchPair(b *testing.B, f func(a, b []float32) float32) {
	b.Logf("impl=%s", Impl())
	for _, dim := range benchDims {
		b.Run(fmt.Sprintf("dim=%d", dim), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, uint64(dim)))
			x, y := randVec(r, dim, 1), randVec(r, dim, 1)
			b.SetBytes(int64(4 * dim))
			b.ReportAllocs()
			var s float32
			for b.Loop() {
				s += f(x, y)
			}
			sink = s
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "vecs/s")
		})
	}
}

const (
	inCacheBytes = 1 << 20 // fits in L2
	largeBytes   = 1 << 30 // far larger than L3 (260 MiB on the dev machine)
)

var (
	largeOnce sync.Once
	largeBuf  []float32
)

// largeData returns the shared 1 GiB array of random values in [-1, 1).
func largeData() []float32 {
	largeOnce.Do(func() {
		largeBuf = make([]float32, largeBytes/4)
		fillRandom(largeBuf)
	})
	return largeBuf
}

// fillRandom fills v with values in [-1, 1) using all CPUs.
func fillRandom(v []float32) {
	p := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range p {
		part := v[w*len(v)/p : (w+1)*len(v)/p]
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for i := range part {
				part[i] = 2*r.Float32() - 1
			}
		})
	}
	wg.Wait()
}

type scanKernel struct {
	name string
	f    func(q, data, out []float32)
}

var scanKernels = []scanKernel{{"dot", DotBatch}, {"l2", L2SquaredBatch}, {"l1", L1Batch}}

// scanInput returns a query and n*dim data values totalling about size bytes.
func scanInput(dim, size int) (q, data, out []float32) {
	r := rand.New(rand.NewPCG(2, uint64(dim)))
	q = randVec(r, dim, 1)
	n := size / 4 / dim
	if size == largeBytes {
		data = largeData()[:n*dim]
	} else {
		data = randVec(r, n*dim, 1)
	}
	return q, data, make([]float32, n)
}

// BenchmarkScan is the exact-search hot path: one query against every vector
// of a data set that fits in cache (1 MiB) or not (1 GiB), on one goroutine.
// MB/s is vector data scanned.
func BenchmarkScan(b *testing.B) {
	b.Logf("impl=%s", Impl())
	for _, k := range scanKernels {
		for _, dim := range benchDims {
			for _, size := range []struct {
				name  string
				bytes int
			}{{"inCache", inCacheBytes}, {"large", largeBytes}} {
				b.Run(fmt.Sprintf("%s/dim=%d/size=%s", k.name, dim, size.name), func(b *testing.B) {
					q, data, out := scanInput(dim, size.bytes)
					b.SetBytes(int64(len(data) * 4))
					b.ReportAllocs()
					for b.Loop() {
						k.f(q, data, out)
					}
					b.ReportMetric(float64(len(out))*float64(b.N)/b.Elapsed().Seconds(), "vecs/s")
				})
			}
		}
	}
}

// BenchmarkScanParallel splits the large scan into GOMAXPROCS contiguous
// parts, one goroutine each: the throughput of all cores together.
func BenchmarkScanParallel(b *testing.B) {
	b.Logf("impl=%s", Impl())
	p := runtime.GOMAXPROCS(0)
	for _, k := range scanKernels {
		for _, dim := range benchDims {
			b.Run(fmt.Sprintf("%s/dim=%d/size=large", k.name, dim), func(b *testing.B) {
				q, data, out := scanInput(dim, largeBytes)
				n := len(out)
				b.SetBytes(int64(len(data) * 4))
				b.ReportAllocs()
				run := startWorkers(p, func(w int) {
					lo, hi := w*n/p, (w+1)*n/p
					k.f(q, data[lo*dim:hi*dim], out[lo:hi])
				})
				defer run(nil)
				for b.Loop() {
					run(b)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "vecs/s")
			})
		}
	}
}

// BenchmarkIsFinite reads data with almost no arithmetic: with the AVX
// kernels it is a plain read-bandwidth reference for the scans above.
func BenchmarkIsFinite(b *testing.B) {
	b.Logf("impl=%s", Impl())
	for _, size := range []struct {
		name  string
		bytes int
	}{{"inCache", inCacheBytes}, {"large", largeBytes}} {
		b.Run("size="+size.name, func(b *testing.B) {
			_, data, _ := scanInput(16, size.bytes)
			b.SetBytes(int64(len(data) * 4))
			b.ReportAllocs()
			for b.Loop() {
				sinkInt += IsFinite(data)
			}
		})
	}
	b.Run("size=large/parallel", func(b *testing.B) {
		data := largeData()
		p := runtime.GOMAXPROCS(0)
		b.SetBytes(int64(len(data) * 4))
		b.ReportAllocs()
		res := make([]int, p)
		run := startWorkers(p, func(w int) {
			res[w] = IsFinite(data[w*len(data)/p : (w+1)*len(data)/p])
		})
		defer run(nil)
		for b.Loop() {
			run(b)
		}
		sinkInt += res[0]
	})
}

// startWorkers starts p goroutines that each call work(w) once per run(b)
// call; run returns when all p are done. run(nil) stops the workers. The
// goroutines are started once so that the measured loop neither allocates
// nor pays goroutine start-up.
func startWorkers(p int, work func(w int)) (run func(b *testing.B)) {
	start := make([]chan bool, p)
	done := make(chan struct{})
	for w := range p {
		start[w] = make(chan bool)
		go func() {
			for <-start[w] {
				work(w)
				done <- struct{}{}
			}
		}()
	}
	return func(b *testing.B) {
		for w := range p {
			start[w] <- b != nil
		}
		if b != nil {
			for range p {
				<-done
			}
		}
	}
}
