package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logSink collects a server's log lines and finds its address in them.
type logSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addrC chan string
	once  sync.Once
}

func newLogSink() *logSink { return &logSink{addrC: make(chan string, 1)} }

var (
	listenRE     = regexp.MustCompile(`msg="HTTP listening" addr=(\S+)`)
	grpcListenRE = regexp.MustCompile(`msg="gRPC listening" addr=(\S+)`)
)

// grpcAddr returns the gRPC address from the log (after addr returned).
func (s *logSink) grpcAddr(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := grpcListenRE.FindStringSubmatch(s.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no gRPC listener:\n%s", s)
	return ""
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.buf.Write(p)
	text := s.buf.String()
	s.mu.Unlock()
	if m := listenRE.FindStringSubmatch(text); m != nil {
		s.once.Do(func() { s.addrC <- m[1] })
	}
	return len(p), nil
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// addr waits for the "HTTP listening" line.
func (s *logSink) addr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-s.addrC:
		return a
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not start:\n%s", s)
		return ""
	}
}

// client talks to a server.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (c *client) call(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		c.t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

func (c *client) ok(method, path, body string) any {
	c.t.Helper()
	status, out := c.call(method, path, body)
	if status != 200 {
		c.t.Fatalf("%s %s: %d %v", method, path, status, out)
	}
	return out["result"]
}

// buildBinary builds cmd/strata into a temporary directory, as a release
// is built: CGO_ENABLED=0, one static binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "strata")
	cmd := exec.Command(goTool, "build", "-ldflags", "-X main.version=v0.0.0-test", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// checkStatic fails unless the ELF file bin is static: no program
// interpreter (dynamic loader), no shared libraries.
func checkStatic(t *testing.T, bin string) {
	t.Helper()
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has a program interpreter: it is not static", bin)
		}
	}
	if libs, _ := ef.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v", bin, libs)
	}
}

// process is a running server binary.
type process struct {
	cmd  *exec.Cmd
	logs *logSink
	done chan error
}

func start(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{logs: newLogSink(), done: make(chan error, 1)}
	// A free gRPC port too: tests run beside other servers.
	p.cmd = exec.Command(bin, append([]string{"serve", "--grpc-port", "0"}, args...)...)
	p.cmd.Stderr = p.logs
	p.cmd.Env = append(os.Environ(), "STRATA__LOG_LEVEL=info")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGTERM and checks a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("no exit after SIGTERM:\n%s", p.logs)
	}
	for _, want := range []string{"shutting down", "database closed"} {
		if !strings.Contains(p.logs.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, p.logs)
		}
	}
}

// TestBinary builds the real binary, serves a data directory on a free
// port, writes and queries, stops it with SIGTERM and checks that the data
// survives a restart.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	if runtime.GOOS == "linux" {
		checkStatic(t, bin)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "strata v0.0.0-test (Qdrant REST API 1.19.0, ") {
		t.Fatalf("version: %q %v", out, err)
	}

	dir := filepath.Join(t.TempDir(), "data")
	p := start(t, bin, "--data-dir", dir, "--http-port", "0")
	c := &client{t: t, base: "http://" + p.logs.addr(t), http: &http.Client{Timeout: 30 * time.Second}}
	if c.ok("GET", "/collections", "") == nil {
		t.Fatal("no result")
	}
	c.ok("PUT", "/collections/docs", `{"vectors": {"size": 3, "distance": "Cosine"}}`)
	c.ok("PUT", "/collections/docs/points?wait=true", `{"points": [
		{"id": 1, "vector": [1, 0, 0], "payload": {"title": "x"}},
		{"id": 2, "vector": [0, 1, 0], "payload": {"title": "y"}},
		{"id": "3c1a2f5e-0000-4000-8000-000000000001", "vector": [0.9, 0.1, 0], "payload": {"title": "z"}}]}`)
	query := func() string {
		res := c.ok("POST", "/collections/docs/points/query", `{"query": [1, 0, 0], "limit": 2, "with_payload": true}`)
		var parts []string
		for _, pt := range res.(map[string]any)["points"].([]any) {
			m := pt.(map[string]any)
			parts = append(parts, fmt.Sprintf("%v:%v", m["id"], m["payload"].(map[string]any)["title"]))
		}
		return strings.Join(parts, ",")
	}
	const want = "1:x,3c1a2f5e-0000-4000-8000-000000000001:z"
	if got := query(); got != want {
		t.Fatalf("query: %s", got)
	}

	// The gRPC API serves the same database.
	conn, err := grpc.NewClient(p.logs.grpcAddr(t), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	hc, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health: %v %v", hc, err)
	}
	_ = conn.Close()

	// A second server on the same directory refuses to start.
	second := start(t, bin, "--data-dir", dir, "--http-port", "0")
	select {
	case err := <-second.done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(second.logs.String(), "locked") {
			t.Fatalf("second server: %v\n%s", err, second.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("second server did not exit")
	}

	p.stop(t)

	// Restart: the data is there.
	p = start(t, bin, "--data-dir", dir, "--http-port", "0")
	c.base = "http://" + p.logs.addr(t)
	if got := query(); got != want {
		t.Fatalf("query after restart: %s", got)
	}
	info := c.ok("GET", "/collections/docs", "").(map[string]any)
	if info["points_count"] != float64(3) {
		t.Fatalf("points_count after restart: %v", info["points_count"])
	}
	p.stop(t)
}

// writeCert writes a self-signed certificate for 127.0.0.1.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "strata-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serveInProcess runs "strata serve" in this process until the returned
// stop function cancels it; stop returns the exit code.
func serveInProcess(t *testing.T, args, environ []string) (*logSink, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogSink()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"serve", "--grpc-port", "0"}, args...), environ, io.Discard, logs)
	}()
	return logs, func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(60 * time.Second):
			t.Errorf("serve did not return:\n%s", logs) // not Fatal: stop may run on another goroutine
			return -1
		}
	}
}

