// Package text splits payload strings into the tokens that a full-text
// payload index stores and that a full-text query looks up. It mirrors the
// tokenizers of Qdrant's text index: "word", "whitespace", "prefix" and
// "multilingual".
//
// A [Tokenizer] is built once from [Params] by [New] and then used from any
// number of goroutines. It has three views of a string:
//
//   - [Tokenizer.Tokens]: the tokens an index stores for a document;
//   - [Tokenizer.QueryTokens]: the tokens a query looks up in that index;
//   - [Tokenizer.Words]: the words of the string in order, for phrase
//     matching.
//
// # Pipeline
//
// Every view runs the same pipeline:
//
//  1. Segmentation splits the string into raw words (see below).
//  2. Lowercasing maps each rune with [unicode.ToLower] (Params.Lowercase).
//  3. ASCII folding replaces accented Latin letters with their ASCII base
//     letters: "ação" becomes "acao", "ß" becomes "ss", "æ" becomes "ae"
//     (Params.ASCIIFolding). The table covers Latin-1 Supplement
//     (U+00C0-U+00FF), Latin Extended-A (U+0100-U+017F) and the Latin
//     ligatures U+FB00-U+FB06; it also drops the combining diacritical marks
//     U+0300-U+036F, so decomposed (NFD) input folds like composed input.
//     Letters of other blocks, such as Vietnamese letters of Latin Extended
//     Additional, are left alone.
//  4. Length bounds drop tokens shorter than Params.MinTokenLen or longer
//     than Params.MaxTokenLen, counted in runes after steps 2 and 3.
//  5. Stopwords drop tokens listed in Params.Stopwords. The list goes through
//     steps 2 and 3 when the tokenizer is built, so "The" is a stopword of a
//     lowercasing tokenizer whose list says "the".
//
// # Segmentation
//
// "word" splits on every rune that is neither a letter nor a number
// (Unicode categories L and N, plus the Other_Alphabetic property, which is
// Rust's char::is_alphanumeric as Qdrant uses it). Combining marks (category
// M) and the joiners U+200C and U+200D do not split a word once it has
// started, so "café" written with a combining accent, a Devanagari word with
// a virama and a Persian word with a zero-width non-joiner each stay one
// word; Qdrant splits there. "Hello, world!" gives "Hello" and "world".
//
// "whitespace" splits on Unicode white space ([unicode.IsSpace]) only and
// keeps punctuation: "Hello, world!" gives "Hello," and "world!".
//
// "prefix" segments like "word" and then indexes every prefix of every word,
// from max(1, MinTokenLen) runes up to min(len, MaxTokenLen) runes: "Qdrant"
// is stored as "Q", "Qd", "Qdr", "Qdra", "Qdran" and "Qdrant". Stopwords are
// tested against the whole word, not against each prefix. A query looks up
// whole words among the stored prefixes, so "qdr" finds "Qdrant"; as in
// Qdrant, a query word is cut to MaxTokenLen runes (the longest prefix
// stored) and the stopword list does not apply to it, so that a user typing
// "the" still finds "theory". Without a MaxTokenLen a word of n runes
// stores n prefixes, n²/2 runes in all, so a prefix index should set one.
//
// "multilingual" segments like "word" except for runs of Han, Hiragana and
// Katakana characters (Chinese and Japanese, which are written without
// spaces). Such a run yields its overlapping character bigrams, as Lucene's
// CJK analyzer does without a dictionary: "東京都に住む" gives "東京", "京都",
// "都に", "に住" and "住む". A run of one character yields that character. A
// query is segmented the same way, so a query of two or more characters
// finds every document containing it (and some that contain its bigrams
// elsewhere). Hangul (Korean) is written with spaces between words and is
// split like "word".
//
// Known limits of "multilingual", all of which a dictionary segmenter (such
// as Qdrant's charabia with jieba, lindera or vaporetto) handles better:
//
//   - A one-character query, such as "東", finds only one-character runs,
//     not the documents where it is part of a longer run.
//   - Bigrams cross word boundaries and so index nonsense pairs ("都に"),
//     which costs space and can produce false matches.
//   - A MinTokenLen above 2 drops every bigram.
//   - Korean words are not split from their particles ("서울에서" stays one
//     token), and Thai, Lao, Khmer and Burmese, written without spaces, come
//     out one token per space-separated phrase.
//
// # Invariants
//
//   - T1. Every token is non-empty valid UTF-8; an invalid byte in the input
//     is a separator, never part of a token, and never causes a panic.
//   - T2. Every token is within the length bounds. A "prefix" query word
//     longer than MaxTokenLen is cut to MaxTokenLen runes rather than
//     dropped.
//   - T3. For "word", "whitespace" and "multilingual", Tokens, QueryTokens
//     and Words yield the same sequence. For "prefix", Words yields the
//     tokens the "word" tokenizer with the same Params would yield, and
//     each of them is also yielded by Tokens.
//   - T4. When neither lowercasing nor folding changes a token, the token is
//     a substring of the input.
//
// # Caveats
//
// A token passed to a callback is valid only until the callback returns. A
// token that lowercasing or folding changed lives in a buffer that is reused
// for the next token and, after the call, by other calls. A callback that
// keeps a token, including as a map key, must copy it first with
// [strings.Clone]. This keeps tokenization free of per-token allocations.
//
// A callback returns false to stop the tokenization early.
package text
