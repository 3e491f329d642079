package text

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unsafe"

	"github.com/strata-db/strata/internal/base"
)

func mustNew(t testing.TB, p Params) *Tokenizer {
	t.Helper()
	tk, err := New(p)
	if err != nil {
		t.Fatalf("New(%+v): %v", p, err)
	}
	return tk
}

// collect returns the tokens a view yields, cloned.
func collect(view func(string, func(string) bool), s string) []string {
	var out []string
	view(s, func(tok string) bool {
		out = append(out, strings.Clone(tok))
		return true
	})
	return out
}

// checkView fails unless every input yields want through view.
func checkView(t *testing.T, name string, view func(string, func(string) bool), in string, want ...string) {
	t.Helper()
	if got := collect(view, in); !slices.Equal(got, want) {
		t.Errorf("%s(%q)\n got %q\nwant %q", name, in, got, want)
	}
}

func TestWord(t *testing.T) {
	tk := mustNew(t, Params{})
	f := func(in string, want ...string) {
		t.Helper()
		checkView(t, "Tokens", tk.Tokens, in, want...)
		checkView(t, "QueryTokens", tk.QueryTokens, in, want...)
		checkView(t, "Words", tk.Words, in, want...)
	}
	f("")
	f(" ,.;!?  -- ")
	f("Hello, world!", "Hello", "world")
	f("abc123 4.5 -7", "abc123", "4", "5", "7")
	f("snake_case-and/slash", "snake", "case", "and", "slash")
	f("don't", "don", "t")
	f("Привет, мир!", "Привет", "мир")
	f("Ελληνικά και العربية", "Ελληνικά", "και", "العربية")
	f("x² ½ ①", "x²", "½", "①")
	f("emoji 😀 here👍🏽ok", "emoji", "here", "ok")
	f("❤️ love ❤️", "love")
	f("東京都に住む 서울", "東京都に住む", "서울")
	// Combining marks continue a word: NFD accents, Devanagari virama.
	f("cafe\u0301 au lait", "cafe\u0301", "au", "lait")
	f("हिन्दी भाषा", "हिन्दी", "भाषा")
	// A mark does not start a word.
	f("\u0301a \u0301", "a")
	// Joiners stay inside a word only between word runes.
	f("می\u200cخواهم", "می\u200cخواهم")
	f("a\u200d \u200db a\u200d\u200db", "a", "b", "a", "b")
	// Invalid UTF-8 separates.
	f("ab\xffcd", "ab", "cd")
	f("\xff\xfe\xfd")
	f("a\xe2\x82b", "a", "b") // truncated "€"
	f("\xed\xa0\x80x", "x")   // surrogate
	f("ok\uFFFDok", "ok", "ok")
}

func TestWhitespace(t *testing.T) {
	tk := mustNew(t, Params{Tokenizer: "whitespace"})
	f := func(in string, want ...string) {
		t.Helper()
		checkView(t, "Tokens", tk.Tokens, in, want...)
		checkView(t, "QueryTokens", tk.QueryTokens, in, want...)
		checkView(t, "Words", tk.Words, in, want...)
	}
	f("")
	f(" \t\n\r\v\f ")
	f("Hello, world!", "Hello,", "world!")
	f("a\tb\nc\u00a0d\u3000e\u2028f\u0085g", "a", "b", "c", "d", "e", "f", "g")
	f("snake_case e-mail@x.org 3.14", "snake_case", "e-mail@x.org", "3.14")
	f("😀 👍🏽", "😀", "👍🏽")
	f("a\xffb \xfe", "a", "b")
	f("東京都 に", "東京都", "に")

	lower := mustNew(t, Params{Tokenizer: "whitespace", Lowercase: true, ASCIIFolding: true})
	checkView(t, "Tokens", lower.Tokens, "Ça-VA? ÉTÉ!", "ca-va?", "ete!")
	// A token of combining marks only folds to nothing and is dropped.
	checkView(t, "Tokens", lower.Tokens, "a \u0301\u0302 b", "a", "b")
}

