package strata

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/collection"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vector"
	"github.com/strata-db/strata/internal/vfs"
)

// Collection is a handle to one collection. It is safe for concurrent use.
type Collection struct {
	db      *DB
	name    string
	cfgMu   sync.Mutex // guards cfg against Update
	cfg     CollectionConfig
	schema  *segment.Schema
	eng     *collection.Collection
	dropped atomic.Bool
}

// Name returns the collection's name.
func (c *Collection) Name() string { return c.name }

// Config returns the collection's configuration.
func (c *Collection) Config() CollectionConfig {
	c.cfgMu.Lock()
	defer c.cfgMu.Unlock()
	return c.cfg
}

// CollectionUpdate changes a collection's tunable parameters; nil fields
// are left alone. Vectors cannot change.
type CollectionUpdate struct {
	HNSW       *HnswConfig
	Optimizers *OptimizersConfig
}

// Update changes the HNSW and optimizer parameters. The new configuration is
// persisted before it takes effect; graphs built with other HNSW parameters
// are rebuilt in the background (searches use the old graphs meanwhile).
func (c *Collection) Update(ctx context.Context, u CollectionUpdate) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	c.cfgMu.Lock()
	defer c.cfgMu.Unlock()
	cfg := c.cfg
	if u.HNSW != nil {
		cfg.HNSW = *u.HNSW
	}
	if u.Optimizers != nil {
		cfg.Optimizers = *u.Optimizers
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := vfs.WriteFileAtomic(c.db.fs, path.Join(c.db.collDir(c.name), "config.json"), encodeConfig(&cfg)); err != nil {
		return fmt.Errorf("strata: update %q: %w", c.name, err)
	}
	c.cfg = cfg
	c.eng.SetOptimizerConfig(cfg.engineOptimizer())
	c.eng.SetIndexConfig(cfg.engineIndex())
	return nil
}

func (c *Collection) check(ctx context.Context) error {
	if c.dropped.Load() {
		return fmt.Errorf("%w: collection %q was deleted", ErrClosed, c.name)
	}
	return ctx.Err()
}

// CollectionStatus is Qdrant's traffic light: green when idle, yellow while
// the optimizer works, red when writes fail.
type CollectionStatus string

const (
	StatusGreen  CollectionStatus = "green"
	StatusYellow CollectionStatus = "yellow"
	StatusRed    CollectionStatus = "red"
)

// CollectionInfo reports a collection's state.
type CollectionInfo struct {
	Status      CollectionStatus
	PointsCount int
	// IndexedVectorsCount counts vectors in HNSW graphs.
	IndexedVectorsCount int
	SegmentsCount       int
	Config              CollectionConfig
	// PayloadSchema lists the payload indexes by key.
	PayloadSchema map[string]PayloadIndexInfo
	// Err is why the status is red (a failed WAL write or fsync).
	Err error
}

// Info returns the collection's status, counts and configuration.
func (c *Collection) Info(ctx context.Context) (CollectionInfo, error) {
	if err := c.check(ctx); err != nil {
		return CollectionInfo{}, err
	}
	in, err := c.eng.Info()
	if err != nil {
		return CollectionInfo{}, err
	}
	out := CollectionInfo{Status: StatusGreen, PointsCount: in.Points, IndexedVectorsCount: in.IndexedVectors, SegmentsCount: in.Segments, Config: c.Config()}
	out.PayloadSchema = make(map[string]PayloadIndexInfo, len(out.Config.PayloadSchema))
	for key, fs := range out.Config.PayloadSchema {
		out.PayloadSchema[key] = PayloadIndexInfo{Schema: fs, Points: in.FieldPoints[key]}
	}
	if in.Optimizing {
		out.Status = StatusYellow
	}
	if err := c.eng.Err(); err != nil {
		out.Status, out.Err = StatusRed, err
	}
	return out, nil
}

// --- conversion and validation of input ---

// denseIndex resolves a dense vector name; path+field names the input in
// errors (built only on error: this is on the search path).
func (c *Collection) denseIndex(name, path, field string) (int, error) {
	i := c.schema.DenseIndex(name)
	if i < 0 {
		if name == "" {
			return 0, base.InvalidArgumentf("%s%s: the collection has only named vectors; say which one", path, field)
		}
		return 0, base.InvalidArgumentf("%s%s: no dense vector named %q", path, field, name)
	}
	return i, nil
}

