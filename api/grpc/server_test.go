package grpcapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestAuth(t *testing.T) {
	var seen atomic.Int32 // calls the server-wide interceptor saw fail with Unauthenticated
	outer := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if status.Code(err) == codes.Unauthenticated {
			seen.Add(1)
		}
		return resp, err
	}
	e := newEnvWith(t, Options{APIKey: "rw-key", ReadOnlyAPIKey: "ro-key"}, grpc.UnaryInterceptor(outer))
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Dot)
	e.upsert("c", point(1, []float32{1, 2}, nil))

	anon := e.newClient("")
	_, err := anon.ListCollections(c)
	wantCode(t, err, codes.Unauthenticated, "Must provide an API key or an Authorization bearer token")
	_, err = e.newClient("wrong").Count(c, &qdrant.CountPoints{CollectionName: "c"})
	wantCode(t, err, codes.Unauthenticated, "Invalid API key or JWT")
	if seen.Load() != 2 {
		t.Errorf("the server's own interceptor saw %d failures, want 2", seen.Load())
	}
	// The health checks need no key.
	if _, err := anon.HealthCheck(c); err != nil {
		t.Fatal(err)
	}
	if _, err := healthpb.NewHealthClient(anon.GetConnection()).Check(c, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}

	// The read-only key reads and may not write.
	ro := e.newClient("ro-key")
	if n := must(ro.Count(c, &qdrant.CountPoints{CollectionName: "c"})); n != 1 {
		t.Fatalf("count %d", n)
	}
	if _, err := ro.Query(c, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQuery(1, 1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.GetCollectionInfo(c, "c"); err != nil {
		t.Fatal(err)
	}
	_, err = ro.Upsert(c, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{point(2, []float32{1, 2}, nil)}})
	wantCode(t, err, codes.PermissionDenied, "Write access denied")
	err = ro.DeleteCollection(c, "c")
	wantCode(t, err, codes.PermissionDenied, "Write access denied")

	// "authorization: Bearer <key>" works as the api-key metadata does.
	conn, err := grpc.NewClient(e.addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cc := qdrant.NewCollectionsClient(conn)
	bearer := func(key string) context.Context {
		return metadata.AppendToOutgoingContext(c, "authorization", "Bearer "+key)
	}
	if _, err := cc.List(bearer("rw-key"), &qdrant.ListCollectionsRequest{}); err != nil {
		t.Fatal(err)
	}
	_, err = cc.Delete(bearer("ro-key"), &qdrant.DeleteCollection{CollectionName: "c"})
	wantCode(t, err, codes.PermissionDenied)
	_, err = cc.List(metadata.AppendToOutgoingContext(c, "authorization", "Basic rw-key"), &qdrant.ListCollectionsRequest{})
	wantCode(t, err, codes.Unauthenticated)
}

func TestNoAuth(t *testing.T) {
	// Without keys configured, any key (or none) is accepted, as in Qdrant.
	e := newEnv(t, Options{})
	if _, err := e.newClient("whatever").ListCollections(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestCallLog(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	c := ctx(t)
	_, err := e.client.GetCollectionInfo(c, "nope")
	wantCode(t, err, codes.NotFound)
	must(e.client.HealthCheck(c))
	out := logs.String()
	for _, want := range []string{
		"level=INFO msg=call method=/qdrant.Collections/Get code=NotFound duration=",
		"level=DEBUG msg=call method=/qdrant.Qdrant/HealthCheck code=OK duration=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestRecoverPanics(t *testing.T) {
	var logs syncBuffer
	s := &server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	_, err := s.intercept(context.Background(), &qdrant.CountPoints{}, &grpc.UnaryServerInfo{FullMethod: "/qdrant.Points/Count"}, func(context.Context, any) (any, error) {
		panic("secret internal detail")
	})
	wantCode(t, err, codes.Internal, "Service internal error: the request failed unexpectedly; see the server log")
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the panic leaked: %v", err)
	}
	out := logs.String()
	for _, want := range []string{"panic serving call", "secret internal detail", "goroutine", "code=Internal"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

func TestCallTimeout(t *testing.T) {
	f := func(opt time.Duration, req any, want time.Duration) {
		t.Helper()
		s := &server{opts: Options{Timeout: opt}}
		ctx, cancel := s.callContext(context.Background(), req)
		defer cancel()
		dl, ok := ctx.Deadline()
		switch {
		case want == 0 && ok:
			t.Errorf("deadline in %v, want none", time.Until(dl))
		case want > 0 && (!ok || time.Until(dl) > want || time.Until(dl) < want-time.Second):
			t.Errorf("deadline in %v (set %v), want %v", time.Until(dl), ok, want)
		}
	}
	f(0, &qdrant.CountPoints{}, 0)
	f(0, &qdrant.CountPoints{Timeout: qdrant.PtrOf(uint64(5))}, 5*time.Second)
	f(3*time.Second, &qdrant.CountPoints{Timeout: qdrant.PtrOf(uint64(5))}, 3*time.Second)
	f(time.Minute, &qdrant.CountPoints{Timeout: qdrant.PtrOf(uint64(5))}, 5*time.Second)
	f(time.Minute, &qdrant.ListCollectionsRequest{}, time.Minute)
	// A huge timeout does not overflow into the past.
	ctx, cancel := (&server{}).callContext(context.Background(), &qdrant.CountPoints{Timeout: qdrant.PtrOf(uint64(math.MaxUint64))})
	defer cancel()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) < 100*365*24*time.Hour {
		t.Errorf("deadline %v %v", dl, ok)
	}
}

func TestValues(t *testing.T) {
	in := func(v *qdrant.Value, want any) {
		t.Helper()
		got, err := value(v, "payload.x", 0)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		if b, _ := json.Marshal(got); string(b) != want {
			t.Errorf("%v: stored as %s, want %s", v, b, want)
		}
	}
	in(qdrant.NewValueDouble(1), "1.0")
	in(qdrant.NewValueDouble(-0.5), "-0.5")
	in(qdrant.NewValueDouble(1e21), "1e+21")
	in(qdrant.NewValueInt(1), "1")
	in(qdrant.NewValueNull(), "null")
	in(&qdrant.Value{}, "null")
	if _, err := value(qdrant.NewValueDouble(math.NaN()), "payload.x", 0); err == nil || !strings.Contains(err.Error(), "payload.x: NaN is not a valid JSON number") {
		t.Errorf("NaN: %v", err)
	}

	out := func(n json.Number, want *qdrant.Value) {
		t.Helper()
		if got := toValue(n); got.String() != want.String() {
			t.Errorf("%s: %v, want %v", n, got, want)
		}
	}
	out("7", qdrant.NewValueInt(7))
	out("-7", qdrant.NewValueInt(-7))
	out("7.0", qdrant.NewValueDouble(7))
	out("1e3", qdrant.NewValueDouble(1000))
	out("18446744073709551615", qdrant.NewValueDouble(18446744073709551615))
}

// TestImports keeps the package a protocol adapter: besides the standard
// library it imports only the root package, what the two adapters share
// (api/internal/serve), gRPC, protocol buffers and Qdrant's client
// (internal/lint does not see this module).
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := []string{"github.com/strata-db/strata", "github.com/strata-db/strata/api/internal/serve", "google.golang.org/grpc", "google.golang.org/protobuf/", "github.com/qdrant/go-client/qdrant"}
	for _, imp := range strings.Fields(string(out)) {
		first, _, _ := strings.Cut(imp, "/")
		if !strings.Contains(first, ".") {
			continue // standard library
		}
		ok := false
		for _, a := range allowed {
			if imp == a || (strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)) || (a == "google.golang.org/grpc" && strings.HasPrefix(imp, a+"/")) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("imports %s: api/grpc may import only the root package, api/internal/serve and gRPC", imp)
		}
	}
}
