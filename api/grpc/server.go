package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/api/internal/serve"
)

// QdrantAPIVersion is the version of Qdrant's gRPC API this package
// implements: the protocol buffer definitions generated in
// github.com/qdrant/go-client at this version. HealthCheck reports it as
// "version", so that clients' compatibility checks pass.
const QdrantAPIVersion = "1.17.1"

// DefaultPort is Qdrant's gRPC port.
const DefaultPort = 6334

// DefaultMaxMessageBytes is the default limit on a request message: 32
// MiB, Qdrant's default service.max_request_size_mb (gRPC's own default is
// 4 MiB, too small for large upserts).
const DefaultMaxMessageBytes = 32 << 20

// ServerOptions returns the options a grpc.Server serving Qdrant's API
// needs, to pass to grpc.NewServer along with the caller's own (TLS
// credentials): a request size limit of maxMessageBytes
// (DefaultMaxMessageBytes if <= 0), and a keepalive policy that accepts
// the pings Qdrant's clients send every 10 s even between calls (gRPC's
// default policy answers them with GOAWAY "too_many_pings").
func ServerOptions(maxMessageBytes int) []grpc.ServerOption {
	if maxMessageBytes <= 0 {
		maxMessageBytes = DefaultMaxMessageBytes
	}
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxMessageBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
	}
}

// Options configure the services. The zero value works: no
// authentication, no request timeout, no concurrency limit, logs
// discarded.
type Options struct {
	// APIKey, when set, is required on every call except the health
	// checks, in the "api-key" metadata or as "authorization: Bearer
	// <key>".
	APIKey string
	// ReadOnlyAPIKey, when set, is accepted on read calls only (listing
	// and describing collections, get, scroll, count, search, query);
	// writes with it fail with PermissionDenied.
	ReadOnlyAPIKey string
	// Logger receives one line per call and the details of internal
	// errors. Default: discard.
	Logger *slog.Logger
	// Timeout bounds each call (0: none). A request's own timeout field
	// (seconds, as in Qdrant) and the client's deadline can only shorten
	// it.
	Timeout time.Duration
	// Version is Strata's version, reported by HealthCheck as "commit".
	Version string
	// Health, when set, is the standard health service to register (the
	// caller keeps it to report NOT_SERVING during shutdown); otherwise
	// Register creates one. Register marks "" and every Qdrant service
	// SERVING.
	Health *health.Server
	// MaxConcurrentRequests bounds the calls handled at once (0: no
	// limit). A call over the limit waits for a slot until its deadline
	// (Timeout, its timeout field, or the client's deadline), then fails
	// with ResourceExhausted; without a deadline it waits until the client
	// gives up. The health checks are exempt.
	MaxConcurrentRequests int
	// Observer, when set, is called once per call when it ends, on the
	// call's goroutine: it must be quick and safe for concurrent use (a
	// metrics recorder).
	Observer func(Observation)
}

// Observation is one finished call, as Options.Observer sees it.
type Observation struct {
	// Method is the full method name, "/qdrant.Points/Upsert": only
	// registered methods reach the observer, so the set is bounded.
	Method   string
	Code     codes.Code
	Duration time.Duration
}

// EnsureDefaults fills unset fields.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Health == nil {
		o.Health = health.NewServer()
	}
	if o.MaxConcurrentRequests < 0 {
		o.MaxConcurrentRequests = 0
	}
}

// server holds what every service needs. It is immutable after Register
// except for the operation counter.
type server struct {
	db   *strata.DB
	opts Options
	log  *slog.Logger

	keys serve.Keys

	opID atomic.Uint64 // last operation id handed out

	slots *serve.Slots // nil: no limit on requests at once
}