// dense validates v for schema vector vi and returns the vector to use:
// normalised for Cosine (a copy), and, if keep, always a copy the caller
// may retain; otherwise v itself when no normalisation is needed.
func (c *Collection) dense(vi int, v []float32, keep bool, path, field string) ([]float32, error) {
	spec := c.schema.Dense[vi]
	if len(v) != spec.Dim {
		return nil, base.DimensionMismatchf("%s%s: expected dimension %d, got %d", path, field, spec.Dim, len(v))
	}
	if bad := vector.IsFinite(v); bad >= 0 {
		return nil, base.InvalidArgumentf("%s%s[%d]: %v is not a finite number", path, field, bad, v[bad])
	}
	if spec.Distance != Cosine && !keep {
		return v, nil
	}
	out := slices.Clone(v)
	if spec.Distance == Cosine {
		vector.Normalize(out) // a zero vector stays zero
	}
	return out, nil
}

func (c *Collection) sparse(name string, s SparseVector, path string) (int, *segment.Sparse, error) {
	si := c.schema.SparseIndex(name)
	if si < 0 {
		return 0, nil, base.InvalidArgumentf("%s: no sparse vector named %q", path, name)
	}
	if len(s.Indices) != len(s.Values) {
		return 0, nil, base.InvalidArgumentf("%s: %d indices but %d values", path, len(s.Indices), len(s.Values))
	}
	seen := make(map[uint32]bool, len(s.Indices))
	for i, idx := range s.Indices {
		if seen[idx] {
			return 0, nil, base.InvalidArgumentf("%s.indices[%d]: duplicate index %d", path, i, idx)
		}
		seen[idx] = true
		if v := s.Values[i]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, nil, base.InvalidArgumentf("%s.values[%d]: %v is not a finite number", path, i, v)
		}
	}
	return si, &segment.Sparse{Indices: slices.Clone(s.Indices), Values: slices.Clone(s.Values)}, nil
}

// encodePayload validates and encodes a payload as a JSON object.
func encodePayload(p Payload, path string) ([]byte, error) {
	if len(p) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, base.InvalidArgumentf("%s: not representable as JSON: %v", path, err)
	}
	return b, nil
}

// toSegmentPoint converts and validates one point. With partial, vectors
// may be missing entirely (vector updates); otherwise an unnamed collection
// requires its vector.
func (c *Collection) toSegmentPoint(p *Point, path string, partial bool) (segment.Point, error) {
	sp := segment.Point{ID: p.ID, Dense: make([][]float32, len(c.schema.Dense)), Sparse: make([]*segment.Sparse, len(c.schema.Sparse))}
	if p.Vector != nil {
		vi, err := c.denseIndex("", path, ".vector")
		if err != nil {
			return sp, err
		}
		if sp.Dense[vi], err = c.dense(vi, p.Vector, true, path, ".vector"); err != nil {
			return sp, err
		}
	}
	for name, v := range p.Vectors {
		vpath := fmt.Sprintf("%s.vectors[%q]", path, name)
		vi, err := c.denseIndex(name, vpath, "")
		if err != nil {
			return sp, err
		}
		if sp.Dense[vi] != nil {
			return sp, base.InvalidArgumentf("%s: given twice", vpath)
		}
		if sp.Dense[vi], err = c.dense(vi, v, true, vpath, ""); err != nil {
			return sp, err
		}
	}
	for name, s := range p.Sparse {
		si, enc, err := c.sparse(name, s, fmt.Sprintf("%s.sparse[%q]", path, name))
		if err != nil {
			return sp, err
		}
		sp.Sparse[si] = enc
	}
	if !partial && c.schema.DenseIndex("") >= 0 && sp.Dense[0] == nil {
		return sp, base.InvalidArgumentf("%s.vector: missing; the collection's vector has dimension %d", path, c.schema.Dense[0].Dim)
	}
	var err error
	if sp.Payload, err = encodePayload(p.Payload, path+".payload"); err != nil {
		return sp, err
	}
	return sp, nil
}