func TestPrefix(t *testing.T) {
	tk := mustNew(t, Params{Tokenizer: "prefix", MaxTokenLen: 4})
	checkView(t, "Tokens", tk.Tokens, "hello, мир!", "h", "he", "hel", "hell", "м", "ми", "мир")
	checkView(t, "QueryTokens", tk.QueryTokens, "hello, мир!", "hell", "мир")
	// Words drops "hello": it is longer than MaxTokenLen, as for "word".
	checkView(t, "Words", tk.Words, "hello, мир!", "мир")
	checkView(t, "Tokens", tk.Tokens, "")
	checkView(t, "Tokens", tk.Tokens, "...")

	tk = mustNew(t, Params{Tokenizer: "prefix", MinTokenLen: 2, Lowercase: true})
	checkView(t, "Tokens", tk.Tokens, "a Qdrant", "qd", "qdr", "qdra", "qdran", "qdrant")
	checkView(t, "QueryTokens", tk.QueryTokens, "a Qdr", "qdr")
	checkView(t, "Words", tk.Words, "a Qdrant", "qdrant")

	// Stopwords apply to whole words when indexing and not to queries.
	tk = mustNew(t, Params{Tokenizer: "prefix", Lowercase: true, Stopwords: []string{"the"}})
	checkView(t, "Tokens", tk.Tokens, "The theory", "t", "th", "the", "theo", "theor", "theory")
	checkView(t, "QueryTokens", tk.QueryTokens, "THE", "the")
	checkView(t, "Words", tk.Words, "The theory", "theory")

	// Prefixes are cut at rune boundaries, also after folding.
	tk = mustNew(t, Params{Tokenizer: "prefix", MinTokenLen: 2, MaxTokenLen: 3, ASCIIFolding: true})
	checkView(t, "Tokens", tk.Tokens, "Straße ñé", "St", "Str", "ne")
	checkView(t, "QueryTokens", tk.QueryTokens, "Straße ñ", "Str")
}

func TestMultilingual(t *testing.T) {
	tk := mustNew(t, Params{Tokenizer: "multilingual", Lowercase: true})
	f := func(in string, want ...string) {
		t.Helper()
		checkView(t, "Tokens", tk.Tokens, in, want...)
		checkView(t, "QueryTokens", tk.QueryTokens, in, want...)
		checkView(t, "Words", tk.Words, in, want...)
	}
	f("")
	f("。、！")
	f("東京都に住む", "東京", "京都", "都に", "に住", "住む")
	f("今天是星期一", "今天", "天是", "是星", "星期", "期一")
	// Kana and kanji mixed; the prolonged sound mark stays inside a run and
	// punctuation ends it.
	f("私はラーメンが好きです。", "私は", "はラ", "ラー", "ーメ", "メン", "ンが", "が好", "好き", "きで", "です")
	f("ｶﾀｶﾅ", "ｶﾀ", "ﾀｶ", "ｶﾅ")
	// One character alone yields itself.
	f("日 本。", "日", "本")
	// Scripts with spaces split as words; a script change ends a word.
	f("Qdrantのコード", "qdrant", "のコ", "コー", "ード")
	f("Hello世界123", "hello", "世界", "123")
	f("2024年1月", "2024", "年", "1", "月")
	// Hangul splits on spaces like words.
	f("서울에서 살아요, 한국!", "서울에서", "살아요", "한국")
	f("Привет 世界 😀 мир", "привет", "世界", "мир")
	// Combining voiced sound mark (decomposed kana) stays with its kana.
	f("か\u3099き", "か\u3099き")
	f("a\xff東\xfe京", "a", "東", "京")

	tk = mustNew(t, Params{Tokenizer: "multilingual", Stopwords: []string{"は", "です"}})
	checkView(t, "Tokens", tk.Tokens, "私はです", "私は", "はで")
	checkView(t, "Tokens", tk.Tokens, "は")
}

func TestLowercaseFolding(t *testing.T) {
	f := func(p Params, in string, want ...string) {
		t.Helper()
		checkView(t, "Tokens", mustNew(t, p).Tokens, in, want...)
	}
	lower := Params{Lowercase: true}
	fold := Params{ASCIIFolding: true}
	both := Params{Lowercase: true, ASCIIFolding: true}

	f(lower, "HeLLo WORLD", "hello", "world")
	f(lower, "ÀÉÎ Straße ПРИВЕТ ΣΟΦΙΑ", "àéî", "straße", "привет", "σοφια")
	f(lower, "İstanbul", "istanbul")
	f(fold, "ação Straße ÆØ łódź œuvre", "acao", "Strasse", "AEO", "lodz", "oeuvre")
	f(fold, "Þórr ĲSSEL ſ", "THorr", "IJSSEL", "s")
	f(fold, "привет", "привет")
	f(both, "ÀÉÎ Ærø ŒUVRE", "aei", "aero", "oeuvre")
	f(both, "Crème Brûlée", "creme", "brulee")
	// Decomposed accents fold like composed ones.
	f(both, "Cafe\u0301 A\u0300", "cafe", "a")
	f(both, "ﬁne ﬂow", "fine", "flow")
	// Folding keeps marks outside the Latin block: Devanagari vowel signs.
	f(both, "हिन्दी", "हिन्दी")
	// Without either option tokens are untouched.
	f(Params{}, "ÀÉÎ", "ÀÉÎ")
}

