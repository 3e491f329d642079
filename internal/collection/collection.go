package collection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"maps"
	"math"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
	"github.com/strata-db/strata/internal/wal"
)

// OptimizerConfig tunes the background optimizer. Zero fields take the
// defaults named on each field.
type OptimizerConfig struct {
	// FlushPoints seals the appendable segment once it holds this many
	// points (default 20,000).
	FlushPoints int
	// MaxSegments merges the smallest sealed segments while there are more
	// than this many (default 8).
	MaxSegments int
	// MaxSegmentPoints bounds the size of a merged segment (default 4,000,000).
	MaxSegmentPoints int
	// DeletedThreshold vacuums a sealed segment whose deleted fraction
	// exceeds it (default 0.2), if it has at least VacuumMinPoints points
	// (default 1,000).
	DeletedThreshold float64
	VacuumMinPoints  int
	// Interval is how often the optimizer looks for work besides being woken
	// by writes (default 1s). Negative disables the background optimizer
	// (Optimize still works).
	Interval time.Duration
}

// EnsureDefaults fills zero fields with defaults.
func (o *OptimizerConfig) EnsureDefaults() {
	if o.FlushPoints <= 0 {
		o.FlushPoints = 20000
	}
	if o.MaxSegments <= 0 {
		o.MaxSegments = 8
	}
	if o.MaxSegmentPoints <= 0 {
		o.MaxSegmentPoints = 4000000
	}
	if o.DeletedThreshold <= 0 {
		o.DeletedThreshold = 0.2
	}
	if o.VacuumMinPoints <= 0 {
		o.VacuumMinPoints = 1000
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
}

// Options configure a collection's engine.
type Options struct {
	Optimizer OptimizerConfig
	Index     IndexConfig
	WAL       wal.Options
	// VerifyChecksums verifies every section checksum of sealed segments on
	// open (default on in the root package).
	VerifyChecksums bool
	Logger          *slog.Logger
	// Fields are the payload field indexes, by payload key.
	Fields map[string]filter.FieldSchema
}

type pendingOp struct {
	seq uint64
	op  *Op
}

// segSet is an immutable list of segments: sealed ones by ascending id,
// then frozen in-memory ones, then the appendable segment (last). Readers
// hold a reference to the set; the set holds one on each segment.
type segSet struct {
	segs []*segment.Segment
	refs atomic.Int32
}

func newSet(segs []*segment.Segment) *segSet {
	s := &segSet{segs: segs}
	for _, sg := range segs {
		if !sg.Ref() {
			panic("collection: segment released while still in use")
		}
	}
	s.refs.Store(1)
	return s
}

func (s *segSet) appendable() *segment.Segment { return s.segs[len(s.segs)-1] }

func (s *segSet) release() {
	if s.refs.Add(-1) == 0 {
		for _, sg := range s.segs {
			sg.Unref()
		}
	}
}

// find returns the segment (and its index in the set) and offset of the
// live version of id (C1).
func (s *segSet) find(id base.PointID) (*segment.Segment, int, uint32, bool) {
	for i := len(s.segs) - 1; i >= 0; i-- {
		if off, ok := s.segs[i].Lookup(id); ok {
			return s.segs[i], i, off, true
		}
	}
	return nil, 0, 0, false
}

// snapshot is a consistent, point-in-time read view of every segment of a
// set (C4): views taken under stateMu, which writers hold exclusively while
// applying an operation, so no operation is half visible.
type snapshot struct {
	set   *segSet
	views []segment.View
}

func (s *snapshot) release() { s.set.release() }

// Collection is an open collection. All methods are safe for concurrent use.
type Collection struct {
	fs     vfs.FS
	dir    string
	schema *segment.Schema
	opts   Options
	log    *slog.Logger
	wal    *wal.Log

	writeMu sync.Mutex // serializes seq assignment, WAL appends and queueing (C5)

	pendMu  sync.Mutex // guards pending
	pending []pendingOp

	applyMu    sync.Mutex // serializes applying operations and segment-set changes
	appliedSeq atomic.Uint64

	// stateMu guards cur and is held exclusively while one operation is
	// applied to the segments, shared while readers take their views (C4).
	stateMu sync.RWMutex
	cur     *segSet

	optMu      sync.Mutex // one optimization at a time; guards the fields below
	checkpoint uint64
	nextSegID  uint64
	persisted  map[uint64]string // segment id -> deleted file named by the manifest
	manifest   *Manifest         // the last committed manifest
	optimizing atomic.Bool
	// interval is the background loops' period, fixed at Open; flushPoints
	// mirrors opts.Optimizer.FlushPoints for the write path, which does not
	// take optMu.
	interval    time.Duration
	flushPoints atomic.Int64

	indexCfg   atomic.Pointer[IndexConfig]
	indexMu    sync.Mutex // one graph build at a time (each uses every core)
	indexing   atomic.Int32
	idxKick    chan struct{}
	idxStopped chan struct{}

	fieldCfg     atomic.Pointer[map[string]filter.FieldSchema]
	fieldMu      sync.Mutex // one payload index build at a time
	fieldKick    chan struct{}
	fieldStopped chan struct{}

	failed  atomic.Pointer[error] // first WAL failure: the collection is read-only
	closeMu sync.RWMutex          // Write and Optimize hold it shared; Close exclusively
	closed  atomic.Bool
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}

	bufPool sync.Pool

	ctr counters // activity counters for Stats (stats.go)
}

