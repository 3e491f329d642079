package grpcapi

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata"
)

func TestMain(m *testing.M) {
	// Qdrant's client logs a warning through slog's default logger when an
	// API key travels without TLS; keep the test output quiet.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}

// env is the gRPC API over a real database in a temporary directory,
// served on a free port of 127.0.0.1, with Qdrant's official Go client
// connected to it.
type env struct {
	t      *testing.T
	db     *strata.DB
	port   int
	client *qdrant.Client
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	return newEnvWith(t, opts)
}

// newEnvWith is newEnv with extra server options.
func newEnvWith(t *testing.T, opts Options, serverOpts ...grpc.ServerOption) *env {
	t.Helper()
	db, err := strata.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(append(ServerOptions(0), serverOpts...)...)
	Register(s, db, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	e := &env{t: t, db: db, port: ln.Addr().(*net.TCPAddr).Port}
	e.client = e.newClient(opts.APIKey)
	t.Cleanup(func() {
		s.GracefulStop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

// addr is the server's address.
func (e *env) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(e.port)) }

// newClient connects Qdrant's Go client with the given API key ("" for
// none). The client is closed with the test.
func (e *env) newClient(apiKey string) *qdrant.Client {
	e.t.Helper()
	c, err := qdrant.NewClient(&qdrant.Config{Host: "127.0.0.1", Port: e.port, APIKey: apiKey, PoolSize: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// must returns v, panicking on err: for calls whose failure is a bug,
// written inline as must(e.client.Count(...)).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// wantCode checks that err is a gRPC status with code and a message
// containing each of msgs.
func wantCode(t *testing.T, err error, code codes.Code, msgs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s", code)
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a gRPC status: %v", err)
	}
	if st.Code() != code {
		t.Fatalf("code %s (%s); want %s", st.Code(), st.Message(), code)
	}
	for _, m := range msgs {
		if !strings.Contains(st.Message(), m) {
			t.Errorf("message %q lacks %q", st.Message(), m)
		}
	}
}

// createSimple creates a collection with one unnamed vector.
func (e *env) createSimple(name string, size uint64, d qdrant.Distance) {
	e.t.Helper()
	err := e.client.CreateCollection(ctx(e.t), &qdrant.CreateCollection{
		CollectionName: name,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: size, Distance: d}),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// upsert writes points with wait=true.
func (e *env) upsert(name string, points ...*qdrant.PointStruct) {
	e.t.Helper()
	res, err := e.client.Upsert(ctx(e.t), &qdrant.UpsertPoints{CollectionName: name, Wait: qdrant.PtrOf(true), Points: points})
	if err != nil {
		e.t.Fatal(err)
	}
	if res.GetStatus() != qdrant.UpdateStatus_Completed {
		e.t.Fatalf("status %s", res.GetStatus())
	}
}

func point(id uint64, vec []float32, payload map[string]any) *qdrant.PointStruct {
	return &qdrant.PointStruct{Id: qdrant.NewIDNum(id), Vectors: qdrant.NewVectorsDense(vec), Payload: qdrant.NewValueMap(payload)}
}

// ids returns the numeric ids of points, in order.
func ids[P interface{ GetId() *qdrant.PointId }](points []P) []uint64 {
	out := make([]uint64, len(points))
	for i, p := range points {
		out[i] = p.GetId().GetNum()
	}
	return out
}

func near(a, b float32) bool { return math.Abs(float64(a-b)) < 1e-4 }

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
