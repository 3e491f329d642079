package collection

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/segment"
)

// Fetch says what to copy out for each returned point.
type Fetch struct {
	Payload bool
	Dense   []int // schema indexes of the dense vectors to return
	Sparse  []int // schema indexes of the sparse vectors to return
}

// Record is a point as returned by reads. Its slices are copies owned by
// the caller.
type Record struct {
	ID      base.PointID
	Seq     uint64
	Score   float32
	Payload []byte
	Dense   [][]float32       // indexed like the schema; nil entries not fetched or absent
	Sparse  []*segment.Sparse // likewise
}

func (c *Collection) materialize(v *segment.View, off uint32, f *Fetch) Record {
	r := Record{ID: v.IDs[off], Seq: v.Seqs[off]}
	if f.Payload {
		if p := v.Payload(off); p != nil {
			r.Payload = append([]byte(nil), p...)
		}
	}
	if len(f.Dense) > 0 {
		r.Dense = make([][]float32, len(c.schema.Dense))
		for _, vi := range f.Dense {
			if vec := v.Vector(vi, c.schema.Dense[vi].Dim, off); vec != nil {
				r.Dense[vi] = append([]float32(nil), vec...)
			}
		}
	}
	if len(f.Sparse) > 0 {
		r.Sparse = make([]*segment.Sparse, len(c.schema.Sparse))
		for _, si := range f.Sparse {
			if b := v.SparseBytes(si, off); b != nil {
				if sp, ok := segment.DecodeSparse(b); ok {
					r.Sparse[si] = &sp
				}
			}
		}
	}
	return r
}

