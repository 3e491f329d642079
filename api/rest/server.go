package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/api/internal/serve"
)

// QdrantAPIVersion is the version of Qdrant's REST API that this package
// mirrors (its OpenAPI specification). GET / reports it as "version".
const QdrantAPIVersion = "1.19.0"

// DefaultMaxBodyBytes is the default request body limit: 32 MiB, Qdrant's
// default service.max_request_size_mb.
const DefaultMaxBodyBytes = 32 << 20

// maxJSONDepth bounds the nesting of request bodies; deeper bodies are
// refused before they are decoded.
const maxJSONDepth = 64

// Options configure the handler. The zero value works: no authentication,
// no request timeout, no concurrency limit, a 32 MiB body limit, logs
// discarded, no metrics.
type Options struct {
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes);
	// larger bodies get 413.
	MaxBodyBytes int64
	// MaxSnapshotBytes bounds a snapshot uploaded, or downloaded from a URL,
	// for recovery (default DefaultMaxSnapshotBytes); larger ones get 413.
	MaxSnapshotBytes int64
	// Timeout bounds each request (0: none). A request's own ?timeout=N
	// (seconds, as in Qdrant) can only shorten it.
	Timeout time.Duration
	// Logger receives one line per request and the details of internal
	// errors. Default: discard.
	Logger *slog.Logger
	// APIKey, when set, is required on every request except GET /,
	// /healthz, /livez and /readyz, in the api-key header or as
	// "Authorization: Bearer <key>".
	APIKey string
	// ReadOnlyAPIKey, when set, is accepted on read requests only (GET,
	// and the POST endpoints that only read: retrieve, scroll, count,
	// search, query, recommend, groups); writes with it get 403.
	ReadOnlyAPIKey string
	// Version is Strata's version, reported by GET / as "commit" and by
	// GET /telemetry as the app's version.
	Version string

	// MaxConcurrentRequests bounds the requests handled at once (0: no
	// limit). A request over the limit waits for a slot until its deadline
	// (Timeout, or its own ?timeout=), then gets 503; without a deadline
	// it waits until the client gives up. The health checks (/healthz,
	// /livez, /readyz) and GET /metrics are exempt, so that probes and
	// scrapes see an overloaded server.
	MaxConcurrentRequests int
	// Observer, when set, is called once per request, after the answer is
	// written, on the request's goroutine: it must be quick and safe for
	// concurrent use (a metrics recorder).
	Observer func(Observation)
	// Metrics, when set, is served at GET /metrics, with the read key
	// required when keys are configured (as in Qdrant). Its requests have
	// their query parameters checked: anonymize and per_collection are
	// booleans, timeout a positive number of seconds. Without it,
	// GET /metrics is 404.
	Metrics http.Handler
	// Responses receives every answered request for GET /telemetry
	// (default: a new ResponseStats); pass one to read it elsewhere too.
	Responses *ResponseStats
	// GRPCResponses, when set, is reported by GET /telemetry as the gRPC
	// API's responses.
	GRPCResponses *ResponseStats
	// InstanceID is GET /telemetry's id (default: a random UUID).
	InstanceID string
	// Started is GET /telemetry's app.startup (default: when New ran).
	Started time.Time
}

// Observation is one answered request, as Options.Observer sees it.
type Observation struct {
	// Method and Endpoint identify the route: the method and path pattern
	// it is registered with ("PUT", "/collections/{name}/points"), never
	// the request's raw path, so that their set is bounded. A request no
	// route matched has Endpoint "unmatched" and its own method if it is a
	// standard one, else "OTHER".
	Method, Endpoint string
	// Status is the HTTP status answered.
	Status int
	// Duration runs from the request's arrival at the handler to the end
	// of its answer.
	Duration time.Duration
}

// EnsureDefaults fills unset fields.
func (o *Options) EnsureDefaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxSnapshotBytes <= 0 {
		o.MaxSnapshotBytes = DefaultMaxSnapshotBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Responses == nil {
		o.Responses = &ResponseStats{}
	}
	if o.InstanceID == "" {
		o.InstanceID = newInstanceID()
	}
	if o.Started.IsZero() {
		o.Started = time.Now()
	}
	if o.MaxConcurrentRequests < 0 {
		o.MaxConcurrentRequests = 0
	}
}

