package rest

// Snapshots: Qdrant's /collections/{collection_name}/snapshots and
// full-storage /snapshots endpoints over strata's snapshot API.
//
//	POST   /collections/{name}/snapshots                  create (?wait=, default true)
//	GET    /collections/{name}/snapshots                  list, oldest first
//	GET    /collections/{name}/snapshots/{snapshot_name}  download (application/octet-stream, ranges)
//	DELETE /collections/{name}/snapshots/{snapshot_name}  delete (?wait=)
//	PUT    /collections/{name}/snapshots/recover          recover from {location, priority, checksum, api_key}
//	POST   /collections/{name}/snapshots/upload           recover from a multipart upload (field "snapshot";
//	                                                      ?wait=, ?priority=, ?checksum=)
//	POST   /snapshots                                     create a full snapshot (every collection; ?wait=)
//	GET    /snapshots                                     list full snapshots, oldest first
//	GET    /snapshots/{snapshot_name}                     download a full snapshot
//	DELETE /snapshots/{snapshot_name}                     delete a full snapshot (?wait=)
//
// With wait=false the work goes on in the background and the answer is
// 202 {"status": "accepted", "time": ...}, as in Qdrant; its outcome is
// logged. Creating, downloading and deleting need the read-write key,
// listing and downloading the read key. A full snapshot is recovered only
// through the library (strata.DB.RecoverFullSnapshot), as Qdrant recovers
// one only at start-up.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strata-db/strata"
)

// DefaultMaxSnapshotBytes is the default bound on a snapshot uploaded, or
// downloaded from a URL, for recovery: 1 TiB.
const DefaultMaxSnapshotBytes = 1 << 40

// Bounds on downloading a snapshot from an http(s) location: connecting
// and the response's header each within snapshotConnectTimeout, the whole
// transfer within snapshotDownloadTimeout (or the request's own timeout if
// shorter).
const (
	snapshotConnectTimeout  = 30 * time.Second
	snapshotDownloadTimeout = 2 * time.Hour
)

// snapshotDescription is Qdrant's SnapshotDescription.
type snapshotDescription struct {
	Name string `json:"name"`
	// CreationTime is UTC without a zone, as Qdrant writes it
	// ("2022-08-04T10:49:10").
	CreationTime string `json:"creation_time"`
	Size         int64  `json:"size"`
	Checksum     string `json:"checksum"`
}

func describeSnapshot(info strata.SnapshotInfo) snapshotDescription {
	return snapshotDescription{
		Name:         info.Name,
		CreationTime: info.CreationTime.UTC().Format("2006-01-02T15:04:05"),
		Size:         info.Size,
		Checksum:     info.Checksum,
	}
}

// snapshotRoutes registers the collection snapshot endpoints.
func (s *server) snapshotRoutes(mux *http.ServeMux) {
	// The endpoints that take ?wait= answer 202 without it, so they are
	// stream routes too.
	body := s.opts.MaxBodyBytes
	s.streamRoute(mux, "POST /collections/{name}/snapshots", write, body, enveloped(s.createSnapshot))
	s.route(mux, "GET /collections/{name}/snapshots", read, s.listSnapshots)
	s.streamRoute(mux, "GET /collections/{name}/snapshots/{snapshot_name}", read, body, s.downloadSnapshot)
	s.streamRoute(mux, "DELETE /collections/{name}/snapshots/{snapshot_name}", write, body, enveloped(s.deleteSnapshot))
	s.streamRoute(mux, "PUT /collections/{name}/snapshots/recover", write, body, enveloped(s.recoverSnapshot))
	s.streamRoute(mux, "POST /collections/{name}/snapshots/upload", write, s.opts.MaxSnapshotBytes, s.uploadSnapshot)

	s.streamRoute(mux, "POST /snapshots", write, body, enveloped(s.createFullSnapshot))
	s.route(mux, "GET /snapshots", read, s.listFullSnapshots)
	s.streamRoute(mux, "GET /snapshots/{snapshot_name}", read, body, s.downloadFullSnapshot)
	s.streamRoute(mux, "DELETE /snapshots/{snapshot_name}", write, body, enveloped(s.deleteFullSnapshot))
}

