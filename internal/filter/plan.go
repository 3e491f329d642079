package filter

import (
	"cmp"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
)

// Plan is a filter prepared for one segment.
type Plan struct {
	// Card estimates the number of matching offsets in [0, src.Len()); it
	// is exact (Min == Exp == Max) when Exact is set.
	Card Cardinality
	// Candidates, if non-nil, is a superset of the matching offsets, all
	// below src.Len() (exactly the matching offsets if Exact). It may be
	// shared with a field index: callers must not modify it.
	Candidates *roaring.Bitmap
	Exact      bool
	// Check is the full test of one offset. It uses index checkers for the
	// leaves an index answers and reads the payload (decoded at most once
	// per call) for the rest; it allocates nothing when no payload is read.
	// It is safe for concurrent use.
	Check func(off uint32) bool
}

// OffsetSource is a Source that can also find a point's offset by id, as
// a segment's id tracker does. With it, the planner turns has_id into an
// exact bitmap; with a plain Source, has_id is tested per offset. Offset
// returns the offset of the live version of id; offsets of deleted
// versions may be left out of has_id bitmaps (deleted offsets are the
// caller's concern).
type OffsetSource interface {
	Source
	Offset(id base.PointID) (off uint32, ok bool)
}

// Plan prepares the filter for src. Every condition that a field index of
// src answers (FieldIndex.Estimate ok) contributes its estimate; when every
// leaf is answered by an index (or is has_id on an OffsetSource) and the
// estimate is at most maxCandidates, the matching offsets are computed
// exactly with bitmaps. Otherwise, when a condition that every match must
// satisfy is bounded by an index to at most maxCandidates offsets, the
// smallest such bound becomes the candidate set. A nil m plans a filter
// that matches everything.
//
// Cardinality estimation follows Qdrant: an indexed leaf has its index's
// estimate; has_id at most its number of ids; any other leaf (0, N/2, N).
// must: min = max(0, Σmin - (k-1)N), exp = N·Π(exp/N), max = min(max);
// should: min = max(min), exp = N·(1 - Π(1 - exp/N)), max = min(N, Σmax);
// must_not: (N - max, N - exp, N - min); min_should: the probability of at
// least min_count of independent events, with pigeonhole bounds.
func (m *Matcher) Plan(src Source, maxCandidates int) *Plan {
	n := src.Len()
	if m == nil {
		return &Plan{Card: Cardinality{n, n, n}, Check: func(uint32) bool { return true }}
	}
	pl := planner{src: src, n: n}
	if os, ok := src.(OffsetSource); ok {
		pl.ids = os
	}
	root := pl.build(m.root)
	p := &Plan{Card: root.card}
	if root.bitmap && root.card.Max <= maxCandidates {
		if bm, ok := pl.exact(root); ok {
			bm = pl.trim(bm)
			c := int(bm.GetCardinality())
			p.Card = Cardinality{c, c, c}
			p.Candidates, p.Exact = bm, true
			p.Check = bm.Contains
			return p
		}
	}
	if size, build := pl.superset(root); build != nil && size <= maxCandidates {
		if bm, ok := build(); ok {
			p.Candidates = pl.trim(bm)
			c := p.Card
			c.Max = min(c.Max, int(p.Candidates.GetCardinality()))
			p.Card = clampCard(c, n)
		}
	}
	pl.prepare(root)
	p.Check = func(off uint32) bool {
		st := evalState{src: src, off: off}
		return root.eval(&st)
	}
	return p
}

// pnode is a node of the compiled filter as planned for one segment.
type pnode struct {
	n    *node
	kids []*pnode
	card Cardinality
	// bitmap: an exact bitmap of the node's matches can be built from
	// indexes (every leaf below is answered by one).
	bitmap bool
	cost   int // relative cost of Check on this node

	fi    FieldIndex            // nodeField: the key's index, if it estimated the leaf
	check func(off uint32) bool // nodeField: the index's checker
	idBM  *roaring.Bitmap       // nodeHasID on an OffsetSource
}

// Relative costs of testing one offset.
const (
	costIndex   = 1   // an index checker or a bitmap lookup
	costPoint   = 3   // an id or vector presence lookup
	costPayload = 100 // decoding the payload (paid once per Check)
	costNested  = 150
)

type planner struct {
	src     Source
	n       int
	ids     OffsetSource
	indexes map[string]FieldIndex
}