// server holds what every handler needs. It is immutable after New except
// for the operation counter.
type server struct {
	db   *strata.DB
	opts Options
	log  *slog.Logger

	keys serve.Keys

	opID atomic.Uint64 // last operation id handed out

	slots *serve.Slots // nil: no limit on requests at once
}

// access is what a request needs from the caller's key.
type access = serve.Access

const (
	public = serve.Public // no key needed
	read   = serve.Read   // the read-only or the read-write key
	write  = serve.Write  // the read-write key
)

// handler answers one request with a result to put in the envelope, or an
// error mapped by errorStatus.
type handler func(r *http.Request) (any, error)

// New returns the REST API over db. The caller keeps ownership of db and
// closes it after the HTTP server has shut down.
func New(db *strata.DB, opts Options) http.Handler {
	_, _, h := newServer(db, opts)
	return h
}

// newServer builds the server; tests add routes to its mux.
func newServer(db *strata.DB, opts Options) (*server, *http.ServeMux, http.Handler) {
	opts.EnsureDefaults()
	s := &server{db: db, opts: opts, log: opts.Logger,
		keys: serve.NewKeys(opts.APIKey, opts.ReadOnlyAPIKey), slots: serve.NewSlots(opts.MaxConcurrentRequests)}
	mux := http.NewServeMux()

	// Service.
	s.text(mux, "GET /healthz", "healthz check passed")
	s.text(mux, "GET /livez", "healthz check passed")
	s.text(mux, "GET /readyz", "all shards are ready")
	s.route(mux, "GET /{$}", public, s.root)
	s.route(mux, "GET /telemetry", read, s.telemetry)
	if opts.Metrics != nil {
		s.metricsRoute(mux, "GET /metrics", opts.Metrics)
	}

	// Collections.
	s.route(mux, "GET /collections", read, s.listCollections)
	s.route(mux, "GET /collections/{name}", read, s.getCollection)
	s.route(mux, "PUT /collections/{name}", write, s.createCollection)
	s.route(mux, "PATCH /collections/{name}", write, s.updateCollection)
	s.route(mux, "DELETE /collections/{name}", write, s.deleteCollection)
	s.route(mux, "GET /collections/{name}/exists", read, s.collectionExists)
	s.route(mux, "PUT /collections/{name}/index", write, s.createFieldIndex)
	s.route(mux, "DELETE /collections/{name}/index/{field_name}", write, s.deleteFieldIndex)

	// Points: writes.
	s.route(mux, "PUT /collections/{name}/points", write, s.upsertPoints)
	s.route(mux, "POST /collections/{name}/points/delete", write, s.deletePoints)
	s.route(mux, "POST /collections/{name}/points/payload", write, s.setPayload)
	s.route(mux, "PUT /collections/{name}/points/payload", write, s.overwritePayload)
	s.route(mux, "POST /collections/{name}/points/payload/delete", write, s.deletePayload)
	s.route(mux, "POST /collections/{name}/points/payload/clear", write, s.clearPayload)
	s.route(mux, "PUT /collections/{name}/points/vectors", write, s.updateVectors)
	s.route(mux, "POST /collections/{name}/points/vectors/delete", write, s.deleteVectors)
	s.route(mux, "POST /collections/{name}/points/batch", write, s.batchUpdate)

	// Points: reads.
	s.route(mux, "GET /collections/{name}/points/{id}", read, s.getPoint)
	s.route(mux, "POST /collections/{name}/points", read, s.getPoints)
	s.route(mux, "POST /collections/{name}/points/scroll", read, s.scroll)
	s.route(mux, "POST /collections/{name}/points/count", read, s.count)
	s.route(mux, "POST /collections/{name}/points/search", read, s.search)
	s.route(mux, "POST /collections/{name}/points/search/batch", read, s.searchBatch)
	s.route(mux, "POST /collections/{name}/points/query", read, s.query)
	s.route(mux, "POST /collections/{name}/points/query/batch", read, s.queryBatch)
	s.queryRoutes(mux)

	// Snapshots.
	s.snapshotRoutes(mux)

	// Anything else: 404 in the envelope (after authentication, as Qdrant
	// checks the key before routing).
	s.route(mux, "/", read, func(r *http.Request) (any, error) {
		return nil, &apiError{status: http.StatusNotFound, msg: "Not found: no endpoint " + r.Method + " " + r.URL.Path}
	})

	return s, mux, s.logRequests(s.recoverPanics(mux))
}

