package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Metrics, as normalised by Load.
const (
	MetricL2     = "l2"  // Euclidean distance
	MetricCosine = "cos" // cosine similarity (angular)
	MetricDot    = "ip"  // inner product
)

// Set is a benchmark data set: base vectors, query vectors and the exact
// nearest neighbours of each query.
type Set struct {
	Name   string
	Dir    string
	Metric string // MetricL2, MetricCosine or MetricDot

	Base    []float32 // N rows of Dim values
	N, Dim  int
	Queries []float32 // NQ rows of Dim values
	NQ      int
	// GT holds for each query the row numbers in Base of its nearest
	// neighbours, best first.
	GT [][]int32
	// GTDist, if the directory has gt_dist.fvecs, holds the matching
	// distances (squared L2 for l2, 1 - cosine for cos), else nil.
	GTDist [][]float32

	// Files names the files read, by role (base, query, gt, gt_dist).
	Files map[string]string
	// Meta is meta.json as decoded.
	Meta map[string]any
}

// Row returns base vector i.
func (s *Set) Row(i int) []float32 { return s.Base[i*s.Dim : (i+1)*s.Dim] }

// Query returns query vector i.
func (s *Set) Query(i int) []float32 { return s.Queries[i*s.Dim : (i+1)*s.Dim] }

// NormalizeMetric maps the metric names in use (l2, euclidean, angular,
// cosine, ip, dot, ...) to MetricL2, MetricCosine or MetricDot.
func NormalizeMetric(m string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(m)) {
	case "l2", "euclidean", "euclid":
		return MetricL2, nil
	case "cos", "cosine", "angular":
		return MetricCosine, nil
	case "ip", "dot", "inner_product", "innerproduct":
		return MetricDot, nil
	}
	return "", fmt.Errorf("unknown metric %q (expected l2/euclidean, cos/angular/cosine or ip/dot)", m)
}

// ReadVectors reads a .fvecs, .bvecs or .npy file, chosen by extension.
func ReadVectors(path string) (data []float32, n, dim int, err error) {
	switch filepath.Ext(path) {
	case ".fvecs":
		return ReadFvecs(path)
	case ".bvecs":
		return ReadBvecs(path)
	case ".npy":
		return ReadNpy(path)
	}
	return nil, 0, 0, fmt.Errorf("%s: unknown vector file type (expected .fvecs, .bvecs or .npy)", path)
}

// findVectors returns the file for role ("base" or "query"): the one
// meta.json names, else the single base.{fvecs,bvecs,npy} present.
func findVectors(dir, role string, meta map[string]any) (string, error) {
	if name, ok := meta[role+"_file"].(string); ok && name != "" {
		if name != filepath.Base(name) {
			return "", fmt.Errorf("%s: meta.json %s_file %q must be a plain file name", dir, role, name)
		}
		return filepath.Join(dir, name), nil
	}
	var found []string
	for _, ext := range []string{".fvecs", ".bvecs", ".npy"} {
		p := filepath.Join(dir, role+ext)
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%s: no %s.fvecs, %s.bvecs or %s.npy", dir, role, role, role)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%s: several %s files (%s); name one in meta.json %s_file", dir, role, strings.Join(found, ", "), role)
}

// Load reads the data set in dir: meta.json (for the metric), base.* and
// query.* (.fvecs, .bvecs or .npy), gt.ivecs, and gt_dist.fvecs if
// present. It checks that the parts agree: equal dimensions, a ground-truth
// row per query, ids within the base, and the counts meta.json states.
func Load(dir string) (*Set, error) {
	s := &Set{Name: filepath.Base(filepath.Clean(dir)), Dir: dir, Files: map[string]string{}}
	mb, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	if err := json.Unmarshal(mb, &s.Meta); err != nil {
		return nil, fmt.Errorf("dataset %s: meta.json: %w", dir, err)
	}
	if s.Meta == nil {
		return nil, fmt.Errorf("dataset %s: meta.json is not a JSON object", dir)
	}
	if name, ok := s.Meta["name"].(string); ok && name != "" {
		s.Name = name
	}
	m, ok := s.Meta["metric"].(string)
	if !ok {
		return nil, fmt.Errorf("dataset %s: meta.json has no string \"metric\"", dir)
	}
	if s.Metric, err = NormalizeMetric(m); err != nil {
		return nil, fmt.Errorf("dataset %s: meta.json: %w", dir, err)
	}

	if s.Files["base"], err = findVectors(dir, "base", s.Meta); err != nil {
		return nil, err
	}
	if s.Files["query"], err = findVectors(dir, "query", s.Meta); err != nil {
		return nil, err
	}
	if s.Base, s.N, s.Dim, err = ReadVectors(s.Files["base"]); err != nil {
		return nil, err
	}
	var qdim int
	if s.Queries, s.NQ, qdim, err = ReadVectors(s.Files["query"]); err != nil {
		return nil, err
	}
	if qdim != s.Dim {
		return nil, fmt.Errorf("dataset %s: queries have dimension %d, base vectors %d", dir, qdim, s.Dim)
	}
	if err := checkCount(s.Meta, "n_base", s.N); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	if err := checkCount(s.Meta, "n_query", s.NQ); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	if err := checkCount(s.Meta, "dim", s.Dim); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}

	s.Files["gt"] = filepath.Join(dir, "gt.ivecs")
	if s.GT, err = ReadIvecs(s.Files["gt"]); err != nil {
		return nil, err
	}
	if len(s.GT) != s.NQ {
		return nil, fmt.Errorf("dataset %s: gt.ivecs has %d rows for %d queries", dir, len(s.GT), s.NQ)
	}
	for qi, row := range s.GT {
		for j, id := range row {
			if id < 0 || int(id) >= s.N {
				return nil, fmt.Errorf("dataset %s: gt.ivecs row %d entry %d: id %d is outside the base (0..%d)", dir, qi, j, id, s.N-1)
			}
		}
	}

	distPath := filepath.Join(dir, "gt_dist.fvecs")
	flat, nd, k, err := ReadFvecs(distPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	case nd != s.NQ:
		return nil, fmt.Errorf("dataset %s: gt_dist.fvecs has %d rows for %d queries", dir, nd, s.NQ)
	default:
		s.Files["gt_dist"] = distPath
		s.GTDist = make([][]float32, nd)
		for i := range s.GTDist {
			s.GTDist[i] = flat[i*k : (i+1)*k : (i+1)*k]
		}
	}
	return s, nil
}

// checkCount compares an integer field of meta.json, if present, with got.
func checkCount(meta map[string]any, key string, got int) error {
	v, ok := meta[key]
	if !ok {
		return nil
	}
	f, ok := v.(float64)
	if !ok {
		return fmt.Errorf("meta.json %q is %v, not a number", key, v)
	}
	if int(f) != got {
		return fmt.Errorf("meta.json says %s = %v, the files hold %d", key, v, got)
	}
	return nil
}
