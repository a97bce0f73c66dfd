package main

import (
	"strings"
	"sync"

	"github.com/blocpress/blocpress/libs/tenant"
	"github.com/blocpress/blocpress/services/moderation/internal/phrase"
	"github.com/blocpress/blocpress/services/moderation/internal/vntext"
)

// What a phrase of a tenant's automaton stands for.
type patternKind uint8

const (
	kindTerm        patternKind = iota + 1 // a blocklist term
	kindWord                               // a compound word (see builtinWords)
	kindName                               // an official name as it must be written
	kindNameVariant                        // another spelling of an official name
	kindMisspelling                        // a common mistake
	kindPartyBefore                        // "<context> đảng": the last syllable is the Party
	kindPartyAfter                         // "đảng <context>": the first syllable is the Party
)

type compiledTerm struct {
	term        string
	severity    string
	insideWords bool
	reason      string
}

type patternRef struct {
	kind patternKind
	ref  int // index into the kind's slice
}

// ruleset is one tenant's rules, compiled: every phrase rule (terms, words,
// names, misspellings, Party contexts) is in one automaton, so one scan of
// a text finds them all.
type ruleset struct {
	src      *tenant.Tenant
	policy   string
	severity map[string]string
	matcher  *phrase.Matcher
	patterns []patternRef
	terms    []compiledTerm
	names    []string // canonical official names, NFC
	misspell [][2]string
	required map[string]bool
	limits   tenant.Limits
	domains  []string
	// dupThreshold is the similarity from which an article is a
	// near-duplicate.
	dupThreshold  float64
	partyCompound map[string]bool // folded keys of partyCompounds
}

// sev is a rule's effective severity: the tenant's override or the default.
func (rs *ruleset) sev(rule string) string {
	if s, ok := rs.severity[rule]; ok {
		return s
	}
	return defaultSeverity[rule]
}

func nfcTrim(s string) string { return strings.TrimSpace(vntext.NFC(s)) }