// TestSubstringWhenUnchanged checks invariant T4: unchanged tokens point
// into the input, changed ones do not allocate a string each.
func TestSubstringWhenUnchanged(t *testing.T) {
	s := "hello wörld Ünchanged no"
	tk := mustNew(t, Params{Lowercase: true})
	lo := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	hi := lo + uintptr(len(s))
	var inside []bool
	tk.Tokens(s, func(tok string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(tok)))
		inside = append(inside, lo <= p && p < hi)
		return true
	})
	if want := []bool{true, true, false, true}; !slices.Equal(inside, want) {
		t.Errorf("tokens inside the input: got %v, want %v", inside, want)
	}
}

func TestBounds(t *testing.T) {
	f := func(p Params, in string, want ...string) {
		t.Helper()
		tk := mustNew(t, p)
		checkView(t, "Tokens", tk.Tokens, in, want...)
		checkView(t, "Words", tk.Words, in, want...)
	}
	f(Params{MinTokenLen: 2, MaxTokenLen: 4}, "a ab abc abcd abcde", "ab", "abc", "abcd")
	f(Params{MinTokenLen: 3}, "a ab abc abcdefgh", "abc", "abcdefgh")
	f(Params{MaxTokenLen: 1}, "a ab 1 12", "a", "1")
	// Lengths count runes, not bytes.
	f(Params{MaxTokenLen: 2}, "éé ééé 東京", "éé", "東京")
	f(Params{MinTokenLen: 2, MaxTokenLen: 2}, "é éé", "éé")
	// Lengths count after folding: "ß" becomes "ss".
	f(Params{ASCIIFolding: true, MinTokenLen: 2}, "ß s", "ss")
	f(Params{ASCIIFolding: true, MaxTokenLen: 1}, "ß s", "s")
	// Bigrams are two runes long.
	f(Params{Tokenizer: "multilingual", MinTokenLen: 3}, "東京都 ab")
	f(Params{Tokenizer: "multilingual", MinTokenLen: 3}, "東京都 abcd", "abcd")
	f(Params{Tokenizer: "whitespace", MaxTokenLen: 3}, "a,b abcd a,b, ok!", "a,b", "ok!")
}

func TestStopwords(t *testing.T) {
	en, ok := Stopwords("english")
	if !ok {
		t.Fatal(`Stopwords("english") not found`)
	}
	f := func(p Params, in string, want ...string) {
		t.Helper()
		tk := mustNew(t, p)
		checkView(t, "Tokens", tk.Tokens, in, want...)
		checkView(t, "Words", tk.Words, in, want...)
	}
	f(Params{Lowercase: true, Stopwords: en}, "The quick brown fox and THE lazy dog's bone",
		"quick", "brown", "fox", "lazy", "dog", "bone")
	f(Params{Lowercase: true, Stopwords: en}, "I don't know", "know")
	// Without lowercasing the list is compared as it is.
	f(Params{Stopwords: []string{"The"}}, "The the THE", "the", "THE")
	// The list is lowercased and folded like the tokens.
	f(Params{Lowercase: true, ASCIIFolding: true, Stopwords: []string{"ÉTÉ", "", "x"}}, "Été ete été summer", "summer")
	f(Params{Tokenizer: "whitespace", Lowercase: true, Stopwords: []string{"don't"}}, "Don't stop", "stop")
}

func TestStopwordLists(t *testing.T) {
	langs := StopwordLanguages()
	if want := []string{"dutch", "english", "french", "german", "italian", "portuguese", "russian", "spanish"}; !slices.Equal(langs, want) {
		t.Fatalf("StopwordLanguages() = %q, want %q", langs, want)
	}
	for _, lang := range langs {
		words, ok := Stopwords(lang)
		if !ok || len(words) < 100 {
			t.Errorf("Stopwords(%q): %d words, ok %v", lang, len(words), ok)
		}
		seen := map[string]bool{}
		for _, w := range words {
			if seen[w] {
				t.Errorf("%s: duplicate %q", lang, w)
			}
			seen[w] = true
			if strings.ToLower(w) != w {
				t.Errorf("%s: %q is not lowercase", lang, w)
			}
		}
	}
	en, _ := Stopwords("english")
	if len(en) != 179 {
		t.Errorf("english: %d words, want 179", len(en))
	}
	// The caller owns the slice.
	en[0] = "changed"
	if again, _ := Stopwords("english"); again[0] != "i" {
		t.Errorf("Stopwords returned shared storage: %q", again[0])
	}
	for _, name := range []string{"English", "en", "klingon", ""} {
		if _, ok := Stopwords(name); ok {
			t.Errorf("Stopwords(%q) found a list", name)
		}
	}
}

