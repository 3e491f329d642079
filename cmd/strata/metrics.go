package main

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc/codes"

	"github.com/strata-db/strata"
	grpcapi "github.com/strata-db/strata/api/grpc"
	"github.com/strata-db/strata/api/rest"
)

// Metrics served at GET /metrics. Names follow Qdrant's where Qdrant has
// the metric, so that its dashboards work; Strata's own start with
// "strata_".
//
//	app_info{name,version}                                 1
//	collections_total, collections_vector_total            gauges
//	collection_points{id}                                  live points per collection
//	collection_vectors{collection,vector}                  live vectors per dense vector
//	collection_running_optimizations{id}                   1 while an optimizer round or index build runs
//	rest_responses_total{method,endpoint,status}           counter (endpoint: the route pattern)
//	rest_responses_fail_total{method,endpoint,status}      counter (non-2xx answers)
//	rest_responses_duration_seconds{method,endpoint,status} histogram
//	rest_responses_{avg,min,max}_duration_seconds{...}     gauges (avg over the latest 128)
//	grpc_responses_total{endpoint,status}                  counter (status: the gRPC code name)
//	grpc_responses_fail_total, grpc_responses_duration_seconds, grpc_responses_{avg,min,max}_duration_seconds
//	strata_collection_status{collection,status}            1 for the current of green/yellow/red
//	strata_collection_segments{collection,kind}            sealed / appendable segments
//	strata_collection_indexed_vectors{collection}          vectors in HNSW graphs
//	strata_collection_pending_graphs{collection}           HNSW graphs due to be built
//	strata_collection_pending_field_indexes{collection}    payload index builds due
//	strata_wal_records_total, strata_wal_bytes_total{collection}
//	strata_wal_fsync_duration_seconds{collection}          summary: fsync count and total time
//	strata_wal_fsync_failures_total{collection}, strata_wal_files{collection}
//	strata_optimizer_{rounds,failures,segments_written,merges,vacuums}_total{collection}
//	strata_optimizer_failing{collection}                   1 while the last round failed
//	strata_indexer_graphs_built_total, strata_indexer_graph_build_seconds_total,
//	strata_indexer_graph_failures_total, strata_indexer_field_indexes_built_total,
//	strata_indexer_field_failures_total{collection}
//	strata_max_concurrent_requests                         the configured limit per API (0: none)
//	go_*, process_*                                        Go runtime and process (memory, CPU, files)
//
// Counters start from zero when the server starts. With anonymize=true,
// the values of the collection and id labels are replaced by the hash
// GET /telemetry?anonymize=true uses.

// latencyBuckets cover sub-millisecond searches to slow bulk writes.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metrics is the server's Prometheus registry and what feeds it.
type metrics struct {
	reg *prometheus.Registry
	// Per-route statistics for GET /telemetry and the avg/min/max gauges.
	restStats, grpcStats *rest.ResponseStats

	restTotal, restFails *prometheus.CounterVec
	restDuration         *prometheus.HistogramVec
	grpcTotal, grpcFails *prometheus.CounterVec
	grpcDuration         *prometheus.HistogramVec
}

