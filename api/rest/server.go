package rest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata"
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
// no request timeout, a 32 MiB body limit, logs discarded.
type Options struct {
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes);
	// larger bodies get 413.
	MaxBodyBytes int64
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
	// search, query); writes with it get 403.
	ReadOnlyAPIKey string
	// Version is Strata's version, reported by GET / as "commit".
	Version string
}

// EnsureDefaults fills unset fields.
func (o *Options) EnsureDefaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
}

// server holds what every handler needs. It is immutable after New except
// for the operation counter.
type server struct {
	db   *strata.DB
	opts Options
	log  *slog.Logger

	// Keys are compared as SHA-256 digests so the comparison takes the same
	// time whatever the length of the offered key.
	rwKey, roKey       [32]byte
	hasRWKey, hasROKey bool

	opID atomic.Uint64 // last operation id handed out
}

// access is what a route needs from the caller's key.
type access int

const (
	public access = iota // no key needed
	read                 // the read-only or the read-write key
	write                // the read-write key
)

// handler answers one request with a result to put in the envelope, or an
// error mapped by errorStatus.
type handler func(r *http.Request) (any, error)

// New returns the REST API over db. The caller keeps ownership of db and
// closes it after the HTTP server has shut down.
func New(db *strata.DB, opts Options) http.Handler {
	opts.EnsureDefaults()
	s := &server{db: db, opts: opts, log: opts.Logger}
	if opts.APIKey != "" {
		s.rwKey, s.hasRWKey = sha256.Sum256([]byte(opts.APIKey)), true
	}
	if opts.ReadOnlyAPIKey != "" {
		s.roKey, s.hasROKey = sha256.Sum256([]byte(opts.ReadOnlyAPIKey)), true
	}
	mux := http.NewServeMux()

	// Service.
	s.text(mux, "GET /healthz", "healthz check passed")
	s.text(mux, "GET /livez", "healthz check passed")
	s.text(mux, "GET /readyz", "all shards are ready")
	s.route(mux, "GET /{$}", public, s.root)

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

	return s.logRequests(s.recoverPanics(mux))
}

// reqInfo travels in the request context from logRequests to the route
// wrapper, which fills in the matched pattern.
type reqInfo struct {
	route string
	err   error // the error answered, for the log line
}

type infoKey struct{}

// statusWriter records the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
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
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, route pattern, status,
// duration. Health checks log at debug level, server errors at error
// level.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case info.route == "GET /healthz" || info.route == "GET /livez" || info.route == "GET /readyz":
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", info.route),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
		}
		if info.err != nil && status >= 500 {
			attrs = append(attrs, slog.String("error", info.err.Error()))
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
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
	if acc == public || (!s.hasRWKey && !s.hasROKey) {
		return nil
	}
	key, ok := r.Header.Get("api-key"), r.Header.Get("api-key") != ""
	if !ok {
		key, ok = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if !ok {
		return &apiError{status: http.StatusUnauthorized, msg: "Must provide an API key or an Authorization bearer token"}
	}
	sum := sha256.Sum256([]byte(key))
	isRW := s.hasRWKey && subtle.ConstantTimeCompare(sum[:], s.rwKey[:]) == 1
	isRO := s.hasROKey && subtle.ConstantTimeCompare(sum[:], s.roKey[:]) == 1
	switch {
	case isRW, isRO && acc == read:
		return nil
	case isRO:
		return &apiError{status: http.StatusForbidden, msg: "Write access denied"}
	}
	return &apiError{status: http.StatusUnauthorized, msg: "Invalid API key or JWT"}
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
