package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/strata-db/strata/api/rest"
)

// scrape fetches path with the given api-key ("" for none) and returns
// the status, content type and body.
func scrape(t *testing.T, c *http.Client, url, key string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("api-key", key)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// families parses Prometheus's text format.
func families(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, text)
	}
	return mfs
}

// sample finds the metric of family name whose labels include want; ok is
// false if there is none.
func sample(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, bool) {
	mf := mfs[name]
	if mf == nil {
		return nil, false
	}
	for _, m := range mf.GetMetric() {
		match := 0
		for _, l := range m.GetLabel() {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				match++
			}
		}
		if match == len(want) {
			return m, true
		}
	}
	return nil, false
}

// value returns the value of a counter, gauge or untyped sample, or the
// count of a histogram or summary.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m, ok := sample(mfs, name, labels)
	if !ok {
		t.Fatalf("no %s%v in the metrics", name, labels)
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Summary != nil:
		return float64(m.Summary.GetSampleCount())
	}
	return m.GetUntyped().GetValue()
}

// TestMetrics serves a data directory, makes REST and gRPC calls, and
// checks what GET /metrics and GET /telemetry report about them.
func TestMetrics(t *testing.T) {
	logs, stop := serveInProcess(t, []string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--http-port", "0", "--max-concurrent-requests", "7"}, nil)
	defer func() {
		if code := stop(); code != 0 {
			t.Errorf("exit code %d", code)
		}
	}()
	base := "http://" + logs.addr(t)
	// One connection: the server handles a request only after the previous
	// one's handler (and so its observer) has returned.
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1}}
	c := &client{t: t, base: base, http: httpc}
	c.ok("PUT", "/collections/docs", `{"vectors": {"size": 3, "distance": "Cosine"}}`)
	c.ok("PUT", "/collections/docs/points?wait=true", `{"points": [
		{"id": 1, "vector": [1, 0, 0]}, {"id": 2, "vector": [0, 1, 0]}, {"id": 3, "vector": [0, 0, 1]}]}`)
	c.ok("GET", "/collections/docs", "")
	c.ok("GET", "/collections/docs", "")
	if status, _ := c.call("GET", "/collections/nope", ""); status != 404 {
		t.Fatalf("missing collection: %d", status)
	}

	conn, err := grpc.NewClient(logs.grpcAddr(t), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := qdrant.NewCollectionsClient(conn).List(context.Background(), &qdrant.ListCollectionsRequest{}); err != nil {
		t.Fatal(err)
	}

	status, ctype, text := scrape(t, httpc, base+"/metrics", "")
	if status != 200 || !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("GET /metrics: %d %s\n%s", status, ctype, text)
	}
	mfs := families(t, text)
	get := func(name string, labels map[string]string) float64 { t.Helper(); return value(t, mfs, name, labels) }
	getCollection := map[string]string{"method": "GET", "endpoint": "/collections/{name}"}
	with := func(m map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for kk, vv := range m {
			out[kk] = vv
		}
		return out
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"rest_responses_total", with(getCollection, "status", "200"), 2},
		{"rest_responses_total", with(getCollection, "status", "404"), 1},
		{"rest_responses_fail_total", with(getCollection, "status", "404"), 1},
		{"rest_responses_duration_seconds", with(getCollection, "status", "200"), 2},
		{"rest_responses_total", map[string]string{"method": "PUT", "endpoint": "/collections/{name}/points", "status": "200"}, 1},
		{"grpc_responses_total", map[string]string{"endpoint": "/qdrant.Collections/List", "status": "OK"}, 1},
		{"grpc_responses_duration_seconds", map[string]string{"endpoint": "/qdrant.Collections/List", "status": "OK"}, 1},
		{"collections_total", nil, 1},
		{"collections_vector_total", nil, 3},
		{"collection_points", map[string]string{"id": "docs"}, 3},
		{"collection_vectors", map[string]string{"collection": "docs", "vector": ""}, 3},
		{"collection_running_optimizations", map[string]string{"id": "docs"}, 0},
		{"strata_collection_status", map[string]string{"collection": "docs", "status": "green"}, 1},
		{"strata_collection_status", map[string]string{"collection": "docs", "status": "red"}, 0},
		{"strata_collection_segments", map[string]string{"collection": "docs", "kind": "appendable"}, 1},
		{"strata_wal_records_total", map[string]string{"collection": "docs"}, 1},
		{"strata_wal_fsync_failures_total", map[string]string{"collection": "docs"}, 0},
		{"strata_optimizer_failing", map[string]string{"collection": "docs"}, 0},
		{"app_info", map[string]string{"name": "strata", "version": strataVersion()}, 1},
		{"strata_max_concurrent_requests", nil, 7},
	} {
		if got := get(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := get("strata_wal_fsync_duration_seconds", map[string]string{"collection": "docs"}); n < 1 {
		t.Errorf("WAL fsyncs: %v", n)
	}
	if v := get("rest_responses_avg_duration_seconds", with(getCollection, "status", "200")); v <= 0 {
		t.Errorf("average REST duration %v", v)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if v := get(name, nil); v <= 0 {
			t.Errorf("%s = %v", name, v)
		}
	}
	// Endpoints are route patterns: no collection name or id in them.
	for _, name := range []string{"rest_responses_total", "rest_responses_duration_seconds"} {
		for _, m := range mfs[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "docs") || strings.Contains(l.GetValue(), "nope") {
					t.Errorf("%s has a raw path: %v", name, m.GetLabel())
				}
			}
		}
	}

	// The scrape itself is counted by the next one; anonymize hashes the
	// collection names.
	_, _, text = scrape(t, httpc, base+"/metrics?anonymize=true", "")
	mfs = families(t, text)
	if got := get("rest_responses_total", map[string]string{"method": "GET", "endpoint": "/metrics", "status": "200"}); got != 1 {
		t.Errorf("scrapes counted: %v", got)
	}
	if got := get("collection_points", map[string]string{"id": rest.Anonymize("docs")}); got != 3 {
		t.Errorf("anonymized collection_points: %v", got)
	}
	if strings.Contains(text, `"docs"`) {
		t.Errorf("anonymize=true leaks the collection name:\n%s", text)
	}

	// Telemetry reports both APIs from the same statistics.
	var tel struct {
		Result struct {
			App struct {
				Name string `json:"name"`
			} `json:"app"`
			Requests struct {
				REST struct {
					Responses map[string]map[string]rest.OperationStats `json:"responses"`
				} `json:"rest"`
				GRPC struct {
					Responses map[string]map[string]rest.OperationStats `json:"responses"`
				} `json:"grpc"`
			} `json:"requests"`
		} `json:"result"`
	}
	_, _, body := scrape(t, httpc, base+"/telemetry", "")
	if err := json.Unmarshal([]byte(body), &tel); err != nil {
		t.Fatalf("telemetry %s: %v", body, err)
	}
	r := tel.Result
	if r.App.Name != "strata" || r.Requests.REST.Responses["GET /collections/{name}"]["200"].Count != 2 ||
		r.Requests.GRPC.Responses["/qdrant.Collections/List"]["OK"].Count != 1 {
		t.Errorf("telemetry: %s", body)
	}
}

