package collection

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/segment"
)

// Reader is one point-in-time snapshot of the collection held across the
// stages of a multi-stage read (the root package's universal query:
// prefetches, rescoring, fusion, grouping), so that every stage sees the
// same points and a later stage can address the points an earlier one
// found by their location instead of looking their ids up again. Close
// releases the snapshot; a Reader is not safe for concurrent use, but the
// parallel work of its methods is internal.
type Reader struct {
	c    *Collection
	snap *snapshot
}

// Loc is a point of a Reader's snapshot: the index of its segment in the
// snapshot and its offset there. It is meaningful only to that Reader.
type Loc struct {
	Seg uint32
	Off uint32
}

// Hit is a point of a Reader's snapshot with a score.
type Hit struct {
	Loc
	Score float32
}

// NewReader takes a snapshot and, under the same lock (so that the result
// agrees with the snapshot), looks up the live points of ids: locs[i] is
// the point ids[i], valid when found[i].
func (c *Collection) NewReader(ids []base.PointID) (r *Reader, locs []Loc, found []bool, err error) {
	locs = make([]Loc, len(ids))
	found = make([]bool, len(ids))
	snap, err := c.acquire(func(set *segSet) {
		for i, id := range ids {
			if _, si, off, ok := set.find(id); ok {
				locs[i], found[i] = Loc{Seg: uint32(si), Off: off}, true
			}
		}
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return &Reader{c: c, snap: snap}, locs, found, nil
}

// Close releases the snapshot. Slices returned by Vector and Payload must
// not be used afterwards.
func (r *Reader) Close() {
	if r.snap != nil {
		r.snap.release()
		r.snap = nil
	}
}

// ID returns the id of the point at l.
func (r *Reader) ID(l Loc) base.PointID { return r.snap.views[l.Seg].IDs[l.Off] }

// Vector returns dense vector vi of the point at l, nil if the point has
// none. The slice aliases segment memory: read only, and only until Close.
func (r *Reader) Vector(vi int, l Loc) []float32 {
	return r.snap.views[l.Seg].Vector(vi, r.c.schema.Dense[vi].Dim, l.Off)
}

// Payload returns the JSON payload of the point at l (nil if it has none),
// aliasing segment memory like Vector.
func (r *Reader) Payload(l Loc) []byte { return r.snap.views[l.Seg].Payload(l.Off) }

// Records copies out what f selects of the points of hits, in order, with
// their scores.
func (r *Reader) Records(hits []Hit, f Fetch) []Record {
	out := make([]Record, len(hits))
	for i, h := range hits {
		out[i] = r.c.materialize(&r.snap.views[h.Seg], h.Off, &f)
		out[i].Score = h.Score
	}
	return out
}

// Search runs nearest-neighbour queries over the snapshot exactly as
// Collection.Search does (one pass over the data for the whole batch) and
// returns each query's hits best first with user-facing scores
// (similarities, or distances for Euclid and Manhattan).
func (r *Reader) Search(ctx context.Context, queries []Query) ([][]Hit, error) {
	out := make([][]Hit, len(queries))
	err := r.c.search(ctx, r.snap, queries, func(qi int, cands []flat.Candidate) {
		d := r.c.schema.Dense[queries[qi].Index].Distance
		hits := make([]Hit, len(cands))
		for i, cd := range cands {
			hits[i] = Hit{Loc: Loc{Seg: cd.Tag, Off: cd.Off}, Score: flat.External(d, cd.Score)}
		}
		out[qi] = hits
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Scroll returns up to limit live points matching m (all if m is nil) in
// id order, each with score 0.
func (r *Reader) Scroll(ctx context.Context, m *filter.Matcher, limit int) ([]Hit, error) {
	hits, err := r.snap.scroll(ctx, m, nil, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Hit, len(hits))
	for i, h := range hits {
		out[i] = Hit{Loc: h.loc}
	}
	return out, nil
}

// ScoreFunc scores a stored vector for Scan: higher is better. It must be
// safe for concurrent use.
type ScoreFunc func(v []float32) float32

// Scan scores, with score, every live point of the snapshot that has dense
// vector vi and matches m (all if m is nil), and returns the best k whose
// score is at least floor, best first (ties by location). It is exact: no
// graph is used. The work is split across GOMAXPROCS goroutines like a
// search's scan; where payload indexes bound the points matching m, only
// those are scored.
func (r *Reader) Scan(ctx context.Context, vi int, m *filter.Matcher, k int, floor float32, score ScoreFunc) ([]Hit, error) {
	views := r.snap.views
	segs := r.snap.set.segs
	dim := r.c.schema.Dense[vi].Dim
	type task struct {
		seg    int
		lo, hi int
		plan   *filter.Plan
	}
	var tasks []task
	total := 0
	for si, seg := range segs {
		v := &views[si]
		var p *filter.Plan
		if m != nil {
			p = m.Plan(seg.Source(v), v.N)
		}
		if p != nil && p.Candidates != nil {
			tasks = append(tasks, task{seg: si, plan: p})
			continue
		}
		total += v.N
		for lo := 0; lo < v.N; lo += scanUnit {
			tasks = append(tasks, task{seg: si, lo: lo, hi: min(lo+scanUnit, v.N), plan: p})
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if total < parallelMin {
		workers = 1
	}
	workers = max(1, min(workers, len(tasks)))
	heaps := make([]flat.TopK, workers)
	var next atomic.Int64
	var firstErr atomic.Pointer[error]
	work := func(w int) {
		h := &heaps[w]
		h.Reset(k)
		offer := func(v *segment.View, p *filter.Plan, si int, off uint32, checked bool) {
			vec := v.Vector(vi, dim, off)
			if vec == nil {
				return
			}
			s := score(vec)
			if s < floor || (h.Full() && s <= h.Worst()) {
				return
			}
			if p != nil && !checked && !p.Check(off) {
				return
			}
			h.Push(flat.Candidate{Score: s, Tag: uint32(si), Off: off})
		}
		for {
			ti := int(next.Add(1) - 1)
			if ti >= len(tasks) {
				return
			}
			if err := ctx.Err(); err != nil {
				firstErr.CompareAndSwap(nil, &err)
				return
			}
			t := tasks[ti]
			v := &views[t.seg]
			if t.plan != nil && t.plan.Candidates != nil {
				it := t.plan.Candidates.Iterator()
				for it.HasNext() {
					off := it.Next()
					if int(off) >= v.N {
						break // appended after the snapshot
					}
					if v.Live(off) {
						offer(v, t.plan, t.seg, off, t.plan.Exact)
					}
				}
				continue
			}
			for off := t.lo; off < t.hi; off++ {
				if v.Live(uint32(off)) {
					offer(v, t.plan, t.seg, uint32(off), false)
				}
			}
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
	if p := firstErr.Load(); p != nil {
		return nil, *p
	}
	h := &heaps[0]
	for w := 1; w < workers; w++ {
		h.Merge(&heaps[w])
	}
	cands := h.Drain(nil)
	out := make([]Hit, len(cands))
	for i, cd := range cands {
		out[i] = Hit{Loc: Loc{Seg: cd.Tag, Off: cd.Off}, Score: cd.Score}
	}
	return out, nil
}

// scanUnit is the number of points one task of Scan covers.
const scanUnit = 4096