// TestServeTLSAndAuth serves HTTPS with keys from a YAML file.
func TestServeTLSAndAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir)
	cfgFile := filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("service:\n  host: 127.0.0.1\n  http_port: 0\n  api_key: file-key\n  enable_tls: true\ntls:\n  cert: %s\n  key: %s\nstorage:\n  storage_path: %s\n",
		certFile, keyFile, filepath.Join(dir, "data"))
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	logs, stop := serveInProcess(t, []string{"--config", cfgFile}, []string{"STRATA__SERVICE__READ_ONLY_API_KEY=env-ro"})
	addr := logs.addr(t)
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := &client{t: t, base: "https://" + addr, http: httpc}
	if status, _ := c.call("GET", "/collections", ""); status != http.StatusUnauthorized {
		t.Fatalf("no key: %d", status)
	}
	get := func(key string) int {
		req, _ := http.NewRequest("GET", c.base+"/collections", nil)
		req.Header.Set("api-key", key)
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get("file-key") != 200 || get("env-ro") != 200 || get("nope") != 401 {
		t.Fatal("keys from the file and the environment")
	}
	// Plain HTTP on the TLS port fails.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP served on the TLS port")
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, logs)
	}
	if !strings.Contains(logs.String(), "tls=true") {
		t.Fatalf("log:\n%s", logs)
	}
}

func TestServeErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		env  []string
		code int
		msg  string
	}{
		{[]string{"--http-port", "70000"}, nil, 2, "-http-port: expected an integer from 0 to 65535"},
		{[]string{"--tls-cert", "x.pem"}, nil, 2, "TLS is enabled but tls.cert or tls.key is missing"},
		{[]string{"--tls-cert", filepath.Join(dir, "missing.pem"), "--tls-key", filepath.Join(dir, "missing.key")}, nil, 1, "TLS: open"},
		{[]string{"--config", filepath.Join(dir, "none.yaml")}, nil, 2, "config: open"},
		{nil, []string{"STRATA__SERVICE__HTTP_PORT=abc"}, 2, `STRATA__SERVICE__HTTP_PORT: expected an integer from 0 to 65535, got "abc"`},
		{[]string{"--log-level", "loud"}, nil, 2, `log_level: unknown level "loud"`},
		{[]string{"extra"}, nil, 2, "unexpected arguments"},
		{[]string{"--host", "256.0.0.1", "--http-port", "0", "--data-dir", filepath.Join(dir, "d")}, nil, 1, "strata serve failed"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), append([]string{"serve"}, c.args...), c.env, io.Discard, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.msg) {
			t.Errorf("%v %v: code %d, stderr:\n%s\nwant code %d and %q", c.args, c.env, code, stderr.String(), c.code, c.msg)
		}
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"bogus"}, nil, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), `unknown command "bogus"`) {
		t.Errorf("bogus command: %d %s", code, stderr.String())
	}
	if code := run(context.Background(), []string{"serve", "-h"}, nil, io.Discard, &stderr); code != 0 || !strings.Contains(stderr.String(), "STRATA__SERVICE__HTTP_PORT") {
		t.Errorf("serve -h: %d", code)
	}
}

