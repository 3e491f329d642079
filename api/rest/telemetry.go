package rest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/strata-db/strata"
)

// GET /telemetry answers Qdrant's TelemetryData, as far as it means
// something for Strata:
//
//	id            Options.InstanceID (default: a random UUID per process)
//	app           name "strata", version (Options.Version), startup
//	collections   number_of_collections; with details_level >= 1 one entry
//	              per collection: Qdrant's aggregated form (vectors,
//	              optimizers_status, params) at level 1, the full form (id,
//	              config with params, hnsw_config, optimizer_config,
//	              wal_config) at level >= 2
//	requests      rest and grpc: responses by endpoint ("GET
//	              /collections/{name}", "/qdrant.Points/Upsert") and status
//	              (HTTP status, gRPC code name): count, fail_count,
//	              avg_duration_micros (over the latest 128), min, max, total,
//	              last_responded
//
// Omitted, as Strata has no such thing or does not measure it: cluster,
// memory, hardware, search_pool, quota, app features and system, the
// collections' shards, transfers, resharding and snapshots, and
// per_collection_responses (the per_collection parameter is accepted and
// ignored). anonymize=true replaces collection names by a hash.

// maxRecent is the number of latest durations an average is taken over,
// as in Qdrant.
const maxRecent = 128

// ResponseStats aggregates answered requests per endpoint and status, for
// GET /telemetry (and for any metrics built on it). The zero value is
// ready to use; it is safe for concurrent use. The number of entries is
// bounded by the callers' endpoints and statuses, which must come from a
// bounded set (route patterns, not raw paths).
type ResponseStats struct {
	mu sync.RWMutex
	m  map[responseKey]*opStats
}

type responseKey struct{ endpoint, status string }

// opStats are the statistics of one endpoint and status.
type opStats struct {
	mu         sync.Mutex
	count      uint64
	fails      uint64
	total      time.Duration
	min, max   time.Duration
	last       time.Time
	recent     [maxRecent]time.Duration // ring of the latest durations
	recentN    int
	recentNext int
	recentSum  time.Duration
}

// Observe records one response of endpoint with status that took d;
// failed marks it unsuccessful (Qdrant counts every non-2xx REST answer
// and every gRPC code but OK).
func (s *ResponseStats) Observe(endpoint, status string, failed bool, d time.Duration) {
	k := responseKey{endpoint, status}
	s.mu.RLock()
	e := s.m[k]
	s.mu.RUnlock()
	if e == nil {
		s.mu.Lock()
		if s.m == nil {
			s.m = make(map[responseKey]*opStats)
		}
		if e = s.m[k]; e == nil {
			e = &opStats{}
			s.m[k] = e
		}
		s.mu.Unlock()
	}
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count++
	if failed {
		e.fails++
	}
	e.total += d
	if e.count == 1 || d < e.min {
		e.min = d
	}
	if d > e.max {
		e.max = d
	}
	e.last = now
	if e.recentN == maxRecent {
		e.recentSum -= e.recent[e.recentNext]
	} else {
		e.recentN++
	}
	e.recent[e.recentNext] = d
	e.recentSum += d
	e.recentNext = (e.recentNext + 1) % maxRecent
}

// OperationStats are Qdrant's OperationDurationStatistics: the responses
// of one endpoint with one status.
type OperationStats struct {
	Count     uint64 `json:"count"`
	FailCount uint64 `json:"fail_count"`
	// AvgDurationMicros is the mean of the latest 128 durations.
	AvgDurationMicros   float64   `json:"avg_duration_micros"`
	MinDurationMicros   float64   `json:"min_duration_micros"`
	MaxDurationMicros   float64   `json:"max_duration_micros"`
	TotalDurationMicros uint64    `json:"total_duration_micros"`
	LastResponded       time.Time `json:"last_responded"`
}

