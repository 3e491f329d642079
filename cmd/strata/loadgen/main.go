// Command loadgen measures what serving costs: the latency and throughput
// of top-k queries and of upserts through the real `strata serve` binary
// over REST and gRPC on loopback, against the same calls through the
// embedded API in the same run (the anchor: the server's overhead is the
// difference).
//
// Run it from the cmd/strata module:
//
//	cd cmd/strata && go run ./loadgen                  # 100,000 x 384, HNSW, the issue-5 figures
//	cd cmd/strata && go run ./loadgen -n 20000 -duration 2s   # a quick look
//
// The data are a seeded Gaussian mixture (clusters in the unit cube,
// cosine distance), so runs are repeatable. The program
//
//  1. loads the points through the embedded API into a fresh database,
//     waits for the HNSW graph, and checks recall@k against exact search;
//  2. times sequential top-k queries (p50, p99) and QPS with 1, 8 and 32
//     concurrent callers through the embedded API;
//  3. closes the database and starts `strata serve` (built from this
//     module, or -bin) on it, then times the same queries over REST (the
//     universal query endpoint, JSON bodies encoded beforehand) and over
//     gRPC (Qdrant's Go client);
//  4. times upserts in batches of -batch points into a fresh collection
//     (indexing off, so no background build overlaps the next figure)
//     through each of the three.
//
// Every figure is printed as a table with its ratio to the embedded one,
// and written as JSON with -json.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/strata-db/strata"
)

type config struct {
	n, dim, nq, k, ef, m, efc, clusters int
	maxSegments                         int
	seed                                uint64
	latQueries, warmup                  int
	clients                             []int
	duration                            time.Duration
	upsertN, batch                      int
	bin, dir, jsonOut                   string
	keep                                bool
}

// Figure is one measured configuration.
type Figure struct {
	Mode    string  `json:"mode"` // embedded, rest, grpc
	Clients int     `json:"clients"`
	Ops     int     `json:"ops"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"per_second"` // queries, or points for upserts
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
}

// Result is the JSON output.
type Result struct {
	Env      Env      `json:"env"`
	N        int      `json:"n"`
	Dim      int      `json:"dim"`
	K        int      `json:"k"`
	Ef       int      `json:"hnsw_ef"`
	M        int      `json:"m"`
	Efc      int      `json:"ef_construct"`
	Recall   float64  `json:"recall_at_k"`
	LoadS    float64  `json:"embedded_load_s"`
	IndexS   float64  `json:"embedded_index_s"`
	Latency  []Figure `json:"latency"`    // sequential, one caller
	QPS      []Figure `json:"throughput"` // concurrent callers
	Upsert   []Figure `json:"upsert"`     // points per second
	UpsertN  int      `json:"upsert_points"`
	Batch    int      `json:"batch"`
	ServerRS int64    `json:"server_rss_kib,omitempty"`
	// RESTHandler*: the server's own time for the sequential REST queries
	// (the envelope's "time"), to split the REST overhead into handler and
	// transport.
	RESTHandlerP50Ms float64 `json:"rest_handler_p50_ms"`
	RESTHandlerP99Ms float64 `json:"rest_handler_p99_ms"`
	// EmbeddedIdle*: the embedded call after an idle pause.
	EmbeddedIdleP50Ms float64 `json:"embedded_after_idle_p50_ms"`
	EmbeddedIdleP99Ms float64 `json:"embedded_after_idle_p99_ms"`
	// Round trips of an empty request (GET /healthz; the gRPC health
	// check): the transport's own cost.
	RESTPing Figure `json:"rest_healthz"`
	GRPCPing Figure `json:"grpc_health"`
}

// Env describes the machine and its load, since the machine is shared.
type Env struct {
	CPU        string     `json:"cpu"`
	NumCPU     int        `json:"num_cpu"`
	GoVersion  string     `json:"go"`
	Start      time.Time  `json:"start"`
	LoadStart  [3]float64 `json:"load_start"`
	LoadFinish [3]float64 `json:"load_end"`
}

