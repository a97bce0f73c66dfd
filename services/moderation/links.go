package main

import (
	"net/url"
	"strings"
)

// link is one address found in a text: bytes start..end, and its host.
type link struct {
	start, end int
	host       string
}

// linkTLDs are the top-level domains a bare address ("baonamdinh.vn") is
// recognised by; an address with a scheme ("https://…") is recognised
// whatever its domain.
var linkTLDs = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`vn com net org gov edu info biz io tv me asia xyz top online site app dev co uk us cn
		ru jp kr fr de news blog link club live pro mobi int eu ai ly gl be to cc ws tk ml ga cf gq`) {
		linkTLDs[t] = true
	}
}

// findLinks finds web addresses in text: "http(s)://…" anywhere, and bare
// host names ending in a known top-level domain ("www.example.com/x",
// "baonamdinh.vn"). E-mail addresses are not links.
func findLinks(text string) []link {
	var out []link
	covered := 0
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case ':':
			if i < covered || !strings.HasPrefix(text[i:], "://") {
				continue
			}
			s := i
			for s > 0 && isASCIILetter(text[s-1]) {
				s--
			}
			scheme := strings.ToLower(text[s:i])
			if scheme != "http" && scheme != "https" {
				continue
			}
			e := linkEnd(text, i+3)
			if u, err := url.Parse(text[s:e]); err == nil && u.Hostname() != "" {
				out = append(out, link{start: s, end: e, host: strings.ToLower(u.Hostname())})
				covered = e
			}
		case '.':
			if i < covered {
				continue
			}
			// The top-level domain after the dot …
			j := i + 1
			for j < len(text) && isASCIILetter(text[j]) {
				j++
			}
			if j-i-1 < 2 || !linkTLDs[strings.ToLower(text[i+1:j])] || j < len(text) && isHostByte(text[j]) && text[j] != '.' {
				continue
			}
			// … and at least one label before it.
			s := i
			for s > 0 && isHostByte(text[s-1]) {
				s--
			}
			if s == i || s > 0 && (text[s-1] == '@' || text[s-1] >= 0x80) {
				continue
			}
			host := strings.Trim(strings.ToLower(text[s:j]), ".-")
			e := j
			if e < len(text) && (text[e] == '/' || text[e] == ':') {
				e = linkEnd(text, e)
			}
			out = append(out, link{start: s, end: e, host: host})
			covered = e
		}
	}
	return out
}

// linkEnd is where an address starting at i ends: at white space or a
// closing bracket or quote, without the sentence's final punctuation.
func linkEnd(text string, i int) int {
	e := i
	for e < len(text) && !strings.ContainsRune(" \t\r\n\"'<>()[]{}", rune(text[e])) && text[e] < 0x80 {
		e++
	}
	for e > i && strings.ContainsRune(".,;:!?", rune(text[e-1])) {
		e--
	}
	return e
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

func isHostByte(b byte) bool {
	return isASCIILetter(b) || b >= '0' && b <= '9' || b == '-' || b == '.'
}