// Register registers Qdrant's Qdrant, Collections, Points and Snapshots
// services and the standard grpc.health.v1 service on s, serving db. Every
// call goes through this package's authentication, timeout, logging and
// panic recovery, whatever interceptors s was built with (those run
// around them). The caller keeps ownership of db and closes it after s
// has stopped.
func Register(s *grpc.Server, db *strata.DB, opts Options) {
	opts.EnsureDefaults()
	srv := newServer(db, opts)
	s.RegisterService(srv.wrap(&qdrant.Qdrant_ServiceDesc), &qdrantService{s: srv})
	s.RegisterService(srv.wrap(&qdrant.Collections_ServiceDesc), &collectionsService{s: srv})
	s.RegisterService(srv.wrap(&qdrant.Points_ServiceDesc), &pointsService{s: srv})
	s.RegisterService(srv.wrap(&qdrant.Snapshots_ServiceDesc), &snapshotsService{s: srv})
	s.RegisterService(srv.wrap(&healthpb.Health_ServiceDesc), opts.Health)
	for _, name := range []string{"", "qdrant.Qdrant", "qdrant.Collections", "qdrant.Points", "qdrant.Snapshots"} {
		opts.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
}

// newServer returns the services' shared state; opts has its defaults.
func newServer(db *strata.DB, opts Options) *server {
	return &server{db: db, opts: opts, log: opts.Logger,
		keys: serve.NewKeys(opts.APIKey, opts.ReadOnlyAPIKey), slots: serve.NewSlots(opts.MaxConcurrentRequests)}
}

// access is what a request needs from the caller's key.
type access = serve.Access

const (
	public = serve.Public // no key needed
	read   = serve.Read   // the read-only or the read-write key
	write  = serve.Write  // the read-write key
)

// readMethods are the methods the read-only key may call: Qdrant's list
// plus the read methods added since (query, facet, matrix, aliases,
// shard keys, snapshot lists).
var readMethods = []string{
	"/qdrant.Collections/List",
	"/qdrant.Collections/Get",
	"/qdrant.Collections/CollectionExists",
	"/qdrant.Collections/ListCollectionAliases",
	"/qdrant.Collections/ListAliases",
	"/qdrant.Collections/CollectionClusterInfo",
	"/qdrant.Collections/ListShardKeys",
	"/qdrant.Points/Get",
	"/qdrant.Points/Scroll",
	"/qdrant.Points/Count",
	"/qdrant.Points/Search",
	"/qdrant.Points/SearchBatch",
	"/qdrant.Points/SearchGroups",
	"/qdrant.Points/Recommend",
	"/qdrant.Points/RecommendBatch",
	"/qdrant.Points/RecommendGroups",
	"/qdrant.Points/Discover",
	"/qdrant.Points/DiscoverBatch",
	"/qdrant.Points/Query",
	"/qdrant.Points/QueryBatch",
	"/qdrant.Points/QueryGroups",
	"/qdrant.Points/Facet",
	"/qdrant.Points/SearchMatrixPairs",
	"/qdrant.Points/SearchMatrixOffsets",
	"/qdrant.Snapshots/List",
	"/qdrant.Snapshots/ListFull",
}

// methodAccess classifies a full method name ("/qdrant.Points/Upsert").
// The health checks are public, as REST's GET / and /healthz are.
func methodAccess(method string) access {
	switch {
	case method == "/qdrant.Qdrant/HealthCheck", strings.HasPrefix(method, "/grpc.health.v1.Health/"):
		return public
	case slices.Contains(readMethods, method):
		return read
	}
	return write
}

// wrap returns a copy of desc whose handlers run s.intercept (unary) or
// s.interceptStream around the service's methods. Wrapping the
// descriptors, rather than asking the caller to install interceptors,
// makes authentication impossible to forget.
func (s *server) wrap(desc *grpc.ServiceDesc) *grpc.ServiceDesc {
	d := *desc
	d.Methods = slices.Clone(desc.Methods)
	for i := range d.Methods {
		h := d.Methods[i].Handler
		d.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, outer grpc.UnaryServerInterceptor) (any, error) {
			return h(srv, ctx, dec, func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
				run := func(ctx context.Context, req any) (any, error) { return s.intercept(ctx, req, info, handler) }
				if outer != nil {
					return outer(ctx, req, info, run)
				}
				return run(ctx, req)
			})
		}
	}
	d.Streams = slices.Clone(desc.Streams)
	for i := range d.Streams {
		h := d.Streams[i].Handler
		method := "/" + desc.ServiceName + "/" + d.Streams[i].StreamName
		d.Streams[i].Handler = func(srv any, stream grpc.ServerStream) error {
			return s.interceptStream(srv, stream, method, h)
		}
	}
	return &d
}

// intercept runs one unary call: authentication, timeout, a concurrency
// slot, the handler with panic recovery, error mapping, and the observer
// and log line.
func (s *server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	defer func() { s.logCall(ctx, info.FullMethod, start, req, err) }()
	acc := methodAccess(info.FullMethod)
	if err := s.authorize(ctx, acc); err != nil {
		return nil, err
	}
	ctx, cancel := s.callContext(ctx, req)
	defer cancel()
	if acc != public {
		if err := s.acquire(ctx); err != nil {
			return nil, err
		}
		defer s.release()
	}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving call", "method", info.FullMethod, "panic", v, "stack", string(debug.Stack()))
			resp, err = nil, errPanic
		}
	}()
	resp, err = handler(ctx, req)
	if err != nil {
		return nil, s.toStatus(req, err)
	}
	return resp, nil
}

// interceptStream runs one streaming call (the health service's Watch):
// authentication, a concurrency slot unless it is a health check, panic
// recovery, and the observer and log line.
func (s *server) interceptStream(srv any, stream grpc.ServerStream, method string, h grpc.StreamHandler) (err error) {
	start := time.Now()
	ctx := stream.Context()
	defer func() { s.logCall(ctx, method, start, nil, err) }()
	acc := methodAccess(method)
	if err := s.authorize(ctx, acc); err != nil {
		return err
	}
	if acc != public {
		if err := s.acquire(ctx); err != nil {
			return err
		}
		defer s.release()
	}
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic serving call", "method", method, "panic", v, "stack", string(debug.Stack()))
			err = errPanic
		}
	}()
	if err := h(srv, stream); err != nil {
		return s.toStatus(nil, err)
	}
	return nil
}