func main() {
	var c config
	var clients string
	flag.IntVar(&c.n, "n", 100_000, "points in the searched collection")
	flag.IntVar(&c.dim, "dim", 384, "dimension")
	flag.IntVar(&c.nq, "nq", 1000, "distinct queries (cycled)")
	flag.IntVar(&c.k, "k", 10, "top-k")
	flag.IntVar(&c.ef, "ef", 64, "hnsw_ef of the queries")
	flag.IntVar(&c.m, "m", 16, "HNSW m")
	flag.IntVar(&c.efc, "ef-construct", 128, "HNSW ef_construct")
	flag.IntVar(&c.maxSegments, "max-segments", 0, "the searched collection's optimizers max_segments (0: the engine's default)")
	flag.IntVar(&c.clusters, "clusters", 100, "Gaussian clusters in the data")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.IntVar(&c.latQueries, "latency-queries", 3000, "sequential queries timed for p50/p99")
	flag.IntVar(&c.warmup, "warmup", 300, "untimed queries before each measurement")
	flag.StringVar(&clients, "clients", "1,8,32", "comma-separated concurrent callers for the throughput figures")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "length of each throughput run")
	flag.IntVar(&c.upsertN, "upsert", 51_200, "points upserted for the upsert figures (per mode)")
	flag.IntVar(&c.batch, "batch", 256, "points per upsert request")
	flag.StringVar(&c.bin, "bin", "", "strata binary to serve with (default: go build this module)")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new temporary one, removed at the end)")
	flag.StringVar(&c.jsonOut, "json", "", "also write the result as JSON to this file")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.Parse()
	for _, s := range strings.Split(clients, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 1 {
			fail(fmt.Errorf("-clients: bad value %q", s))
		}
		c.clients = append(c.clients, v)
	}
	if c.n < 1 || c.dim < 1 || c.nq < 1 || c.k < 1 || c.batch < 1 || c.upsertN < c.batch {
		fail(errors.New("-n, -dim, -nq, -k, -batch must be positive and -upsert at least -batch"))
	}
	res, err := run(&c)
	if err != nil {
		fail(err)
	}
	printResult(os.Stdout, res)
	if c.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(c.jsonOut, append(b, '\n'), 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// data is the generated workload.
type data struct {
	base    [][]float32
	queries [][]float32
	ingest  [][]float32 // for the upsert figures
}

// generate draws points around c.clusters centres in [-1, 1]^dim.
func generate(c *config) *data {
	r := rand.New(rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))
	centres := make([][]float32, c.clusters)
	for i := range centres {
		centres[i] = make([]float32, c.dim)
		for j := range centres[i] {
			centres[i][j] = float32(r.Float64()*2 - 1)
		}
	}
	draw := func(n int) [][]float32 {
		flat := make([]float32, n*c.dim)
		out := make([][]float32, n)
		for i := range out {
			v := flat[i*c.dim : (i+1)*c.dim : (i+1)*c.dim]
			ctr := centres[r.IntN(len(centres))]
			for j := range v {
				v[j] = ctr[j] + float32(r.NormFloat64()*0.35)
			}
			out[i] = v
		}
		return out
	}
	return &data{base: draw(c.n), queries: draw(c.nq), ingest: draw(c.upsertN)}
}

func run(c *config) (*Result, error) {
	res := &Result{N: c.n, Dim: c.dim, K: c.k, Ef: c.ef, M: c.m, Efc: c.efc, UpsertN: c.upsertN, Batch: c.batch}
	res.Env = Env{CPU: cpuModel(), NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(), Start: time.Now(), LoadStart: loadAvg()}
	dir := c.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "strata-loadgen-")
		if err != nil {
			return nil, err
		}
		dir = d
	}
	if !c.keep {
		defer os.RemoveAll(dir)
	}
	bin := c.bin
	if bin == "" {
		bin = filepath.Join(dir, "strata")
		logf("building strata")
		cmd := exec.Command("go", "build", "-o", bin, "github.com/strata-db/strata/cmd/strata")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("go build (run loadgen inside the cmd/strata module, or pass -bin): %w", err)
		}
	}
	logf("generating %d x %d points", c.n+c.upsertN, c.dim)
	d := generate(c)
	dataDir := filepath.Join(dir, "data")

	// 1-2: embedded.
	emb, err := runEmbedded(c, d, dataDir, res)
	if err != nil {
		return nil, err
	}
	// 3-4: the server on the same data.
	if err := runServed(c, d, dataDir, bin, emb, res); err != nil {
		return nil, err
	}
	res.Env.LoadFinish = loadAvg()
	return res, nil
}

