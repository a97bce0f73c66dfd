package tenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Moderation is a tenant's moderation rules, read by the moderation service
// on every article (a change applies to the next article, without a
// restart). Every field is optional: an absent section keeps the defaults
// described on each field, which are what moderation did before the
// section existed (title, category and body required; Tenant.Blocklist
// rejected).
type Moderation struct {
	// Policy is "auto" (the default: publish when nothing holds or rejects
	// the article) or "review" (hold every article for a reviewer).
	Policy string `json:"policy,omitempty"`
	// Blocklist are terms with a severity. They are matched as whole
	// syllables and phrases, in Vietnamese-aware normal form; see the
	// moderation service for the tiers (an exact match gets the term's
	// severity, a match found only after folding diacritics is held).
	// Tenant.Blocklist entries count as terms of severity "reject".
	Blocklist []BlockedTerm `json:"blocklist,omitempty"`
	// Words are compound words inside which a shorter blocked term is not
	// matched ("du lịch" keeps "du" from matching), added to the built-in list.
	Words []string `json:"words,omitempty"`
	// Required are fields an article must fill: any of "title", "lead",
	// "author", "source", "caption" (every photo), "credit" (every photo).
	// Title, category and a body are always required.
	Required []string `json:"required,omitempty"`
	// Limits bound lengths; zero means no limit.
	Limits Limits `json:"limits,omitzero"`
	// LinkDomains, when set, are the only domains (and their subdomains) an
	// article may link to, in its text or its source.
	LinkDomains []string `json:"link_domains,omitempty"`
	// OfficialNames are names and titles that must be written one way
	// ("Đảng Cộng sản Việt Nam", "Chủ tịch Hồ Chí Minh", leaders' names).
	OfficialNames []OfficialName `json:"official_names,omitempty"`
	// Misspellings are common mistakes and their correction, added to the
	// built-in list.
	Misspellings []Misspelling `json:"misspellings,omitempty"`
	// NoDefaults turns off the built-in official names, misspellings and
	// compound words, leaving only the tenant's own lists.
	NoDefaults bool `json:"no_defaults,omitempty"`
	// Severity overrides the severity of a rule: keys are rule names
	// ("required", "length", "link", "official-name", "party-capitalisation",
	// "misspelling", "look-alike", "duplicate"), values "reject", "hold",
	// "warn" or "off".
	Severity map[string]string `json:"severity,omitempty"`
	// DuplicateThreshold is the similarity (0–1, estimated Jaccard index of
	// the articles' three-syllable shingles) from which an article is a
	// near-duplicate of one the tenant already has; 0 means 0.5.
	DuplicateThreshold float64 `json:"duplicate_threshold,omitempty"`
}

// Severities, from the mildest.
const (
	SeverityWarn   = "warn"
	SeverityHold   = "hold"
	SeverityReject = "reject"
	SeverityOff    = "off"
)

// Moderation policies.
const (
	PolicyAuto   = "auto"
	PolicyReview = "review"
)

// RequiredFields are the names Moderation.Required accepts.
var RequiredFields = []string{"title", "lead", "author", "source", "caption", "credit"}

// SeverityRules are the rule names Moderation.Severity accepts.
var SeverityRules = []string{"required", "length", "link", "official-name", "party-capitalisation", "misspelling", "look-alike", "duplicate"}

// BlockedTerm is one blocklist entry. In JSON it is either an object or just
// the term as a string (severity "reject").
type BlockedTerm struct {
	Term string `json:"term"`
	// Severity of an exact match: "reject" (the default), "hold" or "warn".
	Severity string `json:"severity,omitempty"`
	// InsideWords matches the term also inside compound words ("du" in
	// "du lịch"), which is not done by default.
	InsideWords bool `json:"inside_words,omitempty"`
	// Reason is shown to the reviewer and the editor with the finding.
	Reason string `json:"reason,omitempty"`
}

// UnmarshalJSON accepts "term" as well as {"term": "term", …}.
func (b *BlockedTerm) UnmarshalJSON(data []byte) error {
	if s := bytes.TrimSpace(data); len(s) > 0 && s[0] == '"' {
		*b = BlockedTerm{}
		return json.Unmarshal(s, &b.Term)
	}
	type plain BlockedTerm
	return json.Unmarshal(data, (*plain)(b))
}

// Limits are length limits, in characters (runes of the NFC text) or words
// (runs of letters and digits); zero means none.
type Limits struct {
	TitleMax     int `json:"title_max,omitempty"`
	LeadMax      int `json:"lead_max,omitempty"`
	ParagraphMax int `json:"paragraph_max,omitempty"`
	CaptionMax   int `json:"caption_max,omitempty"`
	BodyMinWords int `json:"body_min_words,omitempty"`
	BodyMaxWords int `json:"body_max_words,omitempty"`
}

// OfficialName is a name written one way; Variants are other spellings that
// mean it ("Đảng CSVN") and are reported with Name as the correction.
type OfficialName struct {
	Name     string   `json:"name"`
	Variants []string `json:"variants,omitempty"`
}