// newMetrics builds the registry: request metrics fed by the APIs'
// observers, and a collector reading db's statistics at scrape time.
func newMetrics(db *strata.DB, version string, maxConcurrent int) *metrics {
	m := &metrics{reg: prometheus.NewRegistry(), restStats: &rest.ResponseStats{}, grpcStats: &rest.ResponseStats{}}
	restLabels, grpcLabels := []string{"method", "endpoint", "status"}, []string{"endpoint", "status"}
	m.restTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rest_responses_total", Help: "Responses of the REST API."}, restLabels)
	m.restFails = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rest_responses_fail_total", Help: "Failed (non-2xx) responses of the REST API."}, restLabels)
	m.restDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "rest_responses_duration_seconds", Help: "Response times of the REST API.", Buckets: latencyBuckets}, restLabels)
	m.grpcTotal = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_responses_total", Help: "Responses of the gRPC API."}, grpcLabels)
	m.grpcFails = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "grpc_responses_fail_total", Help: "Failed (not OK) responses of the gRPC API."}, grpcLabels)
	m.grpcDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "grpc_responses_duration_seconds", Help: "Response times of the gRPC API.", Buckets: latencyBuckets}, grpcLabels)
	m.reg.MustRegister(
		m.restTotal, m.restFails, m.restDuration, m.grpcTotal, m.grpcFails, m.grpcDuration,
		newEngineCollector(db, version, maxConcurrent, m.restStats, m.grpcStats),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// statusLabels are the texts of HTTP statuses, so that observing a
// request allocates no string.
var statusLabels = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// observeREST is the REST API's observer.
func (m *metrics) observeREST(o rest.Observation) {
	var status string
	if o.Status >= 0 && o.Status < len(statusLabels) {
		status = statusLabels[o.Status]
	} else {
		status = strconv.Itoa(o.Status)
	}
	m.restTotal.WithLabelValues(o.Method, o.Endpoint, status).Inc()
	if o.Status < 200 || o.Status > 299 {
		m.restFails.WithLabelValues(o.Method, o.Endpoint, status).Inc()
	}
	m.restDuration.WithLabelValues(o.Method, o.Endpoint, status).Observe(o.Duration.Seconds())
}

// observeGRPC is the gRPC API's observer; it also feeds the gRPC part of
// GET /telemetry.
func (m *metrics) observeGRPC(o grpcapi.Observation) {
	code := o.Code.String()
	m.grpcStats.Observe(o.Method, code, o.Code != codes.OK, o.Duration)
	m.grpcTotal.WithLabelValues(o.Method, code).Inc()
	if o.Code != codes.OK {
		m.grpcFails.WithLabelValues(o.Method, code).Inc()
	}
	m.grpcDuration.WithLabelValues(o.Method, code).Observe(o.Duration.Seconds())
}

// handler serves the registry in Prometheus's text format (or what the
// scraper negotiates). api/rest has checked the key and the query.
func (m *metrics) handler(log *slog.Logger) http.Handler {
	opts := promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}
	plain := promhttp.HandlerFor(m.reg, opts)
	anon := promhttp.HandlerFor(anonymizingGatherer{m.reg}, opts)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, _ := strconv.ParseBool(r.URL.Query().Get("anonymize")); ok {
			anon.ServeHTTP(w, r)
			return
		}
		plain.ServeHTTP(w, r)
	})
}

// anonymizingGatherer hashes the values of the labels that name
// collections.
type anonymizingGatherer struct{ g prometheus.Gatherer }

func (a anonymizingGatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := a.g.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if n := l.GetName(); n == "collection" || n == "id" {
					v := rest.Anonymize(l.GetValue())
					l.Value = &v
				}
			}
		}
	}
	return mfs, err
}

// engineCollector reads the database's statistics and the APIs'
// per-route statistics at scrape time.
type engineCollector struct {
	db            *strata.DB
	maxConcurrent float64
	restStats     *rest.ResponseStats
	grpcStats     *rest.ResponseStats

	appInfo                                          prometheus.Metric
	collections, vectorsTotal, maxConcurrentDesc     *prometheus.Desc
	points, vectors, running                         *prometheus.Desc
	status, segments, indexed, pendingGraphs         *prometheus.Desc
	pendingFields                                    *prometheus.Desc
	walRecords, walBytes, walFsync, walFails         *prometheus.Desc
	walFiles                                         *prometheus.Desc
	optRounds, optFails, optSegments, optMerges      *prometheus.Desc
	optVacuums, optFailing                           *prometheus.Desc
	graphs, graphSeconds, graphFails, fields, fieldF *prometheus.Desc
	restAvg, restMin, restMax                        *prometheus.Desc
	grpcAvg, grpcMin, grpcMax                        *prometheus.Desc
}

