package fieldindex

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/filter"
)

// The text index is a dict of tokens: a token's list holds the offsets
// whose strings, taken together, yield it (Tokenizer.Tokens), which is
// exactly what Text (all query tokens) and TextAny (some query token) test.
// With phrase matching it also keeps, for every string value, the ids of
// its words in order (Tokenizer.Words) in a seqCol. Every word is also a
// token (text invariant T3), so the lists of the phrase's words give the
// candidates, and the sequences decide.

// seqCol holds the word sequences of the string values of each offset, as
// CSR arrays: offset o's values are [valEnd[o], valEnd[o+1]), value v's
// words are words[wordEnd[v]:wordEnd[v+1]]. Values without words are not
// kept. Mutable, ids are the dict's insertion ids and valEnd covers the
// offsets added; frozen, ids are ranks and valEnd has n+1 entries.
type seqCol struct {
	valEnd  []uint32
	wordEnd []uint32
	words   []uint32
}

// addValue appends the words of one value of the offset being added.
func (s *seqCol) addValue(w []uint32) {
	if len(w) == 0 {
		return
	}
	s.words = append(s.words, w...)
	s.wordEnd = append(s.wordEnd, uint32(len(s.words)))
}

// endOffset closes offset off: the values added since the previous
// offset are its own; offsets skipped in between have none.
func (s *seqCol) endOffset(off uint32) {
	for uint32(len(s.valEnd)) < off+1 {
		s.valEnd = append(s.valEnd, s.valEnd[len(s.valEnd)-1])
	}
	s.valEnd = append(s.valEnd, uint32(len(s.wordEnd)-1))
}

// freeze extends the column to n offsets and renumbers the words with
// perm (old id -> rank).
func (s *seqCol) freeze(n int, perm []uint32) {
	for len(s.valEnd) < n+1 {
		s.valEnd = append(s.valEnd, s.valEnd[len(s.valEnd)-1])
	}
	for i, w := range s.words {
		s.words[i] = perm[w]
	}
	s.valEnd = slices.Clip(s.valEnd)
	s.wordEnd = slices.Clip(s.wordEnd)
	s.words = slices.Clip(s.words)
}

// has reports whether one value of off has the words q consecutively.
func (s *seqCol) has(off uint32, q []uint32) bool {
	if int(off)+1 >= len(s.valEnd) {
		return false
	}
	for v := s.valEnd[off]; v < s.valEnd[off+1]; v++ {
		w := s.words[s.wordEnd[v]:s.wordEnd[v+1]]
	next:
		for i := 0; i+len(q) <= len(w); i++ {
			for j, id := range q {
				if w[i+j] != id {
					continue next
				}
			}
			return true
		}
	}
	return false
}

func (s *seqCol) memory() int {
	return 64 + 4*cap(s.valEnd) + 4*cap(s.wordEnd) + 4*cap(s.words)
}

// textQuery is Text, TextAny or Phrase on a text index.
type textQuery struct {
	x      *Index
	op     form
	ids    []uint32 // distinct ids of the query tokens (fPhrase: of its words)
	phrase []uint32 // fPhrase: the word ids in order
}

// compileText compiles c for a text index.
func (x *Index) compileText(c *filter.Condition, f form) (query, bool) {
	q := &textQuery{x: x, op: f}
	d := x.dict
	missing := false
	switch f {
	case fText, fTextAny:
		s := c.Match.Text
		if f == fTextAny {
			s = c.Match.TextAny
		}
		n := 0
		x.tok.QueryTokens(s, func(tok string) bool {
			n++
			if id, ok := d.lookup(tok); ok {
				q.ids = append(q.ids, id)
			} else {
				missing = true
			}
			return true
		})
		if n == 0 || (f == fText && missing) || len(q.ids) == 0 {
			return emptyQuery{}, true // no token, or one no string has
		}
	case fPhrase:
		if !x.schema.PhraseMatching {
			return nil, false
		}
		x.tok.Words(c.Match.Phrase, func(w string) bool {
			id, ok := d.lookup(w)
			if !ok {
				missing = true
				return false
			}
			q.phrase = append(q.phrase, id)
			return true
		})
		if missing || len(q.phrase) == 0 {
			return emptyQuery{}, true
		}
		q.ids = slices.Clone(q.phrase)
	default:
		return nil, false
	}
	slices.Sort(q.ids)
	q.ids = slices.Compact(q.ids)
	// Intersect the shortest lists first.
	slices.SortFunc(q.ids, func(a, b uint32) int { return d.card(a) - d.card(b) })
	return q, true
}

func (q *textQuery) estimate() filter.Cardinality {
	d, n := q.x.dict, q.x.nIndexed
	if q.op == fTextAny {
		sum, top := 0, 0
		for _, id := range q.ids {
			c := d.card(id)
			sum += c
			top = max(top, c)
		}
		if len(q.ids) == 1 {
			return exact(top)
		}
		return filter.Cardinality{Min: top, Exp: min(sum, n), Max: min(sum, n)}
	}
	// All of the tokens: at most the shortest list; at least what the
	// lists must share (inclusion-exclusion); expect independence.
	least := d.card(q.ids[0])
	if len(q.ids) == 1 && q.op == fText {
		return exact(least)
	}
	sum, exp := 0, float64(n)
	for _, id := range q.ids {
		c := d.card(id)
		sum += c
		if n > 0 {
			exp *= float64(c) / float64(n)
		}
	}
	lo := max(0, sum-(len(q.ids)-1)*n)
	if q.op == fPhrase {
		lo = 0
	}
	return filter.Cardinality{Min: lo, Exp: int(exp), Max: least}
}

// all returns the offsets having every id.
func (q *textQuery) all() *roaring.Bitmap {
	d := q.x.dict
	bm := d.bitmap(q.ids[0])
	for _, id := range q.ids[1:] {
		if bm.IsEmpty() {
			break
		}
		d.andInto(bm, id)
	}
	return bm
}

func (q *textQuery) bitmap() *roaring.Bitmap {
	switch q.op {
	case fTextAny:
		bm := roaring.New()
		for _, id := range q.ids {
			q.x.dict.orInto(bm, id)
		}
		return bm
	case fText:
		return q.all()
	}
	cand := q.all()
	var hits []uint32
	it := cand.Iterator()
	for it.HasNext() {
		if off := it.Next(); q.x.seq.has(off, q.phrase) {
			hits = append(hits, off)
		}
	}
	bm := roaring.New()
	bm.AddMany(hits)
	return bm
}

func (q *textQuery) checker() func(off uint32) bool {
	if q.op != fPhrase {
		return q.bitmap().Contains
	}
	cand, seq, phrase := q.all(), q.x.seq, q.phrase
	return func(off uint32) bool { return cand.Contains(off) && seq.has(off, phrase) }
}
