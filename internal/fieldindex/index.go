package fieldindex

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/text"
)

// Index is the payload index of one key of one segment. It implements
// [filter.FieldIndex]. See the package doc for its life cycle and
// invariants.
type Index struct {
	key    string
	schema filter.FieldSchema
	path   filter.Path
	typ    filter.FieldType
	lookup bool            // integer: serve match value / any / except
	rng    bool            // integer: serve range
	tok    *text.Tokenizer // text

	// frozen is set once the index is frozen, after every field below has
	// its final value; a reader that sees it set takes no lock (I4).
	frozen atomic.Bool

	// mu guards every field below while the index is mutable: Add and
	// Freeze hold it exclusively, queries shared.
	mu sync.RWMutex
	// sealed mirrors frozen for readers that hold mu (a query that found
	// frozen unset may acquire mu after Freeze).
	sealed bool
	// bulk is set while Build adds: no reader exists, so sorted columns
	// skip their incremental merges and are sorted once by Freeze.
	bulk bool

	n        int             // offsets covered (I3)
	indexed  *roaring.Bitmap // offsets with at least one stored value
	nIndexed int             // its cardinality
	// others holds the offsets with a value that is not null and that the
	// index did not store (of another type, not integral, ...): Except
	// matches them whatever its list.
	others  *roaring.Bitmap
	maxVals int  // the most distinct stored values of one offset
	badNum  bool // integer: saw a number that is not an int64 (refuse range)
	badStr  bool // uuid: saw a string that is not a canonical UUID

	dict *dict                // keyword, uuid, bool, text: the terms
	num  *sortedCol[struct{}] // integer, float, datetime: the values as keys
	geo  *sortedCol[float64]  // geo: latitude keys, longitudes
	seq  *seqCol              // text with phrase matching: words of each string

	// Add's per-offset state and scratch, guarded by mu.
	cur      uint32 // the offset being added
	visitFn  func(v any) bool
	tokenFn  func(tok string) bool
	wordFn   func(tok string) bool
	sawOther bool
	ids      []uint32
	keys     []uint64
	lons     []float64
	words    []uint32
	// A uuid index under Build collects (UUID, offset) pairs instead of
	// filling the term map: the UUIDs of a field are mostly distinct, and
	// one radix sort of the pairs beats a map insert per point.
	uhi, ulo []uint64 // the UUID's bytes 0-7 and 8-15, big endian
	uoff     []uint32
}

var _ filter.FieldIndex = (*Index)(nil)

// New returns an empty mutable index of key with schema s. It validates s:
// an unknown type, an integer index serving neither lookup nor range, or
// bad text parameters is an error matching base.ErrInvalidArgument that
// names the schema field ("field_schema.tokenizer: ...").
func New(key string, s filter.FieldSchema) (*Index, error) {
	p, err := filter.ParsePath(key)
	if err != nil {
		return nil, base.InvalidArgumentf("field_name: %v", err)
	}
	x := &Index{key: key, schema: s, path: p, typ: s.Type}
	switch s.Type {
	case filter.TypeKeyword:
		x.dict = newDict(true, 0)
	case filter.TypeUUID:
		x.dict = newDict(true, 16)
	case filter.TypeBool:
		x.dict = newDict(false, 1)
		x.dict.idString("\x00")
		x.dict.idString("\x01")
	case filter.TypeInteger:
		x.lookup = s.Lookup == nil || *s.Lookup
		x.rng = s.Range == nil || *s.Range
		if !x.lookup && !x.rng {
			return nil, base.InvalidArgumentf("field_schema: an integer index needs lookup or range (both are false)")
		}
		x.num = &sortedCol[struct{}]{}
	case filter.TypeFloat, filter.TypeDatetime:
		x.num = &sortedCol[struct{}]{}
	case filter.TypeGeo:
		x.geo = &sortedCol[float64]{}
	case filter.TypeText:
		tok, err := filter.TokenizerFor(s)
		if err != nil {
			detail := strings.TrimPrefix(err.Error(), base.ErrInvalidArgument.Error()+": ")
			return nil, base.InvalidArgumentf("field_schema.%s", detail)
		}
		x.tok = tok
		x.dict = newDict(false, 0)
		x.tokenFn = x.addToken
		if s.PhraseMatching {
			x.seq = &seqCol{valEnd: []uint32{0}, wordEnd: []uint32{0}}
			x.wordFn = x.addWord
		}
	default:
		return nil, base.InvalidArgumentf("field_schema.type: unknown payload index type %q (want keyword, integer, float, bool, geo, datetime, uuid or text)", s.Type)
	}
	x.indexed = roaring.New()
	x.others = roaring.New()
	x.visitFn = x.visit
	return x, nil
}