const benchColl = "bench"

// collectionConfig is the searched collection's configuration.
func collectionConfig(c *config) strata.CollectionConfig {
	return strata.CollectionConfig{
		Vectors:    map[string]strata.VectorParams{"": {Size: c.dim, Distance: strata.Cosine}},
		HNSW:       strata.HnswConfig{M: c.m, EfConstruct: c.efc},
		Optimizers: strata.OptimizersConfig{MaxSegments: c.maxSegments},
	}
}

// embeddedResult keeps what the served phase compares against.
type embeddedResult struct {
	top1 []strata.PointID // the embedded top-1 of each query
}

func runEmbedded(c *config, d *data, dataDir string, res *Result) (*embeddedResult, error) {
	ctx := context.Background()
	db, err := strata.Open(dataDir, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	coll, err := db.CreateCollection(ctx, benchColl, collectionConfig(c))
	if err != nil {
		return nil, err
	}
	logf("embedded: loading %d points", c.n)
	start := time.Now()
	pts := make([]strata.Point, 0, c.batch)
	for i := 0; i < c.n; i += c.batch {
		pts = pts[:0]
		for j := i; j < min(i+c.batch, c.n); j++ {
			pts = append(pts, strata.Point{ID: strata.NumID(uint64(j)), Vector: d.base[j]})
		}
		if err := coll.Upsert(ctx, pts); err != nil {
			return nil, err
		}
	}
	res.LoadS = time.Since(start).Seconds()
	logf("embedded: building the HNSW graph")
	start = time.Now()
	if err := coll.Optimize(ctx); err != nil {
		return nil, err
	}
	if err := coll.WaitIndexed(ctx); err != nil {
		return nil, err
	}
	res.IndexS = time.Since(start).Seconds()

	search := func(i int) ([]strata.ScoredPoint, error) {
		return coll.Search(ctx, strata.SearchRequest{Vector: d.queries[i%c.nq], Limit: c.k, HnswEf: c.ef})
	}
	// Recall against exact search, so the figures are at a useful accuracy.
	nRecall := min(c.nq, 200)
	var hit, total int
	emb := &embeddedResult{top1: make([]strata.PointID, c.nq)}
	for i := range nRecall {
		exact, err := coll.Search(ctx, strata.SearchRequest{Vector: d.queries[i], Limit: c.k, Exact: true})
		if err != nil {
			return nil, err
		}
		approx, err := search(i)
		if err != nil {
			return nil, err
		}
		want := map[strata.PointID]bool{}
		for _, h := range exact {
			want[h.ID] = true
		}
		for _, h := range approx {
			if want[h.ID] {
				hit++
			}
		}
		total += len(exact)
	}
	res.Recall = float64(hit) / float64(total)
	for i := range c.nq {
		hits, err := search(i)
		if err != nil {
			return nil, err
		}
		if len(hits) != c.k {
			return nil, fmt.Errorf("embedded search %d: %d hits, want %d", i, len(hits), c.k)
		}
		emb.top1[i] = hits[0].ID
	}
	call := func(i int) error { _, err := search(i); return err }
	logf("embedded: latency and throughput")
	fig, err := latency(c, "embedded", call)
	if err != nil {
		return nil, err
	}
	res.Latency = append(res.Latency, fig)
	// The same calls after an idle pause, as a server sees sequential
	// requests: the cores' and the parked threads' wake-up is part of the
	// figure (the timed part is the call alone).
	var idle []float64
	for i := range c.latQueries / 3 {
		time.Sleep(200 * time.Microsecond)
		t := time.Now()
		if err := call(i); err != nil {
			return nil, err
		}
		idle = append(idle, float64(time.Since(t))/float64(time.Millisecond))
	}
	slices.Sort(idle)
	res.EmbeddedIdleP50Ms, res.EmbeddedIdleP99Ms = percentile(idle, 50), percentile(idle, 99)
	for _, n := range c.clients {
		fig, err := throughput(c, "embedded", n, call)
		if err != nil {
			return nil, err
		}
		res.QPS = append(res.QPS, fig)
	}

	logf("embedded: upserting %d points", c.upsertN)
	ing, err := db.CreateCollection(ctx, "ingest", ingestConfig(c))
	if err != nil {
		return nil, err
	}
	batches := make([][]strata.Point, 0, c.upsertN/c.batch+1)
	for i := 0; i < c.upsertN; i += c.batch {
		b := make([]strata.Point, 0, c.batch)
		for j := i; j < min(i+c.batch, c.upsertN); j++ {
			b = append(b, strata.Point{ID: strata.NumID(uint64(j)), Vector: d.ingest[j]})
		}
		batches = append(batches, b)
	}
	fig, err = upserts(c, "embedded", len(batches), func(i int) error { return ing.Upsert(ctx, batches[i]) })
	if err != nil {
		return nil, err
	}
	res.Upsert = append(res.Upsert, fig)
	if err := db.DeleteCollection(ctx, "ingest"); err != nil {
		return nil, err
	}
	return emb, db.Close()
}

// ingestConfig is the upsert figures' collection: indexing off, so that no
// background graph build overlaps the next measurement.
func ingestConfig(c *config) strata.CollectionConfig {
	cfg := collectionConfig(c)
	cfg.Optimizers.IndexingThresholdKB = -1 // over the APIs: indexing_threshold 0
	return cfg
}

// latency times c.latQueries sequential calls after c.warmup untimed ones.
func latency(c *config, mode string, call func(i int) error) (Figure, error) {
	for i := range c.warmup {
		if err := call(i); err != nil {
			return Figure{}, err
		}
	}
	lat := make([]float64, c.latQueries)
	start := time.Now()
	for i := range lat {
		t := time.Now()
		if err := call(i); err != nil {
			return Figure{}, err
		}
		lat[i] = float64(time.Since(t)) / float64(time.Millisecond)
	}
	el := time.Since(start).Seconds()
	slices.Sort(lat)
	return Figure{Mode: mode, Clients: 1, Ops: len(lat), Seconds: el, PerSec: float64(len(lat)) / el,
		P50Ms: percentile(lat, 50), P99Ms: percentile(lat, 99)}, nil
}

// throughput runs n callers for c.duration, each cycling through the
// queries from its own starting point.
func throughput(c *config, mode string, n int, call func(i int) error) (Figure, error) {
	for i := range c.warmup {
		if err := call(i); err != nil {
			return Figure{}, err
		}
	}
	var (
		wg       sync.WaitGroup
		stop     atomic.Bool
		firstErr atomic.Value
		lats     = make([][]float64, n)
	)
	start := time.Now()
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := make([]float64, 0, 1<<16)
			for i := g * 7919; !stop.Load(); i++ {
				t := time.Now()
				if err := call(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					stop.Store(true)
					return
				}
				l = append(l, float64(time.Since(t))/float64(time.Millisecond))
			}
			lats[g] = l
		}()
	}
	time.Sleep(c.duration)
	stop.Store(true)
	wg.Wait()
	el := time.Since(start).Seconds()
	if err, ok := firstErr.Load().(error); ok {
		return Figure{}, fmt.Errorf("%s with %d clients: %w", mode, n, err)
	}
	var all []float64
	for _, l := range lats {
		all = append(all, l...)
	}
	slices.Sort(all)
	return Figure{Mode: mode, Clients: n, Ops: len(all), Seconds: el, PerSec: float64(len(all)) / el,
		P50Ms: percentile(all, 50), P99Ms: percentile(all, 99)}, nil
}