// compile builds a tenant's ruleset. It costs about a second per hundred
// thousand phrases; rulesCache keeps the result until the tenant changes.
func compile(t *tenant.Tenant) *ruleset {
	m := t.Moderation
	if m == nil {
		m = &tenant.Moderation{}
	}
	rs := &ruleset{
		src: t, policy: m.EffectivePolicy(), severity: m.Severity, limits: m.Limits,
		required: map[string]bool{}, dupThreshold: m.DuplicateThreshold, partyCompound: map[string]bool{},
	}
	if rs.dupThreshold == 0 {
		rs.dupThreshold = 0.5
	}
	for _, f := range m.Required {
		rs.required[f] = true
	}
	for _, d := range m.LinkDomains {
		rs.domains = append(rs.domains, strings.ToLower(d))
	}
	b := phrase.NewBuilder()
	add := func(text string, kind patternKind, ref int) {
		// Only official names use matches that differ in more than
		// missing marks ("Hồ Chí Mính").
		if i := b.Add(text, kind == kindName); i >= 0 {
			for len(rs.patterns) <= i {
				rs.patterns = append(rs.patterns, patternRef{})
			}
			rs.patterns[i] = patternRef{kind, ref}
		}
	}

	// Terms: the short list first (severity reject), then the full one; a
	// term listed twice keeps its first entry.
	seen := map[string]bool{}
	folded := map[string]bool{}
	addTerm := func(bt tenant.BlockedTerm) {
		term := nfcTrim(bt.Term)
		key := strings.ToLower(term)
		if term == "" || seen[key] {
			return
		}
		seen[key] = true
		sev := bt.Severity
		if sev == "" {
			sev = tenant.SeverityReject
		}
		rs.terms = append(rs.terms, compiledTerm{term: term, severity: sev, insideWords: bt.InsideWords, reason: bt.Reason})
		add(term, kindTerm, len(rs.terms)-1)
		if !bt.InsideWords {
			folded[vntext.Fold(term)] = true
		}
	}
	for _, s := range t.Blocklist {
		addTerm(tenant.BlockedTerm{Term: s})
	}
	for _, bt := range m.Blocklist {
		addTerm(bt)
	}

	// Compound words: only those that strictly contain a term, or could
	// straddle one's first or last syllable, matter.
	words := m.Words
	if !m.NoDefaults {
		words = append(append([]string(nil), builtinWords...), words...)
	}
	edges := map[string]bool{}
	for f := range folded {
		syl := strings.Fields(f)
		edges["<"+syl[0]], edges[">"+syl[len(syl)-1]] = true, true
	}
	for _, w := range words {
		syl := strings.Fields(vntext.Fold(w))
		if len(syl) > 0 && (containsTermStrictly(syl, folded) || edges["<"+syl[len(syl)-1]] || edges[">"+syl[0]]) {
			add(w, kindWord, 0)
		}
	}

	if rs.sev(ruleOfficialName) != tenant.SeverityOff {
		addName := func(name string, variants []string) {
			name = nfcTrim(name)
			rs.names = append(rs.names, name)
			add(name, kindName, len(rs.names)-1)
			for _, v := range variants {
				add(v, kindNameVariant, len(rs.names)-1)
			}
		}
		if !m.NoDefaults {
			for _, n := range builtinOfficialNames {
				addName(n.name, n.variants)
			}
		}
		for _, n := range m.OfficialNames {
			addName(n.Name, n.Variants)
		}
	}
	if rs.sev(ruleMisspelling) != tenant.SeverityOff {
		var list [][2]string
		if !m.NoDefaults {
			list = append(list, builtinMisspellings...)
		}
		for _, ms := range m.Misspellings {
			list = append(list, [2]string{ms.Wrong, ms.Right})
		}
		for _, ms := range list {
			rs.misspell = append(rs.misspell, [2]string{nfcTrim(ms[0]), nfcTrim(ms[1])})
			add(ms[0], kindMisspelling, len(rs.misspell)-1)
		}
	}
	if rs.sev(rulePartyCapital) != tenant.SeverityOff {
		for _, c := range partyBefore {
			add(c+" đảng", kindPartyBefore, 0)
		}
		for _, c := range partyAfter {
			add("đảng "+c, kindPartyAfter, 0)
		}
		for _, c := range partyCompounds {
			rs.partyCompound[vntext.FoldKey(c)] = true
		}
	}
	rs.matcher = b.Build()
	return rs
}

// containsTermStrictly reports whether a word (folded syllables) contains a
// term (folded, space-separated) as a shorter run of its syllables.
func containsTermStrictly(word []string, terms map[string]bool) bool {
	for i := range word {
		for j := i + 1; j <= len(word); j++ {
			if j-i < len(word) && terms[strings.Join(word[i:j], " ")] {
				return true
			}
		}
	}
	return false
}

// rulesCache keeps each tenant's compiled rules while its configuration is
// unchanged: tenant.Store hands out the same *Tenant until the bucket
// changes, so a new pointer means new rules.
type rulesCache struct {
	mu sync.Mutex
	m  map[string]*ruleset
	// compiling is held while a ruleset is compiled (a fifth of a second
	// for 20,000 terms), so that handlers that see a change together
	// compile it once.
	compiling sync.Mutex
}

func (c *rulesCache) lookup(t *tenant.Tenant) *ruleset {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rs, ok := c.m[t.ID]; ok && rs.src == t {
		return rs
	}
	return nil
}

func (c *rulesCache) get(t *tenant.Tenant) *ruleset {
	if rs := c.lookup(t); rs != nil {
		return rs
	}
	c.compiling.Lock()
	defer c.compiling.Unlock()
	if rs := c.lookup(t); rs != nil {
		return rs
	}
	rs := compile(t)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*ruleset{}
	}
	c.m[t.ID] = rs
	c.mu.Unlock()
	return rs
}
