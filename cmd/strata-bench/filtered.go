package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/internal/dataset"
)

// FilteredPoint is one hnsw_ef setting under one filter.
type FilteredPoint struct {
	Ef     int     `json:"ef"`
	Recall float64 `json:"recall"`
	QPS1   float64 `json:"qps_1_thread"`
	QPS2   float64 `json:"qps_2_threads"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	// Short counts queries answered with fewer hits than the ground truth has.
	Short int `json:"short"`
}

// FilteredCase is one filter: its selectivity, the exact (brute force)
// search that gives the ground truth, and the sweep over hnsw_ef.
type FilteredCase struct {
	Name        string  `json:"name"`
	Filter      string  `json:"filter"`
	Matches     int     `json:"matches"`
	Selectivity float64 `json:"selectivity"`
	// ExactQPS is Exact: true search under the filter, one query at a time
	// on all threads (the ground-truth pass).
	ExactQPS float64 `json:"exact_qps"`
	// ExactRecallGT is the exact pass's recall@k against gt.ivecs (the
	// unfiltered case only: a check of the ground truth itself).
	ExactRecallGT float64         `json:"exact_recall_vs_gt_ivecs,omitempty"`
	Points        []FilteredPoint `json:"points"`
	// The lowest ef whose recall reaches the target, its 1-thread QPS, and
	// that QPS over the unfiltered one at its own lowest such ef.
	TargetEf    int     `json:"target_ef,omitempty"`
	TargetQPS   float64 `json:"target_qps_1_thread,omitempty"`
	TargetRatio float64 `json:"target_ratio_to_unfiltered,omitempty"`

	Faiss *faissCase `json:"faiss,omitempty"`
}

// FilteredResult is the output of the filtered subcommand.
type FilteredResult struct {
	Env         Env            `json:"env"`
	Dataset     string         `json:"dataset"`
	N           int            `json:"n"`
	Dim         int            `json:"dim"`
	Distance    string         `json:"distance"`
	M           int            `json:"m"`
	EfConstruct int            `json:"ef_construct"`
	K           int            `json:"k"`
	NQ          int            `json:"nq"`
	Reps        int            `json:"reps"`
	Seed        uint64         `json:"seed"`
	Target      float64        `json:"target_recall"`
	UpsertS     float64        `json:"upsert_s"`
	SealS       float64        `json:"seal_s"`
	GraphS      float64        `json:"graph_build_s"`
	FieldIndexS float64        `json:"payload_index_build_s"`
	Segments    int            `json:"segments"`
	Cases       []FilteredCase `json:"cases"`
	AnchorFile  string         `json:"anchor_file,omitempty"`
	AnchorTime  string         `json:"anchor_time,omitempty"`
}

// The synthetic payload: "sel" holds the tags whose probabilities are
// below (drawn independently), "n" is uniform in [0, 1,000,000).
var selTags = []struct {
	tag  string
	prob float64
}{{"p50", 0.5}, {"p10", 0.1}, {"p1", 0.01}, {"p01", 0.001}}

func filteredCases() []struct {
	name   string
	filter *strata.Filter
} {
	type c = struct {
		name   string
		filter *strata.Filter
	}
	out := []c{{"none", nil}}
	for _, t := range selTags {
		out = append(out, c{"sel=" + t.tag, &strata.Filter{Must: []strata.Condition{strata.MatchValue("sel", t.tag)}}})
	}
	lt := 100_000.0
	out = append(out, c{"n<100000", &strata.Filter{Must: []strata.Condition{{Key: "n", Range: &strata.Range{LT: &lt}}}}})
	return out
}

// runFiltered measures filtered search: recall@k against exact filtered
// search and QPS on 1 and 2 threads, at every selectivity and hnsw_ef.
func runFiltered(args []string) error {
	fs := flag.NewFlagSet("filtered", flag.ExitOnError)
	var c common
	c.register(fs)
	data := fs.String("data", "", "data set directory, or a name under $STRATA_BENCH_DATA")
	nq := fs.Int("nq", 500, "queries (the first nq of the data set)")
	k := fs.Int("k", 10, "recall@k")
	m := fs.Int("m", 16, "HNSW m")
	efc := fs.Int("ef-construct", 200, "HNSW ef_construct")
	efsFlag := fs.String("ef", "16,32,64,128,256", "comma-separated hnsw_ef values")
	reps := fs.Int("reps", 3, "timed repetitions per setting; QPS is the median")
	seed := fs.Uint64("seed", 42, "seed of the synthetic payload")
	target := fs.Float64("target", 0.95, "recall for the QPS comparison between filters")
	fullScan := fs.Int("full-scan-kb", 0, "HNSW full_scan_threshold in KiB (0: the default)")
	dump := fs.String("dump", "", "write the filters' masks and ground truth here for scripts/anchors/faiss_postfilter.py")
	anchor := fs.String("anchor", "", "faiss_postfilter.py results (JSON) to print beside Strata's")
	from := fs.String("from", "", "print the results of an earlier run (its -json output) instead of measuring; with -anchor")
	_ = fs.Parse(args)
	if *from != "" {
		return reportFiltered(&c, *from, *anchor)
	}
	if *data == "" {
		return errors.New("-data is required")
	}
	efs, err := parseInts(*efsFlag)
	if err != nil {
		return fmt.Errorf("-ef: %w", err)
	}
	set, err := dataset.Load(dataDir(*data))
	if err != nil {
		return err
	}
	if *nq < 1 || *nq > set.NQ {
		return fmt.Errorf("-nq %d: the data set has %d queries", *nq, set.NQ)
	}
	if *k < 1 || *k > len(set.GT[0]) {
		return fmt.Errorf("-k %d: the ground truth has %d neighbours per query", *k, len(set.GT[0]))
	}
	dist, err := distanceFor(set.Metric)
	if err != nil {
		return err
	}
	res := FilteredResult{Env: newEnv(), Dataset: set.Name, N: set.N, Dim: set.Dim, Distance: dist.String(),
		M: *m, EfConstruct: *efc, K: *k, NQ: *nq, Reps: *reps, Seed: *seed, Target: *target}
	dir, err := c.tempDir("filtered")
	if err != nil {
		return err
	}
	defer c.cleanup(dir)
	ctx := context.Background()
	db, err := strata.Open(dir, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	coll, err := db.CreateCollection(ctx, "bench", strata.CollectionConfig{
		Vectors:    map[string]strata.VectorParams{"": {Size: set.Dim, Distance: dist}},
		Optimizers: strata.OptimizersConfig{FlushThreshold: set.N + 1, MaxSegments: 1, IndexingThresholdKB: 1, Interval: -1},
		HNSW:       strata.HnswConfig{M: *m, EfConstruct: *efc, FullScanThresholdKB: *fullScan},
	})
	if err != nil {
		return err
	}

	// The payload, from a seeded generator, and the filters' masks.
	r := rand.New(rand.NewPCG(*seed, 0xf11))
	cases := filteredCases()
	masks := make([][]bool, len(cases))
	for i := range masks {
		masks[i] = make([]bool, set.N)
	}
	payloads := make([]strata.Payload, set.N)
	for i := range set.N {
		tags := []string{}
		for _, t := range selTags {
			if r.Float64() < t.prob {
				tags = append(tags, t.tag)
			}
		}
		n := r.IntN(1_000_000)
		payloads[i] = strata.Payload{"sel": tags, "n": n}
		masks[0][i] = true
		for j, t := range selTags {
			masks[1+j][i] = slices.Contains(tags, t.tag)
		}
		masks[len(cases)-1][i] = n < 100_000
	}

	t := time.Now()
	for lo := 0; lo < set.N; lo += 1000 {
		pts := make([]strata.Point, 0, 1000)
		for i := lo; i < min(lo+1000, set.N); i++ {
			pts = append(pts, strata.Point{ID: strata.NumID(uint64(i)), Vector: set.Row(i), Payload: payloads[i]})
		}
		if err := coll.Upsert(ctx, pts); err != nil {
			return err
		}
	}
	res.UpsertS = time.Since(t).Seconds()
	t = time.Now()
	if err := coll.Optimize(ctx); err != nil {
		return err
	}
	res.SealS = time.Since(t).Seconds()
	t = time.Now()
	if err := coll.WaitIndexed(ctx); err != nil {
		return err
	}
	res.GraphS = time.Since(t).Seconds()
	t = time.Now()
	if err := coll.CreateFieldIndex(ctx, "sel", strata.FieldSchema{Type: strata.FieldKeyword}); err != nil {
		return err
	}
	if err := coll.CreateFieldIndex(ctx, "n", strata.FieldSchema{Type: strata.FieldInteger}); err != nil {
		return err
	}
	if err := coll.WaitIndexed(ctx); err != nil {
		return err
	}
	res.FieldIndexS = time.Since(t).Seconds()
	info, err := coll.Info(ctx)
	if err != nil {
		return err
	}
	res.Segments = info.SegmentsCount
	logf("upsert %.1f s, seal %.1f s, graph %.1f s, payload indexes %.1f s; %d segments, payload schema %v",
		res.UpsertS, res.SealS, res.GraphS, res.FieldIndexS, res.Segments, info.PayloadSchema)

	stop, err := c.startProfile()
	if err != nil {
		return err
	}
	defer stop()
	gts := make([][][]uint64, len(cases))
	for ci, cs := range cases {
		fc := FilteredCase{Name: cs.name, Filter: filterString(cs.filter)}
		for _, ok := range masks[ci] {
			if ok {
				fc.Matches++
			}
		}
		fc.Selectivity = float64(fc.Matches) / float64(set.N)
		if n, err := coll.Count(ctx, cs.filter); err != nil {
			return err
		} else if n != fc.Matches {
			return fmt.Errorf("%s: Count says %d points match, the payload generator %d", cs.name, n, fc.Matches)
		}
		reqs := make([]strata.SearchRequest, *nq)
		for i := range reqs {
			reqs[i] = strata.SearchRequest{Vector: set.Query(i), Limit: *k, Filter: cs.filter, Exact: true}
		}
		// Ground truth: exact search under the filter; every hit must match.
		gt := make([][]uint64, *nq)
		start := time.Now()
		for i := range reqs {
			hits, err := coll.Search(ctx, reqs[i])
			if err != nil {
				return err
			}
			for _, h := range hits {
				if !masks[ci][h.ID.Num()] {
					return fmt.Errorf("%s: exact search returned %v, which does not match", cs.name, h.ID)
				}
				gt[i] = append(gt[i], h.ID.Num())
			}
			if want := min(*k, fc.Matches); len(gt[i]) != want {
				return fmt.Errorf("%s: exact search returned %d hits, want %d", cs.name, len(gt[i]), want)
			}
		}
		fc.ExactQPS = float64(*nq) / time.Since(start).Seconds()
		gts[ci] = gt
		if cs.filter == nil {
			hit := 0
			for i := range gt {
				for _, id := range gt[i] {
					if slices.Contains(set.GT[i][:*k], int32(id)) {
						hit++
					}
				}
			}
			fc.ExactRecallGT = float64(hit) / float64(*nq**k)
		}
		for i := range reqs {
			reqs[i].Exact = false
		}
		for _, ef := range efs {
			p, err := sweepPoint(coll, reqs, gt, ef, *reps, masks[ci])
			if err != nil {
				return fmt.Errorf("%s, ef %d: %w", cs.name, ef, err)
			}
			logf("%s (%.2f%%): ef %d: recall %.4f, %.0f QPS (1 thread), %.0f QPS (2 threads), p50 %.3f ms, p99 %.3f ms, short %d",
				cs.name, 100*fc.Selectivity, ef, p.Recall, p.QPS1, p.QPS2, p.P50Ms, p.P99Ms, p.Short)
			fc.Points = append(fc.Points, p)
		}
		for _, p := range fc.Points {
			if p.Recall >= *target {
				fc.TargetEf, fc.TargetQPS = p.Ef, p.QPS1
				break
			}
		}
		res.Cases = append(res.Cases, fc)
	}
	stop()
	if base := res.Cases[0].TargetQPS; base > 0 {
		for i := range res.Cases {
			if res.Cases[i].TargetQPS > 0 {
				res.Cases[i].TargetRatio = res.Cases[i].TargetQPS / base
			}
		}
	}
	if *dump != "" {
		if err := dumpFilters(*dump, &res, masks, gts); err != nil {
			return fmt.Errorf("-dump: %w", err)
		}
	}
	if *anchor != "" {
		if err := applyFaissAnchor(*anchor, &res); err != nil {
			return fmt.Errorf("-anchor: %w", err)
		}
	}
	res.Env.finish()
	return c.emit(&res, res.table)
}

// reportFiltered prints an earlier run's results, with a FAISS anchor.
func reportFiltered(c *common, from, anchor string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	var res FilteredResult
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	if anchor != "" {
		if err := applyFaissAnchor(anchor, &res); err != nil {
			return fmt.Errorf("-anchor: %w", err)
		}
	}
	return c.emit(&res, res.table)
}

// sweepPoint runs the queries at one hnsw_ef: recall against gt (and that
// every hit matches), then reps timed passes one query at a time on one
// thread (GOMAXPROCS 1) and with two goroutines (GOMAXPROCS 2).
func sweepPoint(coll *strata.Collection, reqs []strata.SearchRequest, gt [][]uint64, ef, reps int, mask []bool) (FilteredPoint, error) {
	ctx := context.Background()
	p := FilteredPoint{Ef: ef}
	for i := range reqs {
		reqs[i].HnswEf = ef
	}
	hits, total := 0, 0
	for i := range reqs {
		got, err := coll.Search(ctx, reqs[i])
		if err != nil {
			return p, err
		}
		for _, h := range got {
			if !mask[h.ID.Num()] {
				return p, fmt.Errorf("hit %v does not match the filter", h.ID)
			}
			if slices.Contains(gt[i], h.ID.Num()) {
				hits++
			}
		}
		if len(got) < len(gt[i]) {
			p.Short++
		}
		total += len(gt[i])
	}
	p.Recall = float64(hits) / float64(max(1, total))
	var q1, q2, lat []float64
	for range reps {
		runtime.GC()
		prev := runtime.GOMAXPROCS(1)
		start := time.Now()
		for i := range reqs {
			t := time.Now()
			if _, err := coll.Search(ctx, reqs[i]); err != nil {
				runtime.GOMAXPROCS(prev)
				return p, err
			}
			lat = append(lat, ms(time.Since(t)))
		}
		q1 = append(q1, float64(len(reqs))/time.Since(start).Seconds())
		runtime.GOMAXPROCS(2)
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start = time.Now()
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(reqs) {
						return
					}
					if _, err := coll.Search(ctx, reqs[i]); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		q2 = append(q2, float64(len(reqs))/time.Since(start).Seconds())
		runtime.GOMAXPROCS(prev)
		if err := errors.Join(errs...); err != nil {
			return p, err
		}
	}
	p.QPS1, p.QPS2 = median(q1), median(q2)
	p.P50Ms, p.P99Ms = median(lat), percentile(lat, 99)
	return p, nil
}

func filterString(f *strata.Filter) string {
	if f == nil {
		return "-"
	}
	if c := f.Must[0]; c.Match != nil {
		return fmt.Sprintf("%s = %v", c.Key, c.Match.Value)
	} else if c.Range != nil {
		return fmt.Sprintf("%s < %.0f", c.Key, *c.Range.LT)
	}
	return "?"
}

func (res *FilteredResult) table(w io.Writer) {
	res.Env.table(w)
	fmt.Fprintf(w, "data set %s: %d x %d, %s; M %d, ef_construct %d; %d queries, recall@%d against exact filtered search; QPS median of %d runs\n",
		res.Dataset, res.N, res.Dim, res.Distance, res.M, res.EfConstruct, res.NQ, res.K, res.Reps)
	fmt.Fprintf(w, "upsert %.1f s, seal %.1f s, graph build %.1f s, payload indexes (sel keyword, n integer) %.1f s; %d segment(s)\n",
		res.UpsertS, res.SealS, res.GraphS, res.FieldIndexS, res.Segments)
	fmt.Fprintf(w, "\"exact\": Exact: true under the filter (the ground truth), one query at a time with GOMAXPROCS %d\n", res.Env.GOMAXPROCS)
	if res.AnchorFile != "" {
		fmt.Fprintf(w, "FAISS anchor: %s (measured %s)\n", res.AnchorFile, res.AnchorTime)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "filter\tmatches\tef\trecall\tQPS 1 thread\tQPS 2 threads\tp50 ms\tp99 ms\tshort\t")
	for _, c := range res.Cases {
		fmt.Fprintf(tw, "%s\t%d (%.2f%%)\texact\t1.0000\t-\t%.0f\t\t\t\t\n", c.Name, c.Matches, 100*c.Selectivity, c.ExactQPS)
		for _, p := range c.Points {
			fmt.Fprintf(tw, "\t\t%d\t%.4f\t%.0f\t%.0f\t%.3f\t%.3f\t%d\t\n", p.Ef, p.Recall, p.QPS1, p.QPS2, p.P50Ms, p.P99Ms, p.Short)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nAt the lowest ef reaching recall %.2f (1 thread):\n", res.Target)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "filter\tselectivity\tef\tQPS\tvs unfiltered\tFAISS post-filter\tFAISS HNSW+IDSelector\tFAISS flat+IDSelector\t")
	for _, c := range res.Cases {
		ef, qps, ratio := "not reached", "-", "-"
		if c.TargetEf > 0 {
			ef, qps, ratio = fmt.Sprint(c.TargetEf), fmt.Sprintf("%.0f", c.TargetQPS), fmt.Sprintf("%.2fx", c.TargetRatio)
		}
		post, hsel, fsel := "-", "-", "-"
		if f := c.Faiss; f != nil {
			post, hsel, fsel = f.summaryPost(res.Target), f.summaryHNSW(res.Target), f.summaryFlat()
		}
		fmt.Fprintf(tw, "%s\t%.2f%%\t%s\t%s\t%s\t%s\t%s\t%s\t\n", c.Name, 100*c.Selectivity, ef, qps, ratio, post, hsel, fsel)
	}
	tw.Flush()
}

// --- the FAISS anchor: dump for the script, read its results ---

// dumpFilters writes, for scripts/anchors/faiss_postfilter.py, one
// mask-NAME.npy (bool, one per base row) and gt-NAME.npy (int64, nq x k,
// -1 padded: Strata's exact filtered top-k) per filter, and filters.json.
func dumpFilters(dir string, res *FilteredResult, masks [][]bool, gts [][][]uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	type entry struct {
		Name    string `json:"name"`
		Filter  string `json:"filter"`
		Matches int    `json:"matches"`
		Mask    string `json:"mask"`
		GT      string `json:"gt"`
	}
	index := struct {
		Dataset string  `json:"dataset"`
		N       int     `json:"n"`
		NQ      int     `json:"nq"`
		K       int     `json:"k"`
		Seed    uint64  `json:"seed"`
		Cases   []entry `json:"cases"`
	}{Dataset: res.Dataset, N: res.N, NQ: res.NQ, K: res.K, Seed: res.Seed}
	for i, c := range res.Cases {
		name := safeName(c.Name)
		e := entry{Name: c.Name, Filter: c.Filter, Matches: c.Matches, Mask: "mask-" + name + ".npy", GT: "gt-" + name + ".npy"}
		mask := make([]byte, len(masks[i]))
		for j, ok := range masks[i] {
			if ok {
				mask[j] = 1
			}
		}
		if err := writeNpy(filepath.Join(dir, e.Mask), "|b1", []int{len(mask)}, mask); err != nil {
			return err
		}
		gt := make([]byte, 0, res.NQ*res.K*8)
		for _, row := range gts[i] {
			for j := range res.K {
				v := int64(-1)
				if j < len(row) {
					v = int64(row[j])
				}
				gt = binary.LittleEndian.AppendUint64(gt, uint64(v))
			}
		}
		if err := writeNpy(filepath.Join(dir, e.GT), "<i8", []int{res.NQ, res.K}, gt); err != nil {
			return err
		}
		index.Cases = append(index.Cases, e)
	}
	b, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	logf("wrote masks and ground truth of %d filters to %s", len(res.Cases), dir)
	return os.WriteFile(filepath.Join(dir, "filters.json"), b, 0o644)
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// writeNpy writes a version 1.0 .npy file: magic, header dict padded with
// spaces to a multiple of 64 bytes and ending in a newline, then data.
func writeNpy(path, descr string, shape []int, data []byte) error {
	dims := ""
	for _, d := range shape {
		dims += fmt.Sprintf("%d, ", d)
	}
	if len(shape) > 1 {
		dims = dims[:len(dims)-2]
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, dims)
	total := 10 + len(hdr) + 1
	pad := (64 - total%64) % 64
	hdr += fmt.Sprintf("%*s\n", pad, "")
	buf := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
	buf = append(buf, hdr...)
	buf = append(buf, data...)
	return os.WriteFile(path, buf, 0o644)
}

// faissCase is one filter's results in faiss_postfilter.py's output.
type faissCase struct {
	Name    string `json:"name"`
	Matches int    `json:"matches"`
	// GTAgreement is the fraction of Strata's exact filtered top-k that
	// numpy's brute force also found (a check of both).
	GTAgreement float64 `json:"gt_agreement"`
	Post        []struct {
		M      int     `json:"m"`
		KPrime int     `json:"k_prime"`
		Ef     int     `json:"ef"`
		Recall float64 `json:"recall"`
		QPS1   float64 `json:"qps_1_thread"`
		QPS2   float64 `json:"qps_2_threads"`
	} `json:"postfilter"`
	HNSWSel []struct {
		Ef     int     `json:"ef"`
		Recall float64 `json:"recall"`
		QPS1   float64 `json:"qps_1_thread"`
		QPS2   float64 `json:"qps_2_threads"`
	} `json:"hnsw_idselector"`
	FlatSel *struct {
		Recall float64 `json:"recall"`
		QPS1   float64 `json:"qps_1_thread"`
		QPS2   float64 `json:"qps_2_threads"`
	} `json:"flat_idselector"`
}

func (f *faissCase) summaryPost(target float64) string {
	best := 0.0
	for _, p := range f.Post {
		if p.Recall >= target {
			return fmt.Sprintf("%.0f QPS (m %d, recall %.3f)", p.QPS1, p.M, p.Recall)
		}
		best = max(best, p.Recall)
	}
	return fmt.Sprintf("max recall %.3f", best)
}

func (f *faissCase) summaryHNSW(target float64) string {
	best := 0.0
	for _, p := range f.HNSWSel {
		if p.Recall >= target {
			return fmt.Sprintf("%.0f QPS (ef %d)", p.QPS1, p.Ef)
		}
		best = max(best, p.Recall)
	}
	if len(f.HNSWSel) == 0 {
		return "-"
	}
	return fmt.Sprintf("max recall %.3f", best)
}

func (f *faissCase) summaryFlat() string {
	if f.FlatSel == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f QPS", f.FlatSel.QPS1)
}

func applyFaissAnchor(path string, res *FilteredResult) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var a struct {
		Env struct {
			Time string `json:"time"`
		} `json:"env"`
		Dataset string      `json:"dataset"`
		Cases   []faissCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if a.Dataset != res.Dataset {
		return fmt.Errorf("%s is for data set %q, not %q", path, a.Dataset, res.Dataset)
	}
	res.AnchorFile, res.AnchorTime = path, a.Env.Time
	for i := range a.Cases {
		for j := range res.Cases {
			if res.Cases[j].Name == a.Cases[i].Name {
				if a.Cases[i].Matches != res.Cases[j].Matches {
					return fmt.Errorf("%s: filter %s matches %d points there, %d here (different -seed?)", path, a.Cases[i].Name, a.Cases[i].Matches, res.Cases[j].Matches)
				}
				res.Cases[j].Faiss = &a.Cases[i]
			}
		}
	}
	return nil
}