func (pl *planner) index(key string) FieldIndex {
	if fi, ok := pl.indexes[key]; ok {
		return fi
	}
	if pl.indexes == nil {
		pl.indexes = map[string]FieldIndex{}
	}
	fi := pl.src.FieldIndex(key)
	pl.indexes[key] = fi
	return fi
}

func (pl *planner) unknown() Cardinality { return Cardinality{0, pl.n / 2, pl.n} }

// build plans n: estimates, bitmap answerability and costs, bottom up.
func (pl *planner) build(n *node) *pnode {
	p := &pnode{n: n}
	switch n.kind {
	case nodeAnd, nodeOr, nodeNot, nodeAtLeast:
		p.kids = make([]*pnode, len(n.kids))
		cards := make([]Cardinality, len(n.kids))
		p.bitmap = true
		for i, k := range n.kids {
			p.kids[i] = pl.build(k)
			cards[i] = p.kids[i].card
			p.bitmap = p.bitmap && p.kids[i].bitmap
		}
		switch n.kind {
		case nodeAnd:
			p.card = cardAnd(cards, pl.n)
		case nodeOr:
			p.card = cardOr(cards, pl.n)
		case nodeNot:
			p.card = cardNot(cards[0], pl.n)
		default:
			p.card = cardAtLeast(n.min, cards, pl.n)
		}
	case nodeField:
		p.card, p.cost = pl.unknown(), costPayload
		if fi := pl.index(n.key); fi != nil {
			if c, ok := fi.Estimate(n.cond); ok {
				p.fi, p.card, p.bitmap = fi, clampCard(c, pl.n), true
			}
		}
	case nodeHasID:
		k := min(len(n.idList), pl.n)
		p.card, p.cost = Cardinality{0, k, k}, costPoint
		if pl.ids != nil {
			bm := roaring.New()
			for _, id := range n.idList {
				if off, ok := pl.ids.Offset(id); ok && int(off) < pl.n {
					bm.Add(off)
				}
			}
			c := int(bm.GetCardinality())
			p.idBM, p.card, p.bitmap, p.cost = bm, Cardinality{c, c, c}, true, costIndex
		}
	case nodeHasVector:
		p.card, p.cost = pl.unknown(), costPoint
	case nodeNested:
		p.card, p.cost = pl.unknown(), costNested
	}
	return p
}

// exact returns the bitmap of p's matches (offsets >= n may be present and
// are trimmed by the caller); ok is false if an index declined.
func (pl *planner) exact(p *pnode) (*roaring.Bitmap, bool) {
	switch p.n.kind {
	case nodeAnd:
		if len(p.kids) == 0 {
			return pl.full(), true
		}
		kids := slices.Clone(p.kids)
		slices.SortStableFunc(kids, func(a, b *pnode) int { return cmp.Compare(a.card.Max, b.card.Max) })
		acc, ok := pl.exact(kids[0])
		for _, k := range kids[1:] {
			if !ok || acc.IsEmpty() {
				break
			}
			var bm *roaring.Bitmap
			if bm, ok = pl.exact(k); ok {
				acc = roaring.And(acc, bm)
			}
		}
		return acc, ok
	case nodeOr:
		bms := make([]*roaring.Bitmap, len(p.kids))
		for i, k := range p.kids {
			var ok bool
			if bms[i], ok = pl.exact(k); !ok {
				return nil, false
			}
		}
		return roaring.FastOr(bms...), true
	case nodeNot:
		bm, ok := pl.exact(p.kids[0])
		if !ok {
			return nil, false
		}
		return roaring.Flip(bm, 0, uint64(pl.n)), true
	case nodeAtLeast:
		k := p.n.min
		if k > len(p.kids) {
			return roaring.New(), true
		}
		// atLeast[j]: offsets in at least j of the bitmaps seen so far.
		atLeast := make([]*roaring.Bitmap, k+1)
		atLeast[0] = pl.full()
		for j := 1; j <= k; j++ {
			atLeast[j] = roaring.New()
		}
		m := len(p.kids)
		for i, kid := range p.kids {
			bm, ok := pl.exact(kid)
			if !ok {
				return nil, false
			}
			// Levels below k-(m-1-i) can no longer reach k.
			for j := min(k, i+1); j >= max(1, k-(m-1-i)); j-- {
				atLeast[j] = roaring.Or(atLeast[j], roaring.And(atLeast[j-1], bm))
			}
		}
		return atLeast[k], true
	case nodeField:
		return p.fi.Bitmap(p.n.cond)
	case nodeHasID:
		return p.idBM, true
	}
	return nil, false
}