// streamHandler answers a request itself (returning nil, nil) or returns
// a result or error for the envelope, as a handler does; acceptedResult
// answers 202.
type streamHandler func(w http.ResponseWriter, r *http.Request) (any, error)

// enveloped adapts a handler to a streamHandler.
func enveloped(h handler) streamHandler {
	return func(_ http.ResponseWriter, r *http.Request) (any, error) { return h(r) }
}

// streamRoute is route for handlers that stream: the same authentication,
// timeout and concurrency slot, a body limit of maxBody, and h may write
// the answer itself (a download) instead of the envelope.
func (s *server) streamRoute(mux *http.ServeMux, pattern string, acc access, maxBody int64, h streamHandler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info, _ := r.Context().Value(infoKey{}).(*reqInfo)
		if info != nil {
			info.route = pattern
		}
		fail := func(err error) {
			status, msg := s.errorStatus(r, err)
			if info != nil {
				info.err = err
			}
			writeError(w, status, msg, time.Since(start).Seconds())
		}
		if err := s.authorize(r, acc); err != nil {
			fail(err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		ctx, cancel, err := s.requestContext(r)
		if err != nil {
			fail(err)
			return
		}
		defer cancel()
		if err := s.acquire(ctx); err != nil {
			if info != nil {
				var ae *apiError
				info.busy = errors.As(err, &ae)
			}
			fail(err)
			return
		}
		defer s.release()
		res, err := h(w, r.WithContext(ctx))
		switch res.(type) {
		case nil:
			if err != nil {
				fail(err)
			}
		case acceptedResult:
			writeAccepted(w, time.Since(start).Seconds())
		default:
			writeResult(w, res, time.Since(start).Seconds())
		}
	})
}

// acceptedResult is the answer of a request run in the background
// (wait=false): 202 {"status": "accepted", "time": ...}.
type acceptedResult struct{}

// snapshotWait reads ?wait= for the snapshot endpoints, where Qdrant's
// default is true.
func snapshotWait(r *http.Request) (bool, error) {
	if r.URL.Query().Get("wait") == "" {
		return true, nil
	}
	return waitParam(r)
}

// runSnapshotTask runs fn now (wait) and returns its result, or starts it
// in the background, detached from the request, logs its outcome, and
// answers 202.
func (s *server) runSnapshotTask(r *http.Request, wait bool, what string, fn func(ctx context.Context) (any, error)) (any, error) {
	if wait {
		return fn(r.Context())
	}
	ctx := context.WithoutCancel(r.Context())
	go func() {
		start := time.Now()
		if _, err := fn(ctx); err != nil {
			s.log.Error("background snapshot task failed", "task", what, "err", err)
			return
		}
		s.log.Info("background snapshot task done", "task", what, "duration", time.Since(start))
	}()
	return acceptedResult{}, nil
}

// writeAccepted answers 202 in Qdrant's shape for wait=false.
func writeAccepted(w http.ResponseWriter, seconds float64) {
	writeJSON(w, http.StatusAccepted, struct {
		Status string  `json:"status"`
		Time   float64 `json:"time"`
	}{"accepted", seconds})
}

// --- create, list, delete ---

func (s *server) createSnapshot(r *http.Request) (any, error) {
	wait, err := snapshotWait(r)
	if err != nil {
		return nil, err
	}
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	return s.runSnapshotTask(r, wait, "create snapshot of "+c.Name(), func(ctx context.Context) (any, error) {
		info, err := c.CreateSnapshot(ctx)
		if err != nil {
			return nil, err
		}
		return describeSnapshot(info), nil
	})
}

func (s *server) listSnapshots(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	infos, err := s.db.ListSnapshots(r.Context(), c.Name())
	if err != nil {
		return nil, err
	}
	return describeSnapshots(infos), nil
}

