package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata"
)

// IngestRun is one timed ingest into a fresh database.
type IngestRun struct {
	Writers       int     `json:"writers"`
	Rep           int     `json:"rep"`
	Points        int     `json:"points"`
	Batches       int     `json:"batches"`
	WallS         float64 `json:"wall_s"`
	PointsPerS    float64 `json:"points_per_s"`
	BatchesPerS   float64 `json:"batches_per_s"`
	BatchP50Ms    float64 `json:"batch_p50_ms"`
	BatchP99Ms    float64 `json:"batch_p99_ms"`
	CloseS        float64 `json:"close_s"`
	Segments      int     `json:"segments_before_close"`
	CountVerified bool    `json:"count_verified"`
}

// IngestSummary is the median over the repetitions for one writer count.
type IngestSummary struct {
	Writers     int       `json:"writers"`
	Reps        int       `json:"reps"`
	PointsPerS  float64   `json:"points_per_s_median"`
	BatchesPerS float64   `json:"batches_per_s_median"`
	WallS       float64   `json:"wall_s_median"`
	BatchP50Ms  float64   `json:"batch_p50_ms_median"`
	BatchP99Ms  float64   `json:"batch_p99_ms_median"`
	AllPointsPS []float64 `json:"points_per_s_all"`
}

type IngestResult struct {
	Env         Env             `json:"env"`
	N           int             `json:"n"`
	Dim         int             `json:"dim"`
	Batch       int             `json:"batch"`
	FsyncBefore FsyncResult     `json:"fsync_before"`
	FsyncAfter  FsyncResult     `json:"fsync_after"`
	Runs        []IngestRun     `json:"runs"`
	Summary     []IngestSummary `json:"summary"`
}

func runIngest(args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ExitOnError)
	var c common
	c.register(fs)
	n := fs.Int("n", 100000, "points per run")
	dim := fs.Int("dim", 384, "vector dimension (Cosine)")
	batch := fs.Int("batch", 256, "points per Upsert call")
	writersFlag := fs.String("writers", "1,4", "comma-separated writer goroutine counts")
	reps := fs.Int("reps", 3, "runs per writer count (each into a fresh database); the summary is the median")
	fsyncIters := fs.Int("fsync-iters", 200, "write+fdatasync rounds of the fsync probe")
	seed := fs.Uint64("seed", 1, "random seed for the vectors")
	warmup := fs.Bool("warmup", true, "fill one small untimed database first")
	index := fs.Bool("index", false, "build HNSW graphs in the background while ingesting (default: off, to measure the write path alone)")
	_ = fs.Parse(args)
	writers, err := parseInts(*writersFlag)
	if err != nil {
		return fmt.Errorf("-writers: %w", err)
	}
	if *n < 1 || *dim < 1 || *batch < 1 || *batch > strata.MaxBatchPoints || *reps < 1 {
		return errors.New("-n, -dim, -batch and -reps must be positive (and -batch at most strata.MaxBatchPoints)")
	}
	res := IngestResult{Env: newEnv(), N: *n, Dim: *dim, Batch: *batch}

	// The points are built before any timing: only Upsert is measured.
	logf("generating %d x %d vectors", *n, *dim)
	rng := rand.New(rand.NewPCG(*seed, 0))
	vecs := make([]float32, *n**dim)
	for i := range vecs {
		vecs[i] = rng.Float32()*2 - 1
	}
	points := make([]strata.Point, *n)
	for i := range points {
		points[i] = strata.Point{
			ID:      strata.NumID(uint64(i)),
			Vector:  vecs[i**dim : (i+1)**dim],
			Payload: strata.Payload{"title": fmt.Sprintf("document %d", i), "n": i},
		}
	}

	parent, err := c.tempDir("ingest")
	if err != nil {
		return err
	}
	defer c.cleanup(parent)
	if res.FsyncBefore, err = measureFsync(parent, *fsyncIters); err != nil {
		return fmt.Errorf("fsync probe: %w", err)
	}
	logf("fsync (append 4 KiB + fdatasync) in %s: p50 %.3f ms, p99 %.3f ms", parent, res.FsyncBefore.AppendP50Ms, res.FsyncBefore.AppendP99Ms)

	if *warmup {
		// The first database a process fills is slower (heap growth, page
		// faults, lazy initialisation): fill one untimed.
		wdir := filepath.Join(parent, "warmup")
		if _, err := ingestOnce(wdir, points[:min(len(points), 20000)], *dim, *batch, slices.Max(writers), *index); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		_ = os.RemoveAll(wdir)
	}
	stop, err := c.startProfile()
	if err != nil {
		return err
	}
	for _, w := range writers {
		sum := IngestSummary{Writers: w, Reps: *reps}
		var wall, bps, p50, p99 []float64
		for rep := 0; rep < *reps; rep++ {
			runDir := filepath.Join(parent, fmt.Sprintf("w%d-r%d", w, rep))
			run, err := ingestOnce(runDir, points, *dim, *batch, w, *index)
			if err != nil {
				stop()
				return fmt.Errorf("writers=%d: %w", w, err)
			}
			if !c.keep {
				_ = os.RemoveAll(runDir)
			}
			run.Rep = rep
			logf("writers=%d rep %d: %.0f points/s, %.0f batches/s, %.2f s, batch p50 %.1f ms p99 %.1f ms",
				w, rep, run.PointsPerS, run.BatchesPerS, run.WallS, run.BatchP50Ms, run.BatchP99Ms)
			res.Runs = append(res.Runs, run)
			sum.AllPointsPS = append(sum.AllPointsPS, run.PointsPerS)
			wall = append(wall, run.WallS)
			bps = append(bps, run.BatchesPerS)
			p50 = append(p50, run.BatchP50Ms)
			p99 = append(p99, run.BatchP99Ms)
		}
		sum.PointsPerS, sum.BatchesPerS, sum.WallS = median(sum.AllPointsPS), median(bps), median(wall)
		sum.BatchP50Ms, sum.BatchP99Ms = median(p50), median(p99)
		res.Summary = append(res.Summary, sum)
	}
	stop()
	if res.FsyncAfter, err = measureFsync(parent, *fsyncIters); err != nil {
		return fmt.Errorf("fsync probe: %w", err)
	}
	res.FsyncBefore.Dir, res.FsyncAfter.Dir = filepath.Dir(parent), filepath.Dir(parent)
	res.Env.finish()
	return c.emit(res, func(w io.Writer) {
		res.Env.table(w)
		fmt.Fprintf(w, "# %d points x %d dims (Cosine), batches of %d, payload {title, n}; median of %d runs\n", res.N, res.Dim, res.Batch, *reps)
		fmt.Fprintf(w, "writers\tpoints/s\tbatches/s\twall s\tbatch p50 ms\tbatch p99 ms\tpoints/s (all runs)\t\n")
		for _, s := range res.Summary {
			fmt.Fprintf(w, "%d\t%.0f\t%.0f\t%.2f\t%.2f\t%.2f\t%s\t\n", s.Writers, s.PointsPerS, s.BatchesPerS, s.WallS, s.BatchP50Ms, s.BatchP99Ms, fmtList(s.AllPointsPS, "%.0f"))
		}
		fmt.Fprintln(w)
		res.FsyncBefore.table(w, "before")
		res.FsyncAfter.table(w, "after")
	})
}