// superset returns the estimated size of the smallest bitmap bounding p's
// matches from above that indexes can build, and how to build it; build is
// nil when there is none.
func (pl *planner) superset(p *pnode) (size int, build func() (*roaring.Bitmap, bool)) {
	switch p.n.kind {
	case nodeField:
		if p.fi != nil {
			return p.card.Max, func() (*roaring.Bitmap, bool) { return p.fi.Bitmap(p.n.cond) }
		}
	case nodeHasID:
		if p.idBM != nil {
			return p.card.Max, func() (*roaring.Bitmap, bool) { return p.idBM, true }
		}
	case nodeAnd:
		// Every match matches every kid: the smallest kid bound will do.
		for _, k := range p.kids {
			if s, b := pl.superset(k); b != nil && (build == nil || s < size) {
				size, build = s, b
			}
		}
	case nodeOr:
		return pl.union(p.kids, len(p.kids))
	case nodeAtLeast:
		// A point in at least k of m kids is in one of any m-k+1 of them.
		if p.n.min > len(p.kids) {
			return 0, func() (*roaring.Bitmap, bool) { return roaring.New(), true }
		}
		return pl.union(p.kids, len(p.kids)-p.n.min+1)
	}
	return size, build
}

// union bounds the union of the want kids with the smallest bounds.
func (pl *planner) union(kids []*pnode, want int) (int, func() (*roaring.Bitmap, bool)) {
	type bound struct {
		size  int
		build func() (*roaring.Bitmap, bool)
	}
	var bs []bound
	for _, k := range kids {
		if s, b := pl.superset(k); b != nil {
			bs = append(bs, bound{s, b})
		}
	}
	if len(bs) < want || want == 0 {
		return 0, nil
	}
	slices.SortStableFunc(bs, func(a, b bound) int { return cmp.Compare(a.size, b.size) })
	bs = bs[:want]
	size := 0
	for _, b := range bs {
		size = min(pl.n, size+b.size)
	}
	return size, func() (*roaring.Bitmap, bool) {
		bms := make([]*roaring.Bitmap, len(bs))
		for i, b := range bs {
			var ok bool
			if bms[i], ok = b.build(); !ok {
				return nil, false
			}
		}
		return roaring.FastOr(bms...), true
	}
}

func (pl *planner) full() *roaring.Bitmap {
	bm := roaring.New()
	bm.AddRange(0, uint64(pl.n))
	return bm
}

// trim drops offsets >= n (an index may cover points appended after the
// view was taken), copying bm rather than changing it.
func (pl *planner) trim(bm *roaring.Bitmap) *roaring.Bitmap {
	if bm == nil {
		return roaring.New()
	}
	if bm.IsEmpty() || int64(bm.Maximum()) < int64(pl.n) {
		return bm
	}
	bm = bm.Clone()
	bm.RemoveRange(uint64(pl.n), uint64(bm.Maximum())+1)
	return bm
}

// prepare fetches the index checkers and orders the kids of every operator
// for Check: cheapest first, then, under an AND, the most selective first
// and, under an OR, the most likely first.
func (pl *planner) prepare(p *pnode) {
	if p.n.kind == nodeField && p.fi != nil {
		if chk, ok := p.fi.Checker(p.n.cond); ok {
			p.check, p.cost = chk, costIndex
		}
	}
	if len(p.kids) == 0 {
		return
	}
	p.cost = 0
	for _, k := range p.kids {
		pl.prepare(k)
		p.cost = min(p.cost+k.cost, math.MaxInt32)
	}
	switch p.n.kind {
	case nodeAnd:
		slices.SortStableFunc(p.kids, func(a, b *pnode) int {
			return cmp.Or(cmp.Compare(a.cost, b.cost), cmp.Compare(a.card.Exp, b.card.Exp))
		})
	case nodeOr, nodeAtLeast:
		slices.SortStableFunc(p.kids, func(a, b *pnode) int {
			return cmp.Or(cmp.Compare(a.cost, b.cost), cmp.Compare(b.card.Exp, a.card.Exp))
		})
	}
}

