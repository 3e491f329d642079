package rest

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-db/strata"
)

// newEnvWith is newEnv with a hook to add routes to the server's mux
// before it serves.
func newEnvWith(t *testing.T, opts Options, addRoutes func(*server, *http.ServeMux)) *env {
	t.Helper()
	db, err := strata.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, mux, h := newServer(db, opts)
	if addRoutes != nil {
		addRoutes(s, mux)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{t: t, db: db, srv: srv, header: http.Header{}}
}

// TestObserver: the observer sees every request once, with the route's
// method and path pattern (never a raw path with names or ids) and the
// status answered.
func TestObserver(t *testing.T) {
	seen := make(chan Observation, 1)
	e := newEnv(t, Options{Observer: func(o Observation) { seen <- o }})
	check := func(method, path string, body any, want Observation) {
		t.Helper()
		r := e.do(method, path, body)
		got := <-seen // sent before the server handles the next request
		if got.Method != want.Method || got.Endpoint != want.Endpoint || got.Status != want.Status || r.status != want.Status {
			t.Errorf("%s %s: observed %+v (answered %d), want %+v", method, path, got, r.status, want)
		}
		if got.Duration <= 0 {
			t.Errorf("%s %s: duration %v", method, path, got.Duration)
		}
	}
	check("PUT", "/collections/docs", `{"vectors": {"size": 2, "distance": "Dot"}}`, Observation{Method: "PUT", Endpoint: "/collections/{name}", Status: 200})
	check("PUT", "/collections/docs/points?wait=true", `{"points": [{"id": 7, "vector": [1, 2]}]}`, Observation{Method: "PUT", Endpoint: "/collections/{name}/points", Status: 200})
	check("GET", "/collections/docs/points/7", nil, Observation{Method: "GET", Endpoint: "/collections/{name}/points/{id}", Status: 200})
	check("GET", "/collections/docs/points/8", nil, Observation{Method: "GET", Endpoint: "/collections/{name}/points/{id}", Status: 404})
	check("GET", "/collections/nope", nil, Observation{Method: "GET", Endpoint: "/collections/{name}", Status: 404})
	check("POST", "/collections/docs/points/search", `{"vector": "bad"}`, Observation{Method: "POST", Endpoint: "/collections/{name}/points/search", Status: 400})
	check("GET", "/", nil, Observation{Method: "GET", Endpoint: "/", Status: 200})
	check("GET", "/healthz", nil, Observation{Method: "GET", Endpoint: "/healthz", Status: 200})
	check("GET", "/telemetry", nil, Observation{Method: "GET", Endpoint: "/telemetry", Status: 200})
	check("GET", "/metrics", nil, Observation{Method: "GET", Endpoint: "unmatched", Status: 404}) // no Metrics handler
	check("DELETE", "/no/such/path/123", nil, Observation{Method: "DELETE", Endpoint: "unmatched", Status: 404})
	check("BREW", "/collections/docs", nil, Observation{Method: "OTHER", Endpoint: "unmatched", Status: 404})
	select {
	case o := <-seen:
		t.Fatalf("an extra observation: %+v", o)
	default:
	}
}

// TestConcurrencyLimit: with one slot held by a blocked handler, a request
// waits for its timeout and gets 503 in Qdrant's envelope; health checks
// and /metrics are not limited; once the slot frees, requests go through.
func TestConcurrencyLimit(t *testing.T) {
	entered, unblock := make(chan struct{}), make(chan struct{})
	var logs syncBuffer
	e := newEnvWith(t, Options{
		MaxConcurrentRequests: 1,
		Logger:                slog.New(slog.NewTextHandler(&logs, nil)),
		Metrics:               http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "metrics\n") }),
	}, func(s *server, mux *http.ServeMux) {
		s.route(mux, "GET /test/block", read, func(*http.Request) (any, error) {
			entered <- struct{}{}
			<-unblock
			return "unblocked", nil
		})
	})
	blocked := make(chan *response, 1)
	go func() { blocked <- e.do("GET", "/test/block", nil) }()
	<-entered // the only slot is taken

	r := e.fail("GET", "/collections?timeout=1", nil, http.StatusServiceUnavailable,
		"Service unavailable: too many concurrent requests: all 1 request slots (max_concurrent_requests) stayed busy until this request's timeout")
	if r.json["status"].(map[string]any)["error"] == nil {
		t.Fatalf("not Qdrant's error envelope: %s", r.body)
	}
	for _, path := range []string{"/healthz", "/livez", "/readyz", "/metrics"} {
		if r := e.do("GET", path, nil); r.status != 200 {
			t.Fatalf("%s while the slot is busy: %d %s", path, r.status, r.body)
		}
	}
	// A request without a deadline waits for the slot.
	waiting := make(chan *response, 1)
	go func() { waiting <- e.do("GET", "/collections", nil) }()
	close(unblock)
	if r := <-blocked; r.status != 200 || r.result() != "unblocked" {
		t.Fatalf("blocked request: %d %s", r.status, r.body)
	}
	if r := <-waiting; r.status != 200 {
		t.Fatalf("waiting request: %d %s", r.status, r.body)
	}
	e.ok("GET", "/collections", nil)
	if !regexp.MustCompile(`level=WARN msg=request method=GET route="GET /collections" status=503 `).MatchString(logs.String()) {
		t.Errorf("no warning for the refused request:\n%s", logs.String())
	}
}