// upserts runs nb batch calls one after the other; PerSec counts points.
func upserts(c *config, mode string, nb int, call func(i int) error) (Figure, error) {
	lat := make([]float64, nb)
	start := time.Now()
	for i := range nb {
		t := time.Now()
		if err := call(i); err != nil {
			return Figure{}, fmt.Errorf("%s upsert batch %d: %w", mode, i, err)
		}
		lat[i] = float64(time.Since(t)) / float64(time.Millisecond)
	}
	el := time.Since(start).Seconds()
	slices.Sort(lat)
	return Figure{Mode: mode, Clients: 1, Ops: nb, Seconds: el, PerSec: float64(c.upsertN) / el,
		P50Ms: percentile(lat, 50), P99Ms: percentile(lat, 99)}, nil
}

func runServed(c *config, d *data, dataDir, bin string, emb *embeddedResult, res *Result) error {
	httpPort, err := freePort()
	if err != nil {
		return err
	}
	grpcPort, err := freePort()
	if err != nil {
		return err
	}
	logf("starting %s serve (REST :%d, gRPC :%d)", bin, httpPort, grpcPort)
	srv := exec.Command(bin, "serve", "--data-dir", dataDir, "--http-port", strconv.Itoa(httpPort),
		"--grpc-port", strconv.Itoa(grpcPort), "--log-level", "warn")
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = srv.Process.Signal(syscall.SIGTERM)
		return srv.Wait()
	}
	defer stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	if err := waitReady(hc, base+"/readyz", 2*time.Minute); err != nil {
		return err
	}

	// REST: bodies encoded beforehand; responses decoded as a client would.
	bodies := make([][]byte, c.nq)
	for i, q := range d.queries {
		bodies[i], _ = json.Marshal(map[string]any{"query": q, "limit": c.k, "params": map[string]any{"hnsw_ef": c.ef}})
	}
	queryURL := base + "/collections/" + benchColl + "/points/query"
	var (
		handlerMu sync.Mutex
		handler   []float64 // the envelope's "time": the server's own time per query, ms
	)
	restQuery := func(i int) error {
		var out struct {
			Result struct {
				Points []struct {
					ID    uint64  `json:"id"`
					Score float32 `json:"score"`
				} `json:"points"`
			} `json:"result"`
			Time float64 `json:"time"`
		}
		if err := doJSON(hc, http.MethodPost, queryURL, bodies[i%c.nq], &out); err != nil {
			return err
		}
		handlerMu.Lock()
		handler = append(handler, out.Time*1000)
		handlerMu.Unlock()
		if len(out.Result.Points) != c.k {
			return fmt.Errorf("REST query %d: %d hits, want %d", i, len(out.Result.Points), c.k)
		}
		if want := emb.top1[i%c.nq]; strata.NumID(out.Result.Points[0].ID) != want {
			return fmt.Errorf("REST query %d: top hit %d, embedded gave %v", i, out.Result.Points[0].ID, want)
		}
		return nil
	}
	ping, err := latency(c, "rest-ping", func(int) error {
		resp, err := hc.Get(base + "/healthz")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	})
	if err != nil {
		return err
	}
	res.RESTPing = ping
	logf("REST: latency and throughput")
	fig, err := latency(c, "rest", restQuery)
	if err != nil {
		return err
	}
	res.Latency = append(res.Latency, fig)
	// The handler's share of the sequential queries (the last latQueries
	// recorded): what the server spends inside its REST handler, the rest
	// of the latency being HTTP, loopback and the client.
	h := slices.Clone(handler[len(handler)-c.latQueries:])
	slices.Sort(h)
	res.RESTHandlerP50Ms = percentile(h, 50)
	res.RESTHandlerP99Ms = percentile(h, 99)
	for _, n := range c.clients {
		fig, err := throughput(c, "rest", n, restQuery)
		if err != nil {
			return err
		}
		res.QPS = append(res.QPS, fig)
	}
	handler = nil

	// gRPC through Qdrant's Go client.
	gc, err := qdrant.NewClient(&qdrant.Config{Host: "127.0.0.1", Port: grpcPort, SkipCompatibilityCheck: true})
	if err != nil {
		return err
	}
	defer gc.Close()
	limit := uint64(c.k)
	ef := uint64(c.ef)
	reqs := make([]*qdrant.QueryPoints, c.nq)
	for i, q := range d.queries {
		reqs[i] = &qdrant.QueryPoints{CollectionName: benchColl, Query: qdrant.NewQueryDense(q), Limit: &limit,
			Params: &qdrant.SearchParams{HnswEf: &ef}}
	}
	ctx := context.Background()
	grpcQuery := func(i int) error {
		hits, err := gc.Query(ctx, reqs[i%c.nq])
		if err != nil {
			return err
		}
		if len(hits) != c.k {
			return fmt.Errorf("gRPC query %d: %d hits, want %d", i, len(hits), c.k)
		}
		if want := emb.top1[i%c.nq]; strata.NumID(hits[0].GetId().GetNum()) != want {
			return fmt.Errorf("gRPC query %d: top hit %v, embedded gave %v", i, hits[0].GetId(), want)
		}
		return nil
	}
	ping, err = latency(c, "grpc-ping", func(int) error { _, err := gc.HealthCheck(ctx); return err })
	if err != nil {
		return err
	}
	res.GRPCPing = ping
	logf("gRPC: latency and throughput")
	if err := measure(c, "grpc", grpcQuery, res); err != nil {
		return err
	}

	// Upserts.
	logf("REST: upserting %d points", c.upsertN)
	createBody := fmt.Sprintf(`{"vectors":{"size":%d,"distance":"Cosine"},"hnsw_config":{"m":%d,"ef_construct":%d},"optimizers_config":{"indexing_threshold":0}}`, c.dim, c.m, c.efc)
	if err := doJSON(hc, http.MethodPut, base+"/collections/ingest", []byte(createBody), nil); err != nil {
		return err
	}
	var restBatches [][]byte
	for i := 0; i < c.upsertN; i += c.batch {
		type pt struct {
			ID     int       `json:"id"`
			Vector []float32 `json:"vector"`
		}
		var b struct {
			Points []pt `json:"points"`
		}
		for j := i; j < min(i+c.batch, c.upsertN); j++ {
			b.Points = append(b.Points, pt{ID: j, Vector: d.ingest[j]})
		}
		body, _ := json.Marshal(b)
		restBatches = append(restBatches, body)
	}
	upURL := base + "/collections/ingest/points?wait=true"
	fig, err = upserts(c, "rest", len(restBatches), func(i int) error {
		return doJSON(hc, http.MethodPut, upURL, restBatches[i], nil)
	})
	if err != nil {
		return err
	}
	res.Upsert = append(res.Upsert, fig)
	if err := checkCount(hc, base, "ingest", c.upsertN); err != nil {
		return err
	}
	if err := doJSON(hc, http.MethodDelete, base+"/collections/ingest", nil, nil); err != nil {
		return err
	}
	restBatches = nil

	logf("gRPC: upserting %d points", c.upsertN)
	zero := uint64(0)
	err = gc.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName:   "ingest",
		VectorsConfig:    qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: uint64(c.dim), Distance: qdrant.Distance_Cosine}),
		HnswConfig:       &qdrant.HnswConfigDiff{M: ptr(uint64(c.m)), EfConstruct: ptr(uint64(c.efc))},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: &zero},
	})
	if err != nil {
		return err
	}
	wait := true
	var grpcBatches []*qdrant.UpsertPoints
	for i := 0; i < c.upsertN; i += c.batch {
		u := &qdrant.UpsertPoints{CollectionName: "ingest", Wait: &wait}
		for j := i; j < min(i+c.batch, c.upsertN); j++ {
			u.Points = append(u.Points, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(j)), Vectors: qdrant.NewVectorsDense(d.ingest[j])})
		}
		grpcBatches = append(grpcBatches, u)
	}
	fig, err = upserts(c, "grpc", len(grpcBatches), func(i int) error {
		_, err := gc.Upsert(ctx, grpcBatches[i])
		return err
	})
	if err != nil {
		return err
	}
	res.Upsert = append(res.Upsert, fig)
	if err := checkCount(hc, base, "ingest", c.upsertN); err != nil {
		return err
	}
	if err := gc.DeleteCollection(ctx, "ingest"); err != nil {
		return err
	}
	res.ServerRS = rssKiB(srv.Process.Pid)
	return stop()
}