func (c *Collection) checkBatch(n int, what string) error {
	if n == 0 {
		return base.InvalidArgumentf("%s: empty batch", what)
	}
	if n > MaxBatchPoints {
		return base.InvalidArgumentf("%s: %d points in one batch; the limit is %d", what, n, MaxBatchPoints)
	}
	return nil
}

// --- writes ---

// Upsert inserts or replaces points. The whole batch is validated first: if
// any point is invalid nothing is written. It returns once the batch is
// durable (fsynced) and visible to reads.
func (c *Collection) Upsert(ctx context.Context, points []Point) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	if err := c.checkBatch(len(points), "upsert"); err != nil {
		return err
	}
	op := &collection.Op{Kind: collection.OpUpsert, Points: make([]segment.Point, len(points))}
	for i := range points {
		sp, err := c.toSegmentPoint(&points[i], fmt.Sprintf("points[%d]", i), false)
		if err != nil {
			return err
		}
		op.Points[i] = sp
	}
	return c.eng.Write(ctx, op, nil)
}

// PointVectors names vectors to set on an existing point.
type PointVectors struct {
	ID      PointID
	Vector  []float32
	Vectors map[string][]float32
	Sparse  map[string]SparseVector
}

// UpdateVectors replaces the given vectors of existing points, keeping
// their other vectors and payload. A missing point is ErrNotFound and
// nothing is changed.
func (c *Collection) UpdateVectors(ctx context.Context, points []PointVectors) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	if err := c.checkBatch(len(points), "update vectors"); err != nil {
		return err
	}
	op := &collection.Op{Kind: collection.OpUpdateVectors, Points: make([]segment.Point, len(points))}
	for i, pv := range points {
		p := Point{ID: pv.ID, Vector: pv.Vector, Vectors: pv.Vectors, Sparse: pv.Sparse}
		sp, err := c.toSegmentPoint(&p, fmt.Sprintf("points[%d]", i), true)
		if err != nil {
			return err
		}
		op.Points[i] = sp
	}
	return c.eng.Write(ctx, op, nil)
}

// write runs an operation on the points sel selects.
func (c *Collection) write(ctx context.Context, op *collection.Op, sel Selector) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	switch {
	case sel.IDs != nil && sel.Filter != nil:
		return base.InvalidArgumentf("selector: give ids or a filter, not both")
	case sel.Filter != nil:
		m, err := c.compileFilter(sel.Filter)
		if err != nil {
			return err
		}
		return c.eng.Write(ctx, op, func(e *collection.Collection) ([]base.PointID, error) {
			return e.IDs(ctx, m)
		})
	case len(sel.IDs) == 0:
		return base.InvalidArgumentf("selector: no point ids given")
	case len(sel.IDs) > MaxBatchPoints:
		return base.InvalidArgumentf("selector: %d ids; the limit is %d", len(sel.IDs), MaxBatchPoints)
	}
	op.IDs = sel.IDs
	return c.eng.Write(ctx, op, nil)
}

// Delete deletes the selected points. Ids that do not exist are ignored.
func (c *Collection) Delete(ctx context.Context, sel Selector) error {
	return c.write(ctx, &collection.Op{Kind: collection.OpDelete}, sel)
}

// SetPayload merges payload into the payload of the selected points: its
// keys are set, other keys are kept. A missing id is ErrNotFound.
func (c *Collection) SetPayload(ctx context.Context, sel Selector, payload Payload) error {
	return c.SetPayloadAt(ctx, sel, "", payload)
}

// SetPayloadAt merges payload into the nested object at the dotted path key
// (created if missing) of the selected points' payloads.
func (c *Collection) SetPayloadAt(ctx context.Context, sel Selector, key string, payload Payload) error {
	b, err := encodePayload(payload, "payload")
	if err != nil {
		return err
	}
	if b == nil {
		return base.InvalidArgumentf("payload: empty")
	}
	return c.write(ctx, &collection.Op{Kind: collection.OpSetPayload, Key: key, Payload: b}, sel)
}

