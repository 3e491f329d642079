package text

import (
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/strata-db/strata/internal/base"
)

// Params configures a [Tokenizer]. The zero value is the "word" tokenizer
// with no length bounds, no lowercasing, no folding and no stopwords. The
// fields mirror Qdrant's TextIndexParams.
type Params struct {
	// Tokenizer is "word" (the default when empty), "whitespace", "prefix"
	// or "multilingual".
	Tokenizer string
	// MinTokenLen drops tokens shorter than this many runes; 0 means no
	// bound. For "prefix" it is the length of the shortest prefix stored.
	MinTokenLen int
	// MaxTokenLen drops tokens longer than this many runes; 0 means no
	// bound. For "prefix" it is the length of the longest prefix stored.
	MaxTokenLen int
	// Lowercase maps every rune of a token with [unicode.ToLower].
	Lowercase bool
	// ASCIIFolding folds accented Latin letters to ASCII: "ação" -> "acao".
	ASCIIFolding bool
	// Stopwords lists tokens to drop. They are compared after lowercasing
	// and folding, which are applied to the list as well. [Stopwords]
	// returns built-in lists.
	Stopwords []string
}

// kind is a segmentation algorithm. The zero value is kindWord, so that the
// zero Tokenizer is usable.
type kind uint8

const (
	kindWord kind = iota
	kindWhitespace
	kindPrefix
	kindMultilingual
)

// mode is the view a call asks for.
type mode uint8

const (
	modeIndex mode = iota // Tokens
	modeQuery             // QueryTokens
	modeWords             // Words
)

// Tokenizer splits strings into tokens. It is immutable once built by [New]
// and safe for concurrent use. The zero value is a "word" tokenizer without
// lowercasing, folding, bounds or stopwords.
type Tokenizer struct {
	kind   kind
	lower  bool
	fold   bool
	minLen int // 0: no bound
	maxLen int // 0: no bound
	// stop holds the normalised stopwords; nil when there are none. It is
	// only read after New returns.
	stop map[string]struct{}
}

// New returns a Tokenizer for p. It fails with an error matching
// [base.ErrInvalidArgument] when p names an unknown tokenizer, when a length
// bound is negative or when MinTokenLen exceeds MaxTokenLen.
func New(p Params) (*Tokenizer, error) {
	t := &Tokenizer{
		lower:  p.Lowercase,
		fold:   p.ASCIIFolding,
		minLen: p.MinTokenLen,
		maxLen: p.MaxTokenLen,
	}
	switch p.Tokenizer {
	case "", "word":
		t.kind = kindWord
	case "whitespace":
		t.kind = kindWhitespace
	case "prefix":
		t.kind = kindPrefix
	case "multilingual":
		t.kind = kindMultilingual
	default:
		return nil, base.InvalidArgumentf("tokenizer: unknown tokenizer %q (want word, whitespace, prefix or multilingual)", p.Tokenizer)
	}
	if p.MinTokenLen < 0 {
		return nil, base.InvalidArgumentf("min_token_len: must not be negative, got %d", p.MinTokenLen)
	}
	if p.MaxTokenLen < 0 {
		return nil, base.InvalidArgumentf("max_token_len: must not be negative, got %d", p.MaxTokenLen)
	}
	if p.MaxTokenLen > 0 && p.MinTokenLen > p.MaxTokenLen {
		return nil, base.InvalidArgumentf("min_token_len: %d is greater than max_token_len %d", p.MinTokenLen, p.MaxTokenLen)
	}
	if len(p.Stopwords) > 0 {
		t.stop = make(map[string]struct{}, len(p.Stopwords))
		var sc scratch
		st := state{t: t, sc: &sc}
		for _, w := range p.Stopwords {
			if w == "" {
				continue
			}
			t.stop[strings.Clone(st.normalize(w))] = struct{}{}
		}
		sc.release()
	}
	return t, nil
}

// Tokens calls fn with the tokens an index stores for s, in order, until fn
// returns false. For "prefix" these are the prefixes of every word. tok is
// valid only until fn returns (see the package doc, "Caveats").
func (t *Tokenizer) Tokens(s string, fn func(tok string) bool) {
	t.run(s, modeIndex, fn)
}

// QueryTokens calls fn with the tokens a query for s looks up, in order,
// until fn returns false. They are the words of s; for "prefix" they are
// looked up among the stored prefixes, so they are cut to MaxTokenLen runes
// and not filtered by the stopwords. tok is valid only until fn returns.
func (t *Tokenizer) QueryTokens(s string, fn func(tok string) bool) {
	t.run(s, modeQuery, fn)
}

