package text_test

import (
	"fmt"
	"strings"

	"github.com/strata-db/strata/internal/text"
)

func ExampleTokenizer_Tokens() {
	en, _ := text.Stopwords("english")
	tk, err := text.New(text.Params{Lowercase: true, ASCIIFolding: true, Stopwords: en})
	if err != nil {
		panic(err)
	}
	var toks []string
	tk.Tokens("The Crème Brûlée of Zürich, 2024!", func(tok string) bool {
		toks = append(toks, strings.Clone(tok)) // tok is only valid during the call
		return true
	})
	fmt.Println(toks)
	// Output: [creme brulee zurich 2024]
}

func ExampleTokenizer_QueryTokens() {
	tk, err := text.New(text.Params{Tokenizer: "prefix", Lowercase: true, MaxTokenLen: 4})
	if err != nil {
		panic(err)
	}
	show := func(view func(string, func(string) bool), s string) {
		var toks []string
		view(s, func(tok string) bool {
			toks = append(toks, strings.Clone(tok))
			return true
		})
		fmt.Println(toks)
	}
	show(tk.Tokens, "Qdrant")
	show(tk.QueryTokens, "Qdr qdrant")
	// Output:
	// [q qd qdr qdra]
	// [qdr qdra]
}

func ExampleTokenizer_Tokens_multilingual() {
	tk, err := text.New(text.Params{Tokenizer: "multilingual"})
	if err != nil {
		panic(err)
	}
	tk.Tokens("東京都に住む", func(tok string) bool {
		fmt.Print(tok, " ")
		return true
	})
	fmt.Println()
	// Output: 東京 京都 都に に住 住む
}
