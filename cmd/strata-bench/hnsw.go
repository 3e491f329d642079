package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/internal/dataset"
)

// HNSWPoint is one hnsw_ef setting of the sweep.
type HNSWPoint struct {
	Ef      int     `json:"ef"`
	Recall  float64 `json:"recall"`
	QPS1    float64 `json:"qps_1_thread"`
	QPSAll  float64 `json:"qps_all_threads"`
	Threads int     `json:"threads"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
}

// HNSWResult is the output of the hnsw subcommand.
type HNSWResult struct {
	Env         Env         `json:"env"`
	Dataset     string      `json:"dataset"`
	N           int         `json:"n"`
	Dim         int         `json:"dim"`
	Distance    string      `json:"distance"`
	M           int         `json:"m"`
	EfConstruct int         `json:"ef_construct"`
	K           int         `json:"k"`
	NQ          int         `json:"nq"`
	UpsertS     float64     `json:"upsert_s"`
	SealS       float64     `json:"seal_s"`
	IndexS      float64     `json:"index_s"`
	IndexThread int         `json:"index_threads"`
	RSSMiB      float64     `json:"rss_mib_after_build"`
	RawMiB      float64     `json:"raw_vectors_mib"`
	DiskMiB     float64     `json:"disk_mib"`
	Points      []HNSWPoint `json:"points"`
}

// runHNSW loads a data set through the public API into one segment, builds
// its HNSW graph, and sweeps hnsw_ef: recall@k, QPS on one thread and on
// all threads (concurrent queries), and latency percentiles.
func runHNSW(args []string) error {
	fs := flag.NewFlagSet("hnsw", flag.ExitOnError)
	var c common
	c.register(fs)
	data := fs.String("data", "", "data set directory, or a name under $STRATA_BENCH_DATA")
	nq := fs.Int("nq", 1000, "queries")
	k := fs.Int("k", 10, "recall@k")
	m := fs.Int("m", 16, "HNSW m")
	efc := fs.Int("ef-construct", 200, "HNSW ef_construct")
	efsFlag := fs.String("ef", "16,32,64,128,256,512", "comma-separated hnsw_ef values")
	reps := fs.Int("reps", 3, "timed repetitions per setting; QPS is the median")
	threads := fs.Int("threads", runtime.NumCPU(), "query goroutines for the all-threads figure")
	_ = fs.Parse(args)
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
	dist, err := distanceFor(set.Metric)
	if err != nil {
		return err
	}
	res := HNSWResult{Env: newEnv(), Dataset: set.Name, N: set.N, Dim: set.Dim, Distance: dist.String(),
		M: *m, EfConstruct: *efc, K: *k, NQ: *nq, IndexThread: runtime.GOMAXPROCS(0),
		RawMiB: mib(int64(set.N) * int64(set.Dim) * 4)}
	dir, err := c.tempDir("hnsw")
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
		Vectors: map[string]strata.VectorParams{"": {Size: set.Dim, Distance: dist}},
		// One sealed segment, indexed when WaitIndexed runs (not in the
		// background meanwhile, so the build is timed alone).
		Optimizers: strata.OptimizersConfig{FlushThreshold: set.N + 1, MaxSegments: 1, IndexingThresholdKB: 1, Interval: -1},
		HNSW:       strata.HnswConfig{M: *m, EfConstruct: *efc},
	})
	if err != nil {
		return err
	}
	rssBefore := procStatus()["VmRSS"]
	t := time.Now()
	for lo := 0; lo < set.N; lo += 1000 {
		pts := make([]strata.Point, 0, 1000)
		for i := lo; i < min(lo+1000, set.N); i++ {
			pts = append(pts, strata.Point{ID: strata.NumID(uint64(i)), Vector: set.Row(i)})
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
	stop, err := c.startProfile()
	if err != nil {
		return err
	}
	t = time.Now()
	if err := coll.WaitIndexed(ctx); err != nil {
		stop()
		return err
	}
	res.IndexS = time.Since(t).Seconds()
	runtime.GC()
	res.RSSMiB = mib(procStatus()["VmRSS"] - rssBefore)
	res.DiskMiB = mib(dirSize(dir))
	logf("upsert %.1f s, seal %.1f s, index %.1f s (%d threads)", res.UpsertS, res.SealS, res.IndexS, res.IndexThread)

	reqs := make([]strata.SearchRequest, *nq)
	for i := range reqs {
		reqs[i] = strata.SearchRequest{Vector: set.Query(i), Limit: *k}
	}
	for _, ef := range efs {
		for i := range reqs {
			reqs[i].HnswEf = ef
		}
		p := HNSWPoint{Ef: ef, Threads: *threads}
		// Warm-up and recall.
		ids := make([][]uint64, len(reqs))
		scores := make([][]float32, len(reqs))
		for i := range reqs {
			hits, err := coll.Search(ctx, reqs[i])
			if err != nil {
				stop()
				return err
			}
			for _, h := range hits {
				ids[i] = append(ids[i], h.ID.Num())
				scores[i] = append(scores[i], h.Score)
			}
		}
		p.Recall, _ = recall(set, ids, scores, dist, *k)
		var q1, qa []float64
		var lat []float64
		for range *reps {
			// One thread: queries one after another.
			prev := runtime.GOMAXPROCS(1)
			start := time.Now()
			for i := range reqs {
				t := time.Now()
				if _, err := coll.Search(ctx, reqs[i]); err != nil {
					runtime.GOMAXPROCS(prev)
					stop()
					return err
				}
				lat = append(lat, ms(time.Since(t)))
			}
			q1 = append(q1, float64(len(reqs))/time.Since(start).Seconds())
			runtime.GOMAXPROCS(prev)
			// All threads: concurrent queries.
			var next atomic.Int64
			var wg sync.WaitGroup
			start = time.Now()
			for range *threads {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= len(reqs) {
							return
						}
						_, _ = coll.Search(ctx, reqs[i])
					}
				}()
			}
			wg.Wait()
			qa = append(qa, float64(len(reqs))/time.Since(start).Seconds())
		}
		p.QPS1, p.QPSAll = median(q1), median(qa)
		p.P50Ms, p.P99Ms = median(lat), percentile(lat, 99)
		logf("ef %d: recall %.4f, %.0f QPS (1 thread), %.0f QPS (%d threads)", ef, p.Recall, p.QPS1, p.QPSAll, *threads)
		res.Points = append(res.Points, p)
	}
	stop()
	res.Env.finish()
	return c.emit(&res, res.table)
}

func (res *HNSWResult) table(w io.Writer) {
	res.Env.table(w)
	fmt.Fprintf(w, "data set %s: %d x %d, %s; M %d, ef_construct %d; %d queries, recall@%d\n",
		res.Dataset, res.N, res.Dim, res.Distance, res.M, res.EfConstruct, res.NQ, res.K)
	fmt.Fprintf(w, "upsert %.1f s, seal %.1f s, index build %.1f s on %d threads; RSS growth %.0f MiB (raw vectors %.0f MiB); on disk %.0f MiB\n",
		res.UpsertS, res.SealS, res.IndexS, res.IndexThread, res.RSSMiB, res.RawMiB, res.DiskMiB)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ef\trecall\tQPS 1 thread\tQPS all threads\tthreads\tp50 ms\tp99 ms\t")
	for _, p := range res.Points {
		fmt.Fprintf(tw, "%d\t%.4f\t%.0f\t%.0f\t%d\t%.3f\t%.3f\t\n", p.Ef, p.Recall, p.QPS1, p.QPSAll, p.Threads, p.P50Ms, p.P99Ms)
	}
	tw.Flush()
}