func describeSnapshots(infos []strata.SnapshotInfo) []snapshotDescription {
	out := make([]snapshotDescription, len(infos))
	for i, info := range infos {
		out[i] = describeSnapshot(info)
	}
	return out
}

// snapshotName returns the validated names of the request's path.
func snapshotName(r *http.Request) (coll, name string, err error) {
	coll, name = r.PathValue("name"), r.PathValue("snapshot_name")
	if err := strata.ValidateName(coll); err != nil {
		return "", "", err
	}
	if err := strata.ValidateSnapshotName(name); err != nil {
		return "", "", err
	}
	return coll, name, nil
}

// deleteSnapshot deletes a stored snapshot. The collection itself need
// not exist any more (deleting a collection keeps its snapshots).
func (s *server) deleteSnapshot(r *http.Request) (any, error) {
	wait, err := snapshotWait(r)
	if err != nil {
		return nil, err
	}
	coll, name, err := snapshotName(r)
	if err != nil {
		return nil, err
	}
	if !wait {
		// Check existence now so that a wrong name still gets 404.
		rd, err := s.db.OpenSnapshot(r.Context(), coll, name)
		if err != nil {
			return nil, err
		}
		_ = rd.Close()
	}
	return s.runSnapshotTask(r, wait, "delete snapshot "+name, func(ctx context.Context) (any, error) {
		if err := s.db.DeleteSnapshot(ctx, coll, name); err != nil {
			return nil, err
		}
		return true, nil
	})
}

// downloadSnapshot streams a stored snapshot (with HTTP ranges and
// conditional requests, via http.ServeContent).
func (s *server) downloadSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	coll, name, err := snapshotName(r)
	if err != nil {
		return nil, err
	}
	rd, err := s.db.OpenSnapshot(r.Context(), coll, name)
	if err != nil {
		return nil, err
	}
	serveSnapshot(w, r, rd)
	return nil, nil
}

// serveSnapshot streams the snapshot rd and closes it.
func serveSnapshot(w http.ResponseWriter, r *http.Request, rd *strata.SnapshotReader) {
	defer rd.Close()
	info := rd.Info()
	name := info.Name
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if info.Checksum != "" {
		h.Set("ETag", strconv.Quote(info.Checksum))
	}
	http.ServeContent(w, r, "", info.CreationTime, rd)
}

// --- full-storage snapshots ---

// createFullSnapshot snapshots every collection into one archive.
func (s *server) createFullSnapshot(r *http.Request) (any, error) {
	wait, err := snapshotWait(r)
	if err != nil {
		return nil, err
	}
	return s.runSnapshotTask(r, wait, "create full snapshot", func(ctx context.Context) (any, error) {
		info, err := s.db.CreateFullSnapshot(ctx)
		if err != nil {
			return nil, err
		}
		return describeSnapshot(info), nil
	})
}

func (s *server) listFullSnapshots(r *http.Request) (any, error) {
	infos, err := s.db.ListFullSnapshots(r.Context())
	if err != nil {
		return nil, err
	}
	return describeSnapshots(infos), nil
}

// fullSnapshotName returns the validated snapshot name of the request's
// path.
func fullSnapshotName(r *http.Request) (string, error) {
	name := r.PathValue("snapshot_name")
	if err := strata.ValidateSnapshotName(name); err != nil {
		return "", err
	}
	return name, nil
}

func (s *server) deleteFullSnapshot(r *http.Request) (any, error) {
	wait, err := snapshotWait(r)
	if err != nil {
		return nil, err
	}
	name, err := fullSnapshotName(r)
	if err != nil {
		return nil, err
	}
	if !wait {
		// Check existence now so that a wrong name still gets 404.
		rd, err := s.db.OpenFullSnapshot(r.Context(), name)
		if err != nil {
			return nil, err
		}
		_ = rd.Close()
	}
	return s.runSnapshotTask(r, wait, "delete full snapshot "+name, func(ctx context.Context) (any, error) {
		if err := s.db.DeleteFullSnapshot(ctx, name); err != nil {
			return nil, err
		}
		return true, nil
	})
}

