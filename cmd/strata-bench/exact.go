package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/internal/dataset"
)

// ExactPass is one way of running the queries.
type ExactPass struct {
	Name    string    `json:"name"`
	Batch   int       `json:"batch"` // 1: one Search per query; else SearchBatch of this many
	Threads int       `json:"threads"`
	NQ      int       `json:"nq"`
	QPS     float64   `json:"qps_median"`
	QPSAll  []float64 `json:"qps_all"`
	// Latency of one call (a query, or a batch), pooled over the repetitions.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	// Recall is recall@k against gt.ivecs; RecallTies also counts a hit
	// whose distance equals the k-th true distance (within float32
	// rounding), so that ties broken differently are not misses.
	Recall     float64 `json:"recall"`
	RecallTies float64 `json:"recall_ties,omitempty"`
	// DiffersFromFirst counts queries whose result ids differ from those of
	// the first pass: exact search should give the same answer however it
	// is run.
	DiffersFromFirst int `json:"differs_from_first_pass"`

	FaissQPS   float64 `json:"faiss_qps,omitempty"`
	FaissNQ    int     `json:"faiss_nq,omitempty"`
	FaissRatio float64 `json:"strata_over_faiss,omitempty"`
}

type ExactResult struct {
	Env        Env         `json:"env"`
	Dataset    string      `json:"dataset"`
	N          int         `json:"n"`
	Dim        int         `json:"dim"`
	Metric     string      `json:"metric"`
	Distance   string      `json:"distance"`
	K          int         `json:"k"`
	LoadS      float64     `json:"load_s"`
	BuildS     float64     `json:"build_s"`
	OptimizeS  float64     `json:"optimize_s"`
	Segments   int         `json:"segments"`
	Reps       int         `json:"reps"`
	Passes     []ExactPass `json:"passes"`
	AnchorFile string      `json:"anchor_file,omitempty"`
	AnchorTime string      `json:"anchor_time,omitempty"`
	AnchorCPU  string      `json:"anchor_cpu,omitempty"`
}

// dataDir resolves -data: a directory, or a data set name under
// $STRATA_BENCH_DATA (default ~/.cache/strata-bench).
func dataDir(s string) string {
	if fi, err := os.Stat(s); err == nil && fi.IsDir() || strings.ContainsRune(s, os.PathSeparator) {
		return s
	}
	return filepath.Join(benchDataRoot(), s)
}

func benchDataRoot() string {
	if d := os.Getenv("STRATA_BENCH_DATA"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "strata-bench")
}

func distanceFor(metric string) (strata.Distance, error) {
	switch metric {
	case dataset.MetricL2:
		return strata.Euclid, nil
	case dataset.MetricCosine:
		return strata.Cosine, nil
	case dataset.MetricDot:
		return strata.Dot, nil
	}
	return 0, fmt.Errorf("no distance for metric %q", metric)
}

