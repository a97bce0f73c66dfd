package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
	"github.com/blocpress/blocpress/services/moderation/internal/phrase"
	"github.com/blocpress/blocpress/services/moderation/internal/vntext"
)

// checker is one goroutine's working memory for checking articles.
type checker struct {
	rs       *ruleset
	sc       phrase.Scratch
	matches  []phrase.Match
	words    []phrase.Match
	anchors  map[int]bool
	hashes   []uint32
	findings []Finding
	orders   []int // the field position of each finding, to sort them
	order    int   // position of the field being checked
}

var checkers = sync.Pool{New: func() any { return &checker{anchors: map[int]bool{}} }}

// checkResult is what the checks found in one article.
type checkResult struct {
	findings []Finding
	// fingerprint is the article's near-duplicate signature; nil for an
	// article too short to compare.
	fingerprint []uint32
}

// check runs every rule of rs on an article. It does not look for
// near-duplicates, which need the tenant's other articles (see dupes).
func (rs *ruleset) check(a *eventsv1.Article) checkResult {
	c := checkers.Get().(*checker)
	defer checkers.Put(c)
	c.rs, c.findings, c.orders, c.hashes, c.order = rs, nil, c.orders[:0], c.hashes[:0], 0

	title, lead := strings.TrimSpace(a.GetTitle()), a.GetLead()
	if title == "" {
		c.add(Finding{Rule: ruleRequired, Severity: rs.sev(ruleRequired), Field: "title", Message: "Thiếu tiêu đề"})
	}
	if a.GetCategory() == "" {
		c.add(Finding{Rule: ruleCategory, Severity: tenant.SeverityReject, Field: "category", Message: "Chưa chọn chuyên mục"})
	} else if _, ok := rs.src.Category(a.GetCategory()); !ok {
		c.add(Finding{Rule: ruleCategory, Severity: tenant.SeverityReject, Field: "category", Text: truncateRunes(a.GetCategory(), 64),
			Message: "Chuyên mục không có trên trang"})
	}
	if len(a.GetBody()) == 0 {
		c.add(Finding{Rule: ruleStructure, Severity: tenant.SeverityReject, Field: "body", Message: "Bài chưa có nội dung"})
	}
	lim := rs.limits
	c.field("title", title, lim.TitleMax, true)
	c.requireText("lead", lead, "Thiếu sapo")
	c.field("lead", lead, lim.LeadMax, true)
	words := 0
	for i, b := range a.GetBody() {
		switch k := b.GetKind().(type) {
		case *eventsv1.Block_Paragraph:
			words += c.field(fmt.Sprintf("body[%d]", i), k.Paragraph.GetText(), lim.ParagraphMax, true)
		case *eventsv1.Block_Image:
			f := fmt.Sprintf("body[%d]", i)
			if k.Image.GetMediaId() == "" {
				c.order++
				c.add(Finding{Rule: ruleStructure, Severity: tenant.SeverityReject, Field: f + ".image", Message: "Ảnh chưa có tệp (media id)"})
			}
			caption, credit := k.Image.GetCaption(), k.Image.GetCredit()
			c.requireText("caption", caption, "Ảnh chưa có chú thích", f+".caption")
			c.field(f+".caption", caption, lim.CaptionMax, false)
			c.requireText("credit", credit, "Ảnh chưa ghi tác giả ảnh", f+".credit")
			c.field(f+".credit", credit, 0, false)
		default:
			c.order++
			c.add(Finding{Rule: ruleStructure, Severity: tenant.SeverityReject, Field: fmt.Sprintf("body[%d]", i),
				Message: "Khối nội dung không phải đoạn văn cũng không phải ảnh"})
		}
	}
	if lim.BodyMinWords > 0 && words < lim.BodyMinWords {
		c.add(Finding{Rule: ruleLength, Severity: rs.sev(ruleLength), Field: "body",
			Message: fmt.Sprintf("Nội dung có %d từ, ít hơn mức tối thiểu %d", words, lim.BodyMinWords)})
	}
	if lim.BodyMaxWords > 0 && words > lim.BodyMaxWords {
		c.add(Finding{Rule: ruleLength, Severity: rs.sev(ruleLength), Field: "body",
			Message: fmt.Sprintf("Nội dung có %d từ, vượt mức tối đa %d", words, lim.BodyMaxWords)})
	}
	author := a.GetAuthor()
	c.requireText("author", author, "Thiếu tên tác giả")
	c.field("author", author, 0, false)
	source := a.GetSource().GetName()
	c.requireText("source", source, "Thiếu nguồn bài viết")
	c.field("source.name", source, 0, false)
	if u := strings.TrimSpace(a.GetSource().GetUrl()); u != "" {
		c.order++
		c.sourceURL(u)
	}
	return checkResult{findings: c.finish(), fingerprint: fingerprint(c.hashes)}
}

