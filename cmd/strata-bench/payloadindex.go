package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/strata-db/strata"
)

// PayloadIndexRun is one payload index type: how long the background build
// over every segment took, what it costs in memory and on disk, and what it
// does to a selective Count.
type PayloadIndexRun struct {
	Type    string  `json:"type"`
	Key     string  `json:"key"`
	BuildS  float64 `json:"build_s"` // CreateFieldIndex + WaitIndexed
	Points  int     `json:"points"`  // PayloadSchema[key].Points
	HeapMiB float64 `json:"heap_delta_mib"`
	// RSS deltas (anonymous and file-backed: mmap'd index files).
	AnonMiB float64 `json:"rss_anon_delta_mib"`
	FileMiB float64 `json:"rss_file_delta_mib"`
	DiskMiB float64 `json:"disk_delta_mib"`
	// A selective Count on the field, by reading payloads (before, one
	// run) and through the index (after, median of 3). The counts agree except for
	// text, where a text index turns substring matching into token matching.
	Query         string  `json:"query"`
	Matches       int     `json:"matches"`
	MatchesBefore int     `json:"matches_before"`
	CountScanMs   float64 `json:"count_before_ms"`
	CountIndexMs  float64 `json:"count_after_ms"`
}

// PayloadIndexResult is the output of the payloadindex subcommand.
type PayloadIndexResult struct {
	Env      Env     `json:"env"`
	N        int     `json:"n"`
	Flush    int     `json:"flush_threshold"`
	Segments int     `json:"segments"`
	UpsertS  float64 `json:"upsert_s"`
	// On disk and in the Go heap before any payload index.
	DiskMiB float64 `json:"disk_mib"`
	HeapMiB float64 `json:"heap_mib"`
	// In-process Close + Open + Collection + Count, without indexes and
	// with all of them; heap after the reopen.
	ReopenBareMs    float64           `json:"reopen_without_indexes_ms"`
	ReopenIndexedMs float64           `json:"reopen_with_indexes_ms"`
	HeapBareMiB     float64           `json:"heap_after_reopen_without_indexes_mib"`
	HeapIndexedMiB  float64           `json:"heap_after_reopen_with_indexes_mib"`
	CountsAfterOK   bool              `json:"counts_after_reopen_ok"`
	Runs            []PayloadIndexRun `json:"runs"`
}

var payloadIndexTypes = []strata.FieldType{
	strata.FieldKeyword, strata.FieldInteger, strata.FieldFloat, strata.FieldBool,
	strata.FieldDatetime, strata.FieldGeo, strata.FieldUUID, strata.FieldText,
}

