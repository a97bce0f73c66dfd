// Package phrase finds many phrases in Vietnamese text in one pass: an
// Aho-Corasick automaton whose alphabet is folded syllables (vntext), not
// bytes. Matching whole syllables is then a property of the alphabet: "du"
// can never match inside "dục", and a phrase can only start and end at
// syllable boundaries. The cost of a scan is one map lookup per syllable of
// the text plus the automaton's transitions, whatever the number of
// phrases (tens of thousands cost the same as ten).
//
// Every match found on folded syllables is then compared with the pattern
// syllable by syllable and given a tier:
//
//   - Exact: the same letters, marks and tone, whatever the case, the tone
//     placement or look-alike letters.
//   - Stripped: the text is the pattern typed without some of its marks.
//     Each syllable is the pattern's, or bare (no tone, no â ă ê ô ơ ư đ:
//     "phan dong" for "phản động"), or — in a phrase of several syllables
//     — has the pattern's tone but lacks a vowel mark or the stroke of đ
//     ("phản dộng"). A bare syllable is also a word of its own ("ban",
//     "cho", "tin"), so a one-syllable pattern is Stripped only where the
//     syllables around it are bare too, in text typed without marks.
//   - Folded: anything else that folds alike, which is usually another
//     phrase: "phần đông", "Phan Đông" for "phản động".
//
// Callers decide what each tier means.
package phrase

import (
	"cmp"
	"math/bits"
	"slices"

	"github.com/blocpress/blocpress/services/moderation/internal/vntext"
)

// Tier is how closely a match follows its pattern.
type Tier uint8

const (
	// Folded: equal only once every mark is dropped.
	Folded Tier = iota
	// Stripped: the text is the pattern with some marks left out.
	Stripped
	// Exact: the same syllables, whatever the case and tone placement.
	Exact
)

func (t Tier) String() string {
	switch t {
	case Exact:
		return "exact"
	case Stripped:
		return "stripped"
	}
	return "folded"
}

type pattern struct {
	ids       []int32
	syllables []vntext.Syllable
	exact     []uint64 // the syllables' hashes
	skeleton  []uint64 // the syllables' vntext.SkeletonKey
	// folded: the caller wants Folded matches too.
	folded bool
	// hard[i] tells whether punctuation may stand before syllable i.
	hard []bool
}

// Builder collects phrases; Build makes the Matcher.
type Builder struct {
	dict *vntext.Dict
	pats []pattern
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{dict: vntext.NewDict()} }

// Add adds a phrase (any normalisation; punctuation in it is where the text
// may have punctuation too) and returns its index, or -1 if it has no
// syllable. Its matches of tier Folded are reported only if folded is set:
// most callers have no use for them, and dropping them early keeps a scan
// fast when many patterns share folded syllables with the text.
func (b *Builder) Add(text string, folded bool) int {
	text = vntext.NFC(text)
	toks := vntext.Tokenize(text, nil, nil)
	if len(toks) == 0 {
		return -1
	}
	p := pattern{folded: folded}
	for _, t := range toks {
		s := text[t.BStart:t.BEnd]
		p.ids = append(p.ids, b.dict.Add(vntext.FoldKey(s)))
		syl := vntext.ReadSyllable(s, nil)
		p.syllables = append(p.syllables, syl)
		p.exact = append(p.exact, syl.Hash())
		p.skeleton = append(p.skeleton, vntext.SkeletonKey(vntext.FoldHash(vntext.FoldKey(s)), syl.Tone))
		p.hard = append(p.hard, t.Flags&vntext.HardBefore != 0)
	}
	b.pats = append(b.pats, p)
	return len(b.pats) - 1
}

// Len is the number of phrases added.
func (b *Builder) Len() int { return len(b.pats) }

// Matcher finds the phrases of a Builder. It is safe for concurrent use;
// each goroutine brings its own Scratch.
type Matcher struct {
	dict  *vntext.Dict
	root  []int32   // root transitions, by syllable id
	edges edgeTable // other transitions
	fail  []int32
	// outs are the patterns that end at a state, sorted by the skeleton key
	// of their last syllable (outKeys), then those that want Folded matches
	// from foldedFrom on; next is the nearest state down the failure chain
	// that has some, or -1.
	outs       [][]int32
	outKeys    [][]uint64
	foldedFrom []int
	// outExact and outSingle are, for each of outs, the exact hash of its
	// last syllable and whether it has only that one, so that most
	// candidates are dismissed without touching the pattern.
	outExact  [][]uint64
	outSingle [][]bool
	next      []int32
	emits     []bool
	pats      []pattern
}

