package main

import (
	"fmt"
	"strings"

	"github.com/blocpress/blocpress/libs/tenant"
)

// Decisions of a verdict.
const (
	decisionApprove = "approve"
	decisionHold    = "hold"
	decisionReject  = "reject"
)

// Rules, the "rule" of a finding.
const (
	ruleRequired       = "required"
	ruleCategory       = "category"
	ruleStructure      = "structure"
	ruleLength         = "length"
	ruleBlocklist      = "blocklist"        // the term as listed, accents and all
	ruleBlocklistFold  = "blocklist-folded" // the term with some marks left out: held
	ruleLink           = "link"
	ruleOfficialName   = "official-name"
	rulePartyCapital   = "party-capitalisation"
	ruleMisspelling    = "misspelling"
	ruleLookAlike      = "look-alike"
	ruleDuplicate      = "duplicate"
	maxFindings        = 200
	maxReasons         = 20
	maxFindingTextRune = 200
)

// defaultSeverity is each rule's severity unless the tenant overrides it
// (tenant.Moderation.Severity). Missing or over-long content rejects: the
// editor has to change it and a reviewer could not. What needs judgement
// holds; style only warns.
var defaultSeverity = map[string]string{
	ruleRequired:     tenant.SeverityReject,
	ruleCategory:     tenant.SeverityReject,
	ruleStructure:    tenant.SeverityReject,
	ruleLength:       tenant.SeverityReject,
	ruleLink:         tenant.SeverityHold,
	ruleOfficialName: tenant.SeverityWarn,
	rulePartyCapital: tenant.SeverityWarn,
	ruleMisspelling:  tenant.SeverityWarn,
	ruleLookAlike:    tenant.SeverityWarn,
	ruleDuplicate:    tenant.SeverityHold,
}

func severityRank(s string) int {
	switch s {
	case tenant.SeverityWarn:
		return 1
	case tenant.SeverityHold:
		return 2
	case tenant.SeverityReject:
		return 3
	}
	return 0
}

// Finding is one thing the checks found. Start and End are rune offsets in
// the NFC text of Field, so a page can highlight Text in place; findings
// about a whole field or the whole article have Start = End = 0.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	// Field is "title", "lead", "body[3]" (a paragraph), "body[1].caption",
	// "body[1].credit", "author", "source.name", "source.url", "category"
	// or "body".
	Field      string `json:"field"`
	Start      int    `json:"start"`
	End        int    `json:"end"`
	Text       string `json:"text"`
	Suggestion string `json:"suggestion"`
	// Message says why, in Vietnamese, for the reviewer and the editor.
	Message string `json:"message"`
	// Term is the blocklist entry that matched, as the tenant wrote it.
	Term string `json:"term,omitempty"`
	// Article is the other article of a near-duplicate.
	Article string `json:"article,omitempty"`
}

// Verdict is moderation's decision on one revision.
type Verdict struct {
	Decision string    `json:"decision"`
	Findings []Finding `json:"findings"`
	// Policy is the tenant's policy when the verdict was made: "auto" or
	// "review" (every article held for a reviewer).
	Policy string `json:"policy"`
}

// decide is the decision the findings and the policy call for: any
// rejecting finding rejects, else any holding finding holds, else the
// "review" policy holds, else the article is approved (with its warnings).
func decide(findings []Finding, policy string) Verdict {
	worst := 0
	for _, f := range findings {
		worst = max(worst, severityRank(f.Severity))
	}
	v := Verdict{Decision: decisionApprove, Findings: findings, Policy: policy}
	if v.Findings == nil {
		v.Findings = []Finding{}
	}
	switch {
	case worst >= severityRank(tenant.SeverityReject):
		v.Decision = decisionReject
	case worst >= severityRank(tenant.SeverityHold) || policy == tenant.PolicyReview:
		v.Decision = decisionHold
	}
	return v
}

// line is a finding as one line of an event's reasons or notes, which the
// article status shows the editor: "hold · blocklist-folded · lead[10:19]
// «phan dong» — …".
func (f Finding) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s · %s · %s", f.Severity, f.Rule, f.Field)
	if f.End > f.Start {
		fmt.Fprintf(&b, "[%d:%d] «%s»", f.Start, f.End, f.Text)
	}
	if f.Message != "" {
		b.WriteString(" — " + f.Message)
	}
	if f.Suggestion != "" {
		b.WriteString(" → «" + f.Suggestion + "»")
	}
	return b.String()
}

// lines are the reasons of an event: the findings of at least minRank, at
// most maxReasons of them and a count of the rest.
func lines(findings []Finding, minRank int) []string {
	var out []string
	n := 0
	for _, f := range findings {
		if severityRank(f.Severity) < minRank {
			continue
		}
		if len(out) < maxReasons {
			out = append(out, f.line())
		}
		n++
	}
	if n > maxReasons {
		out = append(out, fmt.Sprintf("và %d phát hiện khác", n-maxReasons))
	}
	return out
}

// fieldLabel names a field in Vietnamese for pages and messages.
func fieldLabel(field string) string {
	switch field {
	case "title":
		return "Tiêu đề"
	case "lead":
		return "Sapo"
	case "author":
		return "Tác giả"
	case "source.name":
		return "Nguồn"
	case "source.url":
		return "Địa chỉ nguồn"
	case "category":
		return "Chuyên mục"
	case "body":
		return "Nội dung"
	}
	var i int
	if n, _ := fmt.Sscanf(field, "body[%d]", &i); n == 1 {
		switch {
		case strings.HasSuffix(field, ".caption"):
			return fmt.Sprintf("Chú thích ảnh (khối %d)", i+1)
		case strings.HasSuffix(field, ".credit"):
			return fmt.Sprintf("Tác giả ảnh (khối %d)", i+1)
		case strings.HasSuffix(field, ".image"):
			return fmt.Sprintf("Ảnh (khối %d)", i+1)
		}
		return fmt.Sprintf("Đoạn %d", i+1)
	}
	return field
}

// ruleLabel names a rule in Vietnamese.
func ruleLabel(rule string) string {
	switch rule {
	case ruleRequired:
		return "Thiếu nội dung bắt buộc"
	case ruleCategory:
		return "Chuyên mục"
	case ruleStructure:
		return "Cấu trúc bài"
	case ruleLength:
		return "Độ dài"
	case ruleBlocklist:
		return "Từ bị cấm"
	case ruleBlocklistFold:
		return "Giống từ bị cấm khi bỏ dấu"
	case ruleLink:
		return "Liên kết"
	case ruleOfficialName:
		return "Tên chính thức"
	case rulePartyCapital:
		return "Viết hoa chữ Đảng"
	case ruleMisspelling:
		return "Chính tả"
	case ruleLookAlike:
		return "Chữ giả dạng"
	case ruleDuplicate:
		return "Gần trùng bài đã có"
	}
	return rule
}

// severityLabel names a severity in Vietnamese.
func severityLabel(s string) string {
	switch s {
	case tenant.SeverityReject:
		return "Từ chối"
	case tenant.SeverityHold:
		return "Cần duyệt"
	case tenant.SeverityWarn:
		return "Lưu ý"
	}
	return s
}