func (s *server) downloadFullSnapshot(w http.ResponseWriter, r *http.Request) (any, error) {
	name, err := fullSnapshotName(r)
	if err != nil {
		return nil, err
	}
	rd, err := s.db.OpenFullSnapshot(r.Context(), name)
	if err != nil {
		return nil, err
	}
	serveSnapshot(w, r, rd)
	return nil, nil
}

// --- recover ---

// snapshotPriority checks Qdrant's SnapshotPriority. Strata has no
// replicas, so every priority means the same: the snapshot's data
// replaces the collection's.
func snapshotPriority(v, where string) error {
	switch v {
	case "", "no_sync", "snapshot", "replica":
		return nil
	}
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf("Format error in %s: priority: unknown variant %q, expected one of no_sync, snapshot, replica", where, v)}
}

// recoverOptions validates the collection name and checksum up front, so
// that a background recovery (wait=false) refuses them at once.
func recoverOptions(coll, checksum string) (strata.RecoverOptions, error) {
	if err := strata.ValidateName(coll); err != nil {
		return strata.RecoverOptions{}, err
	}
	sum := strings.TrimSpace(checksum)
	if sum != "" {
		if len(sum) != 64 || strings.Trim(strings.ToLower(sum), "0123456789abcdef") != "" {
			return strata.RecoverOptions{}, badRequest("checksum %q is not a SHA-256 digest (64 hex digits)", checksum)
		}
	}
	return strata.RecoverOptions{Checksum: sum}, nil
}

type snapshotRecoverRequest struct {
	Location *string `json:"location"`
	Priority *string `json:"priority"`
	Checksum *string `json:"checksum"`
	APIKey   *string `json:"api_key"`
}

// recoverSnapshot recovers a collection from a snapshot at a location: a
// file:// URL or an absolute path of a snapshot in this server's snapshot
// directory, or an http(s) URL to download it from.
func (s *server) recoverSnapshot(r *http.Request) (any, error) {
	wait, err := snapshotWait(r)
	if err != nil {
		return nil, err
	}
	var req snapshotRecoverRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Location == nil {
		return nil, formatErr("missing field `location`")
	}
	if req.Priority != nil {
		if err := snapshotPriority(*req.Priority, "JSON body"); err != nil {
			return nil, err
		}
	}
	coll := r.PathValue("name")
	var checksum, apiKey string
	if req.Checksum != nil {
		checksum = *req.Checksum
	}
	if req.APIKey != nil {
		apiKey = *req.APIKey
	}
	opts, err := recoverOptions(coll, checksum)
	if err != nil {
		return nil, err
	}
	src, err := s.snapshotSource(*req.Location, apiKey)
	if err != nil {
		return nil, err
	}
	if src.local != nil {
		// Check now that it exists, so that wait=false still gets 404.
		rd, err := s.db.OpenSnapshot(r.Context(), src.local[0], src.local[1])
		if err != nil {
			return nil, err
		}
		_ = rd.Close()
	}
	return s.runSnapshotTask(r, wait, "recover "+coll+" from "+*req.Location, func(ctx context.Context) (any, error) {
		body, err := src.open(ctx, s)
		if err != nil {
			return nil, err
		}
		defer body.Close()
		if _, err := s.db.RecoverSnapshot(ctx, coll, body, opts); err != nil {
			return nil, s.recoverErr(err, *req.Location)
		}
		return true, nil
	})
}

// snapshotSource is where a recovery reads the snapshot from.
type snapshotSource struct {
	local  []string // collection and snapshot name under the snapshots directory
	remote *url.URL
	apiKey string
}

