//go:build unix

package conformance

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requireEnv, set to 1 (as CI does), turns the skip for a missing node or
// npm into a failure.
const requireEnv = "STRATA_REQUIRE_CONFORMANCE"

// minNodeMajor is the oldest Node.js the tests run on (package.json's
// engines).
const minNodeMajor = 20

// serverDir is the server's main package, a module of its own (it links
// gRPC, which the root module does not); go runs there with GOWORK=off.
var serverDir = filepath.Join("..", "cmd", "strata")

// inServerModule returns a go command run in the server's module.
func inServerModule(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = serverDir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	return cmd
}

// The keys of the server started with API keys.
const (
	apiKey         = "conformance-rw-key"
	readOnlyAPIKey = "conformance-ro-key"
)

// Bounds on each step, far above what they take, so that a hang fails the
// test instead of the whole go test run.
const (
	npmTimeout   = 5 * time.Minute
	buildTimeout = 5 * time.Minute
	nodeTimeout  = 3 * time.Minute
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// TestQdrantJSClient runs the tests under js/ with Qdrant's JavaScript
// client against the real strata binary:
//
//  1. a server without keys: js/test/*.test.js (but auth), then
//     js/restart/before.js; SIGTERM, a new server on the same data
//     directory, js/restart/after.js;
//  2. a server with a read-write and a read-only key: js/test/auth.test.js.
func TestQdrantJSClient(t *testing.T) {
	node, npm := tools(t)
	jsDir, err := filepath.Abs("js")
	if err != nil {
		t.Fatal(err)
	}
	recordInputs(t, jsDir)
	installModules(t, npm, jsDir)
	bin := buildServer(t)

	testFiles, err := filepath.Glob(filepath.Join(jsDir, "test", "*.test.js"))
	if err != nil || len(testFiles) == 0 {
		t.Fatalf("no test files in %s/test: %v", jsDir, err)
	}
	authFile := filepath.Join(jsDir, "test", "auth.test.js")
	if !slices.Contains(testFiles, authFile) {
		t.Fatalf("%s is missing", authFile)
	}
	plainFiles := slices.DeleteFunc(slices.Clone(testFiles), func(f string) bool { return f == authFile })

	t.Run("no-key", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		srv := startServer(t, bin, "--data-dir", dataDir)
		// STRATA_DATA_DIR: snapshots.test.js recovers from file:// locations.
		runNode(t, node, jsDir, append(srv.env(), "STRATA_DATA_DIR="+dataDir), append(plainFiles, filepath.Join(jsDir, "restart", "before.js")))
		srv.stop(t)

		srv = startServer(t, bin, "--data-dir", dataDir)
		runNode(t, node, jsDir, srv.env(), []string{filepath.Join(jsDir, "restart", "after.js")})
		srv.stop(t)
	})

	t.Run("api-key", func(t *testing.T) {
		srv := startServer(t, bin, "--data-dir", filepath.Join(t.TempDir(), "data"),
			"--api-key", apiKey, "--read-only-api-key", readOnlyAPIKey)
		env := append(srv.env(), "STRATA_API_KEY="+apiKey, "STRATA_READ_ONLY_API_KEY="+readOnlyAPIKey)
		sum := runNode(t, node, jsDir, env, []string{authFile})
		if sum["skipped"] != 0 {
			t.Errorf("auth tests skipped with the keys set: %v", sum)
		}
		srv.stop(t)
	})
}

// tools finds node and npm, or skips (fails with STRATA_REQUIRE_CONFORMANCE=1).
func tools(t *testing.T) (node, npm string) {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(requireEnv) == "1" {
			t.Fatalf("%s, and %s=1 requires the conformance tests", msg, requireEnv)
		}
		t.Skipf("skipping the conformance tests with Qdrant's JavaScript client: %s (install Node.js %d+ with npm; set %s=1 to make this a failure)",
			msg, minNodeMajor, requireEnv)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("node is not on PATH")
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		unavailable("npm is not on PATH")
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		unavailable("%s --version: %v", node, err)
	}
	version := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < minNodeMajor {
		unavailable("node %s is older than %d", version, minNodeMajor)
	}
	t.Logf("node %s (%s), npm %s", version, node, npm)
	return node, npm
}

