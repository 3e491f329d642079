package text

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The reference tokenizer below restates the package doc with runes and
// fresh strings, and no care for speed; the fuzz test compares the real one
// against it.

func refIsStart(r rune) bool {
	return unicode.In(r, unicode.L, unicode.N, unicode.Other_Alphabetic)
}

func refIsCont(r rune) bool { return refIsStart(r) || unicode.In(r, unicode.M) }

func refIsCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) || r == 'ー' || r == 'ｰ'
}

// refSegment returns the raw words of s for a kind, before normalisation.
func refSegment(s string, k kind) []string {
	// Invalid bytes separate: replace them with a space.
	rs := []rune(strings.ToValidUTF8(s, " "))
	var out []string
	if k == kindWhitespace {
		return strings.FieldsFunc(string(rs), unicode.IsSpace)
	}
	multi := k == kindMultilingual
	for i := 0; i < len(rs); {
		if multi && refIsCJK(rs[i]) {
			// Characters: a CJK rune and the marks after it.
			var chars []string
			for i < len(rs) && refIsCJK(rs[i]) {
				j := i + 1
				for j < len(rs) && rs[j] >= 0x300 && unicode.In(rs[j], unicode.M) {
					j++
				}
				chars = append(chars, string(rs[i:j]))
				i = j
			}
			if len(chars) == 1 {
				out = append(out, chars[0])
			}
			for c := 0; c+1 < len(chars); c++ {
				out = append(out, chars[c]+chars[c+1])
			}
			continue
		}
		if !refIsStart(rs[i]) {
			i++
			continue
		}
		ok := func(r rune) bool { return refIsCont(r) && !(multi && refIsCJK(r)) }
		j := i + 1
		for j < len(rs) {
			if (rs[j] == 0x200C || rs[j] == 0x200D) && j+1 < len(rs) && ok(rs[j+1]) {
				j += 2
				continue
			}
			if !ok(rs[j]) {
				break
			}
			j++
		}
		out = append(out, string(rs[i:j]))
		i = j
	}
	return out
}

func refNormalize(w string, p Params) string {
	if p.Lowercase {
		w = strings.ToLower(w)
	}
	if p.ASCIIFolding {
		var b strings.Builder
		for _, r := range w {
			switch {
			case foldRune(r) != "":
				b.WriteString(foldRune(r))
			case 0x300 <= r && r <= 0x36F:
			default:
				b.WriteRune(r)
			}
		}
		w = b.String()
	}
	return w
}

// refView returns what a view yields for s.
func refView(s string, p Params, m mode) []string {
	k := map[string]kind{"": kindWord, "word": kindWord, "whitespace": kindWhitespace, "prefix": kindPrefix, "multilingual": kindMultilingual}[p.Tokenizer]
	stop := map[string]bool{}
	for _, w := range p.Stopwords {
		if w != "" {
			stop[refNormalize(w, p)] = true
		}
	}
	inBounds := func(w string) bool {
		n := utf8.RuneCountInString(w)
		return n >= p.MinTokenLen && (p.MaxTokenLen == 0 || n <= p.MaxTokenLen)
	}
	var out []string
	for _, raw := range refSegment(s, k) {
		w := refNormalize(raw, p)
		rs := []rune(w)
		switch {
		case w == "":
		case k == kindPrefix && m == modeIndex:
			if stop[w] {
				continue
			}
			for n := max(1, p.MinTokenLen); n <= len(rs) && (p.MaxTokenLen == 0 || n <= p.MaxTokenLen); n++ {
				out = append(out, string(rs[:n]))
			}
		case k == kindPrefix && m == modeQuery:
			if p.MaxTokenLen > 0 && len(rs) > p.MaxTokenLen {
				rs = rs[:p.MaxTokenLen]
			}
			if len(rs) >= p.MinTokenLen {
				out = append(out, string(rs))
			}
		default:
			if inBounds(w) && !stop[w] {
				out = append(out, w)
			}
		}
	}
	return out
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"", "Hello, World!", "ação Straße ÆØ łódź œuvre", "東京都に住む", "私はラーメンが好きです。",
		"서울에서 살아요", "a\xffb\xe2\x82c", "cafe\u0301 हिन्दी می\u200cخواهم", "😀👍🏽 ❤️", "The theory of THE",
	} {
		f.Add(s, uint8(0), uint8(0), uint8(0), true, true)
		f.Add(s, uint8(2), uint8(1), uint8(4), true, false)
		f.Add(s, uint8(3), uint8(2), uint8(0), false, true)
	}
	kinds := []string{"word", "whitespace", "prefix", "multilingual"}
	f.Fuzz(func(t *testing.T, s string, k, minLen, maxLen uint8, lower, fold bool) {
		p := Params{
			Tokenizer:    kinds[int(k)%len(kinds)],
			MinTokenLen:  int(minLen % 8),
			MaxTokenLen:  int(maxLen % 8),
			Lowercase:    lower,
			ASCIIFolding: fold,
			Stopwords:    []string{"the", "a", "É", "東京"},
		}
		if p.MaxTokenLen > 0 && p.MinTokenLen > p.MaxTokenLen {
			p.MinTokenLen, p.MaxTokenLen = p.MaxTokenLen, p.MinTokenLen
		}
		tk, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		views := []struct {
			name string
			m    mode
			fn   func(string, func(string) bool)
		}{
			{"Tokens", modeIndex, tk.Tokens},
			{"QueryTokens", modeQuery, tk.QueryTokens},
			{"Words", modeWords, tk.Words},
		}
		got := map[mode][]string{}
		for _, v := range views {
			toks := collect(v.fn, s)
			for _, tok := range toks {
				if tok == "" || !utf8.ValidString(tok) {
					t.Fatalf("%+v %s(%q): bad token %q", p, v.name, s, tok)
				}
				n := utf8.RuneCountInString(tok)
				if n < p.MinTokenLen || p.MaxTokenLen > 0 && n > p.MaxTokenLen {
					t.Fatalf("%+v %s(%q): token %q out of bounds", p, v.name, s, tok)
				}
			}
			if want := refView(s, p, v.m); !slices.Equal(toks, want) {
				t.Fatalf("%+v %s(%q)\n got %q\nwant %q", p, v.name, s, toks, want)
			}
			got[v.m] = toks
		}
		// T3: every word is a token.
		if p.Tokenizer != "prefix" {
			if !slices.Equal(got[modeIndex], got[modeWords]) || !slices.Equal(got[modeIndex], got[modeQuery]) {
				t.Fatalf("%+v (%q): views differ: %q %q %q", p, s, got[modeIndex], got[modeQuery], got[modeWords])
			}
		}
		index := map[string]bool{}
		for _, tok := range got[modeIndex] {
			index[tok] = true
		}
		for _, w := range got[modeWords] {
			if !index[w] {
				t.Fatalf("%+v (%q): word %q is not among the tokens %q", p, s, w, got[modeIndex])
			}
		}
		// For "prefix", Words is the "word" tokenizer's output.
		if p.Tokenizer == "prefix" {
			wp := p
			wp.Tokenizer = "word"
			if want := collect(mustNew(t, wp).Tokens, s); !slices.Equal(got[modeWords], want) {
				t.Fatalf("%+v Words(%q) = %q, word tokenizer gives %q", p, s, got[modeWords], want)
			}
		}
	})
}
