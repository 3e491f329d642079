package hnsw

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/vector"
)

// ctxPollEvery is how many insertions a build worker makes between checks
// of its context.
const ctxPollEvery = 64

// Build indexes the points whose offsets are in offs over data (vector i is
// data[i*dim:(i+1)*dim]); the graph covers offsets < n = len(data)/dim.
// Duplicate offsets are indexed once; an offset >= n is an invalid argument.
// It inserts with threads goroutines (the first point alone; see builder
// for the per-node writer locks, lock-free readers and the entry point's
// global lock), polls ctx every few insertions and returns its error if ctx
// is done before the graph is complete. The graph's arrays are allocated
// once, up front. With threads = 1 and a fixed Seed the graph is
// deterministic. The graph keeps data (it does not copy it).
func Build(ctx context.Context, p Params, m flat.Metric, dim int, data []float32, offs []uint32, threads int) (*Graph, error) {
	p.EnsureDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	if m > flat.MetricL1 {
		return nil, base.InvalidArgumentf("hnsw: unknown metric %d", m)
	}
	if dim <= 0 || len(data)%dim != 0 {
		return nil, base.InvalidArgumentf("hnsw: %d floats are not a whole number of %d-dimensional vectors", len(data), dim)
	}
	n := len(data) / dim
	if uint64(n) >= uint64(noEntry) {
		return nil, base.InvalidArgumentf("hnsw: %d vectors exceed the uint32 offset space", n)
	}
	g := &Graph{
		metric:   m,
		dim:      dim,
		data:     data[: n*dim : n*dim],
		n:        n,
		m:        p.M,
		entry:    noEntry,
		levels:   make([]uint8, n),
		layer0:   make([]uint32, n*(2*p.M+1)),
		upStart:  make([]uint32, n),
		maxLevel: 0,
	}
	for i := range g.levels {
		g.levels[i] = notIndexed
	}

	// Draw levels in offs order from the seeded generator, so the levels do
	// not depend on the schedule, and lay out the upper blocks.
	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	mult := 1 / math.Log(float64(p.M))
	order := make([]uint32, 0, len(offs))
	blocks := 0
	for _, off := range offs {
		if int(off) >= n {
			return nil, base.InvalidArgumentf("hnsw: offset %d is outside the %d vectors", off, n)
		}
		if g.levels[off] != notIndexed {
			continue // duplicate
		}
		lv := int(-math.Log(1-rng.Float64()) * mult)
		lv = min(lv, maxLevel)
		g.levels[off] = uint8(lv)
		if lv > 0 {
			g.upStart[off] = uint32(blocks)
			blocks += lv
		}
		order = append(order, off)
	}
	g.upper = make([]uint32, blocks*(p.M+1))
	g.nodes = len(order)
	if len(order) == 0 {
		return g, nil
	}

	b := &builder{
		g:     g,
		efC:   max(p.EfConstruction, p.M),
		locks: make([]sync.Mutex, n),
	}
	first := order[0]
	g.entry, g.maxLevel = first, int(g.levels[first])
	rest := order[1:]
	threads = max(1, min(threads, len(rest)))
	var next atomic.Int64
	var failed atomic.Bool
	work := func(w *worker) error {
		for done := 0; ; done++ {
			if done%ctxPollEvery == 0 {
				if failed.Load() {
					return nil
				}
				if err := ctx.Err(); err != nil {
					failed.Store(true)
					return err
				}
			}
			i := next.Add(1) - 1
			if i >= int64(len(rest)) {
				return nil
			}
			w.insert(rest[i])
		}
	}
	if threads == 1 {
		if err := work(b.newWorker()); err != nil {
			return nil, err
		}
	} else {
		errs := make([]error, threads)
		var wg sync.WaitGroup
		for t := range threads {
			wg.Go(func() { errs[t] = work(b.newWorker()) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	}
	b.newWorker().connectUnreachable()
	g.clearTails()
	return g, nil
}

// connectUnreachable links into layer 0 every node that a walk from the
// entry point cannot reach, so that searches can find it. Pruning full
// lists can drop a node from all of them (0.2% of fashion-mnist's nodes,
// 0.01% of glove-100's with M=16, efConstruction=200), or leave a few
// nodes linked only among themselves, and such nodes are never returned;
// the paper's algorithm and hnswlib leave them so. Each unreached node is
// searched for like a new node, and added to the list of the nearest
// reached node that has room, or else replaces the farthest entry of the
// nearest one's list whose node has another in-link; a few passes settle
// the rare case where that replacement strands another node. It runs
// after the insertions, single-threaded, and costs one search per
// unreached node.
func (w *worker) connectUnreachable() {
	g := w.g
	reached := make([]bool, g.n)
	indeg := make([]uint32, g.n)
	var stack []uint32
	// walk marks what is reachable from o.
	walk := func(o uint32) {
		reached[o] = true
		stack = append(stack[:0], o)
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			row := g.row(x, 0)
			for _, nb := range row[1 : 1+row[0]] {
				if !reached[nb] {
					reached[nb] = true
					stack = append(stack, nb)
				}
			}
		}
	}
	for pass := 0; pass < 4; pass++ {
		clear(reached)
		clear(indeg)
		walk(g.entry)
		missing := 0
		for off, lv := range g.levels {
			if lv == notIndexed {
				continue
			}
			if !reached[off] {
				missing++
			}
			row := g.row(uint32(off), 0)
			for _, nb := range row[1 : 1+row[0]] {
				indeg[nb]++
			}
		}
		if missing == 0 {
			return
		}
		for off, lv := range g.levels {
			o := uint32(off)
			if lv == notIndexed || reached[o] {
				continue
			}
			if w.linkFromReached(o, reached, indeg) {
				walk(o)
			}
		}
	}
}

// linkFromReached finds the reached nodes nearest to o and adds o to one
// of their lists (see connectUnreachable); it reports whether it did.
func (w *worker) linkFromReached(o uint32, reached []bool, indeg []uint32) bool {
	g := w.g
	vo := g.vec(o)
	ep := g.entry
	epd := g.dist(vo, g.vec(ep))
	for l := g.maxLevel; l > 0; l-- {
		ep, epd = w.greedy(vo, ep, epd, l)
	}
	w.searchLayer(o, vo, ep, epd, 0)
	w.sorted = append(w.sorted[:0], w.res.a...)
	slices.Sort(w.sorted)
	for _, c := range w.sorted {
		e := uint32(c)
		if er := g.row(e, 0); reached[e] && int(er[0]) < 2*g.m {
			er[1+er[0]] = o
			er[0]++
			indeg[o]++
			return true
		}
	}
	for _, c := range w.sorted {
		e := uint32(c)
		if !reached[e] {
			continue
		}
		er := g.row(e, 0)
		enb := er[1 : 1+er[0]]
		ds := w.ds[:len(enb)]
		g.dists(g.vec(e), enb, ds)
		worst := -1
		for i, x := range enb {
			if indeg[x] > 1 && (worst < 0 || ds[i] > ds[worst]) {
				worst = i
			}
		}
		if worst >= 0 {
			indeg[enb[worst]]--
			enb[worst] = o
			indeg[o]++
			return true
		}
	}
	return false
}

// clearTails zeroes the slots past each row's count, left behind when rows
// were pruned, so that equal graphs encode to equal bytes.
func (g *Graph) clearTails() {
	for _, rows := range []struct {
		a      []uint32
		stride int
	}{{g.layer0, g.stride0()}, {g.upper, g.strideUp()}} {
		for i := 0; i < len(rows.a); i += rows.stride {
			row := rows.a[i : i+rows.stride]
			clear(row[1+row[0]:])
		}
	}
}

// builder is the state shared by the insertion workers.
type builder struct {
	g   *Graph
	efC int
	// locks[off] serialises the writers of off's rows on every layer. A
	// worker holds at most one of them at a time, after epMu if it holds
	// that.
	//
	// Readers take no lock: while the graph is built every row slot and
	// count is read with atomic.LoadUint32 and written with
	// atomic.StoreUint32 (typed atomics cannot alias the flat []uint32 rows
	// that become the immutable graph). A writer stores the slots before
	// the count, and a slot only ever holds ids of indexed nodes (rows are
	// not cleared while the graph is built), so a reader racing with a
	// writer sees a mix of the old and new lists: valid nodes, fine for a
	// search that is approximate anyway. Build zeroes the unused tails at
	// the end.
	locks []sync.Mutex
	// epMu guards g.entry and g.maxLevel. An insertion that raises the top
	// level holds it to the end, so that levels above the old top are
	// linked before anyone enters through them.
	epMu sync.Mutex
}

// worker is one insertion goroutine's scratch.
type worker struct {
	b        *builder
	g        *Graph
	visited  []uint32
	gen      uint32
	cand     minHeap
	res      maxHeap
	sorted   []uint64    // search results, closest first
	newSel   []uint64    // the new node's selected neighbours
	prune    []uint64    // a full row plus the new node, being re-pruned
	pruneSel []uint64    // what the re-pruning keeps
	ids      []uint32    // unvisited neighbours of the node being expanded
	ds       []float32   // their distances
	selVec   [][]float32 // vectors of the neighbours selected so far
}

func (b *builder) newWorker() *worker {
	w := 2*b.g.m + 1
	return &worker{
		b:        b,
		g:        b.g,
		visited:  make([]uint32, b.g.n),
		ids:      make([]uint32, w),
		ds:       make([]float32, w),
		selVec:   make([][]float32, 0, w),
		sorted:   make([]uint64, 0, max(b.efC, w)),
		newSel:   make([]uint64, 0, w),
		prune:    make([]uint64, 0, w+1),
		pruneSel: make([]uint64, 0, w),
	}
}

// insert links q into the graph (Algorithm 1 of the paper).
func (w *worker) insert(q uint32) {
	g, b := w.g, w.b
	level := int(g.levels[q])
	b.epMu.Lock()
	ep, top := g.entry, g.maxLevel
	hold := level > top
	if !hold {
		b.epMu.Unlock()
	}

	vq := g.vec(q)
	epd := g.dist(vq, g.vec(ep))
	for l := top; l > level; l-- {
		ep, epd = w.greedy(vq, ep, epd, l)
	}
	for l := min(level, top); l >= 0; l-- {
		w.searchLayer(q, vq, ep, epd, l)
		w.sorted = append(w.sorted[:0], w.res.a...)
		slices.Sort(w.sorted)
		w.newSel = w.selectNeighbors(w.sorted, g.m, w.newSel[:0])

		b.locks[q].Lock()
		row := g.row(q, l)
		for i, k := range w.newSel {
			atomic.StoreUint32(&row[1+i], uint32(k))
		}
		atomic.StoreUint32(&row[0], uint32(len(w.newSel)))
		b.locks[q].Unlock()

		mMax := g.m
		if l == 0 {
			mMax = 2 * g.m
		}
		for _, k := range w.newSel {
			w.link(uint32(k), q, keyDist(k), l, mMax)
		}
		ep, epd = uint32(w.sorted[0]), keyDist(w.sorted[0])
	}
	if hold {
		g.entry, g.maxLevel = q, level
		b.epMu.Unlock()
	}
}

// next starts a new visited generation.
func (w *worker) next() {
	w.gen++
	if w.gen == 0 {
		clear(w.visited)
		w.gen = 1
	}
}

// neighbours copies off's layer-l neighbours into w.ids (without a lock,
// see builder.locks): all of them, or with mark those not yet visited
// (marking them).
func (w *worker) neighbours(off uint32, l int, mark bool) []uint32 {
	row := w.g.row(off, l)
	cnt := min(int(atomic.LoadUint32(&row[0])), len(row)-1)
	nb := row[1 : 1+cnt]
	ids := w.ids[:cnt]
	m := 0
	if mark {
		gen, visited := w.gen, w.visited
		for i := range nb {
			o := atomic.LoadUint32(&nb[i])
			seen := visited[o] == gen // branch-free, as in searchLayer0
			visited[o] = gen
			ids[m] = o
			m += int(b2u(!seen))
		}
	} else {
		for i := range nb {
			ids[i] = atomic.LoadUint32(&nb[i])
		}
		m = cnt
	}
	return ids[:m]
}

// greedy is Graph.greedy on the graph being built.
func (w *worker) greedy(vq []float32, ep uint32, epd float32, l int) (uint32, float32) {
	for {
		ids := w.neighbours(ep, l, false)
		vector.PrefetchRows(w.g.data, w.g.dim, ids, prefetchVecLines)
		ds := w.ds[:len(ids)]
		w.g.dists(vq, ids, ds)
		best, bestd := ep, epd
		for i, d := range ds {
			if d < bestd {
				best, bestd = ids[i], d
			}
		}
		if best == ep {
			return ep, epd
		}
		ep, epd = best, bestd
	}
}

// searchLayer runs the beam search of width efC on layer l from ep and
// leaves the nearest nodes in w.res. q itself is never a result.
func (w *worker) searchLayer(q uint32, vq []float32, ep uint32, epd float32, l int) {
	g, ef := w.g, w.b.efC
	w.next()
	w.visited[q] = w.gen
	w.visited[ep] = w.gen
	cand, res := &w.cand, &w.res
	cand.reset()
	res.reset()
	k0 := key(epd, ep)
	cand.push(k0)
	res.push(k0)
	for cand.len() > 0 {
		c := cand.top()
		if res.len() >= ef && c > res.top() {
			break
		}
		cand.pop()
		ids := w.neighbours(uint32(c), l, true)
		if len(ids) == 0 {
			continue
		}
		vector.PrefetchRows(g.data, g.dim, ids, prefetchVecLines)
		if l == 0 && cand.len() > 0 {
			next := [1]uint32{uint32(cand.top())}
			vector.PrefetchUint32Rows(g.layer0, g.stride0(), next[:], prefetchRowLines)
		}
		ds := w.ds[:len(ids)]
		g.dists(vq, ids, ds)
		for j, d := range ds {
			kk := key(d, ids[j])
			if res.len() >= ef {
				if kk >= res.top() {
					continue
				}
				res.replaceTop(kk)
			} else {
				res.push(kk)
			}
			cand.push(kk)
		}
	}
}

// selectNeighbors applies the neighbour-selection heuristic (Algorithm 4 of
// the paper, without extending or keeping pruned candidates) to cands,
// sorted closest first by distance to the base point: a candidate is kept
// only if it is closer to the base point than to every neighbour kept
// before it, until mMax are kept. The kept keys are appended to sel.
func (w *worker) selectNeighbors(cands []uint64, mMax int, sel []uint64) []uint64 {
	if len(cands) <= mMax {
		return append(sel, cands...)
	}
	g := w.g
	selVec := w.selVec[:0]
	for _, c := range cands {
		if len(selVec) >= mMax {
			break
		}
		v, d := g.vec(uint32(c)), keyDist(c)
		keep := true
		for _, sv := range selVec {
			if g.dist(v, sv) < d {
				keep = false
				break
			}
		}
		if keep {
			sel = append(sel, c)
			selVec = append(selVec, v)
		}
	}
	clear(selVec) // drop references to the vectors
	w.selVec = selVec[:0]
	return sel
}

// link adds q, at distance d, to e's layer-l neighbours. When the row is
// full, the row plus q is pruned back to mMax with the heuristic.
func (w *worker) link(e, q uint32, d float32, l, mMax int) {
	g := w.g
	mu := &w.b.locks[e]
	mu.Lock()
	defer mu.Unlock()
	row := g.row(e, l)
	cnt := int(row[0]) // only writers, who hold the lock, store counts
	if cnt < mMax {
		atomic.StoreUint32(&row[1+cnt], q)
		atomic.StoreUint32(&row[0], uint32(cnt+1))
		return
	}
	nb := row[1 : 1+cnt]
	ds := w.ds[:cnt]
	g.dists(g.vec(e), nb, ds)
	cands := w.prune[:0]
	for i, o := range nb {
		cands = append(cands, key(ds[i], o))
	}
	cands = append(cands, key(d, q))
	slices.Sort(cands)
	sel := w.selectNeighbors(cands, mMax, w.pruneSel[:0])
	for i, k := range sel {
		atomic.StoreUint32(&row[1+i], uint32(k))
	}
	atomic.StoreUint32(&row[0], uint32(len(sel)))
	w.prune, w.pruneSel = cands, sel
}