// snapshotSource parses a recovery location.
func (s *server) snapshotSource(location, apiKey string) (*snapshotSource, error) {
	if strings.HasPrefix(location, "/") {
		return s.localSource(location, location)
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, badRequest("location %q is not a URL: %v", location, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, badRequest("location %q: a file URL must name a file on this server (host empty or localhost)", location)
		}
		return s.localSource(location, u.Path)
	case "http", "https":
		if u.Host == "" {
			return nil, badRequest("location %q: the URL has no host", location)
		}
		return &snapshotSource{remote: u, apiKey: apiKey}, nil
	}
	return nil, badRequest("location %q: expected a file:// or http(s):// URL or an absolute path", location)
}

// localSource maps a local path to a stored snapshot: it must be a
// snapshot file directly in a collection's directory under this server's
// snapshot directory (reading other files of the server is not allowed).
func (s *server) localSource(location, p string) (*snapshotSource, error) {
	root, err := filepath.Abs(s.db.SnapshotsDir())
	if err != nil {
		return nil, err
	}
	abs := filepath.Clean(filepath.FromSlash(p))
	if !filepath.IsAbs(abs) {
		return nil, badRequest("location %q: the path must be absolute", location)
	}
	// Resolve symbolic links on both sides when the file exists, so that a
	// link to another place is judged by where it leads.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	rel, err := filepath.Rel(root, abs)
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if err != nil || len(parts) != 2 || parts[0] == ".." || parts[0] == "." {
		return nil, badRequest("location %q: a local snapshot must be a file in %s/<collection>/", location, root)
	}
	if err := strata.ValidateName(parts[0]); err != nil {
		return nil, err
	}
	if err := strata.ValidateSnapshotName(parts[1]); err != nil {
		return nil, err
	}
	return &snapshotSource{local: parts}, nil
}

// open returns the snapshot's bytes.
func (src *snapshotSource) open(ctx context.Context, s *server) (io.ReadCloser, error) {
	if src.local != nil {
		return s.db.OpenSnapshot(ctx, src.local[0], src.local[1])
	}
	return s.download(ctx, src.remote, src.apiKey)
}

// snapshotClient downloads snapshots: bounded connection and header times;
// the transfer is bounded by the request's context.
var snapshotClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: snapshotConnectTimeout}).DialContext,
		TLSHandshakeTimeout:   snapshotConnectTimeout,
		ResponseHeaderTimeout: snapshotConnectTimeout,
		MaxIdleConns:          4,
		IdleConnTimeout:       time.Minute,
	},
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	},
}

// download starts downloading a snapshot; the body it returns fails once
// more than MaxSnapshotBytes arrive.
func (s *server) download(ctx context.Context, u *url.URL, apiKey string) (io.ReadCloser, error) {
	ctx, cancel := context.WithTimeout(ctx, snapshotDownloadTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, badRequest("location %q: %v", u.Redacted(), err)
	}
	if apiKey != "" {
		req.Header.Set("api-key", apiKey)
	}
	resp, err := snapshotClient.Do(req)
	if err != nil {
		cancel()
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, badRequest("downloading the snapshot from %s: %v", u.Redacted(), err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, badRequest("downloading the snapshot from %s: HTTP status %s", u.Redacted(), resp.Status)
	}
	if resp.ContentLength > s.opts.MaxSnapshotBytes {
		resp.Body.Close()
		cancel()
		return nil, snapshotTooLarge(s.opts.MaxSnapshotBytes)
	}
	return &boundedBody{r: resp.Body, left: s.opts.MaxSnapshotBytes, limit: s.opts.MaxSnapshotBytes, cancel: cancel}, nil
}

// boundedBody fails with errSnapshotTooLarge past its limit.
type boundedBody struct {
	r      io.ReadCloser
	left   int64
	limit  int64
	cancel context.CancelFunc
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &tooLargeError{limit: b.limit}
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, &tooLargeError{limit: b.limit}
	}
	return n, err
}

func (b *boundedBody) Close() error {
	err := b.r.Close()
	b.cancel()
	return err
}

// tooLargeError is a snapshot over Options.MaxSnapshotBytes.
type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the snapshot is larger than the limit of %d bytes", e.limit)
}