// piVocab returns n distinct pronounceable words of 2 to 4 syllables.
func piVocab(r *rand.Rand, n int) []string {
	cons, vow := "bcdfghjklmnprstvz", "aeiou"
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteByte(cons[r.IntN(len(cons))])
			b.WriteByte(vow[r.IntN(len(vow))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// piPayload is point i's payload: one field per index type, named after it.
func piPayload(r *rand.Rand, vocab []string) strata.Payload {
	var uuid [16]byte
	for i := range uuid {
		uuid[i] = byte(r.IntN(256))
	}
	uuid[6] = uuid[6]&0x0f | 0x40
	uuid[8] = uuid[8]&0x3f | 0x80
	words := make([]string, 8)
	for i := range words {
		words[i] = vocab[r.IntN(len(vocab))]
	}
	return strata.Payload{
		"keyword":  fmt.Sprintf("kw%04d", r.IntN(1000)),
		"integer":  r.Int64N(1_000_000_000),
		"float":    r.Float64() * 1000,
		"bool":     r.IntN(2) == 0,
		"datetime": time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(3*365*86400)) * time.Second).Format(time.RFC3339),
		"geo":      map[string]any{"lon": -180 + r.Float64()*360, "lat": -90 + r.Float64()*180},
		"uuid":     fmt.Sprintf("%x-%x-%x-%x-%x", uuid[0:4], uuid[4:6], uuid[6:8], uuid[8:10], uuid[10:16]),
		"text":     strings.Join(words, " "),
	}
}

// piQuery is a selective filter on the field of type t.
func piQuery(t strata.FieldType, sample strata.Payload, vocab []string) (string, *strata.Filter) {
	key := string(t)
	f := func(c strata.Condition) *strata.Filter { return &strata.Filter{Must: []strata.Condition{c}} }
	fp := func(x float64) *float64 { return &x }
	switch t {
	case strata.FieldKeyword:
		return "keyword = kw0042", f(strata.MatchValue(key, "kw0042"))
	case strata.FieldInteger:
		return "integer in [0, 1e6)", f(strata.Condition{Key: key, Range: &strata.Range{GTE: fp(0), LT: fp(1e6)}})
	case strata.FieldFloat:
		return "float in [0, 1)", f(strata.Condition{Key: key, Range: &strata.Range{GTE: fp(0), LT: fp(1)}})
	case strata.FieldBool:
		return "bool = true", f(strata.MatchValue(key, true))
	case strata.FieldDatetime:
		lo := time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
		hi := lo.Add(24 * time.Hour)
		return "datetime in one day", f(strata.Condition{Key: key, DatetimeRange: &strata.DatetimeRange{GTE: &lo, LT: &hi}})
	case strata.FieldGeo:
		return "geo within 100 km", f(strata.Condition{Key: key, GeoRadius: &strata.GeoRadius{Center: strata.GeoPoint{Lon: 13.4, Lat: 52.5}, Radius: 100_000}})
	case strata.FieldUUID:
		return "uuid = one point's", f(strata.MatchValue(key, sample["uuid"]))
	default:
		return "text ~ " + vocab[7], f(strata.Condition{Key: key, Match: &strata.Match{Text: vocab[7]}})
	}
}

// liveHeap returns the Go heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// runPayloadIndex measures building each payload index type over sealed
// segments of n points.
func runPayloadIndex(args []string) error {
	fs := flag.NewFlagSet("payloadindex", flag.ExitOnError)
	var c common
	c.register(fs)
	n := fs.Int("n", 1_000_000, "points")
	flush := fs.Int("flush", 250_000, "points per sealed segment")
	writers := fs.Int("writers", 2, "writer goroutines")
	seed := fs.Uint64("seed", 7, "seed of the payloads")
	typesFlag := fs.String("types", "", "comma-separated index types (default: all)")
	_ = fs.Parse(args)
	types := payloadIndexTypes
	if *typesFlag != "" {
		types = nil
		for _, s := range strings.Split(*typesFlag, ",") {
			types = append(types, strata.FieldType(strings.TrimSpace(s)))
		}
	}
	res := PayloadIndexResult{Env: newEnv(), N: *n, Flush: *flush}
	dir, err := c.tempDir("payloadindex")
	if err != nil {
		return err
	}
	defer c.cleanup(dir)
	ctx := context.Background()
	db, err := strata.Open(dir, nil)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	coll, err := db.CreateCollection(ctx, "bench", strata.CollectionConfig{
		Vectors:    map[string]strata.VectorParams{"": {Size: 4, Distance: strata.Euclid}},
		Optimizers: strata.OptimizersConfig{FlushThreshold: *flush + 1, MaxSegments: 64, IndexingThresholdKB: -1, Interval: -1},
	})
	if err != nil {
		return err
	}
	collDir := filepath.Join(dir, "collections", "bench")

	// Write the points, sealing a segment every -flush points.
	r := rand.New(rand.NewPCG(*seed, 0x9a1))
	vocab := piVocab(r, 5000)
	const batch = 1000
	var sample strata.Payload
	t := time.Now()
	for lo := 0; lo < *n; lo += *flush {
		hi := min(lo+*flush, *n)
		pts := make([]strata.Point, hi-lo)
		for i := range pts {
			v := []float32{r.Float32(), r.Float32(), r.Float32(), r.Float32()}
			pts[i] = strata.Point{ID: strata.NumID(uint64(lo + i)), Vector: v, Payload: piPayload(r, vocab)}
		}
		if sample == nil {
			sample = pts[len(pts)/2].Payload
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, *writers)
		for w := range *writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					b := int(next.Add(batch)) - batch
					if b >= len(pts) {
						return
					}
					if err := coll.Upsert(ctx, pts[b:min(b+batch, len(pts))]); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if err := coll.Optimize(ctx); err != nil {
			return err
		}
	}
	res.UpsertS = time.Since(t).Seconds()
	info, err := coll.Info(ctx)
	if err != nil {
		return err
	}
	if info.PointsCount != *n {
		return fmt.Errorf("collection holds %d points, want %d", info.PointsCount, *n)
	}
	res.Segments = info.SegmentsCount
	res.DiskMiB = mib(dirSize(collDir))
	logf("wrote %d points in %.1f s: %d segments, %.0f MiB on disk", *n, res.UpsertS, res.Segments, res.DiskMiB)

	reopen := func() (float64, error) {
		if err := db.Close(); err != nil {
			return 0, err
		}
		t := time.Now()
		if db, err = strata.Open(dir, nil); err != nil {
			return 0, err
		}
		if coll, err = db.Collection("bench"); err != nil {
			return 0, err
		}
		if _, err := coll.Count(ctx, nil); err != nil {
			return 0, err
		}
		return ms(time.Since(t)), nil
	}
	if res.ReopenBareMs, err = reopen(); err != nil {
		return err
	}
	res.HeapBareMiB = mib(liveHeap())
	res.HeapMiB = res.HeapBareMiB

	countMs := func(f *strata.Filter, reps int) (float64, int, error) {
		var ts []float64
		var got int
		for range reps {
			t := time.Now()
			n, err := coll.Count(ctx, f)
			if err != nil {
				return 0, 0, err
			}
			ts = append(ts, ms(time.Since(t)))
			got = n
		}
		return median(ts), got, nil
	}
	stop, err := c.startProfile()
	if err != nil {
		return err
	}
	defer stop()
	counts := map[string]int{}
	for _, ft := range types {
		run := PayloadIndexRun{Type: string(ft), Key: string(ft)}
		var f *strata.Filter
		run.Query, f = piQuery(ft, sample, vocab)
		if run.CountScanMs, run.MatchesBefore, err = countMs(f, 1); err != nil {
			return err
		}
		heap0, st0, disk0 := liveHeap(), procStatus(), dirSize(collDir)
		schema := strata.FieldSchema{Type: ft}
		if ft == strata.FieldText {
			schema.Tokenizer = "word"
		}
		t := time.Now()
		if err := coll.CreateFieldIndex(ctx, run.Key, schema); err != nil {
			return fmt.Errorf("%s: %w", ft, err)
		}
		if err := coll.WaitIndexed(ctx); err != nil {
			return fmt.Errorf("%s: %w", ft, err)
		}
		run.BuildS = time.Since(t).Seconds()
		heap1, st1 := liveHeap(), procStatus()
		run.HeapMiB = mib(heap1 - heap0)
		run.AnonMiB = mib(st1["RssAnon"] - st0["RssAnon"])
		run.FileMiB = mib(st1["RssFile"] - st0["RssFile"])
		run.DiskMiB = mib(dirSize(collDir) - disk0)
		info, err := coll.Info(ctx)
		if err != nil {
			return err
		}
		run.Points = info.PayloadSchema[run.Key].Points
		if run.CountIndexMs, run.Matches, err = countMs(f, 3); err != nil {
			return err
		}
		if run.Matches != run.MatchesBefore && ft != strata.FieldText {
			return fmt.Errorf("%s: %q counts %d with the index, %d without", ft, run.Query, run.Matches, run.MatchesBefore)
		}
		counts[run.Key] = run.Matches
		logf("%s: build %.2f s, %d points indexed, heap %+.1f MiB, RSS anon %+.1f MiB, file %+.1f MiB, disk %+.1f MiB; %s: %d matches, count %.1f ms -> %.2f ms",
			ft, run.BuildS, run.Points, run.HeapMiB, run.AnonMiB, run.FileMiB, run.DiskMiB, run.Query, run.Matches, run.CountScanMs, run.CountIndexMs)
		res.Runs = append(res.Runs, run)
	}
	stop()
	if res.ReopenIndexedMs, err = reopen(); err != nil {
		return err
	}
	res.HeapIndexedMiB = mib(liveHeap())
	res.CountsAfterOK = true
	for _, ft := range types {
		_, f := piQuery(ft, sample, vocab)
		if n, err := coll.Count(ctx, f); err != nil || n != counts[string(ft)] {
			logf("%s: count after reopen %d (%v), want %d", ft, n, err, counts[string(ft)])
			res.CountsAfterOK = false
		}
	}
	logf("reopen: %.0f ms without indexes, %.0f ms with; heap %.1f -> %.1f MiB", res.ReopenBareMs, res.ReopenIndexedMs, res.HeapBareMiB, res.HeapIndexedMiB)
	res.Env.finish()
	return c.emit(&res, res.table)
}

func (res *PayloadIndexResult) table(w io.Writer) {
	res.Env.table(w)
	fmt.Fprintf(w, "%d points (4-dim vectors, one payload field per index type), %d sealed segments of <= %d, %.0f MiB on disk, written in %.1f s\n",
		res.N, res.Segments, res.Flush, res.DiskMiB, res.UpsertS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "type\tbuild s\tpoints\theap MiB\tB/point\tRSS anon MiB\tRSS file MiB\tdisk MiB\tB/point\tquery\tmatches\tcount before ms\tafter ms\t")
	for _, r := range res.Runs {
		matches := fmt.Sprint(r.Matches)
		if r.MatchesBefore != r.Matches {
			matches = fmt.Sprintf("%d (%d as substrings)", r.Matches, r.MatchesBefore)
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t%s\t%.1f\t%.2f\t\n", r.Type, r.BuildS, r.Points,
			r.HeapMiB, r.HeapMiB*(1<<20)/float64(res.N), r.AnonMiB, r.FileMiB, r.DiskMiB, r.DiskMiB*(1<<20)/float64(res.N),
			r.Query, matches, r.CountScanMs, r.CountIndexMs)
	}
	tw.Flush()
	fmt.Fprintf(w, "reopen (in process, warm cache): %.0f ms without payload indexes, %.0f ms with all; Go heap after reopen %.1f -> %.1f MiB; counts after reopen agree: %v\n",
		res.ReopenBareMs, res.ReopenIndexedMs, res.HeapBareMiB, res.HeapIndexedMiB, res.CountsAfterOK)
}