const manifestName = "MANIFEST"

func segFile(id uint64) string { return fmt.Sprintf("%08d.seg", id) }

// Open opens (creating if needed) the collection stored in dir and recovers
// it: sealed segments from the manifest, then the WAL replayed after the
// manifest's checkpoint.
func Open(fs vfs.FS, dir string, schema *segment.Schema, opts Options) (*Collection, error) {
	opts.Optimizer.EnsureDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Collection{
		fs: fs, dir: dir, schema: schema, opts: opts, log: opts.Logger,
		persisted:  make(map[uint64]string),
		kick:       make(chan struct{}, 1),
		idxKick:    make(chan struct{}, 1),
		stop:       make(chan struct{}),
		stopped:    make(chan struct{}),
		idxStopped: make(chan struct{}),

		fieldKick:    make(chan struct{}, 1),
		fieldStopped: make(chan struct{}),
	}
	c.interval = opts.Optimizer.Interval
	c.flushPoints.Store(int64(opts.Optimizer.FlushPoints))
	fields := maps.Clone(opts.Fields)
	c.fieldCfg.Store(&fields)
	ic := opts.Index
	ic.EnsureDefaults()
	c.indexCfg.Store(&ic)
	segDir := path.Join(dir, "segments")
	if err := vfs.MkdirAllSync(fs, segDir, 0o755); err != nil {
		return nil, fmt.Errorf("collection: %w", err)
	}
	m := &Manifest{NextSegmentID: 1}
	if b, err := vfs.ReadFile(fs, path.Join(dir, manifestName)); err == nil {
		if m, err = decodeManifest(b); err != nil {
			return nil, fmt.Errorf("collection %s: %w", dir, err)
		}
	} else if !errors.Is(err, iofs.ErrNotExist) {
		return nil, fmt.Errorf("collection: read manifest: %w", err)
	}
	var segs []*segment.Segment
	fail := func(err error) (*Collection, error) {
		for _, s := range segs {
			s.Unref()
		}
		return nil, err
	}
	keep := map[string]bool{}
	for _, ms := range m.Segments {
		name := path.Join(segDir, segFile(ms.ID))
		s, err := segment.OpenSealed(fs, name, ms.ID, schema, opts.VerifyChecksums)
		if err != nil {
			return fail(fmt.Errorf("collection %s: %w", dir, err))
		}
		segs = append(segs, s)
		keep[segFile(ms.ID)] = true
		if s.Len() != ms.Points {
			return fail(base.CorruptionErrorf("collection %s: segment %d has %d points, manifest says %d", dir, ms.ID, s.Len(), ms.Points))
		}
		if ms.Deleted != "" {
			words, err := segment.ReadDeleted(fs, path.Join(segDir, ms.Deleted), ms.ID, s.Len())
			if err != nil {
				return fail(fmt.Errorf("collection %s: segment %d: %w", dir, ms.ID, err))
			}
			s.SetDeleted(words)
			keep[ms.Deleted] = true
			c.persisted[ms.ID] = ms.Deleted
		}
		for _, mg := range ms.Graphs {
			p := segment.GraphParams{M: mg.M, EfConstruct: mg.EfConstruct}
			if err := s.LoadGraph(fs, path.Join(segDir, mg.File), mg.Vector, p, opts.VerifyChecksums); err != nil {
				return fail(fmt.Errorf("collection %s: segment %d: %w", dir, ms.ID, err))
			}
			keep[mg.File] = true
		}
		for _, mf := range ms.Fields {
			keep[mf.File] = true // even when ignored: the manifest names it
		}
		if err := loadFields(fs, segDir, s, &ms, fields, opts.VerifyChecksums); err != nil {
			return fail(fmt.Errorf("collection %s: segment %d: %w", dir, ms.ID, err))
		}
	}
	// Files the manifest does not name are leftovers of an optimization that
	// did not commit (C3): remove them.
	names, err := fs.List(segDir)
	if err != nil {
		return fail(fmt.Errorf("collection: %w", err))
	}
	for _, n := range names {
		if !keep[n] {
			if err := fs.Remove(path.Join(segDir, n)); err != nil {
				return fail(fmt.Errorf("collection: remove leftover %s: %w", n, err))
			}
		}
	}
	c.checkpoint = m.Checkpoint
	c.nextSegID = m.NextSegmentID
	c.manifest = m
	app := segment.NewAppendable(c.nextSegID, schema)
	c.nextSegID++
	segs = append(segs, app)
	if err := app.IndexFields(fields); err != nil {
		return fail(fmt.Errorf("collection %s: %w", dir, err))
	}
	c.cur = newSet(segs)
	for _, s := range segs {
		s.Unref() // the set holds them now
	}
	segs = nil

	replayed := 0
	lg, err := wal.Open(fs, path.Join(dir, "wal"), opts.WAL, m.Checkpoint, func(seq uint64, typ uint8, data []byte) error {
		op, err := DecodeOp(OpKind(typ), data, schema)
		if err != nil {
			return fmt.Errorf("wal record %d: %w", seq, err)
		}
		c.stateMu.Lock()
		c.applyLocked(op, seq)
		c.stateMu.Unlock()
		c.appliedSeq.Store(seq)
		replayed++
		return nil
	})
	if err != nil {
		c.cur.release()
		return nil, fmt.Errorf("collection %s: %w", dir, err)
	}
	c.wal = lg
	if c.appliedSeq.Load() < m.Checkpoint {
		c.appliedSeq.Store(m.Checkpoint)
	}
	c.log.Debug("collection opened", "dir", dir, "segments", len(m.Segments), "checkpoint", m.Checkpoint, "replayed", replayed)
	if opts.Optimizer.Interval > 0 {
		go c.optimizerLoop()
		go c.indexerLoop()
		go c.fieldLoop()
		c.kickIndexer()
		c.kickFields()
	} else {
		close(c.stopped)
		close(c.idxStopped)
		close(c.fieldStopped)
	}
	return c, nil
}