// Get returns the live points among ids, in the order of ids, each once.
func (c *Collection) Get(ids []base.PointID, f Fetch) ([]Record, error) {
	type loc struct {
		seg int
		off uint32
	}
	var locs []loc
	snap, err := c.acquire(func(set *segSet) {
		seen := make(map[base.PointID]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if _, si, off, ok := set.find(id); ok {
				locs = append(locs, loc{si, off})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	defer snap.release()
	out := make([]Record, len(locs))
	for i, l := range locs {
		out[i] = c.materialize(&snap.views[l.seg], l.off, &f)
	}
	return out, nil
}

// Scroll returns up to limit live points matching m with id >= from (all if
// from is nil), in id order, and the id to continue from (nil at the end).
func (c *Collection) Scroll(ctx context.Context, m *filter.Matcher, from *base.PointID, limit int, f Fetch) ([]Record, *base.PointID, error) {
	snap, err := c.acquire(nil)
	if err != nil {
		return nil, nil, err
	}
	defer snap.release()
	// One more than limit: its id is where the next page starts.
	hits, err := snap.scroll(ctx, m, from, limit+1)
	if err != nil {
		return nil, nil, err
	}
	var next *base.PointID
	if len(hits) > limit {
		id := hits[limit].id
		next = &id
		hits = hits[:limit]
	}
	views := snap.views
	out := make([]Record, len(hits))
	for i, h := range hits {
		out[i] = c.materialize(&views[h.loc.Seg], h.loc.Off, &f)
	}
	return out, next, nil
}

// scrollHit is a point found by scroll: its id and where it is.
type scrollHit struct {
	id  base.PointID
	loc Loc
}

// scroll returns the first limit live points of the snapshot matching m
// (all if m is nil) with id >= from (all if from is nil), in id order.
func (s *snapshot) scroll(ctx context.Context, m *filter.Matcher, from *base.PointID, limit int) ([]scrollHit, error) {
	var hits []scrollHit
	for si, seg := range s.set.segs {
		v := &s.views[si]
		check := planCheck(m, seg, v)
		n := 0
		var cerr error
		seg.AscendFrom(v, from, func(off uint32) bool {
			if n%1024 == 0 {
				if cerr = ctx.Err(); cerr != nil {
					return false
				}
			}
			if check != nil && !check(off) {
				return true
			}
			hits = append(hits, scrollHit{v.IDs[off], Loc{Seg: uint32(si), Off: off}})
			n++
			return n < limit
		})
		if cerr != nil {
			return nil, cerr
		}
	}
	slices.SortFunc(hits, func(a, b scrollHit) int { return a.id.Compare(b.id) })
	return hits[:min(limit, len(hits))], nil
}

// Count returns the number of live points matching m (all if m is nil).
func (c *Collection) Count(ctx context.Context, m *filter.Matcher) (int, error) {
	snap, err := c.acquire(nil)
	if err != nil {
		return 0, err
	}
	defer snap.release()
	n := 0
	for i, seg := range snap.set.segs {
		v := &snap.views[i]
		if m == nil {
			n += v.N - v.Deleted.Count()
			continue
		}
		err := eachMatch(ctx, m, seg, v, func(uint32) { n++ })
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// IDs returns the ids of the live points matching m, for operations that
// select points by filter.
func (c *Collection) IDs(ctx context.Context, m *filter.Matcher) ([]base.PointID, error) {
	snap, err := c.acquire(nil)
	if err != nil {
		return nil, err
	}
	defer snap.release()
	var ids []base.PointID
	for i, seg := range snap.set.segs {
		v := &snap.views[i]
		err := eachMatch(ctx, m, seg, v, func(off uint32) { ids = append(ids, v.IDs[off]) })
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// eachMatch calls fn with the offsets of v's live points matching m (all
// if m is nil), in offset order. With payload indexes answering the
// filter, it visits only the planner's candidates.
func eachMatch(ctx context.Context, m *filter.Matcher, seg *segment.Segment, v *segment.View, fn func(off uint32)) error {
	var p *filter.Plan
	if m != nil {
		p = m.Plan(seg.Source(v), v.N)
	}
	if p != nil && p.Candidates != nil {
		it := p.Candidates.Iterator()
		for i := 0; it.HasNext(); i++ {
			off := it.Next()
			if int(off) >= v.N {
				break
			}
			if i%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if v.Live(off) && (p.Exact || p.Check(off)) {
				fn(off)
			}
		}
		return nil
	}
	for off := 0; off < v.N; off++ {
		if off%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		o := uint32(off)
		if v.Live(o) && (p == nil || p.Check(o)) {
			fn(o)
		}
	}
	return nil
}

// planCheck returns m's per-offset test for view v of seg, nil for nil m.
func planCheck(m *filter.Matcher, seg *segment.Segment, v *segment.View) func(uint32) bool {
	if m == nil {
		return nil
	}
	return m.Plan(seg.Source(v), 0).Check
}

// Query is one nearest-neighbour search.
type Query struct {
	Vector []float32 // already normalised for Cosine
	Index  int       // schema index of the dense vector searched
	Limit  int
	Offset int
	// Threshold, if set, is the user-facing score threshold.
	Threshold *float32
	Filter    *filter.Matcher
	// Exact forces a full scan; otherwise indexed segments are searched
	// through their HNSW graph with beam width Ef (0: the collection's
	// ef_construct).
	Exact bool
	Ef    int
}

// parallelMin is the number of points below which a search runs on the
// calling goroutine alone: spawning workers costs more than it saves.
const parallelMin = 16384

type scanState struct {
	heaps   []flat.TopK
	scratch []float32
	accepts []func(uint32) bool
}

var scanPool = sync.Pool{New: func() any { return &scanState{scratch: make([]float32, flat.ChunkSize)} }}

type unit struct {
	seg    int
	lo, hi int
}

// Search runs queries exactly (a full scan) over every segment, in
// parallel across segments and across chunks of large segments, and
// returns for each query its hits best first.
func (c *Collection) Search(ctx context.Context, queries []Query, fetches []Fetch) ([][]Record, error) {
	snap, err := c.acquire(nil)
	if err != nil {
		return nil, err
	}
	defer snap.release()
	out := make([][]Record, len(queries))
	err = c.search(ctx, snap, queries, func(qi int, cands []flat.Candidate) {
		d := c.schema.Dense[queries[qi].Index].Distance
		res := make([]Record, 0, len(cands))
		for _, cd := range cands {
			r := c.materialize(&snap.views[cd.Tag], cd.Off, &fetches[qi])
			r.Score = flat.External(d, cd.Score)
			res = append(res, r)
		}
		out[qi] = res
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// search runs queries over snap and calls emit, in query order, with each
// query's hits: best first, after its offset and score threshold, with
// internal scores (Tag is the segment's index in snap). emit must not
// keep cands.
func (c *Collection) search(ctx context.Context, snap *snapshot, queries []Query, emit func(qi int, cands []flat.Candidate)) error {
	views := snap.views
	segs := snap.set.segs
	// The planner, per query and segment (index qi*len(segs)+si): with a
	// filter whose payload indexes bound the matching points to at most the
	// full-scan threshold, score exactly those (modeCandidates); otherwise
	// search the HNSW graph, checking the filter during the traversal, when
	// the segment has one and is large enough; otherwise scan it.
	ic := c.indexCfg.Load()
	modes := make([]searchMode, len(queries)*len(segs))
	plans := make([]*filter.Plan, len(queries)*len(segs))
	// exact[i]: for a graph search whose filter the payload indexes answer
	// exactly, the matching offsets (see denseAccept).
	exact := make([]*roaring.Bitmap, len(queries)*len(segs))
	flatNeeded := make([]bool, len(segs))
	for qi := range queries {
		q := &queries[qi]
		dim := c.schema.Dense[q.Index].Dim
		maxCand := max(1, ic.FullScanThresholdKB*1024/(dim*4))
		for si, seg := range segs {
			i := qi*len(segs) + si
			g, _ := seg.Graph(q.Index)
			useGraph := g != nil && !q.Exact && vectorKB(views[si].N, dim) >= ic.FullScanThresholdKB
			var p *filter.Plan
			if q.Filter != nil {
				// Without the graph, scoring the listed candidates beats a
				// scan of the whole segment at any size.
				limit := views[si].N
				if useGraph {
					limit = maxCand
				}
				p = q.Filter.Plan(seg.Source(&views[si]), limit)
				plans[i] = p
			}
			if p != nil && p.Candidates == nil && useGraph {
				refineEstimate(p, &views[si])
				// Few matches but no index to list them: a scan checks the
				// filter only for points scoring into the top k, and is
				// exact, where the graph would struggle to reach them.
				useGraph = p.Card.Exp > maxCand
			}
			switch {
			case p != nil && p.Candidates != nil:
				modes[i] = modeCandidates
			case useGraph:
				modes[i] = modeGraph
				if p != nil {
					if ex := q.Filter.Plan(seg.Source(&views[si]), views[si].N); ex.Exact && ex.Candidates != nil {
						exact[i] = ex.Candidates
					}
				}
			default:
				modes[i] = modeScan
				flatNeeded[si] = true
			}
		}
	}
	total := 0
	for i := range views {
		if flatNeeded[i] {
			total += views[i].N
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if total < parallelMin {
		workers = 1
	}
	unitSize := total / (workers * 4)
	unitSize = max(4096, min(unitSize, 65536))
	var units []unit
	for i := range views {
		if !flatNeeded[i] {
			continue
		}
		for lo := 0; lo < views[i].N; lo += unitSize {
			units = append(units, unit{seg: i, lo: lo, hi: min(lo+unitSize, views[i].N)})
		}
	}
	workers = max(1, min(workers, len(units)))

	metrics := make([]flat.Metric, len(queries))
	mins := make([]float32, len(queries))
	for qi := range queries {
		q := &queries[qi]
		d := c.schema.Dense[q.Index].Distance
		metrics[qi] = flat.MetricFor(d)
		mins[qi] = float32(math.Inf(-1))
		if q.Threshold != nil {
			mins[qi] = flat.Internal(d, *q.Threshold)
		}
	}
	// blk: vectors per cache block when a batch shares the scan (~256 KiB of
	// the widest searched vector), the whole unit for a single query.
	blk := unitSize
	if len(queries) > 1 {
		dim := 1
		for qi := range queries {
			dim = max(dim, len(queries[qi].Vector))
		}
		blk = max(flat.ChunkSize, (256<<10)/(dim*4)/flat.ChunkSize*flat.ChunkSize)
	}
	states := make([]*scanState, workers)
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	work := func(w int) {
		st := scanPool.Get().(*scanState)
		if cap(st.heaps) < len(queries) {
			st.heaps = make([]flat.TopK, len(queries))
		}
		st.heaps = st.heaps[:len(queries)]
		for qi := range queries {
			st.heaps[qi].Reset(queries[qi].Limit + queries[qi].Offset)
		}
		states[w] = st
		for {
			ui := int(next.Add(1) - 1)
			if ui >= len(units) {
				return
			}
			if err := ctx.Err(); err != nil {
				firstErr.CompareAndSwap(nil, &err)
				return
			}
			u := units[ui]
			v := &views[u.seg]
			if cap(st.accepts) < len(queries) {
				st.accepts = make([]func(uint32) bool, len(queries))
			}
			accepts := st.accepts[:len(queries)]
			for qi := range queries {
				accepts[qi] = acceptFunc(v, queries[qi].Index, plans[qi*len(segs)+u.seg])
			}
			// With several queries, scan block by block, every query over
			// each block while it is in the L2 cache, so a batch reads the
			// data from memory once instead of once per query.
			for lo := u.lo; lo < u.hi; lo += blk {
				hi := min(lo+blk, u.hi)
				for qi := range queries {
					if modes[qi*len(segs)+u.seg] != modeScan {
						continue
					}
					q := &queries[qi]
					flat.Scan(metrics[qi], q.Vector, v.Dense[q.Index], lo, hi, mins[qi], st.scratch, uint32(u.seg), accepts[qi], &st.heaps[qi])
				}
			}
			clear(accepts)
		}
	}
	if workers == 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() { defer wg.Done(); work(w) }()
		}
		wg.Wait()
	}
	defer func() {
		for _, st := range states {
			if st != nil {
				scanPool.Put(st)
			}
		}
	}()
	if p := firstErr.Load(); p != nil {
		return *p
	}
	graphTasks, err := c.searchSegments(ctx, queries, segs, views, modes, plans, exact, mins, ic.EfConstruct)
	if err != nil {
		return err
	}
	var cands []flat.Candidate
	for qi := range queries {
		q := &queries[qi]
		h := &states[0].heaps[qi]
		for _, st := range states[1:] {
			h.Merge(&st.heaps[qi])
		}
		for _, t := range graphTasks {
			if t.qi != qi {
				continue
			}
			for _, cd := range t.res {
				if cd.Score >= mins[qi] {
					h.Push(cd)
				}
			}
		}
		cands = h.Drain(cands[:0])
		hits := cands[min(q.Offset, len(cands)):]
		if q.Threshold != nil {
			d := c.schema.Dense[q.Index].Distance
			for i, cd := range hits {
				if !flat.Passes(d, flat.External(d, cd.Score), *q.Threshold) {
					hits = hits[:i] // candidates are best first
					break
				}
			}
		}
		emit(qi, hits)
	}
	return nil
}

// sampleSize is the number of points refineEstimate checks.
const sampleSize = 64

// refineEstimate narrows an uncertain cardinality estimate (conditions on
// keys without a payload index) by checking the filter on an evenly
// spread sample of v's points; it sets p.Card.Exp.
func refineEstimate(p *filter.Plan, v *segment.View) {
	n := v.N
	if n < 4*sampleSize || p.Card.Max-p.Card.Min <= n/8 {
		return
	}
	hits, live := 0, 0
	for i := 0; i < sampleSize; i++ {
		off := uint32(i*n/sampleSize + (i*7919)%(n/sampleSize))
		if !v.Live(off) {
			continue
		}
		live++
		if p.Check(off) {
			hits++
		}
	}
	if live == 0 {
		return
	}
	exp := int(int64(hits) * int64(n) / int64(live))
	p.Card.Exp = min(max(exp, p.Card.Min), p.Card.Max)
}

// searchMode is how one query searches one segment.
type searchMode uint8

const (
	modeScan       searchMode = iota // exact scan of every point
	modeGraph                        // HNSW graph, filter checked in the traversal
	modeCandidates                   // exact scoring of the planner's candidates
)

// graphTask is one query's search of one segment by graph or candidates.
type graphTask struct {
	qi, si int
	res    []flat.Candidate
}

// searchSegments runs every (query, segment) search that is not a scan;
// with more than one, they run in parallel across GOMAXPROCS goroutines,
// each being sequential and short.
func (c *Collection) searchSegments(ctx context.Context, queries []Query, segs []*segment.Segment, views []segment.View, modes []searchMode, plans []*filter.Plan, exact []*roaring.Bitmap, mins []float32, defaultEf int) ([]graphTask, error) {
	var tasks []graphTask
	for qi := range queries {
		for si := range segs {
			if modes[qi*len(segs)+si] != modeScan {
				tasks = append(tasks, graphTask{qi: qi, si: si})
			}
		}
	}
	run := func(t *graphTask) {
		q := &queries[t.qi]
		i := t.qi*len(segs) + t.si
		k := q.Limit + q.Offset
		p := plans[i]
		v := &views[t.si]
		if modes[i] == modeCandidates {
			t.res = c.scoreCandidates(q, v, p, uint32(t.si), k, mins[t.qi])
			return
		}
		ef := q.Ef
		if ef <= 0 {
			ef = defaultEf
		}
		ef = max(ef, k)
		accept := acceptFunc(v, q.Index, p)
		if ex := exact[i]; ex != nil {
			words := densePool.Get().(*[]uint64)
			defer densePool.Put(words)
			accept = denseAccept(ex, v, q.Index, words)
		}
		out := make([]flat.Candidate, 0, k)
		if p != nil {
			sel := 1.0
			if v.N > 0 {
				sel = min(1, max(float64(p.Card.Exp), 1)/float64(v.N))
			}
			t.res, _ = segs[t.si].SearchGraphFiltered(q.Index, q.Vector, k, ef, uint32(t.si), accept, sel, out)
			return
		}
		t.res, _ = segs[t.si].SearchGraph(q.Index, q.Vector, k, ef, uint32(t.si), accept, out)
	}
	workers := min(runtime.GOMAXPROCS(0), len(tasks))
	if workers <= 1 {
		for i := range tasks {
			run(&tasks[i])
		}
		return tasks, ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(tasks) || ctx.Err() != nil {
					return
				}
				run(&tasks[i])
			}
		}()
	}
	wg.Wait()
	return tasks, ctx.Err()
}

// scoreCandidates scores exactly the planner's candidates of view v that
// are live, have the vector and pass the filter; it returns the best k
// with internal scores >= min.
func (c *Collection) scoreCandidates(q *Query, v *segment.View, p *filter.Plan, tag uint32, k int, min float32) []flat.Candidate {
	spec := c.schema.Dense[q.Index]
	metric := flat.MetricFor(spec.Distance)
	var h flat.TopK
	h.Reset(k)
	it := p.Candidates.Iterator()
	for it.HasNext() {
		off := it.Next()
		if int(off) >= v.N {
			break // appended after the view was taken
		}
		if !v.Live(off) || !v.HasVector(q.Index, off) || (!p.Exact && !p.Check(off)) {
			continue
		}
		if s := flat.Score(metric, q.Vector, v.Vector(q.Index, spec.Dim, off)); s >= min {
			h.Push(flat.Candidate{Score: s, Tag: tag, Off: off})
		}
	}
	return h.Drain(nil)
}

// densePool recycles denseAccept's bitsets.
var densePool = sync.Pool{New: func() any { return new([]uint64) }}

// denseAccept returns the accept check of a graph search whose filter
// matches exactly the offsets of bm: one bitset of the offsets that match,
// are live and have vector vi, built in *buf, so that each of the many
// checks of a filtered traversal is a single bit test instead of the
// plan's per-leaf index lookups (measured: the checks were about 40% of a
// 10%-selective search on fashion-mnist). Converting the bitmap costs a
// copy of its bitmap containers, a few microseconds for a million points.
func denseAccept(bm *roaring.Bitmap, v *segment.View, vi int, buf *[]uint64) func(off uint32) bool {
	n := (v.N + 63) / 64
	words := *buf
	if cap(words) < n {
		words = make([]uint64, n)
	}
	words = words[:n]
	clear(words)
	if int(bm.DenseSize()) <= n {
		bm.WriteDenseTo(words)
	} else { // offsets beyond the view (appended since): not in it
		it := bm.Iterator()
		for it.HasNext() {
			off := it.Next()
			if int(off) >= v.N {
				break
			}
			words[off>>6] |= 1 << (off & 63)
		}
	}
	v.Deleted.Each(func(off uint32) bool {
		if int(off) < v.N {
			words[off>>6] &^= 1 << (off & 63)
		}
		return true
	})
	if p := v.Present[vi]; p != nil {
		pw := p.Words()
		for i := range words {
			if i < len(pw) {
				words[i] &= pw[i]
			} else {
				words[i] = 0
			}
		}
	}
	*buf = words
	return func(off uint32) bool { return words[off>>6]&(1<<(off&63)) != 0 }
}

// acceptFunc returns the check a candidate of view v must pass for a query
// on dense vector vi with filter plan p: live, having the vector, matching
// the filter. It returns nil (accept all) when nothing could be rejected,
// so the common unfiltered search pays no call per candidate.
func acceptFunc(v *segment.View, vi int, p *filter.Plan) func(off uint32) bool {
	switch {
	case p != nil:
		check := p.Check
		return func(off uint32) bool {
			return v.Live(off) && v.HasVector(vi, off) && check(off)
		}
	case v.Present[vi] != nil || !v.Deleted.Empty():
		return func(off uint32) bool { return v.Live(off) && v.HasVector(vi, off) }
	}
	return nil
}