// recordInputs stats every file the result depends on beyond this
// package's own sources: the JavaScript files and the sources of the server
// binary. go test records the files a test opens or stats and re-runs a
// cached test when one of them changes; without this, a change to the
// server or to a JavaScript test would leave a cached pass in place.
func recordInputs(t *testing.T, jsDir string) {
	t.Helper()
	err := filepath.WalkDir(jsDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		_, err = os.Stat(path)
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", jsDir, err)
	}
	// One file a line: the Go, assembly and embedded files of every
	// package of the binary outside the standard library.
	const format = `{{if not .Standard}}{{range .GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}` +
		`{{range .SFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}`
	out, err := inServerModule(context.Background(), "list", "-deps", "-f", format, ".").Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", serverDir, err)
	}
	n := 0
	for _, path := range strings.Split(string(out), "\n") {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("go list -deps %s listed no files", serverDir)
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// installModules runs "npm ci" in js/ when node_modules is missing or
// older than package.json, package-lock.json or .npmrc (npm writes
// node_modules/.package-lock.json last, so its time is the install's).
//
// A lock file serialises this between test runs on the same checkout: a
// run holds it shared while it uses node_modules, and exclusive while it
// installs, so that no run deletes node_modules under another.
func installModules(t *testing.T, npm, jsDir string) {
	t.Helper()
	// Outside the checkout, so that nothing needs ignoring; one per checkout.
	lockPath := filepath.Join(os.TempDir(), fmt.Sprintf("strata-conformance-%x.lock", fnv64(jsDir)))
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
	flock := func(how int) {
		t.Helper()
		if err := syscall.Flock(int(f.Fd()), how); err != nil {
			t.Fatalf("lock %s: %v", lockPath, err)
		}
	}

	flock(syscall.LOCK_SH)
	reason := modulesOutdated(t, jsDir)
	if reason == "" {
		t.Log("js/node_modules is up to date")
		return
	}
	flock(syscall.LOCK_EX)
	if reason = modulesOutdated(t, jsDir); reason == "" { // installed meanwhile
		flock(syscall.LOCK_SH)
		return
	}
	t.Logf("npm ci: %s", reason)
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--no-update-notifier")
	cmd.Dir = jsDir
	out := &lineLogger{t: t, prefix: "npm: "}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	err = cmd.Run()
	out.Flush()
	if err != nil {
		t.Fatalf("npm ci in %s: %v (the output is above)", jsDir, err)
	}
	t.Logf("npm ci took %v", time.Since(start).Round(time.Millisecond))
	flock(syscall.LOCK_SH)
}

// modulesOutdated says why js/node_modules needs installing, or "".
func modulesOutdated(t *testing.T, jsDir string) string {
	t.Helper()
	stamp, err := os.Stat(filepath.Join(jsDir, "node_modules", ".package-lock.json"))
	if err != nil {
		return "node_modules is missing"
	}
	for _, name := range []string{"package.json", "package-lock.json", ".npmrc"} {
		fi, err := os.Stat(filepath.Join(jsDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().After(stamp.ModTime()) {
			return name + " is newer than node_modules"
		}
	}
	return ""
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// buildServer builds cmd/strata, with the race detector when this test
// runs with it, so that the client's requests are checked for races in the
// server too.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "strata")
	args := []string{"build", "-o", bin, "-ldflags", "-X main.version=v0.0.0-conformance"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, ".")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	start := time.Now()
	if out, err := inServerModule(ctx, args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("built the server (race detector: %v) in %v", raceEnabled, time.Since(start).Round(time.Millisecond))
	return bin
}

// server is a running strata serve.
type server struct {
	cmd  *exec.Cmd
	logs *logBuffer
	done chan error
	url  string
}

// startServer runs "strata serve" with args on a free loopback port and
// waits until /readyz answers.
func startServer(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	s := &server{logs: newLogBuffer(), done: make(chan error, 1)}
	args = append([]string{"serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--log-level", "info"}, args...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	s.cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "STRATA__") })
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.done: // stopped (or exited) already
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("server log (%s), without the lines of requests answered below 500:\n%s", strings.Join(args, " "), s.logs.notable())
		}
	})

	var addr string
	select {
	case addr = <-s.logs.addrC:
	case err := <-s.done:
		s.done <- err // for the cleanup
		t.Fatalf("the server exited at start: %v", err)
	case <-time.After(startTimeout):
		t.Fatalf("the server did not log its address within %v", startTimeout)
	}
	s.url = "http://" + addr
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		resp, err := hc.Get(s.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz did not answer 200 within %v (last error: %v)", s.url, startTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("server ready at %s", s.url)
	return s
}