// Words calls fn with the words of s in order until fn returns false: the
// tokens of the "word" tokenizer for "prefix" (normalised, bounded, without
// stopwords, not expanded into prefixes), and the same tokens as [Tokens]
// for the other tokenizers. Phrase matching compares these sequences. tok
// is valid only until fn returns.
func (t *Tokenizer) Words(s string, fn func(tok string) bool) {
	t.run(s, modeWords, fn)
}

func (t *Tokenizer) run(s string, m mode, fn func(string) bool) {
	var sc scratch
	st := state{t: t, fn: fn, mode: m, sc: &sc}
	switch t.kind {
	case kindWhitespace:
		st.splitWhitespace(s)
	case kindMultilingual:
		st.splitMultilingual(s)
	default:
		st.splitWords(s)
	}
	sc.release()
}

// maxPooledBuf is the largest buffer returned to bufPool; a rare huge token
// must not pin its buffer forever.
const maxPooledBuf = 64 << 10

// bufPool holds the buffers that changed tokens are written to.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 256)
	return &b
}}

// state is one call of a Tokenizer method. It lives on the caller's stack.
type state struct {
	t    *Tokenizer
	fn   func(string) bool
	mode mode
	// sc is kept apart from fn: escape analysis does not tell a struct's
	// fields apart, and if the pooled buffer shared a struct with fn, the
	// pool would make every caller's closure escape to the heap.
	sc *scratch
}

// scratch holds the buffer that changed tokens are written to.
type scratch struct {
	buf *[]byte // from bufPool, taken on the first changed token
}

// release returns the buffer to the pool.
func (sc *scratch) release() {
	if sc.buf != nil && cap(*sc.buf) <= maxPooledBuf {
		bufPool.Put(sc.buf)
	}
	sc.buf = nil
}