// Misspelling is a common mistake and its correction.
type Misspelling struct {
	Wrong string `json:"wrong"`
	Right string `json:"right"`
}

// Bounds of a moderation configuration; the whole tenant must also fit in
// one NATS message (1 MB by default), which is what limits a blocklist to a
// few tens of thousands of terms in practice.
const (
	MaxBlockedTerms = 100_000
	MaxListEntries  = 10_000
	MaxTermRunes    = 200
)

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// EffectivePolicy is the policy, "auto" when unset.
func (m *Moderation) EffectivePolicy() string {
	if m == nil || m.Policy == "" {
		return PolicyAuto
	}
	return m.Policy
}

func validSeverity(s string, allowOff bool) bool {
	switch s {
	case SeverityWarn, SeverityHold, SeverityReject:
		return true
	case SeverityOff:
		return allowOff
	}
	return false
}

func checkText(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s must not be empty", field)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s must be valid UTF-8", field)
	}
	if n := utf8.RuneCountInString(s); n > MaxTermRunes {
		return fmt.Errorf("%s must be at most %d characters", field, MaxTermRunes)
	}
	return nil
}

// validate checks the section; messages start with the field's JSON path.
func (m *Moderation) validate() error {
	const p = "moderation."
	switch m.Policy {
	case "", PolicyAuto, PolicyReview:
	default:
		return fmt.Errorf("%spolicy must be %q or %q", p, PolicyAuto, PolicyReview)
	}
	if len(m.Blocklist) > MaxBlockedTerms {
		return fmt.Errorf("%sblocklist must have at most %d terms", p, MaxBlockedTerms)
	}
	for i, b := range m.Blocklist {
		if err := checkText(fmt.Sprintf("%sblocklist[%d].term", p, i), b.Term); err != nil {
			return err
		}
		if b.Severity != "" && !validSeverity(b.Severity, false) {
			return fmt.Errorf("%sblocklist[%d].severity must be reject, hold or warn", p, i)
		}
		if len(b.Reason) > 500 {
			return fmt.Errorf("%sblocklist[%d].reason must be at most 500 bytes", p, i)
		}
	}
	for _, l := range []struct {
		name string
		n    int
	}{{"words", len(m.Words)}, {"link_domains", len(m.LinkDomains)}, {"official_names", len(m.OfficialNames)}, {"misspellings", len(m.Misspellings)}} {
		if l.n > MaxListEntries {
			return fmt.Errorf("%s%s must have at most %d entries", p, l.name, MaxListEntries)
		}
	}
	for i, w := range m.Words {
		if err := checkText(fmt.Sprintf("%swords[%d]", p, i), w); err != nil {
			return err
		}
	}
	for i, f := range m.Required {
		if !slices.Contains(RequiredFields, f) {
			return fmt.Errorf("%srequired[%d] must be one of %s", p, i, strings.Join(RequiredFields, ", "))
		}
	}
	lim := m.Limits
	for _, l := range []struct {
		name string
		n    int
	}{{"title_max", lim.TitleMax}, {"lead_max", lim.LeadMax}, {"paragraph_max", lim.ParagraphMax}, {"caption_max", lim.CaptionMax}, {"body_min_words", lim.BodyMinWords}, {"body_max_words", lim.BodyMaxWords}} {
		if l.n < 0 {
			return fmt.Errorf("%slimits.%s must not be negative", p, l.name)
		}
	}
	if lim.BodyMaxWords > 0 && lim.BodyMinWords > lim.BodyMaxWords {
		return fmt.Errorf("%slimits.body_min_words must not exceed body_max_words", p)
	}
	for i, d := range m.LinkDomains {
		if !domainPattern.MatchString(d) || len(d) > 253 {
			return fmt.Errorf("%slink_domains[%d] must be a lower-case domain name such as baonamdinh.vn", p, i)
		}
	}
	for i, n := range m.OfficialNames {
		if err := checkText(fmt.Sprintf("%sofficial_names[%d].name", p, i), n.Name); err != nil {
			return err
		}
		for j, v := range n.Variants {
			if err := checkText(fmt.Sprintf("%sofficial_names[%d].variants[%d]", p, i, j), v); err != nil {
				return err
			}
		}
	}
	for i, ms := range m.Misspellings {
		if err := checkText(fmt.Sprintf("%smisspellings[%d].wrong", p, i), ms.Wrong); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("%smisspellings[%d].right", p, i), ms.Right); err != nil {
			return err
		}
	}
	for rule, sev := range m.Severity {
		if !slices.Contains(SeverityRules, rule) {
			return fmt.Errorf("%sseverity: unknown rule %q (one of %s)", p, rule, strings.Join(SeverityRules, ", "))
		}
		if !validSeverity(sev, true) {
			return fmt.Errorf("%sseverity: %s must be reject, hold, warn or off", p, rule)
		}
	}
	if m.DuplicateThreshold < 0 || m.DuplicateThreshold > 1 {
		return errors.New(p + "duplicate_threshold must be between 0 and 1")
	}
	return nil
}