// Schema returns the collection's vector schema.
func (c *Collection) Schema() *segment.Schema { return c.schema }

// Close stops the optimizer, seals the appendable segment so that the next
// open replays nothing, and closes the WAL.
func (c *Collection) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(c.stop)
	<-c.stopped
	<-c.idxStopped
	<-c.fieldStopped
	c.indexMu.Lock() // an IndexNow in progress
	c.indexMu.Unlock()
	c.fieldMu.Lock() // a FieldsNow in progress
	c.fieldMu.Unlock()
	c.closeMu.Lock() // waits for in-flight writes
	defer c.closeMu.Unlock()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	var err error
	if c.failed.Load() == nil {
		if e := c.optimize(true); e != nil {
			err = fmt.Errorf("collection: final flush: %w", e)
		}
	}
	if e := c.wal.Close(); e != nil && err == nil && c.failed.Load() == nil {
		err = e
	}
	c.stateMu.Lock()
	set := c.cur
	c.cur = nil
	c.stateMu.Unlock()
	if set != nil {
		set.release()
	}
	return err
}

// acquire takes a snapshot of the current segment set. If lookup is not
// nil it runs under the same lock, so its lookups see the snapshot's state.
func (c *Collection) acquire(lookup func(set *segSet)) (*snapshot, error) {
	c.stateMu.RLock()
	defer c.stateMu.RUnlock()
	if c.cur == nil {
		return nil, base.ErrClosed
	}
	c.cur.refs.Add(1)
	s := &snapshot{set: c.cur, views: make([]segment.View, len(c.cur.segs))}
	for i, sg := range c.cur.segs {
		s.views[i] = sg.View()
	}
	if lookup != nil {
		lookup(c.cur)
	}
	return s, nil
}