func newEngineCollector(db *strata.DB, version string, maxConcurrent int, restStats, grpcStats *rest.ResponseStats) *engineCollector {
	coll := []string{"collection"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	restLabels, grpcLabels := []string{"method", "endpoint", "status"}, []string{"endpoint", "status"}
	return &engineCollector{
		db:                db,
		maxConcurrent:     float64(maxConcurrent),
		restStats:         restStats,
		grpcStats:         grpcStats,
		appInfo:           prometheus.MustNewConstMetric(d("app_info", "Information about the Strata server.", "name", "version"), prometheus.GaugeValue, 1, "strata", version),
		collections:       d("collections_total", "Number of collections."),
		vectorsTotal:      d("collections_vector_total", "Total number of live vectors in all collections."),
		maxConcurrentDesc: d("strata_max_concurrent_requests", "Requests each API handles at once (service.max_concurrent_requests; 0: no limit)."),
		points:            d("collection_points", "Live points per collection.", "id"),
		vectors:           d("collection_vectors", "Live vectors per collection and dense vector.", "collection", "vector"),
		running:           d("collection_running_optimizations", "1 while an optimizer round or an index build runs.", "id"),
		status:            d("strata_collection_status", "1 for the collection's current status (green, yellow, red).", "collection", "status"),
		segments:          d("strata_collection_segments", "Segments by kind: sealed (files) or appendable (in memory).", "collection", "kind"),
		indexed:           d("strata_collection_indexed_vectors", "Vectors in HNSW graphs.", coll...),
		pendingGraphs:     d("strata_collection_pending_graphs", "HNSW graphs due to be built.", coll...),
		pendingFields:     d("strata_collection_pending_field_indexes", "Payload index builds due for sealed segments.", coll...),
		walRecords:        d("strata_wal_records_total", "Write-ahead log records appended.", coll...),
		walBytes:          d("strata_wal_bytes_total", "Write-ahead log bytes appended.", coll...),
		walFsync:          d("strata_wal_fsync_duration_seconds", "Write-ahead log fsyncs and their total time.", coll...),
		walFails:          d("strata_wal_fsync_failures_total", "Failed write-ahead log fsyncs (each makes the collection read-only).", coll...),
		walFiles:          d("strata_wal_files", "Write-ahead log files on disk.", coll...),
		optRounds:         d("strata_optimizer_rounds_total", "Optimizer rounds committed.", coll...),
		optFails:          d("strata_optimizer_failures_total", "Optimizer rounds failed (each is retried).", coll...),
		optSegments:       d("strata_optimizer_segments_written_total", "Sealed segments written by the optimizer.", coll...),
		optMerges:         d("strata_optimizer_merges_total", "Optimizer rounds that merged segments.", coll...),
		optVacuums:        d("strata_optimizer_vacuums_total", "Segments rewritten without their deleted points.", coll...),
		optFailing:        d("strata_optimizer_failing", "1 while the collection's last optimizer round failed.", coll...),
		graphs:            d("strata_indexer_graphs_built_total", "HNSW graphs built.", coll...),
		graphSeconds:      d("strata_indexer_graph_build_seconds_total", "Time spent building HNSW graphs.", coll...),
		graphFails:        d("strata_indexer_graph_failures_total", "Failed HNSW graph builds (each is retried).", coll...),
		fields:            d("strata_indexer_field_indexes_built_total", "Payload indexes built for existing sealed segments.", coll...),
		fieldF:            d("strata_indexer_field_failures_total", "Failed payload index builds (each is retried).", coll...),
		restAvg:           d("rest_responses_avg_duration_seconds", "Average response time of the latest 128 REST responses.", restLabels...),
		restMin:           d("rest_responses_min_duration_seconds", "Minimum REST response time.", restLabels...),
		restMax:           d("rest_responses_max_duration_seconds", "Maximum REST response time.", restLabels...),
		grpcAvg:           d("grpc_responses_avg_duration_seconds", "Average response time of the latest 128 gRPC responses.", grpcLabels...),
		grpcMin:           d("grpc_responses_min_duration_seconds", "Minimum gRPC response time.", grpcLabels...),
		grpcMax:           d("grpc_responses_max_duration_seconds", "Maximum gRPC response time.", grpcLabels...),
	}
}

func (c *engineCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{
		c.appInfo.Desc(), c.collections, c.vectorsTotal, c.maxConcurrentDesc, c.points, c.vectors, c.running,
		c.status, c.segments, c.indexed, c.pendingGraphs, c.pendingFields,
		c.walRecords, c.walBytes, c.walFsync, c.walFails, c.walFiles,
		c.optRounds, c.optFails, c.optSegments, c.optMerges, c.optVacuums, c.optFailing,
		c.graphs, c.graphSeconds, c.graphFails, c.fields, c.fieldF,
		c.restAvg, c.restMin, c.restMax, c.grpcAvg, c.grpcMin, c.grpcMax,
	}
}

// Describe implements prometheus.Collector.
func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs() {
		ch <- d
	}
}