// TestMetricsAuth: with API keys, /metrics and /telemetry need one (the
// read-only key will do), as in Qdrant.
func TestMetricsAuth(t *testing.T) {
	logs, stop := serveInProcess(t, []string{"--data-dir", filepath.Join(t.TempDir(), "data"), "--http-port", "0",
		"--api-key", "rw-key", "--read-only-api-key", "ro-key"}, nil)
	defer stop()
	base := "http://" + logs.addr(t)
	httpc := &http.Client{Timeout: 30 * time.Second}
	for _, path := range []string{"/metrics", "/telemetry"} {
		if status, _, body := scrape(t, httpc, base+path, ""); status != 401 {
			t.Errorf("%s without a key: %d %s", path, status, body)
		}
		if status, _, body := scrape(t, httpc, base+path, "wrong"); status != 401 {
			t.Errorf("%s with a wrong key: %d %s", path, status, body)
		}
		for _, key := range []string{"ro-key", "rw-key"} {
			if status, _, body := scrape(t, httpc, base+path, key); status != 200 {
				t.Errorf("%s with %s: %d %s", path, key, status, body)
			}
		}
	}
	// The health checks stay open.
	if status, _, _ := scrape(t, httpc, base+"/healthz", ""); status != 200 {
		t.Errorf("healthz: %d", status)
	}
}

// TestMaxConcurrentRequestsConfig: flags > environment > file > default,
// 0 (no limit) allowed, negative refused.
func TestMaxConcurrentRequestsConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte("service:\n  max_concurrent_requests: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"STRATA__SERVICE__MAX_CONCURRENT_REQUESTS=20"}
	for _, c := range []struct {
		args []string
		env  []string
		want int
	}{
		{nil, nil, defaultMaxConcurrentRequests()},
		{[]string{"--config", file}, nil, 10},
		{[]string{"--config", file}, env, 20},
		{[]string{"--config", file, "--max-concurrent-requests", "30"}, env, 30},
		{[]string{"--max-concurrent-requests", "0"}, env, 0},
	} {
		cfg, err := loadConfig(c.args, c.env, io.Discard)
		if err != nil || cfg.MaxConcurrentRequests != c.want {
			t.Errorf("%v %v: %d %v, want %d", c.args, c.env, cfg.MaxConcurrentRequests, err, c.want)
		}
	}
	if d := defaultMaxConcurrentRequests(); d < 64 {
		t.Errorf("default %d", d)
	}
	if _, err := loadConfig(nil, []string{"STRATA__SERVICE__MAX_CONCURRENT_REQUESTS=-1"}, io.Discard); err == nil || !strings.Contains(err.Error(), "STRATA__SERVICE__MAX_CONCURRENT_REQUESTS: expected an integer from 0") {
		t.Errorf("negative limit: %v", err)
	}
	var usage strings.Builder
	if _, err := loadConfig([]string{"-h"}, nil, &usage); err == nil || !strings.Contains(usage.String(), "service.max_concurrent_requests  STRATA__SERVICE__MAX_CONCURRENT_REQUESTS") {
		t.Errorf("usage lacks the key:\n%s", usage.String())
	}
}