func (c *checker) add(f Finding) {
	if f.Severity == tenant.SeverityOff || f.Severity == "" {
		return
	}
	f.Text = truncateRunes(f.Text, maxFindingTextRune)
	c.findings = append(c.findings, f)
	c.orders = append(c.orders, c.order)
}

// requireText reports an empty required field; field defaults to name.
func (c *checker) requireText(name, text, message string, field ...string) {
	c.order++
	if !c.rs.required[name] || strings.TrimSpace(text) != "" {
		return
	}
	f := name
	if name == "source" {
		f = "source.name"
	}
	if len(field) > 0 {
		f = field[0]
	}
	c.add(Finding{Rule: ruleRequired, Severity: c.rs.sev(ruleRequired), Field: f, Message: message})
}

// field checks one text field (NFC): its length against maxRunes, then every
// phrase rule, look-alike letters and links. Text a reader reads as the
// article (title, lead, paragraphs) goes into the fingerprint. It returns
// the number of words (syllables) of the field.
func (c *checker) field(name, raw string, maxRunes int, article bool) int {
	c.order++
	rs := c.rs
	if raw == "" {
		return 0
	}
	c.matches, c.words = c.matches[:0], c.words[:0]
	text := rs.matcher.Scan(raw, &c.sc, func(m phrase.Match) {
		if rs.patterns[m.Pattern].kind == kindWord {
			c.words = append(c.words, m)
			return
		}
		c.matches = append(c.matches, m)
	})
	if maxRunes > 0 {
		if n := utf8.RuneCountInString(text); n > maxRunes {
			c.add(Finding{Rule: ruleLength, Severity: rs.sev(ruleLength), Field: name, Start: maxRunes, End: n,
				Text:    string([]rune(text)[maxRunes:]),
				Message: fmt.Sprintf("%s dài %d ký tự, vượt giới hạn %d", fieldLabel(name), n, maxRunes)})
		}
	}
	toks := c.sc.Tokens
	clear(c.anchors)
	for _, m := range c.matches {
		c.match(name, text, m)
	}
	for k := range toks {
		if toks[k].Flags&vntext.LookAlike != 0 {
			c.lookAlike(name, text, toks[k])
		}
	}
	if len(rs.domains) > 0 && rs.sev(ruleLink) != tenant.SeverityOff {
		c.links(name, text)
	}
	if article {
		for _, t := range toks {
			c.hashes = append(c.hashes, t.Hash)
		}
	}
	return len(toks)
}

// span is the text of tokens first..last and its rune offsets.
func (c *checker) span(text string, first, last int) (string, int, int) {
	a, b := c.sc.Tokens[first], c.sc.Tokens[last]
	return text[a.BStart:b.BEnd], int(a.Start), int(b.End)
}

// insideWord reports whether a match lies strictly inside a compound word.
func (c *checker) insideWord(m phrase.Match) bool {
	for _, w := range c.words {
		if w.First <= m.First && m.Last <= w.Last && (w.First < m.First || w.Last > m.Last) {
			return true
		}
	}
	return false
}

// straddlesWord reports whether a compound word begins inside a match and
// ends after it, or begins before it and ends inside: "tin gia" in
// "thông tin gia đình" is two words' halves, not "tin giả" typed bare.
func (c *checker) straddlesWord(m phrase.Match) bool {
	for _, w := range c.words {
		if w.First < m.First && w.Last >= m.First && w.Last < m.Last || w.First > m.First && w.First <= m.Last && w.Last > m.Last {
			return true
		}
	}
	return false
}