// Key returns the payload key the index covers.
func (x *Index) Key() string { return x.key }

// Schema returns the schema the index was created with.
func (x *Index) Schema() filter.FieldSchema { return x.schema }

// rlock takes mu shared unless the index is frozen; it returns whether it
// did (pass the result to runlock).
func (x *Index) rlock() bool {
	if x.frozen.Load() {
		return false
	}
	x.mu.RLock()
	return true
}

func (x *Index) runlock(locked bool) {
	if locked {
		x.mu.RUnlock()
	}
}

// Len returns the number of offsets the index covers: the highest offset
// added plus one, or the n given to Build.
func (x *Index) Len() int {
	defer x.runlock(x.rlock())
	return x.n
}

// Indexed returns a copy of the set of offsets with at least one indexed
// value.
func (x *Index) Indexed() *roaring.Bitmap {
	defer x.runlock(x.rlock())
	return x.indexed.Clone()
}

// Add indexes the values at the index's key in doc, a payload decoded by
// filter.DecodePayload, as those of offset off. Offsets must be strictly
// increasing across calls (I3), and Add must not follow Freeze: both are
// programming errors and panic. Add may run while other goroutines query.
func (x *Index) Add(off uint32, doc map[string]any) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sealed {
		panic(fmt.Sprintf("fieldindex: Add to frozen index %q", x.key))
	}
	x.add(off, doc)
}

// add is Add without the lock (Build owns the index alone).
func (x *Index) add(off uint32, doc map[string]any) {
	if int64(off) < int64(x.n) {
		panic(fmt.Sprintf("fieldindex: Add(%d) to index %q after offset %d", off, x.key, x.n-1))
	}
	x.n = int(off) + 1
	x.cur = off
	x.sawOther = false
	x.ids, x.keys, x.lons = x.ids[:0], x.keys[:0], x.lons[:0]
	if doc != nil {
		filter.Values(doc, x.path, x.visitFn)
	}
	if x.sawOther {
		x.others.Add(off)
	}
	if x.seq != nil {
		x.seq.endOffset(off)
	}
	nv := 0
	switch {
	case x.dict != nil:
		if len(x.ids) > 1 {
			slices.Sort(x.ids)
			x.ids = slices.Compact(x.ids)
		}
		nv = len(x.ids)
		if nv > 0 {
			x.dict.add(off, x.ids)
		}
	case x.num != nil:
		if len(x.keys) > 1 {
			slices.Sort(x.keys)
			x.keys = slices.Compact(x.keys)
		}
		nv = len(x.keys)
		for _, k := range x.keys {
			x.num.push(k, off, struct{}{}, x.bulk)
		}
	case x.geo != nil:
		nv = len(x.keys)
		for i, k := range x.keys {
			x.geo.push(k, off, x.lons[i], x.bulk)
		}
	}
	if nv > 0 {
		x.indexed.Add(off)
		x.nIndexed++
		x.maxVals = max(x.maxVals, nv)
	}
}

// visit classifies one value of the key: stored (into the scratch of the
// offset) or other.
func (x *Index) visit(v any) bool {
	if v == nil {
		return true // null: matches no predicate an index serves
	}
	switch x.typ {
	case filter.TypeKeyword:
		if s, ok := v.(string); ok {
			x.ids = append(x.ids, x.dict.idString(s))
			return true
		}
	case filter.TypeUUID:
		if s, ok := v.(string); ok {
			if u, ok := parseUUID(s); ok {
				if x.bulk {
					x.uhi = append(x.uhi, binary.BigEndian.Uint64(u[:8]))
					x.ulo = append(x.ulo, binary.BigEndian.Uint64(u[8:]))
					x.uoff = append(x.uoff, x.cur)
					return true
				}
				x.ids = append(x.ids, x.dict.idBytes(u[:]))
				return true
			}
			x.badStr = true
		}
	case filter.TypeBool:
		if b, ok := v.(bool); ok {
			x.ids = append(x.ids, boolID(b))
			return true
		}
	case filter.TypeInteger:
		if i, ok := filter.Integer(v); ok {
			x.keys = append(x.keys, intKey(i))
			return true
		}
		if _, ok := filter.Number(v); ok {
			x.badNum = true
		}
	case filter.TypeFloat:
		if f, ok := filter.Number(v); ok && !math.IsNaN(f) {
			x.keys = append(x.keys, floatKey(f))
			return true
		}
	case filter.TypeDatetime:
		if us, ok := filter.Datetime(v); ok {
			x.keys = append(x.keys, intKey(us))
			return true
		}
	case filter.TypeGeo:
		if p, ok := filter.Geo(v); ok && !math.IsNaN(p.Lat) && !math.IsNaN(p.Lon) {
			x.keys = append(x.keys, floatKey(p.Lat))
			x.lons = append(x.lons, p.Lon)
			return true
		}
	case filter.TypeText:
		if s, ok := v.(string); ok {
			x.tok.Tokens(s, x.tokenFn)
			if x.seq != nil {
				x.words = x.words[:0]
				x.tok.Words(s, x.wordFn)
				x.seq.addValue(x.words)
			}
			return true
		}
	}
	x.sawOther = true
	return true
}