// OverwritePayload replaces the whole payload of the selected points.
func (c *Collection) OverwritePayload(ctx context.Context, sel Selector, payload Payload) error {
	b, err := encodePayload(payload, "payload")
	if err != nil {
		return err
	}
	return c.write(ctx, &collection.Op{Kind: collection.OpOverwritePayload, Payload: b}, sel)
}

// DeletePayload removes keys (dotted paths allowed) from the selected points.
func (c *Collection) DeletePayload(ctx context.Context, sel Selector, keys []string) error {
	if len(keys) == 0 {
		return base.InvalidArgumentf("keys: none given")
	}
	return c.write(ctx, &collection.Op{Kind: collection.OpDeletePayloadKeys, Keys: keys}, sel)
}

// ClearPayload removes the whole payload of the selected points.
func (c *Collection) ClearPayload(ctx context.Context, sel Selector) error {
	return c.write(ctx, &collection.Op{Kind: collection.OpClearPayload}, sel)
}

// DeleteVectors removes the named vectors ("" for the unnamed one) from the
// selected points.
func (c *Collection) DeleteVectors(ctx context.Context, sel Selector, names []string) error {
	if len(names) == 0 {
		return base.InvalidArgumentf("vectors: none given")
	}
	op := &collection.Op{Kind: collection.OpDeleteVectors}
	for _, n := range names {
		if n == "" && c.schema.DenseIndex("") >= 0 {
			// Upsert requires it, so a point without it could not be
			// written back as read.
			return base.InvalidArgumentf("vectors: the unnamed vector cannot be deleted (every point of this collection has one); delete the point or update its vector")
		}
		if i := c.schema.DenseIndex(n); i >= 0 {
			op.Vectors = append(op.Vectors, collection.VectorRef{Index: i})
		} else if i := c.schema.SparseIndex(n); i >= 0 {
			op.Vectors = append(op.Vectors, collection.VectorRef{Sparse: true, Index: i})
		} else {
			return base.InvalidArgumentf("vectors: no vector named %q", n)
		}
	}
	return c.write(ctx, op, sel)
}

// Optimize seals the in-memory segment and runs the optimizer once, now.
// Graphs are built in the background afterwards; WaitIndexed waits for them.
func (c *Collection) Optimize(ctx context.Context) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	return c.eng.Optimize(true)
}

// WaitIndexed builds, on the calling goroutine, every payload index not yet
// built for a segment and every HNSW graph that is due (segments over the
// indexing threshold, or indexed with other parameters), and returns when
// none is left.
func (c *Collection) WaitIndexed(ctx context.Context) error {
	if err := c.check(ctx); err != nil {
		return err
	}
	if err := c.eng.FieldsNow(); err != nil {
		return err
	}
	return c.eng.IndexNow()
}

// --- reads ---

func (c *Collection) fetch(p PayloadSelector, v VectorSelector) (collection.Fetch, error) {
	f := collection.Fetch{Payload: p.All || len(p.Include) > 0 || len(p.Exclude) > 0}
	if v.All {
		for i := range c.schema.Dense {
			f.Dense = append(f.Dense, i)
		}
		for i := range c.schema.Sparse {
			f.Sparse = append(f.Sparse, i)
		}
	}
	for _, n := range v.Names {
		if i := c.schema.DenseIndex(n); i >= 0 {
			f.Dense = append(f.Dense, i)
		} else if i := c.schema.SparseIndex(n); i >= 0 {
			f.Sparse = append(f.Sparse, i)
		} else {
			return f, base.InvalidArgumentf("with_vectors: no vector named %q", n)
		}
	}
	return f, nil
}

func (c *Collection) toRecord(r *collection.Record, p PayloadSelector) Record {
	out := Record{ID: r.ID, Version: r.Seq}
	if r.Payload != nil {
		out.Payload = selectPayload(decodePayload(r.Payload), p)
	} else if p.All || len(p.Include) > 0 || len(p.Exclude) > 0 {
		out.Payload = Payload{}
	}
	for i, v := range r.Dense {
		if v == nil {
			continue
		}
		name := c.schema.Dense[i].Name
		if name == "" {
			out.Vector = v
			continue
		}
		if out.Vectors == nil {
			out.Vectors = map[string][]float32{}
		}
		out.Vectors[name] = v
	}
	for i, s := range r.Sparse {
		if s == nil {
			continue
		}
		if out.Sparse == nil {
			out.Sparse = map[string]SparseVector{}
		}
		out.Sparse[c.schema.Sparse[i]] = SparseVector{Indices: s.Indices, Values: s.Values}
	}
	return out
}