func runExact(args []string) error {
	fs := flag.NewFlagSet("exact", flag.ExitOnError)
	var c common
	c.register(fs)
	data := fs.String("data", "", "data set directory, or a name under $STRATA_BENCH_DATA (default ~/.cache/strata-bench)")
	nq := fs.Int("nq", 1000, "queries (the first nq of the data set)")
	k := fs.Int("k", 10, "neighbours per query (recall@k)")
	batchFlag := fs.String("batch", "64", "comma-separated SearchBatch sizes")
	reps := fs.Int("reps", 3, "timed repetitions per pass; QPS is the median")
	writers := fs.Int("writers", 2, "writer goroutines while building")
	flush := fs.Int("flush", 0, "FlushThreshold (0: the engine default)")
	passesFlag := fs.String("passes", "q-all,q-1,b-all,b-1", "passes to run: q-all / q-1 (one Search per query, GOMAXPROCS all / 1), b-all / b-1 (SearchBatch)")
	anchor := fs.String("anchors", "", "anchors.py results JSON for FAISS ratios (default: $STRATA_BENCH_DATA/results/anchors-NAME.json if present; \"none\" to skip)")
	_ = fs.Parse(args)
	if *data == "" {
		return errors.New("-data is required")
	}
	batches, err := parseInts(*batchFlag)
	if err != nil {
		return fmt.Errorf("-batch: %w", err)
	}
	for _, b := range batches {
		if b > strata.MaxSearchBatch {
			return fmt.Errorf("-batch %d exceeds strata.MaxSearchBatch (%d)", b, strata.MaxSearchBatch)
		}
	}
	res := ExactResult{Env: newEnv(), K: *k, Reps: *reps}
	t := time.Now()
	set, err := dataset.Load(dataDir(*data))
	if err != nil {
		return err
	}
	res.LoadS = time.Since(t).Seconds()
	res.Dataset, res.N, res.Dim, res.Metric = set.Name, set.N, set.Dim, set.Metric
	if *nq > set.NQ || *nq < 1 {
		return fmt.Errorf("-nq %d: the data set has %d queries", *nq, set.NQ)
	}
	if *k < 1 || *k > len(set.GT[0]) {
		return fmt.Errorf("-k %d: the ground truth has %d neighbours per query", *k, len(set.GT[0]))
	}
	dist, err := distanceFor(set.Metric)
	if err != nil {
		return err
	}
	res.Distance = fmt.Sprint(dist)
	logf("loaded %s: %d x %d (%s -> %s), %d queries, in %.1f s", set.Name, set.N, set.Dim, set.Metric, dist, set.NQ, res.LoadS)

	dir, err := c.tempDir("exact")
	if err != nil {
		return err
	}
	defer c.cleanup(dir)
	db, err := strata.Open(dir, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	coll, err := buildExact(db, set, dist, *writers, *flush, &res)
	if err != nil {
		return err
	}

	reqs := make([]strata.SearchRequest, *nq)
	for i := range reqs {
		reqs[i] = strata.SearchRequest{Vector: set.Query(i), Limit: *k, Exact: true}
	}
	// Warm up: page in the vectors and the code paths.
	for i := range min(*nq, 50) {
		if _, err := coll.Search(context.Background(), reqs[i]); err != nil {
			return err
		}
	}

	all := runtime.GOMAXPROCS(0)
	type spec struct{ batch, threads int }
	want := map[string]bool{}
	for _, p := range strings.Split(*passesFlag, ",") {
		switch p = strings.TrimSpace(p); p {
		case "q-all", "q-1", "b-all", "b-1":
			want[p] = true
		default:
			return fmt.Errorf("-passes: unknown pass %q", p)
		}
	}
	var specs []spec
	if want["q-all"] {
		specs = append(specs, spec{1, all})
	}
	if want["q-1"] {
		specs = append(specs, spec{1, 1})
	}
	for _, b := range batches {
		if want["b-all"] {
			specs = append(specs, spec{b, all})
		}
		if want["b-1"] {
			specs = append(specs, spec{b, 1})
		}
	}
	stop, err := c.startProfile()
	if err != nil {
		return err
	}
	var first [][]uint64
	for _, s := range specs {
		p, ids, scores, err := runPass(coll, reqs, s.batch, s.threads, *reps)
		if err != nil {
			stop()
			return err
		}
		p.Recall, p.RecallTies = recall(set, ids, scores, dist, *k)
		if first == nil {
			first = ids
		}
		for i := range ids {
			if !slices.Equal(ids[i], first[i]) {
				p.DiffersFromFirst++
			}
		}
		logf("%s: %.0f QPS (runs %s), p50 %.2f ms, p99 %.2f ms, recall@%d %.4f (ties %.4f), differs from first pass: %d",
			p.Name, p.QPS, fmtList(p.QPSAll, "%.0f"), p.P50Ms, p.P99Ms, *k, p.Recall, p.RecallTies, p.DiffersFromFirst)
		res.Passes = append(res.Passes, p)
	}
	stop()

	if *anchor != "none" {
		path := *anchor
		if path == "" {
			root := os.Getenv("STRATA_BENCH_RESULTS")
			if root == "" {
				root = filepath.Join(benchDataRoot(), "results")
			}
			path = filepath.Join(root, "anchors-"+set.Name+".json")
			if _, err := os.Stat(path); err != nil {
				path = ""
			}
		}
		if path != "" {
			if err := applyAnchor(path, &res); err != nil {
				return fmt.Errorf("anchors: %w", err)
			}
		}
	}
	res.Env.finish()
	return c.emit(res, func(w io.Writer) { res.table(w) })
}

func (res *ExactResult) table(w io.Writer) {
	res.Env.table(w)
	fmt.Fprintf(w, "# %s: %d x %d, %s (%s), k=%d; build %.1f s + optimize %.1f s -> %d segments; QPS median of %d runs\n",
		res.Dataset, res.N, res.Dim, res.Metric, res.Distance, res.K, res.BuildS, res.OptimizeS, res.Segments, res.Reps)
	if res.AnchorFile != "" {
		fmt.Fprintf(w, "# FAISS anchor: %s (measured %s)\n", res.AnchorFile, res.AnchorTime)
	}
	fmt.Fprintf(w, "pass\tnq\tQPS\tp50 ms\tp99 ms\trecall@%d\tties\tdiffers\tFAISS QPS\tStrata/FAISS\tQPS (all runs)\t\n", res.K)
	for _, p := range res.Passes {
		fq, fr := "-", "-"
		if p.FaissQPS > 0 {
			fq, fr = fmt.Sprintf("%.0f (nq %d)", p.FaissQPS, p.FaissNQ), fmt.Sprintf("%.2f", p.FaissRatio)
		}
		fmt.Fprintf(w, "%s\t%d\t%.0f\t%.2f\t%.2f\t%.4f\t%.4f\t%d\t%s\t%s\t%s\t\n", p.Name, p.NQ, p.QPS, p.P50Ms, p.P99Ms,
			p.Recall, p.RecallTies, p.DiffersFromFirst, fq, fr, fmtList(p.QPSAll, "%.0f"))
	}
}

// buildExact loads the data set's base vectors into a new collection (ids
// are row numbers) and optimizes it.
func buildExact(db *strata.DB, set *dataset.Set, dist strata.Distance, writers, flush int, res *ExactResult) (*strata.Collection, error) {
	ctx := context.Background()
	coll, err := db.CreateCollection(ctx, "bench", strata.CollectionConfig{
		Vectors: map[string]strata.VectorParams{"": {Size: set.Dim, Distance: dist}},
		// No HNSW graphs: this measures the exact scan alone.
		Optimizers: strata.OptimizersConfig{FlushThreshold: flush, IndexingThresholdKB: -1},
	})
	if err != nil {
		return nil, err
	}
	const batch = 1000
	nb := (set.N + batch - 1) / batch
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	t := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pts := make([]strata.Point, 0, batch)
			for {
				b := int(next.Add(1) - 1)
				if b >= nb {
					return
				}
				pts = pts[:0]
				for i := b * batch; i < min((b+1)*batch, set.N); i++ {
					pts = append(pts, strata.Point{ID: strata.NumID(uint64(i)), Vector: set.Row(i)})
				}
				if err := coll.Upsert(ctx, pts); err != nil {
					errs[w] = err
					next.Store(int64(nb))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	res.BuildS = time.Since(t).Seconds()
	t = time.Now()
	if err := coll.Optimize(ctx); err != nil {
		return nil, err
	}
	res.OptimizeS = time.Since(t).Seconds()
	info, err := coll.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.PointsCount != set.N {
		return nil, fmt.Errorf("collection holds %d points, want %d", info.PointsCount, set.N)
	}
	res.Segments = info.SegmentsCount
	logf("built in %.1f s, optimize %.1f s, %d segments", res.BuildS, res.OptimizeS, res.Segments)
	return coll, nil
}

// runPass runs every request reps times, batch at a time (1: Search, else
// SearchBatch) with GOMAXPROCS set to threads, and returns the timing and
// the last repetition's ids and scores.
func runPass(coll *strata.Collection, reqs []strata.SearchRequest, batch, threads, reps int) (ExactPass, [][]uint64, [][]float32, error) {
	ctx := context.Background()
	p := ExactPass{Batch: batch, Threads: threads, NQ: len(reqs)}
	if batch == 1 {
		p.Name = fmt.Sprintf("per-query, %d thread(s)", threads)
	} else {
		p.Name = fmt.Sprintf("batch %d, %d thread(s)", batch, threads)
	}
	prev := runtime.GOMAXPROCS(threads)
	defer runtime.GOMAXPROCS(prev)
	ids := make([][]uint64, len(reqs))
	scores := make([][]float32, len(reqs))
	var lat []float64
	for range reps {
		runtime.GC() // not inside the timed loop
		start := time.Now()
		for lo := 0; lo < len(reqs); lo += batch {
			hi := min(lo+batch, len(reqs))
			t := time.Now()
			var out [][]strata.ScoredPoint
			if batch == 1 {
				hits, err := coll.Search(ctx, reqs[lo])
				if err != nil {
					return p, nil, nil, err
				}
				out = [][]strata.ScoredPoint{hits}
			} else {
				var err error
				if out, err = coll.SearchBatch(ctx, reqs[lo:hi]); err != nil {
					return p, nil, nil, err
				}
			}
			lat = append(lat, ms(time.Since(t)))
			for j, hits := range out {
				ids[lo+j] = ids[lo+j][:0]
				scores[lo+j] = scores[lo+j][:0]
				for _, h := range hits {
					ids[lo+j] = append(ids[lo+j], h.ID.Num())
					scores[lo+j] = append(scores[lo+j], h.Score)
				}
			}
		}
		p.QPSAll = append(p.QPSAll, float64(len(reqs))/time.Since(start).Seconds())
	}
	p.QPS = median(p.QPSAll)
	p.P50Ms, p.P99Ms = median(lat), percentile(lat, 99)
	return p, ids, scores, nil
}

// recall returns recall@k against the ground truth and, when the data set
// has gt_dist, the recall that also counts a returned point as correct if
// its distance is within float32 rounding of the k-th true distance.
func recall(set *dataset.Set, ids [][]uint64, scores [][]float32, dist strata.Distance, k int) (plain, ties float64) {
	var hits, tieHits int
	for q := range ids {
		gt := set.GT[q][:k]
		var kth float64
		haveDist := set.GTDist != nil && len(set.GTDist[q]) >= k && (dist == strata.Euclid || dist == strata.Cosine)
		if haveDist {
			kth = float64(set.GTDist[q][k-1])
		}
		for j, id := range ids[q] {
			if j >= k {
				break
			}
			if slices.Contains(gt, int32(id)) {
				hits++
				tieHits++
				continue
			}
			if !haveDist {
				continue
			}
			// gt_dist holds squared L2 for l2 and 1 - cosine for angular.
			s := float64(scores[q][j])
			var d, tol float64
			if dist == strata.Euclid {
				d, tol = s*s, 1e-4*kth+1e-6
			} else {
				d, tol = 1-s, 2e-5
			}
			if d <= kth+tol {
				tieHits++
			}
		}
	}
	total := float64(len(ids) * k)
	plain = float64(hits) / total
	if set.GTDist != nil {
		ties = float64(tieHits) / total
	}
	return plain, ties
}

// anchorFile is the part of anchors.py's output used here.
type anchorFile struct {
	Env struct {
		Time string `json:"time"`
		CPU  string `json:"cpu"`
	} `json:"env"`
	Results []struct {
		Name   string `json:"name"`
		Error  string `json:"error"`
		Points []struct {
			Param   string  `json:"param"`
			Threads int     `json:"threads"`
			QPS     float64 `json:"qps"`
			NQ      int     `json:"nq"`
			Recall  float64 `json:"recall@10"`
		} `json:"points"`
	} `json:"results"`
}

// applyAnchor fills in the FAISS flat figures that match each pass: the
// per-query exact scan or the batched (BLAS) search, with as many threads.
func applyAnchor(path string, res *ExactResult) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var a anchorFile
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	res.AnchorFile, res.AnchorTime, res.AnchorCPU = path, a.Env.Time, a.Env.CPU
	found := false
	for _, r := range a.Results {
		if r.Name != "faiss-flat" || r.Error != "" {
			continue
		}
		for _, pt := range r.Points {
			for i := range res.Passes {
				p := &res.Passes[i]
				if p.Threads != pt.Threads || (p.Batch == 1) != (pt.Param == "per-query") || pt.QPS <= 0 {
					continue
				}
				found = true
				p.FaissQPS, p.FaissNQ = pt.QPS, pt.NQ
				p.FaissRatio = p.QPS / pt.QPS
			}
		}
	}
	if !found {
		logf("%s has no faiss-flat results", path)
	}
	if t, err := time.Parse("2006-01-02T15:04:05-0700", a.Env.Time); err == nil && time.Since(t) > 2*time.Hour {
		logf("warning: the FAISS anchor was measured %s ago; re-run anchors.py in this session", time.Since(t).Round(time.Minute))
	}
	return nil
}