// decode returns the rune at s[i] and its width. An invalid byte decodes as
// (utf8.RuneError, 1), which no predicate below accepts: it separates.
func decode(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// asciiAlnum reports the ASCII letters and digits.
var asciiAlnum = func() (a [utf8.RuneSelf]bool) {
	for c := range a {
		a[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return a
}()

// isWordStart reports whether r may begin a word: a letter, a number or an
// alphabetic mark, as Rust's char::is_alphanumeric.
func isWordStart(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiAlnum[r]
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// isWordCont reports whether r continues a word that has started: a word
// start or a combining mark.
func isWordCont(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiAlnum[r]
	}
	return isWordStart(r) || unicode.IsMark(r)
}

// isJoiner reports ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER, which stay
// inside a word when a word rune follows them (Persian, Indic scripts).
func isJoiner(r rune) bool { return r == 0x200C || r == 0x200D }

// wordEnd returns the end of a word whose runes before s[i] have been
// accepted. If stopCJK is set, a CJK rune ends the word.
func wordEnd(s string, i int, stopCJK bool) int {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !asciiAlnum[c] {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isJoiner(r) {
			if i+n >= len(s) {
				break
			}
			r2, n2 := decode(s, i+n)
			if !isWordCont(r2) || stopCJK && isCJK(r2) {
				break
			}
			i += n + n2
			continue
		}
		if !isWordCont(r) || stopCJK && isCJK(r) {
			break
		}
		i += n
	}
	return i
}

// splitWords segments s for "word" and "prefix".
func (st *state) splitWords(s string) {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf && !asciiAlnum[c] {
			i++
			continue
		}
		r, n := decode(s, i)
		if !isWordStart(r) {
			i += n
			continue
		}
		end := wordEnd(s, i+n, false)
		if !st.word(s[i:end]) {
			return
		}
		i = end
	}
}

// isSep reports the separators of "whitespace": Unicode white space and
// invalid bytes, which decode as (utf8.RuneError, 1).
func isSep(r rune, n int) bool {
	if r < utf8.RuneSelf {
		return asciiSpace[r]
	}
	return r == utf8.RuneError && n == 1 || unicode.IsSpace(r)
}

// splitWhitespace segments s for "whitespace".
func (st *state) splitWhitespace(s string) {
	for i := 0; i < len(s); {
		r, n := decode(s, i)
		if isSep(r, n) {
			i += n
			continue
		}
		start := i
		for i += n; i < len(s); i += n {
			r, n = decode(s, i)
			if isSep(r, n) {
				break
			}
		}
		if !st.word(s[start:i]) {
			return
		}
	}
}

// asciiSpace reports the ASCII white space of unicode.IsSpace.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// isCJK reports the runes that "multilingual" segments into bigrams: Han,
// Hiragana and Katakana, plus the prolonged sound marks, which belong to
// the Common script but live inside Katakana words ("ラーメン").
func isCJK(r rune) bool {
	switch {
	case r < 0x2E80:
		return false
	case commonCJK(r):
		return true
	}
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		r == 0x30FC || r == 0xFF70
}

// commonCJK reports the most frequent CJK runes, the hiragana, katakana
// and CJK Unified Ideographs blocks without their marks, saving isCJK and
// cjkUnitEnd the Unicode table searches.
func commonCJK(r rune) bool {
	return 0x3041 <= r && r <= 0x3096 || 0x30A1 <= r && r <= 0x30FC || 0x4E00 <= r && r <= 0x9FFF
}

// splitMultilingual segments s for "multilingual": words as splitWords,
// except that runs of CJK runes yield overlapping bigrams.
func (st *state) splitMultilingual(s string) {
	for i := 0; i < len(s); {
		r, n := decode(s, i)
		switch {
		case isCJK(r):
			var ok bool
			if i, ok = st.cjkRun(s, i, n); !ok {
				return
			}
		case isWordStart(r):
			end := wordEnd(s, i+n, true)
			if !st.word(s[i:end]) {
				return
			}
			i = end
		default:
			i += n
		}
	}
}

// marksEnd returns the end of the combining marks at s[i:], which belong to
// the CJK character before them (voiced sound marks of decomposed kana,
// ideographic variation selectors), and the rune after them with its width;
// the width is 0 at the end of s.
func marksEnd(s string, i int) (end int, next rune, n int) {
	for i < len(s) {
		r, n := decode(s, i)
		if r < 0x300 || commonCJK(r) || !unicode.IsMark(r) {
			return i, r, n
		}
		i += n
	}
	return i, 0, 0
}

// cjkRun emits the bigrams of the CJK run that starts at s[i] with a rune
// n bytes wide, and returns the run's end; ok is false if the callback
// stopped.
func (st *state) cjkRun(s string, i, n int) (end int, ok bool) {
	start := i
	prev := i                     // start of the previous character
	cur, r, n := marksEnd(s, i+n) // end of the current character
	count := 1                    // characters so far
	for n > 0 && isCJK(r) {
		var next int
		next, r, n = marksEnd(s, cur+n)
		if !st.word(s[prev:next]) {
			return next, false
		}
		prev, cur = cur, next
		count++
	}
	if count == 1 && !st.word(s[start:cur]) {
		return cur, false
	}
	return cur, true
}

// word normalises a raw word and emits what the mode asks for.
func (st *state) word(raw string) bool {
	tok := st.normalize(raw)
	if tok == "" {
		// Folding dropped every rune: the word was combining marks only.
		return true
	}
	if st.t.kind == kindPrefix {
		switch st.mode {
		case modeIndex:
			return st.prefixes(tok)
		case modeQuery:
			return st.prefixQuery(tok)
		}
	}
	return st.emit(tok)
}

// emit applies the length bounds and the stopwords to a normalised token.
func (st *state) emit(tok string) bool {
	t := st.t
	if t.minLen > 0 || t.maxLen > 0 {
		n := runeCount(tok)
		if n < t.minLen || t.maxLen > 0 && n > t.maxLen {
			return true
		}
	}
	if t.isStop(tok) {
		return true
	}
	return st.fn(tok)
}

// prefixes emits the prefixes of a normalised word for "prefix" indexing.
func (st *state) prefixes(tok string) bool {
	t := st.t
	if t.isStop(tok) {
		return true
	}
	lo, hi := max(1, t.minLen), t.maxLen
	if hi == 0 {
		hi = math.MaxInt
	}
	n := 0
	for i := 0; i < len(tok); {
		_, w := decode(tok, i)
		i += w
		n++
		if n > hi {
			break
		}
		if n >= lo && !st.fn(tok[:i]) {
			return false
		}
	}
	return true
}

// prefixQuery emits a normalised query word for "prefix": cut to the
// longest stored prefix and not filtered by the stopwords.
func (st *state) prefixQuery(tok string) bool {
	t := st.t
	if t.maxLen > 0 {
		n := 0
		for i := 0; i < len(tok); {
			_, w := decode(tok, i)
			i += w
			if n++; n == t.maxLen {
				tok = tok[:i]
				break
			}
		}
	}
	if t.minLen > 0 && runeCount(tok) < t.minLen {
		return true
	}
	return st.fn(tok)
}

func (t *Tokenizer) isStop(tok string) bool {
	if t.stop == nil {
		return false
	}
	_, ok := t.stop[tok]
	return ok
}

// runeCount is utf8.RuneCountInString with an ASCII fast path.
func runeCount(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i + utf8.RuneCountInString(s[i:])
		}
	}
	return len(s)
}
