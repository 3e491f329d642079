package text

import (
	"unicode"
	"unicode/utf8"
)

// normalize returns raw lowercased and folded as the Tokenizer asks. When
// nothing changes it returns raw itself; otherwise it writes the result to
// the call's buffer and returns a string over it, valid until the next call
// of normalize.
func (st *state) normalize(raw string) string {
	t := st.t
	if !t.lower && !t.fold {
		return raw
	}
	// Find the first rune that changes; most tokens have none.
	i := 0
	for i < len(raw) {
		c := raw[i]
		if c < utf8.RuneSelf {
			if t.lower && 'A' <= c && c <= 'Z' {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(raw[i:])
		if !commonCJK(r) && (t.lower && unicode.ToLower(r) != r || t.fold && foldable(r)) {
			break
		}
		i += n
	}
	if i == len(raw) {
		return raw
	}
	sc := st.sc
	if sc.buf == nil {
		sc.buf = bufPool.Get().(*[]byte)
	}
	b := append((*sc.buf)[:0], raw[:i]...)
	for i < len(raw) {
		c := raw[i]
		if c < utf8.RuneSelf {
			if t.lower && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(raw[i:])
		i += n
		if t.lower {
			r = unicode.ToLower(r)
		}
		if t.fold {
			if f := foldRune(r); f != "" {
				b = append(b, f...)
				continue
			}
			if isCombiningDiacritic(r) {
				continue
			}
		}
		b = utf8.AppendRune(b, r)
	}
	*sc.buf = b
	return bufString(b)
}

// foldable reports whether ASCII folding changes r.
func foldable(r rune) bool {
	return foldRune(r) != "" || isCombiningDiacritic(r)
}

// isCombiningDiacritic reports the Combining Diacritical Marks block, which
// decomposed (NFD) text uses for the accents of Latin letters. Folding drops
// them; marks of other blocks, such as Indic vowel signs, are kept.
func isCombiningDiacritic(r rune) bool { return 0x0300 <= r && r <= 0x036F }

// foldRune returns the ASCII replacement of r, or "" when folding leaves r
// alone.
func foldRune(r rune) string {
	switch {
	case r < 0xC0:
		return ""
	case r < 0x100:
		return latin1Fold[r-0xC0]
	case r < 0x180:
		return latinExtAFold[r-0x100]
	case 0xFB00 <= r && r <= 0xFB06:
		return ligatureFold[r-0xFB00]
	}
	return ""
}

// latin1Fold folds U+00C0-U+00FF. "×" and "÷" are not letters and stay.
var latin1Fold = [64]string{
	"A", "A", "A", "A", "A", "A", "AE", "C", // U+00C0 ÀÁÂÃÄÅÆÇ
	"E", "E", "E", "E", "I", "I", "I", "I", // U+00C8 ÈÉÊËÌÍÎÏ
	"D", "N", "O", "O", "O", "O", "O", "", // U+00D0 ÐÑÒÓÔÕÖ×
	"O", "U", "U", "U", "U", "Y", "TH", "ss", // U+00D8 ØÙÚÛÜÝÞß
	"a", "a", "a", "a", "a", "a", "ae", "c", // U+00E0 àáâãäåæç
	"e", "e", "e", "e", "i", "i", "i", "i", // U+00E8 èéêëìíîï
	"d", "n", "o", "o", "o", "o", "o", "", // U+00F0 ðñòóôõö÷
	"o", "u", "u", "u", "u", "y", "th", "y", // U+00F8 øùúûüýþÿ
}

// latinExtAFold folds U+0100-U+017F.
var latinExtAFold = [128]string{
	"A", "a", "A", "a", "A", "a", // U+0100 ĀāĂăĄą
	"C", "c", "C", "c", "C", "c", "C", "c", // U+0106 ĆćĈĉĊċČč
	"D", "d", "D", "d", // U+010E ĎďĐđ
	"E", "e", "E", "e", "E", "e", "E", "e", "E", "e", // U+0112 ĒēĔĕĖėĘęĚě
	"G", "g", "G", "g", "G", "g", "G", "g", // U+011C ĜĝĞğĠġĢģ
	"H", "h", "H", "h", // U+0124 ĤĥĦħ
	"I", "i", "I", "i", "I", "i", "I", "i", "I", "i", // U+0128 ĨĩĪīĬĭĮįİı
	"IJ", "ij", "J", "j", "K", "k", "q", // U+0132 ĲĳĴĵĶķĸ
	"L", "l", "L", "l", "L", "l", "L", "l", "L", "l", // U+0139 ĹĺĻļĽľĿŀŁł
	"N", "n", "N", "n", "N", "n", "n", "N", "n", // U+0143 ŃńŅņŇňŉŊŋ
	"O", "o", "O", "o", "O", "o", "OE", "oe", // U+014C ŌōŎŏŐőŒœ
	"R", "r", "R", "r", "R", "r", // U+0154 ŔŕŖŗŘř
	"S", "s", "S", "s", "S", "s", "S", "s", // U+015A ŚśŜŝŞşŠš
	"T", "t", "T", "t", "T", "t", // U+0162 ŢţŤťŦŧ
	"U", "u", "U", "u", "U", "u", "U", "u", "U", "u", "U", "u", // U+0168 ŨũŪūŬŭŮůŰűŲų
	"W", "w", "Y", "y", "Y", // U+0174 ŴŵŶŷŸ
	"Z", "z", "Z", "z", "Z", "z", "s", // U+0179 ŹźŻżŽžſ
}

// ligatureFold folds the Latin ligatures U+FB00-U+FB06.
var ligatureFold = [7]string{"ff", "fi", "fl", "ffi", "ffl", "st", "st"}