func decodePayload(b []byte) Payload {
	var m Payload
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return Payload{}
	}
	return m
}

// selectPayload applies include / exclude (dotted paths) to a payload.
func selectPayload(m Payload, p PayloadSelector) Payload {
	if len(p.Include) > 0 {
		out := Payload{}
		for _, key := range p.Include {
			copyPath(out, m, splitPath(key))
		}
		m = out
	}
	for _, key := range p.Exclude {
		deletePath(m, splitPath(key))
	}
	return m
}

func splitPath(key string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			parts = append(parts, key[start:i])
			start = i + 1
		}
	}
	return append(parts, key[start:])
}

func copyPath(dst, src map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return
	}
	d, ok := dst[path[0]].(map[string]any)
	if !ok {
		d = map[string]any{}
		dst[path[0]] = d
	}
	copyPath(d, sub, path[1:])
}

func deletePath(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	if sub, ok := m[path[0]].(map[string]any); ok {
		deletePath(sub, path[1:])
	}
}

// GetOptions choose what Get returns for each point.
type GetOptions struct {
	WithPayload PayloadSelector
	WithVectors VectorSelector
}

// Get returns the points with the given ids that exist, in the order asked
// (each id once).
func (c *Collection) Get(ctx context.Context, ids []PointID, opts GetOptions) ([]Record, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	if len(ids) > MaxBatchPoints {
		return nil, base.InvalidArgumentf("ids: %d ids; the limit is %d", len(ids), MaxBatchPoints)
	}
	f, err := c.fetch(opts.WithPayload, opts.WithVectors)
	if err != nil {
		return nil, err
	}
	recs, err := c.eng.Get(ids, f)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(recs))
	for i := range recs {
		out[i] = c.toRecord(&recs[i], opts.WithPayload)
	}
	return out, nil
}

// ScrollRequest pages through points in id order.
type ScrollRequest struct {
	Filter *Filter
	// Limit is the page size (default 10).
	Limit int
	// Offset is the id to start from (inclusive): the NextOffset of the
	// previous page. Nil starts at the beginning.
	Offset      *PointID
	WithPayload PayloadSelector
	WithVectors VectorSelector
}

// ScrollResult is one page; NextOffset is nil on the last page.
type ScrollResult struct {
	Points     []Record
	NextOffset *PointID
}

// Scroll returns one page of points in id order.
func (c *Collection) Scroll(ctx context.Context, req ScrollRequest) (ScrollResult, error) {
	if err := c.check(ctx); err != nil {
		return ScrollResult{}, err
	}
	if req.Limit < 0 || req.Limit > MaxSearchLimit {
		return ScrollResult{}, base.InvalidArgumentf("limit: %d is out of range 1..%d", req.Limit, MaxSearchLimit)
	}
	if req.Limit == 0 {
		req.Limit = 10
	}
	m, err := c.compileFilter(req.Filter)
	if err != nil {
		return ScrollResult{}, err
	}
	f, err := c.fetch(req.WithPayload, req.WithVectors)
	if err != nil {
		return ScrollResult{}, err
	}
	recs, next, err := c.eng.Scroll(ctx, m, req.Offset, req.Limit, f)
	if err != nil {
		return ScrollResult{}, err
	}
	out := ScrollResult{Points: make([]Record, len(recs)), NextOffset: next}
	for i := range recs {
		out.Points[i] = c.toRecord(&recs[i], req.WithPayload)
	}
	return out, nil
}

// Count returns the number of points matching filter (all points if nil).
// The count is exact.
func (c *Collection) Count(ctx context.Context, f *Filter) (int, error) {
	if err := c.check(ctx); err != nil {
		return 0, err
	}
	m, err := c.compileFilter(f)
	if err != nil {
		return 0, err
	}
	return c.eng.Count(ctx, m)
}