// eval is Check on p: like eval on the compiled node, with index checkers
// and id bitmaps for the leaves they answer.
func (p *pnode) eval(st *evalState) bool {
	switch p.n.kind {
	case nodeAnd:
		for _, k := range p.kids {
			if !k.eval(st) {
				return false
			}
		}
		return true
	case nodeOr:
		for _, k := range p.kids {
			if k.eval(st) {
				return true
			}
		}
		return false
	case nodeNot:
		return !p.kids[0].eval(st)
	case nodeAtLeast:
		need, left := p.n.min, len(p.kids)
		for _, k := range p.kids {
			if need > left {
				return false
			}
			left--
			if k.eval(st) {
				if need--; need == 0 {
					return true
				}
			}
		}
		return need <= 0
	}
	switch {
	case p.check != nil:
		return p.check(st.off)
	case p.idBM != nil:
		return p.idBM.Contains(st.off)
	}
	return evalLeaf(p.n, st)
}

// clampCard makes c consistent for a segment of n points:
// 0 <= Min <= Exp <= Max <= n.
func clampCard(c Cardinality, n int) Cardinality {
	c.Max = min(max(c.Max, 0), n)
	c.Min = min(max(c.Min, 0), c.Max)
	c.Exp = min(max(c.Exp, c.Min), c.Max)
	return c
}

func roundCard(x float64) int {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	if x >= math.MaxInt64 {
		return math.MaxInt
	}
	return int(math.Round(x))
}

func cardAnd(cs []Cardinality, n int) Cardinality {
	if n == 0 {
		return Cardinality{}
	}
	sumMin, exp, mx := 0, float64(n), n
	for _, c := range cs {
		sumMin += c.Min
		exp *= float64(c.Exp) / float64(n)
		mx = min(mx, c.Max)
	}
	mn := sumMin - (len(cs)-1)*n
	return clampCard(Cardinality{mn, roundCard(exp), mx}, n)
}

func cardOr(cs []Cardinality, n int) Cardinality {
	if n == 0 {
		return Cardinality{}
	}
	mn, miss, sumMax := 0, 1.0, 0
	for _, c := range cs {
		mn = max(mn, c.Min)
		miss *= 1 - float64(c.Exp)/float64(n)
		sumMax = min(sumMax+c.Max, n)
	}
	return clampCard(Cardinality{mn, roundCard(float64(n) * (1 - miss)), sumMax}, n)
}

func cardNot(c Cardinality, n int) Cardinality {
	return clampCard(Cardinality{n - c.Max, n - c.Exp, n - c.Min}, n)
}

// cardAtLeast estimates the points in at least k of m sets with
// cardinalities cs. Max: such a point is in one of any m-k+1 sets and
// counts k times in Σmax. Min: for the s largest minimums (s >= k),
// Σmin <= s·M + (k-1)·(n-M). Exp: the Poisson-binomial tail, the sets
// taken as independent.
func cardAtLeast(k int, cs []Cardinality, n int) Cardinality {
	m := len(cs)
	if n == 0 || k > m {
		return Cardinality{}
	}
	if k <= 0 {
		return Cardinality{n, n, n}
	}
	sumMax := 0
	maxes, mins := make([]int, m), make([]int, m)
	for i, c := range cs {
		sumMax += c.Max
		maxes[i], mins[i] = c.Max, c.Min
	}
	slices.Sort(maxes)
	smallest := 0
	for _, x := range maxes[:m-k+1] {
		smallest += x
	}
	mx := min(n, sumMax/k, smallest)
	slices.Sort(mins)
	slices.Reverse(mins)
	mn, sumMin := 0, 0
	for s := 1; s <= m; s++ {
		sumMin += mins[s-1]
		if d := sumMin - (k-1)*n; s >= k && d > 0 {
			mn = max(mn, (d+s-k)/(s-k+1))
		}
	}
	// dist[j]: the probability that exactly j (j < k) or at least k (j ==
	// k) of the sets seen so far contain a point.
	dist := make([]float64, k+1)
	dist[0] = 1
	for _, c := range cs {
		p := float64(c.Exp) / float64(n)
		dist[k] += dist[k-1] * p
		for j := k - 1; j >= 1; j-- {
			dist[j] = dist[j]*(1-p) + dist[j-1]*p
		}
		dist[0] *= 1 - p
	}
	return clampCard(Cardinality{mn, roundCard(float64(n) * dist[k]), mx}, n)
}