// TestGracefulShutdown: a request in flight when the server is told to
// stop still gets its answer; new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	logs, stop := serveInProcess(t, []string{"--data-dir", dir, "--http-port", "0"}, nil)
	base := "http://" + logs.addr(t)
	c := &client{t: t, base: base, http: &http.Client{Timeout: 30 * time.Second}}
	c.ok("PUT", "/collections/c", `{"vectors": {"size": 1, "distance": "Dot"}}`)

	// Start an upsert whose body arrives in two parts.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", base+"/collections/c/points?wait=true", pr)
	req.Header.Set("Content-Type", "application/json")
	type answer struct {
		status int
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := c.http.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		resp.Body.Close()
		answered <- answer{status: resp.StatusCode}
	}()
	if _, err := pw.Write([]byte(`{"points": [{"id": 1, `)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the handler is reading the body
	code := make(chan int, 1)
	go func() { code <- stop() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/healthz"); err == nil {
		t.Error("a new request was served during shutdown")
	}
	if _, err := pw.Write([]byte(`"vector": [2]}]}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if a := <-answered; a.err != nil || a.status != 200 {
		t.Fatalf("in-flight request: %+v", a)
	}
	if got := <-code; got != 0 {
		t.Fatalf("exit code %d:\n%s", got, logs)
	}

	// The write is durable: reopen and count.
	logs, stop = serveInProcess(t, []string{"--data-dir", dir, "--http-port", "0"}, nil)
	c.base = "http://" + logs.addr(t)
	if res := c.ok("POST", "/collections/c/points/count", `{}`).(map[string]any); res["count"] != float64(1) {
		t.Fatalf("count after restart: %v", res)
	}
	if got := stop(); got != 0 {
		t.Fatalf("exit code %d", got)
	}
}

// TestStartupRecovery: --storage-snapshot and --snapshot recover before
// serving, as Qdrant's flags do; existing collections are replaced only
// with --force-snapshot, and a refusal stops the server with a clear error
// before it serves anything.
func TestStartupRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	src := filepath.Join(t.TempDir(), "src")
	p := start(t, bin, "--data-dir", src, "--http-port", "0")
	c := &client{t: t, base: "http://" + p.logs.addr(t), http: &http.Client{Timeout: 30 * time.Second}}
	c.ok("PUT", "/collections/docs", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	c.ok("PUT", "/collections/docs/points?wait=true", `{"points": [
		{"id": 1, "vector": [1, 0], "payload": {"k": "a"}}, {"id": 2, "vector": [0, 1]}, {"id": 3, "vector": [1, 1]}]}`)
	full := c.ok("POST", "/snapshots", "").(map[string]any)["name"].(string)
	one := c.ok("POST", "/collections/docs/snapshots", "").(map[string]any)["name"].(string)
	p.stop(t)
	fullPath := filepath.Join(src, "snapshots", ".full", full)
	onePath := filepath.Join(src, "snapshots", "docs", one)

	count := func(c *client, coll string) float64 {
		t.Helper()
		return c.ok("POST", "/collections/"+coll+"/points/count", `{"exact": true}`).(map[string]any)["count"].(float64)
	}
	// fails runs the server with args and expects it to exit non-zero
	// with want in its log.
	fails := func(dir, want string, args ...string) {
		t.Helper()
		p := start(t, bin, append([]string{"--data-dir", dir, "--http-port", "0"}, args...)...)
		select {
		case err := <-p.done:
			if err == nil || !strings.Contains(p.logs.String(), want) {
				t.Fatalf("%v: exit %v, want a failure saying %q:\n%s", args, err, want, p.logs)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("%v: still running, want a refusal:\n%s", args, p.logs)
		}
	}

	dst := filepath.Join(t.TempDir(), "dst")
	p = start(t, bin, "--data-dir", dst, "--http-port", "0", "--storage-snapshot", fullPath)
	c = &client{t: t, base: "http://" + p.logs.addr(t), http: &http.Client{Timeout: 30 * time.Second}}
	if n := count(c, "docs"); n != 3 {
		t.Fatalf("after --storage-snapshot: %v points, want 3", n)
	}
	c.ok("PUT", "/collections/docs/points?wait=true", `{"points": [{"id": 4, "vector": [2, 2]}]}`)
	p.stop(t)

	// Existing collections are not replaced without --force-snapshot.
	fails(dst, "--force-snapshot", "--storage-snapshot", fullPath)
	fails(dst, "--force-snapshot", "--snapshot", onePath+":docs")
	fails(dst, "no such file", "--snapshot", onePath+".missing:other")

	p = start(t, bin, "--data-dir", dst, "--http-port", "0", "--snapshot", onePath+":copy", "--snapshot", onePath+":docs", "--force-snapshot")
	c = &client{t: t, base: "http://" + p.logs.addr(t), http: &http.Client{Timeout: 30 * time.Second}}
	if n := count(c, "docs"); n != 3 {
		t.Fatalf("docs after --snapshot --force-snapshot: %v points, want 3 (the 4th was written after the snapshot)", n)
	}
	if n := count(c, "copy"); n != 3 {
		t.Fatalf("copy after --snapshot: %v points, want 3", n)
	}
	p.stop(t)
}