// SearchRequest is a nearest-neighbour query.
type SearchRequest struct {
	// Vector is the query; its dimension must match the searched vector.
	Vector []float32
	// Using names the dense vector to search ("" for the unnamed one, or
	// the only one).
	Using  string
	Filter *Filter
	// Limit is the number of hits (default 10); Offset skips the best ones.
	Limit  int
	Offset int
	// ScoreThreshold drops hits worse than it: lower similarities for
	// Cosine and Dot, larger distances for Euclid and Manhattan.
	ScoreThreshold *float32
	// Exact forces an exhaustive scan instead of the HNSW graphs.
	Exact bool
	// HnswEf is the HNSW beam width (default: the collection's
	// ef_construct); larger is more accurate and slower.
	HnswEf      int
	WithPayload PayloadSelector
	WithVectors VectorSelector
}

func (c *Collection) query(req *SearchRequest, path string) (collection.Query, error) {
	name := req.Using
	if name == "" && len(c.schema.Dense) == 1 {
		name = c.schema.Dense[0].Name
	}
	vi, err := c.denseIndex(name, path, ".using")
	if err != nil {
		return collection.Query{}, err
	}
	q := collection.Query{Index: vi, Limit: req.Limit, Offset: req.Offset, Threshold: req.ScoreThreshold, Exact: req.Exact, Ef: req.HnswEf}
	if q.Vector, err = c.dense(vi, req.Vector, false, path, ".vector"); err != nil {
		return q, err
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxSearchLimit:
		return q, base.InvalidArgumentf("%s.limit: %d is out of range 1..%d", path, q.Limit, MaxSearchLimit)
	case q.Offset < 0 || q.Offset > MaxSearchOffset:
		return q, base.InvalidArgumentf("%s.offset: %d is out of range 0..%d", path, q.Offset, MaxSearchOffset)
	case req.HnswEf < 0:
		return q, base.InvalidArgumentf("%s.hnsw_ef: %d is negative", path, req.HnswEf)
	case req.ScoreThreshold != nil && (math.IsNaN(float64(*req.ScoreThreshold)) || math.IsInf(float64(*req.ScoreThreshold), 0)):
		return q, base.InvalidArgumentf("%s.score_threshold: not a finite number", path)
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	if q.Filter, err = c.compileFilter(req.Filter); err != nil {
		return q, err
	}
	return q, nil
}

// Search returns the points nearest to req.Vector, best first.
func (c *Collection) Search(ctx context.Context, req SearchRequest) ([]ScoredPoint, error) {
	res, err := c.SearchBatch(ctx, []SearchRequest{req})
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// SearchBatch runs several searches in one pass over the data (each chunk
// of vectors is read once for all queries) and returns their hits in
// order.
func (c *Collection) SearchBatch(ctx context.Context, reqs []SearchRequest) ([][]ScoredPoint, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	if len(reqs) == 0 || len(reqs) > MaxSearchBatch {
		return nil, base.InvalidArgumentf("searches: %d in one batch; expected 1..%d", len(reqs), MaxSearchBatch)
	}
	qs := make([]collection.Query, len(reqs))
	fetches := make([]collection.Fetch, len(reqs))
	for i := range reqs {
		path := "search"
		if len(reqs) > 1 {
			path = fmt.Sprintf("searches[%d]", i)
		}
		var err error
		if qs[i], err = c.query(&reqs[i], path); err != nil {
			return nil, err
		}
		if fetches[i], err = c.fetch(reqs[i].WithPayload, reqs[i].WithVectors); err != nil {
			return nil, err
		}
	}
	res, err := c.eng.Search(ctx, qs, fetches)
	if err != nil {
		return nil, err
	}
	out := make([][]ScoredPoint, len(res))
	for i, rs := range res {
		out[i] = make([]ScoredPoint, len(rs))
		for j := range rs {
			out[i][j] = ScoredPoint{Record: c.toRecord(&rs[j], reqs[i].WithPayload), Score: rs[j].Score}
		}
	}
	return out, nil
}
