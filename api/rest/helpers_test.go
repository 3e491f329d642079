package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-db/strata"
)

// env is a REST server over a real database in a temporary directory.
type env struct {
	t   *testing.T
	db  *strata.DB
	srv *httptest.Server
	// header is added to every request (authentication tests).
	header http.Header
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	db, err := strata.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(db, opts))
	t.Cleanup(func() {
		srv.Close()
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{t: t, db: db, srv: srv, header: http.Header{}}
}

// response is a decoded answer.
type response struct {
	status int
	body   []byte
	json   map[string]any
}

// result returns the envelope's result.
func (r *response) result() any { return r.json["result"] }

// errMsg returns the envelope's error message.
func (r *response) errMsg() string {
	st, _ := r.json["status"].(map[string]any)
	msg, _ := st["error"].(string)
	return msg
}

// do sends a request. body is sent as is when it is a string or []byte,
// else marshalled as JSON.
func (e *env) do(method, path string, body any) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range e.header {
		req.Header[k] = vs
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &response{status: resp.StatusCode, body: data}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &r.json); err != nil {
			e.t.Fatalf("%s %s: bad JSON answer %q: %v", method, path, data, err)
		}
	}
	return r
}

// ok sends a request that must succeed and returns its result.
func (e *env) ok(method, path string, body any) any {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.status != http.StatusOK || r.json["status"] != "ok" {
		e.t.Fatalf("%s %s: got %d %s", method, path, r.status, r.body)
	}
	if _, ok := r.json["time"].(float64); !ok {
		e.t.Fatalf("%s %s: no time in %s", method, path, r.body)
	}
	return r.result()
}

// fail sends a request that must fail with status and a message
// containing msg.
func (e *env) fail(method, path string, body any, status int, msg string) *response {
	e.t.Helper()
	r := e.do(method, path, body)
	if r.status != status {
		e.t.Fatalf("%s %s: got status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if r.json == nil {
		e.t.Fatalf("%s %s: answer is not JSON: %q", method, path, r.body)
	}
	if _, ok := r.json["time"].(float64); !ok {
		e.t.Fatalf("%s %s: no time in %s", method, path, r.body)
	}
	if !strings.Contains(r.errMsg(), msg) {
		e.t.Fatalf("%s %s: error %q does not contain %q", method, path, r.errMsg(), msg)
	}
	return r
}

// write sends a write with ?wait=true and checks the UpdateResult.
func (e *env) write(method, path string, body any) {
	e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	res, ok := e.ok(method, path+sep+"wait=true", body).(map[string]any)
	if !ok || res["status"] != "completed" {
		e.t.Fatalf("%s %s: result %v", method, path, res)
	}
	if id, ok := res["operation_id"].(float64); !ok || id < 1 {
		e.t.Fatalf("%s %s: operation_id %v", method, path, res["operation_id"])
	}
}

// create creates a collection with the given body.
func (e *env) create(name string, body any) {
	e.t.Helper()
	if res := e.ok("PUT", "/collections/"+name, body); res != true {
		e.t.Fatalf("create %s: result %v", name, res)
	}
}

// points returns the "points" of a query answer.
func points(t *testing.T, res any) []any {
	t.Helper()
	m, ok := res.(map[string]any)
	if !ok {
		t.Fatalf("not an object: %v", res)
	}
	pts, ok := m["points"].([]any)
	if !ok {
		t.Fatalf("no points in %v", res)
	}
	return pts
}

// ids returns the ids of a list of points, as strings.
func ids(t *testing.T, pts []any) string {
	t.Helper()
	var out []string
	for _, p := range pts {
		out = append(out, fmt.Sprint(p.(map[string]any)["id"]))
	}
	return strings.Join(out, ",")
}

func field(p any, key string) any { return p.(map[string]any)[key] }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

// jsonEqual compares a decoded value with a JSON literal.
func jsonEqual(t *testing.T, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("got %s, want %s", gb, wb)
	}
}