// Snapshot returns the statistics by endpoint, then status.
func (s *ResponseStats) Snapshot() map[string]map[string]OperationStats {
	s.mu.RLock()
	entries := make(map[responseKey]*opStats, len(s.m))
	for k, e := range s.m {
		entries[k] = e
	}
	s.mu.RUnlock()
	out := make(map[string]map[string]OperationStats)
	for k, e := range entries {
		e.mu.Lock()
		st := OperationStats{
			Count:               e.count,
			FailCount:           e.fails,
			MinDurationMicros:   micros(e.min),
			MaxDurationMicros:   micros(e.max),
			TotalDurationMicros: uint64(e.total.Microseconds()),
			LastResponded:       e.last.UTC(),
		}
		if e.recentN > 0 {
			st.AvgDurationMicros = micros(e.recentSum) / float64(e.recentN)
		}
		e.mu.Unlock()
		byStatus := out[k.endpoint]
		if byStatus == nil {
			byStatus = make(map[string]OperationStats)
			out[k.endpoint] = byStatus
		}
		byStatus[k.status] = st
	}
	return out
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// statusNames are the decimal texts of HTTP statuses, so that recording a
// response allocates no string.
var statusNames = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

func statusName(code int) string {
	if code >= 0 && code < len(statusNames) {
		return statusNames[code]
	}
	return strconv.Itoa(code)
}

// telemetryData is Qdrant's TelemetryData (the parts Strata fills).
type telemetryData struct {
	ID          string               `json:"id"`
	App         appTelemetry         `json:"app"`
	Collections collectionsTelemetry `json:"collections"`
	Requests    requestsTelemetry    `json:"requests"`
}

type appTelemetry struct {
	Name    string    `json:"name"`
	Version string    `json:"version"`
	Startup time.Time `json:"startup"`
}

type collectionsTelemetry struct {
	NumberOfCollections int   `json:"number_of_collections"`
	Collections         []any `json:"collections,omitzero"` // nil at details_level 0
}

// aggregatedCollectionTelemetry is Qdrant's CollectionsAggregatedTelemetry
// (details_level 1).
type aggregatedCollectionTelemetry struct {
	Vectors          int                  `json:"vectors"`
	OptimizersStatus any                  `json:"optimizers_status"`
	Params           collectionParamsJSON `json:"params"`
}

// collectionTelemetry is Qdrant's CollectionTelemetry (details_level >= 2).
type collectionTelemetry struct {
	ID     string                    `json:"id"`
	Config collectionConfigTelemetry `json:"config"`
}

type collectionConfigTelemetry struct {
	Params          collectionParamsJSON `json:"params"`
	HnswConfig      hnswConfigJSON       `json:"hnsw_config"`
	OptimizerConfig optimizersConfigJSON `json:"optimizer_config"`
	WalConfig       walConfigJSON        `json:"wal_config"`
}

// walConfigJSON is Qdrant's WalConfig: Strata's log files rotate at 64
// MiB and none is created ahead.
type walConfigJSON struct {
	WalCapacityMB    int `json:"wal_capacity_mb"`
	WalSegmentsAhead int `json:"wal_segments_ahead"`
}

type requestsTelemetry struct {
	REST responsesTelemetry `json:"rest"`
	GRPC responsesTelemetry `json:"grpc"`
}

type responsesTelemetry struct {
	Responses map[string]map[string]OperationStats `json:"responses"`
}

// telemetry answers GET /telemetry.
func (s *server) telemetry(r *http.Request) (any, error) {
	q := r.URL.Query()
	anonymize, err := boolParam(q.Get("anonymize"), "anonymize")
	if err != nil {
		return nil, err
	}
	if _, err := boolParam(q.Get("per_collection"), "per_collection"); err != nil {
		return nil, err
	}
	level := uint64(0)
	if v := q.Get("details_level"); v != "" {
		if level, err = strconv.ParseUint(v, 10, 32); err != nil {
			return nil, &apiError{status: http.StatusBadRequest, msg: "Format error in query parameters: details_level: expected a non-negative integer, got " + strconv.Quote(v)}
		}
	}
	out := telemetryData{
		ID:  s.opts.InstanceID,
		App: appTelemetry{Name: "strata", Version: s.opts.Version, Startup: s.opts.Started.UTC()},
		Requests: requestsTelemetry{
			REST: responsesTelemetry{Responses: s.opts.Responses.Snapshot()},
			GRPC: responsesTelemetry{Responses: map[string]map[string]OperationStats{}},
		},
	}
	if g := s.opts.GRPCResponses; g != nil {
		out.Requests.GRPC.Responses = g.Snapshot()
	}
	if level == 0 {
		names, err := s.db.ListCollections(r.Context())
		if err != nil {
			return nil, err
		}
		out.Collections.NumberOfCollections = len(names)
		return out, nil
	}
	stats, err := s.db.Stats(r.Context())
	if err != nil {
		return nil, err
	}
	out.Collections.NumberOfCollections = len(stats.Collections)
	out.Collections.Collections = make([]any, 0, len(stats.Collections))
	for _, st := range stats.Collections {
		c, err := s.db.Collection(st.Name)
		if err != nil {
			continue // deleted meanwhile
		}
		conf := c.Config()
		cfg := configJSON(&conf)
		if level == 1 {
			vectors := 0
			for _, n := range st.Vectors {
				vectors += n
			}
			out.Collections.Collections = append(out.Collections.Collections, aggregatedCollectionTelemetry{
				Vectors:          vectors,
				OptimizersStatus: optimizersStatus(st),
				Params:           cfg.Params,
			})
			continue
		}
		id := st.Name
		if anonymize {
			id = Anonymize(id)
		}
		out.Collections.Collections = append(out.Collections.Collections, collectionTelemetry{
			ID: id,
			Config: collectionConfigTelemetry{
				Params:          cfg.Params,
				HnswConfig:      cfg.HnswConfig,
				OptimizerConfig: cfg.OptimizerConfig,
				WalConfig:       walConfigJSON{WalCapacityMB: 64},
			},
		})
	}
	return out, nil
}

// optimizersStatus is Qdrant's OptimizersStatus: "ok", or {"error": ...}
// when the collection refuses writes or its last optimizer round failed.
func optimizersStatus(st strata.CollectionStats) any {
	if st.Err != nil {
		return map[string]string{"error": st.Err.Error()}
	}
	if err := st.Optimizer.LastError; err != nil {
		return map[string]string{"error": err.Error()}
	}
	return "ok"
}

// Anonymize returns what GET /telemetry?anonymize=true shows instead of a
// collection name: the first 16 hex digits of its SHA-256 (the metrics
// endpoint uses it too, so that both name a collection alike).
func Anonymize(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:8])
}

// boolParam parses an optional boolean query parameter.
func boolParam(v, name string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, &apiError{status: http.StatusBadRequest, msg: "Format error in query parameters: " + name + ": expected true or false, got " + strconv.Quote(v)}
	}
	return b, nil
}

// newInstanceID returns a random version 4 UUID.
func newInstanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