// reqInfo travels in the request context from logRequests to the route
// wrapper, which fills in the matched pattern.
type reqInfo struct {
	route string
	err   error // the error answered, for the log line
	busy  bool  // refused for lack of a concurrency slot
}

type infoKey struct{}

// statusWriter records the status code and the number of body bytes
// written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// countingBody counts the request body bytes read.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests records every request: Options.Observer, the telemetry
// statistics, and one log line with the method, route pattern, status,
// duration, client address and body sizes. Health checks log at debug
// level, requests refused for lack of a concurrency slot at warning
// level, other server errors at error level.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		sw := &statusWriter{ResponseWriter: w}
		var body *countingBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &countingBody{ReadCloser: r.Body}
			r.Body = body
		}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		elapsed := time.Since(start)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		method, endpoint, key := routeLabels(info.route, r.Method)
		if st := s.opts.Responses; st != nil {
			st.Observe(key, statusName(status), status < 200 || status > 299, elapsed)
		}
		if s.opts.Observer != nil {
			s.opts.Observer(Observation{Method: method, Endpoint: endpoint, Status: status, Duration: elapsed})
		}
		level := slog.LevelInfo
		switch {
		case info.busy:
			level = slog.LevelWarn
		case status >= 500:
			level = slog.LevelError
		case info.route == "GET /healthz" || info.route == "GET /livez" || info.route == "GET /readyz":
			level = slog.LevelDebug
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		var reqBytes int64
		if body != nil {
			reqBytes = body.n
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", info.route),
			slog.Int("status", status),
			slog.Duration("duration", elapsed),
			slog.String("remote", r.RemoteAddr),
			slog.Int64("request_bytes", reqBytes),
			slog.Int64("response_bytes", sw.bytes),
		}
		if info.err != nil && status >= 500 {
			attrs = append(attrs, slog.String("error", info.err.Error()))
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// routeLabels names a request's route for the observer and the telemetry:
// the method and path of the pattern it matched ("GET /{$}" is "/"), and
// the telemetry key "METHOD /path". The catch-all pattern "/" and the
// empty pattern (a request the mux answered itself, such as a redirect to
// a cleaned path) are "unmatched".
func routeLabels(pattern, reqMethod string) (method, endpoint, key string) {
	method, endpoint, ok := strings.Cut(pattern, " ")
	if !ok {
		method, endpoint = standardMethod(reqMethod), pattern
	}
	switch endpoint {
	case "", "/":
		return method, "unmatched", method + " unmatched"
	case "/{$}":
		return method, "/", method + " /"
	}
	if !ok {
		return method, endpoint, method + " " + endpoint
	}
	return method, endpoint, pattern
}

// standardMethod returns m if it is one of HTTP's methods, else "OTHER",
// so that clients cannot grow the set of labels.
func standardMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// recoverPanics turns a panic in a handler into a 500 with a JSON error
// (never the panic's text) and logs the panic with its stack.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw, _ := w.(*statusWriter)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if info, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
				info.err = errPanic
			}
			if sw != nil && sw.status != 0 {
				return // the answer has begun; nothing sensible can follow it
			}
			writeError(w, http.StatusInternalServerError, "Service internal error: the request failed unexpectedly; see the server log", 0)
		}()
		next.ServeHTTP(w, r)
	})
}

// text registers a plain-text health endpoint (no authentication, as in
// Qdrant).
func (s *server) text(mux *http.ServeMux, pattern, body string) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if info, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
			info.route = pattern
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(body))
	})
}

// route registers h under pattern: it checks the caller's key for acc,
// applies the request timeout, and writes h's result or error in the
// envelope.
func (s *server) route(mux *http.ServeMux, pattern string, acc access, h handler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info, _ := r.Context().Value(infoKey{}).(*reqInfo)
		if info != nil {
			info.route = pattern
		}
		if err := s.authorize(r, acc); err != nil {
			if info != nil {
				info.err = err
			}
			writeError(w, err.status, err.msg, time.Since(start).Seconds())
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		ctx, cancel, err := s.requestContext(r)
		if err != nil {
			status, msg := s.errorStatus(r, err)
			writeError(w, status, msg, time.Since(start).Seconds())
			return
		}
		defer cancel()
		if err := s.acquire(ctx); err != nil {
			if info != nil {
				var ae *apiError
				info.err, info.busy = err, errors.As(err, &ae)
			}
			status, msg := s.errorStatus(r, err)
			writeError(w, status, msg, time.Since(start).Seconds())
			return
		}
		defer s.release()
		res, err := h(r.WithContext(ctx))
		if err != nil {
			status, msg := s.errorStatus(r, err)
			if info != nil {
				info.err = err // logged with the request's line if status >= 500
			}
			writeError(w, status, msg, time.Since(start).Seconds())
			return
		}
		writeResult(w, res, time.Since(start).Seconds())
	})
}

