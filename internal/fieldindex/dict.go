package fieldindex

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/filter"
)

// bigPosting is the length from which a frozen posting list is kept as a
// roaring bitmap, if that is smaller than the list: long lists of a few
// frequent terms (a bool, a tag on most points) then cost about a bit per
// offset and are intersected and cloned container by container, while the
// many short lists of a high-cardinality field stay 4 bytes per entry
// without a bitmap's fixed overhead.
const bigPosting = 1024

// dict is a dictionary of terms with the sorted list of offsets of each:
// the keyword, uuid and bool indexes (terms are the values), and the text
// index (terms are tokens).
//
// Mutable, a term's id is its insertion order (ids, terms, posts). Frozen,
// terms are sorted and a term's id is its rank; postings are one CSR array
// (postEnd, post) except the long ones, which are bitmaps (bigID, bigBm);
// with fwdOn, a forward column lists the ids of each offset's terms in
// ascending order (fwdEnd, fwd) for checkers.
type dict struct {
	fwdOn  bool
	stride int // fixed term length (uuid 16, bool 1); 0 if variable
	frozen bool

	// Mutable form.
	ids   map[string]uint32
	terms []string
	posts [][]uint32

	// Frozen form.
	nterms   int
	termData string   // the terms, concatenated in order
	termEnd  []uint32 // stride 0: end of term i in termData
	postEnd  []uint32 // nterms+1: term i's short list is post[postEnd[i]:postEnd[i+1]]
	post     []uint32
	bigID    []uint32 // sorted ids of the terms whose list is a bitmap
	bigBm    []*roaring.Bitmap
	bigCard  []int
	fwdEnd   []uint32 // fwdOn: n+1; offset o's term ids are fwd[fwdEnd[o]:fwdEnd[o+1]]
	fwd      []uint32
}

func newDict(fwd bool, stride int) *dict {
	return &dict{fwdOn: fwd, stride: stride, ids: map[string]uint32{}}
}

// idString returns the id of term s, adding it if new (mutable only).
func (d *dict) idString(s string) uint32 {
	if id, ok := d.ids[s]; ok {
		return id
	}
	return d.insert(strings.Clone(s))
}

// idBytes is idString for a term in a byte slice.
func (d *dict) idBytes(b []byte) uint32 {
	if id, ok := d.ids[string(b)]; ok {
		return id
	}
	return d.insert(string(b))
}

func (d *dict) insert(s string) uint32 {
	id := uint32(len(d.terms))
	d.ids[s] = id
	d.terms = append(d.terms, s)
	d.posts = append(d.posts, nil)
	return id
}

// add records that off has the terms ids (sorted, distinct); offsets
// arrive in increasing order, so every list stays sorted.
func (d *dict) add(off uint32, ids []uint32) {
	for _, id := range ids {
		d.posts[id] = append(d.posts[id], off)
	}
}

func (d *dict) numTerms() int {
	if d.frozen {
		return d.nterms
	}
	return len(d.terms)
}

// term returns term i (frozen: the i-th smallest).
func (d *dict) term(i int) string {
	if !d.frozen {
		return d.terms[i]
	}
	if d.stride > 0 {
		return d.termData[i*d.stride : (i+1)*d.stride]
	}
	a := uint32(0)
	if i > 0 {
		a = d.termEnd[i-1]
	}
	return d.termData[a:d.termEnd[i]]
}

// lookup returns the id of term s.
func (d *dict) lookup(s string) (uint32, bool) {
	if !d.frozen {
		id, ok := d.ids[s]
		return id, ok
	}
	i := d.lowerBound(s)
	if i < d.nterms && d.term(i) == s {
		return uint32(i), true
	}
	return 0, false
}

