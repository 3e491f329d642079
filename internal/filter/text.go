package filter

import (
	"strings"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/text"
)

// TokenizerFor returns the tokenizer of a text index with schema s, with
// Qdrant's defaults: the "word" tokenizer, lowercasing on, no length
// bounds, no folding; the stopwords are the built-in lists of
// s.Stopwords.Languages plus s.Stopwords.Custom. Errors match
// base.ErrInvalidArgument.
func TokenizerFor(s FieldSchema) (*text.Tokenizer, error) {
	p := text.Params{
		Tokenizer:    s.Tokenizer,
		Lowercase:    s.Lowercase == nil || *s.Lowercase,
		ASCIIFolding: s.ASCIIFolding,
	}
	if p.Tokenizer == "" {
		p.Tokenizer = "word"
	}
	if s.MinTokenLen != nil {
		p.MinTokenLen = *s.MinTokenLen
	}
	if s.MaxTokenLen != nil {
		p.MaxTokenLen = *s.MaxTokenLen
	}
	if sw := s.Stopwords; sw != nil {
		for _, lang := range sw.Languages {
			words, ok := text.Stopwords(strings.ToLower(lang))
			if !ok {
				return nil, base.InvalidArgumentf("stopwords: unknown language %q", lang)
			}
			p.Stopwords = append(p.Stopwords, words...)
		}
		p.Stopwords = append(p.Stopwords, sw.Custom...)
	}
	return text.New(p)
}

type textMode uint8

const (
	textAll    textMode = iota // every query token (Match.Text)
	textAny                    // some query token (Match.TextAny)
	textPhrase                 // the query's words in a row (Match.Phrase)
)

// textPred is Match.Text, TextAny or Phrase (F4). With a tokenizer, terms
// are the query's distinct tokens (the words of the phrase, in order, for
// textPhrase); without one, the whitespace-separated terms of the query
// (the whole phrase for textPhrase).
type textPred struct {
	mode  textMode
	tok   *text.Tokenizer
	terms []string
	index map[string]int // tok != nil, mode != textPhrase: term -> position
}

func newTextPred(mode textMode, query string, tok *text.Tokenizer) *textPred {
	t := &textPred{mode: mode, tok: tok}
	switch {
	case tok == nil && mode == textPhrase:
		t.terms = []string{query}
	case tok == nil:
		t.terms = strings.Fields(query)
	case mode == textPhrase:
		tok.Words(query, func(w string) bool {
			t.terms = append(t.terms, strings.Clone(w))
			return true
		})
	default:
		t.index = map[string]int{}
		tok.QueryTokens(query, func(w string) bool {
			if _, dup := t.index[w]; !dup {
				w = strings.Clone(w)
				t.index[w] = len(t.terms)
				t.terms = append(t.terms, w)
			}
			return true
		})
	}
	return t
}

func (t *textPred) holds(doc any, p Path) bool {
	if len(t.terms) == 0 {
		return false
	}
	if t.tok == nil || t.mode == textPhrase {
		return anyValue(doc, p, t)
	}
	// The tokens of all the key's strings together, as an inverted index
	// holds them for the point.
	seen := make([]bool, len(t.terms))
	left := len(t.terms)
	done := false
	Values(doc, p, func(v any) bool {
		s, ok := v.(string)
		if !ok {
			return true
		}
		t.tok.Tokens(s, func(w string) bool {
			i, ok := t.index[w]
			if !ok || seen[i] {
				return true
			}
			seen[i] = true
			left--
			done = t.mode == textAny || left == 0
			return !done
		})
		return !done
	})
	return done
}

// match tests one string value: substring semantics without a tokenizer,
// phrase semantics with one.
func (t *textPred) match(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	if t.tok != nil { // textPhrase
		return hasPhrase(t.tok, s, t.terms)
	}
	if t.mode == textAny {
		for _, term := range t.terms {
			if strings.Contains(s, term) {
				return true
			}
		}
		return false
	}
	for _, term := range t.terms {
		if !strings.Contains(s, term) {
			return false
		}
	}
	return true
}

// hasPhrase reports whether words occur consecutively among the words of s.
func hasPhrase(tok *text.Tokenizer, s string, words []string) bool {
	var doc []string
	tok.Words(s, func(w string) bool {
		doc = append(doc, strings.Clone(w))
		return true
	})
	for i := 0; i+len(words) <= len(doc); i++ {
		match := true
		for j, w := range words {
			if doc[i+j] != w {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