// current returns the current set without a reference. Only the optimizer
// (the one goroutine that swaps sets, under optMu) may use the sealed
// segments of the result; others may look at the in-memory appendable
// segment, which is never unmapped.
func (c *Collection) current() *segSet {
	c.stateMu.RLock()
	defer c.stateMu.RUnlock()
	return c.cur
}

func (c *Collection) setFailed(err error) {
	c.failed.CompareAndSwap(nil, &err)
}

// Err returns the WAL failure that made the collection read-only, if any.
func (c *Collection) Err() error {
	if p := c.failed.Load(); p != nil {
		return fmt.Errorf("%w: %w", base.ErrReadOnly, *p)
	}
	return nil
}

// needsExisting reports whether an operation applies only to existing
// points, so that its ids are checked before it is logged.
func needsExisting(k OpKind) bool {
	switch k {
	case OpSetPayload, OpOverwritePayload, OpDeletePayloadKeys, OpClearPayload, OpUpdateVectors, OpDeleteVectors:
		return true
	}
	return false
}

// Write logs op, waits until it is durable, applies it and returns. See the
// package documentation for the protocol. ids is called (under writeMu,
// after every earlier write is applied) to resolve the points an operation
// selects by filter; it may be nil.
func (c *Collection) Write(ctx context.Context, op *Op, resolve func(*Collection) ([]base.PointID, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	c.writeMu.Lock()
	if c.closed.Load() {
		c.writeMu.Unlock()
		return base.ErrClosed
	}
	if err := c.Err(); err != nil {
		c.writeMu.Unlock()
		return err
	}
	if resolve != nil || needsExisting(op.Kind) {
		if err := c.drainLocked(); err != nil {
			c.writeMu.Unlock()
			return err
		}
		if resolve != nil {
			ids, err := resolve(c)
			if err != nil {
				c.writeMu.Unlock()
				return err
			}
			op.IDs = ids
		}
		if needsExisting(op.Kind) {
			if err := c.checkExisting(op); err != nil {
				c.writeMu.Unlock()
				return err
			}
		}
		if op.Kind != OpUpsert && op.Kind != OpUpdateVectors && len(op.IDs) == 0 {
			c.writeMu.Unlock()
			return nil // a filter that selects nothing: nothing to log
		}
	}
	bp, _ := c.bufPool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	rec := AppendOp((*bp)[:0], op)
	seq, err := c.wal.Append(uint8(op.Kind), rec)
	*bp = rec
	c.bufPool.Put(bp)
	if err != nil {
		if !errors.Is(err, base.ErrInvalidArgument) {
			c.setFailed(err)
		}
		c.writeMu.Unlock()
		return err
	}
	c.pendMu.Lock()
	c.pending = append(c.pending, pendingOp{seq: seq, op: op})
	c.pendMu.Unlock()
	c.writeMu.Unlock()

	if err := c.wal.Sync(seq); err != nil {
		c.setFailed(err)
		return err
	}
	c.applyDurable()
	if c.appendableLen() >= int(c.flushPoints.Load()) {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

func (c *Collection) appendableLen() int {
	set := c.current()
	if set == nil {
		return 0
	}
	return set.appendable().Len()
}

// drainLocked makes every logged operation durable and applied. The caller
// holds writeMu, so nothing new is queued meanwhile.
func (c *Collection) drainLocked() error {
	if last := c.wal.LastSeq(); last > c.appliedSeq.Load() {
		if err := c.wal.Sync(last); err != nil {
			c.setFailed(err)
			return err
		}
		c.applyDurable()
	}
	return nil
}

// applyDurable applies, in order, every queued operation whose record is
// fsynced (C2).
func (c *Collection) applyDurable() {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	synced := c.wal.SyncedSeq()
	for {
		c.pendMu.Lock()
		if len(c.pending) == 0 || c.pending[0].seq > synced {
			c.pendMu.Unlock()
			return
		}
		p := c.pending[0]
		c.pending[0] = pendingOp{}
		c.pending = c.pending[1:]
		c.pendMu.Unlock()
		c.stateMu.Lock()
		c.applyLocked(p.op, p.seq)
		c.stateMu.Unlock()
		c.appliedSeq.Store(p.seq)
	}
}

func (c *Collection) checkExisting(op *Op) error {
	// Under stateMu the optimizer cannot swap (and unmap) segments.
	c.stateMu.RLock()
	defer c.stateMu.RUnlock()
	set := c.cur
	if set == nil {
		return base.ErrClosed
	}
	check := func(id base.PointID) error {
		if _, _, _, ok := set.find(id); !ok {
			return base.NotFoundf("no point with id %s", id)
		}
		return nil
	}
	for _, id := range op.IDs {
		if err := check(id); err != nil {
			return err
		}
	}
	for i := range op.Points {
		if err := check(op.Points[i].ID); err != nil {
			return err
		}
	}
	return nil
}

// applyLocked applies one operation at seq to the current segment set. The
// caller holds applyMu (or is the single goroutine replaying during Open)
// and stateMu exclusively. Points whose live version was written after
// seq are left alone; every operation is idempotent, so replay is too.
func (c *Collection) applyLocked(op *Op, seq uint64) {
	set := c.cur
	app := set.appendable()
	switch op.Kind {
	case OpUpsert:
		for i := range op.Points {
			p := &op.Points[i]
			if seg, _, off, ok := set.find(p.ID); ok {
				// Skip only versions written by a later operation: the same
				// id twice in one batch must end with the last one (and
				// re-applying an operation is harmless).
				if seg.Seq(off) > seq {
					continue
				}
				if seg != app {
					seg.Delete(off)
				}
			}
			app.Append(p, seq)
		}
	case OpDelete:
		for _, id := range op.IDs {
			if seg, _, off, ok := set.find(id); ok {
				seg.Delete(off)
			}
		}
	case OpUpdateVectors:
		for i := range op.Points {
			upd := &op.Points[i]
			c.rewrite(set, upd.ID, seq, func(p *segment.Point) {
				for vi, v := range upd.Dense {
					if v != nil {
						p.Dense[vi] = v
					}
				}
				for si, s := range upd.Sparse {
					if s != nil {
						p.Sparse[si] = s
					}
				}
			})
		}
	default:
		for _, id := range op.IDs {
			c.rewrite(set, id, seq, func(p *segment.Point) { transformPoint(op, p) })
		}
	}
}

// rewrite replaces the live version of id by fn's modification of it,
// appended to the appendable segment.
func (c *Collection) rewrite(set *segSet, id base.PointID, seq uint64, fn func(*segment.Point)) {
	seg, _, off, ok := set.find(id)
	if !ok || seg.Seq(off) > seq {
		return
	}
	p := seg.ReadPoint(off)
	fn(&p)
	app := set.appendable()
	if seg != app {
		seg.Delete(off)
	}
	app.Append(&p, seq)
}

// transformPoint applies a payload or vector-deletion op to one point.
func transformPoint(op *Op, p *segment.Point) {
	switch op.Kind {
	case OpOverwritePayload:
		p.Payload = op.Payload
	case OpClearPayload:
		p.Payload = nil
	case OpSetPayload:
		p.Payload = mergePayload(p.Payload, op.Payload, op.Key)
	case OpDeletePayloadKeys:
		p.Payload = deletePayloadKeys(p.Payload, op.Keys)
	case OpDeleteVectors:
		for _, v := range op.Vectors {
			if v.Sparse {
				p.Sparse[v.Index] = nil
			} else {
				p.Dense[v.Index] = nil
			}
		}
	}
}

func decodeObject(b []byte) map[string]any {
	m := map[string]any{}
	if len(b) == 0 {
		return m
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	_ = d.Decode(&m) // payloads are validated JSON objects when written
	return m
}

func encodeObject(m map[string]any) []byte {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("collection: re-encoding a decoded payload: %v", err))
	}
	return b
}

// mergePayload sets the top-level keys of add in old, or in the object at
// the dotted path key (created, or replacing a non-object value).
func mergePayload(old, add []byte, key string) []byte {
	root := decodeObject(old)
	target := root
	if key != "" {
		for _, k := range strings.Split(key, ".") {
			next, ok := target[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				target[k] = next
			}
			target = next
		}
	}
	for k, v := range decodeObject(add) {
		target[k] = v
	}
	return encodeObject(root)
}

// deletePayloadKeys removes each dotted path from the payload.
func deletePayloadKeys(old []byte, keys []string) []byte {
	root := decodeObject(old)
	for _, key := range keys {
		parts := strings.Split(key, ".")
		obj := root
		for _, k := range parts[:len(parts)-1] {
			next, ok := obj[k].(map[string]any)
			if !ok {
				obj = nil
				break
			}
			obj = next
		}
		if obj != nil {
			delete(obj, parts[len(parts)-1])
		}
	}
	return encodeObject(root)
}

// Info describes the collection's current state.
type Info struct {
	Points     int
	Segments   int
	Optimizing bool // sealing, merging, vacuuming or building an index
	// IndexedVectors counts the vectors in HNSW graphs.
	IndexedVectors int
	Checkpoint     uint64
	AppliedSeq     uint64
	// FieldPoints counts, per configured payload index, the live points
	// with at least one indexed value, over the segments indexed so far.
	FieldPoints map[string]int
}

// Info returns counts for collection info.
func (c *Collection) Info() (Info, error) {
	snap, err := c.acquire(nil)
	if err != nil {
		return Info{}, err
	}
	defer snap.release()
	in := Info{Optimizing: c.optimizing.Load() || c.indexing.Load() > 0, AppliedSeq: c.appliedSeq.Load()}
	for i, s := range snap.set.segs {
		v := &snap.views[i]
		if v.N == 0 && !s.Sealed() {
			continue
		}
		in.Segments++
		in.Points += v.N - v.Deleted.Count()
		for vi := range c.schema.Dense {
			if g, _ := s.Graph(vi); g != nil {
				in.IndexedVectors += g.Len()
			}
		}
	}
	in.FieldPoints = make(map[string]int)
	for key := range c.Fields() {
		in.FieldPoints[key] = 0
		for i, s := range snap.set.segs {
			x := s.Field(key)
			if x == nil {
				continue
			}
			v := &snap.views[i]
			bm := x.Indexed()
			bm.RemoveRange(uint64(v.N), math.MaxUint32+1)
			n := int(bm.GetCardinality())
			v.Deleted.Each(func(off uint32) bool {
				if bm.Contains(off) {
					n--
				}
				return true
			})
			in.FieldPoints[key] += n
		}
	}
	c.optMu.Lock()
	in.Checkpoint = c.checkpoint
	c.optMu.Unlock()
	return in, nil
}