// Build makes the automaton. The builder must not be used afterwards.
func (b *Builder) Build() *Matcher {
	m := &Matcher{
		dict: b.dict,
		root: make([]int32, b.dict.Len()+1),
		pats: b.pats,
	}
	children := [][]int32{nil}
	m.outs = [][]int32{nil}
	newState := func() int32 {
		children = append(children, nil)
		m.outs = append(m.outs, nil)
		return int32(len(m.outs) - 1)
	}
	for pi, p := range b.pats {
		s := int32(0)
		for _, id := range p.ids {
			next := m.step(s, id)
			if next == 0 {
				next = newState()
				if s == 0 {
					m.root[id] = next
				} else {
					m.edges.put(uint64(s)<<32|uint64(id), next)
				}
				children[s] = append(children[s], id)
			}
			s = next
		}
		m.outs[s] = append(m.outs[s], int32(pi))
	}
	n := len(m.outs)
	m.fail = make([]int32, n)
	m.next = make([]int32, n)
	m.emits = make([]bool, n)
	m.next[0] = -1
	queue := make([]int32, 0, n)
	for _, id := range children[0] {
		c := m.root[id]
		m.fail[c], m.next[c] = 0, -1
		queue = append(queue, c)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, id := range children[s] {
			c := m.step(s, id)
			f := m.fail[s]
			for f != 0 && m.step(f, id) == 0 {
				f = m.fail[f]
			}
			if g := m.step(f, id); g != c {
				m.fail[c] = g
			}
			if fc := m.fail[c]; len(m.outs[fc]) > 0 {
				m.next[c] = fc
			} else {
				m.next[c] = m.next[fc]
			}
			queue = append(queue, c)
		}
	}
	m.outKeys = make([][]uint64, n)
	m.outExact = make([][]uint64, n)
	m.outSingle = make([][]bool, n)
	m.foldedFrom = make([]int, n)
	for s := range n {
		m.emits[s] = len(m.outs[s]) > 0 || m.next[s] >= 0
		outs := m.outs[s]
		last := func(pi int32) uint64 { p := &m.pats[pi]; return p.skeleton[len(p.skeleton)-1] }
		slices.SortStableFunc(outs, func(a, b int32) int {
			fa, fb := m.pats[a].folded, m.pats[b].folded
			switch {
			case fa != fb && fa:
				return 1
			case fa != fb:
				return -1
			}
			return cmp.Compare(last(a), last(b))
		})
		m.foldedFrom[s] = len(outs)
		for _, pi := range outs {
			p := &m.pats[pi]
			m.outExact[s] = append(m.outExact[s], p.exact[len(p.exact)-1])
			m.outSingle[s] = append(m.outSingle[s], len(p.ids) == 1)
		}
		for i, pi := range outs {
			if m.pats[pi].folded {
				m.foldedFrom[s] = i
				break
			}
			m.outKeys[s] = append(m.outKeys[s], last(pi))
		}
	}
	return m
}

// step is the goto function: the state after s on syllable id, 0 if none.
func (m *Matcher) step(s, id int32) int32 {
	if s == 0 {
		return m.root[id]
	}
	return m.edges.get(uint64(s)<<32 | uint64(id))
}

// Dict is the folded-syllable dictionary to give vntext.Tokenize.
func (m *Matcher) Dict() *vntext.Dict { return m.dict }

// Match is one phrase found: tokens First..Last of the scanned text.
type Match struct {
	Pattern     int
	First, Last int
	Tier        Tier
}

// Scratch is one goroutine's working memory; reuse it across scans.
type Scratch struct {
	// Tokens are the scanned text's tokens (valid until the next scan).
	Tokens []vntext.Token
	text   string
	syl    []vntext.Syllable
	seen   []uint32
	gen    uint32
}

// Syllable is the exact form of token k of the last scanned text.
func (sc *Scratch) Syllable(k int) vntext.Syllable {
	if sc.seen[k] != sc.gen {
		t := sc.Tokens[k]
		sc.syl[k] = vntext.ReadSyllable(sc.text[t.BStart:t.BEnd], sc.syl[k].Letters)
		sc.seen[k] = sc.gen
	}
	return sc.syl[k]
}

// Tokenize reads text into sc.Tokens without matching and returns it in
// NFC, which the tokens' offsets refer to.
func (m *Matcher) Tokenize(text string, sc *Scratch) string {
	text, sc.Tokens = vntext.TokenizeNFC(text, m.dict, sc.Tokens[:0])
	sc.text = text
	sc.gen++
	if n := len(sc.Tokens); cap(sc.seen) < n {
		sc.seen = make([]uint32, n)
		sc.syl = make([]vntext.Syllable, n)
	} else {
		sc.seen = sc.seen[:n]
		sc.syl = sc.syl[:n]
	}
	return text
}