// ingestOnce upserts points into a fresh database in dir with w goroutines
// taking disjoint batches.
func ingestOnce(dir string, points []strata.Point, dim, batch, w int, index bool) (IngestRun, error) {
	ctx := context.Background()
	run := IngestRun{Writers: w, Points: len(points)}
	db, err := strata.Open(dir, nil)
	if err != nil {
		return run, err
	}
	closed := false
	defer func() {
		if !closed {
			_ = db.Close()
		}
	}()
	coll, err := db.CreateCollection(ctx, "bench", strata.CollectionConfig{
		Vectors:    map[string]strata.VectorParams{"": {Size: dim, Distance: strata.Cosine}},
		Optimizers: strata.OptimizersConfig{IndexingThresholdKB: indexingThreshold(index)},
	})
	if err != nil {
		return run, err
	}
	nb := (len(points) + batch - 1) / batch
	run.Batches = nb
	lat := make([]float64, nb)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1) - 1)
				if b >= nb {
					return
				}
				t := time.Now()
				if err := coll.Upsert(ctx, points[b*batch:min((b+1)*batch, len(points))]); err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(nb))
					return
				}
				lat[b] = ms(time.Since(t))
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if firstErr != nil {
		return run, firstErr
	}
	run.WallS = wall.Seconds()
	run.PointsPerS = float64(len(points)) / wall.Seconds()
	run.BatchesPerS = float64(nb) / wall.Seconds()
	run.BatchP50Ms, run.BatchP99Ms = median(lat), percentile(lat, 99)

	cnt, err := coll.Count(ctx, nil)
	if err != nil {
		return run, err
	}
	if cnt != len(points) {
		return run, fmt.Errorf("count after ingest is %d, want %d", cnt, len(points))
	}
	run.CountVerified = true
	if info, err := coll.Info(ctx); err == nil {
		run.Segments = info.SegmentsCount
	}
	t := time.Now()
	closed = true
	if err := db.Close(); err != nil {
		return run, fmt.Errorf("close: %w", err)
	}
	run.CloseS = time.Since(t).Seconds()
	return run, nil
}

func fmtList(xs []float64, format string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf(format, x)
	}
	return s
}

// indexingThreshold returns OptimizersConfig.IndexingThresholdKB: the
// default when graphs are wanted, negative (off) otherwise.
func indexingThreshold(index bool) int {
	if index {
		return 0
	}
	return -1
}