func TestNewErrors(t *testing.T) {
	f := func(p Params, want string) {
		t.Helper()
		_, err := New(p)
		if err == nil {
			t.Fatalf("New(%+v): no error", p)
		}
		if !errors.Is(err, base.ErrInvalidArgument) {
			t.Errorf("New(%+v): %v does not match ErrInvalidArgument", p, err)
		}
		if got := err.Error(); got != want {
			t.Errorf("New(%+v):\n got %s\nwant %s", p, got, want)
		}
	}
	f(Params{Tokenizer: "foo"}, `strata: invalid argument: tokenizer: unknown tokenizer "foo" (want word, whitespace, prefix or multilingual)`)
	f(Params{Tokenizer: "Word"}, `strata: invalid argument: tokenizer: unknown tokenizer "Word" (want word, whitespace, prefix or multilingual)`)
	f(Params{MinTokenLen: -1}, "strata: invalid argument: min_token_len: must not be negative, got -1")
	f(Params{MaxTokenLen: -2}, "strata: invalid argument: max_token_len: must not be negative, got -2")
	f(Params{MinTokenLen: 5, MaxTokenLen: 4}, "strata: invalid argument: min_token_len: 5 is greater than max_token_len 4")

	for _, p := range []Params{
		{}, {Tokenizer: "word"}, {Tokenizer: "whitespace"}, {Tokenizer: "prefix"}, {Tokenizer: "multilingual"},
		{MinTokenLen: 3, MaxTokenLen: 3}, {MinTokenLen: 5}, {MaxTokenLen: 1},
	} {
		if _, err := New(p); err != nil {
			t.Errorf("New(%+v): %v", p, err)
		}
	}
}

func TestZeroTokenizer(t *testing.T) {
	var tk Tokenizer
	checkView(t, "Tokens", tk.Tokens, "Hello, World", "Hello", "World")
}

func TestEarlyStop(t *testing.T) {
	for _, p := range []Params{
		{},
		{Tokenizer: "whitespace"},
		{Tokenizer: "prefix"},
		{Tokenizer: "multilingual"},
		{Lowercase: true, ASCIIFolding: true},
	} {
		tk := mustNew(t, p)
		views := map[string]func(string, func(string) bool){
			"Tokens": tk.Tokens, "QueryTokens": tk.QueryTokens, "Words": tk.Words,
		}
		for name, view := range views {
			for _, in := range []string{"Alpha beta gamma", "東京都に住む", "Ünïcode wörds here"} {
				calls := 0
				view(in, func(string) bool {
					calls++
					return false
				})
				if calls != 1 {
					t.Errorf("%+v %s(%q): %d calls after returning false, want 1", p, name, in, calls)
				}
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	en, _ := Stopwords("english")
	tk := mustNew(t, Params{Tokenizer: "prefix", Lowercase: true, ASCIIFolding: true, MaxTokenLen: 6, Stopwords: en})
	inputs := []string{"Ünïcode Wörds HERE and there", "The Quick Brown Fox", "ação Straße ÆØ łódź"}
	want := make([][]string, len(inputs))
	for i, in := range inputs {
		want[i] = collect(tk.Tokens, in)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 200 {
				i := (g + k) % len(inputs)
				if got := collect(tk.Tokens, inputs[i]); !slices.Equal(got, want[i]) {
					t.Errorf("Tokens(%q) = %q, want %q", inputs[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestFoldTable checks that the fold tables are aligned with the code
// points they claim: each letter folds to letters of its own case.
func TestFoldTable(t *testing.T) {
	for r := rune(0xC0); r < 0x180; r++ {
		f := foldRune(r)
		if !unicode.IsLetter(r) {
			if f != "" {
				t.Errorf("U+%04X %q is not a letter but folds to %q", r, r, f)
			}
			continue
		}
		if f == "" {
			t.Errorf("U+%04X %q does not fold", r, r)
			continue
		}
		for _, c := range f {
			if c >= 0x80 || !unicode.IsLetter(c) {
				t.Errorf("U+%04X %q folds to non-ASCII-letter %q", r, r, f)
			}
		}
		// Folding keeps the case: "Þ" folds to "TH", "ĸ" (kra) to "q".
		if unicode.IsUpper(r) != unicode.IsUpper(rune(f[0])) {
			t.Errorf("U+%04X %q folds to %q of the other case", r, r, f)
		}
	}
	spot := map[rune]string{
		'à': "a", 'ç': "c", 'ß': "ss", 'æ': "ae", 'ø': "o", 'ł': "l", 'œ': "oe",
		'Ł': "L", 'ñ': "n", 'ÿ': "y", 'Ÿ': "Y", 'ž': "z", 'ő': "o", 'ğ': "g", 'ı': "i", 'đ': "d", 'ŋ': "n",
	}
	for r, want := range spot {
		if got := foldRune(r); got != want {
			t.Errorf("foldRune(%q) = %q, want %q", r, got, want)
		}
	}
}