// Scan tokenizes text (any normalisation) into sc.Tokens and calls fn for
// every occurrence of every phrase, in the order they end. It returns the
// text in NFC, which the tokens' offsets refer to.
func (m *Matcher) Scan(text string, sc *Scratch, fn func(Match)) string {
	text = m.Tokenize(text, sc)
	toks := sc.Tokens
	s := int32(0)
	for k := range toks {
		id := toks[k].ID
		if id == 0 {
			s = 0
			continue
		}
		for {
			if s == 0 {
				s = m.root[id]
				break
			}
			if next := m.edges.get(uint64(s)<<32 | uint64(id)); next != 0 {
				s = next
				break
			}
			s = m.fail[s]
		}
		if !m.emits[s] {
			continue
		}
		// A pattern can match better than Folded only if the last token
		// is bare or has the skeleton of its last syllable: look those up.
		bare := toks[k].Flags&vntext.Bare != 0
		skeleton := vntext.SkeletonKey(toks[k].Hash, toks[k].Tone)
		for o := s; o >= 0; o = m.next[o] {
			outs := m.outs[o]
			lo, hi := 0, m.foldedFrom[o]
			if !bare {
				lo, hi = keyRange(m.outKeys[o], skeleton)
			}
			exact, single := m.outExact[o], m.outSingle[o]
			for i := lo; i < hi; i++ {
				// A one-syllable pattern that is not this very syllable
				// is at best Folded unless the token is bare.
				if !bare && single[i] && exact[i] != toks[k].Exact {
					continue
				}
				m.emit(sc, int(outs[i]), k, fn)
			}
			for _, pi := range outs[m.foldedFrom[o]:] {
				m.emit(sc, int(pi), k, fn)
			}
		}
	}
	return text
}

func (m *Matcher) emit(sc *Scratch, pi, last int, fn func(Match)) {
	p := &m.pats[pi]
	first := last - len(p.ids) + 1
	for j := first + 1; j <= last; j++ {
		if sc.Tokens[j].Flags&vntext.HardBefore != 0 && !p.hard[j-first] {
			return
		}
	}
	// The tokens' hashes decide; an equal hash is confirmed on the
	// syllables, so that a collision cannot make a match exact.
	toks := sc.Tokens
	tier := Exact
	for j := first; j <= last && tier > Folded; j++ {
		ps := p.syllables[j-first]
		switch {
		case toks[j].Exact == p.exact[j-first] && sc.Syllable(j).Equal(ps):
		case toks[j].Flags&vntext.Bare != 0:
			tier = Stripped
		case first < last && toks[j].Tone == ps.Tone && sc.Syllable(j).Stripped(ps):
			tier = Stripped
		default:
			tier = Folded
		}
	}
	if tier == Stripped && first == last {
		if first > 0 && toks[first-1].Flags&vntext.Bare == 0 || last+1 < len(toks) && toks[last+1].Flags&vntext.Bare == 0 {
			tier = Folded
		}
	}
	if tier == Folded && !p.folded {
		return
	}
	fn(Match{Pattern: pi, First: first, Last: last, Tier: tier})
}

// Syllables is the number of syllables of pattern p.
func (m *Matcher) Syllables(p int) int { return len(m.pats[p].ids) }

// PatternSyllable is syllable i of pattern p.
func (m *Matcher) PatternSyllable(p, i int) vntext.Syllable { return m.pats[p].syllables[i] }

// edgeTable is an open-addressing hash table from state<<32|syllable id
// (never 0: the root's transitions are in Matcher.root) to the next state.
type edgeTable struct {
	keys  []uint64
	vals  []int32
	n     int
	shift uint
}

func (t *edgeTable) slot(key uint64) uint64 { return key * 0x9E3779B97F4A7C15 >> t.shift }

func (t *edgeTable) get(key uint64) int32 {
	if t.n == 0 {
		return 0
	}
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(key); ; i = (i + 1) & mask {
		switch t.keys[i] {
		case key:
			return t.vals[i]
		case 0:
			return 0
		}
	}
}

func (t *edgeTable) put(key uint64, val int32) {
	if (t.n+1)*2 > len(t.keys) {
		oldK, oldV := t.keys, t.vals
		size := max(64, 2*len(oldK))
		t.keys, t.vals, t.n = make([]uint64, size), make([]int32, size), 0
		t.shift = uint(64 - bits.TrailingZeros(uint(size)))
		for i, k := range oldK {
			if k != 0 {
				t.put(k, oldV[i])
			}
		}
	}
	mask := uint64(len(t.keys) - 1)
	for i := t.slot(key); ; i = (i + 1) & mask {
		if t.keys[i] == 0 || t.keys[i] == key {
			if t.keys[i] == 0 {
				t.n++
			}
			t.keys[i], t.vals[i] = key, val
			return
		}
	}
}

// keyRange is the run of keys (sorted) equal to x.
func keyRange(keys []uint64, x uint64) (int, int) {
	lo := 0
	if len(keys) > 8 {
		lo, _ = slices.BinarySearch(keys, x)
	} else {
		for lo < len(keys) && keys[lo] < x {
			lo++
		}
	}
	hi := lo
	for hi < len(keys) && keys[hi] == x {
		hi++
	}
	return lo, hi
}