// TestRequestLogFields: the log line has what an operator needs.
func TestRequestLogFields(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	body := `{"vectors": {"size": 2, "distance": "Dot"}}`
	e.ok("PUT", "/collections/docs", body)
	re := regexp.MustCompile(`level=INFO msg=request method=PUT route="PUT /collections/{name}" status=200 duration=\S+ remote=127\.0\.0\.1:\d+ request_bytes=(\d+) response_bytes=(\d+)`)
	m := re.FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("log:\n%s", logs.String())
	}
	if m[1] != strconv.Itoa(len(body)) || m[2] == "0" {
		t.Errorf("request_bytes=%s (want %d) response_bytes=%s", m[1], len(body), m[2])
	}
}

// TestTelemetry checks GET /telemetry's shape at each details level.
func TestTelemetry(t *testing.T) {
	grpcStats := &ResponseStats{}
	grpcStats.Observe("/qdrant.Points/Upsert", "OK", false, 3*time.Millisecond)
	grpcStats.Observe("/qdrant.Points/Upsert", "OK", false, 5*time.Millisecond)
	grpcStats.Observe("/qdrant.Points/Upsert", "NotFound", true, time.Millisecond)
	started := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	e := newEnv(t, Options{Version: "v9.9.9", InstanceID: "11111111-2222-4333-8444-555555555555", Started: started, GRPCResponses: grpcStats})
	e.create("docs", map[string]any{"vectors": map[string]any{"a": map[string]any{"size": 2, "distance": "Dot"}, "b": map[string]any{"size": 3, "distance": "Euclid"}}})
	e.write("PUT", "/collections/docs/points", `{"points": [{"id": 1, "vector": {"a": [1, 2], "b": [1, 2, 3]}}, {"id": 2, "vector": {"a": [3, 4]}}]}`)
	e.fail("GET", "/collections/nope", nil, 404, "Not found")

	res := e.ok("GET", "/telemetry", nil).(map[string]any)
	jsonEqual(t, res["id"], `"11111111-2222-4333-8444-555555555555"`)
	jsonEqual(t, res["app"], `{"name": "strata", "version": "v9.9.9", "startup": "2025-01-02T03:04:05Z"}`)
	jsonEqual(t, res["collections"], `{"number_of_collections": 1}`)
	rest := res["requests"].(map[string]any)["rest"].(map[string]any)["responses"].(map[string]any)
	upserts := rest["PUT /collections/{name}/points"].(map[string]any)["200"].(map[string]any)
	if upserts["count"] != 1.0 || upserts["fail_count"] != 0.0 || upserts["avg_duration_micros"].(float64) <= 0 ||
		upserts["min_duration_micros"] != upserts["max_duration_micros"] || upserts["avg_duration_micros"] != upserts["min_duration_micros"] {
		t.Errorf("upserts: %v", upserts)
	}
	if last, err := time.Parse(time.RFC3339Nano, upserts["last_responded"].(string)); err != nil || time.Since(last) > time.Hour || time.Since(last) < 0 {
		t.Errorf("last_responded %v: %v", upserts["last_responded"], err)
	}
	notFound := rest["GET /collections/{name}"].(map[string]any)["404"].(map[string]any)
	if notFound["count"] != 1.0 || notFound["fail_count"] != 1.0 {
		t.Errorf("404s: %v", notFound)
	}
	for key := range rest {
		if strings.Contains(key, "docs") || strings.Contains(key, "nope") {
			t.Errorf("a raw path in the telemetry: %q", key)
		}
	}
	grpcRes := res["requests"].(map[string]any)["grpc"].(map[string]any)["responses"].(map[string]any)
	ok := grpcRes["/qdrant.Points/Upsert"].(map[string]any)["OK"].(map[string]any)
	if ok["count"] != 2.0 || ok["avg_duration_micros"] != 4000.0 || ok["min_duration_micros"] != 3000.0 || ok["max_duration_micros"] != 5000.0 || ok["total_duration_micros"] != 8000.0 {
		t.Errorf("gRPC upserts: %v", ok)
	}

	// Level 1: Qdrant's aggregated collection entries.
	res = e.ok("GET", "/telemetry?details_level=1", nil).(map[string]any)
	colls := res["collections"].(map[string]any)["collections"].([]any)
	if len(colls) != 1 {
		t.Fatalf("collections: %v", colls)
	}
	agg := colls[0].(map[string]any)
	if agg["vectors"] != 3.0 || agg["optimizers_status"] != "ok" {
		t.Errorf("aggregated: %v", agg)
	}
	jsonEqual(t, agg["params"].(map[string]any)["vectors"], `{"a": {"size": 2, "distance": "Dot"}, "b": {"size": 3, "distance": "Euclid"}}`)

	// Level 2: the full entries, named, anonymized on request.
	res = e.ok("GET", "/telemetry?details_level=2", nil).(map[string]any)
	full := res["collections"].(map[string]any)["collections"].([]any)[0].(map[string]any)
	if full["id"] != "docs" {
		t.Errorf("id %v", full["id"])
	}
	cfg := full["config"].(map[string]any)
	for _, k := range []string{"params", "hnsw_config", "optimizer_config", "wal_config"} {
		if cfg[k] == nil {
			t.Errorf("config lacks %s: %v", k, cfg)
		}
	}
	res = e.ok("GET", "/telemetry?details_level=3&anonymize=true&per_collection=false", nil).(map[string]any)
	full = res["collections"].(map[string]any)["collections"].([]any)[0].(map[string]any)
	if id, _ := full["id"].(string); !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("anonymized id %q", id)
	}

	e.fail("GET", "/telemetry?details_level=-1", nil, 400, "details_level: expected a non-negative integer")
	e.fail("GET", "/telemetry?anonymize=maybe", nil, 400, "anonymize: expected true or false")
}

