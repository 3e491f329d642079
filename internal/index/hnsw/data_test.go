package hnsw

// Test-only readers for the shared benchmark data sets (texmex .fvecs,
// .bvecs and .ivecs files plus meta.json, as written by
// /work/shared/bench/build_datasets.py). internal/dataset has the
// production reader, but index/... may not import it.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/vector"
)

// benchSet is a loaded data set: base vectors, queries and the exact top-100
// ground truth (base row numbers).
type benchSet struct {
	name    string
	metric  flat.Metric
	dim, n  int
	base    []float32
	queries []float32
	nq      int
	gt      []int32
	gtK     int
}

// benchDir is where the data sets live.
func benchDir() string {
	if d := os.Getenv("STRATA_BENCH_DATA"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "strata-bench")
}

// readVecs reads a texmex file of records "int32 dim, dim values of elem
// bytes"; conv decodes one value.
func readVecs(path string, elem int, conv func([]byte) float32) (out []float32, n, dim int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(b) < 4 {
		return nil, 0, 0, fmt.Errorf("%s: too short", path)
	}
	dim = int(int32(binary.LittleEndian.Uint32(b)))
	rec := 4 + dim*elem
	if dim <= 0 || len(b)%rec != 0 {
		return nil, 0, 0, fmt.Errorf("%s: bad dimension %d for %d bytes", path, dim, len(b))
	}
	n = len(b) / rec
	out = make([]float32, 0, n*dim)
	for i := 0; i < n; i++ {
		r := b[i*rec : (i+1)*rec]
		if int(int32(binary.LittleEndian.Uint32(r))) != dim {
			return nil, 0, 0, fmt.Errorf("%s: record %d has another dimension", path, i)
		}
		for j := 0; j < dim; j++ {
			out = append(out, conv(r[4+j*elem:]))
		}
	}
	return out, n, dim, nil
}

func readAnyVecs(path string) ([]float32, int, int, error) {
	switch filepath.Ext(path) {
	case ".bvecs":
		return readVecs(path, 1, func(b []byte) float32 { return float32(b[0]) })
	case ".ivecs":
		return readVecs(path, 4, func(b []byte) float32 { return float32(int32(binary.LittleEndian.Uint32(b))) })
	}
	return readVecs(path, 4, func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) })
}

var (
	benchSetsMu sync.Mutex
	benchSets   = map[string]*benchSet{}
)

// loadBenchSet loads a data set once per process, or skips tb when it is
// missing.
func loadBenchSet(tb testing.TB, name string) *benchSet {
	tb.Helper()
	benchSetsMu.Lock()
	defer benchSetsMu.Unlock()
	if s, ok := benchSets[name]; ok {
		return s
	}
	dir := filepath.Join(benchDir(), name)
	raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		tb.Skipf("data set %s not available: %v", name, err)
	}
	var meta struct {
		Metric    string `json:"metric"`
		BaseFile  string `json:"base_file"`
		QueryFile string `json:"query_file"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		tb.Fatalf("%s/meta.json: %v", dir, err)
	}
	s := &benchSet{name: name}
	if s.base, s.n, s.dim, err = readAnyVecs(filepath.Join(dir, meta.BaseFile)); err != nil {
		tb.Fatal(err)
	}
	var qdim int
	if s.queries, s.nq, qdim, err = readAnyVecs(filepath.Join(dir, meta.QueryFile)); err != nil {
		tb.Fatal(err)
	}
	gt, ngt, k, err := readVecs(filepath.Join(dir, "gt.ivecs"), 4, func(b []byte) float32 {
		return math.Float32frombits(binary.LittleEndian.Uint32(b)) // raw bits, reinterpreted below
	})
	if err != nil {
		tb.Fatal(err)
	}
	if qdim != s.dim || ngt != s.nq {
		tb.Fatalf("%s: query dim %d / ground truth rows %d do not match base dim %d / %d queries", name, qdim, ngt, s.dim, s.nq)
	}
	s.gtK = k
	s.gt = make([]int32, len(gt))
	for i, v := range gt {
		s.gt[i] = int32(math.Float32bits(v))
	}
	switch meta.Metric {
	case "l2":
		s.metric = flat.MetricL2
	case "angular", "cos", "cosine", "ip":
		s.metric = flat.MetricDot
		for _, v := range [][]float32{s.base, s.queries} {
			for i := 0; i+s.dim <= len(v); i += s.dim {
				vector.Normalize(v[i : i+s.dim])
			}
		}
	default:
		tb.Fatalf("%s: unknown metric %q", name, meta.Metric)
	}
	benchSets[name] = s
	return s
}

// recall10 returns recall@10 of results (one slice per query) against the
// ground truth.
func (s *benchSet) recall10(res [][]flat.Candidate) float64 {
	hits := 0
	for qi, r := range res {
		gt := s.gt[qi*s.gtK : qi*s.gtK+10]
		for _, c := range r {
			for _, id := range gt {
				if int32(c.Off) == id {
					hits++
					break
				}
			}
		}
	}
	return float64(hits) / float64(10*len(res))
}

// benchGraph builds (or reads from STRATA_HNSW_CACHE, a directory, when
// set) the graph of s with M=16, efConstruction=200 and 2 threads, the
// native hnswlib anchor's parameters.
func benchGraph(tb testing.TB, s *benchSet) *Graph {
	tb.Helper()
	p := Params{M: 16, EfConstruction: 200, Seed: 1}
	var path string
	if dir := os.Getenv("STRATA_HNSW_CACHE"); dir != "" {
		path = filepath.Join(dir, fmt.Sprintf("%s-M%d-efc%d.hnsw", s.name, p.M, p.EfConstruction))
		if b, err := os.ReadFile(path); err == nil {
			if g, err := Decode(b, s.metric, s.dim, s.base, true); err == nil {
				return g
			}
		}
	}
	g := mustBuild(tb, p, s.metric, s.dim, s.base, allOffsets(s.n), 2)
	if path != "" {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, g.AppendBinary(nil), 0o644); err != nil {
			tb.Log(err)
		}
	}
	return g
}