// scrapeTimeout bounds reading the database's statistics.
const scrapeTimeout = 10 * time.Second

// Collect implements prometheus.Collector.
func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- c.appInfo
	ch <- prometheus.MustNewConstMetric(c.maxConcurrentDesc, prometheus.GaugeValue, c.maxConcurrent)
	c.collectResponses(ch, c.restStats, true, c.restAvg, c.restMin, c.restMax)
	c.collectResponses(ch, c.grpcStats, false, c.grpcAvg, c.grpcMin, c.grpcMax)

	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	stats, err := c.db.Stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.collections, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	total := 0
	for _, st := range stats.Collections {
		name := st.Name
		gauge(c.points, float64(st.Points), name)
		for vec, n := range st.Vectors {
			gauge(c.vectors, float64(n), name, vec)
			total += n
		}
		gauge(c.running, b2f(st.Optimizing), name)
		for _, s := range []strata.CollectionStatus{strata.StatusGreen, strata.StatusYellow, strata.StatusRed} {
			gauge(c.status, b2f(st.Status == s), name, string(s))
		}
		gauge(c.segments, float64(st.SealedSegments), name, "sealed")
		gauge(c.segments, float64(st.AppendableSegments), name, "appendable")
		gauge(c.indexed, float64(st.IndexedVectors), name)
		gauge(c.pendingGraphs, float64(st.PendingGraphs), name)
		gauge(c.pendingFields, float64(st.PendingFieldIndexes), name)

		counter(c.walRecords, float64(st.WAL.Records), name)
		counter(c.walBytes, float64(st.WAL.Bytes), name)
		ch <- prometheus.MustNewConstSummary(c.walFsync, st.WAL.Fsyncs, st.WAL.FsyncTime.Seconds(), nil, name)
		counter(c.walFails, float64(st.WAL.FsyncFailures), name)
		gauge(c.walFiles, float64(st.WAL.Files), name)

		counter(c.optRounds, float64(st.Optimizer.Rounds), name)
		counter(c.optFails, float64(st.Optimizer.Failures), name)
		counter(c.optSegments, float64(st.Optimizer.SegmentsWritten), name)
		counter(c.optMerges, float64(st.Optimizer.Merges), name)
		counter(c.optVacuums, float64(st.Optimizer.Vacuums), name)
		gauge(c.optFailing, b2f(st.Optimizer.LastError != nil), name)

		counter(c.graphs, float64(st.Indexer.GraphsBuilt), name)
		counter(c.graphSeconds, st.Indexer.GraphBuildTime.Seconds(), name)
		counter(c.graphFails, float64(st.Indexer.GraphFailures), name)
		counter(c.fields, float64(st.Indexer.FieldIndexesBuilt), name)
		counter(c.fieldF, float64(st.Indexer.FieldFailures), name)
	}
	gauge(c.collections, float64(len(stats.Collections)))
	gauge(c.vectorsTotal, float64(total))
}

// collectResponses reports the avg/min/max gauges of one API's per-route
// statistics. REST keys are "METHOD /path"; gRPC keys are full method
// names.
func (c *engineCollector) collectResponses(ch chan<- prometheus.Metric, rs *rest.ResponseStats, isREST bool, avg, lo, hi *prometheus.Desc) {
	const us = 1e-6
	for key, byStatus := range rs.Snapshot() {
		labels := []string{key}
		if isREST {
			method, endpoint, _ := strings.Cut(key, " ")
			labels = []string{method, endpoint}
		}
		for status, st := range byStatus {
			ls := append(labels[:len(labels):len(labels)], status)
			ch <- prometheus.MustNewConstMetric(avg, prometheus.GaugeValue, st.AvgDurationMicros*us, ls...)
			ch <- prometheus.MustNewConstMetric(lo, prometheus.GaugeValue, st.MinDurationMicros*us, ls...)
			ch <- prometheus.MustNewConstMetric(hi, prometheus.GaugeValue, st.MaxDurationMicros*us, ls...)
		}
	}
}
