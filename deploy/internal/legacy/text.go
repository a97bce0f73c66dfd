package legacy

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Lines returns the dump's non-empty lines in NFC, each trimmed with its
// whitespace runs (indentation, no-break spaces, tabs) collapsed to one
// space and invisible characters (zero-width spaces, BOM, soft hyphens)
// removed.
func Lines(dump string) []string {
	if strings.Contains(dump, "&") && strings.Contains(dump, ";") {
		dump = html.UnescapeString(dump) // &nbsp; &quot; left by scrapers
	}
	dump = norm.NFC.String(dump)
	var out []string
	for _, l := range strings.FieldsFunc(dump, func(r rune) bool { return r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' }) {
		if l = tidy(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// tidy collapses whitespace and drops invisible characters in one line.
func tidy(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u00ad':
			continue
		case unicode.IsSpace(r) || r == '\u00a0':
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// Fold lower-cases s and removes its diacritics, đ and Đ becoming d, so that
// "Hoạt động Đảng bộ khối", "hoạt động đảng bộ khối" and "HOAT DONG DANG BO
// KHOI" compare equal whatever the tone placement (hòa/hoà).
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ' || r == 'Ð': // U+00D0 is a common look-alike of Đ
			b.WriteByte('d')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Slug is s folded to [a-z0-9] words joined by "-": "Hoạt động Đảng bộ
// khối" → "hoat-dong-dang-bo-khoi".
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range Fold(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	return b.String()
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// allCaps reports whether s has letters and none of them is lower case, as
// section headings styled in capitals are.
func allCaps(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if unicode.IsLower(r) {
				return false
			}
			letters++
		}
	}
	return letters >= 3
}

// endsSentence reports whether s ends like a sentence of running text.
func endsSentence(s string) bool {
	switch lastRune(s) {
	case '.', '!', '?', '…', ';', ':', '"', '”', '»':
		return true
	}
	return false
}

// sentences counts sentence breaks inside s: a full stop, ! or ? followed by
// a space and a capital letter.
func sentences(s string) int {
	n := 1
	rs := []rune(s)
	for i := 0; i+2 < len(rs); i++ {
		if (rs[i] == '.' || rs[i] == '!' || rs[i] == '?') && rs[i+1] == ' ' && unicode.IsUpper(rs[i+2]) {
			n++
		}
	}
	return n
}