// lowerBound returns the rank of the first term >= s (frozen).
func (d *dict) lowerBound(s string) int {
	lo, hi := 0, d.nterms
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if d.term(m) < s {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// prefixRange returns the ranks [lo, hi) of the terms starting with p
// (frozen): they are contiguous in sorted order.
func (d *dict) prefixRange(p string) (lo, hi int) {
	lo = d.lowerBound(p)
	a, b := lo, d.nterms
	for a < b {
		m := int(uint(a+b) >> 1)
		if strings.HasPrefix(d.term(m), p) {
			a = m + 1
		} else {
			b = m
		}
	}
	return lo, a
}

// bigIndex returns the index in bigID of id, or -1.
func (d *dict) bigIndex(id uint32) int {
	if len(d.bigID) == 0 {
		return -1
	}
	if i, ok := slices.BinarySearch(d.bigID, id); ok {
		return i
	}
	return -1
}

// list returns the sorted offsets of term id, or nil with the bitmap of a
// long frozen list.
func (d *dict) list(id uint32) ([]uint32, *roaring.Bitmap) {
	if !d.frozen {
		return d.posts[id], nil
	}
	if i := d.bigIndex(id); i >= 0 {
		return nil, d.bigBm[i]
	}
	return d.post[d.postEnd[id]:d.postEnd[id+1]], nil
}

// card returns the number of offsets with term id.
func (d *dict) card(id uint32) int {
	l, bm := d.list(id)
	if bm != nil {
		return d.bigCard[d.bigIndex(id)]
	}
	return len(l)
}

// cardRange returns the sum of the cards of ranks [lo, hi) (frozen).
func (d *dict) cardRange(lo, hi int) int {
	n := int(d.postEnd[hi] - d.postEnd[lo])
	a, _ := slices.BinarySearch(d.bigID, uint32(lo))
	for i := a; i < len(d.bigID) && int(d.bigID[i]) < hi; i++ {
		n += d.bigCard[i]
	}
	return n
}

// bitmap returns a new bitmap of the offsets of term id.
func (d *dict) bitmap(id uint32) *roaring.Bitmap {
	l, bm := d.list(id)
	if bm != nil {
		return bm.Clone()
	}
	out := roaring.New()
	out.AddMany(l)
	return out
}

// orInto adds the offsets of term id to bm.
func (d *dict) orInto(bm *roaring.Bitmap, id uint32) {
	l, big := d.list(id)
	if big != nil {
		bm.Or(big)
		return
	}
	bm.AddMany(l)
}

// andInto intersects bm with the offsets of term id.
func (d *dict) andInto(bm *roaring.Bitmap, id uint32) {
	l, big := d.list(id)
	if big != nil {
		bm.And(big)
		return
	}
	other := roaring.New()
	other.AddMany(l)
	bm.And(other)
}

// contains reports whether off has term id (frozen).
func (d *dict) contains(id uint32, off uint32) bool {
	l, bm := d.list(id)
	if bm != nil {
		return bm.Contains(off)
	}
	_, ok := slices.BinarySearch(l, off)
	return ok
}

// terms of offset off (frozen, fwdOn).
func (d *dict) fwdOf(off uint32) []uint32 {
	if int(off)+1 >= len(d.fwdEnd) {
		return nil
	}
	return d.fwd[d.fwdEnd[off]:d.fwdEnd[off+1]]
}

// freeze converts the mutable dictionary over n offsets to the frozen form
// and returns perm: perm[old id] = new id.
func (d *dict) freeze(n int) []uint32 {
	nt := len(d.terms)
	order := make([]uint32, nt)
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int { return strings.Compare(d.terms[a], d.terms[b]) })
	perm := make([]uint32, nt)
	size, total := 0, 0
	for r, id := range order {
		perm[id] = uint32(r)
		size += len(d.terms[id])
		total += len(d.posts[id])
	}
	var sb strings.Builder
	sb.Grow(size)
	if d.stride == 0 {
		d.termEnd = make([]uint32, nt)
	}
	d.postEnd = make([]uint32, nt+1)
	d.post = make([]uint32, 0, total)
	for r, id := range order {
		sb.WriteString(d.terms[id])
		if d.stride == 0 {
			d.termEnd[r] = uint32(sb.Len())
		}
		d.post = append(d.post, d.posts[id]...)
		d.postEnd[r+1] = uint32(len(d.post))
	}
	d.termData = sb.String()
	d.nterms = nt
	d.ids, d.terms, d.posts = nil, nil, nil
	d.finish(n)
	return perm
}

// freezePairs builds the frozen form of a uuid dictionary over n offsets
// from the (UUID, offset) pairs collected by Build, in offset order: one
// stable radix sort by the low then the high half orders them by UUID,
// then offset, and the terms and lists are read off in one pass.
func (d *dict) freezePairs(n int, hi, lo []uint64, offs []uint32) {
	sortByKey(lo, offs, hi)
	sortByKey(hi, offs, lo)
	data := make([]byte, 0, 16*len(offs))
	d.postEnd = make([]uint32, 1, len(offs)+1)
	d.post = make([]uint32, 0, len(offs))
	for i := range offs {
		switch {
		case i == 0 || hi[i] != hi[i-1] || lo[i] != lo[i-1]:
			if i > 0 {
				d.postEnd = append(d.postEnd, uint32(len(d.post)))
			}
			data = binary.BigEndian.AppendUint64(data, hi[i])
			data = binary.BigEndian.AppendUint64(data, lo[i])
		case offs[i] == offs[i-1]:
			continue // the same UUID twice in one offset
		}
		d.post = append(d.post, offs[i])
	}
	if len(offs) > 0 {
		d.postEnd = append(d.postEnd, uint32(len(d.post)))
	}
	d.nterms = len(d.postEnd) - 1
	d.termData = string(data)
	d.ids, d.terms, d.posts = nil, nil, nil
	d.finish(n)
}

// finish completes the frozen form from the sorted terms and the CSR
// postings of every term (after freeze or decode): the forward column,
// and long lists moved to bitmaps.
func (d *dict) finish(n int) {
	d.frozen = true
	if d.fwdOn {
		d.fwdEnd = make([]uint32, n+1)
		for _, off := range d.post {
			d.fwdEnd[off+1]++
		}
		for i := 1; i <= n; i++ {
			d.fwdEnd[i] += d.fwdEnd[i-1]
		}
		cur := make([]uint32, n)
		copy(cur, d.fwdEnd)
		d.fwd = make([]uint32, len(d.post))
		for t := 0; t < d.nterms; t++ {
			for _, off := range d.post[d.postEnd[t]:d.postEnd[t+1]] {
				d.fwd[cur[off]] = uint32(t)
				cur[off]++
			}
		}
	}
	w := uint32(0)
	start := uint32(0)
	for t := 0; t < d.nterms; t++ {
		l := d.post[start:d.postEnd[t+1]]
		start = d.postEnd[t+1]
		if len(l) >= bigPosting {
			bm := roaring.New()
			bm.AddMany(l)
			bm.RunOptimize()
			if bm.GetSizeInBytes() < uint64(4*len(l)) {
				d.bigID = append(d.bigID, uint32(t))
				d.bigBm = append(d.bigBm, bm)
				d.bigCard = append(d.bigCard, len(l))
				d.postEnd[t+1] = w
				continue
			}
		}
		w += uint32(copy(d.post[w:], l))
		d.postEnd[t+1] = w
	}
	if int(w) < len(d.post)/2 {
		d.post = slices.Clone(d.post[:w])
	} else {
		d.post = d.post[:w]
	}
}

// counts yields the number of terms of each of the n offsets (frozen).
// Without a forward column the counts saturate at 255.
func (d *dict) counts(n int, yield func(c int)) {
	if d.fwdOn {
		for i := 0; i < n; i++ {
			yield(int(d.fwdEnd[i+1] - d.fwdEnd[i]))
		}
		return
	}
	c := make([]uint8, n)
	for _, off := range d.post {
		if c[off] < 255 {
			c[off]++
		}
	}
	for _, bm := range d.bigBm {
		it := bm.Iterator()
		for it.HasNext() {
			if off := it.Next(); c[off] < 255 {
				c[off]++
			}
		}
	}
	for _, v := range c {
		yield(int(v))
	}
}

func (d *dict) memory() int {
	n := 128
	if !d.frozen {
		for i, t := range d.terms {
			n += 2*len(t) + 16 + 48 + 24 + 4*cap(d.posts[i])
		}
		return n
	}
	n += len(d.termData) + 4*cap(d.termEnd) + 4*cap(d.postEnd) + 4*cap(d.post)
	n += 4*cap(d.fwdEnd) + 4*cap(d.fwd) + 4*cap(d.bigID) + 16*cap(d.bigBm)
	for _, bm := range d.bigBm {
		n += int(bm.GetSizeInBytes()) + 64
	}
	return n
}

// dictQuery is a match on a keyword, uuid or bool index.
type dictQuery struct {
	x      *Index
	op     form     // fValue, fAny, fExcept or fPrefix
	ids    []uint32 // fValue/fAny/fExcept: ids of the values present, sorted, distinct
	prefix string   // fPrefix
	lo, hi int      // fPrefix, frozen: the ranks of the terms with the prefix
}

// compileDict compiles c for a keyword, uuid or bool index.
func (x *Index) compileDict(c *filter.Condition, f form) (query, bool) {
	q := &dictQuery{x: x, op: f}
	m := c.Match
	if m == nil {
		return nil, false
	}
	switch x.typ {
	case filter.TypeBool:
		b, ok := m.Value.(bool)
		if f != fValue || !ok {
			return nil, false
		}
		q.ids = []uint32{boolID(b)}
		return q, true
	case filter.TypeKeyword:
		switch f {
		case fValue:
			s, ok := m.Value.(string)
			if !ok {
				return nil, false
			}
			q.addTerm(s)
		case fAny, fExcept:
			list := m.Any
			if f == fExcept {
				list = m.Except
			}
			ss, ok := strList(list)
			if !ok {
				return nil, false
			}
			for _, s := range ss {
				q.addTerm(s)
			}
		case fPrefix:
			q.prefix = m.Prefix
			if x.dict.frozen {
				q.lo, q.hi = x.dict.prefixRange(q.prefix)
			}
		default:
			return nil, false
		}
	case filter.TypeUUID:
		// A canonical UUID string is stored as its 16 bytes; any other
		// string equals no stored value, and can be ruled out only if the
		// index saw no such strings (it did not store them).
		var ss []string
		switch f {
		case fValue:
			s, ok := m.Value.(string)
			if !ok {
				return nil, false
			}
			ss = []string{s}
		case fAny, fExcept:
			list := m.Any
			if f == fExcept {
				list = m.Except
			}
			var ok bool
			if ss, ok = strList(list); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
		for _, s := range ss {
			u, ok := parseUUID(s)
			if !ok {
				if x.badStr {
					return nil, false
				}
				continue
			}
			q.addTerm(string(u[:]))
		}
	}
	slices.Sort(q.ids)
	q.ids = slices.Compact(q.ids)
	return q, true
}

func (q *dictQuery) addTerm(s string) {
	if id, ok := q.x.dict.lookup(s); ok {
		q.ids = append(q.ids, id)
	}
}

// prefixIDs returns the ids of the terms with the prefix (mutable).
func (q *dictQuery) prefixIDs() []uint32 {
	var ids []uint32
	for i, t := range q.x.dict.terms {
		if strings.HasPrefix(t, q.prefix) {
			ids = append(ids, uint32(i))
		}
	}
	return ids
}

// sumCards returns the total and the largest card of ids.
func (q *dictQuery) sumCards(ids []uint32) (sum, top int) {
	for _, id := range ids {
		c := q.x.dict.card(id)
		sum += c
		top = max(top, c)
	}
	return sum, top
}

// union is the cardinality of offsets having one of several terms whose
// cards sum to sum with the largest top.
func (q *dictQuery) union(sum, top int) filter.Cardinality {
	x := q.x
	if x.maxVals <= 1 {
		return exact(sum) // an offset has one value: the lists are disjoint
	}
	// An offset is on at most maxVals of the lists.
	lo := max(top, (sum+x.maxVals-1)/x.maxVals)
	return filter.Cardinality{Min: lo, Exp: min(sum, x.nIndexed), Max: min(sum, x.nIndexed)}
}

func (q *dictQuery) estimate() filter.Cardinality {
	x := q.x
	switch q.op {
	case fValue:
		if len(q.ids) == 0 {
			return exact(0)
		}
		return exact(x.dict.card(q.ids[0]))
	case fAny:
		return q.union(q.sumCards(q.ids))
	case fPrefix:
		if x.dict.frozen {
			return q.union(x.dict.cardRange(q.lo, q.hi), 0)
		}
		return q.union(q.sumCards(q.prefixIDs()))
	}
	// fExcept: the offsets with a value (stored or other) minus those whose
	// every value is in the list.
	total := int(x.indexed.OrCardinality(x.others))
	sum, _ := q.sumCards(q.ids)
	lo := max(0, total-sum)
	if x.maxVals <= 1 && x.others.IsEmpty() {
		return exact(lo)
	}
	return filter.Cardinality{Min: lo, Exp: lo, Max: total}
}

func (q *dictQuery) bitmap() *roaring.Bitmap {
	x := q.x
	switch q.op {
	case fValue:
		if len(q.ids) == 0 {
			return roaring.New()
		}
		return x.dict.bitmap(q.ids[0])
	case fAny:
		bm := roaring.New()
		for _, id := range q.ids {
			x.dict.orInto(bm, id)
		}
		return bm
	case fPrefix:
		bm := roaring.New()
		if x.dict.frozen {
			for id := q.lo; id < q.hi; id++ {
				x.dict.orInto(bm, uint32(id))
			}
		} else {
			for _, id := range q.prefixIDs() {
				x.dict.orInto(bm, id)
			}
		}
		return bm
	}
	// fExcept.
	var bm *roaring.Bitmap
	if x.maxVals <= 1 {
		// One value per offset: those whose value is not in the list.
		bm = x.indexed.Clone()
		in := roaring.New()
		for _, id := range q.ids {
			x.dict.orInto(in, id)
		}
		bm.AndNot(in)
	} else {
		bm = roaring.New()
		for id := 0; id < x.dict.numTerms(); id++ {
			if _, in := slices.BinarySearch(q.ids, uint32(id)); !in {
				x.dict.orInto(bm, uint32(id))
			}
		}
	}
	bm.Or(x.others)
	return bm
}

func (q *dictQuery) checker() func(off uint32) bool {
	d, others := q.x.dict, q.x.others
	if !d.fwdOn { // bool
		if len(q.ids) == 0 {
			return never
		}
		id := q.ids[0]
		if _, bm := d.list(id); bm != nil {
			return bm.Contains
		}
		return func(off uint32) bool { return d.contains(id, off) }
	}
	ids := q.ids
	switch q.op {
	case fValue:
		if len(ids) == 0 {
			return never
		}
		id := ids[0]
		return func(off uint32) bool {
			for _, t := range d.fwdOf(off) {
				if t == id {
					return true
				}
			}
			return false
		}
	case fAny:
		if len(ids) == 0 {
			return never
		}
		return func(off uint32) bool {
			for _, t := range d.fwdOf(off) {
				if _, ok := slices.BinarySearch(ids, t); ok {
					return true
				}
			}
			return false
		}
	case fPrefix:
		lo, hi := uint32(q.lo), uint32(q.hi)
		if lo == hi {
			return never
		}
		return func(off uint32) bool {
			for _, t := range d.fwdOf(off) {
				if t >= lo && t < hi {
					return true
				}
			}
			return false
		}
	}
	// fExcept.
	return func(off uint32) bool {
		for _, t := range d.fwdOf(off) {
			if _, ok := slices.BinarySearch(ids, t); !ok {
				return true
			}
		}
		return others.Contains(off)
	}
}

// parseUUID parses a canonical UUID: 36 characters, lowercase hex digits
// in groups of 8-4-4-4-12 separated by hyphens.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := hexVal(s[i])
		lo, ok2 := hexVal(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
