package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"strings"
)

//go:embed bots.txt
var builtinBots []byte

// maxUserAgent: real browsers send a few hundred bytes; a longer user agent
// is not a reader's.
const maxUserAgent = 1024

// botFilter tells bots, crawlers and tools from readers by their user agent,
// from a list of case-insensitive substrings (bots.txt) and exceptions.
//
// The list is compiled into one Aho-Corasick automaton, so a user agent is
// checked in one pass over its bytes, without allocating, whatever the
// number of patterns: about as fast as a cache lookup, and without a cache
// that the variety of real user agents would keep missing.
type botFilter struct {
	class  [256]uint8 // byte → input class; letters fold to lower case, 0 is "any other byte"
	nclass int
	next   []uint16 // next[state*nclass+class]: the automaton's transitions
	ends   [][]match
}

// match is a pattern ending at a state: its length, and whether it is an
// exception.
type match struct {
	length    int
	exception bool
}

// loadBots reads the list from path, or the built-in one when path is "".
func loadBots(path string) (*botFilter, error) {
	data := builtinBots
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("reading the bot list: %w", err)
		}
	}
	return parseBots(data, path)
}

func parseBots(data []byte, name string) (*botFilter, error) {
	var patterns []string
	var exceptions []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		s := strings.ToLower(strings.TrimSpace(sc.Text()))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if e, ok := strings.CutPrefix(s, "!"); ok {
			if e == "" {
				return nil, fmt.Errorf("bot list %s line %d: empty exception", name, line)
			}
			exceptions = append(exceptions, e)
			continue
		}
		patterns = append(patterns, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the bot list %s: %w", name, err)
	}
	if len(patterns) == 0 {
		return nil, fmt.Errorf("bot list %s has no patterns", name)
	}
	return compileBots(patterns, exceptions)
}

// compileBots builds the automaton: a trie of every pattern, completed into
// a deterministic automaton with the failure links.
func compileBots(patterns, exceptions []string) (*botFilter, error) {
	f := &botFilter{nclass: 1}
	for _, p := range append(append([]string{}, patterns...), exceptions...) {
		for i := 0; i < len(p); i++ {
			if c := p[i]; f.class[c] == 0 {
				f.class[c] = uint8(f.nclass)
				f.nclass++
			}
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		f.class[c] = f.class[c+'a'-'A']
	}
	children := []map[uint8]int{{}}
	f.ends = [][]match{nil}
	add := func(p string, exception bool) error {
		s := 0
		for i := 0; i < len(p); i++ {
			c := f.class[p[i]]
			n, ok := children[s][c]
			if !ok {
				n = len(children)
				if n > 1<<16-1 {
					return fmt.Errorf("the bot list is too long")
				}
				children = append(children, map[uint8]int{})
				f.ends = append(f.ends, nil)
				children[s][c] = n
			}
			s = n
		}
		f.ends[s] = append(f.ends[s], match{length: len(p), exception: exception})
		return nil
	}
	for _, p := range patterns {
		if err := add(p, false); err != nil {
			return nil, err
		}
	}
	for _, e := range exceptions {
		if err := add(e, true); err != nil {
			return nil, err
		}
	}
	n := len(children)
	f.next = make([]uint16, n*f.nclass)
	fail := make([]int, n)
	queue := []int{0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s != 0 {
			f.ends[s] = append(f.ends[s], f.ends[fail[s]]...)
		}
		for c := 0; c < f.nclass; c++ {
			child, ok := children[s][uint8(c)]
			switch {
			case ok:
				if s != 0 {
					fail[child] = int(f.next[fail[s]*f.nclass+c])
				}
				f.next[s*f.nclass+c] = uint16(child)
				queue = append(queue, child)
			case s != 0:
				f.next[s*f.nclass+c] = f.next[fail[s]*f.nclass+c]
			}
		}
	}
	return f, nil
}

// isBot reports whether ua is not a reader's: empty, too long, or holding a
// pattern that is not inside one of the exceptions.
func (f *botFilter) isBot(ua []byte) bool {
	if len(ua) == 0 || len(ua) > maxUserAgent {
		return true
	}
	// Pattern and exception occurrences, as [start, end). Real browsers have
	// none; a bot one or two.
	var hits, excepted [8][2]int
	nh, ne := 0, 0
	s := 0
	for i, b := range ua {
		s = int(f.next[s*f.nclass+int(f.class[b])])
		for _, m := range f.ends[s] {
			span := [2]int{i + 1 - m.length, i + 1}
			switch {
			case m.exception && ne < len(excepted):
				excepted[ne] = span
				ne++
			case !m.exception && nh < len(hits):
				hits[nh] = span
				nh++
			case !m.exception:
				return true // more patterns than anyone can explain away
			}
		}
	}
hit:
	for _, h := range hits[:nh] {
		for _, e := range excepted[:ne] {
			if e[0] <= h[0] && h[1] <= e[1] {
				continue hit
			}
		}
		return true
	}
	return false
}