func (c *checker) match(field, text string, m phrase.Match) {
	rs := c.rs
	ref := rs.patterns[m.Pattern]
	s, start, end := c.span(text, m.First, m.Last)
	f := Finding{Field: field, Start: start, End: end, Text: s}
	switch ref.kind {
	case kindTerm:
		t := rs.terms[ref.ref]
		if m.Tier == phrase.Folded || !t.insideWords && c.insideWord(m) || m.Tier == phrase.Stripped && c.straddlesWord(m) {
			return
		}
		f.Rule, f.Severity, f.Term = ruleBlocklist, t.severity, t.term
		f.Message = "Từ bị cấm «" + t.term + "»"
		if m.Tier == phrase.Stripped {
			// Only the letters match: the text may be the term typed
			// without its marks, or an innocent word; a person decides.
			f.Rule = ruleBlocklistFold
			if severityRank(f.Severity) > severityRank(tenant.SeverityHold) {
				f.Severity = tenant.SeverityHold
			}
			f.Message = "Giống từ bị cấm «" + t.term + "» khi bỏ dấu; người duyệt cần xem xét"
		}
		if t.reason != "" {
			f.Message += ": " + t.reason
		}
	case kindName:
		name := rs.names[ref.ref]
		if c.writtenAs(m, name) {
			return
		}
		if m.Tier != phrase.Exact && !c.capitalisedAs(m, name) {
			return // lower-case words that only look like the name without marks
		}
		f.Rule, f.Severity, f.Suggestion = ruleOfficialName, rs.sev(ruleOfficialName), name
		f.Message = "Tên chính thức phải viết là «" + name + "»"
	case kindNameVariant:
		if m.Tier == phrase.Folded {
			return
		}
		name := rs.names[ref.ref]
		f.Rule, f.Severity, f.Suggestion = ruleOfficialName, rs.sev(ruleOfficialName), name
		f.Message = "Viết đầy đủ tên chính thức «" + name + "»"
	case kindMisspelling:
		if m.Tier != phrase.Exact {
			return
		}
		right := rs.misspell[ref.ref][1]
		f.Rule, f.Severity, f.Suggestion = ruleMisspelling, rs.sev(ruleMisspelling), matchCase(right, c.sc.Tokens[m.First:m.Last+1])
		f.Message = "Lỗi chính tả thường gặp: viết đúng là «" + right + "»"
	case kindPartyBefore, kindPartyAfter:
		anchor := m.Last
		if ref.kind == kindPartyAfter {
			anchor = m.First
		}
		tok := c.sc.Tokens[anchor]
		if m.Tier != phrase.Exact || tok.Flags&vntext.Capital != 0 || c.anchors[anchor] {
			return
		}
		if n := anchor + 1; ref.kind == kindPartyBefore && n < len(c.sc.Tokens) && c.sc.Tokens[n].Flags&vntext.HardBefore == 0 {
			next := c.sc.Tokens[n]
			if c.rs.partyCompound[vntext.FoldKey(text[next.BStart:next.BEnd])] {
				return // "của đảng viên": a common noun
			}
		}
		c.anchors[anchor] = true
		word := text[tok.BStart:tok.BEnd]
		r, size := utf8.DecodeRuneInString(word)
		f.Rule, f.Severity = rulePartyCapital, rs.sev(rulePartyCapital)
		f.Start, f.End, f.Text = int(tok.Start), int(tok.End), word
		f.Suggestion = string(unicode.ToUpper(r)) + word[size:]
		f.Message = "Viết hoa «Đảng» khi chỉ Đảng Cộng sản Việt Nam"
	default:
		return
	}
	c.add(f)
}

// writtenAs reports whether a name's match is written exactly as the name:
// the same syllables (any tone placement) with the same capitals, or the
// same syllables all in capitals, as in a headline.
func (c *checker) writtenAs(m phrase.Match, name string) bool {
	if m.Tier != phrase.Exact {
		return false
	}
	upper := true
	for k := m.First; k <= m.Last; k++ {
		if c.sc.Tokens[k].Flags&vntext.HasLower != 0 {
			upper = false
		}
	}
	if upper {
		return true
	}
	caps := nameCapitals(name)
	for k := m.First; k <= m.Last; k++ {
		if (c.sc.Tokens[k].Flags&vntext.Capital != 0) != caps[k-m.First] {
			return false
		}
	}
	return true
}

// capitalisedAs reports whether every syllable the name capitalises is
// capitalised in the match too: a name written with wrong marks is still
// recognisably the name ("Hồ Chí Mính", "Viet Nam"), lower-case words that
// fold alike are not ("tô lam").
func (c *checker) capitalisedAs(m phrase.Match, name string) bool {
	caps := nameCapitals(name)
	for k := m.First; k <= m.Last; k++ {
		if caps[k-m.First] && c.sc.Tokens[k].Flags&vntext.Capital == 0 {
			return false
		}
	}
	return true
}