func snapshotTooLarge(limit int64) error {
	return &apiError{status: http.StatusRequestEntityTooLarge, msg: "Payload too large: " + (&tooLargeError{limit}).Error()}
}

// recoverErr maps failures of reading the snapshot's source to their
// answers; the root package's errors go through errorStatus.
func (s *server) recoverErr(err error, location string) error {
	var tl *tooLargeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &tl):
		return snapshotTooLarge(tl.limit)
	case errors.As(err, &mbe):
		return snapshotTooLarge(mbe.Limit)
	case errors.Is(err, strata.ErrInvalidArgument), errors.Is(err, strata.ErrNotFound), errors.Is(err, strata.ErrClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest("reading the snapshot from %s: %v", location, err)
	}
	return err
}

// uploadSnapshot recovers a collection from a snapshot sent as the file
// field "snapshot" of a multipart/form-data body. The file is streamed to
// the recovery, never held in memory; with wait=false the answer (202)
// comes once the upload is received, and the recovery goes on.
func (s *server) uploadSnapshot(_ http.ResponseWriter, r *http.Request) (any, error) {
	wait, err := snapshotWait(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	if err := snapshotPriority(q.Get("priority"), "query parameters"); err != nil {
		return nil, err
	}
	coll := r.PathValue("name")
	opts, err := recoverOptions(coll, q.Get("checksum"))
	if err != nil {
		return nil, err
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, badRequest("Content type error: send the snapshot as multipart/form-data with a file field \"snapshot\"")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, badRequest("the multipart body has no field \"snapshot\"")
		}
		if err != nil {
			return nil, uploadErr(&uploadReadError{err})
		}
		if part.FormName() != "snapshot" {
			_ = part.Close() // skipped
			continue
		}
		return s.recoverUpload(r, wait, coll, &uploadReader{r: part}, opts)
	}
}

// recoverUpload feeds the upload to RecoverSnapshot. With wait=false the
// recovery runs detached from the request and this returns once the whole
// upload has been received (the request's body cannot be read after the
// answer).
func (s *server) recoverUpload(r *http.Request, wait bool, coll string, up *uploadReader, opts strata.RecoverOptions) (any, error) {
	if wait {
		if _, err := s.db.RecoverSnapshot(r.Context(), coll, up, opts); err != nil {
			return nil, uploadErr(err)
		}
		return true, nil
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := s.db.RecoverSnapshot(context.WithoutCancel(r.Context()), coll, pr, opts)
		if err == nil {
			err = io.ErrClosedPipe // whatever is left of the upload is not read
		}
		_ = pr.CloseWithError(err)
		if errors.Is(err, io.ErrClosedPipe) {
			s.log.Info("background snapshot task done", "task", "recover "+coll+" from an upload")
			err = nil
		} else {
			s.log.Error("background snapshot task failed", "task", "recover "+coll+" from an upload", "err", err)
		}
		done <- err
	}()
	_, err := io.Copy(pw, up)
	if err != nil && up.err == nil {
		// The recovery stopped reading: it failed, and says why.
		if rerr := <-done; rerr != nil {
			return nil, uploadErr(rerr)
		}
	}
	_ = pw.CloseWithError(err)
	if err != nil {
		return nil, uploadErr(err)
	}
	return acceptedResult{}, nil
}

// uploadReader marks errors reading the upload as the client's.
type uploadReader struct {
	r   io.Reader
	err error
}

func (u *uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && err != io.EOF {
		u.err = err
		err = &uploadReadError{err}
	}
	return n, err
}

type uploadReadError struct{ err error }

func (e *uploadReadError) Error() string { return "reading the uploaded snapshot: " + e.err.Error() }
func (e *uploadReadError) Unwrap() error { return e.err }

// uploadErr maps errors of an upload: a body over the limit is 413, other
// failures reading it 400; the root package's errors go to errorStatus.
func uploadErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return snapshotTooLarge(mbe.Limit)
	}
	var ure *uploadReadError
	if errors.As(err, &ure) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return badRequest("%v", ure)
	}
	return err
}
