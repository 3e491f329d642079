package collection

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

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
	type hit struct {
		id  base.PointID
		seg int
		off uint32
	}
	var hits []hit
	views := snap.views
	for si, seg := range snap.set.segs {
		v := &views[si]
		n := 0
		var cerr error
		seg.AscendFrom(v, from, func(off uint32) bool {
			if n%1024 == 0 {
				if cerr = ctx.Err(); cerr != nil {
					return false
				}
			}
			if !m.Match(v.IDs[off], v.Payload(off)) {
				return true
			}
			hits = append(hits, hit{v.IDs[off], si, off})
			n++
			return n <= limit
		})
		if cerr != nil {
			return nil, nil, cerr
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.id.Compare(b.id) })
	var next *base.PointID
	if len(hits) > limit {
		id := hits[limit].id
		next = &id
		hits = hits[:limit]
	}
	out := make([]Record, len(hits))
	for i, h := range hits {
		out[i] = c.materialize(&views[h.seg], h.off, &f)
	}
	return out, next, nil
}

// Count returns the number of live points matching m (all if m is nil).
func (c *Collection) Count(ctx context.Context, m *filter.Matcher) (int, error) {
	snap, err := c.acquire(nil)
	if err != nil {
		return 0, err
	}
	defer snap.release()
	n := 0
	for i := range snap.views {
		v := &snap.views[i]
		if m == nil {
			n += v.N - v.Deleted.Count()
			continue
		}
		for off := 0; off < v.N; off++ {
			if off%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return 0, err
				}
			}
			o := uint32(off)
			if v.Live(o) && m.Match(v.IDs[o], v.Payload(o)) {
				n++
			}
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
	for i := range snap.views {
		v := &snap.views[i]
		for off := 0; off < v.N; off++ {
			if off%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			o := uint32(off)
			if v.Live(o) && m.Match(v.IDs[o], v.Payload(o)) {
				ids = append(ids, v.IDs[o])
			}
		}
	}
	return ids, nil
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
	views := snap.views
	segs := snap.set.segs
	// useGraph[qi*len(segs)+si]: query qi searches segment si's graph.
	ic := c.indexCfg.Load()
	useGraph := make([]bool, len(queries)*len(segs))
	flatNeeded := make([]bool, len(segs))
	for qi := range queries {
		q := &queries[qi]
		for si, seg := range segs {
			g, _ := seg.Graph(q.Index)
			if g != nil && !q.Exact && vectorKB(views[si].N, c.schema.Dense[q.Index].Dim) >= ic.FullScanThresholdKB {
				useGraph[qi*len(segs)+si] = true
			} else {
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
				accepts[qi] = acceptFunc(v, queries[qi].Index, queries[qi].Filter)
			}
			// With several queries, scan block by block, every query over
			// each block while it is in the L2 cache, so a batch reads the
			// data from memory once instead of once per query.
			for lo := u.lo; lo < u.hi; lo += blk {
				hi := min(lo+blk, u.hi)
				for qi := range queries {
					if useGraph[qi*len(segs)+u.seg] {
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
		return nil, *p
	}
	graphTasks, err := c.searchGraphs(ctx, queries, segs, views, useGraph, ic.EfConstruct)
	if err != nil {
		return nil, err
	}
	out := make([][]Record, len(queries))
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
		if q.Offset >= len(cands) {
			out[qi] = []Record{}
			continue
		}
		cands = cands[q.Offset:]
		res := make([]Record, 0, len(cands))
		d := c.schema.Dense[q.Index].Distance
		for _, cd := range cands {
			score := flat.External(d, cd.Score)
			if q.Threshold != nil && !flat.Passes(d, score, *q.Threshold) {
				break // candidates are best first
			}
			r := c.materialize(&views[cd.Tag], cd.Off, &fetches[qi])
			r.Score = score
			res = append(res, r)
		}
		out[qi] = res
	}
	return out, nil
}

// graphTask is one query's search of one segment's HNSW graph.
type graphTask struct {
	qi, si int
	res    []flat.Candidate
}

// searchGraphs runs every (query, segment) graph search; with more than
// one, they run in parallel across GOMAXPROCS goroutines, each graph search
// being sequential and short.
func (c *Collection) searchGraphs(ctx context.Context, queries []Query, segs []*segment.Segment, views []segment.View, useGraph []bool, defaultEf int) ([]graphTask, error) {
	var tasks []graphTask
	for qi := range queries {
		for si := range segs {
			if useGraph[qi*len(segs)+si] {
				tasks = append(tasks, graphTask{qi: qi, si: si})
			}
		}
	}
	run := func(t *graphTask) {
		q := &queries[t.qi]
		k := q.Limit + q.Offset
		ef := q.Ef
		if ef <= 0 {
			ef = defaultEf
		}
		ef = max(ef, k)
		accept := acceptFunc(&views[t.si], q.Index, q.Filter)
		t.res, _ = segs[t.si].SearchGraph(q.Index, q.Vector, k, ef, uint32(t.si), accept, make([]flat.Candidate, 0, k))
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

// acceptFunc returns the check a candidate of view v must pass for a query
// on dense vector vi with filter m: live, having the vector, matching the
// filter. It returns nil (accept all) when nothing could be rejected, so
// the common unfiltered search pays no call per candidate.
func acceptFunc(v *segment.View, vi int, m *filter.Matcher) func(off uint32) bool {
	switch {
	case m != nil:
		return func(off uint32) bool {
			return v.Live(off) && v.HasVector(vi, off) && m.Match(v.IDs[off], v.Payload(off))
		}
	case v.Present[vi] != nil || !v.Deleted.Empty():
		return func(off uint32) bool { return v.Live(off) && v.HasVector(vi, off) }
	}
	return nil
}