// TestResponseStatsAverage: the average covers the latest 128 responses.
func TestResponseStatsAverage(t *testing.T) {
	var s ResponseStats
	for range 200 {
		s.Observe("e", "200", false, time.Second)
	}
	for range 128 {
		s.Observe("e", "200", false, time.Millisecond)
	}
	st := s.Snapshot()["e"]["200"]
	if st.Count != 328 || st.AvgDurationMicros != 1000 || st.MinDurationMicros != 1000 || st.MaxDurationMicros != 1e6 || st.TotalDurationMicros != 200e6+128e3 {
		t.Fatalf("%+v", st)
	}
}

// TestMetricsAndTelemetryAuth: both need the read key when keys are set,
// as in Qdrant; the metrics handler gets checked query parameters.
func TestMetricsAndTelemetryAuth(t *testing.T) {
	var gotQuery string
	var gotDeadline bool
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		_, gotDeadline = r.Context().Deadline()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, "collections_total 0\n")
	})
	e := newEnv(t, Options{APIKey: "rw", ReadOnlyAPIKey: "ro", Metrics: metrics})
	for _, path := range []string{"/metrics", "/telemetry"} {
		e.fail("GET", path, nil, 401, "Must provide an API key")
		e.header.Set("api-key", "wrong")
		e.fail("GET", path, nil, 401, "Invalid API key")
		for _, key := range []string{"ro", "rw"} {
			e.header.Set("api-key", key)
			if r := e.do("GET", path, nil); r.status != 200 {
				t.Errorf("%s with the %s key: %d %s", path, key, r.status, r.body)
			}
		}
		e.header.Del("api-key")
	}
	e.header.Set("Authorization", "Bearer ro")
	r := e.do("GET", "/metrics?anonymize=true&timeout=5", nil)
	if r.status != 200 || string(r.body) != "collections_total 0\n" || gotQuery != "anonymize=true&timeout=5" || !gotDeadline {
		t.Fatalf("metrics: %d %q, query %q, deadline %v", r.status, r.body, gotQuery, gotDeadline)
	}
	e.fail("GET", "/metrics?anonymize=yes", nil, 400, "Format error in query parameters: anonymize: expected true or false")
	e.fail("GET", "/metrics?timeout=0", nil, 400, "timeout")
}

// The telemetry answer is Qdrant's envelope with a JSON object result.
func TestTelemetryEnvelope(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.do("GET", "/telemetry", nil)
	var env struct {
		Result json.RawMessage `json:"result"`
		Status string          `json:"status"`
		Time   float64         `json:"time"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || env.Status != "ok" || len(env.Result) == 0 || env.Result[0] != '{' {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	if !regexp.MustCompile(`"id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"`).Match(env.Result) {
		t.Errorf("no random UUID id: %s", env.Result)
	}
}
