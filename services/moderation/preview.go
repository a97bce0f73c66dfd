package main

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/blocpress/blocpress/libs/tenant"
	eventsv1 "github.com/blocpress/blocpress/proto/gen/blocpress/events/v1"
)

// previewWidth is the rendition the preview shows (image-resize makes 320,
// 640, 1024 and 1600 pixels wide).
const previewWidth = "640"

var mediaIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// preview is moderation's approximation of the public article page (the
// real one is render's), with the findings marked where they are.
type preview struct {
	TenantName string
	Category   string
	DateLine   string
	Title      []segment
	Lead       []segment
	Blocks     []previewBlock
	Author     []segment
	Source     []segment
	SourceURL  string
}

type previewBlock struct {
	Paragraph []segment
	Image     *previewImage
}

type previewImage struct {
	Src     string
	Caption []segment
	Credit  []segment
}

// segment is a run of a field's text, marked when findings cover it.
type segment struct {
	Text   string
	Sev    string // the worst severity covering it; "" when unmarked
	Anchor string // "f-<n>" where finding n starts
	Refs   []int  // findings that end here, shown as [n]
	Tip    string // the covering findings' messages
}

func (s *service) preview(t *tenant.Tenant, a *eventsv1.Article, findings []Finding, clean bool) preview {
	fields := map[string]string{}
	for _, f := range articleFields(a) {
		fields[f.Field] = f.Text
	}
	seg := func(field string) []segment { return segments(fields[field], field, findings, clean) }
	p := preview{
		TenantName: t.Name, Category: a.GetCategory(), DateLine: dateTimeVN(a.GetSubmittedAt().AsTime()),
		Title: seg("title"), Lead: seg("lead"), Author: seg("author"), Source: seg("source.name"),
		SourceURL: fields["source.url"],
	}
	if c, ok := t.Category(a.GetCategory()); ok {
		p.Category = c.Name
	}
	if a.GetPublishedAt() != nil {
		p.DateLine = dateTimeVN(a.GetPublishedAt().AsTime())
	}
	for i, b := range a.GetBody() {
		f := "body[" + strconv.Itoa(i) + "]"
		switch {
		case b.GetParagraph() != nil:
			p.Blocks = append(p.Blocks, previewBlock{Paragraph: seg(f)})
		case b.GetImage() != nil:
			img := &previewImage{Caption: seg(f + ".caption"), Credit: seg(f + ".credit")}
			if id := b.GetImage().GetMediaId(); mediaIDPattern.MatchString(id) {
				img.Src = s.cfg.SiteURL + "/" + t.ID + "/media/" + id + "/" + previewWidth + ".jpg"
			}
			p.Blocks = append(p.Blocks, previewBlock{Image: img})
		}
	}
	return p
}

// segments cuts a field's text (NFC) at the starts and ends of the
// findings about it, so that each run can be marked with the findings that
// cover it. Offsets are runes, as in the findings.
func segments(text, field string, findings []Finding, clean bool) []segment {
	if text == "" {
		return nil
	}
	runes := []rune(text)
	type span struct{ a, b, n int }
	var spans []span
	if !clean {
		for i, f := range findings {
			if f.Field == field && f.End > f.Start && f.Start >= 0 && f.End <= len(runes) {
				spans = append(spans, span{f.Start, f.End, i + 1})
			}
		}
	}
	if len(spans) == 0 {
		return []segment{{Text: text}}
	}
	cuts := []int{0, len(runes)}
	for _, sp := range spans {
		cuts = append(cuts, sp.a, sp.b)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var out []segment
	for i := 0; i+1 < len(cuts); i++ {
		x, y := cuts[i], cuts[i+1]
		sg := segment{Text: string(runes[x:y])}
		var tips []string
		for _, sp := range spans {
			if sp.a > x || sp.b < y {
				continue
			}
			f := findings[sp.n-1]
			if severityRank(f.Severity) > severityRank(sg.Sev) {
				sg.Sev = f.Severity
			}
			if sp.a == x && sg.Anchor == "" {
				sg.Anchor = "f-" + strconv.Itoa(sp.n)
			}
			if sp.b == y {
				sg.Refs = append(sg.Refs, sp.n)
			}
			tips = append(tips, strconv.Itoa(sp.n)+". "+ruleLabel(f.Rule)+": "+f.Message)
		}
		sg.Tip = strings.Join(tips, "\n")
		out = append(out, sg)
	}
	return out
}