// busyError answers a request that found no free slot before its
// deadline: 503, which clients retry.
func busyError(limit int) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, msg: fmt.Sprintf("Service unavailable: too many concurrent requests: all %d request slots (max_concurrent_requests) stayed busy until this request's timeout", limit)}
}

// acquire takes a request slot, waiting until ctx is done for one to free
// up. It fails with busyError when the deadline passes first, and with
// ctx's error when the client goes away.
func (s *server) acquire(ctx context.Context) error {
	err := s.slots.Acquire(ctx)
	if errors.Is(err, serve.ErrBusy) {
		return busyError(s.slots.Cap())
	}
	return err
}

// release frees the slot taken by acquire.
func (s *server) release() { s.slots.Release() }

// metricsRoute serves h (Options.Metrics) at pattern: the read key when
// keys are set, query parameters checked, no concurrency slot.
func (s *server) metricsRoute(mux *http.ServeMux, pattern string, h http.Handler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info, _ := r.Context().Value(infoKey{}).(*reqInfo)
		if info != nil {
			info.route = pattern
		}
		fail := func(err error) {
			if info != nil {
				info.err = err
			}
			status, msg := s.errorStatus(r, err)
			writeError(w, status, msg, time.Since(start).Seconds())
		}
		if err := s.authorize(r, read); err != nil {
			fail(err)
			return
		}
		q := r.URL.Query()
		for _, name := range []string{"anonymize", "per_collection"} {
			if _, err := boolParam(q.Get(name), name); err != nil {
				fail(err)
				return
			}
		}
		ctx, cancel, err := s.requestContext(r)
		if err != nil {
			fail(err)
			return
		}
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requestContext applies Options.Timeout and the request's ?timeout=N.
func (s *server) requestContext(r *http.Request) (context.Context, context.CancelFunc, error) {
	timeout := s.opts.Timeout
	if v := r.URL.Query().Get("timeout"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n < 1 {
			return nil, nil, &apiError{status: http.StatusBadRequest, msg: "Format error in query parameters: timeout: expected a positive number of seconds, got " + strconv.Quote(v)}
		}
		if d := time.Duration(n) * time.Second; timeout == 0 || d < timeout {
			timeout = d
		}
	}
	if timeout == 0 {
		ctx, cancel := context.WithCancel(r.Context())
		return ctx, cancel, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	return ctx, cancel, nil
}

// authorize checks the caller's key as Qdrant does: the api-key header, or
// else "Authorization: Bearer <key>"; 401 when it is missing or wrong, 403
// when the read-only key is used for a write.
func (s *server) authorize(r *http.Request, acc access) *apiError {
	key, ok := r.Header.Get("api-key"), r.Header.Get("api-key") != ""
	if !ok {
		key, ok = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	switch s.keys.Check(key, ok, acc) {
	case serve.Missing:
		return &apiError{status: http.StatusUnauthorized, msg: "Must provide an API key or an Authorization bearer token"}
	case serve.Invalid:
		return &apiError{status: http.StatusUnauthorized, msg: "Invalid API key or JWT"}
	case serve.ReadOnly:
		return &apiError{status: http.StatusForbidden, msg: "Write access denied"}
	}
	return nil
}

// versionInfo is the answer of GET /.
type versionInfo struct {
	Title   string `json:"title"`
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// root answers GET / as Qdrant does, but unwrapped (no envelope).
func (s *server) root(*http.Request) (any, error) {
	return rawResult{versionInfo{Title: "strata", Version: QdrantAPIVersion, Commit: s.opts.Version}}, nil
}

// nextOpID returns the next operation id.
func (s *server) nextOpID() uint64 { return s.opID.Add(1) }
