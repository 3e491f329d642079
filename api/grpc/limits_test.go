package grpcapi

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// observations collects what Options.Observer sees.
type observations struct {
	mu   sync.Mutex
	list []Observation
}

func (o *observations) add(ob Observation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(o.list, ob)
}

// count returns the number of observations of method with code.
func (o *observations) count(method string, code codes.Code) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, ob := range o.list {
		if ob.Method == method && ob.Code == code {
			if ob.Duration <= 0 {
				panic("an observation without a duration")
			}
			n++
		}
	}
	return n
}

// TestObserver: every call is observed once with its full method name
// and code, before the client gets the answer; the log line has the
// client's address and the request's size.
func TestObserver(t *testing.T) {
	var obs observations
	var logs syncBuffer
	e := newEnv(t, Options{Observer: obs.add, Logger: slog.New(slog.NewTextHandler(&logs, nil)), APIKey: "k"})
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Dot)
	e.upsert("c", point(1, []float32{1, 2}, nil), point(2, []float32{3, 4}, nil))
	_, err := e.client.GetCollectionInfo(c, "nope")
	wantCode(t, err, codes.NotFound)
	_, err = e.newClient("").ListCollections(c)
	wantCode(t, err, codes.Unauthenticated)
	must(healthpb.NewHealthClient(e.client.GetConnection()).Check(c, &healthpb.HealthCheckRequest{}))
	for _, want := range []struct {
		method string
		code   codes.Code
		n      int
	}{
		{"/qdrant.Collections/Create", codes.OK, 1},
		{"/qdrant.Points/Upsert", codes.OK, 1},
		{"/qdrant.Collections/Get", codes.NotFound, 1},
		{"/qdrant.Collections/List", codes.Unauthenticated, 1},
		{"/grpc.health.v1.Health/Check", codes.OK, 1},
	} {
		if got := obs.count(want.method, want.code); got != want.n {
			t.Errorf("%s %s observed %d times, want %d (all: %v)", want.method, want.code, got, want.n, obs.list)
		}
	}
	m := regexp.MustCompile(`level=INFO msg=call method=/qdrant.Points/Upsert code=OK duration=\S+ remote=127\.0\.0\.1:\d+ request_bytes=(\d+)`).FindStringSubmatch(logs.String())
	if m == nil || m[1] == "0" {
		t.Fatalf("log:\n%s", logs.String())
	}
}

// limitServer returns the services' state with a concurrency limit and
// an observer, for calling intercept directly: the wrapper every
// registered unary method runs.
func limitServer(t *testing.T, limit int, obs *observations, logs *syncBuffer) *server {
	t.Helper()
	opts := Options{MaxConcurrentRequests: limit, Observer: obs.add, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	opts.EnsureDefaults()
	return newServer(nil, opts)
}

func info(method string) *grpc.UnaryServerInfo { return &grpc.UnaryServerInfo{FullMethod: method} }

// TestConcurrencyLimit: with the only slot held by a blocked handler, a
// call waits until its deadline (the client's, or its timeout field) and
// fails with ResourceExhausted; health checks are not limited; once the
// slot frees, calls go through.
func TestConcurrencyLimit(t *testing.T) {
	var obs observations
	var logs syncBuffer
	s := limitServer(t, 1, &obs, &logs)
	entered, unblock := make(chan struct{}), make(chan struct{})
	type result struct {
		resp any
		err  error
	}
	blocked := make(chan result, 1)
	go func() {
		resp, err := s.intercept(context.Background(), &qdrant.CountPoints{}, info("/qdrant.Points/Count"), func(context.Context, any) (any, error) {
			entered <- struct{}{}
			<-unblock
			return &qdrant.CountResponse{}, nil
		})
		blocked <- result{resp, err}
	}()
	<-entered // the only slot is taken

	mustNotRun := func(context.Context, any) (any, error) {
		t.Error("a handler ran without a slot")
		return nil, nil
	}
	// The client's deadline.
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.intercept(c, &qdrant.CountPoints{}, info("/qdrant.Points/Count"), mustNotRun)
	wantCode(t, err, codes.ResourceExhausted, "too many concurrent requests: all 1 request slots (max_concurrent_requests) stayed busy until this call's deadline")
	// The request's own timeout field (seconds).
	_, err = s.intercept(context.Background(), &qdrant.SearchPoints{Timeout: qdrant.PtrOf(uint64(1))}, info("/qdrant.Points/Search"), mustNotRun)
	wantCode(t, err, codes.ResourceExhausted, "too many concurrent requests")
	// A client that gives up.
	gone, cancelGone := context.WithCancel(context.Background())
	cancelGone()
	_, err = s.intercept(gone, &qdrant.CountPoints{}, info("/qdrant.Points/Count"), mustNotRun)
	wantCode(t, err, codes.Canceled)
	// Health checks are exempt.
	for _, m := range []string{"/qdrant.Qdrant/HealthCheck", "/grpc.health.v1.Health/Check"} {
		if _, err := s.intercept(context.Background(), nil, info(m), func(context.Context, any) (any, error) { return "ok", nil }); err != nil {
			t.Errorf("%s while busy: %v", m, err)
		}
	}
	// A call without a deadline waits for the slot.
	waiting := make(chan result, 1)
	go func() {
		resp, err := s.intercept(context.Background(), &qdrant.CountPoints{}, info("/qdrant.Points/Count"), func(context.Context, any) (any, error) {
			return "waited", nil
		})
		waiting <- result{resp, err}
	}()
	close(unblock)
	if r := <-blocked; r.err != nil {
		t.Fatalf("blocked call: %v", r.err)
	}
	if r := <-waiting; r.err != nil || r.resp != "waited" {
		t.Fatalf("waiting call: %v %v", r.resp, r.err)
	}
	if n := s.slots.InUse(); n != 0 {
		t.Fatalf("%d slots still taken", n)
	}
	if n := obs.count("/qdrant.Points/Count", codes.ResourceExhausted); n != 1 {
		t.Errorf("observed %d refused counts", n)
	}
	if !regexp.MustCompile(`level=WARN msg=call method=/qdrant.Points/Search code=ResourceExhausted `).MatchString(logs.String()) {
		t.Errorf("no warning for the refused call:\n%s", logs.String())
	}
	if got := obs.count("/qdrant.Points/Count", codes.OK); got != 2 {
		t.Errorf("observed %d successful counts, want 2", got)
	}
}

// TestTimeoutReachesHandler: Options.Timeout bounds every call through
// the interceptor: the handler's context has the deadline, and a handler
// that waits for it fails with DeadlineExceeded.
func TestTimeoutReachesHandler(t *testing.T) {
	var obs observations
	var logs syncBuffer
	opts := Options{Timeout: 20 * time.Millisecond, Observer: obs.add, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	opts.EnsureDefaults()
	s := newServer(nil, opts)
	var deadline time.Time
	_, err := s.intercept(context.Background(), &qdrant.ScrollPoints{}, info("/qdrant.Points/Scroll"), func(ctx context.Context, _ any) (any, error) {
		deadline, _ = ctx.Deadline()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	wantCode(t, err, codes.DeadlineExceeded, "Timeout error: the request did not finish within its timeout")
	if deadline.IsZero() {
		t.Fatal("the handler ran without a deadline")
	}
	if obs.count("/qdrant.Points/Scroll", codes.DeadlineExceeded) != 1 {
		t.Errorf("observations: %v", obs.list)
	}
	if !slices.ContainsFunc(obs.list, func(o Observation) bool { return o.Duration >= 20*time.Millisecond }) {
		t.Errorf("the observed duration does not cover the wait: %v", obs.list)
	}
}