var nameCaps sync.Map // name → []bool

// nameCapitals tells which syllables of a name start with a capital.
func nameCapitals(name string) []bool {
	if v, ok := nameCaps.Load(name); ok {
		return v.([]bool)
	}
	var caps []bool
	for _, t := range vntext.Tokenize(name, nil, nil) {
		caps = append(caps, t.Flags&vntext.Capital != 0)
	}
	nameCaps.Store(name, caps)
	return caps
}

// matchCase writes a correction with the capitals of the text it replaces:
// all capitals, or a capital first letter.
func matchCase(s string, toks []vntext.Token) string {
	upper := true
	for _, t := range toks {
		if t.Flags&vntext.HasLower != 0 {
			upper = false
		}
	}
	if upper {
		return strings.ToUpper(s)
	}
	if toks[0].Flags&vntext.Capital != 0 {
		r, size := utf8.DecodeRuneInString(s)
		return string(unicode.ToUpper(r)) + s[size:]
	}
	return s
}

// lookAlike reports a word written with a letter of another alphabet that
// looks like a Vietnamese one (Ð for Đ, Cyrillic а for a). A word wholly in
// another script (a Russian name) is left alone.
func (c *checker) lookAlike(field, text string, t vntext.Token) {
	word := text[t.BStart:t.BEnd]
	latin := false
	for _, r := range word {
		if unicode.Is(unicode.Latin, r) {
			latin = true
			break
		}
	}
	if !latin {
		return
	}
	c.add(Finding{Rule: ruleLookAlike, Severity: c.rs.sev(ruleLookAlike), Field: field, Start: int(t.Start), End: int(t.End),
		Text: word, Suggestion: vntext.Canonical(word),
		Message: "Có chữ cái của bảng chữ khác trông giống chữ tiếng Việt (" + lookAlikeRunes(word) + ")"})
}

func lookAlikeRunes(word string) string {
	var out []string
	for _, r := range word {
		if c := vntext.Canonical(string(r)); c != string(r) && !unicode.Is(unicode.Mn, r) {
			out = append(out, fmt.Sprintf("%c U+%04X thay cho %s", r, r, c))
		}
	}
	return strings.Join(out, ", ")
}

// links reports links in text to domains outside the tenant's list.
func (c *checker) links(field, text string) {
	for _, l := range findLinks(text) {
		if c.rs.allowed(l.host) {
			continue
		}
		c.add(Finding{Rule: ruleLink, Severity: c.rs.sev(ruleLink), Field: field,
			Start: utf8.RuneCountInString(text[:l.start]), End: utf8.RuneCountInString(text[:l.end]), Text: text[l.start:l.end],
			Message: "Liên kết tới «" + l.host + "», không thuộc các tên miền được phép"})
	}
}

func (c *checker) sourceURL(raw string) {
	if len(c.rs.domains) == 0 || c.rs.sev(ruleLink) == tenant.SeverityOff {
		return
	}
	u, err := url.Parse(raw)
	host := ""
	if err == nil {
		host = strings.ToLower(u.Hostname())
	}
	if host != "" && c.rs.allowed(host) {
		return
	}
	c.add(Finding{Rule: ruleLink, Severity: c.rs.sev(ruleLink), Field: "source.url", Start: 0, End: utf8.RuneCountInString(raw), Text: raw,
		Message: "Địa chỉ nguồn «" + host + "» không thuộc các tên miền được phép"})
}

func (rs *ruleset) allowed(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range rs.domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// finish orders the findings by field, then position, keeping the most
// severe ones when there are more than maxFindings.
func (c *checker) finish() []Finding {
	type ordered struct {
		f     Finding
		order int
	}
	all := make([]ordered, len(c.findings))
	for i, f := range c.findings {
		all[i] = ordered{f, c.orders[i]}
	}
	c.orders = c.orders[:0]
	if len(all) > maxFindings {
		slices.SortStableFunc(all, func(a, b ordered) int { return severityRank(b.f.Severity) - severityRank(a.f.Severity) })
		all = all[:maxFindings]
	}
	slices.SortStableFunc(all, func(a, b ordered) int {
		if a.order != b.order {
			return a.order - b.order
		}
		return a.f.Start - b.f.Start
	})
	out := make([]Finding, len(all))
	for i, o := range all {
		out[i] = o.f
	}
	return out
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
