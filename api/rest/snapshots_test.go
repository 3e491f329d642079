package rest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// snapEnv is a server with collection "s" holding 30 points.
func snapEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := newEnv(t, opts)
	e.create("s", map[string]any{"vectors": map[string]any{"size": 3, "distance": "Dot"}})
	var pts []any
	for i := 0; i < 30; i++ {
		pts = append(pts, map[string]any{"id": i, "vector": []float32{float32(i), 1, 0}, "payload": map[string]any{"i": i}})
	}
	e.write("PUT", "/collections/s/points", map[string]any{"points": pts})
	return e
}

// createSnap creates a snapshot of coll and returns its description.
func (e *env) createSnap(coll string) map[string]any {
	e.t.Helper()
	d, ok := e.ok("POST", "/collections/"+coll+"/snapshots", nil).(map[string]any)
	if !ok {
		e.t.Fatalf("create snapshot: %v", d)
	}
	return d
}

// raw sends a request with the given body and content type, and the env's
// headers.
func (e *env) raw(method, path, ctype string, body io.Reader) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, vs := range e.header {
		req.Header[k] = vs
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *env) download(coll, name string) []byte {
	e.t.Helper()
	resp := e.raw("GET", "/collections/"+coll+"/snapshots/"+url.PathEscape(name), "", nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("download: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		e.t.Fatalf("download content type %q", ct)
	}
	return b
}

// upload posts data as the multipart file field "snapshot" (or field).
func (e *env) upload(path, field string, data []byte) *response {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("other", "ignored")
	fw, err := mw.CreateFormFile(field, "x.snapshot")
	if err != nil {
		e.t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return e.answer(e.raw("POST", path, mw.FormDataContentType(), &buf))
}

func (e *env) answer(resp *http.Response) *response {
	e.t.Helper()
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := &response{status: resp.StatusCode, body: data}
	if err := json.Unmarshal(data, &r.json); err != nil {
		e.t.Fatalf("answer is not JSON: %q", data)
	}
	return r
}

func (e *env) count(coll string) int {
	e.t.Helper()
	res := e.ok("POST", "/collections/"+coll+"/points/count", map[string]any{"exact": true})
	return int(res.(map[string]any)["count"].(float64))
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

var creationTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`)

func TestSnapshotCreateListDownloadDelete(t *testing.T) {
	e := snapEnv(t, Options{})
	d := e.createSnap("s")
	name, _ := d["name"].(string)
	sum, _ := d["checksum"].(string)
	size, _ := d["size"].(float64)
	if !strings.HasPrefix(name, "s-") || !strings.HasSuffix(name, ".snapshot") || len(sum) != 64 || size <= 0 {
		t.Fatalf("description: %v", d)
	}
	if ct, _ := d["creation_time"].(string); !creationTimeRE.MatchString(ct) {
		t.Fatalf("creation_time %q", ct)
	}
	list, _ := e.ok("GET", "/collections/s/snapshots", nil).([]any)
	if len(list) != 1 {
		t.Fatalf("list: %v", list)
	}
	jsonEqual(t, list[0], mustJSON(t, d))

	b := e.download("s", name)
	h := sha256.Sum256(b)
	if hex.EncodeToString(h[:]) != sum || float64(len(b)) != size {
		t.Fatalf("downloaded %d bytes with sha256 %x; description %v", len(b), h, d)
	}
	// Ranges work (resumable downloads).
	req, _ := http.NewRequest("GET", e.srv.URL+"/collections/s/snapshots/"+name, nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, b[10:20]) {
		t.Fatalf("range: %d %q", resp.StatusCode, part)
	}

	if res := e.ok("DELETE", "/collections/s/snapshots/"+name, nil); res != true {
		t.Fatalf("delete: %v", res)
	}
	e.fail("GET", "/collections/s/snapshots/"+name, nil, 404, "Not found: snapshot")
	e.fail("DELETE", "/collections/s/snapshots/"+name, nil, 404, "Not found: snapshot")
	if list, _ := e.ok("GET", "/collections/s/snapshots", nil).([]any); len(list) != 0 {
		t.Fatalf("list after delete: %v", list)
	}

	// Unknown collections and bad names.
	e.fail("POST", "/collections/nope/snapshots", nil, 404, "Collection `nope` doesn't exist!")
	e.fail("GET", "/collections/nope/snapshots", nil, 404, "Collection `nope` doesn't exist!")
	e.fail("GET", "/collections/s/snapshots/nope.snapshot", nil, 404, `snapshot "nope.snapshot" of collection "s"`)
	e.fail("DELETE", "/collections/s/snapshots/..%2Fx", nil, 400, "path separator")
	e.fail("DELETE", "/collections/s/snapshots/a..b.snapshot", nil, 400, `contains ".."`)
	e.fail("GET", "/collections/s/snapshots/a%2Fb", nil, 400, "path separator")
	e.fail("POST", "/collections/s/snapshots?wait=maybe", nil, 400, "wait: expected true or false")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wait=false answers 202 {"status": "accepted"} and the work happens.
func TestSnapshotNoWait(t *testing.T) {
	e := snapEnv(t, Options{})
	r := e.do("POST", "/collections/s/snapshots?wait=false", nil)
	if r.status != http.StatusAccepted || r.json["status"] != "accepted" || r.json["result"] != nil {
		t.Fatalf("create wait=false: %d %s", r.status, r.body)
	}
	var name string
	eventually(t, "the snapshot", func() bool {
		list, _ := e.ok("GET", "/collections/s/snapshots", nil).([]any)
		if len(list) == 1 {
			name = list[0].(map[string]any)["name"].(string)
		}
		return len(list) == 1
	})
	b := e.download("s", name)
	// Upload with wait=false: 202 once received, the collection appears.
	r = e.upload("/collections/up/snapshots/upload?wait=false", "snapshot", b)
	if r.status != http.StatusAccepted || r.json["status"] != "accepted" {
		t.Fatalf("upload wait=false: %d %s", r.status, r.body)
	}
	eventually(t, "the uploaded collection", func() bool {
		return e.do("GET", "/collections/up", nil).status == 200
	})
	if n := e.count("up"); n != 30 {
		t.Fatalf("uploaded collection has %d points", n)
	}
	// Recover with wait=false, over an existing collection.
	e.write("POST", "/collections/s/points/delete", map[string]any{"points": []int{1, 2, 3}})
	loc := filepath.Join(e.db.SnapshotsDir(), "s", name)
	abs, _ := filepath.Abs(loc)
	r = e.do("PUT", "/collections/s/snapshots/recover?wait=false", map[string]any{"location": "file://" + abs})
	if r.status != http.StatusAccepted {
		t.Fatalf("recover wait=false: %d %s", r.status, r.body)
	}
	eventually(t, "the recovered collection", func() bool { return e.count("s") == 30 })
	r = e.do("DELETE", "/collections/s/snapshots/"+name+"?wait=false", nil)
	if r.status != http.StatusAccepted {
		t.Fatalf("delete wait=false: %d %s", r.status, r.body)
	}
	eventually(t, "the deletion", func() bool {
		list, _ := e.ok("GET", "/collections/s/snapshots", nil).([]any)
		return len(list) == 0
	})
	e.fail("DELETE", "/collections/s/snapshots/"+name+"?wait=false", nil, 404, "Not found")
}

func TestSnapshotUpload(t *testing.T) {
	e := snapEnv(t, Options{MaxSnapshotBytes: 1 << 20})
	d := e.createSnap("s")
	name, sum := d["name"].(string), d["checksum"].(string)
	b := e.download("s", name)

	if res := e.upload("/collections/copy/snapshots/upload?priority=snapshot&checksum="+sum, "snapshot", b); res.status != 200 || res.result() != true {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	if n := e.count("copy"); n != 30 {
		t.Fatalf("copy has %d points", n)
	}
	// Over an existing collection, which loses its later changes.
	e.write("PUT", "/collections/s/points", map[string]any{"points": []any{map[string]any{"id": 100, "vector": []float32{1, 1, 1}}}})
	if res := e.upload("/collections/s/snapshots/upload", "snapshot", b); res.status != 200 {
		t.Fatalf("upload over s: %d %s", res.status, res.body)
	}
	if n := e.count("s"); n != 30 {
		t.Fatalf("s has %d points after recovery", n)
	}

	bad := strings.Repeat("0", 64)
	for _, tc := range []struct {
		path, field string
		data        []byte
		status      int
		msg         string
	}{
		{"/collections/x/snapshots/upload?checksum=" + bad, "snapshot", b, 400, "snapshot checksum mismatch: expected " + bad + ", but the snapshot's SHA-256 is " + sum},
		{"/collections/x/snapshots/upload?checksum=abc", "snapshot", b, 400, "not a SHA-256 digest"},
		{"/collections/x/snapshots/upload", "snapshot", b[:len(b)/2], 400, "truncated"},
		{"/collections/x/snapshots/upload", "file", b, 400, `no field "snapshot"`},
		{"/collections/x/snapshots/upload?priority=first", "snapshot", b, 400, "unknown variant"},
		{"/collections/x/snapshots/upload", "snapshot", bytes.Repeat([]byte{1}, 2<<20), 413, "larger than the limit of 1048576 bytes"},
		{"/collections/.x/snapshots/upload", "snapshot", b, 400, "may not start with '.'"},
	} {
		res := e.upload(tc.path, tc.field, tc.data)
		if res.status != tc.status || !strings.Contains(res.errMsg(), tc.msg) {
			t.Errorf("%s: %d %s; want %d %q", tc.path, res.status, res.body, tc.status, tc.msg)
		}
	}
	if r := e.answer(e.raw("POST", "/collections/x/snapshots/upload", "application/octet-stream", bytes.NewReader(b))); r.status != 400 || !strings.Contains(r.errMsg(), "multipart/form-data") {
		t.Errorf("raw body: %d %s", r.status, r.body)
	}
	e.fail("GET", "/collections/x", nil, 404, "doesn't exist")
	// A wait=false upload that fails while it is received still says why.
	if res := e.upload("/collections/x/snapshots/upload?wait=false", "snapshot", bytes.Repeat([]byte{1}, 2<<20)); res.status != 413 {
		t.Errorf("wait=false over the limit: %d %s", res.status, res.body)
	}
}

func TestSnapshotRecoverFromLocation(t *testing.T) {
	e := snapEnv(t, Options{})
	d := e.createSnap("s")
	name, sum := d["name"].(string), d["checksum"].(string)
	dir, err := filepath.Abs(e.db.SnapshotsDir())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "s", name)

	recover := func(coll string, body map[string]any) *response {
		return e.do("PUT", "/collections/"+coll+"/snapshots/recover", body)
	}
	for i, loc := range []string{"file://" + file, file, e.srv.URL + "/collections/s/snapshots/" + name} {
		coll := []string{"byurl", "bypath", "byhttp"}[i]
		r := recover(coll, map[string]any{"location": loc, "checksum": sum, "priority": "no_sync"})
		if r.status != 200 || r.result() != true {
			t.Fatalf("recover from %s: %d %s", loc, r.status, r.body)
		}
		if n := e.count(coll); n != 30 {
			t.Fatalf("%s: %d points", coll, n)
		}
	}
	for _, tc := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{}, 400, "missing field `location`"},
		{map[string]any{"location": "/etc/passwd"}, 400, "a local snapshot must be a file in"},
		{map[string]any{"location": "file://" + filepath.Join(dir, "s", "..", "..", "collections", "s", "config.json")}, 400, "a local snapshot must be a file in"},
		{map[string]any{"location": "file://" + filepath.Join(dir, "s", "nope.snapshot")}, 404, `snapshot "nope.snapshot" of collection "s"`},
		{map[string]any{"location": "file://otherhost" + file}, 400, "host empty or localhost"},
		{map[string]any{"location": "ftp://x/y"}, 400, "expected a file:// or http(s):// URL"},
		{map[string]any{"location": "relative/path"}, 400, "expected a file:// or http(s):// URL"},
		{map[string]any{"location": file, "priority": "mine"}, 400, "unknown variant"},
		{map[string]any{"location": file, "checksum": strings.Repeat("f", 64)}, 400, "snapshot checksum mismatch"},
		{map[string]any{"location": e.srv.URL + "/collections/s/snapshots/nope.snapshot"}, 400, "HTTP status 404"},
		{map[string]any{"location": "http://127.0.0.1:1/x.snapshot"}, 400, "downloading the snapshot from http://127.0.0.1:1/x.snapshot"},
		{map[string]any{"location": e.srv.URL + "/collections"}, 400, "damaged"},
	} {
		r := recover("target", tc.body)
		if r.status != tc.status || !strings.Contains(r.errMsg(), tc.msg) {
			t.Errorf("%v: %d %s; want %d %q", tc.body, r.status, r.body, tc.status, tc.msg)
		}
	}
	e.fail("GET", "/collections/target", nil, 404, "doesn't exist")
}

// The read-only key lists and downloads snapshots but cannot create,
// delete, recover or upload them; no key gets 401.
func TestSnapshotAuth(t *testing.T) {
	e := newEnv(t, Options{APIKey: "rw", ReadOnlyAPIKey: "ro"})
	e.header.Set("api-key", "rw")
	e.create("s", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	e.write("PUT", "/collections/s/points", map[string]any{"points": []any{map[string]any{"id": 1, "vector": []float32{1, 0}}}})
	name := e.createSnap("s")["name"].(string)
	file, _ := filepath.Abs(filepath.Join(e.db.SnapshotsDir(), "s", name))

	e.header.Set("api-key", "ro")
	if list, _ := e.ok("GET", "/collections/s/snapshots", nil).([]any); len(list) != 1 {
		t.Fatalf("read-only list: %v", list)
	}
	b := e.download("s", name)
	e.fail("POST", "/collections/s/snapshots", nil, 403, "Write access denied")
	e.fail("DELETE", "/collections/s/snapshots/"+name, nil, 403, "Write access denied")
	e.fail("PUT", "/collections/s/snapshots/recover", map[string]any{"location": file}, 403, "Write access denied")
	if r := e.upload("/collections/s/snapshots/upload", "snapshot", b); r.status != 403 {
		t.Fatalf("read-only upload: %d %s", r.status, r.body)
	}
	e.header.Del("api-key")
	e.fail("GET", "/collections/s/snapshots", nil, 401, "Must provide an API key")
	if resp := e.raw("GET", "/collections/s/snapshots/"+name, "", nil); resp.StatusCode != 401 {
		resp.Body.Close()
		t.Fatalf("download without a key: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	// Recovering from this server's own URL passes api_key along.
	e.header.Set("api-key", "rw")
	r := e.do("PUT", "/collections/fromurl/snapshots/recover", map[string]any{
		"location": e.srv.URL + "/collections/s/snapshots/" + name, "api_key": "ro"})
	if r.status != 200 {
		t.Fatalf("recover from own URL with api_key: %d %s", r.status, r.body)
	}
	r = e.do("PUT", "/collections/fromurl2/snapshots/recover", map[string]any{"location": e.srv.URL + "/collections/s/snapshots/" + name})
	if r.status != 400 || !strings.Contains(r.errMsg(), "HTTP status 401") {
		t.Fatalf("recover from own URL without api_key: %d %s", r.status, r.body)
	}
	if res := e.ok("DELETE", "/collections/s/snapshots/"+name, nil); res != true {
		t.Fatalf("delete with the read-write key: %v", res)
	}
}

// downloadFull downloads a full snapshot.
func (e *env) downloadFull(name string) []byte {
	e.t.Helper()
	resp := e.raw("GET", "/snapshots/"+url.PathEscape(name), "", nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("download: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		e.t.Fatalf("download content type %q", ct)
	}
	return b
}

// Full-storage snapshots: create, list, download, delete, wait=false, bad
// names; collection snapshots are not touched.
func TestFullSnapshots(t *testing.T) {
	e := snapEnv(t, Options{})
	e.create("t", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Cosine"}})
	e.write("PUT", "/collections/t/points", map[string]any{"points": []any{map[string]any{"id": 1, "vector": []float32{1, 0}}}})
	coll := e.createSnap("s")

	if list, _ := e.ok("GET", "/snapshots", nil).([]any); list == nil || len(list) != 0 {
		t.Fatalf("empty list: %v", list)
	}
	d, _ := e.ok("POST", "/snapshots", nil).(map[string]any)
	name, _ := d["name"].(string)
	sum, _ := d["checksum"].(string)
	size, _ := d["size"].(float64)
	if !strings.HasPrefix(name, "full-") || !strings.HasSuffix(name, ".snapshot") || len(sum) != 64 || size <= 0 {
		t.Fatalf("description: %v", d)
	}
	if ct, _ := d["creation_time"].(string); !creationTimeRE.MatchString(ct) {
		t.Fatalf("creation_time %q", ct)
	}
	list, _ := e.ok("GET", "/snapshots", nil).([]any)
	if len(list) != 1 {
		t.Fatalf("list: %v", list)
	}
	jsonEqual(t, list[0], mustJSON(t, d))
	b := e.downloadFull(name)
	h := sha256.Sum256(b)
	if hex.EncodeToString(h[:]) != sum || float64(len(b)) != size {
		t.Fatalf("downloaded %d bytes with sha256 %x; description %v", len(b), h, d)
	}
	// The full snapshot is a collection snapshot's neither by name nor by
	// content.
	e.fail("GET", "/collections/s/snapshots/"+name, nil, 404, "Not found: snapshot")
	e.fail("DELETE", "/snapshots/"+coll["name"].(string), nil, 404, "Not found: full snapshot")
	if r := e.upload("/collections/x/snapshots/upload", "snapshot", b); r.status != 400 {
		t.Fatalf("upload of a full snapshot as a collection's: %d %s", r.status, r.body)
	}

	// Unknown and bad names.
	e.fail("GET", "/snapshots/nope.snapshot", nil, 404, `Not found: full snapshot "nope.snapshot"`)
	e.fail("DELETE", "/snapshots/nope.snapshot", nil, 404, "Not found: full snapshot")
	e.fail("DELETE", "/snapshots/nope.snapshot?wait=false", nil, 404, "Not found: full snapshot")
	e.fail("DELETE", "/snapshots/..%2Fx", nil, 400, "path separator")
	e.fail("GET", "/snapshots/a..b.snapshot", nil, 400, `contains ".."`)
	e.fail("POST", "/snapshots?wait=maybe", nil, 400, "wait: expected true or false")

	// wait=false creates in the background.
	r := e.do("POST", "/snapshots?wait=false", nil)
	if r.status != http.StatusAccepted || r.json["status"] != "accepted" {
		t.Fatalf("create wait=false: %d %s", r.status, r.body)
	}
	eventually(t, "the second full snapshot", func() bool {
		list, _ := e.ok("GET", "/snapshots", nil).([]any)
		return len(list) == 2
	})

	if res := e.ok("DELETE", "/snapshots/"+name, nil); res != true {
		t.Fatalf("delete: %v", res)
	}
	e.fail("GET", "/snapshots/"+name, nil, 404, "Not found: full snapshot")
	list, _ = e.ok("GET", "/snapshots", nil).([]any)
	if len(list) != 1 {
		t.Fatalf("list after delete: %v", list)
	}
	other := list[0].(map[string]any)["name"].(string)
	if r := e.do("DELETE", "/snapshots/"+other+"?wait=false", nil); r.status != http.StatusAccepted {
		t.Fatalf("delete wait=false: %d %s", r.status, r.body)
	}
	eventually(t, "the deletion", func() bool {
		list, _ := e.ok("GET", "/snapshots", nil).([]any)
		return len(list) == 0
	})
	// The collection snapshot is still there.
	if l, _ := e.ok("GET", "/collections/s/snapshots", nil).([]any); len(l) != 1 {
		t.Fatalf("collection snapshots: %v", l)
	}
}

// The read key may list and download full snapshots, not create or delete
// them; no key gets 401.
func TestFullSnapshotAuth(t *testing.T) {
	e := newEnv(t, Options{APIKey: "rw", ReadOnlyAPIKey: "ro"})
	e.header.Set("api-key", "rw")
	e.create("s", map[string]any{"vectors": map[string]any{"size": 2, "distance": "Dot"}})
	name := e.ok("POST", "/snapshots", nil).(map[string]any)["name"].(string)

	e.header.Set("api-key", "ro")
	if list, _ := e.ok("GET", "/snapshots", nil).([]any); len(list) != 1 {
		t.Fatalf("read-only list: %v", list)
	}
	e.downloadFull(name)
	e.fail("POST", "/snapshots", nil, 403, "Write access denied")
	e.fail("DELETE", "/snapshots/"+name, nil, 403, "Write access denied")
	e.header.Del("api-key")
	e.fail("GET", "/snapshots", nil, 401, "Must provide an API key")
	e.fail("POST", "/snapshots", nil, 401, "Must provide an API key")
	if resp := e.raw("GET", "/snapshots/"+name, "", nil); resp.StatusCode != 401 {
		resp.Body.Close()
		t.Fatalf("download without a key: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	e.header.Set("api-key", "rw")
	if list, _ := e.ok("GET", "/snapshots", nil).([]any); len(list) != 1 {
		t.Fatalf("list after refused writes: %v", list)
	}
	if res := e.ok("DELETE", "/snapshots/"+name, nil); res != true {
		t.Fatalf("delete with the read-write key: %v", res)
	}
}