// acquire takes a call slot, waiting until ctx is done for one to free
// up: ResourceExhausted when the deadline passes first, Canceled when the
// client goes away.
func (s *server) acquire(ctx context.Context) error {
	switch err := s.slots.Acquire(ctx); {
	case errors.Is(err, serve.ErrBusy):
		return status.Error(codes.ResourceExhausted, fmt.Sprintf("Service unavailable: too many concurrent requests: all %d request slots (max_concurrent_requests) stayed busy until this call's deadline", s.slots.Cap()))
	case err != nil:
		return status.Error(codes.Canceled, "Request canceled")
	}
	return nil
}

// release frees the slot taken by acquire.
func (s *server) release() { s.slots.Release() }

// callContext applies Options.Timeout and the request's timeout field
// (seconds), whichever is shorter.
func (s *server) callContext(ctx context.Context, req any) (context.Context, context.CancelFunc) {
	timeout := s.opts.Timeout
	if r, ok := req.(interface{ GetTimeout() uint64 }); ok {
		if n := r.GetTimeout(); n > 0 {
			d := time.Duration(min(n, uint64(time.Duration(1<<63-1)/time.Second))) * time.Second
			if timeout == 0 || d < timeout {
				timeout = d
			}
		}
	}
	if timeout == 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// authorize checks the caller's key as Qdrant does: the api-key metadata,
// or else "authorization: Bearer <key>"; Unauthenticated when it is
// missing or wrong, PermissionDenied when the read-only key is used for a
// write.
func (s *server) authorize(ctx context.Context, acc access) error {
	md, _ := metadata.FromIncomingContext(ctx)
	key, ok := "", false
	if v := md.Get("api-key"); len(v) > 0 && v[0] != "" {
		key, ok = v[0], true
	} else if v := md.Get("authorization"); len(v) > 0 {
		key, ok = strings.CutPrefix(v[0], "Bearer ")
	}
	switch s.keys.Check(key, ok, acc) {
	case serve.Missing:
		return status.Error(codes.Unauthenticated, "Must provide an API key or an Authorization bearer token")
	case serve.Invalid:
		return status.Error(codes.Unauthenticated, "Invalid API key or JWT")
	case serve.ReadOnly:
		return status.Error(codes.PermissionDenied, "Write access denied")
	}
	return nil
}

// logCall reports a finished call to Options.Observer and logs one line:
// method, code, duration, client address and request size (req's encoded
// size; 0 for streams). Health checks log at debug level, calls refused
// for lack of a concurrency slot at warning level, server-side failures
// at error level with the error.
func (s *server) logCall(ctx context.Context, method string, start time.Time, req any, err error) {
	elapsed := time.Since(start)
	code := status.Code(err)
	if s.opts.Observer != nil {
		s.opts.Observer(Observation{Method: method, Code: code, Duration: elapsed})
	}
	level := slog.LevelInfo
	switch {
	case serverSide(code):
		level = slog.LevelError
	case code == codes.ResourceExhausted:
		level = slog.LevelWarn
	case methodAccess(method) == public:
		level = slog.LevelDebug
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	remote := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		remote = p.Addr.String()
	}
	size := 0
	if m, ok := req.(proto.Message); ok {
		size = proto.Size(m)
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Duration("duration", elapsed),
		slog.String("remote", remote),
		slog.Int("request_bytes", size),
	}
	if err != nil && serverSide(code) {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	s.log.LogAttrs(ctx, level, "call", attrs...)
}

// serverSide reports the codes that mean the server failed (REST's 5xx).
func serverSide(c codes.Code) bool {
	switch c {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable:
		return true
	}
	return false
}

// nextOpID returns the next operation id.
func (s *server) nextOpID() uint64 { return s.opID.Add(1) }

// updateResult is the answer to one write: Completed with wait=true,
// Acknowledged otherwise (Qdrant's default is wait=false). Strata returns
// from a write only once it is durable and visible, so both mean the same.
func (s *server) updateResult(wait *bool) *qdrant.UpdateResult {
	st := qdrant.UpdateStatus_Acknowledged
	if wait != nil && *wait {
		st = qdrant.UpdateStatus_Completed
	}
	id := s.nextOpID()
	return &qdrant.UpdateResult{OperationId: &id, Status: st}
}

// since returns the seconds elapsed since start, for the responses' time.
func since(start time.Time) float64 { return time.Since(start).Seconds() }

// qdrantService is the Qdrant service: the health check clients use to
// read the server's version.
type qdrantService struct {
	qdrant.UnimplementedQdrantServer
	s *server
}

func (q *qdrantService) HealthCheck(context.Context, *qdrant.HealthCheckRequest) (*qdrant.HealthCheckReply, error) {
	commit := q.s.opts.Version
	return &qdrant.HealthCheckReply{Title: "strata", Version: QdrantAPIVersion, Commit: &commit}, nil
}