// env is the environment of the JavaScript tests for s.
func (s *server) env() []string { return []string{"STRATA_URL=" + s.url} }

// stop sends SIGTERM and checks a clean exit: status 0, the database
// closed, no error logged. (The cleanup of startServer logs the server's
// log if the test failed.)
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		if err != nil {
			t.Errorf("the server's exit after SIGTERM: %v", err)
		}
	case <-time.After(stopTimeout):
		t.Fatalf("the server did not exit within %v of SIGTERM", stopTimeout)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, `msg="database closed"`) {
		t.Errorf("the server's log lacks \"database closed\"")
	}
	// A 500, a panic or a data race is a server bug even if every client
	// call got the answer the test wanted.
	var bad []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "WARNING: DATA RACE") || strings.HasPrefix(line, "panic:") {
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		t.Errorf("the server logged errors:\n%s", strings.Join(bad, "\n"))
	}
}

// summaryRE matches the counts node --test's spec reporter prints last
// ("ℹ tests 57", "ℹ pass 56", ...).
var summaryRE = regexp.MustCompile(`^ℹ (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$`)

// runNode runs node --test on files, streaming the output into the test's
// log, and fails unless node exits 0 having run at least one test. It
// returns the reporter's summary counts.
func runNode(t *testing.T, node, jsDir string, env, files []string) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	args := append([]string{"--test", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = jsDir
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "STRATA_") || strings.HasPrefix(kv, "NODE_OPTIONS=")
	}), append([]string{"NO_COLOR=1"}, env...)...)
	sum := map[string]int{}
	out := &lineLogger{t: t, prefix: "node: ", onLine: func(line string) {
		if m := summaryRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			sum[m[1]], _ = strconv.Atoi(m[2])
		}
	}}
	cmd.Stdout, cmd.Stderr = out, out
	setProcessGroup(cmd)
	start := time.Now()
	err := cmd.Run()
	out.Flush()
	rel := make([]string, len(files))
	for i, f := range files {
		rel[i], _ = filepath.Rel(jsDir, f)
	}
	switch {
	case ctx.Err() != nil:
		t.Errorf("node --test %s: no exit within %v", strings.Join(rel, " "), nodeTimeout)
	case err != nil:
		t.Errorf("node --test %s: %v; the failures are in the output above", strings.Join(rel, " "), err)
	case sum["tests"] == 0:
		t.Errorf("node --test %s ran no tests", strings.Join(rel, " "))
	}
	t.Logf("node --test %s: %v in %v", strings.Join(rel, " "), sum, time.Since(start).Round(time.Millisecond))
	return sum
}

// setProcessGroup makes cmd the leader of a new process group and kills the
// whole group when its context ends (node --test runs each file in a child
// process), and bounds the wait for the output pipes.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
}

// lineLogger writes each line of what it is given to the test's log.
type lineLogger struct {
	t      *testing.T
	prefix string
	onLine func(string)
	mu     sync.Mutex
	buf    []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// Flush logs a last line without a newline.
func (l *lineLogger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
}

func (l *lineLogger) line(s string) {
	s = strings.TrimRight(s, "\r")
	if l.onLine != nil {
		l.onLine(s)
	}
	l.t.Log(l.prefix + s)
}

// logBuffer collects a server's output and finds its address in it.
type logBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	addrC chan string
	found bool
}

func newLogBuffer() *logBuffer { return &logBuffer{addrC: make(chan string, 1)} }

var listenRE = regexp.MustCompile(`msg="HTTP listening" addr=(\S+)`)

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if !b.found {
		sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				b.found = true
				b.addrC <- m[1]
				break
			}
		}
	}
	return len(p), nil
}

var okRequestRE = regexp.MustCompile(`msg=request .* status=[1-4]\d\d `)

// notable returns the log without the lines of requests answered below 500.
func (b *logBuffer) notable() string {
	var out []string
	for _, line := range strings.Split(b.String(), "\n") {
		if !okRequestRE.MatchString(line) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.Writer = (*logBuffer)(nil)