func (x *Index) addToken(tok string) bool {
	x.ids = append(x.ids, x.dict.idString(tok))
	return true
}

func (x *Index) addWord(w string) bool {
	x.words = append(x.words, x.dict.idString(w))
	return true
}

// boolID is the term id of a bool: its terms are "\x00" and "\x01", in
// that order in both forms of the dictionary.
func boolID(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// Freeze makes the index immutable: no more Add; from then on queries take
// no lock. Freezing a frozen index does nothing.
func (x *Index) Freeze() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.sealed {
		return
	}
	x.freeze()
}

// freeze converts the index to its frozen form; the caller holds mu or
// owns the index alone.
func (x *Index) freeze() {
	switch {
	case x.uoff != nil:
		x.dict.freezePairs(x.n, x.uhi, x.ulo, x.uoff)
		x.uhi, x.ulo, x.uoff = nil, nil, nil
	case x.dict != nil:
		perm := x.dict.freeze(x.n)
		if x.seq != nil {
			x.seq.freeze(x.n, perm)
		}
	case x.num != nil:
		x.num.freeze(x.n)
	case x.geo != nil:
		x.geo.freeze(x.n)
	}
	x.finish()
}

// finish derives the summary fields of a frozen index from its columns
// (after freeze or decode, so both give identical indexes) and publishes
// it.
func (x *Index) finish() {
	var counts func(n int, yield func(c int))
	switch {
	case x.dict != nil:
		counts = x.dict.counts
	case x.num != nil:
		counts = x.num.counts
	case x.geo != nil:
		counts = x.geo.counts
	}
	x.indexed = roaring.New()
	x.nIndexed, x.maxVals = 0, 0
	off := uint32(0)
	var run []uint32
	counts(x.n, func(c int) {
		if c > 0 {
			run = append(run, off)
			if len(run) == cap(run) && len(run) >= 4096 {
				x.indexed.AddMany(run)
				run = run[:0]
			}
			x.nIndexed++
			x.maxVals = max(x.maxVals, c)
		}
		off++
	})
	x.indexed.AddMany(run)
	x.indexed.RunOptimize()
	x.others.RunOptimize()
	x.ids, x.keys, x.lons, x.words = nil, nil, nil, nil
	x.visitFn, x.tokenFn, x.wordFn = nil, nil, nil
	x.bulk = false
	x.sealed = true
	x.frozen.Store(true)
}

// MemoryBytes returns the approximate number of heap bytes the index
// holds.
func (x *Index) MemoryBytes() int {
	defer x.runlock(x.rlock())
	n := 256 + len(x.key) + int(x.indexed.GetSizeInBytes()) + int(x.others.GetSizeInBytes())
	n += 4*cap(x.ids) + 8*cap(x.keys) + 8*cap(x.lons) + 4*cap(x.words)
	if x.dict != nil {
		n += x.dict.memory()
	}
	if x.num != nil {
		n += x.num.memory(0)
	}
	if x.geo != nil {
		n += x.geo.memory(8)
	}
	if x.seq != nil {
		n += x.seq.memory()
	}
	return n
}

// form is the predicate of a single-predicate field condition.
type form uint8

const (
	fNone form = iota
	fValue
	fAny
	fExcept
	fText
	fTextAny
	fPhrase
	fPrefix
	fRange
	fDatetime
	fBox
	fRadius
	fPolygon
)

