package main

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// blocklist finds a tenant's blocked terms in text.
//
// It is a first, deliberately plain matcher, so that a tenant's rules apply
// predictably: both sides are put in Unicode NFC and lower case and their
// runs of white space become one space, then a term matches only as a whole
// word or phrase — it must start and end at a boundary (the start or end of
// the text, or a rune that is not a letter, a digit or a combining mark). So
// "du" does not hit "giáo dục" or "dụ", and text typed in NFD (as some
// keyboards and macOS produce) matches a term configured in NFC.
//
// Deeper, Vietnamese-aware moderation is a later issue: text typed without
// diacritics ("phan dong"), spacing and zero-width characters used to split
// a word, look-alike letters, teencode, and judging context rather than words.
type blocklist struct {
	terms []blockedTerm
}

type blockedTerm struct {
	configured string // as the tenant wrote it, for the reason
	normalized string
}

func newBlocklist(terms []string) *blocklist {
	b := &blocklist{}
	for _, t := range terms {
		if n := normalizeText(t); n != "" {
			b.terms = append(b.terms, blockedTerm{configured: strings.TrimSpace(t), normalized: n})
		}
	}
	return b
}

// find returns the configured form of every term that occurs in text, in
// blocklist order.
func (b *blocklist) find(text string) []string {
	if len(b.terms) == 0 || text == "" {
		return nil
	}
	text = normalizeText(text)
	var found []string
	for _, t := range b.terms {
		if containsWord(text, t.normalized) {
			found = append(found, t.configured)
		}
	}
	return found
}

// normalizeText returns s in NFC, lower case, with each run of white space
// (including no-break spaces) as one space and none at either end.
func normalizeText(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(strings.ToLower(s))), " ")
}

// containsWord reports whether term occurs in text between word boundaries.
func containsWord(text, term string) bool {
	for i := 0; i <= len(text)-len(term); {
		j := strings.Index(text[i:], term)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(term)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (start == 0 || !isWordRune(before)) && (end == len(text) || !isWordRune(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		i = start + size
	}
	return false
}

// isWordRune is a rune that continues a word. Combining marks count: one
// left after NFC still belongs to the letter before it.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.M, r)
}
