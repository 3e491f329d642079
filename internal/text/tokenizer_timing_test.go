package text

import (
	"strings"
	"testing"
)

// benchEnglish is a 200-byte English sentence with capitals, punctuation,
// digits and stopwords.
const benchEnglish = "The Quick Brown Fox jumps over the lazy dog, while 42 curious " +
	"Engineers measure how fast a Tokenizer splits ordinary English text into " +
	"words for a full-text index. Nothing else happens here today, ok!"

const benchJapanese = "日本語のテキストです。Qdrantのコードで単体テストで使用されています。東京都に住む私はラーメンが好きです。"

func BenchmarkTokens(b *testing.B) {
	if len(benchEnglish) != 200 {
		b.Fatalf("benchEnglish is %d bytes, want 200", len(benchEnglish))
	}
	en, _ := Stopwords("english")
	cases := []struct {
		name string
		p    Params
		in   string
	}{
		{"word/plain", Params{}, benchEnglish},
		{"word/lower", Params{Lowercase: true}, benchEnglish},
		{"word/lower+fold+stop", Params{Lowercase: true, ASCIIFolding: true, Stopwords: en}, benchEnglish},
		{"word/lower/lowercase-input", Params{Lowercase: true}, strings.ToLower(benchEnglish)},
		{"whitespace/lower", Params{Tokenizer: "whitespace", Lowercase: true}, benchEnglish},
		{"prefix/lower/max10", Params{Tokenizer: "prefix", Lowercase: true, MaxTokenLen: 10}, benchEnglish},
		{"multilingual/lower/english", Params{Tokenizer: "multilingual", Lowercase: true}, benchEnglish},
		{"multilingual/lower/japanese", Params{Tokenizer: "multilingual", Lowercase: true}, benchJapanese},
	}
	for _, c := range cases {
		tk := mustNew(b, c.p)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			n := 0
			for b.Loop() {
				tk.Tokens(c.in, func(tok string) bool {
					n += len(tok)
					return true
				})
			}
			if n == 0 {
				b.Fatal("no tokens")
			}
		})
	}
}

// TestTokensDoNotAllocate pins the allocation-free hot path: no allocation
// per call or per token once the buffer pool is warm.
func TestTokensDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	en, _ := Stopwords("english")
	for _, p := range []Params{
		{},
		{Lowercase: true, ASCIIFolding: true, Stopwords: en},
		{Tokenizer: "prefix", Lowercase: true, MaxTokenLen: 10},
		{Tokenizer: "whitespace", Lowercase: true},
		{Tokenizer: "multilingual", Lowercase: true},
	} {
		tk := mustNew(t, p)
		n := 0
		fn := func(tok string) bool {
			n += len(tok)
			return true
		}
		for _, in := range []string{benchEnglish, benchJapanese, "Ünïcode WÖRDS ação Straße"} {
			tk.Tokens(in, fn) // warm the pool
			allocs := testing.AllocsPerRun(100, func() {
				tk.Tokens(in, fn)
				tk.QueryTokens(in, fn)
				tk.Words(in, fn)
			})
			if allocs > 0 {
				t.Errorf("%+v on %q: %.2f allocs per run, want 0", p, in[:10], allocs)
			}
		}
	}
}