// formOf returns the one predicate c sets, or fNone if it sets none, more
// than one, or one no index serves.
func formOf(c *filter.Condition) form {
	if c == nil || c.ValuesCount != nil || c.IsEmpty || c.IsNull || c.HasID != nil ||
		c.HasVector != nil || c.Nested != nil || c.Filter != nil {
		return fNone
	}
	n, f := 0, fNone
	if m := c.Match; m != nil {
		n++
		f = matchForm(m)
	}
	if c.Range != nil {
		n, f = n+1, fRange
	}
	if c.DatetimeRange != nil {
		n, f = n+1, fDatetime
	}
	if c.GeoBoundingBox != nil {
		n, f = n+1, fBox
	}
	if c.GeoRadius != nil {
		n, f = n+1, fRadius
	}
	if c.GeoPolygon != nil {
		n, f = n+1, fPolygon
	}
	if n != 1 {
		return fNone
	}
	return f
}

func matchForm(m *filter.Match) form {
	n, f := 0, fNone
	if m.Value != nil {
		n, f = n+1, fValue
	}
	if m.Any != nil {
		n, f = n+1, fAny
	}
	if m.Except != nil {
		n, f = n+1, fExcept
	}
	if m.Text != "" {
		n, f = n+1, fText
	}
	if m.TextAny != "" {
		n, f = n+1, fTextAny
	}
	if m.Phrase != "" {
		n, f = n+1, fPhrase
	}
	if m.Prefix != "" {
		n, f = n+1, fPrefix
	}
	if n != 1 {
		return fNone
	}
	return f
}

// asInt returns a normalised integer match value.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	}
	return 0, false
}

// strList returns a match list as strings; ok is false if an element is
// not a string.
func strList(vs []any) ([]string, bool) {
	out := make([]string, len(vs))
	for i, v := range vs {
		s, ok := v.(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// intList returns a match list as integers; ok is false if an element is
// not an integer.
func intList(vs []any) ([]int64, bool) {
	out := make([]int64, len(vs))
	for i, v := range vs {
		n, ok := asInt(v)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// query is a condition compiled against one index. A mutable index
// compiles and runs it under mu; a frozen one without a lock.
type query interface {
	estimate() filter.Cardinality
	bitmap() *roaring.Bitmap
	// checker returns the per-offset test; only on a frozen index.
	checker() func(off uint32) bool
}

// compile returns the query of c, or false if the index cannot answer c
// exactly (I1, I2).
func (x *Index) compile(c *filter.Condition) (query, bool) {
	f := formOf(c)
	if f == fNone {
		return nil, false
	}
	switch x.typ {
	case filter.TypeKeyword, filter.TypeUUID, filter.TypeBool:
		return x.compileDict(c, f)
	case filter.TypeText:
		return x.compileText(c, f)
	case filter.TypeInteger, filter.TypeFloat, filter.TypeDatetime:
		return x.compileNum(c, f)
	case filter.TypeGeo:
		return x.compileGeo(c, f)
	}
	return nil, false
}

// Estimate returns the number of offsets matching c, without materialising
// them; ok is false if the index cannot answer c exactly.
func (x *Index) Estimate(c *filter.Condition) (card filter.Cardinality, ok bool) {
	defer x.runlock(x.rlock())
	q, ok := x.compile(c)
	if !ok {
		return filter.Cardinality{}, false
	}
	card = q.estimate()
	card.Max = min(card.Max, x.n)
	card.Min = min(card.Min, card.Max)
	card.Exp = max(card.Min, min(card.Exp, card.Max))
	return card, true
}

// Bitmap returns the offsets matching c, a bitmap the caller owns; ok is
// false if the index cannot answer c exactly.
func (x *Index) Bitmap(c *filter.Condition) (bm *roaring.Bitmap, ok bool) {
	defer x.runlock(x.rlock())
	q, ok := x.compile(c)
	if !ok {
		return nil, false
	}
	return q.bitmap(), true
}

// Checker returns a test of whether an offset matches c; ok is false if the
// index cannot answer c exactly. The test allocates nothing and is safe
// for concurrent use. On a mutable index it tests the offsets matching when
// Checker was called (I4).
func (x *Index) Checker(c *filter.Condition) (check func(off uint32) bool, ok bool) {
	defer x.runlock(x.rlock())
	q, ok := x.compile(c)
	if !ok {
		return nil, false
	}
	if x.sealed {
		return q.checker(), true
	}
	return q.bitmap().Contains, true
}

// exact is the cardinality of a known count.
func exact(n int) filter.Cardinality { return filter.Cardinality{Min: n, Exp: n, Max: n} }

// emptyQuery matches nothing.
type emptyQuery struct{}

func (emptyQuery) estimate() filter.Cardinality   { return filter.Cardinality{} }
func (emptyQuery) bitmap() *roaring.Bitmap        { return roaring.New() }
func (emptyQuery) checker() func(off uint32) bool { return never }

func never(uint32) bool { return false }