func ptr[T any](v T) *T { return &v }

// measure records the latency and throughput figures of one served mode.
func measure(c *config, mode string, call func(i int) error, res *Result) error {
	fig, err := latency(c, mode, call)
	if err != nil {
		return err
	}
	res.Latency = append(res.Latency, fig)
	for _, n := range c.clients {
		fig, err := throughput(c, mode, n, call)
		if err != nil {
			return err
		}
		res.QPS = append(res.QPS, fig)
	}
	return nil
}

// doJSON sends body and decodes the envelope's answer into out (if not
// nil); a status other than 200 is an error carrying the server's message.
func doJSON(hc *http.Client, method, url string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func checkCount(hc *http.Client, base, coll string, want int) error {
	var out struct {
		Result struct {
			Count int `json:"count"`
		} `json:"result"`
	}
	if err := doJSON(hc, http.MethodPost, base+"/collections/"+coll+"/points/count", []byte(`{"exact":true}`), &out); err != nil {
		return err
	}
	if out.Result.Count != want {
		return fmt.Errorf("collection %s has %d points after the upserts, want %d", coll, out.Result.Count, want)
	}
	return nil
}

func waitReady(hc *http.Client, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not ready after %v: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAvg() (l [3]float64) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		l[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return l
}

// rssKiB reads a process's resident set size (VmRSS) from /proc.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func printResult(w io.Writer, r *Result) {
	fmt.Fprintf(w, "strata loadgen: %d x %d (cosine, Gaussian clusters), HNSW m=%d ef_construct=%d, top-%d at hnsw_ef=%d: recall@%d %.3f\n",
		r.N, r.Dim, r.M, r.Efc, r.K, r.Ef, r.K, r.Recall)
	fmt.Fprintf(w, "machine: %s, %d CPUs, %s; load %.2f -> %.2f\n\n", r.Env.CPU, r.Env.NumCPU, r.Env.GoVersion, r.Env.LoadStart[0], r.Env.LoadFinish[0])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	base := func(figs []Figure, clients int) Figure {
		for _, f := range figs {
			if f.Mode == "embedded" && f.Clients == clients {
				return f
			}
		}
		return Figure{}
	}
	fmt.Fprintln(tw, "query latency (1 caller)\tp50 ms\tp99 ms\tp50 over embedded ms\tp99 over embedded ms\t")
	for _, f := range r.Latency {
		b := base(r.Latency, 1)
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%+.3f\t%+.3f\t\n", f.Mode, f.P50Ms, f.P99Ms, f.P50Ms-b.P50Ms, f.P99Ms-b.P99Ms)
	}
	fmt.Fprintf(tw, "embedded after 200us idle\t%.3f\t%.3f\t%+.3f\t%+.3f\t\n", r.EmbeddedIdleP50Ms, r.EmbeddedIdleP99Ms, r.EmbeddedIdleP50Ms-base(r.Latency, 1).P50Ms, r.EmbeddedIdleP99Ms-base(r.Latency, 1).P99Ms)
	fmt.Fprintf(tw, "rest GET /healthz round trip\t%.3f\t%.3f\t\t\t\n", r.RESTPing.P50Ms, r.RESTPing.P99Ms)
	fmt.Fprintf(tw, "grpc health check round trip\t%.3f\t%.3f\t\t\t\n", r.GRPCPing.P50Ms, r.GRPCPing.P99Ms)
	fmt.Fprintf(tw, "rest handler only\t%.3f\t%.3f\t%+.3f\t%+.3f\t\n", r.RESTHandlerP50Ms, r.RESTHandlerP99Ms, r.RESTHandlerP50Ms-base(r.Latency, 1).P50Ms, r.RESTHandlerP99Ms-base(r.Latency, 1).P99Ms)
	fmt.Fprintln(tw, "\t\t\t\t\t")
	fmt.Fprintln(tw, "query throughput\tclients\tQPS\tx embedded\tp50 ms\tp99 ms\t")
	for _, f := range r.QPS {
		b := base(r.QPS, f.Clients)
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.2f\t%.3f\t%.3f\t\n", f.Mode, f.Clients, f.PerSec, f.PerSec/b.PerSec, f.P50Ms, f.P99Ms)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t")
	fmt.Fprintf(tw, "upsert (%d points, batches of %d)\tpoints/s\tx embedded\tp50 batch ms\tp99 batch ms\t\n", r.UpsertN, r.Batch)
	for _, f := range r.Upsert {
		b := base(r.Upsert, 1)
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.2f\t%.2f\t\n", f.Mode, f.PerSec, f.PerSec/b.PerSec, f.P50Ms, f.P99Ms)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nembedded load %.1f s, graph build %.1f s; server RSS at the end %d MiB\n", r.LoadS, r.IndexS, r.ServerRS/1024)
}
